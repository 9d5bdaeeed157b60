//! Shared by the link tests: the demo header's size, cp037 text, and the test routes with a
//! `[gateway] heartbeat` and an optional `poll` on `legacy`.

use crate::common::{routes_toml, Upstreams};
use ficus::codec::charset::{CodePage, Overflow};
use std::net::SocketAddr;

/// The demo header's size.
pub const HEADER: usize = 85;

/// `text` in cp037, padded to `width`.
pub fn cp037(text: &str, width: usize) -> Vec<u8> {
    let mut out = vec![0u8; width];
    CodePage::Cp037.encode_into(text, &mut out, Overflow::Error).unwrap();
    out
}

/// The test routes with `[gateway] heartbeat` and a poll on `legacy`.
pub fn link_routes(legacy: SocketAddr, poll: &str) -> String {
    let up = Upstreams { legacy: legacy.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
    routes_toml(&up, "legacy", "legacy", "")
        .replace(
            "tcp_framing = { length_prefix = 4 }",
            "tcp_framing = { length_prefix = 4 }\nheartbeat = { op = \"HEARTBT\", reply_code = \"0000\" }",
        )
        .replacen("max_connections = 8\n", &format!("max_connections = 8\n{poll}\n"), 1)
}
