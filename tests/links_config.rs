//! Link management settings as the configuration reads them: refusals that name the setting,
//! the field and the value (and `ficus check` saying what a valid file does), message ids that
//! fit the header's field, pools kept across reloads only while their polls are the same, and a
//! poll's length field stated the links' way.

mod common;
#[path = "support/links.rs"]
mod links;

use common::*;
use links::*;
use serde_json::json;
use std::net::SocketAddr;
use std::sync::Arc;

/// A copy of the repository's copybooks to change (it holds routes.toml too).
fn copybook_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(copybooks()).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    dir
}

fn problems(toml: &str) -> String {
    let path = std::path::Path::new("/nonexistent/routes.toml");
    match ficus::config::build::build(toml, path, None, 1) {
        Ok(_) => panic!("accepted:\n{toml}"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn link_settings_that_cannot_work_are_refused_by_name() {
    let addr: SocketAddr = "127.0.0.1:9".parse().unwrap();
    let base = link_routes(addr, "");
    let routed = problems(&base.replace("op = \"HEARTBT\"", "op = \"ACCTINQ\""));
    assert!(routed.contains("heartbeat op \"ACCTINQ\" is also routed ([routes.ACCTINQ])"), "{routed}");
    let line = base.lines().position(|l| l.starts_with("heartbeat")).unwrap() + 1;
    assert!(routed.contains(&format!("routes.toml:{line}:")), "points at the heartbeat line: {routed}");
    let code = problems(&base.replace("reply_code = \"0000\"", "reply_code = \"00000\""));
    assert!(code.contains("reply_code = \"00000\" does not fit HDR-RESP-CODE (4 bytes)"), "{code}");
    let long = problems(&base.replace("op = \"HEARTBT\"", "op = \"HEARTBEAT\""));
    assert!(long.contains("\"HEARTBEAT\" does not fit HDR-TRAN-CODE (8 bytes)"), "{long}");
    let unknown = problems(&base.replace("reply_code = \"0000\"", "reply = \"0000\""));
    assert!(unknown.contains("reply"), "{unknown}");

    let poll = |p: &str| problems(&link_routes(addr, p));
    assert!(poll("poll = { every_ms = 0, op = \"HEARTBT\" }").contains("poll: every_ms must be at least 1"));
    assert!(
        poll("poll = { every_ms = 10, op = \"HEARTBT\", timeout_ms = 0 }").contains("timeout_ms must be at least 1")
    );
    assert!(poll("poll = { every_ms = 10, op = \"HEARTBEAT\" }").contains("HDR-TRAN-CODE"));
    let http = problems(&base.replacen(
        "timeout_ms = 1000\n\n[default]",
        "timeout_ms = 1000\npoll = { every_ms = 10, op = \"HEARTBT\" }\n\n[default]",
        1,
    ));
    assert!(http.contains("poll is for tcp upstreams"), "{http}");

    // `ficus check` says what a valid file does, and refuses the same as a configuration error.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("routes.toml");
    std::fs::write(dir.path().join("tokens"), format!("{ADMIN_NAME}:{ADMIN_TOKEN}\n")).unwrap();
    std::fs::write(&file, link_routes(addr, "poll = { every_ms = 30000, op = \"HEARTBT\" }")).unwrap();
    let (code, out, err) = ficus_cli(&["check", "--config", file.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("heartbeat HEARTBT answered by ficus with 0000"), "{out}");
    assert!(
        out.contains("upstream legacy idle connections polled with HEARTBT after 30000 ms (no answer in 1000 ms"),
        "{out}"
    );
    std::fs::write(&file, base.replace("op = \"HEARTBT\"", "op = \"ACCTINQ\"")).unwrap();
    let (code, _, err) = ficus_cli(&["check", "--config", file.to_str().unwrap()]).await;
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("is also routed ([routes.ACCTINQ])"), "{err}");
}

/// `ficus send` numbers its messages as polls do: a fresh id that fits the header's message id
/// field, whatever its width or picture (a 10-digit clock reading did not fit a 6-digit field).
#[test]
fn fresh_message_ids_fit_the_header_field() {
    for (pic, width) in [("PIC 9(6).", 6), ("PIC X(6).", 6), ("PIC 9(12).", 12)] {
        let dir = copybook_copy();
        let header = std::fs::read_to_string(copybooks().join("COMMHDR.cpy")).unwrap();
        let header = header.replace("HDR-SEQ-NO              PIC 9(10).", &format!("HDR-SEQ-NO              {pic}"));
        std::fs::write(dir.path().join("COMMHDR.cpy"), header).unwrap();
        let up = Upstreams { legacy: "127.0.0.1:9".into(), accounts: "http://127.0.0.1:9/ops".into() };
        let toml = routes_toml(&up, "legacy", "legacy", "")
            .replace(&copybooks().display().to_string(), &dir.path().display().to_string());
        let table = ficus::config::build::build(&toml, &dir.path().join("routes.toml"), None, 1).unwrap();
        let m = ficus::cli::build_request(&table, "ACCTINQ", &json!({ "ACCT-NO": "1" }), &serde_json::Value::Null)
            .unwrap_or_else(|e| panic!("{pic}: {e}"));
        let id = table.header.message_id(&m).unwrap();
        assert!(id.trim_start_matches('0').len() <= width && id.parse::<u64>().unwrap() > 0, "{pic}: {id}");
        let poll = table.header.link_message("HEARTBT", table.header.message_id_capacity().unwrap()).unwrap();
        assert_eq!(table.header.message_id(&poll).unwrap().trim_start_matches('0'), "9".repeat(width), "{pic}");
    }
}

/// A reload keeps an upstream's pool (and its open connections) only when it would poll the
/// same way with the same bytes: a header that moved the message id builds a new one.
#[test]
fn a_reload_keeps_a_polling_pool_only_while_its_poll_is_the_same() {
    let dir = copybook_copy();
    let up = Upstreams { legacy: "127.0.0.1:9".into(), accounts: "http://127.0.0.1:9/ops".into() };
    let poll = "max_connections = 8\npoll = { every_ms = 30000, op = \"HEARTBT\" }\n";
    let toml = routes_toml(&up, "legacy", "legacy", "")
        .replace(&copybooks().display().to_string(), &dir.path().display().to_string())
        .replacen("max_connections = 8\n", poll, 1);
    let path = dir.path().join("routes.toml");
    let build = |text: &str, previous| ficus::config::build::build(text, &path, previous, 1).unwrap();
    let legacy = |t: &ficus::route::RouteTable| t.upstreams["legacy"].clone();
    let first = build(&toml, None);
    let same = build(&toml, Some(&first));
    assert!(Arc::ptr_eq(&legacy(&first), &legacy(&same)), "nothing changed: the pool is kept");
    let slower = build(&toml.replace("every_ms = 30000", "every_ms = 60000"), Some(&first));
    assert!(!Arc::ptr_eq(&legacy(&first), &legacy(&slower)), "another poll: a new pool");
    let header = std::fs::read_to_string(dir.path().join("COMMHDR.cpy")).unwrap();
    let wider = header.replace("HDR-CHANNEL             PIC X(3).", "HDR-CHANNEL             PIC X(4).");
    assert_ne!(header, wider);
    std::fs::write(dir.path().join("COMMHDR.cpy"), wider).unwrap();
    let moved = build(&toml, Some(&first));
    assert!(!Arc::ptr_eq(&legacy(&first), &legacy(&moved)), "the id moved: polls would be wrong bytes");
}

/// A poll's length field follows the rule the links give it: here the channel's framing makes
/// HDR-MSG-LEN count the body, so a header-only poll states 0.
#[test]
fn a_poll_states_its_length_as_the_links_count_it() {
    let up = Upstreams { legacy: "127.0.0.1:9".into(), accounts: "http://127.0.0.1:9/ops".into() };
    let toml = routes_toml(&up, "legacy", "legacy", "")
        .replace(
            "tcp_framing = { length_prefix = 4 }",
            "tcp_framing = { length_field = \"HDR-MSG-LEN\", counts = \"body\" }",
        )
        .replacen("max_connections = 8\n", "max_connections = 8\npoll = { every_ms = 10, op = \"HEARTBT\" }\n", 1);
    let table = ficus::config::build::build(&toml, std::path::Path::new("/nonexistent/routes.toml"), None, 1).unwrap();
    let ficus::upstream::Upstream::Tcp(pool) = &table.upstreams["legacy"].upstream else { panic!("tcp") };
    let poll = (pool.poll_plan().unwrap().message)(5);
    assert_eq!(poll.len(), HEADER);
    assert_eq!(poll[..6], cp037("000000", 6)[..], "the body's length: none");
}
