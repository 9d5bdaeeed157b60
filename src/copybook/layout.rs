//! The layout of a copybook: every item with its level, name, offset, size, picture and usage.
//!
//! This is what the parser produces and what the codec compiles into a plan. Offsets are
//! computed for the largest form of the record (an `OCCURS m TO n DEPENDING ON` table counts
//! `n` elements); the codec slides later items at run time. Nothing here does I/O.

use std::fmt;

/// A parsed copybook file: one [`Record`] per level-01 (or 77) item, in source order.
#[derive(Clone, Debug, PartialEq)]
pub struct Copybook {
    /// The records, in source order.
    pub records: Vec<Record>,
}

impl Copybook {
    /// The record named `name` (case-insensitive), or the first one when `name` is `None`.
    pub fn record(&self, name: Option<&str>) -> Option<&Record> {
        match name {
            None => self.records.first(),
            Some(n) => self.records.iter().find(|r| r.name.eq_ignore_ascii_case(n)),
        }
    }
}

/// One 01 (or 77) record and everything below it.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The record's name as written (upper-cased).
    pub name: String,
    /// The 01 item itself; its children are the record's fields.
    pub root: Item,
    /// Level-66 RENAMES items declared under this record.
    pub renames: Vec<Renames>,
}

impl Record {
    /// Size in bytes of the largest form of the record.
    pub fn max_size(&self) -> usize {
        self.root.size * self.root.occurs.as_ref().map_or(1, |o| o.max as usize)
    }
}

/// One data item (group or elementary) at a level 01–49 or 77.
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// The level number as written (1–49, or 77).
    pub level: u8,
    /// The name (upper-cased); `None` for FILLER and unnamed items.
    pub name: Option<String>,
    /// 1-based line of the item's level number in its source file.
    pub line: u32,
    /// Byte offset of the item's first occurrence from the start of the record.
    pub offset: usize,
    /// Size in bytes of one occurrence (for a group: the sum of its children, largest form).
    pub size: usize,
    /// `OCCURS` on this item, if any.
    pub occurs: Option<Occurs>,
    /// The name of the item this one `REDEFINES`, if any.
    pub redefines: Option<String>,
    /// True if some later sibling REDEFINES this item.
    pub redefined: bool,
    /// `SYNC`/`SYNCHRONIZED` was written on this item (or on a group above it).
    pub sync: bool,
    /// Slack bytes the compiler inserts just before this item so that a synchronized item
    /// (this one, or the first elementary item of this group) starts on its boundary. They
    /// belong to the parent group, at this item's level (IBM: "slack bytes within records").
    pub slack_before: usize,
    /// Slack bytes at the end of this item, counted in `size`: for a table of groups holding
    /// synchronized items, the padding at the end of every occurrence that keeps each
    /// occurrence aligned like the first (IBM: "slack bytes between elements"); for a group
    /// without OCCURS, the slack IBM places after its last elementary item because the next
    /// item is synchronized.
    pub slack_after: usize,
    /// Group or elementary, with the details of each.
    pub kind: ItemKind,
    /// Level-88 condition names attached to this item.
    pub conditions: Vec<Condition>,
}

impl Item {
    /// The item's name, or `FILLER` for unnamed items.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or("FILLER")
    }

    /// True if some item below this one has a name (a FILLER group or table holding named
    /// fields, which IBM lets a program reference and the codec shows).
    pub fn has_named_subordinate(&self) -> bool {
        match &self.kind {
            ItemKind::Group(children) => children.iter().any(|c| c.name.is_some() || c.has_named_subordinate()),
            ItemKind::Elementary(_) => false,
        }
    }
}

/// The JSON key of the `n`th (from 1, in source order through the record) unnamed table that
/// holds named fields: `FILLER-1`, `FILLER-2`, … Its elements are an array under that key, as
/// a named table's are; a real field of the same name at the same level is a load error.
pub fn unnamed_table_key(n: usize) -> String {
    format!("FILLER-{n}")
}

/// Whether an item is a group (with children) or elementary (with a picture and usage).
#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    /// A group item and its children, in source order.
    Group(Vec<Item>),
    /// An elementary item.
    Elementary(Elementary),
}

/// The description of an elementary item.
#[derive(Clone, Debug, PartialEq)]
pub struct Elementary {
    /// The picture, resolved; for COMP-1/COMP-2 (no picture) a synthetic one.
    pub picture: Picture,
    /// The usage, after inheriting a group's USAGE.
    pub usage: Usage,
    /// `SIGN` clause (on the item or inherited); `None` means trailing overpunch.
    pub sign: Option<SignClause>,
    /// `JUSTIFIED RIGHT` was written.
    pub justified: bool,
    /// `BLANK WHEN ZERO` was written.
    pub blank_when_zero: bool,
    /// The `VALUE` literal, if any.
    pub value: Option<Literal>,
}

/// A resolved `PICTURE` string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Picture {
    /// The picture as written, e.g. `S9(13)V99`.
    pub source: String,
    /// What the picture describes.
    pub category: Category,
}

/// The category a picture puts an item in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Category {
    /// `X`, or a mix of `A`, `X` and `9` (text of `len` characters).
    Alphanumeric {
        /// Number of character positions.
        len: u32,
    },
    /// `A` only.
    Alphabetic {
        /// Number of character positions.
        len: u32,
    },
    /// `9`, `S`, `V`, `P`: a number.
    Numeric {
        /// Count of digit positions (`9`s), not counting `P`s.
        digits: u32,
        /// Decimal places of the value: `V99` → 2; `PPP` on the right → -3; `VPP9` → 3.
        scale: i32,
        /// An `S` was written.
        signed: bool,
    },
    /// A numeric-edited picture (`Z`, `*`, `,`, `.`, `+`, `-`, `CR`, `DB`, `$`, `B`, `0`, `/`):
    /// carried as display text of `len` characters.
    NumericEdited {
        /// Number of character positions.
        len: u32,
    },
    /// `N`: national (UTF-16 big-endian, 2 bytes a character).
    National {
        /// Number of characters.
        len: u32,
    },
    /// `G` (or `N` with USAGE DISPLAY-1): DBCS, 2 bytes a character, no SO/SI.
    Dbcs {
        /// Number of characters.
        len: u32,
    },
    /// No picture (COMP-1, COMP-2, INDEX, POINTER).
    None,
}

/// How an elementary item's value is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Usage {
    /// DISPLAY: one character (or zoned digit) a byte.
    Display,
    /// COMP / COMPUTATIONAL / BINARY / COMP-4: big-endian binary at IBM sizes (2, 4, 8 bytes).
    Binary,
    /// COMP-5: native binary (byte order chosen by the codec's options).
    NativeBinary,
    /// COMP-3 / PACKED-DECIMAL: two digits a byte, sign in the last nibble.
    Packed,
    /// COMP-1: 4-byte floating point (IBM hexadecimal by default).
    Float,
    /// COMP-2: 8-byte floating point (IBM hexadecimal by default).
    Double,
    /// NATIONAL (`PIC N`).
    National,
    /// DISPLAY-1 (DBCS `PIC G`).
    Display1,
    /// INDEX (4-byte binary).
    Index,
    /// POINTER (4 bytes).
    Pointer,
}

/// A `SIGN` clause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignClause {
    /// `LEADING` (true) or `TRAILING` (false).
    pub leading: bool,
    /// `SEPARATE [CHARACTER]` was written: the sign takes a byte of its own.
    pub separate: bool,
}

/// `OCCURS` on an item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Occurs {
    /// The minimum count (`m` in `OCCURS m TO n`; equal to `max` for a fixed table).
    pub min: u32,
    /// The maximum count.
    pub max: u32,
    /// The counter named by `DEPENDING ON`, upper-cased (its own name, without qualifiers).
    pub depending_on: Option<String>,
    /// The counter's path from the record (named groups joined by `.`, the record itself left
    /// out), resolved from the reference as written (`CNT OF HDR` → `HDR.CNT`); `None` when
    /// there is no `DEPENDING ON`.
    pub depending_path: Option<String>,
    /// `INDEXED BY` names.
    pub indexed_by: Vec<String>,
    /// `ASCENDING`/`DESCENDING KEY` names.
    pub keys: Vec<String>,
}

/// A level-88 condition name.
#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    /// The condition's name.
    pub name: String,
    /// Its values: single literals or `THRU` ranges.
    pub values: Vec<ConditionValue>,
}

/// One value of a level-88 condition.
#[derive(Clone, Debug, PartialEq)]
pub enum ConditionValue {
    /// A single literal.
    Single(Literal),
    /// `a THRU b`.
    Range(Literal, Literal),
}

/// A level-66 `RENAMES a [THRU b]` item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Renames {
    /// The new name.
    pub name: String,
    /// The first item renamed.
    pub from: String,
    /// The last item renamed, with `THRU`.
    pub thru: Option<String>,
    /// Byte offset of the renamed area.
    pub offset: usize,
    /// Size in bytes of the renamed area.
    pub size: usize,
}

/// A literal in a `VALUE` clause.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Literal {
    /// A quoted string (doubled quotes already undoubled).
    Text(String),
    /// A hexadecimal literal `X'..'`, as bytes.
    Hex(Vec<u8>),
    /// A numeric literal as written, e.g. `-12.50`.
    Number(String),
    /// A figurative constant.
    Figurative(Figurative),
    /// `ALL literal`: the literal repeated to fill the item (`ALL '-'`, `ALL 'AB'`, `ALL X'00'`).
    /// `ALL` before a figurative constant changes nothing, so that is kept as the constant.
    All(Box<Literal>),
}

/// COBOL figurative constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Figurative {
    /// SPACE / SPACES.
    Spaces,
    /// ZERO / ZEROS / ZEROES.
    Zeros,
    /// LOW-VALUE / LOW-VALUES.
    LowValues,
    /// HIGH-VALUE / HIGH-VALUES.
    HighValues,
    /// QUOTE / QUOTES.
    Quotes,
    /// NULL / NULLS.
    Nulls,
}

impl fmt::Display for Usage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Usage::Display => "DISPLAY",
            Usage::Binary => "COMP",
            Usage::NativeBinary => "COMP-5",
            Usage::Packed => "COMP-3",
            Usage::Float => "COMP-1",
            Usage::Double => "COMP-2",
            Usage::National => "NATIONAL",
            Usage::Display1 => "DISPLAY-1",
            Usage::Index => "INDEX",
            Usage::Pointer => "POINTER",
        })
    }
}
