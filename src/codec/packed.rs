//! Packed decimal (COMP-3): two digits a byte, the sign in the last nibble (C +, D -, F unsigned;
//! A/E read as +, B as -). A field of `n` bytes holds `2n-1` digits.

use super::NumError;

/// Decodes a packed field into `(negative, magnitude)`. Up to 16 bytes (31 digits).
pub fn decode_packed(bytes: &[u8]) -> Result<(bool, u128), NumError> {
    let _ = bytes;
    todo!()
}

/// Encodes into exactly `dst.len()` bytes; sign nibble C/D when `signed`, F otherwise.
/// `digits` is the picture's digit count: a magnitude with more digits is an overflow, and
/// for an even count the unused high nibble is written as zero.
pub fn encode_packed(
    negative: bool,
    magnitude: u128,
    digits: u32,
    signed: bool,
    dst: &mut [u8],
) -> Result<(), NumError> {
    let _ = (negative, magnitude, digits, signed, dst);
    todo!()
}
