//! Admin security: no admin listener binds beyond loopback without a token, and every mutation
//! (any method but GET/HEAD, on any path) needs a valid token and changes nothing without one.

mod common;

use common::*;
use ficus::admin::auth::Tokens;
use ficus::admin::check_bind;
use serde_json::json;

#[test]
fn check_bind_refuses_non_loopback_without_a_token() {
    let none = Tokens::parse("");
    let some = Tokens::parse("ops:s3cret");
    for addr in ["0.0.0.0:9901", "10.1.2.3:9901", "[::]:9901", "192.168.0.1:0"] {
        let addr = addr.parse().unwrap();
        assert!(check_bind(&addr, &none).is_err(), "{addr} without a token must be refused");
        assert!(check_bind(&addr, &some).is_ok(), "{addr} with a token is allowed");
    }
    for addr in ["127.0.0.1:9901", "[::1]:9901", "127.0.0.2:0"] {
        assert!(check_bind(&addr.parse().unwrap(), &none).is_ok(), "{addr} is loopback");
    }
}

#[tokio::test]
async fn the_gateway_refuses_to_start_an_open_admin_listener() {
    if std::env::var_os(ficus::admin::auth::TOKEN_ENV).is_some() {
        return; // a token from the environment would (rightly) allow it
    }
    let up = Upstreams { legacy: dead_address().await.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
    let toml = routes_toml(&up, "legacy", "legacy", "")
        .replace("admin       = \"127.0.0.1:0\"", "admin       = \"0.0.0.0:0\"")
        .replace("admin_token_file = \"tokens\"\n", "");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("routes.toml");
    std::fs::write(&path, toml).unwrap();
    let started = ficus::server::start(
        &path,
        ficus::server::Options { watch: false, sighup: false, takeover: false, ..Default::default() },
    )
    .await;
    let error = started.err().expect("an admin listener on 0.0.0.0 without a token must not start");
    assert!(error.contains("not a loopback address"), "{error}");
}

#[tokio::test]
async fn every_mutation_needs_the_token() {
    let up = Upstreams { legacy: dead_address().await.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
    let gw = Gateway::start(&routes_toml(&up, "legacy", "legacy", "")).await;
    let generation = gw.generation();
    let patch = json!({ "enabled": false });
    let mutations = [
        ("PUT", "/routes/ACCTINQ"),
        ("POST", "/reload"),
        ("DELETE", "/routes/ACCTINQ"),
        ("PATCH", "/routes/ACCTINQ"),
        ("POST", "/routes"),
        ("PUT", "/nothing-here"),
    ];
    for (method, path) in mutations {
        for token in [None, Some("wrong"), Some(""), Some("s3cret-test-toke"), Some("s3cret-test-tokenX")] {
            let (status, body) = gw.admin_call(method, path, token, Some(patch.clone())).await;
            assert_eq!(status, 401, "{method} {path} with {token:?}: {body}");
            let said = body["error"].as_str().unwrap_or_default();
            match token {
                None => assert!(said.contains("required"), "no token: {said}"),
                Some(_) => assert!(said.starts_with("invalid token"), "a wrong token is called wrong: {said}"),
            }
        }
    }
    assert_eq!(gw.generation(), generation, "nothing changed");
    assert!(gw.table().routes["ACCTINQ"].enabled);
    // With the token, the same call works: the refusals above were about the token.
    gw.put_route("ACCTINQ", patch).await;
    assert!(!gw.table().routes["ACCTINQ"].enabled);
}
