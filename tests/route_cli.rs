//! `ficus route`'s shadow, ignore, capture and kill-switch flags through the real CLI and the
//! real admin API; a shadow that points at the side answering is warned about everywhere and
//! turned around on a read-only flip or rollback, never towards the host for a write.

mod common;

use common::*;
use ficus::control::reload::Trigger;
use serde_json::json;

/// Runs `ficus ARGS --admin <gw>` with the admin token: (exit code, stdout, stderr).
async fn ficus(gw: &Gateway, args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ficus"))
        .args(args)
        .args(["--admin", &format!("http://{}", gw.admin())])
        .env("FICUS_ADMIN_TOKEN", ADMIN_TOKEN)
        .output()
        .await
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

/// `ficus route ARGS`, which must succeed: its stdout.
async fn route(gw: &Gateway, args: &[&str]) -> String {
    let (code, out, err) = ficus(gw, &[&["route"], args].concat()).await;
    assert_eq!(code, 0, "ficus route {args:?}\n{out}\n{err}");
    out
}

/// `[routes.OP]` as written in routes.toml now.
fn on_disk(gw: &Gateway, op: &str) -> toml::Value {
    let file: toml::Value = toml::from_str(&std::fs::read_to_string(&gw.config).unwrap()).unwrap();
    file["routes"][op].clone()
}

fn shadow_of(gw: &Gateway, op: &str) -> Option<String> {
    gw.table().routes[op].shadow.as_ref().map(|s| s.to.name.clone())
}

const SHADOWED: &str = "shadow = \"accounts\"\n";

fn gateway_toml(sims: &ficus::demo::Sims, acctinq_extra: &str) -> String {
    let toml = routes_toml(&sim_upstreams(sims), "legacy", "legacy", "");
    toml.replacen("read_only = true\n", &format!("read_only = true\n{acctinq_extra}"), 1)
}

#[tokio::test]
async fn every_flag_changes_its_key_through_the_admin_api() {
    let sims = sims().await;
    let gw = Gateway::start_unwatched(&gateway_toml(&sims, "")).await;

    let out = route(&gw, &["ACCTINQ", "--shadow", "accounts", "--shadow-percent", "25"]).await;
    assert!(out.contains("shadow: -  →  accounts") && out.contains("accounts 25% comparing"), "{out}");
    assert_eq!(shadow_of(&gw, "ACCTINQ").as_deref(), Some("accounts"));
    assert_eq!(gw.table().routes["ACCTINQ"].shadow.as_ref().unwrap().threshold, 2500);
    assert_eq!(on_disk(&gw, "ACCTINQ")["shadow_percent"].as_integer(), Some(25), "written as people write it");

    route(&gw, &["ACCTINQ", "--ignore", "HDR-TIMESTAMP", "--ignore", "CUST-NAME"]).await;
    assert_eq!(on_disk(&gw, "ACCTINQ")["ignore"], toml::Value::try_from(["HDR-TIMESTAMP", "CUST-NAME"]).unwrap());
    let out = route(&gw, &["ACCTINQ", "--no-ignore", "CUST-NAME", "--ignore", "HDR-TIMESTAMP"]).await;
    assert!(out.contains("ignore: [\"HDR-TIMESTAMP\",\"CUST-NAME\"]  →  [\"HDR-TIMESTAMP\"]"), "{out}");
    assert_eq!(on_disk(&gw, "ACCTINQ")["ignore"], toml::Value::try_from(["HDR-TIMESTAMP"]).unwrap());
    let generation = gw.generation();
    let (code, _, err) = ficus(&gw, &["route", "ACCTINQ", "--no-ignore", "NO-SUCH"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("NO-SUCH is not in ACCTINQ's ignore list (HDR-TIMESTAMP)"), "{err}");
    assert_eq!(gw.generation(), generation, "nothing was changed");
    route(&gw, &["ACCTINQ", "--no-ignore", "HDR-TIMESTAMP"]).await;
    assert!(on_disk(&gw, "ACCTINQ").get("ignore").is_none(), "an emptied list is removed");

    route(&gw, &["ACCTINQ", "--capture", "5"]).await;
    assert_eq!(gw.table().routes["ACCTINQ"].capture, Some(500));
    route(&gw, &["ACCTINQ", "--no-capture"]).await;
    assert_eq!(gw.table().routes["ACCTINQ"].capture, None);

    let out = route(&gw, &["ACCTINQ", "--disable"]).await;
    assert!(!gw.table().routes["ACCTINQ"].enabled);
    assert!(out.contains("enabled: true  →  false") && !out.contains("warning"), "{out}");
    let (_, routes, _) = ficus(&gw, &["routes"]).await;
    let line = routes.lines().find(|l| l.starts_with("ACCTINQ")).unwrap();
    assert!(line.contains("accounts 25% IDLE") && line.contains("DISABLED"), "{routes}");
    route(&gw, &["ACCTINQ", "--enable"]).await;
    assert!(gw.table().routes["ACCTINQ"].enabled);
    let (_, routes, _) = ficus(&gw, &["routes"]).await;
    let line = routes.lines().find(|l| l.starts_with("ACCTINQ")).unwrap();
    assert!(line.contains("accounts 25% comparing") && line.contains("enabled, read-only"), "{routes}");

    route(&gw, &["ACCTINQ", "--no-shadow"]).await;
    assert_eq!(shadow_of(&gw, "ACCTINQ"), None);
    assert!(on_disk(&gw, "ACCTINQ").get("shadow").is_none());
    let (code, _, err) = ficus(&gw, &["route", "ACCTINQ", "--enable", "--disable"]).await;
    assert_eq!(code, 2, "clap refuses both: {err}");
    sims.stop();
}

#[tokio::test]
async fn a_flip_and_a_rollback_turn_a_read_only_shadow_around() {
    let sims = sims().await;
    let gw = Gateway::start_unwatched(&gateway_toml(&sims, SHADOWED)).await;

    let out = route(&gw, &["ACCTINQ", "--target", "accounts"]).await;
    assert!(out.contains("shadow turned around: ACCTINQ now shadows legacy"), "{out}");
    assert!(!out.contains("warning"), "{out}");
    assert_eq!(gw.table().routes["ACCTINQ"].target.name, "accounts");
    assert_eq!(shadow_of(&gw, "ACCTINQ").as_deref(), Some("legacy"), "a reverse shadow to the host");
    assert_eq!(on_disk(&gw, "ACCTINQ")["shadow"].as_str(), Some("legacy"), "written to routes.toml");

    let out = route(&gw, &["ACCTINQ", "--rollback"]).await;
    assert!(out.contains("shadow turned around: ACCTINQ now shadows accounts"), "{out}");
    assert_eq!(gw.table().routes["ACCTINQ"].target.name, "legacy");
    assert_eq!(shadow_of(&gw, "ACCTINQ").as_deref(), Some("accounts"), "the service is shadowed again");
    sims.stop();
}

#[tokio::test]
async fn an_idle_shadow_is_warned_about_everywhere() {
    let sims = sims().await;
    let gw = Gateway::start_unwatched(&gateway_toml(&sims, SHADOWED)).await;
    let idle = "shadow accounts is the target: nothing is compared";

    // The CLI, told to keep the shadow: the change reply's warning, printed.
    let out = route(&gw, &["ACCTINQ", "--target", "accounts", "--keep-shadow"]).await;
    assert_eq!(shadow_of(&gw, "ACCTINQ").as_deref(), Some("accounts"));
    assert!(out.contains(&format!("warning: ACCTINQ: {idle}")), "{out}");
    assert!(out.contains("`ficus route ACCTINQ --shadow legacy` turns it around"), "{out}");
    assert!(out.contains("accounts 100% IDLE"), "{out}");

    // GET /routes per route, `ficus routes`, `ficus check`.
    let (_, body) = gw.admin_call("GET", "/routes", None, None).await;
    assert_eq!(body["routes"]["ACCTINQ"]["shadow_idle"], idle, "{body}");
    assert!(body["routes"]["TXNHIST"].get("shadow_idle").is_none());
    let (_, routes, _) = ficus(&gw, &["routes"]).await;
    assert!(routes.contains(&format!("  ACCTINQ: {idle}")), "{routes}");
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_ficus"))
        .args(["check", "--config"])
        .arg(&gw.config)
        .output()
        .unwrap();
    let check = String::from_utf8_lossy(&check.stdout);
    assert!(
        check.contains("shadow accounts 100% IDLE") && check.contains(&format!("warning: ACCTINQ: {idle}")),
        "{check}"
    );

    // A plain PUT: the reply's `warnings`, for a canary to the shadow's upstream too.
    let body = gw.put_route("ACCTINQ", json!({ "target": "legacy" })).await;
    assert!(body.get("warnings").is_none(), "the shadow compares again: {body}");
    let canary = json!({ "canary": { "to": "accounts", "percent": 10, "sticky": "ACCT-NO" } });
    let body = gw.put_route("ACCTINQ", canary).await;
    let partial = "shadow accounts is the canary's upstream: its 10% share is not compared";
    assert!(body["warnings"][0].as_str().unwrap().contains(partial), "{body}");
    let (_, body) = gw.admin_call("GET", "/routes/ACCTINQ", None, None).await;
    assert_eq!(body["route"]["shadow_partial"], partial, "{body}");

    // A file edit: the reload's reply warns too.
    let text = std::fs::read_to_string(&gw.config).unwrap();
    let text = text.replace(
        "target   = \"legacy\"\nread_only = true\nshadow",
        "target   = \"accounts\"\nread_only = true\nshadow",
    );
    std::fs::write(&gw.config, text).unwrap();
    let outcome = gw.running.reloader.reload(Trigger::Signal).unwrap();
    assert_eq!(gw.table().routes["ACCTINQ"].target.name, "accounts");
    assert!(
        outcome.warnings.iter().any(|w| w.contains("shadow accounts is the target and the canary's")),
        "{:?}",
        outcome.warnings
    );
    sims.stop();
}

#[tokio::test]
async fn a_write_is_never_shadowed_to_the_host() {
    let sims = sims().await;
    let toml =
        routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "shadow = \"accounts\"\nshadow_writes = \"dry-run\"\n");
    let gw = Gateway::start_unwatched(&toml).await;

    // Asked directly: refused by the gateway, nothing changes.
    let generation = gw.generation();
    let (code, out, err) = ficus(&gw, &["route", "XFER", "--shadow", "legacy"]).await;
    assert_eq!(code, 1, "{out}{err}");
    assert!(err.contains("never sent to the host twice"), "{err}");
    assert_eq!((gw.generation(), shadow_of(&gw, "XFER").as_deref()), (generation, Some("accounts")));

    // A flip of the write to the service: no reverse shadow to the host, none removed silently.
    let out = route(&gw, &["XFER", "--target", "accounts"]).await;
    assert_eq!(gw.table().routes["XFER"].target.name, "accounts");
    assert_eq!(shadow_of(&gw, "XFER").as_deref(), Some("accounts"), "the shadow is left as it was");
    assert!(!out.contains("turned around"), "{out}");
    for needle in [
        "warning: XFER: shadow accounts is the target: nothing is compared",
        "`ficus route XFER --no-shadow` removes it",
        "XFER is a write: it is never shadowed to the host legacy",
    ] {
        assert!(out.contains(needle), "{needle:?} in:\n{out}");
    }
    let (_, body) = gw.admin_call("GET", "/routes/XFER", None, None).await;
    assert!(body["route"]["shadow_idle"].is_string(), "{body}");
    // And back: the shadow compares again, no warning.
    let out = route(&gw, &["XFER", "--rollback"]).await;
    assert!(!out.contains("warning"), "{out}");
    assert_eq!(shadow_of(&gw, "XFER").as_deref(), Some("accounts"));
    sims.stop();
}
