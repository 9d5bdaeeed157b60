//! COMP-1 / COMP-2: IBM hexadecimal floating point (the default) or IEEE 754 (an option).
//!
//! Values travel as decimal text: decode gives the shortest decimal that encodes back to the
//! same bits, computed exactly (big integers), so nothing is lost through `f64`.

use super::NumError;

/// Floating-point format of COMP-1/COMP-2 fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FloatFormat {
    /// IBM System/360 hexadecimal floating point, big-endian.
    IbmHex,
    /// IEEE 754 binary32/binary64, big-endian.
    IeeeBig,
}

/// Decodes a 4- or 8-byte float into the shortest decimal text that round-trips
/// (e.g. `-118.625`, `1E-70`; `0` for zero).
pub fn decode_float(bytes: &[u8], format: FloatFormat) -> Result<String, NumError> {
    let _ = (bytes, format);
    todo!()
}

/// Encodes decimal text (JSON number syntax) into a 4- or 8-byte float, rounding to nearest.
pub fn encode_float(text: &str, format: FloatFormat, dst: &mut [u8]) -> Result<(), NumError> {
    let _ = (text, format, dst);
    todo!()
}
