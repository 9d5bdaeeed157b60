//! How a codec reads and writes records: the code page, sign style, byte orders and the
//! leniencies a caller may choose.

use crate::codec::binary::ByteOrder;
use crate::codec::charset::CodePage;
use crate::codec::float::FloatFormat;
use crate::codec::zoned::SignStyle;

/// How a codec reads and writes records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CodecOptions {
    /// Code page of text and zoned digits.
    pub codepage: CodePage,
    /// Overpunch convention written by encode (decode accepts all).
    pub sign_style: SignStyle,
    /// Byte order of COMP-5 fields.
    pub comp5_order: ByteOrder,
    /// Format of COMP-1/COMP-2 fields.
    pub float: FloatFormat,
    /// Invalid fields decode as `null` instead of failing the record.
    pub lenient: bool,
    /// COMP/BINARY/COMP-4 fields may hold any value their storage holds, as with IBM's
    /// TRUNC(BIN); by default (TRUNC(STD)) encode refuses a value with more digits than the
    /// picture. COMP-5 is never truncated (it always holds its storage's range). Decode always
    /// accepts both.
    pub trunc_bin: bool,
    /// Encode writes a named field the JSON leaves out as its `VALUE` clause says (or, without
    /// one, as INITIALIZE would: spaces, or zero in the field's usage); a group or table left
    /// out is filled field by field. By default a missing field is an error.
    pub fill_missing: bool,
    /// Encode cuts text longer than its field at the last whole character (never splitting a
    /// double-byte character, closing an SO run with SI) and pads after it, as COBOL's MOVE
    /// does; by default text that does not fit is an error naming the field and both lengths.
    pub truncate_text: bool,
}

impl Default for CodecOptions {
    fn default() -> Self {
        CodecOptions {
            codepage: CodePage::Cp037,
            sign_style: SignStyle::Ebcdic,
            comp5_order: ByteOrder::Big,
            float: FloatFormat::IbmHex,
            lenient: false,
            trunc_bin: false,
            fill_missing: false,
            truncate_text: false,
        }
    }
}

impl CodecOptions {
    /// Options for `codepage`, with the sign style that suits it (EBCDIC zones on EBCDIC pages,
    /// IBM-style overpunch on ASCII pages).
    pub fn for_codepage(codepage: CodePage) -> Self {
        let sign_style = if codepage.is_ebcdic() { SignStyle::Ebcdic } else { SignStyle::AsciiIbm };
        CodecOptions { codepage, sign_style, ..Default::default() }
    }
}
