//! Fault injection for the hardening tests: a legacy host that can be killed and restarted on
//! the same port and whose behaviour can change between messages, a raw HTTP service that
//! answers late or too much, and process-wide resource counters (fds, tokio tasks).

use ficus::frame::Framing;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// What the host does with one message.
#[derive(Clone, Debug)]
pub enum Act {
    /// Send the request back as the reply (so a reply names its request).
    Echo,
    /// Wait, then echo.
    SlowEcho(Duration),
    /// Close the connection without answering.
    Close,
    /// Start a reply (a prefix claiming 100 bytes, then 10), then reset the connection (RST).
    ResetMidReply,
    /// Write these raw bytes (no framing added), then close.
    Raw(Vec<u8>),
    /// Never answer.
    Silent,
}

/// Decides the act from (message number on this connection starting at 1, message).
pub type Behaviour = Arc<dyn Fn(usize, &[u8]) -> Act + Send + Sync>;

/// A fake legacy host (4-byte length prefix) that can be killed and brought back.
pub struct Host {
    pub addr: SocketAddr,
    behaviour: Arc<Mutex<Behaviour>>,
    received: Arc<AtomicUsize>,
    accepted: Arc<AtomicUsize>,
    task: Option<JoinHandle<()>>,
}

impl Host {
    /// A host on a free port doing `act` with every message.
    pub async fn start(act: Act) -> Host {
        Host::with(Arc::new(move |_, _| act.clone())).await
    }

    /// A host on a free port with a behaviour per message.
    pub async fn with(behaviour: Behaviour) -> Host {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let mut host = Host {
            addr,
            behaviour: Arc::new(Mutex::new(behaviour)),
            received: Arc::new(AtomicUsize::new(0)),
            accepted: Arc::new(AtomicUsize::new(0)),
            task: None,
        };
        host.run(listener);
        host
    }

    /// Changes what the host does from the next message on.
    pub fn set(&self, act: Act) {
        *self.behaviour.lock().unwrap() = Arc::new(move |_, _| act.clone());
    }

    /// Messages received so far.
    pub fn count(&self) -> usize {
        self.received.load(Ordering::SeqCst)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Kills the host: the listener and every connection close at once.
    pub async fn kill(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    /// Brings the host back on the same port.
    pub async fn restart(&mut self) {
        let listener = TcpListener::bind(self.addr).await.unwrap();
        self.run(listener);
    }

    fn run(&mut self, listener: TcpListener) {
        let (behaviour, received, accepted) = (self.behaviour.clone(), self.received.clone(), self.accepted.clone());
        self.task = Some(tokio::spawn(async move {
            let mut conns = JoinSet::new();
            loop {
                let conn = tokio::select! {
                    a = listener.accept() => match a { Ok((c, _)) => c, Err(_) => continue },
                    Some(_) = conns.join_next(), if !conns.is_empty() => continue,
                };
                accepted.fetch_add(1, Ordering::SeqCst);
                let (behaviour, received) = (behaviour.clone(), received.clone());
                conns.spawn(serve_host_conn(conn, behaviour, received));
            }
        }));
    }
}

async fn serve_host_conn(mut conn: TcpStream, behaviour: Arc<Mutex<Behaviour>>, received: Arc<AtomicUsize>) {
    let framing = Framing::prefix(4);
    let mut n = 0;
    while let Ok(Some(message)) = framing.read(&mut conn, 1 << 20).await {
        n += 1;
        received.fetch_add(1, Ordering::SeqCst);
        let decide = behaviour.lock().unwrap().clone();
        match decide(n, &message) {
            Act::Echo => {}
            Act::SlowEcho(d) => tokio::time::sleep(d).await,
            Act::Close => return,
            Act::Silent => std::future::pending::<()>().await,
            Act::Raw(bytes) => {
                let _ = conn.write_all(&bytes).await;
                return;
            }
            Act::ResetMidReply => {
                let _ = conn.write_all(&[0, 0, 0, 100, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]).await;
                let _ = conn.flush().await;
                // SO_LINGER 0: dropping the socket sends RST instead of FIN.
                let _ = socket2::SockRef::from(&conn).set_linger(Some(Duration::ZERO));
                return;
            }
        }
        if framing.write(&mut conn, &message).await.is_err() {
            return;
        }
    }
}

/// A raw HTTP/1.1 service: after `delay`, answers every request with 200 and `body`.
pub async fn raw_service(delay: Duration, body: Arc<Vec<u8>>) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else { return };
            let body = body.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 64 * 1024];
                let mut got = 0;
                // Headers and a small body arrive together on loopback; read until a pause.
                while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(50), conn.read(&mut buf[got..])).await
                {
                    if n == 0 {
                        break;
                    }
                    got += n;
                }
                tokio::time::sleep(delay).await;
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(head.as_bytes()).await;
                let _ = conn.write_all(&body).await;
            });
        }
    });
    addr
}

/// Open file descriptors of this process.
pub fn fd_count() -> usize {
    std::fs::read_dir("/proc/self/fd").map_or(0, |d| d.count())
}

/// Tasks alive on the current tokio runtime.
pub fn task_count() -> usize {
    tokio::runtime::Handle::current().metrics().num_alive_tasks()
}

/// Resident set size of this process, in KiB.
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Idle connections in a gateway's legacy pools: legitimately open between messages.
pub fn pooled_idle(gw: &super::Gateway) -> usize {
    gw.table()
        .upstreams
        .values()
        .map(|u| match &u.upstream {
            ficus::upstream::Upstream::Tcp(pool) => pool.idle_count(),
            _ => 0,
        })
        .sum()
}

/// Resource counts at one moment.
#[derive(Clone, Copy, Debug)]
pub struct Baseline {
    pub fds: usize,
    pub tasks: usize,
    /// Idle pooled connections then (each holds two in-process fds: the gateway's end and the
    /// test host's end).
    pub pooled: usize,
}

impl Baseline {
    pub fn now(gw: &super::Gateway) -> Baseline {
        Baseline { fds: fd_count(), tasks: task_count(), pooled: pooled_idle(gw) }
    }

    /// Polls (bounded: 10 s; a loaded 2-core machine closes sockets late) until fds and tasks
    /// are back at or below this baseline — counting any change in idle pooled connections,
    /// which the pool keeps on purpose — and panics naming `what` if they are not.
    /// Returns how long it took.
    pub async fn settle(&self, what: &str, gw: Option<&super::Gateway>) -> Duration {
        let started = Instant::now();
        loop {
            let pooled = gw.map_or(0, pooled_idle);
            let now = Baseline { fds: fd_count(), tasks: task_count(), pooled };
            let allowed = self.fds + 2 * now.pooled.saturating_sub(self.pooled);
            if now.fds <= allowed && now.tasks <= self.tasks + now.pooled.saturating_sub(self.pooled) {
                return started.elapsed();
            }
            if started.elapsed() > Duration::from_secs(10) {
                panic!("{what}: resources did not return to baseline {self:?}: now {now:?}");
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Tests that count process-wide fds take this lock, so they do not count each other's.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
