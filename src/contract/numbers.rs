//! Bounds of a numeric field as exact decimal JSON numbers: the picture's digits and scale
//! (`S9(13)V99` → ±9999999999999.99, multiple of 0.01), or a binary field's storage range.

use serde_json::{Number, Value};

/// `magnitude`·10^-`scale` as exact decimal text (`12345`, 2 → `123.45`; 9, -3 → `9000`).
pub fn scaled(magnitude: u128, negative: bool, scale: i32) -> String {
    let digits = magnitude.to_string();
    let sign = if negative && magnitude != 0 { "-" } else { "" };
    if scale <= 0 {
        let zeros = if magnitude == 0 { 0 } else { scale.unsigned_abs() as usize };
        return format!("{sign}{digits}{}", "0".repeat(zeros));
    }
    let scale = scale as usize;
    let padded = format!("{digits:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{sign}{int}.{frac}")
}

/// A JSON number holding `text` exactly (serde_json keeps the text: `arbitrary_precision`).
pub fn number(text: &str) -> Value {
    text.parse::<Number>().map_or(Value::Null, Value::Number)
}

/// The largest value of `digits` digit positions at `scale`: (10^digits − 1)·10^-scale.
pub fn picture_max(digits: u32, scale: i32) -> String {
    if digits == 0 {
        return "0".into();
    }
    let nines = "9".repeat(digits as usize);
    if scale <= 0 {
        return format!("{nines}{}", "0".repeat(scale.unsigned_abs() as usize));
    }
    let scale = scale as usize;
    let padded = format!("{nines:0>width$}", width = scale + 1);
    let (int, frac) = padded.split_at(padded.len() - scale);
    format!("{int}.{frac}")
}

/// The step between two values at `scale`: 10^-scale (`0.01` for 2, `1000` for -3).
pub fn step(scale: i32) -> String {
    scaled(1, false, scale)
}

/// (minimum, maximum) a binary field of `len` bytes holds, at `scale`.
pub fn storage_range(len: u32, signed: bool, scale: i32) -> (String, String) {
    let bits = (len * 8).min(127);
    if signed {
        let max = (1u128 << (bits - 1)) - 1;
        (scaled(max + 1, true, scale), scaled(max, false, scale))
    } else {
        ("0".into(), scaled(if bits >= 128 { u128::MAX } else { (1u128 << bits) - 1 }, false, scale))
    }
}

/// The largest magnitude a COMP-1 (`len` 4) or COMP-2 (8) field holds: IBM hexadecimal
/// floating point tops out at 16^63 (about 7.2E75, far below IEEE's 3.4E38 / 1.8E308 in the
/// long form, above it in the short one), as the shortest text that is that `f64`.
pub fn float_max(format: crate::codec::float::FloatFormat, len: u32) -> f64 {
    use crate::codec::float::FloatFormat;
    // 16^63 × (1 − 16^-digits): 6 hex digits in the short form, 14 in the long one.
    let hex = |digits: i32| 16f64.powi(63) * (1.0 - 16f64.powi(-digits));
    match (format, len) {
        (FloatFormat::IbmHex, 4) => hex(6),
        (FloatFormat::IbmHex, _) => hex(14),
        (FloatFormat::IeeeBig, 4) => f32::MAX as f64,
        (FloatFormat::IeeeBig, _) => f64::MAX,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::float::{encode_float, FloatFormat};

    #[test]
    fn float_bounds_are_what_the_encoder_takes() {
        for format in [FloatFormat::IbmHex, FloatFormat::IeeeBig] {
            for len in [4u32, 8] {
                let max = float_max(format, len);
                let mut dst = vec![0u8; len as usize];
                for v in [max, -max] {
                    assert!(encode_float(&format!("{v:e}"), format, &mut dst).is_ok(), "{format:?} {len}: {v:e}");
                }
                let over = max * 1.001;
                if over.is_finite() {
                    assert!(
                        encode_float(&format!("{over:e}"), format, &mut dst).is_err(),
                        "{format:?} {len}: {over:e}"
                    );
                }
            }
        }
    }

    #[test]
    fn bounds_are_the_pictures() {
        assert_eq!(picture_max(15, 2), "9999999999999.99");
        assert_eq!(picture_max(2, 4), "0.0099");
        assert_eq!(picture_max(3, -2), "99900");
        assert_eq!(step(2), "0.01");
        assert_eq!(step(-3), "1000");
        assert_eq!(step(0), "1");
        assert_eq!(storage_range(2, true, 0), ("-32768".to_string(), "32767".to_string()));
        assert_eq!(storage_range(4, false, 2), ("0".to_string(), "42949672.95".to_string()));
    }
}
