//! Edges of converting channels: each test is a way a converting channel
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

/// A host that answers every message with the request's header under another operation code
/// (`XFERRSP`, as hosts that mark replies do), `0000`, and an XFER-RESP body, all in cp037.
async fn renaming_host(table: std::sync::Arc<ficus::route::RouteTable>) -> std::net::SocketAddr {
    use ficus::codec::charset::{CodePage, Overflow};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((conn, _)) = listener.accept().await {
            let table = table.clone();
            tokio::spawn(async move {
                let framing = ficus::frame::Framing::prefix(4);
                let (read, mut write) = conn.into_split();
                let mut read = tokio::io::BufReader::new(read);
                while let Ok(Some(request)) = framing.read(&mut read, 1 << 16).await {
                    let mut reply = request[..table.header.size].to_vec();
                    CodePage::Cp037.encode_into("XFERRSP", &mut reply[6..14], Overflow::Error).unwrap();
                    CodePage::Cp037.encode_into("0000", &mut reply[41..45], Overflow::Error).unwrap();
                    let body = serde_json::json!({ "FROM-ACCT": "1000000000000001", "FROM-BAL-AFTER": 12.5, "XFER-REF": "REF1" });
                    reply.extend(table.routes["XFER"].response.as_ref().unwrap().encode_json(&body).unwrap());
                    table.header.set_length(&mut reply);
                    if framing.write(&mut write, &reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    addr
}

const IB_CP949: &str = r#"
[[channels]]
name = "ib"
listen_tcp = "127.0.0.1:0"
codepage = "cp949"
framing = { length_prefix = 8, digits = "ascii" }
"#;

/// A host's reply answers the request it is correlated with (by message id), whatever operation
/// code its header carries: a converting channel converts it with that request's response
/// layout, as the host's own channel gets it passed through — not refused (FC32) for the
/// reply's code, and never converted with another operation's layout.
#[tokio::test]
async fn a_reply_converts_with_the_layout_of_the_request_it_answers() {
    use ficus::cli::{build_request, decode_reply};
    use serde_json::json;
    // The layouts in cp037, for the host; the gateway's table is rebuilt on its address.
    let probe = common::Upstreams { legacy: "127.0.0.1:7001".into(), accounts: "http://127.0.0.1:7002/ops".into() };
    let host_table = std::sync::Arc::new(
        ficus::config::build::build(
            &common::routes_toml(&probe, "legacy", "legacy", IB_CP949),
            Path::new("r.toml"),
            None,
            1,
        )
        .unwrap(),
    );
    let host = renaming_host(host_table).await;
    let up = common::Upstreams { legacy: host.to_string(), accounts: "http://127.0.0.1:7002/ops".into() };
    let toml = common::routes_toml(&up, "legacy", "legacy", IB_CP949);
    let gw = common::Gateway::start_unwatched(&toml).await;
    let client = ficus::config::build::build(
        &toml.replace("codepage    = \"cp037\"", "codepage    = \"cp949\""),
        Path::new("r.toml"),
        None,
        1,
    )
    .unwrap();
    let xfer = json!({ "FROM-ACCT": "1000000000000001", "TO-ACCT": "1000000000000002", "AMOUNT": 1, "MEMO": "RENT" });
    let m = build_request(&client, "XFER", &xfer, &json!({ "HDR-SEQ-NO": 77 })).unwrap();
    let framing = client.channel("ib").unwrap().framing;
    let conn = tokio::net::TcpStream::connect(gw.running.channel("ib").unwrap().tcp.unwrap()).await.unwrap();
    let (read, mut write) = conn.into_split();
    framing.write(&mut write, &m).await.unwrap();
    let reply = framing.read(&mut tokio::io::BufReader::new(read), 1 << 16).await.unwrap().unwrap();
    let v = decode_reply(&client, "XFER", &reply);
    assert_eq!(v["header"]["HDR-RESP-CODE"], "0000", "{v}");
    assert_eq!(v["header"]["HDR-TRAN-CODE"], "XFERRSP", "{v}");
    assert_eq!(v["header"]["HDR-SEQ-NO"], 77, "{v}");
    assert_eq!(v["response"]["XFER-REF"], "REF1", "{v}");
    assert_eq!(v["response"]["FROM-ACCT"], "1000000000000001", "{v}");
}

/// Control bytes SO (X'0E') and SI (X'0F') in a cp949 text field are not Korean: on a DBCS
/// EBCDIC host they would be read as shift bytes and turn the text after them into other
/// characters. Converting them is an error naming the field, never a shift the channel did not
/// mean.
#[test]
fn shift_bytes_from_a_single_byte_channel_never_become_shifts_on_the_host() {
    use ficus::codec::charset::CodePage;
    use ficus::codec::convert::Conversion;
    use ficus::codec::{Codec, CodecOptions};
    use ficus::copybook::{parse_copybook, NoCopy};
    let book = parse_copybook("       01 R.\n           05 MEMO PIC X(10).\n", "r.cpy", &NoCopy).unwrap();
    for host in [CodePage::Cp933, CodePage::Cp1364] {
        let codec = Codec::new(&book.records[0], CodecOptions::for_codepage(host)).unwrap();
        let to_host = Conversion::new(codec.plan(), CodePage::Cp949, host).unwrap();
        let mut out = Vec::new();
        let r = to_host.convert(b"\x0eAB\x0f      ", &mut out);
        // Whatever the host gets must read back as the same text on the host.
        match r {
            Ok(()) => {
                let mut text = String::new();
                let back = host.decode_into(&out, &mut text);
                assert!(
                    back.is_ok() && text.starts_with("\u{e}AB\u{f}"),
                    "{host}: {out:02X?} reads as {text:?} ({back:?})"
                );
            }
            Err(e) => assert!(e.to_string().contains("MEMO"), "{e}"),
        }
    }
}

/// An error text quoting a character the host's code page cannot hold (a customer's Hangul on
/// a Latin EBCDIC host) spells it `U+XXXX` and goes on, instead of stopping at it.
#[test]
fn an_error_text_spells_out_what_the_code_page_cannot_hold() {
    let dir = tempfile::tempdir().unwrap();
    let table = table_with(dir.path(), "");
    let header = &table.header;
    let request = vec![0x40u8; header.size];
    let reply = header.error_reply(&request, "FC31", "MEMO: '월' has no mapping");
    let mut text = String::new();
    ficus::codec::charset::CodePage::Cp037.decode_into(&reply, &mut text).unwrap();
    assert!(text.contains("MEMO: 'U+C6D4' has no mapping"), "{text}");
}
