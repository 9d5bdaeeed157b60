//! The fixed bytes some links put after every message (`ZZ`, ETX 0x03, CR LF, 0xFF 0xEF):
//! checked and stripped on read, written after every message sent.

use std::fmt;

/// Most bytes a trailer may have.
pub const MAX_TRAILER: usize = 8;

/// A trailer of up to [`MAX_TRAILER`] bytes (none: no trailer). `Copy`, so a framing is too.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Trailer {
    bytes: [u8; MAX_TRAILER],
    len: u8,
}

impl Trailer {
    /// No trailer.
    pub const NONE: Trailer = Trailer { bytes: [0; MAX_TRAILER], len: 0 };

    /// A trailer of exactly these bytes; `None` when there are more than [`MAX_TRAILER`].
    pub fn new(bytes: &[u8]) -> Option<Trailer> {
        let mut t = Trailer::NONE;
        t.bytes.get_mut(..bytes.len())?.copy_from_slice(bytes);
        t.len = bytes.len() as u8;
        Some(t)
    }

    /// Its bytes (empty: no trailer).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..usize::from(self.len)]
    }

    /// Reads a routes.toml `trailer`: `"0x"` and hex digits (`"0x03"`, `"0x0D0A"`) are bytes;
    /// anything else is printable ASCII text, returned as text for the caller to put in the
    /// link's code page. Errors say what is wrong with the value.
    pub fn parse_spec(spec: &str) -> Result<TrailerSpec, String> {
        if let Some(hex) = spec.strip_prefix("0x").or_else(|| spec.strip_prefix("0X")) {
            if hex.is_empty() || hex.len() % 2 != 0 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(format!("trailer = {spec:?}: after 0x come hex digits, two a byte (\"0x03\", \"0x0D0A\")"));
            }
            let bytes: Vec<u8> =
                (0..hex.len()).step_by(2).filter_map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok()).collect();
            if bytes.len() > MAX_TRAILER {
                return Err(format!("trailer = {spec:?}: at most {MAX_TRAILER} bytes"));
            }
            return Ok(TrailerSpec::Bytes(bytes));
        }
        if spec.is_empty() {
            return Err("trailer = \"\": leave trailer out for none, or give text (\"ZZ\") or 0x hex".into());
        }
        if !spec.bytes().all(|b| b.is_ascii_graphic() || b == b' ') {
            return Err(format!(
                "trailer = {spec:?}: text must be printable ASCII; write control bytes as hex (\"0x0D0A\")"
            ));
        }
        if spec.len() > MAX_TRAILER {
            return Err(format!("trailer = {spec:?}: at most {MAX_TRAILER} characters"));
        }
        Ok(TrailerSpec::Text(spec.to_string()))
    }
}

/// A parsed `trailer` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TrailerSpec {
    /// Exactly these bytes (written as 0x hex).
    Bytes(Vec<u8>),
    /// Text, to be written in the link's code page (`ZZ` is 0x5A5A in ASCII, 0xE9E9 in EBCDIC).
    Text(String),
}

impl fmt::Debug for Trailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Trailer({self})")
    }
}

impl fmt::Display for Trailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("0x")?;
        for b in self.as_bytes() {
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}
