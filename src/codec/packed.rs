//! Packed decimal (COMP-3): two digits a byte, the sign in the last nibble (C +, D -, F unsigned;
//! A/E read as +, B as -). A field of `n` bytes holds `2n-1` digits.
//!
//! Fields are 1 to 16 bytes (31 digits). Decoding converts eight bytes at a time with SWAR
//! arithmetic in a `u64` (up to 10 bytes stay in `u64`), never allocates, and reports the
//! offset of the first bad nibble.

use super::decimal::{count_digits, POW10, TEN19};
use super::NumError;

/// Largest packed field, in bytes (31 digits).
pub const MAX_PACKED_BYTES: usize = 16;

/// Low nibble of every byte.
const LOW: u64 = 0x0F0F_0F0F_0F0F_0F0F;

/// `BCD[n]` is the packed byte for `n` in `0..100`.
const BCD: [u8; 100] = {
    let mut t = [0u8; 100];
    let mut i = 0;
    while i < 100 {
        t[i] = ((i / 10) << 4 | (i % 10)) as u8;
        i += 1;
    }
    t
};

/// Decodes a packed field into `(negative, magnitude)`. Up to 16 bytes (31 digits).
/// A negative zero keeps its sign (`(true, 0)`), so that it can be written back as it was.
#[inline]
pub fn decode_packed(bytes: &[u8]) -> Result<(bool, u128), NumError> {
    let n = bytes.len();
    let last = match bytes.last() {
        Some(&last) if n <= MAX_PACKED_BYTES => last,
        _ => return Err(NumError::Size(n)),
    };
    let magnitude = if n <= 8 {
        let mut a = [0u8; 8];
        a[8 - n..].copy_from_slice(bytes);
        // Drop the sign nibble: the digits are now right-aligned BCD.
        let x = u64::from_be_bytes(a) >> 4;
        if !valid(x) {
            return Err(first_bad(bytes));
        }
        u128::from(bcd16(x))
    } else {
        let mut a = [0u8; 16];
        a[16 - n..].copy_from_slice(bytes);
        let x = u128::from_be_bytes(a) >> 4;
        let (hi, lo) = ((x >> 64) as u64, x as u64);
        if !valid(hi) || !valid(lo) {
            return Err(first_bad(bytes));
        }
        if n <= 10 {
            // At most 19 digits: still a u64.
            u128::from(bcd16(hi) * 10_000_000_000_000_000 + bcd16(lo))
        } else {
            u128::from(bcd16(hi)) * POW10[16] + u128::from(bcd16(lo))
        }
    };
    let negative = sign_nibble(last).ok_or(NumError::InvalidSign { offset: n - 1, byte: last })?;
    Ok((negative, magnitude))
}

/// Whether the sign nibble of a packed field's `last` byte is negative (B, D) or not (A, C, E,
/// F); `None` if it is a digit (IBM Language Reference, internal representation of COMP-3).
#[inline]
pub(crate) fn sign_nibble(last: u8) -> Option<bool> {
    match last & 0x0F {
        0xA | 0xC | 0xE | 0xF => Some(false),
        0xB | 0xD => Some(true),
        _ => None,
    }
}

/// True if all sixteen nibbles are 0-9 (adding 6 to a nibble above 9 carries out of it).
fn valid(x: u64) -> bool {
    digit_lanes(x & LOW) && digit_lanes((x >> 4) & LOW)
}

/// True if each of the eight bytes of `lanes` (each 0–15) is a decimal digit: adding 6 carries
/// out of a lane above 9 into its high nibble. The one check behind packed BCD ([`valid`]) and
/// zoned digits ([`super::zoned::digits8`]).
#[inline]
pub(crate) fn digit_lanes(lanes: u64) -> bool {
    (lanes + 0x0606_0606_0606_0606) & !LOW == 0
}

/// Sixteen BCD digits to their value, by halving the lane count three times.
fn bcd16(x: u64) -> u64 {
    let x = (x >> 4 & LOW) * 10 + (x & LOW);
    let x = (x >> 8 & 0x00FF_00FF_00FF_00FF) * 100 + (x & 0x00FF_00FF_00FF_00FF);
    let x = (x >> 16 & 0x0000_FFFF_0000_FFFF) * 10_000 + (x & 0x0000_FFFF_0000_FFFF);
    (x >> 32) * 100_000_000 + (x & 0xFFFF_FFFF)
}

/// The error for the first digit nibble above 9 (cold path).
#[cold]
fn first_bad(bytes: &[u8]) -> NumError {
    let last = bytes.len().saturating_sub(1);
    let bad = |(i, &b): &(usize, &u8)| b >> 4 > 9 || (*i < last && b & 0x0F > 9);
    match bytes.iter().enumerate().find(bad) {
        Some((offset, &byte)) => NumError::InvalidDigit { offset, byte },
        None => NumError::InvalidDigit { offset: 0, byte: bytes.first().copied().unwrap_or(0) },
    }
}

/// Encodes into exactly `dst.len()` bytes; sign nibble C/D when `signed`, F otherwise.
/// `digits` is the picture's digit count: a magnitude with more digits is an overflow, and
/// for an even count the unused high nibble is written as zero. A `digits` larger than the
/// field holds (`2n-1`) is a [`NumError::Size`] error. A negative zero is written with
/// the D sign in a signed field (as the host writes it) and as F zero in an unsigned one.
pub fn encode_packed(
    negative: bool,
    magnitude: u128,
    digits: u32,
    signed: bool,
    dst: &mut [u8],
) -> Result<(), NumError> {
    let n = dst.len();
    if n == 0 || n > MAX_PACKED_BYTES || digits as usize > 2 * n - 1 {
        return Err(NumError::Size(n));
    }
    if negative && magnitude != 0 && !signed {
        return Err(NumError::NegativeUnsigned);
    }
    let negative = negative && signed;
    if magnitude >= POW10[digits as usize] {
        return Err(NumError::Overflow { digits: count_digits(magnitude), max: digits });
    }
    let sign = match (signed, negative) {
        (false, _) => 0x0F,
        (true, false) => 0x0C,
        (true, true) => 0x0D,
    };
    let (body, last) = dst.split_at_mut(n - 1);
    match u64::try_from(magnitude) {
        Ok(v) => {
            last[0] = ((v % 10) as u8) << 4 | sign;
            fill_bcd(v / 10, body);
        }
        Err(_) => {
            // Over 19 digits, so n >= 11: the low 19 digits fill the last 10 bytes.
            let (hi, lo) = ((magnitude / TEN19) as u64, (magnitude % TEN19) as u64);
            last[0] = ((lo % 10) as u8) << 4 | sign;
            let split = body.len().saturating_sub(9);
            let (head, tail) = body.split_at_mut(split);
            fill_bcd(lo / 10, tail);
            fill_bcd(hi, head);
        }
    }
    Ok(())
}

/// Writes `v` as BCD pairs filling `dst` right to left, with leading zero bytes.
fn fill_bcd(mut v: u64, dst: &mut [u8]) {
    let mut i = dst.len();
    while i >= 2 {
        let r = (v % 10_000) as usize;
        v /= 10_000;
        dst[i - 2] = BCD[r / 100];
        dst[i - 1] = BCD[r % 100];
        i -= 2;
    }
    if i == 1 {
        dst[0] = BCD[(v % 100) as usize];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn enc(negative: bool, magnitude: u128, digits: u32, signed: bool, len: usize) -> Result<Vec<u8>, NumError> {
        let mut dst = vec![0u8; len];
        encode_packed(negative, magnitude, digits, signed, &mut dst).map(|()| dst)
    }

    #[test]
    fn hand_checked_vectors() {
        assert_eq!(enc(false, 12345, 5, true, 3), Ok(vec![0x12, 0x34, 0x5C]));
        assert_eq!(enc(true, 1, 3, true, 2), Ok(vec![0x00, 0x1D]));
        assert_eq!(enc(false, 1234, 4, true, 3), Ok(vec![0x01, 0x23, 0x4C]));
        assert_eq!(enc(false, 1234, 4, false, 3), Ok(vec![0x01, 0x23, 0x4F]));
        // A negative zero keeps its D sign where the field is signed (the host writes X'0D').
        assert_eq!(enc(true, 0, 1, true, 1), Ok(vec![0x0D]));
        assert_eq!(enc(true, 0, 1, false, 1), Ok(vec![0x0F]));
        assert_eq!(enc(false, 0, 5, true, 3), Ok(vec![0x00, 0x00, 0x0C]));
        assert_eq!(decode_packed(&[0x00, 0x00, 0x0D]), Ok((true, 0)));
        assert_eq!(decode_packed(&[0x12, 0x34, 0x5C]), Ok((false, 12345)));
        assert_eq!(decode_packed(&[0x00, 0x1D]), Ok((true, 1)));
        assert_eq!(decode_packed(&[0x01, 0x23, 0x4C]), Ok((false, 1234)));
        for (sign, negative) in [(0xA, false), (0xB, true), (0xC, false), (0xD, true), (0xE, false), (0xF, false)] {
            assert_eq!(decode_packed(&[0x7 << 4 | sign]), Ok((negative, 7)));
        }
        assert_eq!(decode_packed(&[0x0D]), Ok((true, 0)));
    }

    #[test]
    fn wide_fields() {
        let nines = POW10[31] - 1;
        let mut all_nines = vec![0x99u8; 16];
        all_nines[15] = 0x9D;
        assert_eq!(enc(true, nines, 31, true, 16).as_deref(), Ok(&all_nines[..]));
        assert_eq!(decode_packed(&all_nines), Ok((true, nines)));
        let v = 1_234_567_890_123_456_789u128; // 19 digits: 10 bytes, still u64
        let bytes = enc(false, v, 19, true, 10).unwrap();
        assert_eq!(bytes, [0x12, 0x34, 0x56, 0x78, 0x90, 0x12, 0x34, 0x56, 0x78, 0x9C]);
        assert_eq!(decode_packed(&bytes), Ok((false, v)));
        let v = 98_765_432_109_876_543_210u128; // 20 digits
        let bytes = enc(false, v, 21, true, 11).unwrap();
        assert_eq!(bytes, [0x09, 0x87, 0x65, 0x43, 0x21, 0x09, 0x87, 0x65, 0x43, 0x21, 0x0C]);
        assert_eq!(decode_packed(&bytes), Ok((false, v)));
    }

    #[test]
    fn errors() {
        assert_eq!(decode_packed(&[]), Err(NumError::Size(0)));
        assert_eq!(decode_packed(&[0x0C; 17]), Err(NumError::Size(17)));
        assert_eq!(decode_packed(&[0x12, 0x34]), Err(NumError::InvalidSign { offset: 1, byte: 0x34 }));
        assert_eq!(decode_packed(&[0x1A, 0x2C]), Err(NumError::InvalidDigit { offset: 0, byte: 0x1A }));
        assert_eq!(decode_packed(&[0x12, 0xAC]), Err(NumError::InvalidDigit { offset: 1, byte: 0xAC }));
        let mut wide = [0x11u8; 12];
        wide[11] = 0x1C;
        wide[9] = 0x1F;
        assert_eq!(decode_packed(&wide), Err(NumError::InvalidDigit { offset: 9, byte: 0x1F }));
        assert_eq!(enc(false, 1000, 3, true, 2), Err(NumError::Overflow { digits: 4, max: 3 }));
        assert_eq!(enc(false, 100, 2, true, 2), Err(NumError::Overflow { digits: 3, max: 2 }));
        assert_eq!(enc(true, 5, 3, false, 2), Err(NumError::NegativeUnsigned));
        assert_eq!(enc(false, 5, 4, true, 2), Err(NumError::Size(2)));
        assert_eq!(enc(false, 5, 1, true, 0), Err(NumError::Size(0)));
        assert_eq!(enc(false, 5, 31, true, 17), Err(NumError::Size(17)));
    }

    proptest! {
        #[test]
        fn encode_decode_round_trip(len in 1usize..=16, even: bool, seed: u128, negative: bool, signed: bool, zero: bool) {
            let digits = (2 * len as u32 - 1).saturating_sub(u32::from(even)).max(1);
            let magnitude = if zero { 0 } else { seed % POW10[digits as usize] };
            // A negative zero is kept (signed fields), as every other negative value.
            let negative = negative && signed;
            let bytes = enc(negative, magnitude, digits, signed, len).unwrap();
            prop_assert_eq!(decode_packed(&bytes), Ok((negative, magnitude)));
            let text = magnitude.to_string();
            let nibbles: String = bytes.iter().map(|b| format!("{b:02X}")).collect();
            prop_assert_eq!(nibbles[..nibbles.len() - 1].trim_start_matches('0'), text.trim_start_matches('0'));
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..20)) {
            let _ = decode_packed(&bytes);
        }
    }
}
