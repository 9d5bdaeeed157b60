//! `ficus routes` and the admin API client under `ficus route` (in [`super::route_change`]):
//! the migration team's commands, talking to a running gateway's admin API (`--admin URL`,
//! token from `FICUS_ADMIN_TOKEN`). A change is sent with `If-Match` naming the table it was
//! decided on, so it never overwrites a change made in between: the gateway answers 412 and
//! the command says who serves the route now.

use super::CliError;
use crate::admin::auth::TOKEN_ENV;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// Where a command finds the gateway's admin API, and how that was decided (printed with every
/// change, so a change never lands on another gateway unnoticed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AdminUrl {
    /// The base URL, `http://host:port`.
    pub url: String,
    /// Where it came from, for people: `--admin`, `[gateway] admin of PATH`, the default.
    pub from: String,
}

/// The admin API's base URL: `--admin`/`FICUS_ADMIN` if given, else `[gateway] admin` of the
/// routes file (read as plain TOML, so a file that does not validate still tells), else — only
/// when no routes file was named and there is none here — http://127.0.0.1:9901.
///
/// Errors: a routes file named by `--config` or `FICUS_CONFIG` that does not exist, or one that
/// does not say where its admin API is (a typo must never send a rollback to another gateway).
pub fn admin_url(admin: Option<String>, config: &std::path::Path) -> Result<AdminUrl, CliError> {
    let base = |url: String| {
        let url = url.trim().trim_end_matches('/').to_string();
        if url.starts_with("http://") || url.starts_with("https://") {
            url
        } else {
            format!("http://{url}")
        }
    };
    let admin = admin.map(|a| a.trim().to_string());
    if admin.as_deref().is_some_and(|a| a.starts_with("https://")) {
        return Err(CliError::runtime(
            "the admin API speaks plain HTTP (keep it on loopback or behind your TLS proxy): give http://HOST:PORT or HOST:PORT",
        ));
    }
    if let Some(url) = admin {
        let from = if std::env::var("FICUS_ADMIN").is_ok_and(|v| v == url) { "FICUS_ADMIN" } else { "--admin" };
        return Ok(AdminUrl { url: base(url), from: from.into() });
    }
    let named =
        config != std::path::Path::new("routes.toml") || std::env::var_os(super::config_path::CONFIG_ENV).is_some();
    let text = match std::fs::read_to_string(config) {
        Ok(text) => text,
        Err(_) if !named && !config.exists() => {
            return Ok(AdminUrl {
                url: "http://127.0.0.1:9901".into(),
                from: "the default (no routes.toml here)".into(),
            })
        }
        Err(e) => {
            let hint = super::config_path::missing(config).unwrap_or_else(|| format!("{}: {e}", config.display()));
            return Err(CliError::runtime(format!("cannot tell which gateway to talk to: {hint}")));
        }
    };
    let found = match text.parse::<toml::Table>() {
        Ok(doc) => doc.get("gateway").and_then(|g| g.get("admin")).and_then(|a| a.as_str()).map(String::from),
        // A syntax error elsewhere (a typo being fixed) must not send a rollback to another
        // gateway: find `admin = "…"` under `[gateway]` line by line.
        Err(_) => scan_admin(&text),
    };
    match found {
        Some(url) => Ok(AdminUrl { url: base(url), from: format!("[gateway] admin of {}", config.display()) }),
        None => Err(CliError::runtime(format!(
            "{} does not say where its gateway's admin API is ([gateway] admin): give --admin URL (or FICUS_ADMIN)",
            config.display()
        ))),
    }
}

/// `admin = "…"` (or `'…'`) in the `[gateway]` table of a routes.toml that does not parse.
fn scan_admin(text: &str) -> Option<String> {
    let mut in_gateway = false;
    for line in text.lines().map(|l| l.trim().trim_start_matches('\u{feff}')) {
        if let Some(header) = line.strip_prefix('[') {
            let name = header.split(']').next().unwrap_or("").trim();
            in_gateway = name == "gateway";
            continue;
        }
        let Some(rest) = line.strip_prefix("admin").map(str::trim_start) else { continue };
        if let (true, Some(value)) = (in_gateway, rest.strip_prefix('=')) {
            let value = value.trim();
            let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
            return value[1..].split(quote).next().map(String::from);
        }
    }
    None
}

/// A route's shadow as `ficus routes` shows it: upstream, share, and whether it compares.
pub(super) fn shadow_cell(route: &Value) -> String {
    let Some(name) = route["shadow"].as_str() else { return "-".into() };
    let percent = route["shadow_percent"].as_f64().unwrap_or(100.0);
    let state = if route["shadow_idle"].is_string() {
        "IDLE"
    } else if route["shadow_partial"].is_string() {
        "comparing part"
    } else {
        "comparing"
    };
    format!("{name} {percent}% {state}")
}

/// A route as people read it: its mode and who serves it.
pub(super) fn describe(route: &Value) -> String {
    let mode = route["mode"].as_str().unwrap_or("?");
    match route["target"].as_str() {
        Some(target) if mode != target => format!("{mode} (target {target})"),
        _ => mode.to_string(),
    }
}

pub(super) async fn call(method: hyper::Method, url: &str, body: Option<Value>) -> Result<(u16, Value), CliError> {
    call_if(method, url, body, None).await
}

/// [`call`] with `If-Match: "<hash>"` when `if_match` is given.
pub(super) async fn call_if(
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
    // An empty token is no token: the gateway then says one is required, not that it is wrong.
    if let Some(secret) = token_secret() {
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
        .map_err(|e| {
            CliError::runtime(format!(
                "{url}: {} (is the gateway running? --admin sets the address)",
                crate::admin::fleet::error_chain(&e)
            ))
        })?;
    let status = resp.status().as_u16();
    let bytes = resp
        .into_body()
        .collect()
        .await
        .map_err(|e| CliError::runtime(crate::admin::fleet::error_chain(&e)))?
        .to_bytes();
    match serde_json::from_slice(&bytes) {
        Ok(value) => Ok((status, value)),
        // Every admin API reply is JSON: this is something else, often a channel port.
        Err(_) => {
            let text = String::from_utf8_lossy(&bytes[..bytes.len().min(120)]).trim().to_string();
            Err(CliError::runtime(format!(
                "{url} answered HTTP {status} ({text:?}), which is not ficus's admin API: is --admin (or \
                 FICUS_ADMIN, or [gateway] admin) the channel port? The admin API is the address in [gateway] admin."
            )))
        }
    }
}

/// The secret to send from `FICUS_ADMIN_TOKEN` (`secret` or `name:secret,…`: the first one's
/// secret); `None` when unset or empty.
fn token_secret() -> Option<String> {
    let token = std::env::var(TOKEN_ENV).ok()?;
    let secret = token.split(',').next().unwrap_or("").rsplit(':').next().unwrap_or("").trim().to_string();
    (!secret.is_empty()).then_some(secret)
}

pub(super) fn runtime() -> Result<tokio::runtime::Runtime, CliError> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| CliError::runtime(e.to_string()))
}

pub(super) fn failure(status: u16, v: &Value) -> CliError {
    let mut message = format!("HTTP {status}: {}", v["error"].as_str().unwrap_or("failed"));
    for p in v["problems"].as_array().into_iter().flatten() {
        let at = p["line"].as_u64().map(|l| format!("line {l}: ")).unwrap_or_default();
        message.push_str(&format!("\n  {at}{}", p["message"].as_str().unwrap_or("")));
    }
    // The gateway's 401 names the fix when a token was sent; say it once when none was.
    if status == 401 && token_secret().is_none() {
        message.push_str(&format!("\n  ({TOKEN_ENV} is not set, or empty: set it to an admin token)"));
    }
    CliError::runtime(message)
}

/// Rows under a header, each column `min` wide or as wide as its widest cell (in characters),
/// then a space, so no cell runs into the next column; the last column is not padded.
pub(super) fn columns<const N: usize>(header: &[&str; N], min: [usize; N], rows: &[[String; N]]) -> String {
    let mut width = min;
    for (w, h) in width.iter_mut().zip(header) {
        *w = (*w).max(h.chars().count());
    }
    for row in rows {
        for (w, cell) in width.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == N {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$} ", w = width[i]));
            }
        }
        out.trim_end().to_string() + "\n"
    };
    let mut out = line(header.to_vec());
    for row in rows {
        out.push_str(&line(row.iter().map(String::as_str).collect()));
    }
    out
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
    let mut rows = Vec::new();
    let mut idle = Vec::new();
    for (op, r) in v["routes"].as_object().into_iter().flatten() {
        let mut flags = vec![if r["enabled"] == Value::Bool(false) { "DISABLED" } else { "enabled" }];
        if r["read_only"] == Value::Bool(true) {
            flags.push("read-only");
        }
        let capture = r["capture"]["percent"].as_f64().map(|p| format!("capture {p}%"));
        flags.extend(capture.as_deref());
        let s = |k: &str| r[k].as_str().unwrap_or("-").to_string();
        rows.push([op.clone(), s("mode"), s("target"), s("fallback"), shadow_cell(r), flags.join(", ")]);
        for key in ["shadow_idle", "shadow_partial"] {
            if let Some(why) = r[key].as_str() {
                idle.push(format!("{op}: {why}"));
            }
        }
    }
    let header = ["OP", "MODE", "TARGET", "FALLBACK", "SHADOW", "FLAGS"];
    print!("{}", columns(&header, [10, 24, 10, 10, 24, 0], &rows));
    for line in idle {
        println!("  {line}");
    }
    let reload = &v["reload"];
    if let Some(e) = reload["last_error"].as_str() {
        println!("\nlast reload was REJECTED (the table above is still serving):\n{e}");
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
        let url = |admin: Option<&str>| admin_url(admin.map(String::from), &config).map(|a| a.url);
        assert!(url(None).is_err(), "a named routes file that is missing: which gateway is unknown");
        std::fs::write(&config, "[gateway]\nadmin = \"127.0.0.1:19901\"\n[routes.X]\ntargt = 1\n").unwrap();
        assert_eq!(url(None).unwrap(), "http://127.0.0.1:19901");
        assert_eq!(url(Some("http://10.0.0.1:9/")).unwrap(), "http://10.0.0.1:9");
        assert!(url(Some("https://10.0.0.1:9")).is_err(), "no TLS client: say so, never http://https://");
        // A syntax error elsewhere in the file (an unclosed string) does not hide the address.
        let typo = "[gateway]\nadmin = \"127.0.0.1:19902\"   # admin API\nadmin_token_file = \"t\"\n[routes.A]\ntarget = \"legacy\n";
        std::fs::write(&config, typo).unwrap();
        assert_eq!(url(None).unwrap(), "http://127.0.0.1:19902");
        // Literal strings and spaced headers are TOML too.
        std::fs::write(&config, "[ gateway ]\nadmin='127.0.0.1:19903'\n[routes.A]\ntarget = \"legacy\n").unwrap();
        assert_eq!(url(None).unwrap(), "http://127.0.0.1:19903");
        // No admin under [gateway]: an error, never the default gateway.
        std::fs::write(&config, "[routes.A]\nadmin = \"x\"\n[gateway\n").unwrap();
        let err = admin_url(None, &config).unwrap_err().message;
        assert!(err.contains("--admin"), "{err}");
    }

    #[test]
    fn a_long_cell_widens_its_column_instead_of_running_into_the_next() {
        let rows = [["ACCTINQ".to_string(), "accounts 100% comparing part".to_string(), "enabled".to_string()]];
        let text = columns(&["OP", "SHADOW", "FLAGS"], [10, 24, 0], &rows);
        let lines: Vec<&str> = text.lines().collect();
        let flags_at = lines[0].find("FLAGS").unwrap();
        assert_eq!(lines[1].find("enabled"), Some(flags_at), "{text}");
        assert!(lines[1].contains("part enabled"), "{text}");
        assert!(lines[0].starts_with("OP         SHADOW "), "the usual widths stay: {text}");
    }
}
