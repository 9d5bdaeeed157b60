//! The migration team's side door: the admin API (routes, flips, reload, audit, health), on
//! its own listener — loopback unless a token is configured — with Prometheus metrics, the
//! migration dashboard and the journal's owner table (per-account cut-over).

pub mod api;
pub mod auth;
pub mod dashboard;
pub mod fleet;
pub mod flight;
pub mod history;
pub mod listener;
pub mod markers;
pub mod metrics;
pub mod owners;
pub mod progress;
pub mod shadow_view;
pub mod stats;
pub mod status;

use std::net::SocketAddr;

/// Refuses an admin address that is not loopback unless tokens exist.
pub fn check_bind(addr: &SocketAddr, tokens: &auth::Tokens) -> Result<(), String> {
    if !addr.ip().is_loopback() && tokens.is_empty() {
        return Err(format!(
            "admin = \"{addr}\" is not a loopback address: set {} (or admin_token_file) first, or bind to 127.0.0.1",
            auth::TOKEN_ENV
        ));
    }
    Ok(())
}
