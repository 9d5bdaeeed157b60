//! Building a route's `continuation` (paged inquiries, 연속조회): the key fields found in the
//! request and response layouts (or the header, where a link keeps its continuation key) at fixed
//! offsets, and the rules: a `[journal]` to keep the pins in, a read-only route, both layouts.

use super::Builder;
use crate::codec::ops::LeafKind;
use crate::codec::Codec;
use crate::header::HeaderLayout;
use crate::journal::{Continuation, KeyField, OnUnknownKey};
use crate::route::file::{ContinuationSpec, RouteSection, RoutesFile};
use std::time::Duration;

impl Builder<'_> {
    /// Compiles `r.continuation`, if any; `None` (with a problem said) when it cannot hold.
    pub(super) fn continuation(
        &mut self,
        r: &RouteSection,
        file: &RoutesFile,
        (header, request, response): (Option<&HeaderLayout>, Option<&Codec>, Option<&Codec>),
        section: &str,
    ) -> Option<Continuation> {
        let spec: &ContinuationSpec = r.continuation.as_ref()?;
        let key = Some("continuation");
        if file.journal.is_none() {
            let why = "continuation needs a [journal] section: its store keeps which upstream serves each \
                       conversation's next page, for every replica";
            self.problem(section, key, why.into());
            return None;
        }
        if !r.read_only {
            let why = "continuation is for paged inquiries (read_only = true); a write is one message";
            self.problem(section, key, why.into());
            return None;
        }
        if r.request.is_none() || r.response.is_none() {
            let why = "continuation needs the route's request and response layouts (its keys are fields of them)";
            self.problem(section, key, why.into());
            return None;
        }
        let on_unknown = match spec.unknown.as_str() {
            "refuse" => OnUnknownKey::Refuse,
            "route" => OnUnknownKey::Route,
            other => {
                let why = format!("continuation unknown = {other:?}: use \"refuse\" (the default) or \"route\"");
                self.problem(section, key, why);
                return None;
            }
        };
        if spec.ttl_s == 0 {
            self.problem(section, key, "continuation ttl_s must be at least 1 (seconds)".into());
            return None;
        }
        // Layouts that did not build have said why.
        let (header, request, response) = (header?, request?, response?);
        let request_key = self.continuation_field(&spec.request_key, request, header, section, "request")?;
        let reply_key = self.continuation_field(&spec.reply_key, response, header, section, "response")?;
        if let Some(why) = mismatch(&reply_key, &request_key) {
            self.problem(section, key, why);
            return None;
        }
        let mut scope = Vec::new();
        for name in &spec.scope {
            scope.push(self.continuation_field(name, request, header, section, "request")?);
        }
        Some(Continuation { request_key, reply_key, ttl: Duration::from_secs(spec.ttl_s), scope, on_unknown })
    }

    /// A key field of the body layout (after the header), else of the header.
    fn continuation_field(
        &mut self,
        name: &str,
        body: &Codec,
        header: &HeaderLayout,
        section: &str,
        side: &str,
    ) -> Option<KeyField> {
        let layout = format!("the {side} layout");
        if body.plan().lookup(name).is_err() && header.codec.plan().lookup(name).is_ok() {
            return self.key_field(name, &header.codec, 0, section, "continuation", "the header");
        }
        self.key_field(name, body, header.size, section, "continuation", &layout)
    }
}

/// Why a key the reply hands out could not come back whole in the request's field: every next
/// page would be refused (FC26) as a key ficus never issued.
fn mismatch(reply: &KeyField, request: &KeyField) -> Option<String> {
    let (r, q) = (&reply.name, &request.name);
    if !reply.same_category(request) {
        return Some(format!(
            "continuation reply_key {r} and request_key {q} must both be text or both numbers: \
             a key read one way never matches the same bytes read the other"
        ));
    }
    let digits = |k: &KeyField| match k.kind {
        LeafKind::Zoned { digits, scale, .. }
        | LeafKind::Packed { digits, scale, .. }
        | LeafKind::Binary { digits, scale, .. } => Some((digits, scale)),
        _ => None,
    };
    match (digits(reply), digits(request)) {
        (Some((rd, rs)), Some((qd, qs))) if rd > qd || rs != qs => Some(format!(
            "continuation reply_key {r} ({rd} digits, {rs} decimals) does not fit request_key {q} ({qd} digits, \
             {qs} decimals): make them the same picture"
        )),
        (None, None) if reply.len > request.len => Some(format!(
            "continuation reply_key {r} ({} bytes) is longer than request_key {q} ({} bytes): a key the channel \
             cuts to fit is one ficus never handed out",
            reply.len, request.len
        )),
        _ => None,
    }
}
