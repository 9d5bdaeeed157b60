//! Fault injection for the hardening tests: a legacy host that can be killed and restarted on
//! the same port and whose behaviour can change between messages, a raw HTTP service that
//! answers late or too much, and process-wide resource counters (fds, tokio tasks) with the
//! check that a fault left them at their baseline. Tests that count run through [`serial`].

use super::fds;
use ficus::frame::Framing;
use std::collections::{BTreeMap, HashMap};
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

/// Open file descriptors of this process (not counting the one that lists them).
pub fn fd_count() -> usize {
    fds::open_fds().len()
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

/// Resource counts at one moment, and which fds were open.
#[derive(Clone, Debug)]
pub struct Baseline {
    /// Open fds of the process then.
    pub fds: usize,
    /// Tasks alive on the test's runtime then.
    pub tasks: usize,
    /// Idle pooled connections then (each holds two in-process fds: the gateway's end and the
    /// test host's end).
    pub pooled: usize,
    /// fd number → target then, so a check can tell which fds are new and name them.
    open: BTreeMap<i32, String>,
    /// Listeners the test itself will open again (a fake host restarted on its port).
    own_listeners: Vec<SocketAddr>,
}

impl Baseline {
    /// The process now, with `gw`'s idle pooled connections.
    pub fn now(gw: &super::Gateway) -> Baseline {
        let open = fds::open_fds();
        Baseline { fds: open.len(), tasks: task_count(), pooled: pooled_idle(gw), open, own_listeners: Vec::new() }
    }

    /// This baseline, knowing that the test itself will listen on `addr` again (a [`Host`]
    /// killed and restarted): that listener is the test's socket, not ficus's, and is not
    /// counted as opened since.
    pub fn with_own_listener(mut self, addr: SocketAddr) -> Baseline {
        self.own_listeners.push(addr);
        self
    }

    /// Polls (bounded: 10 s; a loaded 2-core machine closes sockets late) until the process is
    /// back at this baseline ([`Baseline::check`]) and panics naming `what` and every fd opened
    /// since if it is not. Returns how long it took.
    pub async fn settle(&self, what: &str, gw: Option<&super::Gateway>) -> Duration {
        self.check(gw, Duration::from_secs(10)).await.unwrap_or_else(|e| panic!("{what}: {e}"))
    }

    /// Polls for at most `limit` until the process is back at this baseline. Back means: no
    /// more fds and tasks than then, counting any change in idle pooled connections, which the
    /// pool keeps on purpose; and every fd opened since is one end of such a connection — a
    /// TCP socket whose peer is in this process too, at most two per idle pooled connection —
    /// so a leaked file, pipe, epoll or non-pool socket fails even when something else closed
    /// meanwhile. Only meaningful inside [`serial`], where this test's runtime is the only one
    /// in the process. Returns how long it took, or what is still open.
    pub async fn check(&self, gw: Option<&super::Gateway>, limit: Duration) -> Result<Duration, String> {
        let started = Instant::now();
        loop {
            let pooled = gw.map_or(0, pooled_idle);
            let open = fds::open_fds();
            let sockets = fds::tcp_sockets();
            let mut opened = fds::opened_since(&self.open, &open);
            opened.retain(|_, t| {
                !fds::tcp_of(t, &sockets).is_some_and(|s| s.state == "LISTEN" && self.own_listeners.contains(&s.local))
            });
            let extra_pooled = pooled.saturating_sub(self.pooled);
            let counts_back = open.len() <= self.fds + 2 * extra_pooled && task_count() <= self.tasks + extra_pooled;
            if counts_back && only_pool_pairs(&opened, &open, &sockets, pooled) {
                return Ok(started.elapsed());
            }
            if started.elapsed() > limit {
                return Err(format!(
                    "resources did not return to baseline (fds {}, tasks {}, idle pooled {}) within {limit:?}: \
                     now fds {}, tasks {}, idle pooled {pooled}; fds opened since then:{}",
                    self.fds,
                    self.tasks,
                    self.pooled,
                    open.len(),
                    task_count(),
                    fds::describe(&opened)
                ));
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// True if every fd in `opened` is an ESTABLISHED TCP socket whose peer is also open in this
/// process (`open`) — the two ends of a pooled connection to a test host — and there are at
/// most two per idle pooled connection.
fn only_pool_pairs(
    opened: &BTreeMap<i32, String>,
    open: &BTreeMap<i32, String>,
    sockets: &HashMap<u64, fds::TcpSocket>,
    pooled: usize,
) -> bool {
    if opened.len() > 2 * pooled {
        return false;
    }
    if opened.is_empty() {
        return true;
    }
    let ends: Vec<&fds::TcpSocket> = open.values().filter_map(|t| fds::tcp_of(t, sockets)).collect();
    opened.values().all(|target| {
        fds::tcp_of(target, sockets).is_some_and(|s| {
            s.state == "ESTABLISHED" && ends.iter().any(|p| p.local == s.remote && p.remote == s.local)
        })
    })
}

static SERIAL: Mutex<()> = Mutex::new(());

/// Runs a test that counts process-wide resources alone in this process, on a runtime of its
/// own: the lock is taken BEFORE the runtime is built and released only AFTER it is dropped.
/// (`#[tokio::test]` builds its runtime — an epoll, an eventfd, a signal socket — before the
/// test body runs, so a test waiting on a lock taken inside the body keeps those fds open while
/// another counts: the old flake.) A test that panicked still releases the lock (poison is
/// ignored), so one failure does not fail the rest.
pub fn serial<F: std::future::Future<Output = ()>>(test: F) {
    let _alone = SERIAL.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    runtime.block_on(test);
    // Dropped here, before `_alone`: its tasks, sockets and threads are gone before the next
    // test starts counting. On a panic, unwinding drops them in the same order.
    drop(runtime);
}
