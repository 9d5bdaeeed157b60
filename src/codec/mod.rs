//! The record codec: a layout compiled once into a flat plan, then bytes ⇄ values ⇄ JSON.
//!
//! Pure: no I/O, no tokio. The leaf formats live one per file (`zoned`, `packed`, `binary`,
//! `float`, `charset`); `plan` compiles a [`crate::copybook::Record`]; `decode` and `encode`
//! walk the plan; `flat` writes a layout that does not move to JSON text without the walk.

pub mod binary;
pub mod charset;
pub mod convert;
pub mod decimal;
pub mod float;
pub mod packed;
pub mod zoned;

/// Why a single numeric field could not be decoded or encoded. Offsets are within the field.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NumError {
    /// A byte that is not a digit where a digit belongs.
    #[error("invalid digit byte 0x{byte:02X} at field offset {offset}")]
    InvalidDigit {
        /// Offset within the field.
        offset: usize,
        /// The byte found.
        byte: u8,
    },
    /// A sign nibble, zone or separate sign byte that is not a sign.
    #[error("invalid sign 0x{byte:02X} at field offset {offset}")]
    InvalidSign {
        /// Offset within the field.
        offset: usize,
        /// The byte found.
        byte: u8,
    },
    /// The value has more digits than the field holds.
    #[error("value needs {digits} digits, the field holds {max}")]
    Overflow {
        /// Digits the value needs.
        digits: u32,
        /// Digits the field holds.
        max: u32,
    },
    /// A value beyond what a binary field's storage holds (COMP-5, or any binary field with
    /// TRUNC(BIN)): the range is the storage's, at the picture's scale.
    #[error(transparent)]
    OutOfRange(Box<BinaryRange>),
    /// A zoned or packed field whose bytes are all X'FF' or all X'00': HIGH-VALUES or
    /// LOW-VALUES, as `VALUE HIGH-VALUES` writes them (IBM and GnuCOBOL allow that VALUE on a
    /// numeric item) or as hosts mark a field "not set". Not a number; `--lenient` gives null.
    #[error(
        "the field holds {name} (X'{hex}'), not a number (a VALUE {name} or a host marking the field unset \
         writes this); with --lenient it decodes as null"
    )]
    Figurative {
        /// `HIGH-VALUES` or `LOW-VALUES`.
        name: &'static str,
        /// The field's bytes in hex (at most 16 of them).
        hex: String,
    },
    /// A negative value for an unsigned field.
    #[error("negative value for an unsigned field")]
    NegativeUnsigned,
    /// More decimal places than the picture has: never rounded or cut (a wrong amount is worse
    /// than a refused one).
    #[error("{}", scale_message(value, *scale))]
    Scale {
        /// The value, as given.
        value: String,
        /// Decimal places the picture has (negative with `P` scaling).
        scale: i32,
    },
    /// A value given for a field that holds no number.
    #[error("the field is not numeric")]
    NotNumeric,
    /// Text that is not a number.
    #[error("not a number: {0:?}")]
    Syntax(String),
    /// A field size the format does not have.
    #[error("unsupported field size {0} bytes")]
    Size(usize),
}

/// A value outside a binary field's storage range, with the range (see [`NumError::OutOfRange`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{value} is outside the range of a {size}-byte {signedness} binary field ({min} to {max})")]
pub struct BinaryRange {
    /// The value, as asked for.
    pub value: String,
    /// Storage size in bytes.
    pub size: usize,
    /// `signed` or `unsigned`.
    pub signedness: &'static str,
    /// The smallest value the field holds.
    pub min: String,
    /// The largest value the field holds.
    pub max: String,
}

pub mod decode;
pub mod digits;
pub mod encode;
pub mod flat;
pub mod json;
pub mod json_doc;
pub mod json_read;
pub mod lookup;
pub(crate) mod number;
pub mod ops;
pub mod plan;
pub mod records;
pub mod template;
pub mod value;

pub use decode::{DecodeError, FieldError, Scratch, Sink};
pub use encode::EncodeError;
pub use plan::{CodecOptions, Plan, PlanError};

use crate::copybook::Record;
use serde_json::Value;

/// A record layout compiled for one set of options: the codec's entry point.
///
/// ```ignore
/// let codec = Codec::new(record, CodecOptions::default())?;
/// let (json, len) = codec.decode_json(&bytes)?;
/// assert_eq!(codec.encode_json(&json)?, bytes[..len]);
/// ```
#[derive(Clone, Debug)]
pub struct Codec {
    plan: Plan,
    /// The layout flattened for decode → JSON text, when it does not move: made on first use
    /// and shared with the `lenient()` and `filling_missing()` copies (same layout).
    flat: std::sync::Arc<std::sync::OnceLock<Option<flat::FlatJson>>>,
}

impl Codec {
    /// Compiles `record` for `options`.
    pub fn new(record: &Record, options: CodecOptions) -> Result<Codec, PlanError> {
        Ok(Codec { plan: Plan::compile(record, options)?, flat: Default::default() })
    }

    /// The layout flattened for decode → JSON text, compiled on first use (a codec that only
    /// encodes never pays for it); `None` when the layout moves or is too large to unroll.
    fn flat(&self) -> Option<&flat::FlatJson> {
        self.flat.get_or_init(|| flat::FlatJson::compile(&self.plan)).as_ref()
    }

    /// The same layout, decoding leniently: invalid fields become `null`.
    pub fn lenient(&self) -> Codec {
        let mut plan = self.plan.clone();
        plan.options.lenient = true;
        Codec { plan, flat: self.flat.clone() }
    }

    /// The same layout, encoding a field the JSON leaves out as its VALUE clause says (or
    /// spaces / zero without one), as `fill_missing` does.
    pub fn filling_missing(&self) -> Codec {
        let mut plan = self.plan.clone();
        plan.options.fill_missing = true;
        Codec { plan, flat: self.flat.clone() }
    }

    /// The compiled plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Size of the largest form of the record.
    pub fn max_size(&self) -> usize {
        self.plan.max_size
    }

    /// Decodes one record at the start of `bytes` into a JSON value; returns it and the
    /// record's length (shorter than [`Codec::max_size`] when a table has DEPENDING ON).
    pub fn decode_json(&self, bytes: &[u8]) -> Result<(Value, usize), DecodeError> {
        let mut builder = json::ValueBuilder::default();
        let len = self.plan.decode(bytes, &mut builder, &mut Scratch::default())?;
        Ok((builder.finish(), len))
    }

    /// Decodes one record and appends it to `out` as JSON text (the fast path: a layout
    /// without `DEPENDING ON` is written from its [`flat::FlatJson`]); returns the record's
    /// length.
    ///
    /// Errors: the record's first invalid field (strict mode) or its shortness.
    pub fn decode_json_text(
        &self,
        bytes: &[u8],
        out: &mut String,
        scratch: &mut Scratch,
    ) -> Result<usize, DecodeError> {
        match self.flat() {
            Some(flat) => flat.decode(&self.plan, bytes, out, scratch),
            None => self.plan.decode(bytes, &mut json::JsonWriter::new(out), scratch),
        }
    }

    /// Bytes of JSON text [`Codec::decode_json_text`] usually writes for a record (room to
    /// reserve; a record of wide characters or escapes may need more).
    pub fn json_text_hint(&self) -> usize {
        self.flat().map_or(3 * self.plan.max_size, |flat| flat.size_hint())
    }

    /// Encodes a record object into bytes.
    pub fn encode_json(&self, value: &Value) -> Result<Vec<u8>, EncodeError> {
        let mut out = Vec::with_capacity(self.plan.max_size);
        self.plan.encode(value, &mut out)?;
        Ok(out)
    }

    /// Encodes a record object into `out` (cleared first), reusing its allocation.
    pub fn encode_json_into(&self, value: &Value, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.plan.encode(value, out)
    }
}

/// The message of [`NumError::Scale`]: a P-scaled picture (negative scale) holds multiples of
/// a power of ten, which says more than "-2 decimal places".
fn scale_message(value: &str, scale: i32) -> String {
    if scale < 0 {
        let p = scale.unsigned_abs();
        format!(
            "{value} is not a multiple of 1{zeros}: the picture's {p} P position{s} (scaling) hold only zeros",
            zeros = "0".repeat(p as usize),
            s = if p == 1 { "" } else { "s" }
        )
    } else {
        format!("{value} has more decimal places than the field's {scale}")
    }
}
