//! Whether a route's shadow compares anything. A shadow is sent only to a side that did not
//! answer the message, so a shadow that points at the side now answering — after a flip, a
//! rollback, or a canary to the shadow's upstream — silently compares nothing (or only part),
//! while routes.toml and the dashboard still show it. This module names those cases so the
//! admin API, `ficus routes`, `ficus check` and the dashboard can say so, and decides the one
//! turn-around every client asks for ([`turn_around`], applied by the admin API's change).

use crate::route::{Route, RouteTable};
use serde_json::{Map, Value};

/// The key of a `PUT /routes/{op}` body asking the gateway to turn the route's shadow around
/// when the change makes its shadow the target ([`turn_around`]). Not a route key: it is taken
/// out of the patch before the patch is applied.
pub const SHADOW_FOLLOWS: &str = "shadow_follows";

/// The turn-around for a change `patch` to route `op` of `table` (the table it applies to): when
/// the patch sets a new `target` that is the route's shadow and says nothing of `shadow`, the
/// shadow would compare nothing; point it at the side that answered before, so replies are still
/// compared. Not for a write whose previous target is the host (a write is never shadowed to the
/// host: the change's warning says what to run). Returns the new shadow and the sentence saying so.
pub fn turn_around(table: &RouteTable, op: &str, patch: &Map<String, Value>) -> Option<(String, String)> {
    let new_target = patch.get("target")?.as_str()?;
    if patch.contains_key("shadow") {
        return None;
    }
    let route = table.routes.get(op)?;
    let shadow = &route.shadow.as_ref()?.to.name;
    let old = &route.target.name;
    if shadow != new_target || old == new_target {
        return None;
    }
    let read_only = match patch.get("read_only") {
        Some(Value::Bool(b)) => *b,
        _ => route.read_only,
    };
    if !read_only && route.target.upstream.is_bytes() {
        return None;
    }
    let said = format!(
        "shadow turned around: {op} now shadows {old} (the side that answered before), so replies are still \
         compared; --keep-shadow (or no \"{SHADOW_FOLLOWS}\") leaves it on {new_target}"
    );
    Some((old.clone(), said))
}

/// How much of a route's traffic its shadow compares, when not all of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ShadowUse {
    /// Nothing is compared: the reason.
    Idle(String),
    /// Only part is compared: which part is not.
    Partial(String),
}

impl ShadowUse {
    /// The reason, as people read it.
    pub fn message(&self) -> &str {
        match self {
            ShadowUse::Idle(m) | ShadowUse::Partial(m) => m,
        }
    }
}

/// How much route `op`'s shadow compares: `None` when it has no shadow or compares every
/// sampled message.
pub fn shadow_use(table: &RouteTable, op: &str) -> Option<ShadowUse> {
    let route = table.routes.get(op)?;
    let shadow = route.shadow.as_ref()?;
    let name = &shadow.to.name;
    let settings = &shadow.to.settings;
    let capacity = settings.shadow_connections.unwrap_or(settings.max_connections / 2);
    if !route.enabled {
        return Some(ShadowUse::Idle("the route is disabled: nothing is compared".into()));
    }
    if shadow.threshold == 0 {
        return Some(ShadowUse::Idle("shadow_percent is 0: nothing is compared".into()));
    }
    if capacity.min(settings.max_connections.saturating_sub(1)) == 0 {
        return Some(ShadowUse::Idle(format!(
            "upstream {name} takes no shadows (shadow_connections = 0, or max_connections = 1): nothing is compared"
        )));
    }
    let canary = route.canary.as_ref().filter(|c| c.threshold > 0);
    let percent = route.file_canary_percent(table).unwrap_or_default();
    match (route.target.name == *name, canary) {
        (true, None) => Some(ShadowUse::Idle(format!("shadow {name} is the target: nothing is compared"))),
        (true, Some(c)) if c.to.name == *name => {
            Some(ShadowUse::Idle(format!("shadow {name} is the target and the canary's: nothing is compared")))
        }
        (true, Some(c)) => Some(ShadowUse::Partial(format!(
            "shadow {name} is the target: only the {percent}% canary share (served by {}) is compared",
            c.to.name
        ))),
        (false, Some(c)) if c.to.name == *name => Some(ShadowUse::Partial(format!(
            "shadow {name} is the canary's upstream: its {percent}% share is not compared"
        ))),
        _ => None,
    }
}

/// The side a shadow of `route` could point at instead of `shadow`: the default target (the
/// legacy host) when a shadow may go there, else another upstream answering JSON.
fn other_side<'t>(table: &'t RouteTable, route: &Route, shadow: &str) -> Option<&'t str> {
    let mut names: Vec<&String> = table.upstreams.keys().filter(|n| n.as_str() != shadow).collect();
    names.sort();
    let default = &table.default_target.name;
    let allowed = |n: &&String| route.read_only || !table.upstreams[n.as_str()].upstream.is_bytes();
    let preferred = (default != shadow).then_some(default).filter(allowed);
    preferred.or_else(|| names.into_iter().find(allowed)).map(String::as_str)
}

/// One warning for route `op` if its shadow does not compare everything it samples, with what
/// to run about it; `None` otherwise (and for a disabled route: the kill switch is no surprise).
pub fn shadow_warning(table: &RouteTable, op: &str) -> Option<String> {
    let reason = shadow_use(table, op)?;
    let route = &table.routes[op];
    if !route.enabled {
        // The kill switch says it all; `ficus routes` and the dashboard still show the shadow idle.
        return None;
    }
    let shadow = &route.shadow.as_ref()?.to.name;
    let turn = match other_side(table, route, shadow) {
        Some(other) if route.target.name == *shadow => format!("`ficus route {op} --shadow {other}` turns it around, "),
        _ => String::new(),
    };
    let write = if route.read_only || !table.default_target.upstream.is_bytes() {
        String::new()
    } else {
        format!(" ({op} is a write: it is never shadowed to the host {})", table.default_target.name)
    };
    let hint = match &reason {
        ShadowUse::Idle(_) if route.shadow.as_ref().is_some_and(|s| s.threshold == 0) => {
            format!("`ficus route {op} --shadow-percent N` samples again")
        }
        // A canary to the shadow's upstream: the rest is still compared, and removing the shadow
        // would lose that. Nothing to do until the flip.
        ShadowUse::Partial(_) if route.target.name != *shadow => {
            let rest = 100.0 - route.file_canary_percent(table).unwrap_or_default();
            let target = &route.target.name;
            let flip = if write.is_empty() {
                format!("; on the flip (`ficus route {op} --target {shadow}`) the shadow turns around to {target}")
            } else {
                write.clone()
            };
            format!("the other {rest}% (served by {target}) is still compared: keep the shadow{flip}")
        }
        _ => format!("{turn}`ficus route {op} --no-shadow` removes it{write}"),
    };
    Some(format!("{op}: {}; {hint}", reason.message()))
}

/// [`shadow_warning`] for every route of `table`, in operation order.
pub fn shadow_warnings(table: &RouteTable) -> Vec<String> {
    let mut ops: Vec<&String> = table.routes.keys().collect();
    ops.sort();
    ops.into_iter().filter_map(|op| shadow_warning(table, op)).collect()
}
