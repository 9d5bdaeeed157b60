//! The connection pool against a raw service on 127.0.0.1 that counts its connections and
//! misbehaves on purpose: closes after one reply, sends bytes nobody asked for, never answers.

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How the raw service behaves after its first reply on a connection.
#[derive(Clone, Copy)]
enum After {
    /// Keeps the connection and answers every request on it.
    KeepAlive,
    /// Closes it.
    Close,
    /// Sends a second, unrequested reply on it.
    Stray,
    /// Never answers at all (not even the first).
    Silent,
}

/// Reads one request (head and Content-Length body); false at end of stream.
async fn read_request(conn: &mut tokio::net::TcpStream) -> bool {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&data[..end]).to_ascii_lowercase();
            let length: usize =
                head.lines().find_map(|l| l.strip_prefix("content-length:")).map_or(0, |v| v.trim().parse().unwrap());
            if data.len() >= end + 4 + length {
                return true;
            }
        }
        match conn.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => data.extend_from_slice(&buf[..n]),
        }
    }
}

/// How long after its reply the service closes or sends more: well after the client read it.
const LATER: Duration = Duration::from_millis(20);

const REPLY: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";

/// A service; returns its URL, its accepted-connection count and the requests it read.
async fn service(after: After) -> (Uri, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}/ops", listener.local_addr().unwrap()).parse().unwrap();
    let (accepted, requests) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (a, r) = (accepted.clone(), requests.clone());
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            a.fetch_add(1, Ordering::SeqCst);
            let r = r.clone();
            tokio::spawn(async move {
                while read_request(&mut conn).await {
                    r.fetch_add(1, Ordering::SeqCst);
                    if matches!(after, After::Silent) {
                        continue;
                    }
                    conn.write_all(REPLY).await.unwrap();
                    // Later, once the client has pooled the connection: close it, or send more.
                    match after {
                        After::Close => {
                            tokio::time::sleep(LATER).await;
                            return;
                        }
                        After::Stray => {
                            tokio::time::sleep(LATER).await;
                            conn.write_all(REPLY).await.unwrap();
                        }
                        _ => {}
                    }
                }
            });
        }
    });
    (uri, accepted, requests)
}

fn request() -> Request<Full<Bytes>> {
    Request::new(Full::new(Bytes::from_static(b"{}")))
}

/// Until the service has closed or written to the idle connection, and the runtime has seen it.
async fn settle() {
    tokio::time::sleep(LATER * 3).await;
}

#[tokio::test]
async fn one_connection_carries_every_exchange_in_turn() {
    let (uri, accepted, requests) = service(After::KeepAlive).await;
    let pool = H1Pool::new(&uri, Duration::from_secs(1), 4).unwrap();
    for _ in 0..20 {
        assert_eq!(pool.exchange(request(), 1024).await.unwrap(), (200, Bytes::from_static(b"ok")));
    }
    assert_eq!((accepted.load(Ordering::SeqCst), requests.load(Ordering::SeqCst)), (1, 20));
    assert_eq!(pool.idle(), 1);
}

#[tokio::test]
async fn a_connection_the_service_closed_while_idle_is_not_written_to() {
    let (uri, accepted, requests) = service(After::Close).await;
    let pool = H1Pool::new(&uri, Duration::from_secs(1), 4).unwrap();
    for n in 1..=5 {
        settle().await;
        // A write would fail here (and not be retried) if it went onto the closed connection.
        assert_eq!(pool.exchange(request(), 1024).await.unwrap().0, 200, "exchange {n}");
    }
    assert_eq!((accepted.load(Ordering::SeqCst), requests.load(Ordering::SeqCst)), (5, 5));
}

#[tokio::test]
async fn a_connection_with_bytes_nobody_asked_for_is_not_used_again() {
    let (uri, accepted, _) = service(After::Stray).await;
    let pool = H1Pool::new(&uri, Duration::from_secs(1), 4).unwrap();
    for n in 1..=3 {
        settle().await;
        let (status, body) = pool.exchange(request(), 1024).await.unwrap();
        assert_eq!((status, &body[..]), (200, &b"ok"[..]), "exchange {n}");
    }
    // The stray second reply is never read as the next exchange's answer: a new connection each time.
    assert_eq!(accepted.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn an_exchange_dropped_at_its_deadline_closes_its_connection() {
    let (uri, accepted, requests) = service(After::Silent).await;
    let pool = H1Pool::new(&uri, Duration::from_secs(1), 4).unwrap();
    let late = tokio::time::timeout(Duration::from_millis(100), pool.exchange(request(), 1024)).await;
    assert!(late.is_err());
    assert_eq!(pool.idle(), 0, "a connection with a request in flight never goes back");
    assert_eq!((accepted.load(Ordering::SeqCst), requests.load(Ordering::SeqCst)), (1, 1));
}

#[tokio::test]
async fn a_reply_longer_than_allowed_is_a_body_error_and_no_service_is_a_connect_error() {
    let (uri, _, _) = service(After::KeepAlive).await;
    let pool = H1Pool::new(&uri, Duration::from_secs(1), 4).unwrap();
    assert!(matches!(pool.exchange(request(), 1).await, Err(H1Error::Body(_))));
    assert_eq!(pool.idle(), 0);
    let closed: Uri = "http://127.0.0.1:9/".parse().unwrap();
    let pool = H1Pool::new(&closed, Duration::from_secs(1), 4).unwrap();
    match pool.exchange(request(), 1024).await {
        Err(H1Error::Connect(reason)) => assert!(reason.contains("refused"), "{reason}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_connection_idle_past_the_limit_is_closed_not_used() {
    let (uri, accepted, requests) = service(After::KeepAlive).await;
    let mut pool = H1Pool::new(&uri, Duration::from_secs(1), 4).unwrap();
    pool.idle_limit = LATER;
    for _ in 0..3 {
        assert_eq!(pool.exchange(request(), 1024).await.unwrap().0, 200);
        settle().await;
    }
    assert_eq!((accepted.load(Ordering::SeqCst), requests.load(Ordering::SeqCst)), (3, 3));
}

/// A service that answers the n-th request it reads (from 0, over all connections) with
/// `script(n)` ([`LATE_MARK`] first: after 150 ms), written in pieces of at most `piece` bytes; an empty answer closes the
/// connection without a word. Returns its URL and its accepted-connection count.
async fn scripted(script: fn(usize) -> Vec<u8>, piece: usize) -> (Uri, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let uri = format!("http://{}/ops", listener.local_addr().unwrap()).parse().unwrap();
    let accepted = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let a = accepted.clone();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            a.fetch_add(1, Ordering::SeqCst);
            let requests = requests.clone();
            tokio::spawn(async move {
                while read_request(&mut conn).await {
                    let mut reply = script(requests.fetch_add(1, Ordering::SeqCst));
                    if reply.starts_with(LATE_MARK) {
                        reply.drain(..LATE_MARK.len());
                        tokio::time::sleep(Duration::from_millis(150)).await;
                    }
                    if reply.is_empty() {
                        return;
                    }
                    for chunk in reply.chunks(piece) {
                        if conn.write_all(chunk).await.is_err() {
                            return;
                        }
                        conn.flush().await.unwrap();
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                }
            });
        }
    });
    (uri, accepted)
}

/// Put first in a scripted answer: the answer comes 150 ms late.
const LATE_MARK: &[u8] = b"<late>";

fn answer(n: usize) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{n:02}").into_bytes()
}

#[tokio::test]
async fn bytes_past_the_content_length_in_the_same_write_are_never_the_next_answer() {
    // The first reply carries a second, unrequested one in the same write (no pause between
    // them): they sit in the connection's read buffer, not on the socket.
    fn script(n: usize) -> Vec<u8> {
        let mut reply = answer(n);
        if n == 0 {
            reply.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nXX");
        }
        reply
    }
    let (uri, accepted) = scripted(script, usize::MAX).await;
    let pool = H1Pool::new(&uri, Duration::from_secs(1), 4).unwrap();
    assert_eq!(pool.exchange(request(), 1024).await.unwrap(), (200, Bytes::from_static(b"00")));
    // At once, and after a pause: the extra bytes are never an answer.
    assert_eq!(pool.exchange(request(), 1024).await.unwrap(), (200, Bytes::from_static(b"01")));
    settle().await;
    assert_eq!(pool.exchange(request(), 1024).await.unwrap(), (200, Bytes::from_static(b"02")));
    assert_eq!(accepted.load(Ordering::SeqCst), 2, "the connection with extra bytes was not used again");
}

#[tokio::test]
async fn connection_close_100_continue_and_a_chunked_reply_in_one_byte_writes() {
    fn script(n: usize) -> Vec<u8> {
        match n {
            0 => b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nc0".to_vec(),
            1 => b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nc1".to_vec(),
            _ => b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nc\r\n3\r\nhun\r\n0\r\n\r\n".to_vec(),
        }
    }
    let (uri, accepted) = scripted(script, 1).await;
    let pool = H1Pool::new(&uri, Duration::from_secs(1), 4).unwrap();
    assert_eq!(pool.exchange(request(), 1024).await.unwrap(), (200, Bytes::from_static(b"c0")));
    // Whether or not it was pooled, the closed connection is not written to.
    assert_eq!(pool.exchange(request(), 1024).await.unwrap(), (200, Bytes::from_static(b"c1")));
    assert_eq!(pool.exchange(request(), 1024).await.unwrap(), (200, Bytes::from_static(b"chun")));
    assert_eq!(pool.exchange(request(), 1024).await.unwrap(), (200, Bytes::from_static(b"chun")));
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
    assert_eq!(pool.idle(), 1);
}

#[tokio::test]
async fn a_late_reply_to_a_timed_out_exchange_is_never_another_ones_answer() {
    // The first answer comes after the caller's deadline; the connection it comes on is closed.
    fn script(n: usize) -> Vec<u8> {
        if n == 0 {
            [LATE_MARK, b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nLATE"].concat()
        } else {
            answer(n)
        }
    }
    let (uri, accepted) = scripted(script, usize::MAX).await;
    let pool = H1Pool::new(&uri, Duration::from_secs(1), 4).unwrap();
    assert!(tokio::time::timeout(Duration::from_millis(50), pool.exchange(request(), 1024)).await.is_err());
    for n in 1..=3 {
        assert_eq!(pool.exchange(request(), 1024).await.unwrap(), (200, Bytes::from(format!("{n:02}"))));
        tokio::time::sleep(Duration::from_millis(60)).await;
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_service_that_closes_mid_request_gives_no_reply_and_is_not_pooled() {
    fn script(n: usize) -> Vec<u8> {
        if n == 0 {
            Vec::new()
        } else {
            answer(n)
        }
    }
    let (uri, accepted) = scripted(script, usize::MAX).await;
    let pool = H1Pool::new(&uri, Duration::from_secs(1), 4).unwrap();
    assert!(matches!(pool.exchange(request(), 1024).await, Err(H1Error::NoReply(_))));
    assert_eq!(pool.idle(), 0);
    assert_eq!(pool.exchange(request(), 1024).await.unwrap(), (200, Bytes::from_static(b"01")));
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}
