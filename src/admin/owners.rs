//! The owner table through the admin API: `POST /owners/move` moves a batch of accounts' writes
//! to an upstream (or back, `"rollback": true`), `GET /owners/{account}` shows who owns one.
//!
//! A move is the journal's ([`crate::journal::owners`]): writes in flight for the accounts finish
//! first, new ones wait (bounded by `[journal] move_wait_ms`), then the owner changes — in the
//! store, so every replica sharing it follows at once. An applied move is audited beside the
//! route changes (who, to, how many, the first keys, the wait); a refused one (no `[journal]`, an
//! unknown upstream, writes still in flight when the wait ran out) changes nothing and, like a
//! refused route change, leaves no audit entry: it is logged and counted
//! (`ficus_owner_moves_total{result}`).

use super::api::Admin;
use crate::control::audit::AuditEntry;
use crate::journal::owners::{MoveError, MoveTo};
use hyper::StatusCode;
use serde_json::{json, Value};
use tracing::{info, warn};

/// Most accounts one `POST /owners/move` may name (`ficus owners move` sends batches of 1000).
pub const MAX_KEYS: usize = 5000;

/// How many of a move's accounts its audit entry names.
const AUDIT_KEYS: usize = 10;

type Reply = super::dashboard::Reply;

fn reply(status: StatusCode, value: &Value) -> Reply {
    super::dashboard::text(status, "application/json", serde_json::to_vec_pretty(value).unwrap_or_default())
}

fn error(status: StatusCode, message: impl Into<String>) -> Reply {
    reply(status, &json!({ "error": message.into() }))
}

fn no_journal() -> Reply {
    error(
        StatusCode::CONFLICT,
        "routes.toml has no [journal]: the owner table lives in the journal's store. Add [journal] store = \
         \"sqlite:journal.db\" (or a postgres:// URL shared by every replica) and owner_key on the routes to move",
    )
}

/// What a move asks, read from its body.
struct MoveRequest {
    to: MoveTo,
    keys: Vec<String>,
}

fn parse(body: &Value, known: &[&str]) -> Result<MoveRequest, String> {
    let Value::Object(m) = body else {
        return Err("body must be a JSON object: {\"to\": UPSTREAM, \"keys\": [..]}".into());
    };
    if let Some(k) = m.keys().find(|k| !["to", "rollback", "keys"].contains(&k.as_str())) {
        return Err(format!("unknown key {k:?}: a move takes \"to\" or \"rollback\", and \"keys\""));
    }
    let rollback = match m.get("rollback") {
        None | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(other) => return Err(format!("\"rollback\" must be true or false, not {other}")),
    };
    let to = match (m.get("to"), rollback) {
        (Some(_), true) => return Err("give \"to\" or \"rollback\": true, not both".into()),
        (None, true) => MoveTo::Previous,
        (Some(Value::String(name)), false) if known.contains(&name.as_str()) => MoveTo::Upstream(name.clone()),
        (Some(Value::String(name)), false) => {
            return Err(format!("no upstream {name:?} in the running table; known: {}", known.join(", ")))
        }
        (Some(other), false) => return Err(format!("\"to\" must be an upstream's name, not {other}")),
        (None, false) => {
            return Err(
                "say where: \"to\": UPSTREAM (one of: {}), or \"rollback\": true".replace("{}", &known.join(", "))
            )
        }
    };
    let Some(Value::Array(list)) = m.get("keys") else {
        return Err("\"keys\" must be an array of accounts (the owner_key field's values)".into());
    };
    let mut keys = Vec::with_capacity(list.len());
    for (i, k) in list.iter().enumerate() {
        match k.as_str().map(str::trim) {
            Some(s) if !s.is_empty() => keys.push(s.to_string()),
            _ => return Err(format!("keys[{i}] is {k}: each account is a non-empty string")),
        }
    }
    if keys.is_empty() {
        return Err("\"keys\" is empty: name at least one account".into());
    }
    if keys.len() > MAX_KEYS {
        return Err(format!("{} keys in one request; at most {MAX_KEYS} (send batches)", keys.len()));
    }
    keys.sort_unstable();
    keys.dedup();
    Ok(MoveRequest { to, keys })
}

/// `POST /owners/move` by the token holder `who`.
pub async fn move_owners(admin: &Admin, body: &Value, who: String) -> Reply {
    let reloader = &admin.reloader;
    let table = reloader.gateway().table();
    let Some(plan) = table.journal.clone() else { return no_journal() };
    let mut known: Vec<&str> = table.upstreams.keys().map(String::as_str).collect();
    known.sort_unstable();
    let request = match parse(body, &known).and_then(|r| canonical_request(&table, r)) {
        Ok(r) => r,
        Err(why) => {
            metrics::counter!("ficus_owner_moves_total", "result" => "rejected").increment(1);
            return error(StatusCode::BAD_REQUEST, why);
        }
    };
    let to_name = match &request.to {
        MoveTo::Upstream(name) => Some(name.clone()),
        MoveTo::Previous => None,
    };
    // Accounts already owned by `to` stay as they are: moving them again would overwrite the
    // owner they had before (what a rollback returns to), so a batch can be re-run safely.
    let (keys, already) = match &request.to {
        MoveTo::Upstream(name) => match already_there(&plan.store, request.keys, name).await {
            Ok(split) => split,
            Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, format!("{e}: nothing moved")),
        },
        MoveTo::Previous => (request.keys, 0),
    };
    let requested = keys.len() + already;
    if keys.is_empty() {
        return reply(
            StatusCode::OK,
            &json!({ "moved": 0, "already": already, "requested": requested, "waited_ms": 0, "to": to_name,
                     "rollback": false }),
        );
    }
    match plan.store.move_owners(&keys, &request.to, &who, plan.move_wait).await {
        Ok(report) => {
            info!(who = %who, to = ?to_name, requested, already, moved = report.moved,
                waited_ms = report.waited_ms as u64, "owners moved");
            metrics::counter!("ficus_owner_moves_total", "result" => "applied").increment(1);
            metrics::counter!("ficus_owner_accounts_moved_total").increment(report.moved as u64);
            let mut entry = AuditEntry::now(who, "api", table.generation, &table.hash, &Default::default());
            entry.owners = Some(json!({
                "to": to_name,
                "rollback": to_name.is_none(),
                "requested": requested,
                "moved": report.moved,
                "already": already,
                "keys": keys.iter().take(AUDIT_KEYS).collect::<Vec<_>>(),
                "waited_ms": report.waited_ms as u64,
            }));
            let audit_error = reloader.audited(reloader.audit().append(&entry));
            reply(
                StatusCode::OK,
                &json!({
                    "moved": report.moved,
                    "already": already,
                    "requested": requested,
                    "waited_ms": report.waited_ms as u64,
                    "to": to_name,
                    "rollback": to_name.is_none(),
                    "audit_error": audit_error,
                }),
            )
        }
        Err(e @ MoveError::InFlight { .. }) => {
            warn!(who = %who, to = ?to_name, error = %e, "owner move refused");
            metrics::counter!("ficus_owner_moves_total", "result" => "refused").increment(1);
            error(
                StatusCode::CONFLICT,
                format!("{e} (writes still in flight: try again, or raise [journal] move_wait_ms)"),
            )
        }
        Err(e @ MoveError::Busy { .. }) => {
            warn!(who = %who, to = ?to_name, error = %e, "owner move refused");
            metrics::counter!("ficus_owner_moves_total", "result" => "refused").increment(1);
            error(StatusCode::CONFLICT, e.to_string())
        }
        Err(MoveError::Store(e)) => {
            warn!(who = %who, error = %e, "owner move failed: journal store");
            metrics::counter!("ficus_owner_moves_total", "result" => "failed").increment(1);
            error(StatusCode::SERVICE_UNAVAILABLE, format!("{e}: nothing moved"))
        }
    }
}

/// Splits `keys` into those not yet owned by `to` (or being moved) and how many already are.
async fn already_there(
    store: &crate::journal::Store,
    keys: Vec<String>,
    to: &str,
) -> Result<(Vec<String>, usize), crate::journal::StoreError> {
    let (mut rest, mut already) = (Vec::with_capacity(keys.len()), 0);
    for key in keys {
        match store.owner(&key).await? {
            Some(o) if o.upstream == to && o.moving_to.is_none() => already += 1,
            _ => rest.push(key),
        }
    }
    Ok((rest, already))
}

/// The field the routes read accounts from (every `owner_key` reads alike: `ficus check`
/// refuses a mix of text and numbers), if any route has one.
fn owner_field(table: &crate::route::RouteTable) -> Option<&crate::journal::KeyField> {
    let mut routes: Vec<_> = table.routes.values().collect();
    routes.sort_by(|a, b| a.op.cmp(&b.op));
    routes.into_iter().find_map(|r| r.journal.as_ref()?.owner_key.as_ref())
}

/// The accounts of a move in the form the gateway reads them from messages (a number's leading
/// zeros dropped), so a moved account's writes do follow its new owner.
fn canonical_request(table: &crate::route::RouteTable, mut request: MoveRequest) -> Result<MoveRequest, String> {
    if let Some(field) = owner_field(table) {
        request.keys = request.keys.iter().map(|k| field.canonical(k)).collect::<Result<_, _>>()?;
        request.keys.sort_unstable();
        request.keys.dedup();
    }
    Ok(request)
}

/// Longest `GET /owners/{account}` waits for the journal's store.
const OWNER_READ: std::time::Duration = std::time::Duration::from_secs(3);

/// `GET /owners/{account}`: its owner row; `"owner": null` when the route decides.
pub async fn show(admin: &Admin, key: &str) -> Reply {
    let table = admin.reloader.gateway().table();
    let Some(plan) = table.journal.clone() else { return no_journal() };
    let key = match owner_field(&table).map(|f| f.canonical(key)) {
        Some(Err(why)) => return error(StatusCode::BAD_REQUEST, why),
        Some(Ok(k)) => k,
        None => key.to_string(),
    };
    let key = key.as_str();
    let mut routes: Vec<Value> = table
        .routes
        .values()
        .filter_map(|r| {
            let field = r.journal.as_ref()?.owner_key.as_ref()?;
            Some(json!({ "op": r.op, "owner_key": field.name, "target": r.target.name }))
        })
        .collect();
    routes.sort_by(|a, b| a["op"].as_str().cmp(&b["op"].as_str()));
    // Bounded: a hung store must not hold an admin connection (`/progress` waits 1 s likewise).
    let read = tokio::time::timeout(OWNER_READ, plan.store.owner(key)).await.unwrap_or_else(|_| {
        Err(crate::journal::StoreError::Failed {
            store: plan.store.display().to_string(),
            message: format!("no answer within {} s", OWNER_READ.as_secs()),
        })
    });
    match read {
        Ok(row) => {
            let owner = row.as_ref().map(|o| o.upstream.clone()).filter(|u| !u.is_empty());
            let none_if_empty = |v: Option<String>| v.filter(|s| !s.is_empty());
            reply(
                StatusCode::OK,
                &json!({
                    "key": key,
                    "owner": owner,
                    "previous": row.as_ref().and_then(|o| none_if_empty(o.previous.clone())),
                    "moving_to": row.as_ref().and_then(|o| o.moving_to.clone()),
                    "updated_ms": row.as_ref().map(|o| o.updated_ms),
                    "changed_by": row.as_ref().map(|o| o.changed_by.clone()),
                    "routes": routes,
                }),
            )
        }
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_move_names_one_known_upstream_or_a_rollback_and_some_accounts() {
        let known = ["accounts", "legacy"];
        let ok = parse(&json!({ "to": "accounts", "keys": ["2", "1", "2"] }), &known).unwrap();
        assert_eq!(ok.to, MoveTo::Upstream("accounts".into()));
        assert_eq!(ok.keys, ["1", "2"], "sorted, duplicates once");
        assert_eq!(parse(&json!({ "rollback": true, "keys": ["1"] }), &known).unwrap().to, MoveTo::Previous);
        let err = |v: Value| parse(&v, &known).err().unwrap();
        assert!(err(json!({ "to": "acounts", "keys": ["1"] })).contains("known: accounts, legacy"));
        assert!(err(json!({ "to": "accounts", "rollback": true, "keys": ["1"] })).contains("not both"));
        assert!(err(json!({ "keys": ["1"] })).contains("one of: accounts, legacy"));
        assert!(err(json!({ "to": "accounts", "keys": [] })).contains("empty"));
        assert!(err(json!({ "to": "accounts", "keys": [""] })).contains("keys[0]"));
        assert!(err(json!({ "to": "accounts", "keys": "1" })).contains("array"));
        assert!(err(json!({ "to": "accounts", "keys": ["1"], "force": true })).contains("\"force\""));
    }
}
