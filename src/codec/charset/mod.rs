//! Code pages for text fields: ASCII, EBCDIC (cp037, cp1047) and Korean (cp949 on the ASCII
//! side; cp933 and cp1364, EBCDIC with SO/SI double-byte runs).
//!
//! Single-byte pages map all 256 bytes one-to-one, so any `PIC X` bytes round-trip. This
//! module knows nothing of records or pictures; it turns a field's bytes into text and back.
//!
//! The tables come from glibc `iconv` (see `src/codec/tables/generate.sh`); only mappings
//! that round-trip are kept, so a character iconv would write as SUB or as a look-alike is
//! [`CharsetError::Unmappable`] here. Submodules: `sbcs` (ASCII, cp037, cp1047), `dbcs`
//! (cp933, cp1364), `uhc` (cp949).
//!
//! Shift bytes in cp933/cp1364 (decided here, as the contract leaves it open):
//! - a double-byte run still open at the end of the field (no SI) is
//!   [`CharsetError::InvalidBytes`] at `offset == bytes.len()`, since IBM data closes every
//!   run and an open one usually means the field was cut;
//! - an odd byte in a run (SI, or the field end, after one byte of a pair) or an unmapped pair
//!   is `InvalidBytes` at the offset of the pair's first byte;
//! - shift bytes that do not change the mode (SO inside a run, SI outside one, `SO SI`)
//!   carry no text and are accepted, as iconv does.

mod dbcs;
mod sbcs;
mod uhc;

#[cfg(test)]
mod oracle_tests;
#[cfg(test)]
mod tests;

/// A code page for the text (and zoned digits) of a record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CodePage {
    /// ASCII, with bytes 0x80–0xFF read as Latin-1 so every byte round-trips.
    Ascii,
    /// EBCDIC US/Canada (IBM-037).
    Cp037,
    /// EBCDIC Latin-1 open systems (IBM-1047).
    Cp1047,
    /// Korean on the ASCII side (Unified Hangul Code, a superset of EUC-KR).
    Cp949,
    /// EBCDIC Korean (IBM-933): SO 0x0E / SI 0x0F around double-byte runs.
    Cp933,
    /// EBCDIC Korean (IBM-1364): SO/SI mixed, newer repertoire.
    Cp1364,
}

/// Why text could not be decoded or encoded.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CharsetError {
    /// No code page of that name.
    #[error("unknown code page {0:?} (known: ascii, cp037, cp1047, cp949/euc-kr, cp933, cp1364)")]
    Unknown(String),
    /// Bytes that are not valid in the code page, at `offset` within the field.
    #[error("invalid {codepage} bytes at field offset {offset}")]
    InvalidBytes {
        /// The code page's name.
        codepage: &'static str,
        /// Offset within the field.
        offset: usize,
    },
    /// A character the code page cannot represent.
    #[error("{ch:?} cannot be written in {codepage}")]
    Unmappable {
        /// The character.
        ch: char,
        /// The code page's name.
        codepage: &'static str,
    },
    /// The encoded text is longer than the field (only with [`Overflow::Error`]).
    #[error("text needs {needed} bytes, field has {len}")]
    TooLong {
        /// Bytes needed.
        needed: usize,
        /// The field's length.
        len: usize,
    },
}

/// What to do when encoded text is longer than its field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Overflow {
    /// Fail with [`CharsetError::TooLong`].
    Error,
    /// Cut at the field boundary as COBOL's MOVE does, never splitting a double-byte
    /// character and always closing an open SO run with SI inside the field.
    Truncate,
}

impl CodePage {
    /// Every code page, in declaration order.
    pub const ALL: [CodePage; 6] =
        [CodePage::Ascii, CodePage::Cp037, CodePage::Cp1047, CodePage::Cp949, CodePage::Cp933, CodePage::Cp1364];

    /// Looks a code page up by name: `ascii`, `cp037` (`ibm037`, `ibm-037`), `cp1047`,
    /// `cp949` (`euc-kr`, `ms949`), `cp933`, `cp1364` — case-insensitive.
    ///
    /// Also accepted: `us-ascii`; for the IBM pages `cp`, `ibm`, `ibm-` or `ccsid` before the
    /// number, with or without leading zeros (`IBM-37`, `ccsid1364`); for cp949 `uhc`,
    /// `windows-949` and `ks_c_5601-1987` (what Windows calls it).
    pub fn from_name(name: &str) -> Result<CodePage, CharsetError> {
        let lower = name.trim().to_ascii_lowercase();
        let page = match lower.as_str() {
            "ascii" | "us-ascii" => Some(CodePage::Ascii),
            "euc-kr" | "euckr" | "ms949" | "uhc" | "windows-949" | "ks_c_5601-1987" => Some(CodePage::Cp949),
            other => ["cp", "ibm-", "ibm", "ccsid"]
                .iter()
                .find_map(|p| other.strip_prefix(p))
                .filter(|n| !n.is_empty() && n.len() <= 5 && n.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|n| match n.trim_start_matches('0') {
                    "37" => Some(CodePage::Cp037),
                    "1047" => Some(CodePage::Cp1047),
                    "949" => Some(CodePage::Cp949),
                    "933" => Some(CodePage::Cp933),
                    "1364" => Some(CodePage::Cp1364),
                    _ => None,
                }),
        };
        page.ok_or_else(|| CharsetError::Unknown(name.to_string()))
    }
    /// The canonical name (`cp037`, ...).
    pub fn name(self) -> &'static str {
        match self {
            CodePage::Ascii => "ascii",
            CodePage::Cp037 => "cp037",
            CodePage::Cp1047 => "cp1047",
            CodePage::Cp949 => "cp949",
            CodePage::Cp933 => "cp933",
            CodePage::Cp1364 => "cp1364",
        }
    }
    /// True for the EBCDIC pages (cp037, cp1047, cp933, cp1364).
    pub fn is_ebcdic(self) -> bool {
        matches!(self, CodePage::Cp037 | CodePage::Cp1047 | CodePage::Cp933 | CodePage::Cp1364)
    }
    /// The byte of a space.
    pub fn space(self) -> u8 {
        if self.is_ebcdic() {
            0x40
        } else {
            0x20
        }
    }
    /// The byte that is a space and nothing else, on a page where every byte is one character
    /// and no other byte is a space (ASCII, cp037, cp1047: bijections onto Latin-1), so
    /// trimming that byte from a field's bytes trims the same spaces as trimming its text.
    /// `None` on the multi-byte pages: there a 0x40 (or 0x20) may be half of a double-byte
    /// character (0x40 0x40 in SO…SI is the ideographic space), so trimming is done on the text.
    pub fn single_byte_space(self) -> Option<u8> {
        match self {
            CodePage::Ascii => Some(0x20),
            CodePage::Cp037 | CodePage::Cp1047 => Some(0x40),
            CodePage::Cp949 | CodePage::Cp933 | CodePage::Cp1364 => None,
        }
    }
    /// Decodes a field's bytes and appends the text to `out` (no trimming).
    ///
    /// Never fails for the single-byte pages. On error `out` is left as it was.
    pub fn decode_into(self, bytes: &[u8], out: &mut String) -> Result<(), CharsetError> {
        let start = out.len();
        let result = match self {
            CodePage::Ascii => {
                sbcs::decode_latin1(bytes, out);
                Ok(())
            }
            CodePage::Cp037 => {
                sbcs::CP037_PAGE.decode(bytes, out);
                Ok(())
            }
            CodePage::Cp1047 => {
                sbcs::CP1047_PAGE.decode(bytes, out);
                Ok(())
            }
            CodePage::Cp949 => uhc::decode(bytes, out),
            CodePage::Cp933 => dbcs::cp933().decode(bytes, out),
            CodePage::Cp1364 => dbcs::cp1364().decode(bytes, out),
        };
        if result.is_err() {
            out.truncate(start);
        }
        result
    }
    /// Encodes `text` into exactly `dst.len()` bytes, padding with spaces on the right.
    ///
    /// Every character is checked, also those a [`Overflow::Truncate`] cuts off, so text
    /// with an unmappable character is [`CharsetError::Unmappable`] whatever the field's size.
    /// On error the contents of `dst` are unspecified.
    pub fn encode_into(self, text: &str, dst: &mut [u8], overflow: Overflow) -> Result<(), CharsetError> {
        match self {
            CodePage::Ascii => sbcs::encode_latin1(text, dst, overflow),
            CodePage::Cp037 => sbcs::CP037_PAGE.encode(text, dst, overflow),
            CodePage::Cp1047 => sbcs::CP1047_PAGE.encode(text, dst, overflow),
            CodePage::Cp949 => uhc::encode(text, dst, overflow),
            CodePage::Cp933 => dbcs::cp933().encode(text, dst, overflow),
            CodePage::Cp1364 => dbcs::cp1364().encode(text, dst, overflow),
        }
    }
    /// The byte for the character `c` in a single-byte context (for separate signs `+`/`-`),
    /// or `None` if it has none.
    pub fn byte_of(self, c: char) -> Option<u8> {
        match self {
            CodePage::Ascii => u8::try_from(u32::from(c)).ok(),
            CodePage::Cp037 => sbcs::CP037_PAGE.byte_of(c),
            CodePage::Cp1047 => sbcs::CP1047_PAGE.byte_of(c),
            CodePage::Cp949 => c.is_ascii().then_some(c as u8),
            CodePage::Cp933 | CodePage::Cp1364 => dbcs::korean_sbcs_byte_of(c),
        }
    }
}

impl std::fmt::Display for CodePage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for CodePage {
    type Err = CharsetError;
    fn from_str(name: &str) -> Result<Self, Self::Err> {
        CodePage::from_name(name)
    }
}
