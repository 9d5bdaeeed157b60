//! Zoned decimal (USAGE DISPLAY numbers): one digit a byte, sign overpunched in the zone of
//! the first or last digit, or in a separate byte.
//!
//! Decode accepts every convention (EBCDIC zones C/D/F, and A/B/E; ASCII IBM-style `{ A–I } J–R`
//! and GnuCOBOL/Micro Focus-style `0–9`/`p–y`); encode writes the one chosen by [`SignStyle`].

use super::NumError;

/// Where the sign of a zoned number is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignPosition {
    /// Unsigned picture: no sign.
    None,
    /// Overpunched in the last digit (the default for `S9`).
    TrailingOverpunch,
    /// Overpunched in the first digit (`SIGN LEADING`).
    LeadingOverpunch,
    /// A separate `+`/`-` byte after the digits (`SIGN TRAILING SEPARATE`).
    TrailingSeparate,
    /// A separate `+`/`-` byte before the digits (`SIGN LEADING SEPARATE`).
    LeadingSeparate,
}

/// How overpunched signs are written on encode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignStyle {
    /// EBCDIC zones: C (+), D (-), F (unsigned).
    Ebcdic,
    /// ASCII, IBM style: `{ A B .. I` for +0..+9, `} J K .. R` for -0..-9.
    AsciiIbm,
    /// ASCII, GnuCOBOL/Micro Focus style: `0..9` for +, `p..y` for -0..-9.
    AsciiMf,
}

/// Decodes `bytes` (digits plus a separate sign byte if any) into `(negative, magnitude)`.
/// `ebcdic` says whether digits are 0xF0–0xF9 or 0x30–0x39.
pub fn decode_zoned(
    bytes: &[u8],
    sign: SignPosition,
    ebcdic: bool,
) -> Result<(bool, u128), NumError> {
    let _ = (bytes, sign, ebcdic);
    todo!()
}

/// Encodes a magnitude into exactly `dst.len()` bytes (digits, plus a sign byte if separate).
/// Errors with [`NumError::Overflow`] if the magnitude has more digits than fit.
pub fn encode_zoned(
    negative: bool,
    magnitude: u128,
    sign: SignPosition,
    style: SignStyle,
    dst: &mut [u8],
) -> Result<(), NumError> {
    let _ = (negative, magnitude, sign, style, dst);
    todo!()
}
