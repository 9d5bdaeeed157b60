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
    let parsed: SocketAddr = addr
        .parse()
        .map_err(|e| format!("{what} address {addr:?}: {e}"))?;
    TcpListener::bind(parsed)
        .await
        .map_err(|e| format!("cannot listen on {addr} ({what}): {e}"))
}

/// A signal that the server should stop accepting.
pub type Shutdown = tokio::sync::watch::Receiver<bool>;
