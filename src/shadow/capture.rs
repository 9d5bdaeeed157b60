//! Captured traffic and its replay.
//!
//! File format (`capture.jsonl`, JSON Lines, rotated like shadow records): one object per
//! captured message — `time` (Unix seconds), `op`, `id` (message id or null), `target` (who
//! answered), `generation`, and `request` / `reply`, the exact bytes as hex (upper case, no
//! separators). `ficus replay` (the top-level `replay` module) sends each request to another upstream and
//! compares its reply with the captured one exactly as the live shadow does.

use serde::{Deserialize, Serialize};
use std::path::Path;

/// One captured exchange.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct CaptureRecord {
    /// Unix seconds.
    pub time: f64,
    /// The operation.
    pub op: String,
    /// The message id.
    pub id: Option<String>,
    /// Who answered.
    pub target: String,
    /// The route table's generation.
    pub generation: u64,
    /// Request bytes, hex.
    pub request: String,
    /// Reply bytes, hex.
    pub reply: String,
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Parses upper- or lower-case hex.
pub fn unhex(s: &str) -> Result<Vec<u8>, String> {
    if s.len() % 2 != 0 {
        return Err("odd number of hex digits".into());
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).map_err(|e| format!("bad hex at {i}: {e}")))
        .collect()
}

impl CaptureRecord {
    /// A record of one exchange, stamped now.
    pub fn new(
        op: &str,
        id: Option<&str>,
        target: &str,
        generation: u64,
        request: &[u8],
        reply: &[u8],
    ) -> CaptureRecord {
        CaptureRecord {
            time: super::mirror::now_secs(),
            op: op.into(),
            id: id.map(String::from),
            target: target.into(),
            generation,
            request: hex(request),
            reply: hex(reply),
        }
    }
}

/// Reads a capture file (every line must parse; the error names the line).
pub fn read(path: &Path) -> Result<Vec<CaptureRecord>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("{}:{}: {e}", path.display(), i + 1)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip() {
        let bytes: Vec<u8> = (0..=255).collect();
        assert_eq!(unhex(&hex(&bytes)).unwrap(), bytes);
        assert_eq!(hex(&[0x0E, 0xF1]), "0EF1");
        assert!(unhex("ABC").is_err() && unhex("ZZ").is_err());
    }
}
