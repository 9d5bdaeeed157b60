//! The checks behind every fuzz target, shared by `fuzz/fuzz_targets/*.rs` (through
//! `#[path]`) and `tests/fuzz_seeds.rs`, so a seed in `fuzz/corpus/<target>/` is run as an
//! ordinary test by exactly the code the fuzzer runs.
//!
//! Each check takes arbitrary bytes, must never panic except on a broken invariant, and returns
//! whether the input was *accepted* (parsed, decoded, framed, built) so the seed test can insist
//! that the seeds named `ok-*` still are. The checks know nothing about libFuzzer.

use ficus::codec::binary::ByteOrder;
use ficus::codec::charset::CodePage;
use ficus::codec::float::FloatFormat;
use ficus::codec::{Codec, CodecOptions, EncodeError, FieldError, NumError, Scratch};
use ficus::copybook::{parse_copybook, NoCopy};
use ficus::frame::{FrameError, Framing};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::OnceLock;
use std::task::{Context, Poll, Waker};
use tokio::io::{AsyncRead, ReadBuf};

/// Largest record the copybook check decodes (bigger layouts are parsed and compiled only).
const MAX_CHECK_RECORD: usize = 1 << 16;

/// The biggest message the frame check lets a framing accept.
pub const FRAME_MAX: usize = 512;

/// A layout of our own with everything the demo copybooks lack: an ODO table with items after
/// it (nested tables, a group counter), REDEFINES in both directions, every zoned sign
/// position, COMP-5, floats, JUST RIGHT, BLANK WHEN ZERO and a FILLER with a VALUE.
pub const MIXED_CPY: &str = include_str!("../../fuzz/corpus/copybook_parse/ok-mixed.cpy");

/// Korean text: mixed SBCS/DBCS `PIC X` and pure DBCS `PIC G`.
pub const KOREAN_CPY: &str = "
       01  KOREAN-REC.
           05  KR-CODE             PIC X(4).
           05  KR-NAME             PIC X(12).
           05  KR-DBCS             PIC G(4).
           05  KR-AMT              PIC S9(7) COMP-3.
";

/// The demo copybooks (`copybooks/*.cpy`), by file name.
pub const DEMO_CPY: [(&str, &str); 4] = [
    ("COMMHDR.cpy", include_str!("../../copybooks/COMMHDR.cpy")),
    ("ACCTINQ.cpy", include_str!("../../copybooks/ACCTINQ.cpy")),
    ("TXNHIST.cpy", include_str!("../../copybooks/TXNHIST.cpy")),
    ("XFER.cpy", include_str!("../../copybooks/XFER.cpy")),
];

/// One compiled layout of the fixed set: `file#RECORD/codepage`, strict and lenient.
pub struct Layout {
    /// `file#RECORD/codepage`, for assertion messages.
    pub name: String,
    /// Strict decode, TRUNC(BIN) encode (decode accepts such values, so encode must too).
    pub strict: Codec,
    /// Lenient decode.
    pub lenient: Codec,
}

fn options(codepage: CodePage, lenient: bool) -> CodecOptions {
    CodecOptions { lenient, trunc_bin: true, ..CodecOptions::for_codepage(codepage) }
}

/// The fixed set of layouts the `decode` and `roundtrip` checks run every input against.
pub fn layouts() -> &'static [Layout] {
    static LAYOUTS: OnceLock<Vec<Layout>> = OnceLock::new();
    LAYOUTS.get_or_init(|| {
        let mut sources: Vec<(&str, &str, Vec<CodePage>)> =
            DEMO_CPY.iter().map(|(f, t)| (*f, *t, vec![CodePage::Cp037])).collect();
        sources.push(("MIXED.cpy", MIXED_CPY, vec![CodePage::Cp037, CodePage::Ascii]));
        sources.push(("KOREAN.cpy", KOREAN_CPY, vec![CodePage::Cp933, CodePage::Cp1364]));
        let mut out = Vec::new();
        for (file, text, pages) in sources {
            let book = parse_copybook(text, file, &NoCopy).unwrap_or_else(|e| panic!("{file}: {e}"));
            for record in &book.records {
                for &cp in &pages {
                    let strict = Codec::new(record, options(cp, false)).expect("fixed layout compiles");
                    let lenient = Codec::new(record, options(cp, true)).expect("fixed layout compiles");
                    out.push(Layout { name: format!("{file}#{}/{cp}", record.name), strict, lenient });
                }
            }
        }
        let mut ieee = options(CodePage::Cp037, false);
        ieee.float = FloatFormat::IeeeBig;
        ieee.comp5_order = ByteOrder::Little;
        let book = parse_copybook(MIXED_CPY, "MIXED.cpy", &NoCopy).expect("mixed layout parses");
        let record = &book.records[0];
        out.push(Layout {
            name: "MIXED.cpy#MIXED-REC/cp037-ieee-le".into(),
            strict: Codec::new(record, ieee).expect("compiles"),
            lenient: Codec::new(record, CodecOptions { lenient: true, ..ieee }).expect("compiles"),
        });
        out
    })
}

/// Decodes `data` with `codec` both ways (value tree and JSON text) and checks they agree;
/// returns the value and length when the record decodes.
pub fn decode_both(codec: &Codec, data: &[u8], name: &str) -> Option<(Value, usize)> {
    let tree = codec.decode_json(data);
    let mut text = String::new();
    let fast = codec.decode_json_text(data, &mut text, &mut Scratch::default());
    match (tree, fast) {
        (Ok((value, len)), Ok(len2)) => {
            assert_eq!(len, len2, "{name}: the two decoders disagree on the length");
            assert!(len <= codec.max_size(), "{name}: length {len} over the maximum {}", codec.max_size());
            let parsed: Value = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{name}: decode_json_text wrote invalid JSON ({e}): {text}"));
            assert_eq!(parsed, value, "{name}: decode_json_text and decode_json disagree");
            Some((value, len))
        }
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "{name}: the two decoders fail differently");
            None
        }
        (a, b) => panic!("{name}: one decoder failed: {:?} vs {:?}", a.map(|v| v.1), b),
    }
}

/// `decode`: every fixed layout, strict and lenient. Lenient decoding never fails (invalid
/// or missing fields are `null`); strict decoding reports the record length it consumed.
/// Accepted when at least one layout decodes `data` strictly.
pub fn decode(data: &[u8]) -> bool {
    let mut accepted = false;
    for layout in layouts() {
        if let Some((_, len)) = decode_both(&layout.strict, data, &layout.name) {
            assert!(len <= data.len(), "{}: strict decode used {len} bytes of {}", layout.name, data.len());
            accepted = true;
        }
        let lenient = decode_both(&layout.lenient, data, &layout.name);
        assert!(lenient.is_some(), "{}: lenient decode failed", layout.name);
    }
    accepted
}

/// True if `v` holds a `null` anywhere (a REDEFINES view that did not decode).
pub fn has_null(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(items) => items.iter().any(has_null),
        Value::Object(map) => map.values().any(has_null),
        _ => false,
    }
}

/// `roundtrip`: when `data` decodes, the decoded value encodes back, to a record of the same
/// length that decodes to the same value; and those canonical bytes are a fixed point
/// (`encode(decode(c)) == c`). Input bytes themselves need not come back: decode accepts
/// non-canonical forms (packed sign F on a signed field, other overpunch conventions, an
/// unnormalised IBM float, a digit in the spare packed nibble). Only a value with more
/// digits than its picture may fail to encode, since decode reads what the storage holds.
/// Values with a `null` (an undecodable REDEFINES view) are skipped: they cannot be encoded.
pub fn roundtrip(data: &[u8]) -> bool {
    let mut accepted = false;
    for layout in layouts() {
        let name = &layout.name;
        let codec = &layout.strict;
        let Some((value, len)) = decode_both(codec, data, name) else { continue };
        if has_null(&value) {
            continue;
        }
        let canonical = match codec.encode_json(&value) {
            Ok(bytes) => bytes,
            Err(EncodeError::Field { cause: FieldError::Num(NumError::Overflow { .. }), .. }) => continue,
            Err(e) => panic!("{name}: decoded value does not encode: {e}\n{value}"),
        };
        accepted = true;
        assert_eq!(canonical.len(), len, "{name}: encoded length differs from the decoded length");
        let (again, len2) = codec.decode_json(&canonical).unwrap_or_else(|e| panic!("{name}: re-decode failed: {e}"));
        assert_eq!(len2, len, "{name}: re-decoded length differs");
        assert_eq!(again, value, "{name}: decode(encode(decode(b))) != decode(b)");
        let fixed = codec.encode_json(&again).unwrap_or_else(|e| panic!("{name}: re-encode failed: {e}"));
        assert_eq!(fixed, canonical, "{name}: canonical bytes are not a fixed point");
    }
    accepted
}

/// `copybook_parse`: any text parses or fails with an error, never a panic. What parses is
/// compiled for two code pages, and (when not huge) a record of the input's bytes, padded
/// with spaces, is decoded through [`decode_both`]: lenient decoding must succeed.
pub fn copybook_parse(data: &[u8]) -> bool {
    let text = String::from_utf8_lossy(data);
    let Ok(book) = parse_copybook(&text, "fuzz.cpy", &NoCopy) else { return false };
    for record in &book.records {
        let _ = ficus::copybook::listing::listing(record);
        for cp in [CodePage::Cp037, CodePage::Ascii] {
            let Ok(codec) = Codec::new(record, options(cp, true)) else { continue };
            let size = codec.max_size();
            if size > MAX_CHECK_RECORD {
                continue;
            }
            let mut bytes = data.to_vec();
            bytes.resize(size, cp.space());
            assert!(decode_both(&codec, &bytes, &record.name).is_some(), "{}: lenient decode failed", record.name);
            let Ok(strict) = Codec::new(record, options(cp, false)) else { continue };
            let _ = decode_both(&strict, &bytes, &record.name);
        }
    }
    true
}

/// An in-memory reader that hands out at most `chunk` bytes per read, to exercise the
/// partial-read loops of the framing code.
struct Chunked<'a> {
    data: &'a [u8],
    chunk: usize,
}

impl AsyncRead for Chunked<'_> {
    fn poll_read(mut self: Pin<&mut Self>, _: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<std::io::Result<()>> {
        let n = self.chunk.min(self.data.len()).min(buf.remaining());
        buf.put_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Poll::Ready(Ok(()))
    }
}

/// Runs a future that never waits (its reader is in memory) to completion.
fn run_ready<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(out) => out,
        Poll::Pending => panic!("a read from memory was pending"),
    }
}

/// The trailers the frame check chooses from (bits 6–7 of the framing byte).
const FRAME_TRAILERS: [&[u8]; 4] = [b"", b"ZZ", &[0x03], &[0x0D, 0x0A]];

/// The framing named by the four bytes after the read size (none when they do not make one):
/// - byte 1: digits (bits 0–2, modulo 5: binary, binary-le, ascii, ebcdic, bcd), counts
///   (bits 3–4: after, all, message, body), a header field instead of a prefix (bit 5), the
///   trailer (bits 6–7: none, `ZZ`, 0x03, CR LF);
/// - byte 2: the width (low nibble: an index into the widths the digits allow) and, for a
///   field, its offset in the header (high nibble);
/// - byte 3: `adjust`, as a signed byte;
/// - byte 4: for a field, the header bytes after it (low nibble).
pub fn framing_from(bytes: [u8; 4]) -> Option<Framing> {
    use ficus::frame::{Counts, Digits, FramingParts, Place, Trailer};
    let [kind, size, adjust, rest] = bytes;
    let digits =
        [Digits::Binary, Digits::BinaryLe, Digits::Ascii, Digits::Ebcdic, Digits::Bcd][usize::from(kind & 7) % 5];
    let counts = [Counts::After, Counts::All, Counts::Message, Counts::Body][usize::from(kind >> 3 & 3)];
    let widths: &[usize] = match digits {
        Digits::Binary | Digits::BinaryLe => &[1, 2, 4, 8],
        Digits::Ascii | Digits::Ebcdic => &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10],
        Digits::Bcd => &[1, 2, 3, 4, 5],
    };
    let width = widths[usize::from(size & 15) % widths.len()];
    let place = if kind & 0x20 == 0 {
        Place::Prefix
    } else {
        let offset = usize::from(size >> 4);
        Place::Field { offset, header: offset + width + usize::from(rest & 15) }
    };
    let trailer = Trailer::new(FRAME_TRAILERS[usize::from(kind >> 6)])?;
    Framing::new(FramingParts { place, width, digits, counts, adjust: i64::from(adjust as i8), trailer }).ok()
}

/// `frame`: byte 0 picks the read size (1–16), bytes 1–4 the framing ([`framing_from`]), the
/// rest is a stream read with it until it ends or fails. No message is over [`FRAME_MAX`];
/// every message framed again gives exactly the bytes it was read from (its length states it,
/// its trailer follows it), so every byte is accounted for; a clean end comes only at the end.
/// Accepted when the bytes make a framing that reads at least one message.
pub fn frame(data: &[u8]) -> bool {
    let Some((&[first, a, b, c, d], stream)) = data.split_first_chunk::<5>() else {
        return false;
    };
    let Some(framing) = framing_from([a, b, c, d]) else { return false };
    let chunk = usize::from(first % 16) + 1;
    let mut reader = Chunked { data: stream, chunk };
    let mut consumed = 0;
    let mut accepted = false;
    loop {
        match run_ready(framing.read(&mut reader, FRAME_MAX)) {
            Ok(Some(message)) => {
                accepted = true;
                assert!(message.len() <= FRAME_MAX, "{framing}: message of {} bytes", message.len());
                let end = stream.len() - reader.data.len();
                let wire = framing.frame(&message).unwrap_or_else(|e| panic!("{framing}: read but cannot frame: {e}"));
                assert_eq!(wire, stream[consumed..end], "{framing}: the bytes read are not the message framed");
                consumed = end;
            }
            Ok(None) => {
                assert!(reader.data.is_empty(), "{framing}: clean end before the end of the stream");
                break;
            }
            Err(FrameError::Io(e)) => panic!("{framing}: i/o error from memory: {e}"),
            Err(_) => break,
        }
    }
    accepted
}

/// The repository root (holding `routes.toml` and `copybooks/`), from a test or a fuzz crate.
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    if manifest.join("copybooks").is_dir() {
        manifest.to_path_buf()
    } else {
        manifest.parent().unwrap_or(manifest).to_path_buf()
    }
}

/// `routes_toml`: any text builds a route table or fails with at least one problem, each
/// printable; never a panic. The file is taken to be the repository's `routes.toml`, so
/// relative copybook paths resolve to the demo copybooks. Accepted when the table builds.
pub fn routes_toml(data: &[u8]) -> bool {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    let path = PATH.get_or_init(|| repo_root().join("routes.toml"));
    let text = String::from_utf8_lossy(data);
    match ficus::config::build::build(&text, path, None, 1) {
        Ok(_) => true,
        Err(e) => {
            assert!(!e.problems.is_empty(), "a failed build names no problem");
            assert!(!e.to_string().is_empty());
            false
        }
    }
}

/// A check: arbitrary bytes in, whether they were accepted out; panics on a broken invariant.
pub type Check = fn(&[u8]) -> bool;

/// The checks by target name, as the seed test and the fuzz targets know them.
pub const TARGETS: [(&str, Check); 5] = [
    ("copybook_parse", copybook_parse),
    ("decode", decode),
    ("roundtrip", roundtrip),
    ("frame", frame),
    ("routes_toml", routes_toml),
];
