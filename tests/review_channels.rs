//! Review attacks on converting channels (issue #15): each test is a way a converting channel
//! could give a wrong answer, kept as a regression test.

mod common;

use common::copybooks;
use std::path::Path;

/// A header whose length field is `PIC X(4)`: a framing may keep a binary length there, or
/// leave it as text.
const HEADER: &str = "       01  HDR.
           05  HDR-LEN                 PIC X(4).
           05  HDR-TRAN-CODE           PIC X(8).
           05  HDR-NOTE                PIC X(4).
           05  HDR-SEQ-NO              PIC 9(10).
           05  HDR-RESP-CODE           PIC X(4).
           05  HDR-RESP-MSG            PIC X(40).
";

fn table_with(dir: &Path, channels: &str) -> ficus::route::RouteTable {
    std::fs::write(dir.join("HDR.cpy"), HEADER).unwrap();
    let text = format!(
        r#"
[gateway]
listen_tcp  = "127.0.0.1:0"
copybooks   = "{dir}"
codepage    = "cp037"
tcp_framing = {{ length_prefix = 4 }}

[header]
copybook  = "HDR.cpy"
operation = ["HDR-TRAN-CODE"]
response_code    = "HDR-RESP-CODE"
response_message = "HDR-RESP-MSG"
message_id       = "HDR-SEQ-NO"

[upstreams.legacy]
kind = "tcp"
address = "127.0.0.1:7001"

[default]
target = "legacy"
{channels}
"#,
        dir = dir.display()
    );
    ficus::config::build::build(&text, &dir.join("routes.toml"), None, 1).unwrap()
}

const BINARY: &str = r#"
[[channels]]
name = "binary-len"
listen_tcp = "127.0.0.1:0"
codepage = "cp949"
framing = { length_field = "HDR-LEN", digits = "binary" }
"#;

const PREFIXED: &str = r#"
[[channels]]
name = "prefixed"
listen_tcp = "127.0.0.1:0"
codepage = "cp949"
framing = { length_prefix = 8, digits = "ascii" }
"#;

/// A header in cp949 with `len` in HDR-LEN.
fn header(len: &[u8; 4]) -> Vec<u8> {
    let mut h = len.to_vec();
    h.extend_from_slice(b"PING    NOTE0000000001    ");
    h.extend_from_slice(&[b' '; 40]);
    h
}

/// Two channels on the same code page with different framings: each converts its header by
/// its own framing. Where one keeps a binary length in HDR-LEN, the other's HDR-LEN is text and
/// must be transcoded (never passed to the host in the channel's bytes), and vice versa — in
/// whichever order the entries are listed.
#[test]
fn channels_on_one_code_page_convert_their_header_by_their_own_framing() {
    let _ = copybooks();
    for order in [[BINARY, PREFIXED], [PREFIXED, BINARY]] {
        let dir = tempfile::tempdir().unwrap();
        let table = table_with(dir.path(), &order.concat());
        let conv = |name: &str| table.channel(name).unwrap().conversion.clone().unwrap();

        // The prefixed channel's HDR-LEN is text: "ABCD" in cp949 is C1 C2 C3 C4 in cp037.
        let mut host = Vec::new();
        conv("prefixed").header_to_host.convert(&header(b"ABCD"), &mut host).unwrap();
        assert_eq!(host[..4], [0xC1, 0xC2, 0xC3, 0xC4], "prefixed channel listed {}", order[0] == PREFIXED);

        // The binary channel's HDR-LEN is a binary length: kept as it is.
        let mut host = Vec::new();
        let bin = conv("binary-len").header_to_host.convert(&header(&[0, 0, 0, 70]), &mut host);
        assert!(bin.is_ok(), "{bin:?}");
        assert_eq!(host[..4], [0, 0, 0, 70], "binary channel listed {}", order[0] == BINARY);
    }
}
