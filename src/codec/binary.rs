//! Binary integers (COMP, COMP-4, BINARY, COMP-5): two's complement at IBM sizes.
//!
//! Decode accepts any value the bytes hold (TRUNC(BIN) data may exceed the picture); encode
//! checks against the picture's digit count and the storage size. Sizes are 1, 2, 4, 8 and
//! 16 bytes; anything else is [`NumError::Size`].

use super::decimal::count_digits;
use super::NumError;

/// Byte order of a binary field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ByteOrder {
    /// Most significant byte first (IBM mainframe; always for COMP/COMP-4/BINARY).
    Big,
    /// Least significant byte first (COMP-5 on x86).
    Little,
}

pub use crate::copybook::build::binary_size;

/// Reads `N` bytes in `order` as a big-endian array.
fn be_array<const N: usize>(bytes: &[u8], order: ByteOrder) -> [u8; N] {
    let mut a = [0u8; N];
    a.copy_from_slice(bytes);
    if order == ByteOrder::Little {
        a.reverse();
    }
    a
}

/// `(negative, magnitude)` of a signed value.
fn split(v: i128) -> (bool, u128) {
    (v < 0, v.unsigned_abs())
}

/// Decodes a 1/2/4/8/16-byte field into `(negative, magnitude)`.
#[inline]
pub fn decode_binary(bytes: &[u8], signed: bool, order: ByteOrder) -> Result<(bool, u128), NumError> {
    macro_rules! read {
        ($n:literal, $s:ty, $u:ty) => {{
            let a = be_array::<$n>(bytes, order);
            if signed {
                split(i128::from(<$s>::from_be_bytes(a)))
            } else {
                (false, u128::from(<$u>::from_be_bytes(a)))
            }
        }};
    }
    Ok(match bytes.len() {
        1 => read!(1, i8, u8),
        2 => read!(2, i16, u16),
        4 => read!(4, i32, u32),
        8 => read!(8, i64, u64),
        16 => {
            let a = be_array::<16>(bytes, order);
            if signed {
                split(i128::from_be_bytes(a))
            } else {
                (false, u128::from_be_bytes(a))
            }
        }
        n => return Err(NumError::Size(n)),
    })
}

/// Digits that always fit a field of `size` bytes (what [`NumError::Overflow`] reports as
/// `max` when the storage, not the picture, is the limit).
fn storage_digits(size: usize) -> u32 {
    match size {
        1 => 2,
        2 => 4,
        4 => 9,
        8 => 18,
        _ => 38,
    }
}

/// Encodes into exactly `dst.len()` bytes. `max_digits`: a magnitude with more digits than
/// this is an overflow (pass `None` to check only against the storage size). A negative value
/// into an unsigned field is an error; zero is never written negative.
pub fn encode_binary(
    negative: bool,
    magnitude: u128,
    signed: bool,
    max_digits: Option<u32>,
    order: ByteOrder,
    dst: &mut [u8],
) -> Result<(), NumError> {
    let size = dst.len();
    if !matches!(size, 1 | 2 | 4 | 8 | 16) {
        return Err(NumError::Size(size));
    }
    let negative = negative && magnitude != 0;
    if negative && !signed {
        return Err(NumError::NegativeUnsigned);
    }
    if let Some(max) = max_digits {
        if count_digits(magnitude) > max {
            return Err(NumError::Overflow { digits: count_digits(magnitude), max });
        }
    }
    // The storage range: [-2^(b-1), 2^(b-1) - 1] signed, [0, 2^b - 1] unsigned.
    let bits = 8 * size as u32;
    let limit = match (signed, negative) {
        (false, _) => u128::MAX >> (128 - bits),
        (true, false) => u128::MAX >> (129 - bits),
        (true, true) => 1u128 << (bits - 1),
    };
    if magnitude > limit {
        let max = max_digits.unwrap_or(storage_digits(size)).min(storage_digits(size));
        return Err(NumError::Overflow { digits: count_digits(magnitude), max });
    }
    // In range, so the two's complement wraps exactly; keep the low `size` bytes.
    let raw = if negative { magnitude.wrapping_neg() } else { magnitude };
    let be = raw.to_be_bytes();
    dst.copy_from_slice(&be[16 - size..]);
    if order == ByteOrder::Little {
        dst.reverse();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use ByteOrder::*;

    fn enc(
        negative: bool,
        magnitude: u128,
        signed: bool,
        max: Option<u32>,
        order: ByteOrder,
        len: usize,
    ) -> Result<Vec<u8>, NumError> {
        let mut dst = vec![0u8; len];
        encode_binary(negative, magnitude, signed, max, order, &mut dst).map(|()| dst)
    }

    #[test]
    fn hand_checked_vectors() {
        assert_eq!(enc(true, 1, true, Some(4), Big, 2), Ok(vec![0xFF, 0xFF]));
        assert_eq!(enc(false, 0x1234, true, None, Big, 2), Ok(vec![0x12, 0x34]));
        assert_eq!(enc(false, 0x1234, true, None, Little, 4), Ok(vec![0x34, 0x12, 0, 0]));
        assert_eq!(enc(true, 32768, true, None, Big, 2), Ok(vec![0x80, 0x00]));
        assert_eq!(decode_binary(&[0xFF, 0xFF], true, Big), Ok((true, 1)));
        assert_eq!(decode_binary(&[0xFF, 0xFF], false, Big), Ok((false, 65535)));
        assert_eq!(decode_binary(&[0x00, 0x80], true, Little), Ok((true, 32768)));
        assert_eq!(decode_binary(&[0x80], true, Big), Ok((true, 128)));
        assert_eq!(decode_binary(&[0x80, 0, 0, 0, 0, 0, 0, 0], true, Big), Ok((true, 1 << 63)));
        assert_eq!(decode_binary(&[0xFF; 16], false, Big), Ok((false, u128::MAX)));
        assert_eq!(decode_binary(&[0x80; 16], true, Little), Ok((true, 0x7F7F_7F7F_7F7F_7F7F_7F7F_7F7F_7F7F_7F80)));
        // TRUNC(BIN): beyond the picture is still read.
        assert_eq!(decode_binary(&[0x27, 0x10], true, Big), Ok((false, 10000)));
        assert_eq!(binary_size(4), 2);
        assert_eq!(binary_size(9), 4);
        assert_eq!(binary_size(18), 8);
    }

    #[test]
    fn errors() {
        assert_eq!(enc(false, 10000, true, Some(4), Big, 2), Err(NumError::Overflow { digits: 5, max: 4 }));
        assert_eq!(enc(false, 32768, true, None, Big, 2), Err(NumError::Overflow { digits: 5, max: 4 }));
        assert_eq!(enc(true, 32769, true, Some(9), Big, 2), Err(NumError::Overflow { digits: 5, max: 4 }));
        assert_eq!(enc(false, 65535, false, None, Big, 2), Ok(vec![0xFF, 0xFF]));
        assert_eq!(enc(false, 65536, false, None, Big, 2), Err(NumError::Overflow { digits: 5, max: 4 }));
        assert_eq!(enc(true, 1, false, None, Big, 2), Err(NumError::NegativeUnsigned));
        assert_eq!(enc(true, 0, false, None, Big, 2), Ok(vec![0, 0]));
        assert_eq!(enc(false, 1, false, Some(0), Big, 2), Err(NumError::Overflow { digits: 1, max: 0 }));
        assert_eq!(enc(false, u128::MAX, false, None, Big, 16), Ok(vec![0xFF; 16]));
        assert_eq!(enc(false, u128::MAX, true, None, Big, 16), Err(NumError::Overflow { digits: 39, max: 38 }));
        for n in [0, 3, 5, 9, 17] {
            assert_eq!(enc(false, 1, true, None, Big, n), Err(NumError::Size(n)));
            assert_eq!(decode_binary(&vec![0; n], true, Big), Err(NumError::Size(n)));
        }
    }

    fn order() -> impl Strategy<Value = ByteOrder> {
        prop_oneof![Just(Big), Just(Little)]
    }

    proptest! {
        #[test]
        fn encode_decode_round_trip(size in prop_oneof![Just(1usize), Just(2), Just(4), Just(8), Just(16)], raw: i128, signed: bool, order in order()) {
            let bits = 8 * size as u32;
            let (negative, magnitude) = if signed {
                let v = raw >> (128 - bits); // sign-extended into range
                (v < 0, v.unsigned_abs())
            } else {
                (false, (raw as u128) >> (128 - bits))
            };
            let bytes = enc(negative, magnitude, signed, None, order, size).unwrap();
            prop_assert_eq!(decode_binary(&bytes, signed, order), Ok((negative, magnitude)));
        }

        #[test]
        fn picture_limit(digits in 1u32..=18, seed: u64, negative: bool) {
            let magnitude = u128::from(seed) % crate::codec::decimal::POW10[digits as usize];
            let size = binary_size(digits);
            let bytes = enc(negative, magnitude, true, Some(digits), Big, size).unwrap();
            prop_assert_eq!(decode_binary(&bytes, true, Big), Ok((negative && magnitude != 0, magnitude)));
        }

        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..20), signed: bool, order in order()) {
            let _ = decode_binary(&bytes, signed, order);
        }
    }
}
