//! Record formats of mainframe files (bulk migration and reconciliation, not the message
//! path): where each record of a file starts and ends.
//!
//! - `F`/`FB`: records back to back; a block of FB is just n records, so a transferred FB file
//!   is the records themselves, and the block size is only checked.
//! - `V`/`VB`: each record behind a record descriptor word (RDW); in VB, records are grouped in
//!   blocks behind a block descriptor word (BDW). z/OS DFSMS Using Data Sets, "Record
//!   Descriptor Word (RDW)": the first 2 bytes hold the record length *including* the 4-byte
//!   RDW (4 to 32 760); "all bits of the third and fourth bytes must be 0, because other values
//!   are used for spanned records". "Block Descriptor Word (BDW)": if bit 0 is zero, bits 1–15
//!   hold the block length including the BDW (8 to 32 760) and bits 16–31 are zero; if bit 0
//!   is one, it is an extended BDW (large block interface) and bits 1–31 hold the length —
//!   QSAM writes that form only for blocks longer than 32 760.
//! - A length field: records back to back, each as long as a field at its start says (Cobrix's
//!   `record_length_field` with `rdw_adjustment`).
//!
//! Pure: everything works on byte slices; the CLI reads and writes the files. Every error
//! names the record (or block) number and its byte offset in the file, and nothing panics on
//! truncated or corrupt descriptors.

mod vb;

pub use vb::{looks_variable, write_rdw, Found, Records, VbWriter};

use super::charset::CodePage;
use super::decode::decode_number;
use super::plan::{LeafKind, Plan};

/// Largest record length an RDW may give (DFSMS), descriptor included.
pub const MAX_RDW_LEN: usize = 32_760;
/// Largest block a non-extended BDW may give (DFSMS), descriptor included.
pub const MAX_BDW_LEN: usize = 32_760;
/// Size of an RDW or a BDW.
pub const DESCRIPTOR_LEN: usize = 4;

/// How a file's records are laid out (`RECFM`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RecordFormat {
    /// Fixed: records back to back.
    #[default]
    F,
    /// Fixed blocked: records of exactly LRECL bytes; blocks are n records.
    Fb,
    /// Variable: each record behind an RDW.
    V,
    /// Variable blocked: blocks behind a BDW, each holding records behind RDWs.
    Vb,
}

/// Why a file's records could not be found, or written.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RecordsError {
    /// A descriptor word that is not one.
    #[error("{word} of {unit} {index} at byte {offset} ({hex}): {problem}")]
    Descriptor {
        /// `RDW` or `BDW`.
        word: &'static str,
        /// `record` or `block`.
        unit: &'static str,
        /// 1-based record or block number.
        index: usize,
        /// Byte offset of the descriptor in the file.
        offset: usize,
        /// The descriptor's bytes in hex.
        hex: String,
        /// What is wrong with it.
        problem: String,
    },
    /// The file (or block) ends inside a record or a descriptor.
    #[error("{unit} {index} at byte {offset}: needs {needed} bytes, but only {left} are left {within}")]
    Truncated {
        /// `record`, `block`, `RDW of record`, `BDW of block`.
        unit: &'static str,
        /// 1-based number.
        index: usize,
        /// Byte offset where it starts.
        offset: usize,
        /// Bytes it needs.
        needed: usize,
        /// Bytes there are.
        left: usize,
        /// `in the file` or `in block N`.
        within: String,
    },
    /// A length field that does not give a usable length.
    #[error("record {index} at byte {offset}: length field {field} {problem}")]
    LengthField {
        /// 1-based record number.
        index: usize,
        /// Byte offset of the record.
        offset: usize,
        /// The field's name.
        field: String,
        /// What is wrong.
        problem: String,
    },
    /// A record too long for its format (on write).
    #[error("record {index} is {len} bytes: {problem}")]
    TooLong {
        /// 1-based record number.
        index: usize,
        /// Its length.
        len: usize,
        /// The limit it passes.
        problem: String,
    },
}

/// Reads each record's length from a numeric field at a fixed offset of the record.
#[derive(Clone, Debug)]
pub struct LengthField {
    name: String,
    offset: usize,
    len: usize,
    kind: LeafKind,
    codepage: CodePage,
    adjust: i64,
}

impl LengthField {
    /// The field `name` of `plan` (outside any table, integer, zoned/packed/binary); the
    /// record's length is its value plus `adjust` (e.g. `-2` when the value leaves out a
    /// 2-byte field before it, `4` when it counts the data after a 4-byte header).
    pub fn new(plan: &Plan, name: &str, adjust: i64) -> Result<LengthField, String> {
        let leaf = plan
            .field(name)
            .ok_or_else(|| format!("--length-field {name}: no such field outside a table in the record"))?;
        let scale = match leaf.kind {
            LeafKind::Zoned { scale, .. } | LeafKind::Packed { scale, .. } | LeafKind::Binary { scale, .. } => scale,
            _ => return Err(format!("--length-field {name}: must be a numeric field (zoned, packed or binary)")),
        };
        if scale != 0 {
            return Err(format!("--length-field {name}: must be an integer (it has decimal places)"));
        }
        Ok(LengthField {
            name: leaf.name.to_string(),
            offset: leaf.offset as usize,
            len: leaf.len as usize,
            kind: leaf.kind,
            codepage: plan.options.codepage,
            adjust,
        })
    }

    /// Bytes from the start of the record through the end of the field.
    pub fn end(&self) -> usize {
        self.offset + self.len
    }

    /// The length of the record starting at `bytes[0]` (record `index`, file offset `offset`).
    pub fn record_len(&self, bytes: &[u8], index: usize, offset: usize) -> Result<usize, RecordsError> {
        let error = |problem: String| RecordsError::LengthField { index, offset, field: self.name.clone(), problem };
        let field = bytes.get(self.offset..self.end()).ok_or_else(|| {
            error(format!("needs bytes {}..{}, but only {} are left in the file", self.offset, self.end(), bytes.len()))
        })?;
        let (negative, value, _) =
            decode_number(self.kind, field, self.codepage).map_err(|e| error(format!("is not a number: {e}")))?;
        let value = i128::try_from(value).unwrap_or(i128::MAX);
        let signed = if negative { -value } else { value };
        let len = signed.saturating_add(i128::from(self.adjust));
        if len < self.end() as i128 {
            let adj = if self.adjust == 0 { String::new() } else { format!(" {:+} (--length-adjust)", self.adjust) };
            return Err(error(format!(
                "says {signed}{adj} = {len} bytes, shorter than the field's own end ({}): \
                 if the value leaves out a header, give --length-adjust",
                self.end()
            )));
        }
        usize::try_from(len).map_err(|_| error(format!("says {len} bytes")))
    }
}

/// Checks an FB block size against the record length (LRECL).
pub fn check_fb_block(block_size: usize, lrecl: usize) -> Result<(), String> {
    if lrecl == 0 || block_size == 0 || !block_size.is_multiple_of(lrecl) {
        return Err(format!(
            "--block-size {block_size} is not a multiple of the record length {lrecl}: an FB block holds whole records"
        ));
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::{Codec, CodecOptions};
    use crate::copybook::{parse_copybook, NoCopy};

    fn plan(text: &str) -> Plan {
        let book = parse_copybook(text, "t.cpy", &NoCopy).unwrap();
        let opts = CodecOptions { codepage: CodePage::Ascii, ..CodecOptions::for_codepage(CodePage::Ascii) };
        Codec::new(&book.records[0], opts).unwrap().plan().clone()
    }

    #[test]
    fn length_from_a_zoned_field_with_adjustment() {
        let p = plan(
            "       01 R.\n           05 HDR PIC X(2).\n           05 LEN PIC 9(3).\n           05 D PIC X(20).\n",
        );
        let lf = LengthField::new(&p, "LEN", 0).unwrap();
        assert_eq!(lf.record_len(b"AB012xxxxxxx", 1, 0), Ok(12));
        let lf = LengthField::new(&p, "LEN", 5).unwrap();
        assert_eq!(lf.record_len(b"AB007xxxxxxx", 1, 0), Ok(12));
        let e = LengthField::new(&p, "LEN", 0).unwrap().record_len(b"AB003", 2, 40).unwrap_err();
        assert!(e.to_string().starts_with("record 2 at byte 40: length field LEN says 3"), "{e}");
        let e = lf.record_len(b"AB0", 3, 9).unwrap_err();
        assert!(e.to_string().contains("only 3 are left"), "{e}");
        assert!(LengthField::new(&p, "D", 0).is_err());
        assert!(LengthField::new(&p, "NOPE", 0).is_err());
    }

    #[test]
    fn fb_block_must_hold_whole_records() {
        assert!(check_fb_block(800, 80).is_ok());
        assert!(check_fb_block(810, 80).unwrap_err().contains("not a multiple of the record length 80"));
    }
}
