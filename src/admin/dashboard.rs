//! The migration dashboard at `GET /` on the admin listener: one page, its HTML, script and
//! style embedded in the binary (no CDN, no build step; it works offline).
//!
//! The page is static; its script polls the admin API (`/routes`, `/stats` — with the
//! journal's unknown outcomes and duplicates when there is a journal —, `/audit`, `/shadow`,
//! and for the charts `/progress` and `/history`) every two seconds and calls
//! `PUT /routes/{op}` with the token the user types in. The charts are drawn by uPlot, vendored
//! under `dashboard/vendor/` with its licence (served as `/assets/uPlot.LICENSE`).
//! This module only serves the files and the text replies (`/metrics`, `/stats`); it holds no
//! state and changes nothing.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::{Response, StatusCode};

const INDEX: &str = include_str!("dashboard/index.html");
const SCRIPT: &str = include_str!("dashboard/app.js");
const STYLE: &str = include_str!("dashboard/style.css");
const HISTORY: &str = include_str!("dashboard/history.js");
/// uPlot 1.6.32 (MIT, <https://github.com/leeoniya/uPlot>), vendored from the npm package.
const UPLOT: &str = include_str!("dashboard/vendor/uPlot.iife.min.js");
const UPLOT_CSS: &str = include_str!("dashboard/vendor/uPlot.min.css");
const UPLOT_LICENSE: &str = include_str!("dashboard/vendor/uPlot.LICENSE");

/// Only the page's own files run: no inline script, nothing from elsewhere.
const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
                   connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The admin API's response type.
pub type Reply = Response<Full<Bytes>>;

/// A reply with `body` of `content_type`, never cached (the page and its data are live).
pub fn text(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Reply {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The dashboard page.
pub fn page() -> Reply {
    let mut r = text(StatusCode::OK, "text/html; charset=utf-8", INDEX);
    let h = r.headers_mut();
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    r
}

/// One of the page's files under `/assets/`, or 404.
pub fn asset(name: &str) -> Reply {
    match name {
        "app.js" => text(StatusCode::OK, "text/javascript; charset=utf-8", SCRIPT),
        "style.css" => text(StatusCode::OK, "text/css; charset=utf-8", STYLE),
        "history.js" => text(StatusCode::OK, "text/javascript; charset=utf-8", HISTORY),
        "uPlot.iife.min.js" => text(StatusCode::OK, "text/javascript; charset=utf-8", UPLOT),
        "uPlot.min.css" => text(StatusCode::OK, "text/css; charset=utf-8", UPLOT_CSS),
        "uPlot.LICENSE" => text(StatusCode::OK, "text/plain; charset=utf-8", UPLOT_LICENSE),
        _ => text(StatusCode::NOT_FOUND, "text/plain; charset=utf-8", format!("no such asset: {name}\n")),
    }
}

/// `GET /metrics`: the Prometheus text exposition (version 0.0.4), or 503 if metrics are off.
pub fn metrics(table: &crate::route::RouteTable, reloader: &crate::control::reload::Reloader) -> Reply {
    match super::metrics::render(table, reloader) {
        Some(body) => text(StatusCode::OK, "text/plain; version=0.0.4; charset=utf-8", body),
        None => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain; charset=utf-8",
            "metrics are off: another metrics recorder was installed in this process\n",
        ),
    }
}

/// How long `GET /stats` waits for the journal's count of unknown outcomes.
const JOURNAL_PATIENCE: std::time::Duration = std::time::Duration::from_secs(1);

/// `GET /stats`: per-operation traffic, errors and p99 per side, for the dashboard; with a
/// `[journal]`, also `journal: {store, unknown, duplicates}` — the count of unknown outcomes read
/// from the store (every replica's, as `ficus_journal_unknown`), and duplicates answered by this
/// process.
pub async fn stats(table: &crate::route::RouteTable) -> Reply {
    let (status, mut value) = match super::stats::stats(table) {
        Some(v) => (StatusCode::OK, v),
        None => (StatusCode::SERVICE_UNAVAILABLE, serde_json::json!({ "error": "metrics are off" })),
    };
    if let Some(plan) = &table.journal {
        value["journal"] = journal(plan, &value).await;
    }
    text(status, "application/json", serde_json::to_vec(&value).unwrap_or_default())
}

/// The journal's part of `/stats`; `unknown` is null (and `error` says why) when the store does
/// not answer.
async fn journal(plan: &crate::journal::JournalPlan, stats: &serde_json::Value) -> serde_json::Value {
    let mut by_op = serde_json::Map::new();
    let mut duplicates = 0.0;
    for (op, v) in stats["ops"].as_object().into_iter().flatten() {
        let n = v["duplicates"].as_f64().unwrap_or(0.0);
        if n > 0.0 {
            by_op.insert(op.clone(), serde_json::json!(n));
            duplicates += n;
        }
    }
    let counted = tokio::time::timeout(JOURNAL_PATIENCE, plan.store.count_unknown(crate::journal::now_ms())).await;
    let (unknown, error) = match counted {
        Ok(Ok(n)) => (serde_json::json!(n), None),
        Ok(Err(e)) => (serde_json::Value::Null, Some(e.to_string())),
        Err(_) => (serde_json::Value::Null, Some(format!("no answer in {} s", JOURNAL_PATIENCE.as_secs()))),
    };
    serde_json::json!({
        "store": plan.store.display(),
        "unknown": unknown,
        "error": error,
        "duplicates": duplicates,
        "duplicates_by_op": by_op,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn assets_are_embedded_and_linked() {
        assert!(INDEX.contains("/assets/app.js") && INDEX.contains("/assets/style.css"));
        assert!(!INDEX.contains("http://") && !INDEX.contains("https://"), "nothing from a CDN");
        assert_eq!(asset("app.js").status(), StatusCode::OK);
        for name in ["history.js", "uPlot.iife.min.js", "uPlot.min.css", "uPlot.LICENSE"] {
            assert!(INDEX.contains(&format!("/assets/{name}")) || name.ends_with("LICENSE"), "{name} linked");
            assert_eq!(asset(name).status(), StatusCode::OK, "{name}");
        }
        assert_eq!(asset("../etc/passwd").status(), StatusCode::NOT_FOUND);
        assert!(page().headers().contains_key("content-security-policy"));
    }
}
