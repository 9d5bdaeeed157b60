//! Binary integers (COMP, COMP-4, BINARY, COMP-5): two's complement at IBM sizes.
//!
//! Decode accepts any value the bytes hold (TRUNC(BIN) data may exceed the picture); encode
//! checks against the picture's digit count.

use super::NumError;

/// Byte order of a binary field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOrder {
    /// Most significant byte first (IBM mainframe; always for COMP/COMP-4/BINARY).
    Big,
    /// Least significant byte first (COMP-5 on x86).
    Little,
}

/// The IBM storage size for a binary picture of `digits` digits: 1–4 → 2, 5–9 → 4, 10–18 → 8.
pub fn binary_size(digits: u32) -> usize {
    match digits {
        0..=4 => 2,
        5..=9 => 4,
        _ => 8,
    }
}

/// Decodes a 1/2/4/8-byte field into `(negative, magnitude)`.
pub fn decode_binary(
    bytes: &[u8],
    signed: bool,
    order: ByteOrder,
) -> Result<(bool, u128), NumError> {
    let _ = (bytes, signed, order);
    todo!()
}

/// Encodes into exactly `dst.len()` bytes. `max_digits`: a magnitude with more digits than
/// this is an overflow (pass `None` to check only against the storage size). A negative value
/// into an unsigned field is an error.
pub fn encode_binary(
    negative: bool,
    magnitude: u128,
    signed: bool,
    max_digits: Option<u32>,
    order: ByteOrder,
    dst: &mut [u8],
) -> Result<(), NumError> {
    let _ = (negative, magnitude, signed, max_digits, order, dst);
    todo!()
}
