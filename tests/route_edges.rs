//! The edges of `ficus route` and the admin API a person meets: the shadow turn-around decided
//! by the gateway for every client (`"shadow_follows": true`), advice that fits a canary,
//! changes that would be taken but do nothing (refused or said), a refused change named by its
//! key, and client errors that say what is wrong (no token, the wrong port, nothing listening).

mod common;

use common::*;
use serde_json::json;

/// Runs `ficus ARGS --admin ADMIN` with `token` as FICUS_ADMIN_TOKEN: (exit code, stdout, stderr).
async fn ficus_at(admin: &str, token: &str, args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ficus"))
        .args(args)
        .args(["--admin", admin])
        .env("FICUS_ADMIN_TOKEN", token)
        .output()
        .await
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).to_string();
    (out.status.code().unwrap_or(-1), text(&out.stdout), text(&out.stderr))
}

async fn ficus(gw: &Gateway, args: &[&str]) -> (i32, String, String) {
    ficus_at(&format!("http://{}", gw.admin()), ADMIN_TOKEN, args).await
}

fn shadow_of(gw: &Gateway, op: &str) -> Option<String> {
    gw.table().routes[op].shadow.as_ref().map(|s| s.to.name.clone())
}

fn gateway_toml(sims: &ficus::demo::Sims, acctinq_extra: &str) -> String {
    let toml = routes_toml(&sim_upstreams(sims), "legacy", "legacy", "");
    toml.replacen("read_only = true\n", &format!("read_only = true\n{acctinq_extra}"), 1)
}

#[tokio::test]
async fn the_gateway_turns_the_shadow_around_when_asked_for_any_client() {
    let sims = sims().await;
    let gw = Gateway::start_unwatched(&gateway_toml(&sims, "shadow = \"accounts\"\n")).await;

    // Not asked (an old client): the shadow stays, idle, and the reply warns.
    let body = gw.put_route("ACCTINQ", json!({ "target": "accounts" })).await;
    assert_eq!(shadow_of(&gw, "ACCTINQ").as_deref(), Some("accounts"));
    assert!(body.get("turned").is_none() && body["warnings"][0].as_str().unwrap().contains("nothing is compared"));
    gw.put_route("ACCTINQ", json!({ "target": "legacy" })).await;

    // Asked, as the CLI and the dashboard ask: turned, said, no warning; not a route key on disk.
    let body = gw.put_route("ACCTINQ", json!({ "target": "accounts", "canary": null, "shadow_follows": true })).await;
    assert_eq!(shadow_of(&gw, "ACCTINQ").as_deref(), Some("legacy"), "{body}");
    assert!(body["turned"].as_str().unwrap().contains("shadow turned around: ACCTINQ now shadows legacy"), "{body}");
    assert!(body.get("warnings").is_none(), "{body}");
    assert!(!std::fs::read_to_string(&gw.config).unwrap().contains("shadow_follows"));
    let body = gw.put_route("ACCTINQ", json!({ "target": "legacy", "shadow_follows": true })).await;
    assert_eq!(shadow_of(&gw, "ACCTINQ").as_deref(), Some("accounts"), "{body}");

    // Anything but a boolean is refused, and nothing changes.
    let generation = gw.generation();
    let (status, body) = gw
        .admin_call(
            "PUT",
            "/routes/ACCTINQ",
            Some(ADMIN_TOKEN),
            Some(json!({ "target": "accounts", "shadow_follows": "yes" })),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"].as_str().unwrap().contains("\"shadow_follows\" is true or false"), "{body}");
    assert_eq!(gw.generation(), generation);
    sims.stop();
}

#[tokio::test]
async fn a_canary_to_the_shadow_keeps_the_shadow() {
    let sims = sims().await;
    let gw = Gateway::start_unwatched(&gateway_toml(&sims, "shadow = \"accounts\"\n")).await;
    let (code, out, err) =
        ficus(&gw, &["route", "ACCTINQ", "--canary", "10", "--to", "accounts", "--sticky", "ACCT-NO"]).await;
    assert_eq!(code, 0, "{out}{err}");
    let warning = out.lines().find(|l| l.starts_with("warning: ACCTINQ")).unwrap_or_else(|| panic!("{out}"));
    assert!(warning.contains("its 10% share is not compared"), "{warning}");
    assert!(warning.contains("the other 90% (served by legacy) is still compared: keep the shadow"), "{warning}");
    assert!(!warning.contains("--no-shadow"), "removing it would lose the 90%: {warning}");
    sims.stop();
}

#[tokio::test]
async fn changes_that_would_do_nothing_are_refused_or_said() {
    let sims = sims().await;
    let gw = Gateway::start_unwatched(&gateway_toml(&sims, "")).await;
    let generation = gw.generation();
    let refused = [
        (&["route", "acctinq", "--disable"][..], "no route for acctinq — did you mean ACCTINQ?"),
        (
            &["route", "ACCTINQ", "--capture", "0"][..],
            "--capture 0 records nothing: to stop recording ACCTINQ, use --no-capture",
        ),
        (
            &["route", "ACCTINQ", "--canary", "10", "--to", "legacy", "--sticky", "ACCT-NO"][..],
            "ACCTINQ's target is already legacy",
        ),
        (&["route", "ACCTINQ", "--shadow-percent", "50"][..], "ACCTINQ has no shadow: --shadow-percent"),
    ];
    for (args, needle) in refused {
        let (code, out, err) = ficus(&gw, args).await;
        assert_eq!(code, 1, "{args:?}: {out}{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    assert_eq!(gw.generation(), generation, "nothing was changed");

    // Taken, and said: ignore rules serve replay before there is a shadow.
    let (code, out, _) = ficus(&gw, &["route", "ACCTINQ", "--ignore", "HDR-TIMESTAMP"]).await;
    assert_eq!(code, 0);
    assert!(out.contains("note: ACCTINQ has no shadow: the ignore list applies to `ficus replay` now"), "{out}");

    // A change the gateway refuses names the key of the change, not a line of a text never seen.
    let (code, _, err) = ficus(&gw, &["route", "ACCTINQ", "--shadow", "nosuch"]).await;
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("routes.ACCTINQ.shadow (this change):") && err.contains("nosuch"), "{err}");
    assert!(!err.contains("line "), "{err}");
    sims.stop();
}

#[tokio::test]
async fn admin_client_errors_say_what_is_wrong() {
    let sims = sims().await;
    let gw = Gateway::start_unwatched(&gateway_toml(&sims, "")).await;
    let admin = format!("http://{}", gw.admin());

    // An empty token is no token: "required", and the hint once.
    let (code, _, err) = ficus_at(&admin, "", &["route", "ACCTINQ", "--disable"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("HTTP 401: Authorization: Bearer <token> required"), "{err}");
    assert_eq!(err.matches("FICUS_ADMIN_TOKEN").count(), 1, "{err}");
    // A wrong one: the gateway's text names the fix; no second hint.
    let (_, _, err) = ficus_at(&admin, "wrong", &["route", "ACCTINQ", "--disable"]).await;
    assert!(err.contains("invalid token"), "{err}");
    assert_eq!(err.matches("FICUS_ADMIN_TOKEN").count(), 1, "{err}");

    // The channel port is not the admin API.
    let (code, _, err) = ficus_at(&format!("http://{}", gw.http()), ADMIN_TOKEN, &["routes"]).await;
    assert_eq!(code, 1);
    assert!(err.contains("not ficus's admin API") && err.contains("channel port"), "{err}");

    // Nothing listening: the cause, not just "client error (Connect)".
    let dead = dead_address().await;
    let (code, _, err) = ficus_at(&format!("http://{dead}"), ADMIN_TOKEN, &["routes"]).await;
    assert_eq!(code, 1);
    assert!(err.to_lowercase().contains("connection refused"), "{err}");
    assert!(gw.table().routes["ACCTINQ"].enabled, "no change got through");
    sims.stop();
}

#[tokio::test]
async fn a_change_keeps_the_files_bom_and_line_endings() {
    let sims = sims().await;
    let windows = format!("\u{feff}{}", gateway_toml(&sims, "").replace('\n', "\r\n"));
    let gw = Gateway::start_unwatched(&windows).await;
    let (code, out, err) = ficus(&gw, &["route", "ACCTINQ", "--target", "accounts"]).await;
    assert_eq!(code, 0, "{out}{err}");
    let bytes = std::fs::read(&gw.config).unwrap();
    let text = String::from_utf8(bytes).unwrap();
    assert!(text.starts_with('\u{feff}'), "the BOM is kept: {:?}", &text[..20]);
    assert_eq!(text.matches('\n').count(), text.matches("\r\n").count(), "every line still ends in CRLF");
    assert!(text.contains("target   = \"accounts\"\r\n"), "{text:?}");

    // Over an invalid edit on disk (kept aside), routes.toml is written in the file's style too.
    let mut broken = text.clone();
    broken.push_str("[routes.BROKEN\r\n");
    std::fs::write(&gw.config, &broken).unwrap();
    let (code, out, err) = ficus(&gw, &["route", "ACCTINQ", "--rollback"]).await;
    assert_eq!(code, 0, "{out}{err}");
    let text = std::fs::read_to_string(&gw.config).unwrap();
    assert!(text.starts_with('\u{feff}') && !text.contains("BROKEN"), "{text:?}");
    assert_eq!(text.matches('\n').count(), text.matches("\r\n").count());
    let kept = std::fs::read_to_string(gw.config.with_file_name("routes.toml.rejected")).unwrap();
    assert_eq!(kept, broken, "the invalid edit is kept byte for byte");
    sims.stop();
}
