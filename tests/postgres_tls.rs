//! PostgreSQL over TLS, as a bank runs it: a server that takes loopback connections only over
//! TLS (`hostnossl … reject`) and a certificate from the bank's own CA. The journal's store URL
//! carries libpq's parameters — `sslmode=verify-full&sslrootcert=/path/ca.pem` — and ficus
//! journals writes there; without TLS, or against a CA that did not sign the server's
//! certificate, writes are refused (FC24) and never sent.

#[path = "support/postgres.rs"]
mod postgres;

mod common;

use common::*;
use serde_json::{json, Value};

fn xfer() -> Value {
    json!({ "FROM-ACCT": "1000000000000001", "TO-ACCT": "1000000000000002", "AMOUNT": 10.0, "MEMO": "TLS" })
}

fn request(gw: &Gateway, seq: u64) -> Vec<u8> {
    ficus::cli::build_request(&gw.table(), "XFER", &xfer(), &json!({ "HDR-SEQ-NO": seq })).unwrap()
}

async fn gateway(sims: &ficus::demo::Sims, store: &str) -> Gateway {
    let up = sim_upstreams(sims);
    Gateway::start(&format!("{}\n[journal]\nstore = \"{store}\"\n", routes_toml(&up, "legacy", "legacy", ""))).await
}

fn balance(sims: &ficus::demo::Sims) -> i128 {
    sims.ledger.account("1000000000000001").unwrap().balance
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_journal_works_over_tls_with_the_banks_ca_and_refuses_writes_without() {
    let pg = postgres::Postgres::start_tls();
    let url = pg.create_database("journal_tls");
    let sims = sims().await;
    let ca = pg.ca().display().to_string();

    // verify-full: the server's certificate is checked against the CA and its name (127.0.0.1).
    let gw = gateway(&sims, &format!("{url}?sslmode=verify-full&sslrootcert={ca}")).await;
    let before = balance(&sims);
    let message = request(&gw, 5001);
    let (status, first) = gw.post(&message).await;
    assert_eq!((status, response_code(&gw, &first).0.as_str()), (200, "0000"), "journaled over TLS");
    let (_, again) = gw.post(&message).await;
    assert_eq!(again, first, "the duplicate found in the journal, over TLS");
    assert_eq!(balance(&sims), before - 1000, "posted once");
    drop(gw);
    // No sslmode: libpq's default, prefer — TLS when the server offers it.
    let gw = gateway(&sims, &url).await;
    let (_, reply) = gw.post(&request(&gw, 5003)).await;
    assert_eq!(response_code(&gw, &reply).0, "0000", "sslmode=prefer takes the TLS the server offers");
    drop(gw);

    // The refusals: never sent, each with the journal's error reply.
    let other_ca = tempfile::tempdir().unwrap();
    let stranger = other_ca.path().join("stranger.pem");
    let out = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
        .args(["-days", "2", "-subj", "/CN=another CA", "-keyout"])
        .arg(other_ca.path().join("stranger.key"))
        .arg("-out")
        .arg(&stranger)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for (why, store) in [
        ("no TLS: the server's pg_hba.conf rejects it", format!("{url}?sslmode=disable")),
        (
            "a CA that did not sign the server's certificate",
            format!("{url}?sslmode=verify-full&sslrootcert={}", stranger.display()),
        ),
    ] {
        let gw = gateway(&sims, &store).await;
        let before = balance(&sims);
        let (status, reply) = gw.post(&request(&gw, 5002)).await;
        let (code, text) = response_code(&gw, &reply);
        assert_eq!((status, code.as_str()), (503, "FC24"), "{why}: {text}");
        assert_eq!(balance(&sims), before, "{why}: not sent");
    }
    sims.stop();
}

#[tokio::test]
async fn a_store_url_that_could_never_work_is_refused_naming_its_parameter_never_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    let up = Upstreams { legacy: "127.0.0.1:9".into(), accounts: "http://127.0.0.1:9/ops".into() };
    let config = dir.path().join("routes.toml");
    std::fs::write(dir.path().join("tokens"), format!("{ADMIN_NAME}:{ADMIN_TOKEN}\n")).unwrap();
    let with_store = |store: &str| {
        let toml = format!("{}\n[journal]\nstore = \"{store}\"\n", routes_toml(&up, "legacy", "legacy", ""));
        std::fs::write(&config, toml).unwrap();
    };
    let base = "postgres://ficus:pw0rd@127.0.0.1:9/ficus";
    for (query, names) in [
        ("?sslmode=bogus", "bogus"),
        ("?sslmode=require&sslpassword=SECRET", "\"sslpassword\""),
        ("?connect_timeout=5", "\"connect_timeout\""),
    ] {
        with_store(&format!("{base}{query}"));
        let (code, out, err) = ficus_cli(&["check", "--config", config.to_str().unwrap()]).await;
        let said = format!("{out}{err}");
        assert_eq!(code, 64, "{query}: {said}");
        assert!(said.contains(names), "{query}: {said}");
        assert!(!said.contains("SECRET") && !said.contains("pw0rd"), "{query}: a secret shown: {said}");
    }
    // A TLS file that is not where ficus serves: the start is refused naming the parameter.
    with_store(&format!("{base}?sslmode=verify-full&sslrootcert=/nonexistent/bank-ca.pem"));
    let (code, out, err) = ficus_cli(&["check", "--config", config.to_str().unwrap()]).await;
    assert_eq!(code, 0, "ficus check may run elsewhere: {out}{err}");
    let why = ficus::server::start(&config, Default::default()).await.err().expect("the start is refused");
    assert!(why.contains("sslrootcert = /nonexistent/bank-ca.pem"), "{why}");
    assert!(!why.contains("pw0rd"), "{why}");
}
