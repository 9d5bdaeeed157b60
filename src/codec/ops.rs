//! The plan's vocabulary: the ops a compiled record is made of, and how each elementary field's
//! bytes are read. Pure data; `plan` builds these, `decode` and `encode` walk them.

use super::binary::ByteOrder;
use super::float::FloatFormat;
use super::zoned::SignPosition;

/// How one elementary field's bytes are interpreted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LeafKind {
    /// Text in the record's code page (PIC X, A, numeric-edited). `justified`: JUST RIGHT.
    Text {
        /// Right-justified: decode trims leading spaces, encode pads on the left.
        justified: bool,
    },
    /// PIC N: UTF-16 big-endian.
    National,
    /// PIC G: double-byte characters without SO/SI.
    Dbcs,
    /// Zoned decimal.
    Zoned {
        /// Where the sign is.
        sign: SignPosition,
        /// Decimal places.
        scale: i32,
        /// Digit positions.
        digits: u32,
        /// BLANK WHEN ZERO: spaces mean zero.
        blank_when_zero: bool,
    },
    /// Packed decimal.
    Packed {
        /// Decimal places.
        scale: i32,
        /// Digit positions.
        digits: u32,
        /// PIC S.
        signed: bool,
    },
    /// Binary integer.
    Binary {
        /// Decimal places.
        scale: i32,
        /// Digit positions (0 for INDEX/POINTER: no picture check).
        digits: u32,
        /// PIC S.
        signed: bool,
        /// Byte order.
        order: ByteOrder,
        /// COMP-5 (native binary): holds the whole range of its storage, never cut to the
        /// picture (TRUNC does not apply), so encode checks only the storage range.
        native: bool,
    },
    /// COMP-1 / COMP-2.
    Float(FloatFormat),
}

impl LeafKind {
    /// True for the numeric kinds (usable as a `DEPENDING ON` counter).
    pub fn is_numeric(&self) -> bool {
        matches!(self, LeafKind::Zoned { .. } | LeafKind::Packed { .. } | LeafKind::Binary { .. })
    }
}

/// One elementary field.
#[derive(Clone, Debug, PartialEq)]
pub struct Leaf {
    /// The field's name.
    pub name: Box<str>,
    /// `"NAME":` pre-escaped for the JSON writer.
    pub json_key: Box<str>,
    /// Path from the record, with `[]` after tables, for error messages (`TXN-ROW[].TXN-AMT`).
    pub path: Box<str>,
    /// Offset from the start of the enclosing table element (or record), largest form.
    pub offset: u32,
    /// Length in bytes.
    pub len: u32,
    /// How the bytes are read.
    pub kind: LeafKind,
    /// Inside a REDEFINES view: invalid bytes decode as `null`, never an error.
    pub in_view: bool,
    /// Slot to store this field's value in when it is a `DEPENDING ON` counter.
    pub counter_slot: Option<u8>,
    /// What encode writes when the JSON leaves this field out and the codec fills missing
    /// fields: its VALUE, or the INITIALIZE default (empty unless `fill_missing` is set).
    pub fill: Box<[u8]>,
}

/// Membership of an op in a set of REDEFINES alternatives (encode writes the first present).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Alt {
    /// Alternatives of one area share a set number.
    pub set: u16,
    /// This is the last alternative of its set.
    pub last: bool,
}

/// One step of the plan.
#[derive(Clone, Debug, PartialEq)]
pub enum Op {
    /// An elementary field (a named object member, or an array element when inside `Array`).
    Leaf {
        /// The field.
        leaf: Leaf,
        /// REDEFINES set, if the field is an alternative.
        alt: Option<Alt>,
    },
    /// A named group: an object whose members are the next `body` ops.
    Group {
        /// The group's name.
        name: Box<str>,
        /// `"NAME":` pre-escaped.
        json_key: Box<str>,
        /// Count of ops in the body (they follow this op).
        body: u32,
        /// REDEFINES set, if the group is an alternative.
        alt: Option<Alt>,
    },
    /// A table: the next `body` ops describe one element, repeated.
    Array {
        /// The table's name.
        name: Box<str>,
        /// `"NAME":` pre-escaped.
        json_key: Box<str>,
        /// Offset of the first element.
        offset: u32,
        /// Size of one element in its largest form.
        stride: u32,
        /// Fewest elements.
        min: u32,
        /// Most elements.
        max: u32,
        /// Counter slot for OCCURS DEPENDING ON.
        counter: Option<u8>,
        /// Each element is an object (a group table) rather than a value.
        elements_are_objects: bool,
        /// Count of ops in the element's body.
        body: u32,
        /// REDEFINES set, if the table is an alternative.
        alt: Option<Alt>,
    },
    /// A FILLER group that is a REDEFINES view: its named members belong to the enclosing
    /// object (the next `body` ops), as a FILLER group's do, but they are one alternative of
    /// the set (encode writes them when any of them is in the JSON).
    Lifted {
        /// Count of ops in the body (they follow this op).
        body: u32,
        /// REDEFINES set.
        alt: Option<Alt>,
    },
    /// An unnamed table with `DEPENDING ON` whose elements hold no named field: nothing in the
    /// JSON, but as many elements as its counter says (decode skips them, encode writes each
    /// as its VALUE or spaces), so what follows slides as after any such table.
    Skip {
        /// Path of the table (`HDR.FILLER`), for messages.
        path: Box<str>,
        /// Offset of the first element.
        offset: u32,
        /// Size of one element.
        stride: u32,
        /// Fewest elements.
        min: u32,
        /// Most elements.
        max: u32,
        /// Counter slot.
        counter: u8,
        /// One element's bytes.
        bytes: Box<[u8]>,
        /// One element's elementary parts (for code conversion).
        pieces: Box<[Piece]>,
    },
    /// FILLER bytes: skipped by decode, written by encode.
    Fill {
        /// Offset of the filler.
        offset: u32,
        /// The bytes to write (spaces, or the VALUE).
        bytes: Box<[u8]>,
        /// The filler's elementary parts, offsets from `offset` (for code conversion, which
        /// converts a FILLER as its picture says: IBM treats an elementary FILLER as an item of
        /// its category, only without a name).
        pieces: Box<[Piece]>,
    },
}

/// One elementary part of a FILLER area: where it is and how its bytes are read. Code
/// conversion needs it (text converts, packed is copied); decode and encode do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Piece {
    /// Offset from the start of the FILLER area (or of one element of an unnamed table).
    pub offset: u32,
    /// Length in bytes.
    pub len: u32,
    /// How the bytes are read.
    pub kind: LeafKind,
}
