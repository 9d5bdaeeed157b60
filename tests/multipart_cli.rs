//! Multi-part settings and tools: `[header] multipart` refused at load when it cannot work (the
//! line named), `ficus check` saying how parts are taken, and `ficus send` reading a reply in
//! parts to its last part (the rig: tests/support/multipart.rs).

mod common;
#[path = "support/multipart.rs"]
mod rig;

use rig::*;
use serde_json::{json, Value};
use std::net::SocketAddr;

#[tokio::test]
async fn settings_that_cannot_work_are_refused_at_load_naming_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let addr: SocketAddr = "127.0.0.1:1".parse().unwrap();
    let cases = [
        (", ack = \"sometimes\"", "ack = \"sometimes\""),
        (", max_bytes = 1000000", "max_bytes = 1000000 must be more than the 71-byte header and at most"),
        (", timeout_ms = 0", "timeout_ms must be at least 1"),
        (", max_parts = 1000", "max_parts = 1000 must be 2 to 999 (what HDR-PART-NO holds)"),
        (", ack_code = \"00000\"", "ack_code: reply_code = \"00000\" does not fit HDR-RESP-CODE"),
    ];
    for (extra, want) in cases {
        let toml = routes(dir.path(), addr, addr, extra);
        let path = dir.path().join("routes.toml");
        let e = ficus::config::build::build(&toml, &path, None, 1).err().expect(extra).to_string();
        assert!(e.contains(want), "{extra}: {e}");
        let line = toml.lines().position(|l| l.starts_with("multipart")).unwrap() + 1;
        assert!(e.contains(&format!("routes.toml:{line}:")), "{extra}: names the line: {e}");
    }
    for (fields, want) in [
        (("HDR-FLAGX", "1"), "HDR-FLAGX is not a field of the header"),
        (("HDR-CONT-FLAG", "12"), "single = \"12\": does not fit HDR-CONT-FLAG (1 bytes)"),
        (("HDR-CONT-FLAG", "2"), "single and first are the same value in HDR-CONT-FLAG"),
    ] {
        let toml = routes(dir.path(), addr, addr, " ")
            .replace("flag = \"HDR-CONT-FLAG\"", &format!("flag = \"{}\"", fields.0))
            .replace("single = \"1\"", &format!("single = \"{}\"", fields.1));
        let e = ficus::config::build::build(&toml, &dir.path().join("routes.toml"), None, 1).err().unwrap().to_string();
        assert!(e.contains(want), "{fields:?}: {e}");
    }
    // A channel converting its code page cannot take parts (yet): refused, naming it.
    let toml = routes(dir.path(), addr, addr, " ")
        + "\n[[channels]]\nname = \"branches\"\nlisten_tcp = \"127.0.0.1:0\"\ncodepage = \"cp949\"\n";
    let e = ficus::config::build::build(&toml, &dir.path().join("routes.toml"), None, 1).err().unwrap().to_string();
    assert!(e.contains("multipart: [[channels]] \"branches\" converts cp949 to the host's ascii"), "{e}");
}

#[tokio::test]
async fn ficus_send_reads_a_reply_in_parts_to_its_last_part() {
    let rig = rig(Some(KNOBS)).await;
    let config = rig.dir.path().join("routes.toml");
    let items: Vec<Value> =
        (1..=20u64).map(|i| json!({"ITEM-NAME": format!("ITEM {i}"), "ITEM-AMT": i * 100})).collect();
    let body = json!({"ITEM-COUNT": 20, "ITEM": items}).to_string();
    let to = rig.gw.tcp.unwrap().to_string();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_ficus"))
        .args(["send", "--config", config.to_str().unwrap(), "--tcp", "--to", &to, "BIGREQ", &body])
        .env_remove("FICUS_CONFIG")
        .output()
        .await
        .unwrap();
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains(&format!("{} bytes in 4 parts (장전문), reassembled", SIZE + RESP_BODY)), "{stderr}");
    let reply: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(reply["response"]["TOTAL"], 21_000, "{stdout}");
    assert_eq!(reply["header"]["HDR-CONT-FLAG"], "1");
    // `ficus check` says how parts are taken.
    let (code, stdout, stderr) = common::ficus_cli(&["check", "--config", config.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("multi-part messages: HDR-CONT-FLAG 1/2/3/4 (single/first/middle/last), part number in HDR-PART-NO; next part within 400 ms, at most 999 parts and 700 bytes reassembled; intermediate parts answered: none (until the last); replies split at 300 body bytes a part"),
        "{stdout}"
    );
    rig.gw.stop().await;
}
