//! `ficus routes` and `ficus route`: the migration team's commands, talking to a running
//! gateway's admin API (`--admin URL`, token from `FICUS_ADMIN_TOKEN`). A change is sent with
//! `If-Match` naming the table it was decided on, so it never overwrites a change made in
//! between: the gateway answers 412 and the command says who serves the route now.

use super::CliError;
use crate::admin::auth::TOKEN_ENV;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{json, Map, Value};

/// What `ficus route` changes.
pub struct RouteChange {
    /// The operation.
    pub op: String,
    /// New target upstream.
    pub target: Option<String>,
    /// New canary percentage.
    pub canary: Option<f64>,
    /// Upstream for the canary (default: the current canary's, else the first JSON upstream).
    pub to: Option<String>,
    /// Sticky field for the canary (default: the current canary's).
    pub sticky: Option<String>,
    /// Back to the default (legacy) target, canary removed.
    pub rollback: bool,
}

/// The admin API's base URL: `--admin`/`FICUS_ADMIN` if given, else `[gateway] admin` of the
/// routes file (read as plain TOML, so a file that does not validate still tells), else
/// http://127.0.0.1:9901.
pub fn admin_url(admin: Option<String>, config: &std::path::Path) -> String {
    let from_file = || {
        let text = std::fs::read_to_string(config).ok()?;
        match text.parse::<toml::Table>() {
            Ok(doc) => doc.get("gateway")?.get("admin")?.as_str().map(String::from),
            // A syntax error elsewhere (a typo being fixed) must not send a rollback to another
            // gateway: find `admin = "…"` under `[gateway]` line by line.
            Err(_) => scan_admin(&text),
        }
    };
    let url = admin.or_else(from_file).unwrap_or_else(|| "127.0.0.1:9901".into());
    if url.starts_with("http://") {
        url.trim_end_matches('/').to_string()
    } else {
        format!("http://{url}")
    }
}

/// `admin = "…"` in the `[gateway]` table of a routes.toml that does not parse.
fn scan_admin(text: &str) -> Option<String> {
    let mut in_gateway = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            in_gateway = line.trim_end_matches(|c: char| c != ']').trim() == "[gateway]";
            continue;
        }
        let Some(rest) = line.strip_prefix("admin").map(str::trim_start) else { continue };
        if let (true, Some(value)) = (in_gateway, rest.strip_prefix('=')) {
            let value = value.trim().strip_prefix('"')?;
            return value.split('"').next().map(String::from);
        }
    }
    None
}

/// A route as people read it: its mode and who serves it.
fn describe(route: &Value) -> String {
    let mode = route["mode"].as_str().unwrap_or("?");
    match route["target"].as_str() {
        Some(target) if mode != target => format!("{mode} (target {target})"),
        _ => mode.to_string(),
    }
}

async fn call(method: hyper::Method, url: &str, body: Option<Value>) -> Result<(u16, Value), CliError> {
    call_if(method, url, body, None).await
}

/// [`call`] with `If-Match: "<hash>"` when `if_match` is given.
async fn call_if(
    method: hyper::Method,
    url: &str,
    body: Option<Value>,
    if_match: Option<&str>,
) -> Result<(u16, Value), CliError> {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let mut req = hyper::Request::builder().method(method).uri(url);
    if let Some(hash) = if_match {
        req = req.header(hyper::header::IF_MATCH, format!("\"{hash}\""));
    }
    if let Ok(token) = std::env::var(TOKEN_ENV) {
        let secret = token.split(',').next().unwrap_or("").rsplit(':').next().unwrap_or("").trim().to_string();
        req = req.header(hyper::header::AUTHORIZATION, format!("Bearer {secret}"));
    }
    let body = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
    let req = req
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .body(Full::new(body))
        .map_err(|e| CliError::runtime(e.to_string()))?;
    let resp = tokio::time::timeout(std::time::Duration::from_secs(10), client.request(req))
        .await
        .map_err(|_| CliError::runtime(format!("{url}: no answer in 10 s")))?
        .map_err(|e| CliError::runtime(format!("{url}: {e} (is the gateway running? --admin sets the address)")))?;
    let status = resp.status().as_u16();
    let bytes = resp.into_body().collect().await.map_err(|e| CliError::runtime(e.to_string()))?.to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or_else(|_| json!({ "error": String::from_utf8_lossy(&bytes) }));
    Ok((status, value))
}

fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| CliError::runtime(e.to_string()))
}

fn failure(status: u16, v: &Value) -> CliError {
    let mut message = format!("HTTP {status}: {}", v["error"].as_str().unwrap_or("failed"));
    for p in v["problems"].as_array().into_iter().flatten() {
        message.push_str(&format!("\n  line {}: {}", p["line"], p["message"].as_str().unwrap_or("")));
    }
    if status == 401 || status == 403 {
        message.push_str(&format!("\n  (set {TOKEN_ENV} to an admin token)"));
    }
    CliError::runtime(message)
}

/// `ficus routes`: the live table.
pub fn routes(admin: &str) -> Result<(), CliError> {
    let (status, v) = runtime()?.block_on(call(hyper::Method::GET, &format!("{admin}/routes"), None))?;
    if status != 200 {
        return Err(failure(status, &v));
    }
    println!(
        "generation {}  hash {}  default → {}",
        v["generation"],
        v["hash"].as_str().unwrap_or(""),
        v["default"].as_str().unwrap_or("")
    );
    println!("{:<10} {:<24} {:<10} {:<10} FLAGS", "OP", "MODE", "TARGET", "FALLBACK");
    for (op, r) in v["routes"].as_object().into_iter().flatten() {
        let flags = [("read_only", "read-only"), ("enabled", "")]
            .iter()
            .filter_map(|(k, label)| match (k, &r[*k]) {
                (&"enabled", Value::Bool(false)) => Some("DISABLED"),
                (&"read_only", Value::Bool(true)) => Some(*label),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join(", ");
        let s = |k: &str| r[k].as_str().unwrap_or("-").to_string();
        println!("{:<10} {:<24} {:<10} {:<10} {}", op, s("mode"), s("target"), s("fallback"), flags);
    }
    let reload = &v["reload"];
    if let Some(e) = reload["last_error"].as_str() {
        println!("\nlast reload was REJECTED (the table above is still serving):\n{e}");
    }
    Ok(())
}

/// `ficus route OP ...`: change one route and show the result.
pub fn route(admin: &str, change: RouteChange) -> Result<(), CliError> {
    let rt = runtime()?;
    let url = format!("{admin}/routes/{}", change.op);
    let (status, current) = rt.block_on(call(hyper::Method::GET, &url, None))?;
    if status != 200 {
        return Err(failure(status, &current));
    }
    let before = current["route"].clone();
    // The table this change is decided on; the gateway refuses it if another change came first.
    let hash = current["hash"].as_str().map(String::from);
    let mut patch = Map::new();
    if change.rollback {
        let (_, table) = rt.block_on(call(hyper::Method::GET, &format!("{admin}/routes"), None))?;
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
    if patch.is_empty() {
        return Err(CliError::runtime("nothing to change: give --target, --canary or --rollback"));
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
    println!("{}: {}  →  {}", change.op, describe(&before), describe(&after["route"]));
    if outcome["unchanged"] == Value::Bool(true) {
        println!("already so: nothing changed (generation {})", outcome["generation"]);
    } else {
        let written = if outcome["not_persisted"] == Value::Bool(true) {
            "running but NOT written to routes.toml (see the note)"
        } else {
            "written to routes.toml"
        };
        println!(
            "generation {} (hash {}), {written} and audited",
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
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_admin_address_comes_from_the_flag_then_routes_toml_even_when_it_does_not_validate() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("routes.toml");
        assert_eq!(admin_url(None, &config), "http://127.0.0.1:9901", "no file: the default");
        std::fs::write(&config, "[gateway]\nadmin = \"127.0.0.1:19901\"\n[routes.X]\ntargt = 1\n").unwrap();
        assert_eq!(admin_url(None, &config), "http://127.0.0.1:19901");
        assert_eq!(admin_url(Some("http://10.0.0.1:9/".into()), &config), "http://10.0.0.1:9");
        // A syntax error elsewhere in the file (an unclosed string) does not hide the address.
        let typo = "[gateway]\nadmin = \"127.0.0.1:19902\"   # admin API\nadmin_token_file = \"t\"\n[routes.A]\ntarget = \"legacy\n";
        std::fs::write(&config, typo).unwrap();
        assert_eq!(admin_url(None, &config), "http://127.0.0.1:19902");
        std::fs::write(&config, "[routes.A]\nadmin = \"x\"\n[gateway\n").unwrap();
        assert_eq!(admin_url(None, &config), "http://127.0.0.1:9901", "only [gateway]'s admin counts");
    }
}
