//! Why a layout cannot be converted between two code pages, and why one message could not.

use crate::codec::charset::CodePage;
use crate::codec::decode::FieldError;

/// Why a layout cannot be compiled into a [`super::Conversion`]: found once, when the route
/// table is built, never on a message.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConvertPlanError {
    /// Two REDEFINES alternatives (or a FILLER and a view over it) that would convert the same
    /// bytes differently: which one holds the data is not in the layout.
    #[error(
        "{record}: {first} ({first_how}) and {second} ({second_how}) share the bytes at offset {offset} but \
         convert differently from {from} to {to}; REDEFINES alternatives must agree to be converted (text with \
         text of the same position and length, unsigned digits with text or digits, packed/binary with \
         packed/binary)"
    )]
    Ambiguous {
        /// The record.
        record: String,
        /// Path of the first field.
        first: String,
        /// How it converts.
        first_how: &'static str,
        /// Path of the second field.
        second: String,
        /// How it converts.
        second_how: &'static str,
        /// Offset (in the record's largest form) where they disagree.
        offset: usize,
        /// Source code page.
        from: CodePage,
        /// Target code page.
        to: CodePage,
    },
    /// A `DEPENDING ON` table that shares bytes with another item (a REDEFINES alternative):
    /// where the items after it start depends on which alternative holds the data.
    #[error(
        "{record}: the DEPENDING ON table {table} shares bytes with {other}; a variable table inside a REDEFINES \
         area cannot be converted"
    )]
    VariableRedefines {
        /// The record.
        record: String,
        /// The table's path.
        table: String,
        /// The other item.
        other: String,
    },
    /// A field the two code pages cannot both carry.
    #[error("{record}: {field}: {reason}")]
    Unsupported {
        /// The record.
        record: String,
        /// The field's path.
        field: String,
        /// Why.
        reason: String,
    },
    /// A byte range to keep unconverted (see [`super::Conversion::keep_raw`]) that cuts a field
    /// or a table.
    #[error("{record}: bytes {offset}..{end} kept as they are cut {field} (offset {field_offset}, {field_len} bytes)")]
    RawSplitsField {
        /// The record.
        record: String,
        /// Start of the range.
        offset: usize,
        /// End of the range.
        end: usize,
        /// The field cut.
        field: String,
        /// Its offset.
        field_offset: usize,
        /// Its length.
        field_len: usize,
    },
}

/// Why one message could not be converted. Offsets are from the start of the message given to
/// [`super::convert_message`] (or of the record given to [`super::Conversion::convert`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ConvertError {
    /// A field whose bytes are invalid in the source code page, hold a character the target
    /// cannot write, or no longer fit after conversion (SO/SI added).
    #[error("{record} {path} at offset {offset} ({from} → {to}): {cause}{hint}", hint = too_long_hint(cause, *to))]
    Field {
        /// The record (layout) the field belongs to.
        record: String,
        /// Field path with table indexes, e.g. `TXN-ROW[2].TXN-MEMO`.
        path: String,
        /// Offset of the field.
        offset: usize,
        /// What was wrong.
        cause: FieldError,
        /// Source code page.
        from: CodePage,
        /// Target code page.
        to: CodePage,
    },
    /// The message ends before a field does.
    #[error("{record}: message is {len} bytes, but {path} needs bytes up to {needed}")]
    Short {
        /// The record.
        record: String,
        /// The field (or the record) that does not fit.
        path: String,
        /// Bytes needed.
        needed: usize,
        /// Bytes present.
        len: usize,
    },
    /// Bytes after the record: they have no layout, so they cannot be converted.
    #[error("{record}: message is {len} bytes, but the layout ends at {expected}; the bytes after it have no layout to convert them with")]
    Long {
        /// The record.
        record: String,
        /// Where the record ends.
        expected: usize,
        /// Bytes present.
        len: usize,
    },
    /// A `DEPENDING ON` counter outside its table's bounds (read in the source code page).
    #[error("{record} {path}: counter {counter} = {count}, outside the table's {min} to {max} elements")]
    BadCount {
        /// The record.
        record: String,
        /// The table's path.
        path: String,
        /// The counter field's path.
        counter: String,
        /// The counter's value, or why it has none.
        count: String,
        /// Fewest elements.
        min: u32,
        /// Most elements.
        max: u32,
    },
    /// A message with a body after the header, for an operation without a body layout.
    #[error("message has {len} body bytes after the {header}-byte header, and the operation has no layout to convert them with")]
    NoLayout {
        /// Header size.
        header: usize,
        /// Body bytes.
        len: usize,
    },
}

/// Says why text grew when the target page adds shift bytes.
fn too_long_hint(cause: &FieldError, to: CodePage) -> &'static str {
    let dbcs = matches!(to, CodePage::Cp933 | CodePage::Cp1364);
    match cause {
        FieldError::Text(crate::codec::charset::CharsetError::TooLong { .. }) if dbcs => {
            " (each run of Korean characters gains SO and SI in the EBCDIC code page; never truncated)"
        }
        _ => "",
    }
}
