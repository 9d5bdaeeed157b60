//! COMP-1 / COMP-2: IBM hexadecimal floating point (the default) or IEEE 754 (an option).
//!
//! Values travel as decimal text: decode gives the shortest decimal that encodes back to the
//! same bits, computed exactly (big integers), so nothing is lost through `f64`.
//!
//! HFP rules, so that decode and encode agree: encode rounds to nearest, ties to even, onto
//! normalised numbers; below the normalised range (16^-65) it keeps exponent 0 with an
//! unnormalised fraction (gradual underflow, like IEEE subnormals) and a value below half the
//! smallest step becomes zero. Above the largest HFP number it is [`NumError::Overflow`].
//! Decode reads unnormalised inputs by value (so they re-encode normalised). A true zero reads
//! as `0`, and a negative zero (only the sign bit set) as `-0`, and each encodes back to its own
//! bytes; a "dirty" HFP zero (zero fraction, non-zero exponent) reads as `0` and re-encodes as
//! all zero bytes. A value that underflows to zero on encode is written as positive zero.
//!
//! Text output is plain decimal (`-118.625`, `0.1`) when the decimal point is within 21 digits
//! of the first digit, else exponent form (`1E-70`, `7.2370055773322621E75`): both valid JSON.
//! IEEE NaN and infinities have no JSON form: decode reports them as [`NumError::Syntax`].

use num_bigint::BigUint;
use num_traits::{ToPrimitive, Zero};

use super::NumError;

/// Longest text [`encode_float`] reads (longer is a syntax error): enough for any exact
/// decimal expansion of an HFP or IEEE value, small enough to bound big-integer work.
pub const MAX_FLOAT_TEXT: usize = 1024;

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
    let mut a = [0u8; 8];
    let n = bytes.len();
    if n != 4 && n != 8 {
        return Err(NumError::Size(n));
    }
    a[8 - n..].copy_from_slice(bytes);
    let raw = u64::from_be_bytes(a);
    match (format, n) {
        (FloatFormat::IbmHex, _) => {
            let fbits = 8 * n as u32 - 8;
            let negative = bytes[0] & 0x80 != 0;
            let exp = i64::from(bytes[0] & 0x7F);
            if raw == 1 << (8 * n - 1) {
                return Ok("-0".into()); // the sign bit alone: a negative zero
            }
            Ok(hfp_text(negative, exp, raw & ((1 << fbits) - 1), fbits))
        }
        (FloatFormat::IeeeBig, 4) => {
            let v = f32::from_bits(raw as u32);
            ieee_text(f64::from(v), format!("{v:e}"))
        }
        (FloatFormat::IeeeBig, _) => {
            let v = f64::from_bits(raw);
            ieee_text(v, format!("{v:e}"))
        }
    }
}

/// Encodes decimal text (JSON number syntax) into a 4- or 8-byte float, rounding to nearest.
pub fn encode_float(text: &str, format: FloatFormat, dst: &mut [u8]) -> Result<(), NumError> {
    let n = dst.len();
    if n != 4 && n != 8 {
        return Err(NumError::Size(n));
    }
    let number = Number::parse(text)?;
    let raw = match format {
        FloatFormat::IbmHex => hfp_bits(&number, 8 * n as u32 - 8)?,
        FloatFormat::IeeeBig => ieee_bits(text, &number, n)?,
    };
    dst.copy_from_slice(&raw.to_be_bytes()[8 - n..]);
    Ok(())
}

/// Decimal text as `(-1)^negative × digits × 10^exp`, digits without leading/trailing zeros.
struct Number {
    negative: bool,
    /// ASCII digits; empty for zero.
    digits: Vec<u8>,
    exp: i64,
}

impl Number {
    /// Parses JSON number syntax (plus a leading `+`).
    fn parse(text: &str) -> Result<Number, NumError> {
        let syntax = || NumError::Syntax(text.chars().take(64).collect());
        let b = text.as_bytes();
        if b.len() > MAX_FLOAT_TEXT {
            return Err(syntax());
        }
        let (negative, mut i) = match b.first() {
            Some(b'-') => (true, 1),
            Some(b'+') => (false, 1),
            _ => (false, 0),
        };
        let mut digits = Vec::with_capacity(b.len());
        let run = |i: &mut usize, digits: &mut Vec<u8>| {
            let start = *i;
            while let Some(&c) = b.get(*i).filter(|c| c.is_ascii_digit()) {
                if c != b'0' || !digits.is_empty() {
                    digits.push(c);
                }
                *i += 1;
            }
            (*i > start).then_some(*i - start).ok_or_else(syntax)
        };
        run(&mut i, &mut digits)?;
        let mut exp: i64 = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let fraction = run(&mut i, &mut digits)?;
            exp -= fraction as i64;
        }
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            let sign: i64 = match b.get(i) {
                Some(b'-') => {
                    i += 1;
                    -1
                }
                Some(b'+') => {
                    i += 1;
                    1
                }
                _ => 1,
            };
            let start = i;
            let mut e: i64 = 0;
            while let Some(&c) = b.get(i).filter(|c| c.is_ascii_digit()) {
                e = (e * 10 + i64::from(c - b'0')).min(1 << 40); // saturate: out of range anyway
                i += 1;
            }
            if i == start {
                return Err(syntax());
            }
            exp += sign * e;
        }
        if i != b.len() {
            return Err(syntax());
        }
        while digits.last() == Some(&b'0') {
            digits.pop();
            exp += 1;
        }
        Ok(Number { negative, digits, exp })
    }

    /// `p` such that `10^(p-1) <= |value| < 10^p` (meaningless for zero).
    fn magnitude(&self) -> i64 {
        self.digits.len() as i64 + self.exp
    }
}

/// Shortest text for an HFP value `0.frac × 16^(exp-64)` with `fbits` fraction bits.
fn hfp_text(negative: bool, exp: i64, frac: u64, fbits: u32) -> String {
    if frac == 0 {
        return "0".into();
    }
    // Normalise exactly while the exponent allows: the value, not the bits, is decoded.
    let (mut f, mut e) = (frac, exp);
    while f >> (fbits - 4) == 0 && e > 0 {
        f <<= 4;
        e -= 1;
    }
    // In units of 2^(k-5), where value = f × 2^k: the value and the rounding interval. The
    // step below the smallest normalised fraction is 16 times finer (the exponent drops).
    let k = 4 * (e - 64) - i64::from(fbits);
    let v = 32 * f;
    let lo = if f == 1 << (fbits - 4) && e > 0 { v - 1 } else { v - 16 };
    let (digits, q) = shortest(v, lo, v + 16, f % 2 == 0, k - 5);
    format_number(negative, &digits, q)
}

/// `x × 2^s / 10^q` as `(numerator, denominator)` big integers.
fn ratio(x: u64, s: i64, q: i64) -> (BigUint, BigUint) {
    let ten = BigUint::from(10u32);
    let mut num = BigUint::from(x) << s.max(0) as usize;
    let mut den = BigUint::from(1u32) << (-s).max(0) as usize;
    if q >= 0 {
        den *= ten.pow(q as u32);
    } else {
        num *= ten.pow((-q) as u32);
    }
    (num, den)
}

/// The decimal with fewest digits in `[lo, hi]` (units of 2^s; open unless `inclusive`),
/// closest to `v` among those: `(digits, q)` meaning `digits × 10^q`.
fn shortest(v: u64, lo: u64, hi: u64, inclusive: bool, s: i64) -> (Vec<u8>, i64) {
    // 10^q_top exceeds the value: 78913 / 2^18 ≈ log10(2), floor division, plus a margin.
    let bits = i64::from(64 - v.leading_zeros()) + s;
    let mut q = (bits * 78913).div_euclid(1 << 18) + 2;
    loop {
        let (num, den) = ratio(v, s, q);
        let (lo_num, _) = ratio(lo, s, q);
        let (hi_num, _) = ratio(hi, s, q);
        let floor = &num / &den;
        let rem = &num - &floor * &den;
        let ceil = if rem.is_zero() { floor.clone() } else { &floor + 1u32 };
        let inside = |m: &BigUint| {
            let x = m * &den;
            if inclusive {
                lo_num <= x && x <= hi_num
            } else {
                lo_num < x && x < hi_num
            }
        };
        let pick = match (inside(&floor), inside(&ceil)) {
            (true, true) => {
                let twice = &rem * 2u32;
                let even_floor = (&floor % 2u32).is_zero();
                if twice < den || (twice == den && even_floor) {
                    Some(floor)
                } else {
                    Some(ceil)
                }
            }
            (true, false) => Some(floor),
            (false, true) => Some(ceil),
            (false, false) => None,
        };
        if let Some(m) = pick.filter(|m| !m.is_zero()) {
            let mut digits = m.to_str_radix(10).into_bytes();
            while digits.len() > 1 && digits.last() == Some(&b'0') {
                digits.pop();
                q += 1;
            }
            return (digits, q);
        }
        q -= 1;
    }
}

/// Writes `digits × 10^q` as JSON number text: plain when short, else `dE±x`.
fn format_number(negative: bool, digits: &[u8], q: i64) -> String {
    let n = digits.len() as i64;
    let point = n + q; // value = 0.digits × 10^point
    let text = |d: &[u8]| String::from_utf8_lossy(d).into_owned();
    let mut out = String::from(if negative { "-" } else { "" });
    if q >= 0 && point <= 21 {
        out += &text(digits);
        out.extend(std::iter::repeat_n('0', q as usize));
    } else if point > 0 && point <= 21 {
        let (int, frac) = digits.split_at(point as usize);
        out += &format!("{}.{}", text(int), text(frac));
    } else if point <= 0 && point > -6 {
        out += "0.";
        out.extend(std::iter::repeat_n('0', (-point) as usize));
        out += &text(digits);
    } else {
        let (first, rest) = digits.split_at(1);
        out += &text(first);
        if !rest.is_empty() {
            out += &format!(".{}", text(rest));
        }
        out += &format!("E{}", point - 1);
    }
    out
}

/// Rounds `number` to the nearest HFP value; the bits right-aligned in a `u64`.
fn hfp_bits(number: &Number, fbits: u32) -> Result<u64, NumError> {
    const MAX_DIGITS: u32 = 75; // every 75-digit integer fits (the largest HFP is ~7.2E75)
    let p = number.magnitude();
    if number.digits.is_empty() {
        // Zero as written: `-0` keeps its sign bit, as the host's negative zero.
        return Ok(u64::from(number.negative) << (fbits + 7));
    }
    if p < -96 {
        return Ok(0); // far below half the smallest step (~6E-95): positive zero
    }
    let overflow = || NumError::Overflow { digits: p.clamp(0, 1 << 20) as u32, max: MAX_DIGITS };
    if p > 76 {
        return Err(overflow());
    }
    let m = BigUint::parse_bytes(&number.digits, 10).unwrap_or_default();
    let ten = BigUint::from(10u32);
    let (num, den) = if number.exp >= 0 {
        (m * ten.pow(number.exp as u32), BigUint::from(1u32))
    } else {
        (m, ten.pow((-number.exp) as u32))
    };
    // floor and rounding bit of value × 2^shift, rounded half to even
    let round = |shift: i64| -> u64 {
        let (n, d) =
            if shift >= 0 { (&num << shift as usize, den.clone()) } else { (num.clone(), &den << (-shift) as usize) };
        let q = &n / &d;
        let twice = (&n - &q * &d) * 2u32;
        let q = q.to_u64().unwrap_or(u64::MAX);
        if twice > d || (twice == d && q % 2 == 1) {
            q + 1
        } else {
            q
        }
    };
    let top = 1u64 << fbits;
    // Hex exponent x (= exp - 64) with 16^(x-1) <= value < 16^x, from bit lengths then exact.
    let bits = num.bits() as i64 - den.bits() as i64;
    let mut x = bits.div_euclid(4);
    for _ in 0..4 {
        let shift = i64::from(fbits) - 4 * x;
        let (n, d) =
            if shift >= 0 { (&num << shift as usize, den.clone()) } else { (num.clone(), &den << (-shift) as usize) };
        let q = &n / &d;
        if q >= BigUint::from(top) {
            x += 1;
        } else if q < BigUint::from(top >> 4) {
            x -= 1;
        } else {
            break;
        }
    }
    let mut f = round(i64::from(fbits) - 4 * x);
    if f == top {
        f = top >> 4;
        x += 1;
    }
    if x + 64 > 127 {
        return Err(overflow());
    }
    if x + 64 < 0 {
        // Gradual underflow: the fixed grid of exponent 0.
        x = -64;
        f = round(i64::from(fbits) + 256);
        if f == 0 {
            return Ok(0);
        }
    }
    let sign = u64::from(number.negative) << (fbits + 7);
    Ok(sign | ((x + 64) as u64) << fbits | f)
}

/// Decimal text for an IEEE value from Rust's shortest round-trip `{:e}` form.
/// `v` is only checked for NaN, infinity and zero; `sci` (its `{:e}` text) gives the digits.
fn ieee_text(v: f64, sci: String) -> Result<String, NumError> {
    if v.is_nan() {
        return Err(NumError::Syntax("NaN".into()));
    }
    if v.is_infinite() {
        return Err(NumError::Syntax(if v < 0.0 { "-Infinity" } else { "Infinity" }.into()));
    }
    if v == 0.0 {
        return Ok(if v.is_sign_negative() { "-0" } else { "0" }.into());
    }
    let number = Number::parse(&sci).map_err(|_| NumError::Syntax(sci.clone()))?;
    Ok(format_number(number.negative, &number.digits, number.exp))
}

/// IEEE bits for `text` (already checked as JSON syntax); Rust's parser rounds correctly.
fn ieee_bits(text: &str, number: &Number, n: usize) -> Result<u64, NumError> {
    let syntax = || NumError::Syntax(text.chars().take(64).collect());
    let (bits, infinite, zero) = if n == 4 {
        let v: f32 = text.parse().map_err(|_| syntax())?;
        (u64::from(v.to_bits()), v.is_infinite(), v == 0.0)
    } else {
        let v: f64 = text.parse().map_err(|_| syntax())?;
        (v.to_bits(), v.is_infinite(), v == 0.0)
    };
    if infinite {
        let max = if n == 4 { 38 } else { 308 };
        return Err(NumError::Overflow { digits: number.magnitude().clamp(0, 1 << 20) as u32, max });
    }
    // Zero by underflow is positive zero; a written `-0` keeps its sign bit.
    Ok(if zero && !number.digits.is_empty() { 0 } else { bits })
}

#[cfg(test)]
mod tests;
