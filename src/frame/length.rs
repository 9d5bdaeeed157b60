//! Lengths on the wire: how a number is written in a prefix or a header field (binary in either
//! byte order, ASCII or EBCDIC digits, BCD), and what part of the message it counts. Pure: no I/O.

use std::fmt;

/// How a length's bytes hold its number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Digits {
    /// Unsigned binary, big-endian (network order; the mainframe's COMP).
    Binary,
    /// Unsigned binary, little-endian.
    BinaryLe,
    /// ASCII digits `0`–`9` (0x30–0x39), zero-padded on the left.
    Ascii,
    /// EBCDIC digits (0xF0–0xF9), zero-padded on the left.
    Ebcdic,
    /// Binary-coded decimal: two digits a byte, high nibble first, no sign nibble.
    Bcd,
}

/// The spellings `digits = "..."` accepts, in the order the docs list them.
pub const DIGITS_NAMES: [&str; 5] = ["binary", "binary-le", "ascii", "ebcdic", "bcd"];

impl Digits {
    /// From its routes.toml spelling.
    pub fn from_name(name: &str) -> Option<Digits> {
        Some(match name {
            "binary" => Digits::Binary,
            "binary-le" => Digits::BinaryLe,
            "ascii" => Digits::Ascii,
            "ebcdic" => Digits::Ebcdic,
            "bcd" => Digits::Bcd,
            _ => return None,
        })
    }

    /// Its routes.toml spelling.
    pub fn name(self) -> &'static str {
        match self {
            Digits::Binary => "binary",
            Digits::BinaryLe => "binary-le",
            Digits::Ascii => "ascii",
            Digits::Ebcdic => "ebcdic",
            Digits::Bcd => "bcd",
        }
    }

    /// True for ASCII or EBCDIC digits (text a person can read in a dump).
    pub fn is_text(self) -> bool {
        matches!(self, Digits::Ascii | Digits::Ebcdic)
    }

    /// The widths (in bytes) these digits may take, as words for an error message, or `None`
    /// when `width` is one of them. Text digits stop at `max_text` (10 before a message: a
    /// length of ten digits is already past any limit; more in a header field a copybook fixes).
    pub fn width_problem(self, width: usize, max_text: usize) -> Option<String> {
        let ok = match self {
            Digits::Binary | Digits::BinaryLe => matches!(width, 1 | 2 | 4 | 8),
            Digits::Ascii | Digits::Ebcdic => (1..=max_text).contains(&width),
            Digits::Bcd => (1..=5).contains(&width),
        };
        (!ok).then(|| match self {
            Digits::Binary | Digits::BinaryLe => "1, 2, 4 or 8 bytes".to_string(),
            Digits::Ascii | Digits::Ebcdic => format!("1 to {max_text} digits"),
            Digits::Bcd => "1 to 5 bytes (2 to 10 digits)".to_string(),
        })
    }

    /// The largest number `width` bytes of these digits hold (saturating at `u64::MAX`).
    pub fn max_value(self, width: usize) -> u64 {
        let decimal = |digits: usize| 10u64.checked_pow(digits as u32).map_or(u64::MAX, |p| p - 1);
        match self {
            Digits::Binary | Digits::BinaryLe if width >= 8 => u64::MAX,
            Digits::Binary | Digits::BinaryLe => (1u64 << (8 * width)) - 1,
            Digits::Ascii | Digits::Ebcdic => decimal(width),
            Digits::Bcd => decimal(2 * width),
        }
    }

    /// The number in `bytes`, or why the bytes are not a length in these digits.
    pub fn decode(self, bytes: &[u8]) -> Result<u64, String> {
        if bytes.is_empty() {
            return Err("empty length".into());
        }
        let too_big = || "too many digits".to_string();
        match self {
            Digits::Binary | Digits::BinaryLe if bytes.len() > 8 => Err(too_big()),
            Digits::Binary => Ok(bytes.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))),
            Digits::BinaryLe => Ok(bytes.iter().rev().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))),
            Digits::Ascii | Digits::Ebcdic => {
                let zero = if self == Digits::Ascii { b'0' } else { 0xF0 };
                bytes.iter().try_fold(0u64, |acc, &b| {
                    let d = b.wrapping_sub(zero);
                    if d > 9 {
                        return Err(format!("byte 0x{b:02X} is not {} digit", self.article()));
                    }
                    acc.checked_mul(10).and_then(|a| a.checked_add(u64::from(d))).ok_or_else(too_big)
                })
            }
            Digits::Bcd => bytes.iter().try_fold(0u64, |acc, &b| {
                let (hi, lo) = (b >> 4, b & 0x0F);
                if hi > 9 || lo > 9 {
                    return Err(format!("byte 0x{b:02X} is not two BCD digits"));
                }
                acc.checked_mul(100).and_then(|a| a.checked_add(u64::from(hi * 10 + lo))).ok_or_else(too_big)
            }),
        }
    }

    /// Writes `value` into all of `dst`; false (and `dst` unspecified) when it does not fit.
    pub fn encode(self, dst: &mut [u8], value: u64) -> bool {
        if value > self.max_value(dst.len()) {
            return false;
        }
        let mut v = value;
        match self {
            Digits::Binary => {
                for b in dst.iter_mut().rev() {
                    *b = v as u8;
                    v = v.checked_shr(8).unwrap_or(0);
                }
            }
            Digits::BinaryLe => {
                for b in dst.iter_mut() {
                    *b = v as u8;
                    v = v.checked_shr(8).unwrap_or(0);
                }
            }
            Digits::Ascii | Digits::Ebcdic => {
                let zero = if self == Digits::Ascii { b'0' } else { 0xF0 };
                for b in dst.iter_mut().rev() {
                    *b = zero + (v % 10) as u8;
                    v /= 10;
                }
            }
            Digits::Bcd => {
                for b in dst.iter_mut().rev() {
                    *b = ((v / 10 % 10) as u8) << 4 | (v % 10) as u8;
                    v /= 100;
                }
            }
        }
        v == 0
    }

    fn article(self) -> &'static str {
        match self {
            Digits::Ascii => "an ASCII",
            _ => "an EBCDIC",
        }
    }

    /// The digits in words: "ASCII digits", "binary (big-endian)".
    pub fn words(self) -> &'static str {
        match self {
            Digits::Binary => "binary (big-endian)",
            Digits::BinaryLe => "binary (little-endian)",
            Digits::Ascii => "ASCII digits",
            Digits::Ebcdic => "EBCDIC digits",
            Digits::Bcd => "BCD",
        }
    }
}

/// What part of the message a length counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Counts {
    /// The bytes after the length (a prefix's default).
    After,
    /// The length's own bytes and everything after them.
    All,
    /// The whole message, from its first byte (a header field's default).
    Message,
    /// The body: the bytes after the common header.
    Body,
}

/// The spellings `counts = "..."` accepts.
pub const COUNTS_NAMES: [&str; 4] = ["after", "all", "message", "body"];

impl Counts {
    /// From its routes.toml spelling.
    pub fn from_name(name: &str) -> Option<Counts> {
        Some(match name {
            "after" => Counts::After,
            "all" => Counts::All,
            "message" => Counts::Message,
            "body" => Counts::Body,
            _ => return None,
        })
    }

    /// Its routes.toml spelling.
    pub fn name(self) -> &'static str {
        match self {
            Counts::After => "after",
            Counts::All => "all",
            Counts::Message => "message",
            Counts::Body => "body",
        }
    }
}

impl fmt::Display for Counts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Counts::After => "the bytes after it",
            Counts::All => "its own bytes and the bytes after it",
            Counts::Message => "the whole message",
            Counts::Body => "the body after the header",
        })
    }
}

/// Writes `value` as zero-padded display digits into `field` (ASCII or EBCDIC); false when it
/// does not fit.
pub fn write_digits(field: &mut [u8], value: usize, ebcdic: bool) -> bool {
    let digits = if ebcdic { Digits::Ebcdic } else { Digits::Ascii };
    let fits = digits.encode(field, value as u64);
    if !fits {
        // Keep the old contract: the low digits are written even when the value is too big.
        let zero = if ebcdic { 0xF0 } else { b'0' };
        let mut v = value;
        for b in field.iter_mut().rev() {
            *b = zero + (v % 10) as u8;
            v /= 10;
        }
    }
    fits
}
