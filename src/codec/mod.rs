//! The record codec: a layout compiled once into a flat plan, then bytes ⇄ values ⇄ JSON.
//!
//! Pure: no I/O, no tokio. The leaf formats live one per file (`zoned`, `packed`, `binary`,
//! `float`, `charset`); `plan` compiles a [`crate::copybook::Record`]; `decode` and `encode`
//! walk the plan.

pub mod binary;
pub mod charset;
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
    /// A negative value for an unsigned field.
    #[error("negative value for an unsigned field")]
    NegativeUnsigned,
    /// Text that is not a number.
    #[error("not a number: {0:?}")]
    Syntax(String),
    /// A field size the format does not have.
    #[error("unsupported field size {0} bytes")]
    Size(usize),
}
