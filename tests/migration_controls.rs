//! Live migration controls: reloads that reject bad files and keep serving, canary shares,
//! fallback only for reads, the kill switch, admin auth, the audit trail, and comments kept.

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;

fn acct(n: u64) -> serde_json::Value {
    json!({ "ACCT-NO": format!("{}", 1_000_000_000_000_000u64 + n) })
}

/// Waits (bounded) until the gateway's generation reaches `at_least`.
async fn wait_generation(gw: &Gateway, at_least: u64) -> u64 {
    for _ in 0..100 {
        if gw.generation() >= at_least {
            return gw.generation();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    gw.generation()
}

#[tokio::test]
async fn invalid_files_are_rejected_and_the_old_table_keeps_serving() {
    let sims = sims().await;
    let gw = Gateway::start(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")).await;
    let good = std::fs::read_to_string(&gw.config).unwrap();
    let bad_files = [
        ("syntax", good.replace("[routes.XFER]", "[routes.XFER")),
        ("unknown upstream", good.replace("target   = \"legacy\"\nread_only", "target   = \"nobody\"\nread_only")),
        ("missing copybook", good.replace("XFER.cpy#XFER-REQ", "GONE.cpy#XFER-REQ")),
        ("half-written", good[..good.len() / 2].to_string()),
    ];
    let reloader = gw.running.reloader.clone();
    for (i, (what, text)) in bad_files.iter().enumerate() {
        std::fs::write(&gw.config, text).unwrap();
        let err = reloader.reload(ficus::control::reload::Trigger::Signal).expect_err(what);
        assert!(!err.problems.is_empty(), "{what}");
        assert_eq!(gw.generation(), 1, "{what}: the running table must stay");
        assert_eq!(reloader.status().rejected, i as u64 + 1);
        let (status, reply) = gw.post(&gw.request("ACCTINQ", acct(1))).await;
        assert_eq!((status, response_code(&gw, &reply).0.as_str()), (200, "0000"), "{what}: still serving");
    }
    let (status, body) = gw.admin_call("GET", "/routes", None, None).await;
    assert_eq!(status, 200);
    assert!(body["reload"]["last_error"].as_str().unwrap().contains("routes.toml"), "{body}");
    std::fs::write(&gw.config, &good).unwrap();
    reloader.reload(ficus::control::reload::Trigger::Signal).unwrap();
    sims.stop();
}

#[tokio::test]
async fn file_edits_are_picked_up_by_the_watcher() {
    let sims = sims().await;
    let gw = Gateway::start(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")).await;
    // An editor's save: write a temp file and rename it over routes.toml.
    let text =
        std::fs::read_to_string(&gw.config).unwrap().replacen("target   = \"legacy\"", "target   = \"accounts\"", 1);
    let tmp = gw.dir.path().join(".routes.toml.swp");
    std::fs::write(&tmp, text).unwrap();
    std::fs::rename(&tmp, &gw.config).unwrap();
    assert_eq!(wait_generation(&gw, 2).await, 2, "the watcher reloads within 2 s");
    assert_eq!(gw.table().routes["ACCTINQ"].target.name, "accounts");
    sims.stop();
}

#[tokio::test]
async fn admin_api_flips_routes_with_auth_audit_and_comments_kept() {
    let sims = sims().await;
    let gw = Gateway::start(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")).await;
    let patch = json!({ "target": "accounts" });
    assert_eq!(gw.admin_call("PUT", "/routes/ACCTINQ", None, Some(patch.clone())).await.0, 401, "no token");
    assert_eq!(gw.admin_call("PUT", "/routes/ACCTINQ", Some("wrong"), Some(patch.clone())).await.0, 401, "bad token");
    assert_eq!(gw.admin_call("POST", "/reload", None, None).await.0, 401);
    assert_eq!(gw.generation(), 1);

    // Comments to keep: add one to the file first.
    let text = std::fs::read_to_string(&gw.config)
        .unwrap()
        .replace("[routes.ACCTINQ]", "# inquiries: first to move\n[routes.ACCTINQ]");
    std::fs::write(&gw.config, text).unwrap();
    wait_generation(&gw, 2).await;
    let before = gw.generation();

    let outcome = gw.put_route("ACCTINQ", patch).await;
    assert_eq!(outcome["generation"], before + 1);
    assert_eq!(outcome["diff"]["retargeted"], json!(["ACCTINQ"]));
    let file = std::fs::read_to_string(&gw.config).unwrap();
    assert!(file.contains("# inquiries: first to move\n[routes.ACCTINQ]"), "{file}");
    assert!(file.contains("target   = \"accounts\""), "{file}");
    let (_, route) = gw.admin_call("GET", "/routes/ACCTINQ", None, None).await;
    assert_eq!(route["route"]["mode"], "new");

    // An invalid change is refused naming the key of the change (not a line of a patched text
    // that was never written); nothing changes.
    let (status, body) =
        gw.admin_call("PUT", "/routes/ACCTINQ", Some(ADMIN_TOKEN), Some(json!({ "target": "nobody" }))).await;
    assert_eq!(status, 422, "{body}");
    let problem = body["problems"][0]["message"].as_str().unwrap_or_default();
    assert!(problem.starts_with("routes.ACCTINQ.target (this change): ") && problem.contains("nobody"), "{body}");
    assert_eq!(gw.generation(), before + 1);
    assert!(std::fs::read_to_string(&gw.config).unwrap().contains("target   = \"accounts\""));

    let audit = std::fs::read_to_string(gw.dir.path().join("routes.audit.jsonl")).unwrap();
    let last: serde_json::Value = serde_json::from_str(audit.lines().last().unwrap()).unwrap();
    assert_eq!((last["who"].as_str(), last["source"].as_str()), (Some(ADMIN_NAME), Some("api")));
    assert_eq!(last["changes"][0]["before"]["target"], "legacy");
    assert_eq!(last["changes"][0]["after"]["target"], "accounts");
    let (_, recent) = gw.admin_call("GET", "/audit?limit=5", None, None).await;
    assert_eq!(recent["entries"].as_array().unwrap().len(), 2, "file edit and API change: {recent}");
    sims.stop();
}

#[tokio::test]
async fn canary_sends_its_share_and_rollback_returns_everyone() {
    let host = FakeHost::start(HostScript::Reply(vec![0x40; 85])).await;
    let service = fake_service(500, "{}").await;
    let up = Upstreams { legacy: host.addr.to_string(), accounts: format!("http://{service}/ops") };
    let gw = Gateway::start(&routes_toml(&up, "legacy", "legacy", "")).await;
    gw.put_route("ACCTINQ", json!({ "canary": { "to": "accounts", "percent": 30, "sticky": "ACCT-NO" } })).await;
    // The fake service answers 500, so a canary message shows as FC13; the host answers 200.
    let mut to_canary = std::collections::HashSet::new();
    for n in 0..400u64 {
        let (status, _) =
            gw.post(&gw.request("ACCTINQ", json!({ "ACCT-NO": format!("{:016}", 7_000_000 + n * 7919) }))).await;
        if status == 502 {
            to_canary.insert(n);
        }
    }
    let share = to_canary.len() as f64 / 400.0;
    assert!((0.22..=0.38).contains(&share), "30% canary sent {share}");
    assert_eq!(host.count(), 400 - to_canary.len());
    // Raising the share only adds customers.
    gw.put_route("ACCTINQ", json!({ "canary": { "to": "accounts", "percent": 60, "sticky": "ACCT-NO" } })).await;
    for n in to_canary.iter().copied().take(50) {
        let (status, _) =
            gw.post(&gw.request("ACCTINQ", json!({ "ACCT-NO": format!("{:016}", 7_000_000 + n * 7919) }))).await;
        assert_eq!(status, 502, "customer {n} was in the canary at 30% and must stay at 60%");
    }
    gw.put_route("ACCTINQ", json!({ "canary": null })).await;
    let (status, _) = gw.post(&gw.request("ACCTINQ", acct(1))).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn fallback_answers_reads_from_legacy_and_is_refused_for_writes() {
    let sims = sims().await;
    let dead = dead_address().await;
    let up = Upstreams { legacy: sims.host_tcp.to_string(), accounts: format!("http://{dead}/ops") };
    let toml = routes_toml(&up, "accounts", "legacy", "").replacen(
        "read_only = true",
        "read_only = true\nfallback = \"legacy\"",
        1,
    );
    let gw = Gateway::start(&toml).await;
    let (status, reply) = gw.post(&gw.request("ACCTINQ", acct(4))).await;
    assert_eq!(
        (status, response_code(&gw, &reply).0.as_str()),
        (200, "0000"),
        "the host answered for the dead service"
    );
    assert_eq!(gw.decode("ACCTINQ", &reply)["response"]["ACCT-NO"], "1000000000000004");
    // A write may not have a fallback: the change is refused.
    let (status, body) = gw
        .admin_call("PUT", "/routes/XFER", Some(ADMIN_TOKEN), Some(json!({ "target": "legacy", "fallback": "legacy" })))
        .await;
    assert_eq!(status, 422);
    assert!(body.to_string().contains("read_only"), "{body}");
    sims.stop();
}

#[tokio::test]
async fn kill_switch_answers_with_the_configured_reply() {
    let host = FakeHost::start(HostScript::Reply(vec![0x40; 85])).await;
    let up = Upstreams { legacy: host.addr.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
    let gw = Gateway::start(&routes_toml(&up, "legacy", "legacy", "")).await;
    gw.put_route(
        "ACCTINQ",
        json!({ "enabled": false, "disabled_reply": { "code": "E900", "message": "INQUIRY CLOSED FOR MAINTENANCE" } }),
    )
    .await;
    let (status, reply) = gw.post(&gw.request("ACCTINQ", acct(1))).await;
    assert_eq!(status, 503);
    assert_eq!(response_code(&gw, &reply), ("E900".to_string(), "INQUIRY CLOSED FOR MAINTENANCE".to_string()));
    assert_eq!(host.count(), 0);
    gw.put_route("ACCTINQ", json!({ "enabled": null, "disabled_reply": null })).await;
    assert_eq!(gw.post(&gw.request("ACCTINQ", acct(1))).await.0, 200);
    assert_eq!(host.count(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_message_in_flight_is_served_wholly_by_the_table_it_started_with() {
    // A slow new service; while its reply is on the way, the route's response layout changes
    // to one with a longer CUST-NAME. The in-flight reply must still use the old layout.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let handler: ficus::sim::http::Handler = std::sync::Arc::new(|_, _| {
        std::thread::sleep(Duration::from_millis(400));
        let body = r#"{"header":{"HDR-RESP-CODE":"0000"},"response":{"ACCT-NO":"1000000000000001","CUST-NAME":"KIM","ACCT-STATUS":"A","BALANCE":1,"AVAIL-BAL":1,"INT-RATE":0,"LAST-TXN-DATE":20260101}}"#;
        (200, "application/json", body.as_bytes().to_vec())
    });
    let (_stop, shutdown) = tokio::sync::watch::channel(false);
    tokio::spawn(ficus::sim::http::serve(listener, handler, shutdown));
    let up = Upstreams { legacy: dead_address().await.to_string(), accounts: format!("http://{addr}/ops") };
    let gw = Gateway::start(&routes_toml(&up, "accounts", "legacy", "")).await;
    let wide = gw.dir.path().join("WIDE.cpy");
    let text = std::fs::read_to_string(copybooks().join("ACCTINQ.cpy"))
        .unwrap()
        .replace("CUST-NAME               PIC X(30)", "CUST-NAME               PIC X(60)");
    std::fs::write(&wide, text).unwrap();

    let request = gw.request("ACCTINQ", acct(1));
    let http = gw.http();
    let in_flight = tokio::spawn(async move { post(http, &request).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    gw.put_route("ACCTINQ", json!({ "response": format!("{}#ACCTINQ-RESP", wide.display()) })).await;
    let (status, old_reply) = in_flight.await.unwrap();
    assert_eq!(status, 200);
    assert_eq!(old_reply.len(), 85 + 75, "encoded with the layout of the table the message started with");
    let (status, new_reply) = gw.post(&gw.request("ACCTINQ", acct(1))).await;
    assert_eq!(status, 200);
    assert_eq!(new_reply.len(), 85 + 105, "the next message uses the new table");
}
