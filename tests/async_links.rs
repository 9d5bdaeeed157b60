//! Asynchronous host links (`kind = "tcp-async"`) over real sockets: requests on ficus's send
//! connection, replies on a receive connection (the host connecting to ficus, or ficus to the
//! host), matched by HDR-SEQ-NO. A simulated host answers out of order, late, twice and never;
//! either connection is dropped and comes back. Every channel gets its own reply or an error,
//! never another's (tests/async_links_random.rs: the same over random interleavings).

#[path = "support/async_host.rs"]
mod async_host;
mod common;

use async_host::*;
use common::*;
use ficus::upstream::async_link::table::Unmatched;

const MATCH: &str = r#"match = ["HDR-SEQ-NO"]"#;

/// A gateway on a host whose receive side connects to ficus's listener, ready for messages.
async fn listening_pair(extra: &str) -> (Gateway, AsyncHost) {
    let mut host = AsyncHost::start().await;
    let gw = Gateway::start(&async_routes(host.send_addr, r#"{ listen = "127.0.0.1:0" }"#, extra)).await;
    let entry = link(&gw, "kftc");
    let at = as_link(&entry).listening(PATIENCE).await.expect("ficus listens for replies");
    host.connect_receive(at).await;
    assert!(as_link(&entry).receive_ready(PATIENCE).await, "ficus sees the host's receive connection");
    (gw, host)
}

#[tokio::test]
async fn replies_out_of_order_each_reach_the_channel_that_sent_the_request() {
    let (gw, mut host) = listening_pair(MATCH).await;
    let n = 8;
    let mut channels = Vec::new();
    for i in 0..n {
        let message = inquiry(&gw, &format!("ACCT{i:012}"), 1000 + i, None);
        let http = gw.http();
        channels.push(tokio::spawn(async move { (i, post(http, &message).await) }));
    }
    let mut requests = Vec::new();
    for _ in 0..n {
        requests.push(host.next_request().await);
    }
    // Last in, first out, then the odd ones before the even: nothing like the order sent.
    requests.reverse();
    requests.sort_by_key(|r| seq_of(r).is_multiple_of(2));
    for r in &requests {
        host.reply(&answer(&gw, r)).await;
    }
    for c in channels {
        let (i, (status, reply)) = c.await.unwrap();
        let (code, msg, acct) = read_reply(&reply);
        assert_eq!((status, code.as_str()), (200, "0000"), "channel {i}: {msg}");
        assert_eq!(acct, format!("ACCT{i:012}"), "channel {i} got another's reply");
        assert_eq!(msg, format!("ANSWER ACCT{i:012}"));
        assert_eq!(seq_of(&reply), 1000 + i);
    }
    assert_eq!(host.send_connections(), 1, "one send connection carries every request");
}

fn seq_of(message: &[u8]) -> u64 {
    text(&message[17..27]).parse().unwrap()
}

#[tokio::test]
async fn a_late_reply_is_counted_and_never_reaches_the_next_request_with_its_key() {
    let (gw, mut host) = listening_pair(MATCH).await;
    let entry = link(&gw, "kftc");
    let first = inquiry(&gw, "LATE000000000001", 42, None);
    let (status, reply) = gw.post(&first).await;
    let (code, msg, _) = read_reply(&reply);
    assert_eq!((status, code.as_str()), (504, "FC11"), "{msg}");
    let unanswered = host.next_request().await;
    // The same key again while its reply may still come: refused, never sent.
    let again = inquiry(&gw, "NEXT000000000001", 42, None);
    let (status, reply) = gw.post(&again).await;
    let (code, msg, _) = read_reply(&reply);
    assert_eq!((status, code.as_str()), (409, "FC45"), "{msg}");
    assert!(msg.starts_with("KEY IN USE, NOT SENT"), "{msg}");
    // Now the late reply, then another request's reply behind it on the same connection.
    host.reply(&answer(&gw, &unanswered)).await;
    let other = inquiry(&gw, "OTHR000000000001", 43, None);
    let http = gw.http();
    let pending = tokio::spawn(async move { post(http, &other).await });
    let seen = host.next_request().await;
    assert_eq!(seq_of(&seen), 43, "the refused request never reached the host");
    host.reply(&answer(&gw, &seen)).await;
    let (_, reply) = pending.await.unwrap();
    assert_eq!(read_reply(&reply).2, "OTHR000000000001");
    assert_eq!(as_link(&entry).unmatched(Unmatched::Late), 1, "the late reply is counted");
    // Its key stays held a while: the late reply's second copy could still come.
    let (status, reply) = gw.post(&again).await;
    assert_eq!((status, read_reply(&reply).0.as_str()), (409, "FC45"));
    assert!(host.try_request().is_none());
}

#[tokio::test]
async fn a_second_copy_and_an_unknown_key_are_counted_and_delivered_to_nobody() {
    let (gw, mut host) = listening_pair(MATCH).await;
    let entry = link(&gw, "kftc");
    let http = gw.http();
    let message = inquiry(&gw, "TWICE00000000001", 77, None);
    let pending = tokio::spawn(async move { post(http, &message).await });
    let request = host.next_request().await;
    host.reply(&answer(&gw, &request)).await;
    host.reply(&answer(&gw, &request)).await;
    let stranger = inquiry(&gw, "NOBODY0000000001", 999_999, None);
    host.reply(&answer(&gw, &stranger)).await;
    let (status, reply) = pending.await.unwrap();
    assert_eq!((status, read_reply(&reply).2.as_str()), (200, "TWICE00000000001"));
    // A request behind them: when its answer is back, they have been read.
    let next = inquiry(&gw, "AFTER00000000001", 78, None);
    let pending = tokio::spawn(async move { post(http, &next).await });
    let request = host.next_request().await;
    host.reply(&answer(&gw, &request)).await;
    let (_, reply) = pending.await.unwrap();
    assert_eq!(read_reply(&reply).2, "AFTER00000000001", "its own reply, not the second copy");
    let l = as_link(&entry);
    assert_eq!((l.unmatched(Unmatched::Duplicate), l.unmatched(Unmatched::Unknown)), (1, 1));
    assert_eq!(l.outstanding().0, 0, "nothing left waiting");
}

#[tokio::test]
async fn a_key_hit_with_another_message_id_is_not_delivered() {
    // Matched by the timestamp alone: a reply with the right timestamp but another HDR-SEQ-NO
    // (the message id) answers some other message.
    let (gw, mut host) = listening_pair(r#"match = ["HDR-TIMESTAMP"]"#).await;
    let entry = link(&gw, "kftc");
    let http = gw.http();
    let message = inquiry(&gw, "IDCHK00000000001", 501, Some(20_261_201_120_000));
    let pending = tokio::spawn(async move { post(http, &message).await });
    let request = host.next_request().await;
    let mut wrong = answer(&gw, &request);
    wrong[17..27].copy_from_slice(&inquiry(&gw, "X", 502, None)[17..27]);
    host.reply(&wrong).await;
    host.reply(&answer(&gw, &request)).await;
    let (status, reply) = pending.await.unwrap();
    assert_eq!((status, seq_of(&reply)), (200, 501));
    assert_eq!(as_link(&entry).unmatched(Unmatched::WrongId), 1);
}

#[tokio::test]
async fn two_requests_with_one_key_at_once_the_second_is_refused_unsent() {
    let (gw, mut host) = listening_pair(MATCH).await;
    let http = gw.http();
    let first = inquiry(&gw, "ONE0000000000001", 600, None);
    let pending = tokio::spawn(async move { post(http, &first).await });
    let request = host.next_request().await;
    let (status, reply) = gw.post(&inquiry(&gw, "TWO0000000000002", 600, None)).await;
    assert_eq!((status, read_reply(&reply).0.as_str()), (409, "FC45"));
    host.reply(&answer(&gw, &request)).await;
    assert_eq!(read_reply(&pending.await.unwrap().1).2, "ONE0000000000001");
    assert!(host.try_request().is_none(), "the second never reached the host");
    // A blank key can match nothing.
    let (status, reply) = gw.post(&inquiry(&gw, "BLANK00000000001", 0, None)).await;
    let (code, msg, _) = read_reply(&reply);
    assert_eq!((status, code.as_str()), (400, "FC46"), "{msg}");
}

#[tokio::test]
async fn the_receive_connection_dropped_fails_fast_and_a_new_one_serves_again() {
    let (gw, mut host) = listening_pair(MATCH).await;
    let entry = link(&gw, "kftc");
    let l = as_link(&entry);
    drop(host.reply_conn.take());
    assert!(l.receive_becomes(false, PATIENCE).await, "ficus sees the receive connection end");
    let (status, reply) = gw.post(&inquiry(&gw, "DOWN000000000001", 700, None)).await;
    let (code, msg, _) = read_reply(&reply);
    assert_eq!((status, code.as_str()), (502, "FC10"), "{msg}");
    assert!(msg.contains("receive side"), "{msg}");
    assert!(host.try_request().is_none(), "nothing is sent while replies cannot arrive");
    host.connect_receive(l.listening_on().unwrap()).await;
    assert!(l.receive_ready(PATIENCE).await);
    // A newer receive connection replaces the older one, which ficus closes.
    let older = host.connect_receive(l.listening_on().unwrap()).await.unwrap();
    let mut byte = [0u8; 1];
    let closed = tokio::time::timeout(PATIENCE, async {
        older.readable().await.unwrap();
        older.try_read(&mut byte)
    });
    assert!(matches!(closed.await, Ok(Ok(0)) | Ok(Err(_))), "the older receive connection is closed by ficus");
    assert!(l.receive_ready(PATIENCE).await);
    let http = gw.http();
    let message = inquiry(&gw, "BACK000000000001", 701, None);
    let pending = tokio::spawn(async move { post(http, &message).await });
    let request = host.next_request().await;
    host.reply(&answer(&gw, &request)).await;
    assert_eq!(
        read_reply(&pending.await.unwrap().1),
        ("0000".into(), "ANSWER BACK000000000001".into(), "BACK000000000001".into())
    );
}

#[tokio::test]
async fn the_send_connection_dropped_is_opened_again() {
    let (gw, mut host) = listening_pair(MATCH).await;
    let http = gw.http();
    for (i, acct) in ["SEND000000000001", "SEND000000000002"].iter().enumerate() {
        if i == 1 {
            host.drop_send_connections();
        }
        let message = inquiry(&gw, acct, 800 + i as u64, None);
        let pending = tokio::spawn(async move { post(http, &message).await });
        let request = host.next_request().await;
        host.reply(&answer(&gw, &request)).await;
        let (status, reply) = pending.await.unwrap();
        assert_eq!((status, read_reply(&reply).2.as_str()), (200, *acct));
    }
    assert_eq!(host.send_connections(), 2, "a new send connection after the host dropped the first");
}

#[tokio::test]
async fn receive_by_connecting_to_the_host_and_reconnecting() {
    let mut host = AsyncHost::start().await;
    let at = host.listen_for_receive().await;
    let gw = Gateway::start(&async_routes(host.send_addr, &format!("{{ connect = \"{at}\" }}"), MATCH)).await;
    let entry = link(&gw, "kftc");
    let l = as_link(&entry);
    for round in 0..2u64 {
        host.accept_receive().await;
        assert!(l.receive_ready(PATIENCE).await);
        let mut pending = Vec::new();
        for i in 0..4u64 {
            let acct = format!("CONN{round}{i:011}");
            let message = inquiry(&gw, &acct, 900 + round * 10 + i, None);
            let http = gw.http();
            pending.push(tokio::spawn(async move { (acct, post(http, &message).await) }));
        }
        let mut requests = Vec::new();
        for _ in 0..4 {
            requests.push(host.next_request().await);
        }
        requests.rotate_left(2);
        for r in &requests {
            host.reply(&answer(&gw, r)).await;
        }
        for p in pending {
            let (acct, (status, reply)) = p.await.unwrap();
            assert_eq!((status, read_reply(&reply).2), (200, acct));
        }
        // The host drops the receive connection: ficus connects again.
        drop(host.reply_conn.take());
        assert!(l.receive_becomes(false, PATIENCE).await);
    }
}

#[tokio::test]
async fn a_write_whose_reply_never_comes_is_outcome_unknown() {
    let (gw, mut host) = listening_pair(MATCH).await;
    let body = serde_json::json!({ "FROM-ACCT": "1111222233334444", "TO-ACCT": "5555666677778888", "AMOUNT": 1000, "MEMO": "ASYNC" });
    let message = ficus::cli::build_request(&gw.table(), "XFER", &body, &serde_json::json!({ "HDR-SEQ-NO": 950 }));
    let message = message.unwrap();
    let (status, reply) = gw.post(&message).await;
    let (code, msg, _) = read_reply(&reply);
    assert_eq!((status, code.as_str()), (504, "FC11"), "{msg}");
    assert!(msg.starts_with("OUTCOME UNKNOWN"), "{msg}");
    assert_eq!(seq_of(&host.next_request().await), 950, "sent once");
}

#[tokio::test]
async fn a_reload_keeps_the_link_and_its_requests_waiting() {
    let mut host = AsyncHost::start().await;
    let port = free_address().await.port();
    let routes = async_routes(host.send_addr, &format!("{{ listen = \"127.0.0.1:{port}\" }}"), MATCH);
    let gw = Gateway::start_unwatched(&routes).await;
    let before = link(&gw, "kftc");
    assert_eq!(as_link(&before).listening(PATIENCE).await.map(|a| a.port()), Some(port));
    host.connect_receive(as_link(&before).listening_on().unwrap()).await;
    assert!(as_link(&before).receive_ready(PATIENCE).await);
    let http = gw.http();
    let message = inquiry(&gw, "ACROSS0000000001", 1100, None);
    let pending = tokio::spawn(async move { post(http, &message).await });
    let request = host.next_request().await;
    // The link's settings change under the waiting request.
    std::fs::write(&gw.config, routes.replace("timeout_ms = 500", "timeout_ms = 5000")).unwrap();
    gw.running.reloader.reload(ficus::control::reload::Trigger::File).unwrap();
    let after = link(&gw, "kftc");
    assert!(!std::sync::Arc::ptr_eq(&before, &after), "a new upstream entry with the new settings");
    host.reply(&answer(&gw, &request)).await;
    assert_eq!(read_reply(&pending.await.unwrap().1).2, "ACROSS0000000001", "answered across the reload");
    assert!(as_link(&after).receive_up(), "the host's receive connection is the new table's too");
    let message = inquiry(&gw, "AFTERRELOAD00001", 1101, None);
    let pending = tokio::spawn(async move { post(http, &message).await });
    let request = host.next_request().await;
    host.reply(&answer(&gw, &request)).await;
    assert_eq!(read_reply(&pending.await.unwrap().1).2, "AFTERRELOAD00001");
    assert_eq!(host.send_connections(), 1, "the send connection is kept too");
}
