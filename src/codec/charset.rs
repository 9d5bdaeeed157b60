//! Code pages for text fields: ASCII, EBCDIC (cp037, cp1047) and Korean (cp949 on the ASCII
//! side; cp933 and cp1364, EBCDIC with SO/SI double-byte runs).
//!
//! Single-byte pages map all 256 bytes one-to-one, so any `PIC X` bytes round-trip. This
//! module knows nothing of records or pictures; it turns a field's bytes into text and back.

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
    /// Looks a code page up by name: `ascii`, `cp037` (`ibm037`, `ibm-037`), `cp1047`,
    /// `cp949` (`euc-kr`, `ms949`), `cp933`, `cp1364` — case-insensitive.
    pub fn from_name(name: &str) -> Result<CodePage, CharsetError> {
        let _ = name;
        todo!()
    }
    /// The canonical name (`cp037`, ...).
    pub fn name(self) -> &'static str {
        todo!()
    }
    /// True for the EBCDIC pages (cp037, cp1047, cp933, cp1364).
    pub fn is_ebcdic(self) -> bool {
        matches!(
            self,
            CodePage::Cp037 | CodePage::Cp1047 | CodePage::Cp933 | CodePage::Cp1364
        )
    }
    /// The byte of a space.
    pub fn space(self) -> u8 {
        if self.is_ebcdic() {
            0x40
        } else {
            0x20
        }
    }
    /// Decodes a field's bytes and appends the text to `out` (no trimming).
    pub fn decode_into(self, bytes: &[u8], out: &mut String) -> Result<(), CharsetError> {
        let _ = (bytes, out);
        todo!()
    }
    /// Encodes `text` into exactly `dst.len()` bytes, padding with spaces on the right.
    pub fn encode_into(
        self,
        text: &str,
        dst: &mut [u8],
        overflow: Overflow,
    ) -> Result<(), CharsetError> {
        let _ = (text, dst, overflow);
        todo!()
    }
    /// The byte for the character `c` in a single-byte context (for separate signs `+`/`-`),
    /// or `None` if it has none.
    pub fn byte_of(self, c: char) -> Option<u8> {
        let _ = c;
        todo!()
    }
}
