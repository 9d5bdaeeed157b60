//! `[[channels]]` (and `[gateway]`'s listeners as the channel `default`) → [`ChannelPlan`]s:
//! names (unique, a bounded label), listener addresses (parse, one port each across every
//! listener, not an upstream), code page, framing, heartbeat and limits; and for a channel whose
//! code page is not the host's, the header's and each route's conversions both ways, compiled
//! once per code page. A layout that cannot be converted is a problem naming the channel, the
//! route and the layout. Every problem found here names its `[[channels]]` entry.
//!
//! On reload, a channel's listener addresses and the set of channels are fixed (they are bound
//! sockets): a change is refused with "only on a restart".

use super::Builder;
use crate::codec::charset::CodePage;
use crate::codec::convert::Conversion;
use crate::frame::{Digits, Framing};
use crate::header::{HeaderLayout, Heartbeat};
use crate::route::channel::{ChannelConversion, ChannelPlan, RouteConversion, DEFAULT_CHANNEL, MAX_CHANNEL_NAME};
use crate::route::file::{ChannelSection, LimitsSection, RoutesFile};
use crate::route::{Route, RouteTable};
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;

/// What the default channel is made of (`[gateway]`'s settings, already built).
pub(super) struct DefaultParts {
    pub framing: Option<Framing>,
    pub heartbeat: Option<Heartbeat>,
}

/// Which conversions a channel can share with another: its code page, and the header bytes its
/// framing keeps raw.
type ConversionKey = (&'static str, Option<(usize, usize)>);

/// The header bytes (offset, length) where `framing` keeps a binary or BCD length: not text,
/// whatever the field's picture says, so they are copied as they are.
fn raw_length_span(framing: &Framing) -> Option<(usize, usize)> {
    framing.field_span().filter(|_| matches!(framing.digits(), Digits::Binary | Digits::BinaryLe | Digits::Bcd))
}

/// The `[[channels]]` section name used to place a problem on its `name = ...` line.
fn section_of(name: &str) -> String {
    format!("channels.{name}")
}

impl Builder<'_> {
    /// Runs `f`, then prefixes every problem it recorded with `[[channels]] "NAME"`.
    fn in_channel<T>(&mut self, name: &str, f: impl FnOnce(&mut Self) -> T) -> T {
        let before = self.problems.len();
        let out = f(self);
        for p in &mut self.problems[before..] {
            if !p.message.starts_with("[[channels]]") {
                p.message = format!("[[channels]] {name:?}: {}", p.message);
            }
        }
        out
    }

    /// Each `[[channels]]` entry's framing (`None`: refused, or the host's default), built
    /// before the header adopts length rules: a channel on the host's code page passes messages
    /// untouched, so its length field must agree with the others.
    pub(super) fn channel_framings(
        &mut self,
        file: &RoutesFile,
        header: Option<&HeaderLayout>,
        host: CodePage,
    ) -> Vec<Option<Framing>> {
        let mut out = Vec::new();
        for c in &file.channels {
            let page = CodePage::from_name(c.codepage.as_deref().unwrap_or(&file.gateway.codepage)).unwrap_or(host);
            let spec = c.framing.clone().unwrap_or_else(|| file.gateway.tcp_framing.clone());
            let section = section_of(&c.name);
            out.push(self.in_channel(&c.name, |b| b.framing(&spec, header, page, &section, "framing")));
        }
        out
    }

    /// Every channel of the table, `default` first. `framings` are [`Builder::channel_framings`].
    #[allow(clippy::too_many_arguments)]
    pub(super) fn channels(
        &mut self,
        file: &RoutesFile,
        header: Option<&HeaderLayout>,
        host: CodePage,
        default: DefaultParts,
        framings: Vec<Option<Framing>>,
        routes: &HashMap<String, Route>,
        previous: Option<&RouteTable>,
    ) -> Option<Vec<Arc<ChannelPlan>>> {
        self.channel_addresses(file);
        if let Some(running) = previous {
            self.channels_fixed(file, &running.file);
        }
        let mut plans = vec![Arc::new(ChannelPlan {
            name: DEFAULT_CHANNEL.into(),
            codepage: host,
            framing: default.framing?,
            heartbeat: default.heartbeat,
            limits: file.limits.clone(),
            conversion: None,
            ok_messages: Default::default(),
        })];
        let mut conversions: BTreeMap<ConversionKey, Arc<ChannelConversion>> = BTreeMap::new();
        let mut names: Vec<&str> = vec![DEFAULT_CHANNEL];
        let mut complete = true;
        for (c, framing) in file.channels.iter().zip(framings) {
            let plan = self.in_channel(&c.name, |b| {
                b.channel(c, file, header, host, framing, routes, &mut names, &mut conversions)
            });
            match plan {
                Some(p) => plans.push(Arc::new(p)),
                None => complete = false,
            }
        }
        complete.then_some(plans)
    }

    /// One `[[channels]]` entry.
    #[allow(clippy::too_many_arguments)]
    fn channel<'f>(
        &mut self,
        c: &'f ChannelSection,
        file: &RoutesFile,
        header: Option<&HeaderLayout>,
        host: CodePage,
        framing: Option<Framing>,
        routes: &HashMap<String, Route>,
        names: &mut Vec<&'f str>,
        conversions: &mut BTreeMap<ConversionKey, Arc<ChannelConversion>>,
    ) -> Option<ChannelPlan> {
        let section = section_of(&c.name);
        let name_ok = !c.name.is_empty()
            && c.name.len() <= MAX_CHANNEL_NAME
            && c.name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !name_ok {
            let why = format!(
                "name = {:?}: a channel name is a label in metrics and logs: 1 to {MAX_CHANNEL_NAME} letters, \
                 digits, '-' or '_'",
                c.name
            );
            self.problem(&section, Some("name"), why);
        } else if names.contains(&c.name.as_str()) {
            let why = if c.name == DEFAULT_CHANNEL {
                "name = \"default\" is [gateway]'s own listeners (listen_http, listen_tcp); choose another name".into()
            } else {
                format!("name = {:?} is used by another [[channels]] entry: names must be unique", c.name)
            };
            self.problem(&section, Some("name"), why);
        }
        names.push(&c.name);
        if c.listen_tcp.is_none() && c.listen_http.is_none() {
            self.problem(&section, None, "names no listener: set listen_tcp or listen_http (or both)".into());
        }
        let page_name = c.codepage.as_deref().unwrap_or(&file.gateway.codepage);
        let page = match CodePage::from_name(page_name) {
            Ok(p) => p,
            Err(e) => {
                self.problem(&section, Some("codepage"), format!("codepage: {e}"));
                return None;
            }
        };
        let heartbeat = match &c.heartbeat {
            Some(spec) => Some(self.heartbeat(spec, header, &file.routes, &section)?),
            None => None,
        };
        let mut limits = file.limits.clone();
        limits.max_message_bytes = c.max_message_bytes.unwrap_or(limits.max_message_bytes);
        limits.max_connections = c.max_connections.unwrap_or(limits.max_connections);
        limits.max_in_flight = c.max_in_flight.unwrap_or(limits.max_in_flight);
        limits.read_timeout_ms = c.read_timeout_ms.unwrap_or(limits.read_timeout_ms);
        limits.idle_timeout_ms = c.idle_timeout_ms.unwrap_or(limits.idle_timeout_ms);
        self.channel_limits(&limits, &section);
        let framing = framing?;
        let header = header?;
        // Shared by the channels on the same code page whose framings keep the same header bytes
        // raw: another framing (a binary length in a field that is text to this one) converts
        // the header differently.
        let key = (page.name(), raw_length_span(&framing));
        let conversion = if page == host {
            None
        } else if let Some(done) = conversions.get(&key) {
            Some(done.clone())
        } else {
            let built = Arc::new(self.conversion(header, &framing, page, host, routes, &c.name)?);
            conversions.insert(key, built.clone());
            Some(built)
        };
        Some(ChannelPlan {
            name: c.name.as_str().into(),
            codepage: page,
            framing,
            heartbeat,
            limits,
            conversion,
            ok_messages: Default::default(),
        })
    }

    fn channel_limits(&mut self, limits: &LimitsSection, section: &str) {
        for (key, value) in [
            ("max_message_bytes", limits.max_message_bytes as u64),
            ("max_connections", limits.max_connections as u64),
            ("max_in_flight", limits.max_in_flight as u64),
            ("read_timeout_ms", limits.read_timeout_ms),
            ("idle_timeout_ms", limits.idle_timeout_ms),
        ] {
            if value == 0 {
                self.problem(section, Some(key), format!("{key} = 0: it must be at least 1"));
            }
        }
    }

    /// The header's and every route's conversions between `page` (the channel's) and `host`.
    fn conversion(
        &mut self,
        header: &HeaderLayout,
        framing: &Framing,
        page: CodePage,
        host: CodePage,
        routes: &HashMap<String, Route>,
        channel: &str,
    ) -> Option<ChannelConversion> {
        // Bytes a framing keeps a binary or BCD length in are not text: kept as they are.
        let mut raw: Vec<(usize, usize)> = header.raw_lengths().to_vec();
        raw.extend(raw_length_span(framing));
        let section = section_of(channel);
        let fail = |b: &mut Self, what: String, e: crate::codec::convert::ConvertPlanError| {
            b.problem(&section, Some("codepage"), format!("cannot convert {what} between {page} and {host}: {e}"));
        };
        let header_conv = |from, to| -> Result<Conversion, crate::codec::convert::ConvertPlanError> {
            let mut c = Conversion::new(header.codec.plan(), from, to)?;
            for &(at, len) in &raw {
                c.keep_raw(at, len)?;
            }
            Ok(c)
        };
        let (to_host, to_channel) = match (header_conv(page, host), header_conv(host, page)) {
            (Ok(a), Ok(b)) => (a, b),
            (Err(e), _) | (_, Err(e)) => {
                fail(self, "the common header".into(), e);
                return None;
            }
        };
        let mut by_op = HashMap::new();
        let mut ok = true;
        let mut ops: Vec<&String> = routes.keys().collect();
        ops.sort();
        for op in ops {
            let route = &routes[op];
            let mut one = |codec: Option<&Arc<crate::codec::Codec>>, from, to, which: &str| match codec {
                None => None,
                Some(codec) => match Conversion::new(codec.plan(), from, to) {
                    Ok(c) => Some(c),
                    Err(e) => {
                        fail(self, format!("route {op}'s {which} layout {}", codec.plan().record), e);
                        ok = false;
                        None
                    }
                },
            };
            let request = one(route.request.as_ref(), page, host, "request");
            let response = one(route.response.as_ref(), host, page, "response");
            by_op.insert(op.clone(), RouteConversion { request, response });
        }
        ok.then_some(ChannelConversion {
            channel: page,
            host,
            header_to_host: to_host,
            header_to_channel: to_channel,
            routes: by_op,
        })
    }

    /// Every listener address of `[[channels]]` parses, no two listeners (these and
    /// `[gateway]`'s) share a port, and no upstream is one of them.
    fn channel_addresses(&mut self, file: &RoutesFile) {
        let g = &file.gateway;
        let mut bound: Vec<(String, SocketAddr)> = Vec::new();
        for (key, addr) in [("listen_http", &g.listen_http), ("listen_tcp", &g.listen_tcp), ("admin", &g.admin)] {
            if let Some(a) = addr.as_ref().and_then(|a| a.parse().ok()) {
                bound.push((format!("[gateway] {key}"), a));
            }
        }
        for c in &file.channels {
            let section = section_of(&c.name);
            for (key, addr) in [("listen_tcp", &c.listen_tcp), ("listen_http", &c.listen_http)] {
                let Some(a) = addr else { continue };
                let Ok(parsed) = a.parse::<SocketAddr>() else {
                    let why = format!("[[channels]] {:?}: {key} = {a:?} is not an address like 127.0.0.1:9100", c.name);
                    self.problem(&section, Some(key), why);
                    continue;
                };
                if let Some((other, at)) = bound.iter().find(|(_, b)| super::gateway::overlap(b, &parsed)) {
                    let why = format!(
                        "[[channels]] {:?}: {key} = \"{parsed}\" and {other} = \"{at}\" share port {}: each listener \
                         needs its own",
                        c.name,
                        parsed.port()
                    );
                    self.problem(&section, Some(key), why);
                }
                bound.push((format!("[[channels]] {:?} {key}", c.name), parsed));
            }
        }
        for (name, up) in &file.upstreams {
            let Some(text) = up.address.as_ref().or(up.url.as_ref()) else { continue };
            let Some(addr) = super::gateway::upstream_addr(text) else { continue };
            if let Some((key, at)) =
                bound.iter().find(|(k, b)| k.starts_with("[[") && super::gateway::overlap(b, &addr))
            {
                let which = if up.address.is_some() { "address" } else { "url" };
                let why =
                    format!("{which} = {text:?} is this gateway's own {key} ({at}): messages would loop back into it");
                self.problem(&format!("upstreams.{name}"), Some(which), why);
            }
        }
    }

    /// A reload keeps the running channels and their listener addresses (bound sockets).
    fn channels_fixed(&mut self, file: &RoutesFile, running: &RoutesFile) {
        let listed = |f: &RoutesFile| f.channels.iter().map(|c| c.name.clone()).collect::<Vec<_>>();
        let (now, before) = (listed(file), listed(running));
        if now != before {
            let why = format!(
                "the channels change only on a restart (running: [{}]; here: [{}]): a listener cannot be opened or \
                 closed by a reload",
                before.join(", "),
                now.join(", ")
            );
            self.problem("channels", None, why);
            return;
        }
        for (c, r) in file.channels.iter().zip(&running.channels) {
            for (key, new, old) in
                [("listen_tcp", &c.listen_tcp, &r.listen_tcp), ("listen_http", &c.listen_http, &r.listen_http)]
            {
                if new != old {
                    let why = format!(
                        "[[channels]] {:?}: {key} changes only on a restart (running: {}): a reload cannot move a \
                         bound listener",
                        c.name,
                        old.as_deref().unwrap_or("none")
                    );
                    self.problem(&section_of(&c.name), Some(key), why);
                }
            }
        }
    }
}
