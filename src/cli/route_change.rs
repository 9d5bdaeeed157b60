//! `ficus route OP ...`: one change to one route of a running gateway, sent as one admin
//! `PUT /routes/{op}` with `If-Match`. The flags become a patch of `[routes.OP]` keys decided
//! on the route as read. A flip or rollback asks the gateway to turn the shadow around
//! (`"shadow_follows": true`, unless `--keep-shadow`): decided there, for the dashboard too, by
//! [`crate::config::shadow_idle::turn_around`]. A write is never shadowed to the host: its shadow
//! is left, and the gateway's warning says what to run.

use super::admin_cmds::{call, call_if, describe, failure, runtime, shadow_cell};
use super::CliError;
use crate::config::shadow_idle::SHADOW_FOLLOWS;
use serde_json::{json, Map, Value};

/// What `ficus route` changes.
#[derive(clap::Args, Debug, Default)]
pub struct RouteChange {
    /// The operation code.
    pub op: String,
    /// Serve it wholly from this upstream (removes any canary).
    #[arg(long, conflicts_with_all = ["canary", "rollback"])]
    pub target: Option<String>,
    /// Send this percentage of customers to the canary upstream.
    #[arg(long, conflicts_with = "rollback", value_parser = percent, allow_negative_numbers = true)]
    pub canary: Option<f64>,
    /// The canary's upstream (default: the current canary's).
    #[arg(long, requires = "canary")]
    pub to: Option<String>,
    /// The field that keeps a customer on one side (default: the current canary's).
    #[arg(long, requires = "canary")]
    pub sticky: Option<String>,
    /// Back to the default target (the legacy host), canary removed.
    #[arg(long)]
    pub rollback: bool,
    /// Mirror each message to UPSTREAM too and compare the replies field by field.
    #[arg(long, value_name = "UPSTREAM", conflicts_with = "no_shadow")]
    pub shadow: Option<String>,
    /// Stop shadowing (the comparison rules stay for later).
    #[arg(long)]
    pub no_shadow: bool,
    /// Share of messages mirrored to the shadow, 0–100 (default 100).
    #[arg(long, value_name = "N", value_parser = percent, allow_negative_numbers = true)]
    pub shadow_percent: Option<f64>,
    /// For a write (not read_only): shadow it as a dry run, which the service must honour
    /// (the request carries `Ficus-Shadow: dry-run`). Never to the host.
    #[arg(long, value_name = "MODE", value_parser = ["dry-run"])]
    pub shadow_writes: Option<String>,
    /// On --target/--rollback, leave the shadow where it is even if it becomes the target.
    #[arg(long)]
    pub keep_shadow: bool,
    /// Leave this field path out of comparisons (repeatable; `*` within a name, `[*]` any
    /// index): adds to the route's ignore list.
    #[arg(long, value_name = "FIELD")]
    pub ignore: Vec<String>,
    /// Compare this field path again: removes it from the ignore list (repeatable).
    #[arg(long, value_name = "FIELD")]
    pub no_ignore: Vec<String>,
    /// Record this percentage of requests and replies for `ficus replay`.
    #[arg(long, value_name = "PERCENT", conflicts_with = "no_capture", value_parser = percent, allow_negative_numbers = true)]
    pub capture: Option<f64>,
    /// Stop recording for replay.
    #[arg(long)]
    pub no_capture: bool,
    /// Serve the operation again (undoes --disable).
    #[arg(long, conflicts_with = "disable")]
    pub enable: bool,
    /// Kill switch: answer every message of the operation with its error reply.
    #[arg(long)]
    pub disable: bool,
}

/// The keys besides mode and target that a change may touch, shown before → after.
/// A share in percent: a finite number from 0 to 100 (NaN or infinity would reach the gateway
/// as JSON `null`, which removes the key instead of setting it).
fn percent(text: &str) -> Result<f64, String> {
    let value: f64 =
        text.trim().parse().map_err(|_| format!("{text:?} is not a number (a percentage from 0 to 100)"))?;
    if value.is_finite() && (0.0..=100.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("{text} is not a percentage from 0 to 100"))
    }
}

const SHOWN: [&str; 6] = ["shadow", "shadow_percent", "shadow_writes", "ignore", "capture", "enabled"];

/// The patch of `[routes.OP]` keys for `change`, decided on `before` (the route as read) and
/// `table` (`GET /routes`). Returns it with the lines to say once it is applied.
fn patch(change: &RouteChange, before: &Value, table: &Value) -> Result<(Map<String, Value>, Vec<String>), CliError> {
    let op = &change.op;
    let mut patch = Map::new();
    let mut said = Vec::new();
    if change.rollback {
        patch.insert("target".into(), table["default"].clone());
        patch.insert("canary".into(), Value::Null);
    }
    if let Some(t) = &change.target {
        patch.insert("target".into(), Value::from(t.as_str()));
        patch.insert("canary".into(), Value::Null);
    }
    if let Some(percent) = change.canary {
        let old = &before["canary"];
        let to = change.to.clone().or(old["to"].as_str().map(String::from));
        let sticky = change.sticky.clone().or(old["sticky"].as_str().map(String::from));
        let (Some(to), Some(sticky)) = (to, sticky) else {
            return Err(CliError::runtime(
                "a new canary needs --to UPSTREAM and --sticky FIELD (e.g. --to accounts --sticky ACCT-NO)",
            ));
        };
        patch.insert("canary".into(), json!({ "to": to, "percent": percent, "sticky": sticky }));
    }
    if let Some(s) = &change.shadow {
        patch.insert("shadow".into(), Value::from(s.as_str()));
    }
    if change.no_shadow {
        patch.insert("shadow".into(), Value::Null);
    }
    if let Some(p) = change.shadow_percent {
        patch.insert("shadow_percent".into(), json!(p));
    }
    if let Some(w) = &change.shadow_writes {
        patch.insert("shadow_writes".into(), Value::from(w.as_str()));
    }
    if !change.ignore.is_empty() || !change.no_ignore.is_empty() {
        let mut ignore: Vec<String> =
            before["ignore"].as_array().into_iter().flatten().filter_map(|v| v.as_str().map(String::from)).collect();
        for field in &change.no_ignore {
            let Some(at) = ignore.iter().position(|f| f == field) else {
                let list = if ignore.is_empty() { "it is empty".to_string() } else { ignore.join(", ") };
                return Err(CliError::runtime(format!(
                    "{field} is not in {op}'s ignore list ({list}): nothing was changed"
                )));
            };
            ignore.remove(at);
        }
        for field in &change.ignore {
            if !ignore.contains(field) {
                ignore.push(field.clone());
            }
        }
        patch.insert("ignore".into(), if ignore.is_empty() { Value::Null } else { json!(ignore) });
    }
    if let Some(p) = change.capture {
        patch.insert("capture".into(), json!({ "percent": p }));
    }
    if change.no_capture {
        patch.insert("capture".into(), Value::Null);
    }
    if change.enable || change.disable {
        patch.insert("enabled".into(), Value::Bool(change.enable));
    }
    checks(change, before, &patch, &mut said)?;
    // The turn-around is the gateway's to decide (the same for the dashboard), under its lock.
    if patch.contains_key("target") && !change.keep_shadow {
        patch.insert(SHADOW_FOLLOWS.into(), Value::Bool(true));
    }
    Ok((patch, said))
}

/// A change the gateway would take but that does not do what it says: refused, or said.
fn checks(
    change: &RouteChange,
    before: &Value,
    patch: &Map<String, Value>,
    said: &mut Vec<String>,
) -> Result<(), CliError> {
    let op = &change.op;
    let after = |key: &str| patch.get(key).unwrap_or(&before[key]).clone();
    if change.capture == Some(0.0) {
        return Err(CliError::runtime(format!(
            "--capture 0 records nothing: to stop recording {op}, use --no-capture; nothing was changed"
        )));
    }
    if let (Some(canary), Some(target)) = (patch.get("canary").filter(|c| c.is_object()), after("target").as_str()) {
        if canary["to"].as_str() == Some(target) {
            return Err(CliError::runtime(format!(
                "{op}'s target is already {target}: a canary sends a share to another upstream (--to), and \
                 --target {target} serves it all; nothing was changed"
            )));
        }
    }
    if !after("shadow").is_string() {
        let has = if before["shadow"].is_string() { "will have" } else { "has" };
        if change.shadow_percent.is_some() || change.shadow_writes.is_some() {
            return Err(CliError::runtime(format!(
                "{op} {has} no shadow: --shadow-percent and --shadow-writes apply to one; add --shadow UPSTREAM; \
                 nothing was changed"
            )));
        }
        if !change.ignore.is_empty() {
            said.push(format!(
                "note: {op} {has} no shadow: the ignore list applies to `ficus replay` now, and to a shadow once one \
                 is set (--shadow UPSTREAM)"
            ));
        }
    }
    Ok(())
}

/// A key's value as people read it.
fn show(v: &Value) -> String {
    match v {
        Value::Null => "-".into(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `OP` has no route: the routes there are, and the one probably meant.
fn no_route(rt: &tokio::runtime::Runtime, admin: &str, op: &str) -> CliError {
    let table = rt.block_on(call(hyper::Method::GET, &format!("{admin}/routes"), None)).map(|(_, t)| t);
    let ops: Vec<String> =
        table.ok().and_then(|t| t["routes"].as_object().map(|r| r.keys().cloned().collect())).unwrap_or_default();
    let hint = super::fields::suggest(op, ops.iter().map(String::as_str))
        .map(|s| format!(" — did you mean {s}?"))
        .unwrap_or_default();
    let list = if ops.is_empty() { "none".to_string() } else { ops.join(", ") };
    CliError::runtime(format!(
        "no route for {op}{hint}\n  Routes: {list}. (Operation codes are case-sensitive; a new route is added in routes.toml.)"
    ))
}

/// `ficus route OP ...`: change one route and show the result.
pub fn route(admin: &str, change: RouteChange) -> Result<(), CliError> {
    let rt = runtime()?;
    let url = format!("{admin}/routes/{}", change.op);
    let (status, current) = rt.block_on(call(hyper::Method::GET, &url, None))?;
    if status == 404 {
        return Err(no_route(&rt, admin, &change.op));
    }
    if status != 200 {
        return Err(failure(status, &current));
    }
    let before = current["route"].clone();
    // The table this change is decided on; the gateway refuses it if another change came first.
    let hash = current["hash"].as_str().map(String::from);
    let (status, table) = rt.block_on(call(hyper::Method::GET, &format!("{admin}/routes"), None))?;
    if status != 200 {
        return Err(failure(status, &table));
    }
    let (patch, said) = patch(&change, &before, &table)?;
    if patch.is_empty() {
        return Err(CliError::runtime(
            "nothing to change: give --target, --canary, --rollback, --shadow, --ignore, --capture, --enable or \
             --disable (see ficus route --help)",
        ));
    }
    let (status, outcome) =
        rt.block_on(call_if(hyper::Method::PUT, &url, Some(Value::Object(patch)), hash.as_deref()))?;
    if status == 412 {
        let (_, now) = rt.block_on(call(hyper::Method::GET, &url, None))?;
        return Err(CliError::runtime(format!(
            "{op}: someone else changed the routes since they were read (now generation {}, hash {}); nothing was \
             changed.\n  {op} is now: {}\n  Check, then run the command again if it is still wanted.",
            outcome["generation"],
            outcome["hash"].as_str().unwrap_or("?"),
            now["route"]["mode"].as_str().unwrap_or("?"),
            op = change.op,
        )));
    }
    if status != 200 {
        return Err(failure(status, &outcome));
    }
    let (_, after) = rt.block_on(call(hyper::Method::GET, &url, None))?;
    let after = &after["route"];
    println!("{}: {}  →  {}", change.op, describe(&before), describe(after));
    for key in SHOWN {
        let (was, now) = (before.get(key).unwrap_or(&Value::Null), after.get(key).unwrap_or(&Value::Null));
        if was != now {
            println!("  {key}: {}  →  {}", show(was), show(now));
        }
    }
    if after["shadow"].is_string() {
        println!("  shadow now: {}", shadow_cell(after));
    }
    for line in said.iter().map(String::as_str).chain(outcome["turned"].as_str()) {
        println!("{line}");
    }
    if outcome["unchanged"] == Value::Bool(true) {
        println!("already so: nothing changed (generation {})", outcome["generation"]);
    } else {
        let written = if outcome["not_persisted"] == Value::Bool(true) {
            "running but NOT written to routes.toml (see the note)"
        } else {
            "written to routes.toml"
        };
        let audited = match outcome["audit_error"].as_str() {
            Some(why) => format!(", NOT audited: {why}"),
            None => " and audited".into(),
        };
        println!(
            "generation {} (hash {}), {written}{audited}",
            outcome["generation"],
            outcome["hash"].as_str().unwrap_or("")
        );
    }
    if let Some(kept) = outcome["kept_rejected"].as_str() {
        println!("the invalid routes.toml that was on disk is kept as {kept}");
    }
    if let Some(message) = outcome["message"].as_str() {
        println!("note: {message}");
    }
    for warning in outcome["warnings"].as_array().into_iter().flatten() {
        println!("warning: {}", warning.as_str().unwrap_or(""));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::percent;

    #[test]
    fn a_percentage_is_a_finite_number_from_0_to_100() {
        for ok in ["0", "10", "12.5", "100", " 50 "] {
            assert!(percent(ok).is_ok(), "{ok}");
        }
        for bad in ["NaN", "nan", "inf", "-inf", "-1", "100.01", "150", "", "ten", "1e400"] {
            assert!(percent(bad).is_err(), "{bad}");
        }
    }
}
