//! `ficus openapi` / `ficus schema`: the generated document passes a real OpenAPI validator
//! (openapi-spec-validator, installed by .ci/run), and real traffic — every request ficus sends
//! to the demo's JSON service and every reply the service gives — validates against it.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/contract").join(name)
}

/// `ficus openapi --config CONFIG --out FILE` → the document.
async fn openapi(config: &Path, out: &Path) -> Value {
    let (code, _, stderr) =
        ficus_cli(&["openapi", "--config", &config.display().to_string(), "--out", &out.display().to_string()]).await;
    assert_eq!(code, 0, "ficus openapi failed: {stderr}");
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

/// Runs openapi-spec-validator on `file`; fails (never skips) when it is not installed.
fn spec_validator(file: &Path) {
    let probe = std::process::Command::new("python3").args(["-c", "import openapi_spec_validator"]).output();
    let installed = probe.as_ref().is_ok_and(|o| o.status.success());
    assert!(
        installed,
        "openapi-spec-validator is not installed (CI's .ci/run installs it): \
         python3 -m pip install openapi-spec-validator"
    );
    let out = std::process::Command::new("python3").arg("-m").arg("openapi_spec_validator").arg(file).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{} does not validate:\n{text}", file.display());
}

/// A validator for the document's component schema `name` (its `$ref`s resolved in `doc`).
fn validator(doc: &Value, name: &str) -> jsonschema::Validator {
    let mut root = doc.clone();
    root["$ref"] = json!(format!("#/components/schemas/{name}"));
    jsonschema::draft202012::new(&root).unwrap_or_else(|e| panic!("schema {name}: {e}"))
}

fn errors(v: &jsonschema::Validator, instance: &Value) -> Vec<String> {
    v.iter_errors(instance).map(|e| format!("{} at {}", e, e.instance_path())).collect()
}

#[tokio::test]
async fn the_demo_routes_document_passes_openapi_spec_validator() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("openapi.json");
    let doc = openapi(&Path::new(env!("CARGO_MANIFEST_DIR")).join("routes.toml"), &out).await;
    spec_validator(&out);
    assert_eq!(doc["openapi"], "3.1.0");
    let post = &doc["paths"]["/ops"]["post"];
    let mapping = &post["requestBody"]["content"]["application/json"]["schema"]["discriminator"]["mapping"];
    for op in ["ACCTINQ", "TXNHIST", "XFER", "XFERCAN"] {
        assert_eq!(mapping[op], format!("#/components/schemas/{op}.request"), "{op}");
    }
    let balance = &doc["components"]["schemas"]["ACCTINQ.response-record"]["properties"]["BALANCE"];
    assert_eq!(balance["multipleOf"].to_string(), "0.01");
    assert_eq!(balance["maximum"].to_string(), "9999999999999.99");
    assert_eq!(doc["components"]["parameters"]["Shadow"]["name"], "Ficus-Shadow");
}

#[tokio::test]
async fn a_rich_copybook_gives_arrays_views_and_conditions_and_validates() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("rich.json");
    let doc = openapi(&fixture("routes.toml"), &out).await;
    spec_validator(&out);
    let s = &doc["components"]["schemas"];
    let req = &s["RICH.request-record"]["properties"];
    assert_eq!(req["ROWS"]["maxItems"], 5);
    assert_eq!(req["ROWS"]["minItems"], 0);
    assert_eq!(req["ROWS"]["x-cobol-depending-on"], "ROW-CNT");
    assert_eq!(req["ROWS"]["items"]["properties"]["ROW-NOTE"]["maxLength"], 4);
    assert_eq!(req["ROWS"]["items"]["properties"]["ROW-NOTE"]["x-cobol-bytes"], 8);
    assert_eq!(req["KIND"]["x-cobol-88"], json!({ "KIND-CARD": "C", "KIND-LOAN": "L" }));
    let res = &s["RICH.response-record"];
    assert_eq!(res["properties"]["RATE"]["minimum"], 0, "unsigned");
    assert_eq!(res["properties"]["SCALED"]["multipleOf"], 100, "P scaling");
    assert_eq!(res["properties"]["NAMES"]["minItems"], 3);
    assert!(res["properties"].get("FILLER").is_none(), "FILLER is never a key");
    // The request record's views, as ficus encodes them: the first present is written.
    let encoded = fixture_schema("RICH.cpy", "RICH-REQ", "encode").await;
    let v = jsonschema::draft202012::new(&encoded).unwrap();
    let base = json!({ "CUST-ID": 1, "ROW-CNT": 0, "KIND": "C", "ROWS": [] });
    let with = |k: &str, val: Value| {
        let mut b = base.clone();
        b[k] = val;
        b
    };
    assert!(v.is_valid(&with("CARD-VIEW", json!({ "CARD-NO": 4000123412341234u64, "CARD-EXP": 1228 }))));
    assert!(v.is_valid(&with("LOAN-VIEW", json!({ "LOAN-AMT": 1500.25 }))));
    assert!(!v.is_valid(&base), "one view must be given");
    assert!(!v.is_valid(&with("LOAN-VIEW", json!({ "LOAN-AMT": 1500.255 }))), "three decimals in V99");
}

async fn fixture_schema(copybook: &str, record: &str, direction: &str) -> Value {
    let path = fixture(copybook).display().to_string();
    let (code, stdout, stderr) = ficus_cli(&["schema", &path, "--record", record, "--direction", direction]).await;
    assert_eq!(code, 0, "{stderr}");
    let schema: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    schema
}

/// One exchange between the gateway and the service, as the recorder saw it.
struct Seen {
    request: Value,
    message_id: Option<String>,
    status: u16,
    reply: Value,
}

/// A recording step between the gateway and the demo's `accounts` service: forwards each POST
/// as it is over real sockets (one exchange per connection) and keeps both bodies.
async fn recorder(to: std::net::SocketAddr, seen: Arc<Mutex<Vec<Seen>>>) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let seen = seen.clone();
            tokio::spawn(async move {
                let mut raw = Vec::new();
                let (head, body) = common::misbehave::read_exchange(&mut conn, &mut raw)
                    .await
                    .expect("the gateway closed mid-request");
                let header = |name: &str| head.lines().find_map(|l| l.strip_prefix(name)).map(|v| v.trim().to_string());
                let (message_id, shadow) = (header("ficus-message-id:"), header("ficus-shadow:"));
                let mut up = tokio::net::TcpStream::connect(to).await.unwrap();
                let mut out = format!(
                    "POST /ops HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
                    body.len()
                );
                if let Some(id) = &message_id {
                    out.push_str(&format!("Ficus-Message-Id: {id}\r\n"));
                }
                if let Some(s) = &shadow {
                    out.push_str(&format!("Ficus-Shadow: {s}\r\n"));
                }
                out.push_str("\r\n");
                up.write_all(out.as_bytes()).await.unwrap();
                up.write_all(&body).await.unwrap();
                let mut answer = Vec::new();
                up.read_to_end(&mut answer).await.unwrap();
                let (status, reply) = parse_response(&answer);
                seen.lock().unwrap().push(Seen {
                    request: serde_json::from_slice(&body).unwrap(),
                    message_id,
                    status,
                    reply: serde_json::from_slice(&reply).unwrap_or(Value::Null),
                });
                let back = format!(
                    "HTTP/1.1 {status} OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    reply.len()
                );
                conn.write_all(back.as_bytes()).await.unwrap();
                conn.write_all(&reply).await.unwrap();
                conn.shutdown().await.ok();
            });
        }
    });
    addr
}

#[tokio::test]
async fn every_request_and_reply_of_the_demo_service_validates_against_the_document() {
    let sims = sims().await;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let via = recorder(sims.accounts, seen.clone()).await;
    let up = Upstreams { legacy: sims.host_tcp.to_string(), accounts: format!("http://{via}/ops") };
    let toml = routes_toml(&up, "accounts", "accounts", "").replace(
        "response = \"XFER.cpy#XFER-RESP\"\ntarget   = \"legacy\"",
        "response = \"XFER.cpy#XFER-RESP\"\ntarget   = \"accounts\"",
    );
    let gw = Gateway::start(&toml).await;
    let doc = openapi(&gw.config, &gw.dir.path().join("openapi.json")).await;

    let messages = [
        ("ACCTINQ", json!({ "ACCT-NO": "1000000000000001" })),
        ("ACCTINQ", json!({ "ACCT-NO": "1000000000000009" })),
        ("ACCTINQ", json!({ "ACCT-NO": "9999999999999999" })),
        (
            "TXNHIST",
            json!({ "ACCT-NO": "1000000000000001", "FROM-DATE": 20260101, "TO-DATE": 20261231, "MAX-ROWS": 5 }),
        ),
        (
            "XFER",
            json!({ "FROM-ACCT": "1000000000000001", "TO-ACCT": "1000000000000002", "AMOUNT": 150.25, "MEMO": "RENT" }),
        ),
        (
            "XFER",
            json!({ "FROM-ACCT": "1000000000000002", "TO-ACCT": "1000000000000003", "AMOUNT": 99999999.0, "MEMO": "TOO MUCH" }),
        ),
        (
            "TXNHIST",
            json!({ "ACCT-NO": "1000000000000001", "FROM-DATE": 20260101, "TO-DATE": 20261231, "MAX-ROWS": 5 }),
        ),
    ];
    for (n, (op, body)) in messages.iter().enumerate() {
        let request = ficus::cli::build_request(&gw.table(), op, body, &json!({ "HDR-SEQ-NO": 700 + n })).unwrap();
        let (status, reply) = gw.post(&request).await;
        assert_eq!(status, 200, "{op} {body}: {}", gw.decode(op, &reply));
    }
    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), messages.len(), "every message went to the service");
    let mut refusals = 0;
    for s in seen.iter() {
        let op = s.request["operation"].as_str().unwrap();
        assert_eq!(s.status, 200);
        assert!(s.message_id.is_some(), "Ficus-Message-Id is sent");
        let request_errors = errors(&validator(&doc, &format!("{op}.request")), &s.request);
        assert!(request_errors.is_empty(), "{op} request {}:\n{}", s.request, request_errors.join("\n"));
        let reply_errors = errors(&validator(&doc, &format!("{op}.reply")), &s.reply);
        assert!(reply_errors.is_empty(), "{op} reply {}:\n{}", s.reply, reply_errors.join("\n"));
        refusals += usize::from(s.reply["response"].is_null());
    }
    assert!(refusals > 0, "a refusal (response: null) was among the replies");
    // The body as a whole validates against the post's own oneOf (discriminated by operation).
    let post = &doc["paths"]["/ops"]["post"];
    let mut root = doc.clone();
    root["$ref"] = json!("#/paths/~1ops/post/requestBody/content/application~1json/schema");
    let whole = jsonschema::draft202012::new(&root).unwrap();
    assert!(seen.iter().all(|s| whole.is_valid(&s.request)));
    assert!(post["responses"]["2XX"].is_object());
}

#[tokio::test]
async fn a_reply_too_long_or_with_too_many_digits_fails_the_schema_and_the_gateway() {
    let dir = tempfile::tempdir().unwrap();
    let doc = openapi(&Path::new(env!("CARGO_MANIFEST_DIR")).join("routes.toml"), &dir.path().join("o.json")).await;
    let reply = validator(&doc, "ACCTINQ.reply");
    let good = json!({ "header": { "HDR-RESP-CODE": "0000" }, "response": {
        "ACCT-NO": "1000000000000001", "CUST-NAME": "HONG GILDONG", "ACCT-STATUS": "A",
        "BALANCE": 1500.25, "AVAIL-BAL": 1500.25, "INT-RATE": 1.25, "LAST-TXN-DATE": 20261201 } });
    assert!(errors(&reply, &good).is_empty(), "{:?}", errors(&reply, &good));
    let mut long = good.clone();
    long["response"]["CUST-NAME"] = json!("X".repeat(31));
    let mut digits = good.clone();
    digits["response"]["BALANCE"] = json!(12345678901234.5);
    let mut decimals = good.clone();
    decimals["response"]["INT-RATE"] = json!(1.23456);
    let mut foreign = good.clone();
    foreign["header"]["NOT-A-FIELD"] = json!("x");
    for bad in [&long, &digits, &decimals, &foreign] {
        assert!(!reply.is_valid(bad), "accepted {bad}");
    }
    // The gateway refuses the same replies (FC12): the schema says what ficus accepts.
    for (bad, ok) in [(&long, false), (&digits, false), (&decimals, false), (&foreign, false), (&good, true)] {
        let body: &'static str = Box::leak(bad.to_string().into_boxed_str());
        let service = fake_service(200, body).await;
        let up = Upstreams { legacy: dead_address().await.to_string(), accounts: format!("http://{service}/ops") };
        let gw = Gateway::start(&routes_toml(&up, "accounts", "legacy", "")).await;
        let request = gw.request("ACCTINQ", json!({ "ACCT-NO": "1000000000000001" }));
        let (_, answer) = gw.post(&request).await;
        let (code, _) = response_code(&gw, &answer);
        assert_eq!(code == "FC12", !ok, "{bad}: {code}");
    }
}
