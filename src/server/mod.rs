//! Listeners: HTTP (hyper) and raw TCP (tokio), both feeding [`crate::gateway::Gateway`].
//!
//! Limits on message size, read and idle time and connection count live here; a connection
//! over the limit is refused at accept. `shutdown` is a watch channel every loop selects on.

pub mod http;
pub mod tcp;

use std::net::SocketAddr;
use tokio::net::TcpListener;

/// Binds `addr`, with a clear error naming what failed.
pub async fn bind(what: &str, addr: &str) -> Result<TcpListener, String> {
    let parsed: SocketAddr = addr.parse().map_err(|e| format!("{what} address {addr:?}: {e}"))?;
    TcpListener::bind(parsed).await.map_err(|e| format!("cannot listen on {addr} ({what}): {e}"))
}

/// A signal that the server should stop accepting.
pub type Shutdown = tokio::sync::watch::Receiver<bool>;

use crate::gateway::Gateway;
use crate::route::RouteTable;
use std::sync::Arc;
use tokio::task::JoinHandle;

/// A running gateway: its bound addresses and the handle to stop it.
pub struct Running {
    /// The gateway (route table and pipeline).
    pub gateway: Arc<Gateway>,
    /// Bound HTTP channel address, if any.
    pub http: Option<SocketAddr>,
    /// Bound TCP channel address, if any.
    pub tcp: Option<SocketAddr>,
    stop: tokio::sync::watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// Binds the listeners `table` names (port 0 picks a free port) and starts serving.
pub async fn start(table: RouteTable) -> Result<Running, String> {
    let http_addr = table.file.gateway.listen_http.clone();
    let tcp_addr = table.file.gateway.listen_tcp.clone();
    if http_addr.is_none() && tcp_addr.is_none() {
        return Err("routes.toml names no listener: set [gateway] listen_http or listen_tcp".into());
    }
    let gateway = Gateway::new(table);
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let mut running = Running { gateway: gateway.clone(), http: None, tcp: None, stop, tasks: Vec::new() };
    if let Some(addr) = http_addr {
        let listener = bind("listen_http", &addr).await?;
        running.http = listener.local_addr().ok();
        running.tasks.push(tokio::spawn(http::serve(listener, gateway.clone(), shutdown.clone())));
    }
    if let Some(addr) = tcp_addr {
        let listener = bind("listen_tcp", &addr).await?;
        running.tcp = listener.local_addr().ok();
        running.tasks.push(tokio::spawn(tcp::serve(listener, gateway.clone(), shutdown.clone())));
    }
    Ok(running)
}

impl Running {
    /// A receiver that fires when the gateway stops (for tasks started beside it).
    pub fn shutdown_signal(&self) -> Shutdown {
        self.stop.subscribe()
    }

    /// Stops accepting, lets open connections finish, and waits for the listeners to end.
    pub async fn stop(self) {
        let _ = self.stop.send(true);
        for task in self.tasks {
            let _ = task.await;
        }
    }
}
