//! `ficus send` as a person uses it, against a real gateway and the demo's simulators: HTTP
//! replies name the upstream that answered (or failed) and the route generation, and `send`
//! prints it; every mistake (operation, field, missing routes.toml) says what to do.

mod common;

use common::*;
use serde_json::json;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A raw POST: (status, response head lower-cased, body).
async fn post_with_head(addr: SocketAddr, message: &[u8]) -> (u16, String, Vec<u8>) {
    let mut conn = TcpStream::connect(addr).await.unwrap();
    let head = format!("POST / HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", message.len());
    conn.write_all(head.as_bytes()).await.unwrap();
    conn.write_all(message).await.unwrap();
    let mut raw = Vec::new();
    conn.read_to_end(&mut raw).await.unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let (status, body) = parse_response(&raw);
    (status, String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase(), body)
}

struct Run {
    ok: bool,
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `ficus send ARGS` with `env` set.
async fn send(args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_ficus"));
    cmd.arg("send").args(args).env_remove("FICUS_CONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().await.unwrap();
    Run {
        ok: out.status.success(),
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[tokio::test]
async fn http_replies_name_the_upstream_before_and_after_a_flip() {
    let sims = sims().await;
    let gw = Gateway::start(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")).await;
    let acct = json!({ "ACCT-NO": "1000000000000001" });

    let (status, head, _) = post_with_head(gw.http(), &gw.request("ACCTINQ", acct.clone())).await;
    assert_eq!(status, 200);
    assert!(head.contains("\r\nficus-upstream: legacy\r\n"), "{head}");
    assert!(head.contains(&format!("\r\nficus-generation: {}\r\n", gw.generation())), "{head}");

    let (config, to) = (gw.config.display().to_string(), gw.http().to_string());
    let body = acct.to_string();
    let before = send(&["--config", &config, "--to", &to, "ACCTINQ", &body], &[]).await;
    assert!(before.ok, "{}", before.stderr);
    assert!(
        before.stderr.contains(&format!("answered by legacy (route generation {})", gw.generation())),
        "{}",
        before.stderr
    );
    assert!(before.stdout.contains("\"CUST-NAME\": \"KIM SEOYEON\""), "{}", before.stdout);

    gw.put_route("ACCTINQ", json!({ "target": "accounts" })).await;
    let (status, head, _) = post_with_head(gw.http(), &gw.request("ACCTINQ", acct.clone())).await;
    assert_eq!(status, 200);
    assert!(head.contains("\r\nficus-upstream: accounts\r\n"), "{head}");
    // FICUS_CONFIG stands in for --config.
    let after = send(&["--to", &to, "ACCTINQ", &body], &[("FICUS_CONFIG", &config)]).await;
    assert!(after.ok, "{}", after.stderr);
    assert!(
        after.stderr.contains(&format!("answered by accounts (route generation {})", gw.generation())),
        "{}",
        after.stderr
    );

    // TCP replies carry no header: send says so rather than guess.
    let tcp = send(&["--config", &config, "--tcp", "--to", &gw.tcp().to_string(), "ACCTINQ", &body], &[]).await;
    assert!(tcp.ok, "{}", tcp.stderr);
    assert!(tcp.stderr.contains("via tcp: upstream not reported"), "{}", tcp.stderr);
    assert!(!tcp.stderr.contains("answered by"), "{}", tcp.stderr);
    sims.stop();
}

#[tokio::test]
async fn error_replies_name_the_upstream_that_failed_or_none() {
    let dead = dead_address().await;
    let up = Upstreams { legacy: dead.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
    let gw = Gateway::start(&routes_toml(&up, "legacy", "legacy", "")).await;
    let message = gw.request("ACCTINQ", json!({ "ACCT-NO": "1" }));
    let (status, head, _) = post_with_head(gw.http(), &message).await;
    assert_eq!(status, 502);
    assert!(head.contains("\r\nficus-upstream: legacy\r\n"), "{head}");
    assert!(head.contains("\r\nficus-error: fc10 "), "{head}");

    // A message that reaches no upstream names none, but still its generation.
    let (status, head, _) = post_with_head(gw.http(), &message[..40]).await;
    assert_eq!(status, 400);
    assert!(!head.contains("ficus-upstream"), "{head}");
    assert!(head.contains("\r\nficus-generation: "), "{head}");

    let (config, to) = (gw.config.display().to_string(), gw.http().to_string());
    let run = send(&["--config", &config, "--to", &to, "ACCTINQ", r#"{"ACCT-NO":"1"}"#], &[]).await;
    assert!(run.stderr.contains("legacy failed (route generation"), "{}", run.stderr);
    assert!(run.stderr.contains("ficus-error: FC10"), "{}", run.stderr);
}

#[tokio::test]
async fn mistakes_say_what_to_do() {
    let sims = sims().await;
    let gw = Gateway::start(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")).await;
    let (config, to) = (gw.config.display().to_string(), gw.http().to_string());
    let acct = r#"{"ACCT-NO":"1000000000000001"}"#;

    let run = send(&["--config", &config, "--to", &to, "acctinq", acct], &[]).await;
    assert!(!run.ok);
    assert!(run.stderr.contains("did you mean ACCTINQ?"), "{}", run.stderr);
    assert!(run.stderr.contains("ACCTINQ, TXNHIST, XFER"), "the operations that can be built: {}", run.stderr);
    assert!(run.stderr.contains("[default], legacy"), "{}", run.stderr);
    assert!(run.stderr.contains("ficus send --raw acctinq"), "{}", run.stderr);

    let run = send(&["--config", &config, "--to", &to, "ACCTINQ", r#"{"acct_no":"1000000000000001"}"#], &[]).await;
    assert!(!run.ok);
    assert!(run.stderr.contains(r#""acct_no" — did you mean "ACCT-NO"?"#), "{}", run.stderr);
    assert!(run.stderr.contains("ACCTINQ-REQ has: ACCT-NO"), "{}", run.stderr);

    let rows = r#"{"ACCT-NO":"1","FROM-DATE":20260101,"TO-DATE":20261231,"MAX-ROWS":5,"LIMIT":9}"#;
    let run = send(&["--config", &config, "--to", &to, "TXNHIST", rows], &[]).await;
    assert!(!run.ok);
    assert!(run.stderr.contains("\"LIMIT\""), "{}", run.stderr);
    assert!(run.stderr.contains("TXNHIST-REQ has: ACCT-NO, FROM-DATE, TO-DATE, MAX-ROWS"), "{}", run.stderr);

    let run =
        send(&["--config", &config, "--to", &to, "--header", r#"{"HDR-CHANEL":"MBK"}"#, "ACCTINQ", acct], &[]).await;
    assert!(!run.ok);
    assert!(run.stderr.contains(r#"--header: 1 field name(s) not in COMM-HDR"#), "{}", run.stderr);
    assert!(run.stderr.contains(r#"did you mean "HDR-CHANNEL"?"#), "{}", run.stderr);

    // An operation without a route goes to [default] as it is: --raw sends it.
    let run = send(&["--config", &config, "--to", &to, "--raw", "PING", ""], &[]).await;
    assert!(run.ok, "{}", run.stderr);
    assert!(run.stderr.contains("answered by legacy"), "{}", run.stderr);
    assert!(run.stdout.contains("E998"), "the host does not know PING: {}", run.stdout);

    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nowhere/routes.toml");
    let run = send(&["--config", &missing.display().to_string(), "ACCTINQ", acct], &[]).await;
    assert!(!run.ok);
    assert!(run.stderr.contains(&format!("cannot find routes.toml: tried {}", missing.display())), "{}", run.stderr);
    assert!(run.stderr.contains("--config") && run.stderr.contains("export FICUS_CONFIG="), "{}", run.stderr);
    let run = send(&["ACCTINQ", acct], &[("FICUS_CONFIG", &missing.display().to_string())]).await;
    assert!(run.stderr.contains("(from FICUS_CONFIG)"), "{}", run.stderr);
    sims.stop();
}

#[tokio::test]
async fn the_exit_code_says_who_answered() {
    // 0: any reply an upstream gave, whatever its code (the host's E998 for an unknown one).
    let sims = sims().await;
    let gw = Gateway::start(&routes_toml(&sim_upstreams(&sims), "legacy", "legacy", "")).await;
    let (config, to) = (gw.config.display().to_string(), gw.http().to_string());
    let run = send(&["--config", &config, "--to", &to, "--raw", "PING", ""], &[]).await;
    assert_eq!(run.code, Some(0), "{}", run.stderr);
    assert!(run.stdout.contains("E998"), "{}", run.stdout);
    sims.stop();

    // 3: the gateway's own error reply (FC10: the upstream is down), over HTTP and over TCP,
    // the reply still printed.
    let dead = dead_address().await;
    let up = Upstreams { legacy: dead.to_string(), accounts: "http://127.0.0.1:9/ops".into() };
    let gw = Gateway::start(&routes_toml(&up, "legacy", "legacy", "")).await;
    let config = gw.config.display().to_string();
    let acct = r#"{"ACCT-NO":"1"}"#;
    let run = send(&["--config", &config, "--to", &gw.http().to_string(), "ACCTINQ", acct], &[]).await;
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(run.stderr.contains("the gateway answered ACCTINQ with an error: FC10"), "{}", run.stderr);
    assert!(run.stdout.contains("FC10"), "the reply is printed: {}", run.stdout);
    let run = send(&["--config", &config, "--tcp", "--to", &gw.tcp().to_string(), "ACCTINQ", acct], &[]).await;
    assert_eq!(run.code, Some(3), "{}", run.stderr);
    assert!(run.stderr.contains("FC10 (the gateway's own error reply"), "{}", run.stderr);

    // 1: no reply at all, and the cause named.
    let run = send(&["--config", &config, "--to", &dead.to_string(), "ACCTINQ", acct], &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.to_lowercase().contains("connection refused"), "{}", run.stderr);

    // An https address is refused with what to give, not sent to http://https://….
    let run = send(&["--config", &config, "--to", "https://127.0.0.1:1", "ACCTINQ", acct], &[]).await;
    assert_eq!(run.code, Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("speaks plain HTTP") && run.stderr.contains("http://127.0.0.1:1"), "{}", run.stderr);
    assert!(!run.stderr.contains("http://https://"), "{}", run.stderr);

    // --help says so.
    let help = std::process::Command::new(env!("CARGO_BIN_EXE_ficus")).args(["send", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    assert!(
        help.contains("Exit codes:") && help.contains("3  the gateway answered with its own error reply"),
        "{help}"
    );
}
