//! The receive side of an asynchronous link: where the host's replies arrive. Either ficus
//! listens and the host connects (`receive = { listen = "0.0.0.0:7002" }`: the newest
//! connection replaces an older one), or ficus connects to the host (`receive = { connect =
//! "10.0.0.9:7002" }`), reconnecting with a backoff after the connection ends.
//!
//! Each frame read is handed to the link ([`super::Core::dispatch`]); a frame that cannot be
//! read (broken length, over the size limit) puts the stream out of step, so its connection is
//! closed. One task per link, ended when the link is dropped.

use super::send::{FIRST_BACKOFF, MAX_BACKOFF};
use super::Core;
use crate::frame::FrameError;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use tokio::io::BufReader;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tracing::{info, warn};

/// Where replies arrive.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Receive {
    /// ficus listens here; the host connects.
    Listen(String),
    /// ficus connects here.
    Connect(String),
}

impl std::fmt::Display for Receive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Receive::Listen(a) => write!(f, "listen {a}"),
            Receive::Connect(a) => write!(f, "connect {a}"),
        }
    }
}

/// Runs the receive side of `core` until it is dropped (`stop` closes).
pub(super) async fn run(core: Weak<Core>, receive: Receive, mut stop: watch::Receiver<()>) {
    match receive {
        Receive::Listen(address) => {
            tokio::select! {
                () = listen(core, &address) => {}
                _ = stop.changed() => {}
            }
        }
        Receive::Connect(address) => {
            tokio::select! {
                () = connect(core, &address) => {}
                _ = stop.changed() => {}
            }
        }
    }
}

async fn listen(weak: Weak<Core>, address: &str) {
    let mut backoff = FIRST_BACKOFF;
    let listener = loop {
        match TcpListener::bind(address).await {
            Ok(l) => break l,
            Err(e) => {
                let name = weak.upgrade().map(|c| c.name.clone()).unwrap_or_default();
                // A reload that changed the link: the previous one may hold the address a while.
                warn!(upstream = %name, %address, error = %e, retry_ms = backoff.as_millis() as u64, "cannot listen for replies yet");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    };
    let bound = listener.local_addr().ok();
    let Some(core) = weak.upgrade() else { return };
    core.bound.send_replace(bound);
    info!(upstream = %core.name, address = ?bound, "listening for replies");
    drop(core);
    let generation = Arc::new(AtomicU64::new(0));
    // At most one reader; dropping the set (the link dropped) closes its connection.
    let mut current = tokio::task::JoinSet::new();
    loop {
        let (conn, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                // Out of file descriptors, say: try again shortly rather than spin.
                warn!(error = %e, "accepting a receive connection failed");
                tokio::time::sleep(FIRST_BACKOFF).await;
                continue;
            }
        };
        let Some(core) = weak.upgrade() else { return };
        while current.try_join_next().is_some() {}
        if !current.is_empty() {
            current.abort_all();
            info!(upstream = %core.name, %peer, "a newer receive connection replaces the older one");
        } else {
            info!(upstream = %core.name, %peer, "receive connection open");
        }
        let mine = generation.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = conn.set_nodelay(true);
        core.set_up(true);
        drop(core);
        let (weak, generation) = (weak.clone(), generation.clone());
        current.spawn(async move {
            let why = read(&weak, conn).await;
            // A newer connection has taken over: it says whether the side is up.
            if generation.load(Ordering::SeqCst) == mine {
                if let Some(core) = weak.upgrade() {
                    core.set_up(false);
                    warn!(upstream = %core.name, %peer, reason = %why, "receive connection ended: waiting for the host to connect again");
                }
            }
        });
    }
}

async fn connect(weak: Weak<Core>, address: &str) {
    let mut backoff = FIRST_BACKOFF;
    loop {
        let Some(connect_timeout) = weak.upgrade().map(|c| c.config.load().connect_timeout) else { return };
        let attempt = tokio::time::timeout(connect_timeout, TcpStream::connect(address)).await;
        let Some(core) = weak.upgrade() else { return };
        match attempt {
            Ok(Ok(conn)) => {
                let _ = conn.set_nodelay(true);
                info!(upstream = %core.name, %address, "receive connection open");
                backoff = FIRST_BACKOFF;
                core.set_up(true);
                drop(core);
                let why = read(&weak, conn).await;
                let Some(core) = weak.upgrade() else { return };
                core.set_up(false);
                warn!(upstream = %core.name, %address, reason = %why, "receive connection ended: reconnecting");
            }
            Ok(Err(e)) => {
                warn!(upstream = %core.name, %address, error = %e, retry_ms = backoff.as_millis() as u64, "cannot connect the receive side")
            }
            Err(_) => {
                warn!(upstream = %core.name, %address, retry_ms = backoff.as_millis() as u64, "cannot connect the receive side: no answer")
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Reads frames from `conn` and dispatches them until it ends; says why it ended.
async fn read(weak: &Weak<Core>, conn: TcpStream) -> String {
    let mut conn = BufReader::new(conn);
    loop {
        let Some((framing, max)) = weak.upgrade().map(|c| {
            let config = c.config.load();
            (config.framing, config.max_reply_bytes)
        }) else {
            return "link dropped".into();
        };
        match framing.read(&mut conn, max).await {
            Ok(Some(reply)) => match weak.upgrade() {
                Some(core) => core.dispatch(reply),
                None => return "link dropped".into(),
            },
            Ok(None) => return "closed by the host".into(),
            Err(FrameError::Io(e)) => return e.to_string(),
            Err(e) => {
                if let Some(core) = weak.upgrade() {
                    metrics::counter!("ficus_upstream_errors_total", "upstream" => core.name.clone(), "cause" => "bad_reply").increment(1);
                }
                return format!("not a frame of the link's framing, the stream is out of step: {e}");
            }
        }
    }
}

/// The address the listener is bound to, once bound.
pub(super) type Bound = watch::Sender<Option<SocketAddr>>;
