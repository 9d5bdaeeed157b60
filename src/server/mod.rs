//! Listeners: HTTP (hyper) and raw TCP (tokio), both feeding [`crate::gateway::Gateway`].
//!
//! Limits on message size, read and idle time, connection count and messages in flight
//! ([`admission`]) live here; a connection over the limit is refused at accept. `shutdown` is a
//! watch channel every loop selects on; on it, listeners drain ([`shutdown`]). The gateway's
//! listeners share their ports with `SO_REUSEPORT`, so a new process can start on the same
//! addresses before the old one drains and exits (a binary upgrade that refuses nothing).

pub mod admission;
pub mod http;
pub mod shutdown;
pub mod tcp;

use std::net::SocketAddr;
use tokio::net::TcpListener;

/// Binds `addr` for this process alone, with a clear error naming what failed.
pub async fn bind(what: &str, addr: &str) -> Result<TcpListener, String> {
    let parsed: SocketAddr = addr.parse().map_err(|e| format!("{what} address {addr:?}: {e}"))?;
    TcpListener::bind(parsed).await.map_err(|e| format!("cannot listen on {addr} ({what}): {e}"))
}

/// Binds `addr` with `SO_REUSEADDR` and (on Unix) `SO_REUSEPORT`: another ficus process of the
/// same user may listen on the same address at the same time, and the kernel spreads new
/// connections between them. Used for the gateway's own listeners, so an upgrade can overlap.
pub fn bind_shared(what: &str, addr: &str) -> Result<TcpListener, String> {
    use socket2::{Domain, Protocol, Socket, Type};
    let parsed: SocketAddr = addr.parse().map_err(|e| format!("{what} address {addr:?}: {e}"))?;
    let fail = |e: std::io::Error| format!("cannot listen on {addr} ({what}): {e}");
    let socket = Socket::new(Domain::for_address(parsed), Type::STREAM, Some(Protocol::TCP)).map_err(fail)?;
    socket.set_reuse_address(true).map_err(fail)?;
    // Share the port only when it was named: that is the upgrade case (a new process on the same
    // routes.toml). With port 0 the kernel may hand out a port some other reuseport listener of
    // this user holds, and the two would split each other's connections.
    #[cfg(unix)]
    if parsed.port() != 0 {
        socket.set_reuse_port(true).map_err(fail)?;
    }
    socket.set_nonblocking(true).map_err(fail)?;
    socket.bind(&parsed.into()).map_err(fail)?;
    socket.listen(1024).map_err(fail)?;
    TcpListener::from_std(socket.into()).map_err(fail)
}

/// A signal that the server should stop accepting.
pub type Shutdown = tokio::sync::watch::Receiver<bool>;

/// What a channel listener needs: the pipeline, the shared in-flight bound, the drain deadline.
#[derive(Clone)]
pub struct Channel {
    /// The pipeline.
    pub gateway: Arc<Gateway>,
    /// The global bound on messages in flight.
    pub admission: Arc<admission::Admission>,
    /// Time allowed on shutdown for messages in flight.
    pub drain: std::time::Duration,
}

use crate::admin::api::Admin;
use crate::admin::auth::Tokens;
use crate::config::reload::Reloader;
use crate::config::watch::{reload_on_sighup, watch_file, WatchGuard};
use crate::gateway::Gateway;
use std::path::Path;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// What to start besides the channel listeners.
#[derive(Clone, Copy, Debug)]
pub struct Options {
    /// Reload when routes.toml changes on disk.
    pub watch: bool,
    /// Reload on SIGHUP.
    pub sighup: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { watch: true, sighup: true }
    }
}

/// A running gateway: its bound addresses and the handle to stop it.
pub struct Running {
    /// The gateway (route table and pipeline).
    pub gateway: Arc<Gateway>,
    /// The reload path (file watch, SIGHUP and the admin API all use it).
    pub reloader: Arc<Reloader>,
    /// Bound HTTP channel address, if any.
    pub http: Option<SocketAddr>,
    /// Bound TCP channel address, if any.
    pub tcp: Option<SocketAddr>,
    /// Bound admin address, if any.
    pub admin: Option<SocketAddr>,
    /// The global bound on messages in flight (both channel listeners share it).
    pub admission: Arc<admission::Admission>,
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    _watch: Option<WatchGuard>,
}

/// Loads `config` (routes.toml) and starts everything it names: channel listeners (port 0
/// picks a free port), the admin API, and the reload triggers.
pub async fn start(config: &Path, options: Options) -> Result<Running, String> {
    let table = crate::config::load(config, None, 1).map_err(|e| e.to_string())?;
    let http_addr = table.file.gateway.listen_http.clone();
    let tcp_addr = table.file.gateway.listen_tcp.clone();
    let admin_addr = table.file.gateway.admin.clone();
    if http_addr.is_none() && tcp_addr.is_none() {
        return Err("routes.toml names no listener: set [gateway] listen_http or listen_tcp".into());
    }
    let token_file =
        table.file.gateway.admin_token_file.as_ref().map(|f| config.parent().unwrap_or(Path::new(".")).join(f));
    let tokens = Tokens::load(token_file.as_deref())?;
    // Before the first message: counters emitted before a recorder exists are lost.
    crate::admin::metrics::install();
    let records = config.parent().unwrap_or(Path::new(".")).join(&table.file.shadow.records);
    let gateway = Gateway::new(table, Some(&records));
    let reloader = Arc::new(Reloader::new(gateway.clone(), config));
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let limits = gateway.table().limits.clone();
    let admission = Arc::new(admission::Admission::new(limits.max_in_flight));
    let drain = std::time::Duration::from_millis(limits.drain_timeout_ms);
    let mut running = Running {
        gateway: gateway.clone(),
        reloader: reloader.clone(),
        http: None,
        tcp: None,
        admin: None,
        admission: admission.clone(),
        stop,
        tasks: Vec::new(),
        _watch: None,
    };
    if let Some(addr) = admin_addr {
        let listener = bind_shared("admin", &addr)?;
        let bound = listener.local_addr().map_err(|e| e.to_string())?;
        crate::admin::check_bind(&bound, &tokens)?;
        running.admin = Some(bound);
        let admin = Arc::new(Admin { reloader: reloader.clone(), tokens });
        running.tasks.push(tokio::spawn(crate::admin::api::serve(listener, admin, shutdown.clone())));
    }
    if let Some(addr) = http_addr {
        let listener = bind_shared("listen_http", &addr)?;
        running.http = listener.local_addr().ok();
        let channel = Channel { gateway: gateway.clone(), admission: admission.clone(), drain };
        running.tasks.push(tokio::spawn(http::serve(listener, channel, shutdown.clone())));
    }
    if let Some(addr) = tcp_addr {
        let listener = bind_shared("listen_tcp", &addr)?;
        running.tcp = listener.local_addr().ok();
        let channel = Channel { gateway: gateway.clone(), admission: admission.clone(), drain };
        running.tasks.push(tokio::spawn(tcp::serve(listener, channel, shutdown.clone())));
    }
    if options.watch {
        running._watch = Some(watch_file(reloader.clone())?);
    }
    #[cfg(unix)]
    if options.sighup {
        reload_on_sighup(reloader);
    }
    Ok(running)
}

impl Running {
    /// A receiver that fires when the gateway stops (for tasks started beside it).
    pub fn shutdown_signal(&self) -> Shutdown {
        self.stop.subscribe()
    }

    /// Stops accepting, lets messages in flight finish (within `[limits] drain_timeout_ms`),
    /// closes the remaining connections, and waits for the listeners to end.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}
