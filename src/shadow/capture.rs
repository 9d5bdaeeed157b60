//! Captured traffic and its replay.
//!
//! File format (`capture.jsonl`, JSON Lines, rotated like shadow records): one object per
//! captured message — `time` (Unix seconds), `op`, `id` (message id or null), `channel` (the
//! channel it came in on; absent in older files), `target` (who answered), `generation`, and `request` / `reply`, the exact bytes as hex (upper case, no
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
    /// The channel it came in on (its bytes are in the host's code page whatever the channel's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
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
    // By bytes, never by string slices: a non-ASCII character in a damaged file is an error,
    // not a panic on a char boundary.
    let bytes = s.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return Err("odd number of hex digits".into());
    }
    let digit = |i: usize| {
        (bytes[i] as char)
            .to_digit(16)
            .ok_or_else(|| format!("bad hex at {i}: byte 0x{:02X} is not a hex digit", bytes[i]))
    };
    (0..bytes.len()).step_by(2).map(|i| Ok((digit(i)? * 16 + digit(i + 1)?) as u8)).collect()
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
            channel: None,
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

#[cfg(test)]
mod unhex_tests {
    use super::unhex;

    #[test]
    fn any_text_gives_bytes_or_an_error_never_a_panic() {
        assert_eq!(unhex("00fFA1"), Ok(vec![0x00, 0xFF, 0xA1]));
        for bad in ["é0", "0é", "가나", "0g", "+1", "1", "ÿÿ"] {
            assert!(unhex(bad).is_err(), "{bad:?}");
        }
        // Randomized: every string of up to 6 chars from a mixed alphabet.
        let alphabet: Vec<char> = "0aF9g é가\u{0}".chars().collect();
        let mut seed = 7u64;
        for _ in 0..5000 {
            seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            let len = (seed >> 60) as usize % 7;
            let s: String = (0..len).map(|k| alphabet[((seed >> (k * 5)) as usize) % alphabet.len()]).collect();
            if let Ok(bytes) = unhex(&s) {
                assert_eq!(bytes.len() * 2, s.len(), "{s:?}");
            }
        }
    }
}
