//! `[gateway]` checks that `ficus serve` would otherwise meet only when it starts: listener
//! addresses that parse, at least one channel listener, no two listeners on one port (the
//! admin API and a channel on one address would split its connections, `--takeover` or not),
//! no upstream that is this gateway's own listener (messages would loop), and — for a gateway
//! about to start ([`super::load_to_serve`]) — an admin token file that can be read. One
//! validation path: `ficus check` and `ficus serve` refuse the same files.

use super::Builder;
use crate::route::file::RoutesFile;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::Path;

/// The listener keys of `[gateway]`, in the order they are written in the shipped files.
const LISTENERS: [&str; 3] = ["listen_http", "listen_tcp", "admin"];

/// True if sockets on `a` and `b` cannot both listen: one port (not 0), and one address or a
/// wildcard (`0.0.0.0`, `::`) on either side.
pub(super) fn overlap(a: &SocketAddr, b: &SocketAddr) -> bool {
    a.port() != 0 && a.port() == b.port() && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

/// `host:port` of an upstream address or URL, when the host is an IP address or `localhost`.
pub(super) fn upstream_addr(text: &str) -> Option<SocketAddr> {
    let rest = text.strip_prefix("http://").unwrap_or(text);
    let authority = rest.split('/').next()?;
    if let Some(port) = authority.strip_prefix("localhost:") {
        return Some(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port.parse().ok()?));
    }
    authority.parse().ok()
}

impl Builder<'_> {
    /// Checks `[gateway]`'s listeners and token file, and that no upstream is a listener.
    pub(super) fn gateway(&mut self, file: &RoutesFile, path: &Path) {
        let g = &file.gateway;
        let mut bound: Vec<(&str, SocketAddr)> = Vec::new();
        for (key, addr) in LISTENERS.into_iter().zip([&g.listen_http, &g.listen_tcp, &g.admin]) {
            let Some(a) = addr else { continue };
            let Ok(parsed) = a.parse::<SocketAddr>() else {
                self.problem("gateway", Some(key), format!("{key} = {a:?} is not an address like 127.0.0.1:8080"));
                continue;
            };
            if let Some((other, at)) = bound.iter().find(|(_, b)| overlap(b, &parsed)) {
                let why = format!(
                    "{key} = \"{parsed}\" and {other} = \"{at}\" share port {}: each listener needs its own \
                     (connections would be split between them, with or without --takeover)",
                    parsed.port()
                );
                self.problem("gateway", Some(key), why);
            }
            bound.push((key, parsed));
        }
        if g.listen_http.is_none() && g.listen_tcp.is_none() {
            let why = "[gateway] names no channel listener: set listen_http or listen_tcp (or both)";
            self.problem("gateway", None, why.into());
        }
        for (name, up) in &file.upstreams {
            let Some(text) = up.address.as_ref().or(up.url.as_ref()) else { continue };
            let Some(addr) = upstream_addr(text) else { continue };
            if let Some((key, at)) = bound.iter().find(|(_, b)| overlap(b, &addr)) {
                let which = if up.address.is_some() { "address" } else { "url" };
                let why =
                    format!("{which} = {text:?} is this gateway's own {key} ({at}): messages would loop back into it");
                self.problem(&format!("upstreams.{name}"), Some(which), why);
            }
        }
        // Read once, at start (a reload does not read it again).
        if let Some(tokens) = g.admin_token_file.as_ref().filter(|_| self.starting) {
            let file = path.parent().unwrap_or(Path::new(".")).join(tokens);
            if let Err(e) = std::fs::read_to_string(&file) {
                let why = format!("admin_token_file = {tokens:?}: cannot read {}: {e}", file.display());
                self.problem("gateway", Some("admin_token_file"), why);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_overlap_on_one_address_or_a_wildcard() {
        let a = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert!(overlap(&a("127.0.0.1:8080"), &a("127.0.0.1:8080")));
        assert!(overlap(&a("0.0.0.0:8080"), &a("127.0.0.1:8080")));
        assert!(!overlap(&a("127.0.0.1:8080"), &a("127.0.0.2:8080")));
        assert!(!overlap(&a("127.0.0.1:0"), &a("127.0.0.1:0")), "port 0: the kernel picks two");
        assert_eq!(upstream_addr("http://localhost:7002/ops"), Some(a("127.0.0.1:7002")));
        assert_eq!(upstream_addr("legacy.bank:7001"), None);
    }
}
