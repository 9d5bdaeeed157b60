//! `ficus send`: one message through a running gateway, built from JSON with routes.toml's
//! copybooks, its reply decoded back to JSON.
//!
//! Every mistake a person can make here is answered with what to do: an unknown operation lists
//! those that can be built (and the case fix), a mistyped field lists the record's fields, a
//! missing routes.toml names the path tried. Over HTTP the gateway says which upstream answered
//! (`Ficus-Upstream`, `Ficus-Generation`), and `send` prints it on stderr.

use super::fields::{check_keys, suggest};
use super::CliError;
use crate::codec::Codec;
use crate::route::RouteTable;
use crate::server::http::{ERROR_HEADER, GENERATION_HEADER, UPSTREAM_HEADER};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;

/// Largest reply `send` reads.
const MAX_REPLY: usize = 1 << 20;
/// How long `send` waits for the whole exchange.
const TIMEOUT: Duration = Duration::from_secs(10);

/// Arguments of `ficus send`.
pub struct SendArgs {
    /// routes.toml (for copybooks, header and addresses).
    pub config: PathBuf,
    /// Use the TCP listener instead of HTTP.
    pub tcp: bool,
    /// Override the address to send to.
    pub to: Option<String>,
    /// Send through this `[[channels]]` entry (its address, framing and code page).
    pub channel: Option<String>,
    /// Operation code.
    pub op: String,
    /// Body JSON (or hex with `raw`).
    pub body: String,
    /// Header field overrides (JSON object).
    pub header: Option<String>,
    /// Print the raw reply as hex too.
    pub hex: bool,
    /// The body is hex bytes sent as they are after the header (no request layout needed).
    pub raw: bool,
}

/// The request layout of `op`, or why there is none and what to do.
fn request_layout<'t>(table: &'t RouteTable, op: &str) -> Result<&'t Codec, String> {
    let mut buildable: Vec<&str> =
        table.routes.values().filter(|r| r.request.is_some()).map(|r| r.op.as_str()).collect();
    buildable.sort_unstable();
    let known = if buildable.is_empty() { "none".to_string() } else { buildable.join(", ") };
    let raw = format!(
        "  To send {op} anyway, give its body as hex and ficus puts the header in front:\n    \
         ficus send --raw {op} '<body bytes in hex>'    (use '' for a header-only message)"
    );
    match table.routes.get(op) {
        Some(route) => route.request.as_deref().ok_or_else(|| {
            format!(
                "route {op} names no request copybook (request = \"FILE.cpy#RECORD\"), so its body cannot be \
                 built from JSON.\n  Operations that can be: {known}.\n{raw}"
            )
        }),
        None => {
            let ops = table.routes.keys().map(String::as_str);
            let hint = suggest(op, ops).map(|s| format!(" — did you mean {s}?")).unwrap_or_default();
            Err(format!(
                "operation {op:?} has no route in routes.toml{hint}\n  \
                 Operations that can be built from JSON: {known}.\n  \
                 (The gateway sends an operation without a route to [default], {}, untouched; ficus send only \
                 needs a request copybook to build one.)\n{raw}",
                table.default_target.name
            ))
        }
    }
}

/// The request header for `op`: blank, with the operation, a fresh message id and `overrides`.
fn header_json(table: &RouteTable, op: &str, overrides: &Value) -> Result<Value, String> {
    let fields = &table.file.header.operation;
    // An operation key of several header fields is their values joined by `.`.
    let parts: Vec<&str> = if fields.len() > 1 { op.split('.').collect() } else { vec![op] };
    if parts.len() != fields.len() {
        return Err(format!(
            "operation {op:?}: the operation is {} header fields ({}), so give {} values joined by '.'",
            fields.len(),
            fields.join(" + "),
            fields.len()
        ));
    }
    if !overrides.is_null() {
        check_keys(table.header.codec.plan(), overrides, "--header")?;
    }
    let mut header = table.header.codec.plan().blank_json();
    if let Value::Object(h) = &mut header {
        for (field, part) in fields.iter().zip(parts) {
            h.insert(field.clone(), Value::from(part));
        }
        if let Some(id) = &table.file.header.message_id {
            // A fresh id from the clock that fits the field, never zero (a zero id numbers
            // nothing: its reply's connection is not pooled).
            let capacity = table.header.message_id_capacity().unwrap_or(u64::MAX);
            let micros =
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_micros());
            let seq = 1 + (micros % u128::from(capacity)) as u64;
            if let Some(value) = table.header.message_id_json(seq) {
                h.insert(id.clone(), value);
            }
        }
        if let Value::Object(o) = overrides {
            for (k, v) in o {
                h.insert(k.clone(), v.clone());
            }
        }
    }
    Ok(header)
}

/// Builds the fixed-width request for `op` from the table's copybooks: `body` must name only
/// fields of the route's request record (those it leaves out are written as their VALUE, or
/// spaces / zero), `header_overrides` only header fields.
pub fn build_request(table: &RouteTable, op: &str, body: &Value, header_overrides: &Value) -> Result<Vec<u8>, String> {
    let request = request_layout(table, op)?;
    check_keys(request.plan(), body, "body")?;
    let header = header_json(table, op, header_overrides)?;
    let mut bytes = table.header.codec.encode_json(&header).map_err(|e| format!("header: {e}"))?;
    // Like the header's, body fields left out are written as their VALUE (or spaces / zero):
    // a test message names what matters. A key that is no field is still refused (a typo).
    bytes.extend(request.filling_missing().encode_json(body).map_err(|e| format!("body: {e}"))?);
    table.header.set_length(&mut bytes);
    Ok(bytes)
}

/// Builds a request for `op` from the header and `body` bytes as they are (no request layout).
pub fn build_raw(table: &RouteTable, op: &str, body: &[u8], header_overrides: &Value) -> Result<Vec<u8>, String> {
    let header = header_json(table, op, header_overrides)?;
    let mut bytes = table.header.codec.encode_json(&header).map_err(|e| format!("header: {e}"))?;
    bytes.extend_from_slice(body);
    table.header.set_length(&mut bytes);
    Ok(bytes)
}

/// Decodes a reply into `{"header": .., "response": ..}` (response absent if header-only).
pub fn decode_reply(table: &RouteTable, op: &str, reply: &[u8]) -> Value {
    let header =
        table.header.codec.decode_json(reply).map(|(v, _)| v).unwrap_or_else(|e| json!({ "error": e.to_string() }));
    let body = reply.get(table.header.size..).unwrap_or_default();
    let response = match table.routes.get(op).and_then(|r| r.response.as_ref()) {
        Some(codec) if !body.is_empty() => {
            codec.decode_json(body).map(|(v, _)| v).unwrap_or_else(|e| json!({ "error": e.to_string() }))
        }
        _ => Value::Null,
    };
    json!({ "header": header, "response": response })
}

/// What came back over HTTP besides the bytes.
struct HttpReply {
    status: u16,
    upstream: Option<String>,
    generation: Option<String>,
    error: Option<String>,
    body: Vec<u8>,
}

/// POSTs `request` to `url` and reads the reply with the gateway's headers.
async fn post(url: &str, request: Vec<u8>) -> Result<HttpReply, String> {
    use hyper_util::client::legacy::Client;
    let client = Client::builder(hyper_util::rt::TokioExecutor::new()).build_http::<Full<Bytes>>();
    let req = hyper::Request::post(url)
        .header(hyper::header::CONTENT_TYPE, "application/octet-stream")
        .body(Full::new(Bytes::from(request)))
        .map_err(|e| format!("{url}: {e}"))?;
    let exchange = async {
        let resp = client.request(req).await.map_err(|e| {
            // hyper's own text is "client error (Connect)": the cause is further down the chain.
            let mut why = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                why = format!("{why}: {s}");
                source = s.source();
            }
            format!("sending to {url}: {why}\n  Is the gateway running there? (ficus serve, or ficus demo)")
        })?;
        let header = |name: &str| resp.headers().get(name).and_then(|v| v.to_str().ok()).map(String::from);
        let (upstream, generation, error) = (header(UPSTREAM_HEADER), header(GENERATION_HEADER), header(ERROR_HEADER));
        let status = resp.status().as_u16();
        let body = Limited::new(resp.into_body(), MAX_REPLY)
            .collect()
            .await
            .map_err(|e| format!("reading the reply from {url}: {e}"))?
            .to_bytes()
            .to_vec();
        Ok(HttpReply { status, upstream, generation, error, body })
    };
    tokio::time::timeout(TIMEOUT, exchange).await.map_err(|_| format!("no reply from {url} within {TIMEOUT:?}"))?
}

/// The stderr line saying who answered an HTTP reply.
fn answered_line(reply: &HttpReply) -> String {
    let generation = reply.generation.as_deref().map(|g| format!(" (route generation {g})")).unwrap_or_default();
    match (&reply.upstream, reply.status) {
        (Some(up), 200) => format!("answered by {up}{generation}"),
        (Some(up), _) => format!("{up} failed{generation}"),
        (None, _) if reply.generation.is_some() => format!("answered by the gateway, no upstream tried{generation}"),
        (None, _) => "the reply names no upstream (not a ficus gateway, or an older one)".to_string(),
    }
}

/// The table a client of `[[channels]]` entry `name` sees: the same header and layouts in the
/// channel's code page, its framing and addresses as the default listeners.
fn channel_table(table: &RouteTable, name: &str, config: &std::path::Path) -> Result<RouteTable, CliError> {
    let Some(c) = table.file.channels.iter().find(|c| c.name == name) else {
        let names: Vec<&str> = table.file.channels.iter().map(|c| c.name.as_str()).collect();
        let known = if names.is_empty() { "none".to_string() } else { names.join(", ") };
        return Err(CliError::runtime(format!(
            "--channel {name}: routes.toml has no [[channels]] entry of that name (known: {known})"
        )));
    };
    let mut file = table.file.clone();
    file.gateway.codepage = c.codepage.clone().unwrap_or(file.gateway.codepage);
    file.gateway.tcp_framing = c.framing.clone().unwrap_or(file.gateway.tcp_framing);
    file.gateway.listen_tcp = c.listen_tcp.clone();
    file.gateway.listen_http = c.listen_http.clone();
    file.gateway.heartbeat = c.heartbeat.clone();
    file.channels.clear();
    let text = toml::to_string(&file).map_err(|e| CliError::runtime(format!("--channel {name}: {e}")))?;
    crate::config::build::build(&text, config, None, 1).map_err(|e| CliError::config(format!("--channel {name}: {e}")))
}

/// `ficus send`.
pub fn send(mut args: SendArgs) -> Result<(), CliError> {
    let mut table = super::config_path::load(&args.config)?;
    if let Some(name) = &args.channel {
        table = channel_table(&table, name, &args.config)?;
        args.tcp = args.tcp || table.file.gateway.listen_http.is_none();
    }
    let overrides: Value = match &args.header {
        Some(h) => serde_json::from_str(h).map_err(|e| CliError::runtime(format!("--header is not JSON: {e}")))?,
        None => Value::Null,
    };
    let request = if args.raw {
        let hex: String = args.body.chars().filter(|c| !c.is_whitespace()).collect();
        let body = if hex.is_ascii() { crate::shadow::capture::unhex(&hex) } else { Err("not hex digits".into()) }
            .map_err(|e| CliError::runtime(format!("--raw body is not hex: {e}")))?;
        build_raw(&table, &args.op, &body, &overrides)
    } else {
        let body: Value =
            serde_json::from_str(&args.body).map_err(|e| CliError::runtime(format!("body is not JSON: {e}")))?;
        build_request(&table, &args.op, &body, &overrides)
    }
    .map_err(CliError::runtime)?;
    let runtime =
        tokio::runtime::Runtime::new().map_err(|e| CliError::runtime(format!("cannot start the runtime: {e}")))?;
    let (line, reply, failed) = runtime.block_on(async {
        if args.tcp {
            let addr = args.to.clone().or(table.file.gateway.listen_tcp.clone()).ok_or_else(|| {
                CliError::runtime("no TCP address: routes.toml has no [gateway] listen_tcp; give --to HOST:PORT")
            })?;
            let exchange = async {
                let mut conn =
                    tokio::net::TcpStream::connect(&addr).await.map_err(|e| format!("connecting to {addr}: {e}"))?;
                table.tcp_framing.write(&mut conn, &request).await.map_err(|e| e.to_string())?;
                let reply = table.tcp_framing.read(&mut conn, MAX_REPLY).await.map_err(|e| e.to_string())?;
                let reply = reply.ok_or_else(|| format!("{addr} closed the connection without a reply"))?;
                read_parts(&table, &mut conn, reply).await
            };
            let reply = tokio::time::timeout(TIMEOUT, exchange)
                .await
                .map_err(|_| CliError::runtime(format!("no reply from {addr} within {TIMEOUT:?}")))?
                .map_err(CliError::runtime)?;
            let (reply, parts) = reply;
            let parts = if parts > 1 { format!(" in {parts} parts (장전문), reassembled") } else { String::new() };
            let line = format!("{} bytes{parts}\nvia tcp: upstream not reported (HTTP replies name it)", reply.len());
            Ok::<_, CliError>((line, reply, None))
        } else {
            let addr = args.to.clone().or(table.file.gateway.listen_http.clone()).ok_or_else(|| {
                CliError::runtime("no HTTP address: routes.toml has no [gateway] listen_http; give --to HOST:PORT")
            })?;
            let url = http_url(&addr).map_err(CliError::runtime)?;
            let reply = post(&url, request.clone()).await.map_err(CliError::runtime)?;
            let mut line = format!("HTTP {}, {} bytes\n{}", reply.status, reply.body.len(), answered_line(&reply));
            if let Some(error) = &reply.error {
                line.push_str(&format!("\n{ERROR_HEADER}: {error}"));
            }
            // A status of 400 and up is the gateway's own error reply (or not a gateway).
            let failed = (reply.status >= 400)
                .then(|| reply.error.clone().unwrap_or_else(|| format!("HTTP {} from {url}", reply.status)));
            Ok((line, reply.body, failed))
        }
    })?;
    eprintln!("{line}");
    println!("{}", serde_json::to_string_pretty(&decode_reply(&table, &args.op, &reply)).unwrap_or_default());
    if args.hex {
        for chunk in reply.chunks(32) {
            eprintln!("{}", chunk.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" "));
        }
    }
    // A gateway error code (FCxx) in the reply's header, over TCP or HTTP.
    let code = table.header.response_code(&reply).filter(|c| c.starts_with(GATEWAY_CODE_PREFIX));
    match failed.or(code.map(|c| format!("{c} (the gateway's own error reply; see the README's error codes)"))) {
        Some(why) => Err(CliError {
            code: EXIT_GATEWAY_ERROR,
            message: format!("the gateway answered {} with an error: {why}", args.op),
        }),
        None => Ok(()),
    }
}

/// `ficus send`'s exit code when the gateway answered with its own error reply (a code FCxx,
/// or HTTP 400 and up). 0 is any reply an upstream gave (whatever its code); 1 is no reply.
pub const EXIT_GATEWAY_ERROR: i32 = 3;

/// The response codes the gateway's own error replies carry start with this.
const GATEWAY_CODE_PREFIX: &str = "FC";

/// The URL for `--to` (or `listen_http`): `HOST:PORT` or `http://…`; the gateway's channel
/// listener speaks plain HTTP, so any other scheme is refused with what to give.
/// With `[header] multipart`, a reply whose first part came (`first`) is read to its last part
/// and put back together: (the whole reply, how many parts it came in).
async fn read_parts(
    table: &RouteTable,
    conn: &mut tokio::net::TcpStream,
    first: Vec<u8>,
) -> Result<(Vec<u8>, u32), String> {
    use crate::header::reassemble::{Reassembler, Step};
    let Some(plan) = table.header.multipart.as_deref() else { return Ok((first, 1)) };
    // A reply is as long as its parts make it: bounded by what can be numbered, not by a message.
    let mut plan = plan.clone();
    plan.settings.max_bytes = MAX_REPLY.saturating_mul(plan.max_parts() as usize);
    let mut parts = Reassembler::default();
    let mut next = first;
    loop {
        match parts.push(&plan, &table.header, &next, || false).map_err(|e| format!("reply in parts: {e}"))? {
            Step::Single => return Ok((next, 1)),
            Step::Complete { message, parts } => return Ok((message, parts)),
            _ => {}
        }
        let part = table.tcp_framing.read(conn, MAX_REPLY).await.map_err(|e| e.to_string())?;
        next = part.ok_or("the connection closed before the reply's last part")?;
    }
}

fn http_url(addr: &str) -> Result<String, String> {
    match addr.split_once("://") {
        None => Ok(format!("http://{addr}/")),
        Some(("http", _)) => Ok(addr.to_string()),
        Some((scheme, rest)) => Err(format!(
            "--to {addr}: ficus send speaks plain HTTP (the gateway's channel listener has no TLS), not {scheme}; \
             give HOST:PORT or http://{rest}"
        )),
    }
}
