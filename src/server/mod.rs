//! Listeners: HTTP (hyper) and raw TCP (tokio), both feeding [`crate::gateway::Gateway`].
//!
//! Limits on message size, read and idle time, connection count and messages in flight
//! ([`admission`]) live here; a connection over the limit is refused at accept. `shutdown` is a
//! watch channel every loop selects on; on it, listeners drain ([`shutdown`]). The gateway's
//! listeners can share their ports with `SO_REUSEPORT`, but only when asked
//! ([`Options::takeover`]): a new process then starts on the same addresses before the old one
//! drains and exits (a binary upgrade that refuses nothing). Otherwise a port in use is refused.

pub mod admission;
pub mod http;
mod keepalive;
mod parts;
pub mod shutdown;
pub mod tcp;

use std::net::SocketAddr;
use tokio::net::TcpListener;
use tracing::warn;

/// Binds `addr` for this process alone (never shared), with a clear error naming what failed.
pub async fn bind(what: &str, addr: &str) -> Result<TcpListener, String> {
    let parsed: SocketAddr = addr.parse().map_err(|e| format!("{what} address {addr:?}: {e}"))?;
    TcpListener::bind(parsed).await.map_err(|e| match e.kind() {
        std::io::ErrorKind::AddrInUse => format!(
            "cannot listen on {parsed} ({what}): address in use — port {} is taken, perhaps by another ficus",
            parsed.port()
        ),
        _ => format!("cannot listen on {parsed} ({what}): {e}"),
    })
}

/// Binds a gateway listener (`what` names it: `listen_http`, `listen_tcp`, `admin`) on `addr`.
///
/// A named port is bound with `SO_REUSEPORT`, so that a later `ficus serve --takeover` can
/// share it during a hand-off (Linux shares a port only between sockets that all set it). Unless
/// `takeover` is set, the port is first probed with a plain bind, which the kernel refuses while
/// anything listens there: two gateways never split a port's connections by accident. With
/// `takeover` the port is shared on purpose, and a port nobody held is only worth a warning.
/// Port 0 is never shared: the kernel may hand out a port some other reuseport listener of this
/// user holds, and the two would split each other's connections.
pub fn bind_shared(what: &str, addr: &str, takeover: bool) -> Result<TcpListener, String> {
    let parsed: SocketAddr = addr.parse().map_err(|e| format!("{what} address {addr:?}: {e}"))?;
    let fail = |e: std::io::Error| bind_error(what, &parsed, &e, takeover);
    let shared = cfg!(unix) && parsed.port() != 0;
    if shared {
        match probe(&parsed) {
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse && !takeover => return Err(fail(e)),
            Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => {}
            Err(e) => return Err(fail(e)),
            Ok(()) if takeover => warn!(listener = what, %addr, "takeover: nothing was listening here"),
            Ok(()) => {}
        }
    }
    let socket = new_socket(&parsed).map_err(fail)?;
    #[cfg(unix)]
    if shared {
        socket.set_reuse_port(true).map_err(fail)?;
    }
    socket.set_nonblocking(true).map_err(fail)?;
    socket.bind(&parsed.into()).map_err(fail)?;
    socket.listen(1024).map_err(fail)?;
    TcpListener::from_std(socket.into()).map_err(fail)
}

/// A TCP socket for `addr` with `SO_REUSEADDR` (a restart is not refused by old connections
/// still in `TIME_WAIT`).
fn new_socket(addr: &SocketAddr) -> std::io::Result<socket2::Socket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(*addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    Ok(socket)
}

/// Binds `addr` without `SO_REUSEPORT` and lets it go: `AddrInUse` while anything listens there.
fn probe(addr: &SocketAddr) -> std::io::Result<()> {
    new_socket(addr)?.bind(&(*addr).into())
}

/// The message for a listener that cannot be bound; a port in use says who may hold it.
fn bind_error(what: &str, addr: &SocketAddr, e: &std::io::Error, takeover: bool) -> String {
    let port = addr.port();
    if e.kind() != std::io::ErrorKind::AddrInUse {
        return format!("cannot listen on {addr} ({what}): {e}");
    }
    if takeover {
        format!(
            "cannot listen on {addr} ({what}): address in use, and the process holding port {port} does not share it \
             (--takeover shares ports only with a ficus of the same user)"
        )
    } else {
        format!(
            "cannot listen on {addr} ({what}): address in use — port {port} is taken, perhaps by another ficus \
             (a `ficus demo` or `ficus serve` on the same routes.toml); to hand off from a running ficus, start \
             this one with `ficus serve --takeover`, then stop the old one"
        )
    }
}

/// A signal that the server should stop accepting.
pub type Shutdown = tokio::sync::watch::Receiver<bool>;

/// What a channel listener needs: the pipeline, the channel's in-flight bound, the drain
/// deadline, and which channel of the table it serves.
#[derive(Clone)]
pub struct Channel {
    /// The pipeline.
    pub gateway: Arc<Gateway>,
    /// The bound on messages in flight (`[limits]` for the default channel; each `[[channels]]`
    /// entry has its own).
    pub admission: Arc<admission::Admission>,
    /// Time allowed on shutdown for messages in flight.
    pub drain: std::time::Duration,
    /// The listener's label in metrics and logs (`http`, `tcp`).
    pub listener: Arc<str>,
    /// The channel's name in the table (`default` for `[gateway]`'s listeners).
    pub name: Arc<str>,
}

impl Channel {
    /// This channel as the current table has it (its framing, code page, limits): the default
    /// channel if a table lacks it (a reload cannot remove a channel, so only a bug would).
    pub fn plan(&self) -> Arc<ChannelPlan> {
        let table = self.gateway.table();
        table.channel(&self.name).or_else(|| table.channels.first()).cloned().expect("a table has its default channel")
    }

    /// An error reply the listener itself builds, on the header of `message` (in the channel's
    /// code page), in the channel's code page.
    pub fn error_reply(&self, message: &[u8], code: &str, text: &str) -> Vec<u8> {
        let table = self.gateway.table();
        match table.channel(&self.name) {
            Some(plan) => self.gateway.error_on(&table, plan, message, code, text),
            None => table.header.error_reply(message, code, text),
        }
    }

    /// Serves one message received on this channel: a heartbeat is answered at once (never
    /// shed, never routed); anything else is converted to the host's code page (if the
    /// channel's is another), admitted and handled, or shed when too much is in flight, and the
    /// reply converted back. One table serves it all.
    pub async fn serve(&self, message: Vec<u8>) -> crate::reply::Reply {
        let table = self.gateway.table();
        let plan = table.channel(&self.name).or_else(|| table.channels.first()).cloned();
        let Some(plan) = plan else { return self.admission.serve(&self.gateway, table, &self.name, message).await };
        let host = match self.gateway.header_to_host(&table, &plan, &message) {
            Ok(header) => header,
            Err(reply) => return reply,
        };
        if let Some(reply) = self.gateway.heartbeat_on(&table, &plan, &host, &self.listener) {
            return reply;
        }
        let host = match host {
            // On the host's code page: the message as it came.
            std::borrow::Cow::Borrowed(_) => {
                return self.admission.serve(&self.gateway, table, &self.name, message).await;
            }
            std::borrow::Cow::Owned(header) => match self.gateway.body_to_host(&table, &plan, &message, header) {
                Ok(host) => host,
                Err(reply) => return reply,
            },
        };
        let reply = self.admission.serve(&self.gateway, table.clone(), &self.name, host.clone()).await;
        self.gateway.to_channel(&table, &plan, &host, reply)
    }
}

use crate::admin::api::Admin;
use crate::admin::auth::Tokens;
use crate::control::reload::Reloader;
use crate::control::watch::{reload_on_sighup, watch_file, WatchGuard};
use crate::gateway::Gateway;
use crate::route::channel::{ChannelPlan, DEFAULT_CHANNEL};
use std::path::Path;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// What to start besides the channel listeners.
#[derive(Clone, Debug)]
pub struct Options {
    /// Reload when routes.toml changes on disk.
    pub watch: bool,
    /// Reload on SIGHUP.
    pub sighup: bool,
    /// Share the listeners' ports with a running ficus (a hand-off: `ficus serve --takeover`).
    /// Without it, a port something already listens on is refused with "address in use".
    pub takeover: bool,
    /// Addresses that replace `[gateway]`'s, so replicas on one host can share one routes.toml
    /// (`ficus serve --listen-http …`); the table and its hash stay the file's.
    pub listen: Listen,
    /// Admin addresses of the other replicas (`host:port`; a name may resolve to several), for
    /// the dashboard's fleet view (`GET /fleet`); empty: no fleet view.
    pub peers: Vec<String>,
}

/// `ficus serve --listen-http/--listen-tcp/--admin`: each replaces `[gateway]`'s when given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Listen {
    /// Instead of `[gateway] listen_http`.
    pub http: Option<SocketAddr>,
    /// Instead of `[gateway] listen_tcp`.
    pub tcp: Option<SocketAddr>,
    /// Instead of `[gateway] admin`.
    pub admin: Option<SocketAddr>,
}

impl Default for Options {
    fn default() -> Self {
        Options { watch: true, sighup: true, takeover: false, listen: Listen::default(), peers: Vec::new() }
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
    /// The default channel's bound on messages in flight (its two listeners share it).
    pub admission: Arc<admission::Admission>,
    /// Each `[[channels]]` entry's bound addresses, in the file's order.
    pub channels: Vec<ChannelAddrs>,
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    _watch: Option<WatchGuard>,
}

/// Where one `[[channels]]` entry listens.
#[derive(Clone, Debug)]
pub struct ChannelAddrs {
    /// Its name.
    pub name: String,
    /// Bound TCP address, if any.
    pub tcp: Option<SocketAddr>,
    /// Bound HTTP address, if any.
    pub http: Option<SocketAddr>,
}

impl Running {
    /// The bound addresses of `[[channels]]` entry `name`.
    pub fn channel(&self, name: &str) -> Option<&ChannelAddrs> {
        self.channels.iter().find(|c| c.name == name)
    }
}

/// Loads `config` (routes.toml) and starts everything it names: channel listeners (port 0
/// picks a free port), the admin API, and the reload triggers.
pub async fn start(config: &Path, options: Options) -> Result<Running, String> {
    let table = crate::config::build::load_to_serve(config).map_err(|e| e.to_string())?;
    for warning in crate::config::shadow_idle::shadow_warnings(&table) {
        tracing::warn!(%warning, "shadow compares nothing or only part");
    }
    let given = |a: Option<SocketAddr>, file: &Option<String>| a.map(|a| a.to_string()).or_else(|| file.clone());
    let http_addr = given(options.listen.http, &table.file.gateway.listen_http);
    let tcp_addr = given(options.listen.tcp, &table.file.gateway.listen_tcp);
    let admin_addr = given(options.listen.admin, &table.file.gateway.admin);
    if http_addr.is_none() && tcp_addr.is_none() {
        return Err("routes.toml names no listener: set [gateway] listen_http or listen_tcp".into());
    }
    // The TLS files a PostgreSQL store URL names must be here, where the store is reached.
    if let Some(store) = table.file.journal.as_ref().map(|j| j.store.as_str()).filter(|s| s.starts_with("postgres")) {
        let missing = crate::journal::pg_url::unreadable_files(store);
        if !missing.is_empty() {
            return Err(format!("[journal] store: {} (the store could never be reached)", missing.join("; ")));
        }
    }
    let token_file =
        table.file.gateway.admin_token_file.as_ref().map(|f| config.parent().unwrap_or(Path::new(".")).join(f));
    let tokens = Tokens::load(token_file.as_deref())?;
    // Before the first message: counters emitted before a recorder exists are lost.
    crate::admin::metrics::install();
    let records = config.parent().unwrap_or(Path::new(".")).join(&table.file.shadow.records);
    let gateway = Gateway::new(table, Some(&records));
    let reloader = Arc::new(Reloader::new(gateway.clone(), config));
    // Checked here, where it will be written, not by `ficus check` (which may run elsewhere): a
    // named audit log that cannot be written refuses the start; the default one warns.
    if let Err(e) = reloader.audit().writable() {
        if gateway.table().file.gateway.audit_log.is_some() {
            return Err(format!("[gateway] audit_log: cannot write {e}: changes would go unaudited"));
        }
        tracing::warn!(error = %e, "the audit log cannot be written: changes will be applied but NOT audited \
            (set [gateway] audit_log to a writable path, e.g. a volume beside a read-only ConfigMap)");
    }
    // Every port is bound before anything starts: a port in use fails the start as a whole.
    let listen = |what: &str, addr: Option<String>| addr.map(|a| bind_shared(what, &a, options.takeover)).transpose();
    let admin_listener = listen("admin", admin_addr)?;
    let http_listener = listen("listen_http", http_addr)?;
    let tcp_listener = listen("listen_tcp", tcp_addr)?;
    let mut channel_listeners = Vec::new();
    for c in &gateway.table().file.channels {
        let what = |key: &str| format!("[[channels]] {:?} {key}", c.name);
        let tcp = listen(&what("listen_tcp"), c.listen_tcp.clone())?;
        let http = listen(&what("listen_http"), c.listen_http.clone())?;
        let max_in_flight = gateway.table().channel(&c.name).map_or(1, |p| p.limits.max_in_flight);
        channel_listeners.push((c.name.clone(), tcp, http, max_in_flight));
    }
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
        channels: Vec::new(),
        stop,
        tasks: Vec::new(),
        _watch: None,
    };
    if let Some(listener) = admin_listener {
        let bound = listener.local_addr().map_err(|e| e.to_string())?;
        crate::admin::check_bind(&bound, &tokens)?;
        running.admin = Some(bound);
        let history = Arc::new(crate::admin::history::History::new(gateway.tallies.clone()));
        running.tasks.push(tokio::spawn(crate::admin::history::run_sampler(
            history.clone(),
            gateway.clone(),
            shutdown.clone(),
        )));
        let peers = options.peers.clone();
        let admin = Arc::new(Admin { reloader: reloader.clone(), tokens, history, peers, heavy: Default::default() });
        running.tasks.push(tokio::spawn(crate::admin::api::serve(listener, admin, shutdown.clone())));
    }
    if let Some(listener) = http_listener {
        running.http = listener.local_addr().ok();
        let (listener_label, name) = (Arc::from("http"), Arc::from(DEFAULT_CHANNEL));
        let channel =
            Channel { gateway: gateway.clone(), admission: admission.clone(), drain, listener: listener_label, name };
        running.tasks.push(tokio::spawn(http::serve(listener, channel, shutdown.clone())));
    }
    if let Some(listener) = tcp_listener {
        running.tcp = listener.local_addr().ok();
        let (listener_label, name) = (Arc::from("tcp"), Arc::from(DEFAULT_CHANNEL));
        let channel =
            Channel { gateway: gateway.clone(), admission: admission.clone(), drain, listener: listener_label, name };
        running.tasks.push(tokio::spawn(tcp::serve(listener, channel, shutdown.clone())));
    }
    for (name, tcp_listener, http_listener, max_in_flight) in channel_listeners {
        let admission = Arc::new(admission::Admission::new(max_in_flight));
        let channel = |listener: &str| Channel {
            gateway: gateway.clone(),
            admission: admission.clone(),
            drain,
            listener: Arc::from(listener),
            name: Arc::from(name.as_str()),
        };
        let mut addrs = ChannelAddrs { name: name.clone(), tcp: None, http: None };
        if let Some(listener) = tcp_listener {
            addrs.tcp = listener.local_addr().ok();
            running.tasks.push(tokio::spawn(tcp::serve(listener, channel("tcp"), shutdown.clone())));
        }
        if let Some(listener) = http_listener {
            addrs.http = listener.local_addr().ok();
            running.tasks.push(tokio::spawn(http::serve(listener, channel("http"), shutdown.clone())));
        }
        running.channels.push(addrs);
    }
    if let Some(plan) = gateway.table().journal.clone() {
        // The schema is made now, so the first write does not; an unreachable store is said
        // loudly but stops nothing: reads go on, and journaled writes are refused (or passed).
        match tokio::time::timeout(std::time::Duration::from_secs(5), plan.store.ready()).await {
            Ok(Ok(())) => tracing::info!(store = plan.store.display(), "transaction journal ready"),
            Ok(Err(e)) => {
                warn!(error = %e, "transaction journal unavailable: journaled writes are refused until it is back")
            }
            Err(_) => warn!(
                store = plan.store.display(),
                "transaction journal did not answer in 5 s: journaled writes are refused until it does"
            ),
        }
    }
    let gw = gateway.clone();
    let current = move || gw.table().journal.as_ref().map(|p| (p.store.clone(), p.retention));
    running.tasks.push(tokio::spawn(crate::journal::sweep::run(current, shutdown.clone())));
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
        // Shadow records on their way to a shared store are written before the process goes.
        self.gateway.shadow.flush(std::time::Duration::from_secs(2)).await;
    }
}
