//! The admin API (HTTP/1.1, JSON):
//!
//! | method | path            | what                                                   |
//! |--------|-----------------|--------------------------------------------------------|
//! | GET    | /healthz        | the process is up                                      |
//! | GET    | /readyz         | a route table is loaded                                |
//! | GET    | /status         | this replica: table hash, generation, reload, breakers |
//! | GET    | /fleet          | every peer's /status compared (`ficus serve --peers`)  |
//! | GET    | /routes         | the live table: generation, hash, every route's mode   |
//! | GET    | /routes/{op}    | one route                                              |
//! | PUT    | /routes/{op}    | change route keys (`null` removes one); token needed   |
//! | POST   | /reload         | re-read routes.toml and copybooks; token needed        |
//! | GET    | /audit?limit=N  | the last N changes                                     |
//! | GET    | /shadow         | shadow comparisons per operation, top fields, noise    |
//! | GET    | /metrics        | Prometheus text exposition (counters are per process)  |
//! | GET    | /stats          | per-operation traffic, errors, p99 per side (JSON)     |
//! | GET    | /history?op=OP  | the last hour per second, with markers (`&seconds=N`)  |
//! | GET    | /progress       | the migration's progress: modes, new share, accounts   |
//! | POST   | /owners/move    | move accounts' writes to an upstream, or roll back     |
//! | GET    | /owners/{acct}  | the account's owner (`null`: the route decides)        |
//! | GET    | /               | the migration dashboard (and its files under /assets/) |
//!
//! Mutations go through [`Reloader`], each read-modify-write under its one lock: validated,
//! written back to routes.toml atomically with its comments kept, swapped in, and audited with
//! the token's name. `GET /routes` and `GET /routes/{op}` carry the table hash as `ETag`; a
//! mutation with `If-Match` naming another hash is refused with 412 and the current hash.

use super::auth::Tokens;
use crate::config::ConfigError;
use crate::control::reload::{ChangeError, ReloadOutcome, Reloader, Trigger};
use crate::route::RouteTable;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use serde_json::{json, Map, Value};
use std::sync::Arc;

pub use super::listener::serve;

/// Largest admin request body.
const MAX_BODY: usize = 64 * 1024;

/// Everything the admin API needs.
pub struct Admin {
    /// The reload path (and through it, the gateway).
    pub reloader: Arc<Reloader>,
    /// Who may change things.
    pub tokens: Tokens,
    /// The last hour per operation (fed by [`super::history::run_sampler`]).
    pub history: Arc<super::history::History>,
    /// The other replicas' admin addresses for `GET /fleet` (`ficus serve --peers`).
    pub peers: Vec<String>,
    /// What `GET /fleet` and `GET /shadow` share across calls, and their own limit.
    pub heavy: super::flight::Heavy,
}

pub(super) type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, value: &Value) -> Reply {
    let mut r = Response::new(Full::new(Bytes::from(serde_json::to_vec_pretty(value).unwrap_or_default())));
    *r.status_mut() = status;
    r.headers_mut().insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("application/json"));
    r
}

pub(super) fn error(status: StatusCode, message: impl Into<String>) -> Reply {
    reply(status, &json!({ "error": message.into() }))
}

/// Adds the table hash as a strong entity tag.
fn with_etag(mut r: Reply, hash: &str) -> Reply {
    if let Ok(v) = hyper::header::HeaderValue::from_str(&format!("\"{hash}\"")) {
        r.headers_mut().insert(hyper::header::ETAG, v);
    }
    r
}

fn config_error(e: &ConfigError) -> Reply {
    let problems: Vec<Value> =
        e.problems.iter().map(|p| json!({ "line": p.line, "column": p.column, "message": p.message })).collect();
    reply(
        StatusCode::UNPROCESSABLE_ENTITY,
        &json!({ "error": "routes rejected; the running table stays", "problems": problems }),
    )
}

/// The mode of a route as people say it: legacy, new, canary, disabled.
pub fn mode(table: &RouteTable, op: &str) -> String {
    let Some(r) = table.routes.get(op) else { return "default".into() };
    let side = |e: &crate::route::UpstreamEntry| if e.upstream.is_bytes() { "legacy" } else { "new" };
    if !r.enabled {
        return "disabled".into();
    }
    match (&r.canary, r.file_canary_percent(table)) {
        (Some(c), Some(p)) if c.threshold > 0 => format!("canary {p}% → {}", c.to.name),
        _ => side(&r.target).to_string(),
    }
}

/// One route as JSON: its keys from routes.toml plus its mode, and `shadow_idle` (nothing is
/// compared) or `shadow_partial` (part is not) when its shadow points at a side answering.
pub fn route_json(table: &RouteTable, op: &str) -> Option<Value> {
    use crate::config::shadow_idle::{shadow_use, ShadowUse};
    let section = table.file.routes.get(op)?;
    let mut v = serde_json::to_value(section).ok()?;
    if let Value::Object(m) = &mut v {
        m.retain(|_, v| !v.is_null());
        m.insert("mode".into(), Value::from(mode(table, op)));
        match shadow_use(table, op) {
            Some(ShadowUse::Idle(why)) => m.insert("shadow_idle".into(), Value::from(why)),
            Some(ShadowUse::Partial(why)) => m.insert("shadow_partial".into(), Value::from(why)),
            None => None,
        };
    }
    Some(v)
}

/// The live table as JSON.
pub fn routes_json(table: &RouteTable, reloader: &Reloader) -> Value {
    let routes: Map<String, Value> =
        table.file.routes.keys().filter_map(|op| Some((op.clone(), route_json(table, op)?))).collect();
    let upstreams: Map<String, Value> = table
        .file
        .upstreams
        .iter()
        .map(|(n, u)| (n.clone(), json!({ "kind": u.kind, "address": u.address, "url": u.url })))
        .collect();
    json!({
        "generation": table.generation,
        "hash": table.hash,
        "default": table.file.default.target,
        "upstreams": upstreams,
        "routes": routes,
        "reload": reloader.status(),
    })
}

/// `GET /fleet`: the peers' statuses compared, as `ficus fleet --json` shows them; without peers,
/// `{"peers": []}` (the dashboard then hides its fleet panel).
async fn fleet(admin: &Admin) -> Reply {
    if admin.peers.is_empty() {
        return reply(StatusCode::OK, &json!({ "peers": [] }));
    }
    let (peers, failed) = (admin.peers.clone(), admin.heavy.failed_peers.clone());
    let made = admin
        .heavy
        .fleet
        .get(
            |_| super::flight::FLEET_FRESH,
            move || async move { super::fleet::survey_remembering(&peers, &failed).await.map(|s| s.to_json()) },
        )
        .await;
    match made {
        Some((Ok(mut v), age)) => {
            v["peers"] = json!(admin.peers);
            v["surveyed_seconds_ago"] = json!(age.as_secs());
            reply(StatusCode::OK, &v)
        }
        Some((Err(e), _)) => error(StatusCode::BAD_GATEWAY, format!("--peers {e}")),
        None => error(StatusCode::INTERNAL_SERVER_ERROR, "the survey of the peers failed"),
    }
}

/// 503 for a heavy call beyond [`super::flight::HEAVY`] at once, closing its connection.
fn busy(what: &str) -> Reply {
    let mut r = error(
        StatusCode::SERVICE_UNAVAILABLE,
        format!(
            "{what} busy: {} calls already in progress (they share one answer); try again in a second",
            super::flight::HEAVY
        ),
    );
    r.headers_mut().insert(hyper::header::RETRY_AFTER, hyper::header::HeaderValue::from_static("1"));
    r.headers_mut().insert(hyper::header::CONNECTION, hyper::header::HeaderValue::from_static("close"));
    r
}

async fn body_json(req: Request<Incoming>) -> Result<Value, Reply> {
    let bytes = Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map_err(|e| error(StatusCode::PAYLOAD_TOO_LARGE, format!("body: {e}")))?
        .to_bytes();
    serde_json::from_slice(&bytes).map_err(|e| error(StatusCode::BAD_REQUEST, format!("body is not JSON: {e}")))
}

pub(super) async fn handle(admin: &Admin, req: Request<Incoming>) -> Reply {
    let path = req.uri().path().trim_end_matches('/').to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let table = admin.reloader.gateway().table();
    let method = req.method().clone();
    if method != Method::GET && method != Method::HEAD {
        let auth = req.headers().get(hyper::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let who = match admin.tokens.check(auth) {
            Some(who) => who,
            None if admin.tokens.is_empty() => {
                return error(
                    StatusCode::FORBIDDEN,
                    format!("no admin token is configured: set {}", super::auth::TOKEN_ENV),
                )
            }
            // Say which: a missing token and a wrong one call for different fixes.
            None if auth.is_none() => return error(StatusCode::UNAUTHORIZED, "Authorization: Bearer <token> required"),
            None => {
                return error(
                    StatusCode::UNAUTHORIZED,
                    format!(
                        "invalid token: not one of the admin tokens (check {} or the token file)",
                        super::auth::TOKEN_ENV
                    ),
                )
            }
        };
        return mutate(admin, req, &method, &segments, who).await;
    }
    match segments.as_slice() {
        [] => super::dashboard::page(),
        ["assets", name] => super::dashboard::asset(name),
        ["metrics"] => super::dashboard::metrics(&table, &admin.reloader),
        ["stats"] => super::dashboard::stats(&table).await,
        ["history"] => history(admin, &table, &query),
        ["progress"] => super::progress::progress(admin, &table).await,
        ["owners", key] => super::owners::show(admin, key).await,
        ["healthz"] => reply(StatusCode::OK, &json!({ "status": "ok" })),
        ["status"] => reply(StatusCode::OK, &super::status::status_json(&admin.reloader)),
        ["fleet"] => match admin.heavy.limit.clone().try_acquire_owned() {
            Ok(_permit) => fleet(admin).await,
            Err(_) => busy("GET /fleet"),
        },
        ["readyz"] => reply(StatusCode::OK, &json!({ "status": "ready", "generation": table.generation })),
        ["routes"] => with_etag(reply(StatusCode::OK, &routes_json(&table, &admin.reloader)), &table.hash),
        ["routes", op] => match route_json(&table, op) {
            Some(v) => with_etag(
                reply(
                    StatusCode::OK,
                    &json!({ "op": op, "generation": table.generation, "hash": table.hash, "route": v }),
                ),
                &table.hash,
            ),
            None => error(StatusCode::NOT_FOUND, format!("no route for {op}")),
        },
        ["shadow"] => {
            let Ok(_permit) = admin.heavy.limit.clone().try_acquire_owned() else { return busy("GET /shadow") };
            let mut v = super::shadow_view::shadow_json(&admin.reloader.gateway().shadow, &admin.heavy.shadow).await;
            v["generation"] = json!(table.generation);
            reply(StatusCode::OK, &v)
        }
        ["audit"] => {
            let limit =
                query.split('&').find_map(|kv| kv.strip_prefix("limit=")).and_then(|n| n.parse().ok()).unwrap_or(50);
            reply(StatusCode::OK, &json!({ "entries": admin.reloader.audit().recent(limit) }))
        }
        _ => error(StatusCode::NOT_FOUND, format!("no such endpoint: {path}")),
    }
}

/// The value of `key` in a query string.
fn param<'q>(query: &'q str, key: &str) -> Option<&'q str> {
    query.split('&').find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
}

/// `GET /history?op=OP[&seconds=N]`: the operation's last N seconds (default 600, at most
/// 3600) as columns, with the markers of that time.
fn history(admin: &Admin, table: &RouteTable, query: &str) -> Reply {
    use super::history::SLOTS;
    let known =
        || table.routes.keys().cloned().collect::<std::collections::BTreeSet<_>>().into_iter().collect::<Vec<_>>();
    let Some(op) = param(query, "op").filter(|o| !o.is_empty()) else {
        return error(
            StatusCode::BAD_REQUEST,
            format!("say which operation: /history?op=OP (one of: {})", known().join(", ")),
        );
    };
    let seconds = match param(query, "seconds").map(str::parse::<usize>) {
        None => 600,
        Some(Ok(n)) if (1..=SLOTS).contains(&n) => n,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!(
                    "seconds must be a whole number from 1 to {SLOTS}, not {:?}",
                    param(query, "seconds").unwrap_or("")
                ),
            )
        }
    };
    if !table.routes.contains_key(op) && !admin.history.has(op) {
        return error(
            StatusCode::NOT_FOUND,
            format!("no route for {op} and no traffic seen (routes: {})", known().join(", ")),
        );
    }
    let now = super::history::now_secs();
    let mut v = admin.history.series(op, seconds, now);
    let since = now + 1 - seconds as u64;
    v["op"] = json!(op);
    v["mode"] = json!(mode(table, op));
    v["step_seconds"] = json!(1);
    v["markers"] = json!(super::markers::markers(&admin.reloader, table, op, since));
    // Compact: an hour is 3,600 values per series, and the page asks every 2 s.
    super::dashboard::text(StatusCode::OK, "application/json", serde_json::to_vec(&v).unwrap_or_default())
}

fn change_reply(result: Result<Result<ReloadOutcome, ChangeError>, tokio::task::JoinError>) -> Reply {
    match result {
        Ok(Ok(outcome)) => with_etag(reply(StatusCode::OK, &json!(outcome)), &outcome.hash),
        Ok(Err(ChangeError::Stale { current, generation })) => with_etag(
            reply(
                StatusCode::PRECONDITION_FAILED,
                &json!({
                    "error": "the route table changed since it was read (If-Match): nothing was changed",
                    "hash": current,
                    "generation": generation,
                }),
            ),
            &current,
        ),
        Ok(Err(ChangeError::Invalid(message))) => error(StatusCode::BAD_REQUEST, message),
        Ok(Err(ChangeError::Rejected(config))) => config_error(&config),
        Ok(Err(e @ ChangeError::Write(_))) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

async fn mutate(admin: &Admin, req: Request<Incoming>, method: &Method, segments: &[&str], who: String) -> Reply {
    let reloader = admin.reloader.clone();
    let if_match = match req.headers().get(hyper::header::IF_MATCH).map(|v| v.to_str()) {
        None => None,
        Some(Ok(v)) => Some(v.to_string()),
        Some(Err(_)) => return error(StatusCode::BAD_REQUEST, "If-Match is not readable text"),
    };
    match (method, segments) {
        (&Method::POST, ["reload"]) => {
            let result =
                tokio::task::spawn_blocking(move || reloader.reload_if(Trigger::Api(who), if_match.as_deref())).await;
            change_reply(result)
        }
        (&Method::POST, ["owners", "move"]) => match body_json(req).await {
            Ok(body) => super::owners::move_owners(admin, &body, who).await,
            Err(r) => r,
        },
        (&Method::PUT, ["routes", op]) => {
            let patch = match body_json(req).await {
                Ok(Value::Object(m)) => m,
                Ok(_) => return error(StatusCode::BAD_REQUEST, "body must be a JSON object of route keys"),
                Err(r) => return r,
            };
            let op = op.to_string();
            let result =
                tokio::task::spawn_blocking(move || reloader.edit(&op, &patch, Trigger::Api(who), if_match.as_deref()))
                    .await;
            change_reply(result)
        }
        _ => error(StatusCode::NOT_FOUND, "no such endpoint"),
    }
}
