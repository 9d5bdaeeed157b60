//! `kind = "tcp-async"` as the configuration reads it: every setting that cannot work is refused
//! naming the key and the value (send, receive, match, hold_ms, a poll), and `ficus check` says
//! what a valid link does.

#[path = "support/async_host.rs"]
mod async_host;
mod common;

use async_host::*;
use common::*;
use std::net::SocketAddr;

const MATCH: &str = r#"match = ["HDR-SEQ-NO"]"#;

fn problems(toml: &str) -> String {
    let path = std::path::Path::new("/nonexistent/routes.toml");
    match ficus::config::build::build(toml, path, None, 1) {
        Ok(_) => panic!("accepted:\n{toml}"),
        Err(e) => e.to_string(),
    }
}

fn send() -> SocketAddr {
    "127.0.0.1:7001".parse().unwrap()
}

fn routes(receive: &str, extra: &str) -> String {
    async_routes(send(), receive, extra)
}

const LISTEN: &str = r#"{ listen = "127.0.0.1:0" }"#;

#[test]
fn a_link_that_cannot_work_is_refused_by_name() {
    let no_send = problems(&routes(LISTEN, MATCH).replace("send = \"127.0.0.1:7001\"\n", ""));
    assert!(no_send.contains("a tcp-async upstream needs send = \"host:port\""), "{no_send}");
    let bad_send = problems(&routes(LISTEN, MATCH).replace("send = \"127.0.0.1:7001\"", "send = \"kftc-host\""));
    assert!(bad_send.contains("send = \"kftc-host\" is not host:port"), "{bad_send}");
    let no_receive = problems(&routes(LISTEN, MATCH).replace(&format!("receive = {LISTEN}\n"), ""));
    assert!(no_receive.contains("needs receive = { listen = \"ip:port\" }"), "{no_receive}");
    let both = problems(&routes(r#"{ listen = "127.0.0.1:0", connect = "10.0.0.9:7002" }"#, MATCH));
    assert!(both.contains("receive needs exactly one of listen"), "{both}");
    let named = problems(&routes(r#"{ listen = "localhost:7002" }"#, MATCH));
    assert!(named.contains("receive listen = \"localhost:7002\" is not ip:port"), "{named}");
    let connect = problems(&routes(r#"{ connect = "10.0.0.9" }"#, MATCH));
    assert!(connect.contains("receive connect = \"10.0.0.9\" is not host:port"), "{connect}");
    let unknown = problems(&routes(r#"{ listen = "127.0.0.1:0", accept = true }"#, MATCH));
    assert!(unknown.contains("accept"), "{unknown}");
    let no_match = problems(&routes(LISTEN, ""));
    assert!(no_match.contains("needs match = [\"HEADER-FIELD\", ...]"), "{no_match}");
    let typo = problems(&routes(LISTEN, r#"match = ["HDR-SEQ-NUM"]"#));
    assert!(typo.contains("match: record COMM-HDR has no field HDR-SEQ-NUM"), "{typo}");
    let hold = problems(&routes(LISTEN, &format!("{MATCH}\nhold_ms = 0")));
    assert!(hold.contains("hold_ms must be at least 1"), "{hold}");
    let poll = problems(&routes(LISTEN, &format!("{MATCH}\npoll = {{ every_ms = 1000, op = \"HEARTBT\" }}")));
    assert!(poll.contains("poll is for tcp upstreams"), "{poll}");
    // The line named is the setting's own.
    let toml = routes(LISTEN, r#"match = ["HDR-SEQ-NUM"]"#);
    let line = toml.lines().position(|l| l.starts_with("match")).unwrap() + 1;
    assert!(problems(&toml).contains(&format!("routes.toml:{line}:")), "{}", problems(&toml));
}

#[tokio::test]
async fn check_refuses_an_address_this_machine_cannot_listen_on_and_describes_a_good_link() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("routes.toml");
    std::fs::write(dir.path().join("tokens"), "ops:secret\n").unwrap();
    // 192.0.2.1 is a documentation address (TEST-NET-1): no machine has it.
    std::fs::write(&path, routes(r#"{ listen = "192.0.2.1:7002" }"#, MATCH)).unwrap();
    let (code, _, err) = ficus_cli(&["check", "--config", path.to_str().unwrap()]).await;
    assert_eq!(code, 64, "{err}");
    assert!(err.contains("receive listen = \"192.0.2.1:7002\": cannot listen"), "{err}");
    std::fs::write(&path, routes(r#"{ connect = "10.0.0.9:7002" }"#, &format!("{MATCH}\nhold_ms = 60000"))).unwrap();
    let (code, out, err) = ficus_cli(&["check", "--config", path.to_str().unwrap()]).await;
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(
            "upstream kftc asynchronous: requests to 127.0.0.1:7001, replies on connect 10.0.0.9:7002 (4-byte binary \
             (big-endian) length before each message, counting the bytes after it), matched by HDR-SEQ-NO; keys held \
             60000 ms after their exchange"
        ),
        "{out}"
    );
}

#[test]
fn the_readme_s_example_link_builds() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let section = readme.split("## Asynchronous host links").nth(1).expect("the README section");
    let block = section.split("```toml\n").nth(1).and_then(|b| b.split("```").next()).expect("its toml block");
    // The test routes with their own kftc replaced by the README's.
    let base = routes(LISTEN, MATCH);
    let start = base.find("[upstreams.kftc]").unwrap();
    let end = base.find("[default]").unwrap();
    let toml = format!("{}{block}\n{}", &base[..start], &base[end..]);
    let path = std::path::Path::new("/nonexistent/routes.toml");
    let table = ficus::config::build::build(&toml, path, None, 1).unwrap_or_else(|e| panic!("{e}\n{toml}"));
    let entry = table.upstreams.get("kftc").unwrap();
    let config = as_link(entry).config();
    assert_eq!((config.send.as_str(), config.key.len()), ("10.0.0.9:7001", 1));
}
