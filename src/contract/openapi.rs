//! The OpenAPI 3.1 document of the JSON protocol between ficus and a new service
//! (`kind = "http-json"`), as `gateway/translate.rs` and `upstream/modern.rs` speak it:
//!
//! - ficus POSTs every routed operation to the service's one URL, body
//!   `{"operation": OP, "header": {…}, "request": {…}}` (the common header and the request
//!   record, decoded), with `Ficus-Message-Id` (the header's message id; `hex:` and its bytes
//!   when it is not visible ASCII) and, on a shadow write replayed as a dry run,
//!   `Ficus-Shadow: dry-run`;
//! - a 2xx answer is `{"header": {…} | null, "response": {…} | null}` (either may be left out;
//!   other keys are ignored): header fields to change in the reply (the request's header is
//!   the base), and the response record — `null` or absent for a refusal that is the header
//!   alone (a response code and message);
//! - any other status, a body that is not such an object, or a value that does not fit its
//!   field is not delivered: the channel gets ficus's own error reply.
//!
//! One path per distinct service URL (every operation goes to the same URL, so it is one
//! `post` whose body is a `oneOf` over the operations, discriminated by `operation`); each
//! operation's request and reply are named schemas: `OP.request`, `OP.reply`, and the record
//! schemas `OP.request-record`, `OP.response-record`.

use super::schema::{record_schema, Direction, Options};
use crate::codec::plan::Plan;
use crate::copybook::Record;
use serde_json::{json, Map, Value};

/// One routed operation: its code and its two layouts.
pub struct Operation<'a> {
    /// The operation code (`ACCTINQ`; several header fields joined by `.`).
    pub op: String,
    /// The request record's plan and copybook record.
    pub request: (&'a Plan, Option<&'a Record>),
    /// The response record's plan (compiled with the route's reply options) and record.
    pub response: (&'a Plan, Option<&'a Record>),
    /// Read-only (may be sent again when nothing was answered) or a write (never twice).
    pub read_only: bool,
}

/// What the gateway does with some header fields of a reply.
#[derive(Clone, Debug, Default)]
pub struct HeaderRoles {
    /// Fields naming the operation: a reply must keep them.
    pub operation: Vec<String>,
    /// The message id field: a reply must keep it (correlation).
    pub message_id: Option<String>,
    /// The length field: always set by ficus, whatever the service says.
    pub length: Option<String>,
}

/// Everything the document is made of.
pub struct Contract<'a> {
    /// `info.title`.
    pub title: String,
    /// `info.version` (the routes file's, or ficus's).
    pub version: String,
    /// The common header's plan and record.
    pub header: (&'a Plan, Option<&'a Record>),
    /// What some header fields mean.
    pub roles: HeaderRoles,
    /// The JSON services' URLs (`http://host:port/path`), by upstream name.
    pub services: Vec<(String, String)>,
    /// The operations, in the order to show them.
    pub operations: Vec<Operation<'a>>,
    /// Schema choices.
    pub options: Options,
}

/// A component name OpenAPI accepts (`^[a-zA-Z0-9._-]+$`).
pub fn component_name(op: &str, part: &str) -> String {
    let clean: String =
        op.chars().map(|c| if c.is_ascii_alphanumeric() || ".-_".contains(c) { c } else { '_' }).collect();
    format!("{clean}.{part}")
}

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The OpenAPI 3.1 document of `contract`.
pub fn document(contract: &Contract) -> Value {
    let mut schemas = Map::new();
    let (header_plan, header_record) = contract.header;
    schemas.insert("Header".into(), header_schema(header_plan, header_record, contract));
    schemas.insert("HeaderChanges".into(), header_changes(header_plan, header_record, contract));
    let mut mapping = Map::new();
    let (mut requests, mut replies) = (Vec::new(), Vec::new());
    for op in &contract.operations {
        let (req, res) = (component_name(&op.op, "request"), component_name(&op.op, "reply"));
        let (req_record, res_record) =
            (component_name(&op.op, "request-record"), component_name(&op.op, "response-record"));
        let request = record_schema(op.request.0, op.request.1, Direction::Decoded, contract.options);
        let response = record_schema(op.response.0, op.response.1, Direction::Encoded, contract.options);
        schemas.insert(req_record.clone(), request);
        schemas.insert(res_record.clone(), response);
        let kind = if op.read_only {
            "read-only: sent again once within the time limit when the service answered nothing"
        } else {
            "a write: never sent twice"
        };
        schemas.insert(
            req.clone(),
            json!({
                "description": format!("{}: what ficus sends ({kind}). Record {}.", op.op, op.request.0.record),
                "type": "object",
                "properties": {
                    "operation": { "const": op.op },
                    "header": reference("Header"),
                    "request": reference(&req_record),
                },
                "required": ["operation", "header", "request"],
                "additionalProperties": false,
                "x-ficus-read-only": op.read_only,
            }),
        );
        schemas.insert(
            res.clone(),
            json!({
                "description": format!(
                    "{}: what ficus accepts in a 2xx answer. `response` null or left out: a refusal, the header \
                     alone (set its response code and message in `header`). Record {}.",
                    op.op, op.response.0.record
                ),
                "type": "object",
                "properties": {
                    "header": { "anyOf": [reference("HeaderChanges"), { "type": "null" }] },
                    "response": { "anyOf": [reference(&res_record), { "type": "null" }] },
                },
            }),
        );
        mapping.insert(op.op.clone(), format!("#/components/schemas/{req}").into());
        requests.push(reference(&req));
        replies.push(reference(&res));
    }
    let mut paths = Map::new();
    let mut servers: Vec<Value> = Vec::new();
    let mut path_names: Vec<String> = Vec::new();
    for (name, url) in &contract.services {
        let (base, path) = split_url(url);
        if !servers.iter().any(|s| s["url"] == base.as_str()) {
            servers.push(json!({ "url": base, "description": format!("upstream {name}") }));
        }
        if !path_names.contains(&path) {
            path_names.push(path);
        }
    }
    if path_names.is_empty() {
        path_names.push("/".into());
    }
    for (n, path) in path_names.iter().enumerate() {
        let id = if n == 0 { "message".to_string() } else { format!("message{}", n + 1) };
        paths.insert(path.clone(), json!({ "post": post(&id, &requests, &replies, &mapping) }));
    }
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {
            "title": contract.title,
            "version": contract.version,
            "description": "The JSON protocol a new service speaks to the ficus gateway, generated from the \
                copybooks by `ficus openapi`. Every routed operation is POSTed to the service's URL; the \
                channel gets the fixed-width reply ficus encodes from the answer, as the host would send it.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "parameters": {
                "MessageId": {
                    "name": "Ficus-Message-Id",
                    "in": "header",
                    "required": false,
                    "description": "The message id (the header's message id field): as it is when visible ASCII, \
                        else `hex:` and its bytes. Sent whenever the header has one.",
                    "schema": { "type": "string" },
                },
                "Shadow": {
                    "name": "Ficus-Shadow",
                    "in": "header",
                    "required": false,
                    "description": "`dry-run`: a shadow copy of a write; answer as you would, change nothing.",
                    "schema": { "const": "dry-run" },
                },
            },
        },
    });
    if !servers.is_empty() {
        doc["servers"] = Value::Array(servers);
    }
    doc
}

/// `http://host:port/path` → (`http://host:port`, `/path`).
fn split_url(url: &str) -> (String, String) {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => (url[..after_scheme + i].to_string(), url[after_scheme + i..].to_string()),
        None => (url.to_string(), "/".to_string()),
    }
}

fn post(id: &str, requests: &[Value], replies: &[Value], mapping: &Map<String, Value>) -> Value {
    json!({
        "operationId": id,
        "summary": "One message of any routed operation",
        "parameters": [
            { "$ref": "#/components/parameters/MessageId" },
            { "$ref": "#/components/parameters/Shadow" },
        ],
        "requestBody": {
            "required": true,
            "content": { "application/json": { "schema": {
                "oneOf": requests,
                "discriminator": { "propertyName": "operation", "mapping": mapping },
            } } },
        },
        "responses": {
            "2XX": {
                "description": "The answer, encoded into the operation's response record (and the header).",
                "content": { "application/json": { "schema": { "anyOf": replies } } },
            },
            "default": {
                "description": "Any other status is not delivered: the channel gets ficus's error reply FC13 \
                    (HTTP channels: 502 upstream_status). So is a 2xx whose body is not a reply object or \
                    does not fit the response record (FC12, bad_reply); a timeout is FC11, no connection FC10.",
            },
        },
    })
}

/// The request's header as ficus decodes it, with the roles of its fields said.
fn header_schema(plan: &Plan, record: Option<&Record>, contract: &Contract) -> Value {
    let mut schema = record_schema(plan, record, Direction::Decoded, contract.options);
    schema["description"] = "The common header of the message, decoded.".into();
    schema
}

/// Header fields a service may set in its reply: any of them, no other key. The length field
/// is always ficus's; the operation and message id must stay the request's.
fn header_changes(plan: &Plan, record: Option<&Record>, contract: &Contract) -> Value {
    let mut schema = record_schema(plan, record, Direction::Encoded, contract.options);
    if let Value::Object(map) = &mut schema {
        map.remove("required");
        map.insert("additionalProperties".into(), false.into());
        map.insert(
            "description".into(),
            "Header fields to change in the reply; the rest are the request's. Any other key is refused \
             (FC12)."
                .into(),
        );
    }
    let roles = &contract.roles;
    if let Some(length) = &roles.length {
        schema["properties"][length] =
            json!({ "description": "Set by ficus to the reply's length; a value given here is ignored." });
    }
    for field in roles.operation.iter().chain(&roles.message_id) {
        if let Some(p) = schema["properties"].get_mut(field) {
            p["description"] =
                "Must be the request's (the same bytes once encoded), or the reply is refused (FC12).".into();
        }
    }
    schema
}
