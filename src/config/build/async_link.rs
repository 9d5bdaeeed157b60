//! Building a `tcp-async` upstream: its `send` address, its `receive` side (exactly one of
//! `listen` or `connect`), its `match` fields (header fields at fixed offsets) and `hold_ms`,
//! each refused with a message naming the key and the value when it cannot work.
//!
//! A listen address must be an IP address and a port (a name cannot be listened on); for a
//! gateway about to start it is also tried once, so an address this machine does not have, or a
//! privileged port, is refused by `ficus check` rather than found when the host cannot connect
//! (an address in use is not refused: it may be this gateway's own, a reload or a takeover away).

use super::Builder;
use crate::frame::Framing;
use crate::header::HeaderLayout;
use crate::route::file::{ReceiveSpec, UpstreamSection};
use crate::route::UpstreamEntry;
use crate::upstream::async_link::{AsyncLink, LinkConfig, Receive, DEFAULT_HOLD};
use crate::upstream::{Correlation, Limits, Upstream};
use std::net::SocketAddr;
use std::time::Duration;

impl Builder<'_> {
    /// The `tcp-async` upstream `name`, or `None` with the problems recorded.
    pub(super) fn async_link(
        &mut self,
        name: &str,
        s: &UpstreamSection,
        framing: Option<Framing>,
        limits: Limits,
    ) -> Option<Upstream> {
        let section = format!("upstreams.{name}");
        let send = self.async_send(&section, s.send.as_deref());
        let receive = self.async_receive(&section, s.receive.as_ref());
        let key = self.match_fields(&section, &s.match_fields);
        if s.hold_ms == Some(0) {
            let why = "hold_ms must be at least 1: a key is held after its exchange so a late or repeated reply is \
                       recognised and never given to a new request with the same key";
            self.problem(&section, Some("hold_ms"), why.into());
            return None;
        }
        if s.poll.is_some() {
            // Reported by the poll check ("poll is for tcp upstreams").
            return None;
        }
        let header = self.link_header.as_ref();
        let correlation = header?.message_id_span().map(|(offset, len)| Correlation { offset, len });
        let config = LinkConfig {
            send: send?,
            receive: receive?,
            framing: framing?,
            key: key?,
            correlation,
            hold: s.hold_ms.map_or(DEFAULT_HOLD, Duration::from_millis),
            max_reply_bytes: limits.max_reply_bytes,
            connect_timeout: limits.connect_timeout,
        };
        Some(Upstream::TcpAsync(AsyncLink::new(name, config, limits)))
    }

    fn async_send(&mut self, section: &str, send: Option<&str>) -> Option<String> {
        let Some(send) = send else {
            let why = "a tcp-async upstream needs send = \"host:port\" (where ficus connects and writes requests)";
            self.problem(section, Some("kind"), why.into());
            return None;
        };
        if send.rsplit_once(':').and_then(|(h, p)| p.parse::<u16>().ok().filter(|p| *p != 0 && !h.is_empty())).is_none()
        {
            self.problem(section, Some("send"), format!("send = {send:?} is not host:port"));
            return None;
        }
        Some(send.to_string())
    }

    fn async_receive(&mut self, section: &str, receive: Option<&ReceiveSpec>) -> Option<Receive> {
        let spec = match receive {
            Some(ReceiveSpec { listen: Some(l), connect: None }) => Receive::Listen(l.clone()),
            Some(ReceiveSpec { listen: None, connect: Some(c) }) => Receive::Connect(c.clone()),
            Some(_) => {
                let why = "receive needs exactly one of listen = \"ip:port\" (the host connects to ficus) or \
                           connect = \"host:port\" (ficus connects to the host)";
                self.problem(section, Some("receive"), why.into());
                return None;
            }
            None => {
                let why = "a tcp-async upstream needs receive = { listen = \"ip:port\" } or \
                           receive = { connect = \"host:port\" } (where replies arrive)";
                self.problem(section, Some("kind"), why.into());
                return None;
            }
        };
        match &spec {
            Receive::Listen(address) => {
                let Ok(at) = address.parse::<SocketAddr>() else {
                    let why = format!(
                        "receive listen = {address:?} is not ip:port (a listen address is an IP address of this \
                         machine, or 0.0.0.0 for all, and a port)"
                    );
                    self.problem(section, Some("receive"), why);
                    return None;
                };
                if self.starting && at.port() != 0 {
                    if let Err(e) = std::net::TcpListener::bind(at) {
                        if e.kind() != std::io::ErrorKind::AddrInUse {
                            self.problem(
                                section,
                                Some("receive"),
                                format!("receive listen = {address:?}: cannot listen: {e}"),
                            );
                            return None;
                        }
                    }
                }
            }
            Receive::Connect(address) => {
                if address.rsplit_once(':').and_then(|(_, p)| p.parse::<u16>().ok().filter(|p| *p != 0)).is_none() {
                    self.problem(section, Some("receive"), format!("receive connect = {address:?} is not host:port"));
                    return None;
                }
            }
        }
        Some(spec)
    }

    /// The `match` fields: header fields at fixed offsets, text or fixed-point numbers.
    fn match_fields(&mut self, section: &str, names: &[String]) -> Option<Vec<(String, usize, usize)>> {
        if names.is_empty() {
            let why = "a tcp-async upstream needs match = [\"HEADER-FIELD\", ...]: the header fields whose bytes a \
                       reply carries back to say which request it answers (e.g. the sequence number)";
            self.problem(section, Some("kind"), why.into());
            return None;
        }
        // A header that did not build has said why.
        let header = self.link_header.clone()?;
        let mut fields = Vec::new();
        for name in names {
            match header.codec.plan().lookup(name) {
                Ok(leaf) if header.codec.plan().slides(leaf) => {
                    let why =
                        format!("match: {} follows a table whose size varies, so it has no fixed offset", leaf.path);
                    self.problem(section, Some("match"), why);
                }
                Ok(leaf) => fields.push((leaf.path.to_string(), leaf.offset as usize, leaf.len as usize)),
                Err(e) => self.problem(section, Some("match"), format!("match: {e} (the [header] copybook)")),
            }
        }
        (fields.len() == names.len()).then_some(fields)
    }
}

/// True when an entry of an earlier table reads its match fields where a link built now with
/// `header` would (a header copybook that changed moves them): only then may it be reused.
pub(super) fn same_match(entry: &UpstreamEntry, header: Option<&HeaderLayout>) -> bool {
    let Upstream::TcpAsync(link) = &entry.upstream else { return true };
    let Some(header) = header else { return false };
    link.config().key.iter().all(|(name, offset, len)| {
        header.codec.plan().lookup(name).is_ok_and(|l| (l.offset as usize, l.len as usize) == (*offset, *len))
    }) && link.config().correlation.map(|c| (c.offset, c.len)) == header.message_id_span()
}
