//! What changed between two routes files: operations added, removed and changed (with the keys
//! before and after), for the reload log and the audit trail.

use crate::route::file::{RouteSection, RoutesFile};
use serde::Serialize;
use serde_json::Value;

/// One operation whose route changed.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RouteChange {
    /// The operation.
    pub op: String,
    /// Its route before (null if added).
    pub before: Value,
    /// Its route after (null if removed).
    pub after: Value,
}

/// The differences between two files.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Diff {
    /// Operations added.
    pub added: Vec<String>,
    /// Operations removed.
    pub removed: Vec<String>,
    /// Operations whose target changed.
    pub retargeted: Vec<String>,
    /// Every changed route with before and after.
    pub changes: Vec<RouteChange>,
    /// Something outside `[routes]` changed (upstreams, header, limits, default).
    pub other: bool,
}

impl Diff {
    /// True if nothing changed.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty() && !self.other
    }
}

fn json(r: Option<&RouteSection>) -> Value {
    r.and_then(|r| serde_json::to_value(r).ok()).unwrap_or(Value::Null)
}

/// Compares `before` and `after`.
pub fn diff(before: &RoutesFile, after: &RoutesFile) -> Diff {
    let mut d = Diff::default();
    for (op, route) in &after.routes {
        match before.routes.get(op) {
            None => d.added.push(op.clone()),
            Some(old) if old == route => continue,
            Some(old) if old.target != route.target => d.retargeted.push(op.clone()),
            Some(_) => {}
        }
        d.changes.push(RouteChange { op: op.clone(), before: json(before.routes.get(op)), after: json(Some(route)) });
    }
    for op in before.routes.keys().filter(|op| !after.routes.contains_key(*op)) {
        d.removed.push(op.clone());
        d.changes.push(RouteChange { op: op.clone(), before: json(before.routes.get(op)), after: Value::Null });
    }
    d.other = before.gateway != after.gateway
        || before.header != after.header
        || before.upstreams != after.upstreams
        || before.default != after.default
        || before.limits != after.limits;
    d
}
