//! Writing one number into a zoned, packed or binary field: the picture's scale and sign, and
//! the binary range rules (TRUNC for COMP/BINARY/COMP-4, the whole storage for COMP-5).
//! Pure; [`super::encode`] and [`super::value`] call it.

use super::binary::encode_binary;
use super::decimal::Decimal;
use super::packed::encode_packed;
use super::plan::LeafKind;
use super::zoned::{encode_zoned, SignPosition};
use super::NumError;

/// Writes `value` into a zoned, packed or binary field.
pub(crate) fn encode_number(
    kind: LeafKind,
    value: Decimal,
    options: super::plan::CodecOptions,
    dst: &mut [u8],
) -> Result<(), NumError> {
    let (scale, digits, signed) = match kind {
        LeafKind::Zoned { scale, digits, sign, .. } => (scale, digits, sign != SignPosition::None),
        LeafKind::Packed { scale, digits, signed } | LeafKind::Binary { scale, digits, signed, .. } => {
            (scale, digits, signed)
        }
        _ => return Err(NumError::NotNumeric),
    };
    let scaled = value.rescale(scale).map_err(|_| NumError::Scale { value: value.to_string(), scale })?;
    if scaled.negative && !scaled.is_zero() && !signed {
        return Err(NumError::NegativeUnsigned);
    }
    let (negative, magnitude) = (scaled.negative, scaled.coefficient);
    match kind {
        LeafKind::Zoned { sign, blank_when_zero, .. } => {
            if blank_when_zero && magnitude == 0 {
                dst.fill(options.codepage.space());
                return Ok(());
            }
            encode_zoned(negative, magnitude, sign, options.sign_style, dst)
        }
        LeafKind::Packed { .. } => encode_packed(negative, magnitude, digits, signed, dst),
        LeafKind::Binary { order, native, .. } => {
            // COMP-5 holds its storage's whole range whatever the picture says (IBM: "values
            // are limited only by the capacity of the native binary representation"); TRUNC
            // applies to COMP/COMP-4/BINARY only.
            let picture_digits = (!native && !options.trunc_bin && digits > 0).then_some(digits);
            encode_binary(negative, magnitude, signed, picture_digits, order, dst).map_err(|e| match e {
                NumError::Overflow { .. } if picture_digits.is_none() => storage_range(scaled, signed, dst.len()),
                other => other,
            })
        }
        _ => Ok(()),
    }
}

/// The error for `value` beyond the storage of a `size`-byte binary field, with the range.
fn storage_range(value: Decimal, signed: bool, size: usize) -> NumError {
    let bits = 8 * size.min(16) as u32;
    let (min, max) = if signed {
        (
            Decimal::new(true, 1u128 << (bits - 1), value.scale),
            Decimal::new(false, u128::MAX >> (129 - bits), value.scale),
        )
    } else {
        (Decimal::new(false, 0, value.scale), Decimal::new(false, u128::MAX >> (128 - bits), value.scale))
    };
    NumError::OutOfRange(Box::new(super::BinaryRange {
        value: value.to_string(),
        size,
        signedness: if signed { "signed" } else { "unsigned" },
        min: min.to_string(),
        max: max.to_string(),
    }))
}
