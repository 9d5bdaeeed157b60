//! The per-route pieces of building a table: sticky canary fields, shadow settings (with the
//! write-safety rules) and comparison rules.

use super::Builder;
use crate::codec::decimal::Decimal;
use crate::codec::Codec;
use crate::header::HeaderLayout;
use crate::route::file::{RouteSection, UpstreamKind, UpstreamSection};
use crate::route::ShadowRoute;
use crate::route::{StickyField, UpstreamEntry};
use crate::shadow::compare::Rules;
use crate::shadow::paths::PathPattern;
use crate::shadow::Comparison;
use std::sync::Arc;
use std::time::Duration;

/// Whether a route's replies can be compared, for its shadow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Comparable {
    /// Its comparison is built.
    Yes,
    /// It names no response layout: a problem of the shadow.
    NoLayouts,
    /// Its layouts or header did not build: already reported, not the shadow's problem.
    Failed,
}

impl Builder<'_> {
    /// Compiles a route's comparison rules with lenient copies of its layouts.
    pub(super) fn comparison(
        &mut self,
        r: &RouteSection,
        header: &HeaderLayout,
        response: &Codec,
        section: &str,
    ) -> Option<Arc<Comparison>> {
        self.field_paths(r, header, (response, r.response.as_deref().unwrap_or("the response")), section);
        let mut tolerance = Vec::new();
        for (path, t) in &r.tolerance {
            match format!("{t}").parse::<Decimal>() {
                Ok(d) if !d.negative => tolerance.push((PathPattern::new(path), d)),
                _ => self.problem(section, Some("tolerance"), format!("tolerance for {path} must be a number ≥ 0")),
            }
        }
        // A paged inquiry's continuation key is each system's own token: never a difference.
        let next_key = r.continuation.iter().map(|c| &c.reply_key);
        let ignore = r.ignore.iter().chain(next_key).map(|p| PathPattern::new(p)).collect();
        let rules = Rules { ignore, tolerance, response_code: header.response_code_name().to_string() };
        let mask = r.mask.iter().map(|p| PathPattern::new(p)).collect();
        let (header, response) = (Arc::new(header.codec.lenient()), Arc::new(response.lenient()));
        Some(Arc::new(Comparison { rules, mask, header, response }))
    }

    /// Validates a route's shadow: writes only as a dry run to a JSON service, never to the host.
    /// The rules are checked even when the shadow's upstream (`to`) or the route's layouts did
    /// not build: those problems are reported elsewhere, this one is its own.
    pub(super) fn shadow(
        &mut self,
        r: &RouteSection,
        (name, settings, to): (&str, &UpstreamSection, Option<Arc<UpstreamEntry>>),
        comparable: Comparable,
        section: &str,
    ) -> Option<ShadowRoute> {
        if comparable == Comparable::NoLayouts {
            self.problem(
                section,
                Some("shadow"),
                "shadow needs request and response layouts to compare replies".into(),
            );
        }
        let dry_run = match (r.read_only, r.shadow_writes.as_deref()) {
            (true, None) => false,
            (true, Some(_)) => {
                self.problem(
                    section,
                    Some("shadow_writes"),
                    "shadow_writes is only for operations that are not read_only".into(),
                );
                return None;
            }
            (false, Some("dry-run")) if settings.kind == UpstreamKind::HttpJson => true,
            (false, Some("dry-run")) => {
                let why = format!("{name} is the legacy side: a write is never sent to the host twice, dry run or not");
                self.problem(section, Some("shadow"), why);
                return None;
            }
            (false, Some(other)) => {
                self.problem(
                    section,
                    Some("shadow_writes"),
                    format!("shadow_writes = {other:?}: the only value is \"dry-run\""),
                );
                return None;
            }
            (false, None) => {
                let why = "this operation is a write (not read_only): shadow it only with shadow_writes = \"dry-run\"";
                self.problem(section, Some("shadow"), why.into());
                return None;
            }
        };
        let percent = r.shadow_percent.unwrap_or(100.0);
        if !(0.0..=100.0).contains(&percent) {
            self.problem(section, Some("shadow_percent"), format!("shadow_percent {percent} must be 0 to 100"));
            return None;
        }
        let to = to.filter(|_| comparable == Comparable::Yes)?;
        let timeout = Duration::from_millis(r.shadow_timeout_ms.unwrap_or(to.settings.timeout_ms));
        Some(ShadowRoute { to, threshold: (percent * 100.0).round() as u32, dry_run, timeout })
    }

    /// Finds a sticky field in the request body layout, else in the header.
    pub(super) fn sticky(
        &mut self,
        name: &str,
        request: Option<&Codec>,
        header: Option<&HeaderLayout>,
        section: &str,
    ) -> Option<StickyField> {
        use crate::codec::lookup::LookupError;
        let header_size = header.map_or(0, |h| h.size);
        // A name in both layouts, or twice in one, is refused with every path it matches.
        let body = request.map(|r| r.plan().lookup(name));
        let head = header.map(|h| h.codec.plan().lookup(name));
        match (body, head) {
            (Some(Err(e @ (LookupError::Ambiguous { .. } | LookupError::Syntax(_)))), _)
            | (_, Some(Err(e @ (LookupError::Ambiguous { .. } | LookupError::Syntax(_))))) => {
                self.problem(section, Some("canary"), format!("sticky field: {e}"));
                None
            }
            (Some(Ok(b)), Some(Ok(h))) => {
                let why = format!(
                    "sticky field {name} is in the request layout ({}) and in the header ({}); write the dotted path \
                     of one",
                    b.path, h.path
                );
                self.problem(section, Some("canary"), why);
                None
            }
            (Some(Ok(leaf)), _) if request.is_some_and(|r| r.plan().slides(leaf)) => {
                let why = format!(
                    "sticky field {}: it follows a table whose size varies (OCCURS DEPENDING ON), so it has no fixed \
                     offset and a customer would not keep their side",
                    leaf.path
                );
                self.problem(section, Some("canary"), why);
                None
            }
            (Some(Ok(leaf)), _) => {
                Some(StickyField { offset: header_size + leaf.offset as usize, len: leaf.len as usize })
            }
            (_, Some(Ok(leaf))) => Some(StickyField { offset: leaf.offset as usize, len: leaf.len as usize }),
            (body, head) => {
                // Why it was not found (a group, a table element, a path through FILLER).
                let note = [body, head]
                    .into_iter()
                    .flatten()
                    .find_map(|r| match r {
                        Err(LookupError::NotFound { note, .. }) if !note.is_empty() => Some(note),
                        _ => None,
                    })
                    .unwrap_or_default();
                self.problem(
                    section,
                    Some("canary"),
                    format!("sticky field {name} is neither in the request layout nor in the header{note}"),
                );
                None
            }
        }
    }
}
