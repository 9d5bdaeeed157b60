//! Exact decimal numbers for the numeric path: no floating point anywhere.
//!
//! A [`Decimal`] is `(-1)^negative × coefficient × 10^-scale` with a `u128` coefficient, enough
//! for 38 significant digits (COBOL's limit is 31). It parses JSON number text (including
//! exponents) and prints exactly, keeping the scale's trailing zeros. It does not round.
//!
//! This file also holds the digit helpers the field formats share (powers of ten, digit
//! counting, fixed-width digit writing), so every format formats numbers the same way.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Most significant digits a [`Decimal`] carries (parse and rescale stop here).
pub const MAX_DIGITS: u32 = 38;

/// Largest `|scale|` that [`Decimal::from_str`] accepts, so `1e-999999999` cannot make
/// `Display` write a gigabyte of zeros.
pub const MAX_SCALE: i32 = 1000;

/// Longest input kept in a [`DecimalError::Syntax`] (the rest is cut), so errors stay small.
const MAX_ERROR_TEXT: usize = 64;

/// `POW10[i] == 10^i` for `i` in `0..=38`.
pub const POW10: [u128; 39] = {
    let mut t = [1u128; 39];
    let mut i = 1;
    while i < 39 {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// `10^19`, the largest power of ten in a `u64`.
pub(crate) const TEN19: u128 = 10_000_000_000_000_000_000;

/// The largest coefficient with [`MAX_DIGITS`] digits.
const MAX_COEFFICIENT: u128 = POW10[38] - 1;

/// `"00" "01" .. "99"`: two ASCII digits per entry.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Significant digits of `v` (0 for zero).
pub fn count_digits(v: u128) -> u32 {
    match u64::try_from(v) {
        Ok(small) => small.checked_ilog10().map_or(0, |l| l + 1),
        Err(_) => v.ilog10() + 1,
    }
}

/// Writes `v` as exactly `dst.len()` ASCII digits, right-aligned with leading zeros.
/// Digits that do not fit are dropped: callers check the size first.
pub fn fill_digits(v: u128, dst: &mut [u8]) {
    if let Ok(small) = u64::try_from(v) {
        return fill_u64(small, dst);
    }
    // Only values beyond u64 pay for u128 division: one split per 19 digits.
    let split = dst.len().saturating_sub(19);
    let (hi, lo) = dst.split_at_mut(split);
    fill_u64((v % TEN19) as u64, lo);
    fill_digits(v / TEN19, hi);
}

/// [`fill_digits`] for a `u64`: four digits per division.
fn fill_u64(mut v: u64, dst: &mut [u8]) {
    let mut i = dst.len();
    while i >= 4 {
        let r = (v % 10_000) as usize;
        v /= 10_000;
        let (a, b) = (r / 100 * 2, r % 100 * 2);
        dst[i - 4..i].copy_from_slice(&[PAIRS[a], PAIRS[a + 1], PAIRS[b], PAIRS[b + 1]]);
        i -= 4;
    }
    while i > 0 {
        dst[i - 1] = b'0' + (v % 10) as u8;
        v /= 10;
        i -= 1;
    }
}

/// An exact decimal value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    /// The digits as an integer.
    pub coefficient: u128,
    /// How many of those digits are after the decimal point; negative means trailing zeros.
    pub scale: i32,
    /// The sign. [`Decimal::new`] never sets it on zero; a negative zero (`-0`, `-0.00`) comes
    /// only from [`Decimal::signed`], from parsing `-0` text and from decoding a field whose sign
    /// is negative, so that `encode(decode(b)) == b` keeps the host's minus sign.
    pub negative: bool,
}

/// Why a decimal could not be parsed or rescaled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    /// The text is not a number (the text is cut to 64 bytes).
    #[error("not a number: {0:?}")]
    Syntax(String),
    /// More than 38 significant digits (or a scale beyond [`MAX_SCALE`] when parsing).
    #[error("too many digits")]
    TooManyDigits,
    /// Rescaling would drop non-zero digits.
    #[error("{value} has more than {scale} decimal places")]
    Inexact {
        /// The value as written.
        value: String,
        /// The scale asked for.
        scale: i32,
    },
}

impl Decimal {
    /// Builds a decimal; a zero coefficient is never negative.
    pub const fn new(negative: bool, coefficient: u128, scale: i32) -> Self {
        Decimal { coefficient, scale, negative: negative && coefficient != 0 }
    }
    /// Builds a decimal keeping the sign as given, also on zero (a negative zero).
    pub const fn signed(negative: bool, coefficient: u128, scale: i32) -> Self {
        Decimal { coefficient, scale, negative }
    }
    /// True for a zero written with a minus sign.
    pub fn is_negative_zero(&self) -> bool {
        self.negative && self.coefficient == 0
    }
    /// Zero at scale 0.
    pub const ZERO: Decimal = Decimal { coefficient: 0, scale: 0, negative: false };
    /// True if the value is zero.
    pub fn is_zero(&self) -> bool {
        self.coefficient == 0
    }
    /// The same value with exactly `scale` decimal places, or an error if digits would be lost
    /// (or the coefficient would need more than 38 digits). The sign is kept, also on zero.
    pub fn rescale(&self, scale: i32) -> Result<Decimal, DecimalError> {
        let diff = i64::from(scale) - i64::from(self.scale);
        let c = self.coefficient;
        if diff == 0 || c == 0 {
            return Ok(Decimal::signed(self.negative, c, scale));
        }
        if diff > 0 {
            let up = usize::try_from(diff).ok().and_then(|d| POW10.get(d));
            return match up.and_then(|p| c.checked_mul(*p)) {
                Some(c) if c <= MAX_COEFFICIENT => Ok(Decimal::signed(self.negative, c, scale)),
                _ => Err(DecimalError::TooManyDigits),
            };
        }
        let inexact = || DecimalError::Inexact { value: self.to_string(), scale };
        let d = usize::try_from(-diff).map_err(|_| inexact())?;
        let p = *POW10.get(d).ok_or_else(inexact)?;
        // Most fields fit u64: keep u128 division off the common path.
        let (q, r) = match (u64::try_from(c), u64::try_from(p)) {
            (Ok(c), Ok(p)) => (u128::from(c / p), c % p),
            _ => (c / p, u64::from(!c.is_multiple_of(p))),
        };
        if r != 0 {
            return Err(inexact());
        }
        Ok(Decimal::signed(self.negative, q, scale))
    }
    /// Compares by value: `1.50 == 1.5`, `-0 == 0`.
    pub fn cmp_value(&self, other: &Decimal) -> Ordering {
        let a_neg = self.negative && self.coefficient != 0;
        let b_neg = other.negative && other.coefficient != 0;
        match (a_neg, b_neg) {
            (false, true) => Ordering::Greater,
            (true, false) => Ordering::Less,
            (false, false) => cmp_magnitude(self, other),
            (true, true) => cmp_magnitude(other, self),
        }
    }
    /// Count of significant digits of the coefficient (0 for zero).
    pub fn digit_count(&self) -> u32 {
        count_digits(self.coefficient)
    }
    /// The exact sum, at the larger of the two scales (`1.5 + 2.25 = 3.75`); `None` when it
    /// needs more than [`MAX_DIGITS`] digits. A zero sum is positive. For totals (reconciliation
    /// sums of amounts): nothing is rounded.
    pub fn checked_add(&self, other: &Decimal) -> Option<Decimal> {
        let scale = self.scale.max(other.scale);
        let (a, b) = (self.rescale(scale).ok()?, other.rescale(scale).ok()?);
        let (neg, c) = match (a.negative, b.negative) {
            (x, y) if x == y => (x, a.coefficient.checked_add(b.coefficient)?),
            _ if a.coefficient >= b.coefficient => (a.negative, a.coefficient - b.coefficient),
            _ => (b.negative, b.coefficient - a.coefficient),
        };
        (c <= MAX_COEFFICIENT).then(|| Decimal::new(neg, c, scale))
    }
}

/// Compares `|a|` with `|b|` without overflow, whatever the scales.
fn cmp_magnitude(a: &Decimal, b: &Decimal) -> Ordering {
    match (a.coefficient == 0, b.coefficient == 0) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Less,
        (false, true) => return Ordering::Greater,
        (false, false) => {}
    }
    // The position of the leading digit decides unless it is the same for both.
    let lead = |d: &Decimal| i64::from(d.digit_count()) - i64::from(d.scale);
    match lead(a).cmp(&lead(b)) {
        Ordering::Equal => {}
        other => return other,
    }
    // Same leading position: the scales differ by the digit counts' difference (≤ 38), so
    // dividing the longer coefficient never overflows.
    let shifted = |x: u128, y: u128, d: i64| {
        let p = usize::try_from(d).ok().and_then(|d| POW10.get(d)).copied().unwrap_or(1);
        (x / p).cmp(&y).then(if !x.is_multiple_of(p) { Ordering::Greater } else { Ordering::Equal })
    };
    let d = i64::from(a.scale) - i64::from(b.scale);
    match d.cmp(&0) {
        Ordering::Equal => a.coefficient.cmp(&b.coefficient),
        Ordering::Greater => shifted(a.coefficient, b.coefficient, d),
        Ordering::Less => shifted(b.coefficient, a.coefficient, -d).reverse(),
    }
}

/// Collects significant digits: u64 for the first 19, u128 after. Zeros past the 38th digit of
/// the integer part are counted in `absorbed` (they become a negative scale), so that every
/// `Display` output parses back; past 38 digits any other digit is an error.
struct Digits {
    small: u64,
    wide: u128,
    count: u32,
    absorbed: i64,
}

impl Digits {
    fn push(&mut self, d: u8, integer_part: bool) -> Result<(), DecimalError> {
        if self.count == 0 && d == 0 {
            return Ok(()); // leading zeros are not significant
        }
        if self.absorbed > 0 || self.count == MAX_DIGITS {
            if d == 0 && integer_part {
                self.absorbed = (self.absorbed + 1).min(1 << 40);
                return Ok(());
            }
            return Err(DecimalError::TooManyDigits);
        }
        self.count += 1;
        if self.count <= 19 {
            self.small = self.small * 10 + u64::from(d);
        } else {
            if self.count == 20 {
                self.wide = u128::from(self.small);
            }
            self.wide = self.wide * 10 + u128::from(d);
        }
        Ok(())
    }
    fn value(&self) -> u128 {
        if self.count <= 19 {
            u128::from(self.small)
        } else {
            self.wide
        }
    }
}

impl FromStr for Decimal {
    type Err = DecimalError;
    /// Parses `-12.50`, `1E+3`, `0.000`, `+5` (JSON number text, plus a leading `+`; leading
    /// zeros in the integer part are tolerated). The scale is the count of digits after the
    /// point minus the exponent. Over 38 significant digits is an error, except that trailing
    /// zeros of the integer part beyond the 38th digit lower the scale instead (`Display` of
    /// a negative scale writes them). `-0` and `-0.00` keep their sign.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let syntax = || {
            let mut end = s.len().min(MAX_ERROR_TEXT);
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            DecimalError::Syntax(s[..end].to_string())
        };
        let b = s.as_bytes();
        let mut i = 0;
        let negative = match b.first() {
            Some(b'-') => {
                i = 1;
                true
            }
            Some(b'+') => {
                i = 1;
                false
            }
            _ => false,
        };
        let mut digits = Digits { small: 0, wide: 0, count: 0, absorbed: 0 };
        let run = |i: &mut usize, digits: &mut Digits, integer_part| -> Result<i64, DecimalError> {
            let start = *i;
            while let Some(&c) = b.get(*i).filter(|c| c.is_ascii_digit()) {
                digits.push(c - b'0', integer_part)?;
                *i += 1;
            }
            match *i - start {
                0 => Err(syntax()),
                n => Ok(n as i64),
            }
        };
        run(&mut i, &mut digits, true)?;
        let mut fraction = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            fraction = run(&mut i, &mut digits, false)?;
        }
        let mut exponent: i64 = 0;
        if matches!(b.get(i), Some(b'e' | b'E')) {
            i += 1;
            let exp_negative = match b.get(i) {
                Some(b'-') => {
                    i += 1;
                    true
                }
                Some(b'+') => {
                    i += 1;
                    false
                }
                _ => false,
            };
            let start = i;
            while let Some(&c) = b.get(i).filter(|c| c.is_ascii_digit()) {
                // Saturate: anything this large is out of range anyway.
                exponent = (exponent * 10 + i64::from(c - b'0')).min(1 << 40);
                i += 1;
            }
            if i == start {
                return Err(syntax());
            }
            if exp_negative {
                exponent = -exponent;
            }
        }
        if i != b.len() {
            return Err(syntax());
        }
        let scale = fraction - exponent - digits.absorbed;
        if scale.abs() > i64::from(MAX_SCALE) {
            return Err(DecimalError::TooManyDigits);
        }
        Ok(Decimal::signed(negative, digits.value(), scale as i32))
    }
}

impl fmt::Display for Decimal {
    /// Writes exactly `scale` decimal places (`123.40`); a negative scale writes trailing
    /// zeros (`12000`); never exponent notation; a negative zero keeps its sign (`-0.00`).
    /// Honours width and alignment.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if f.width().is_some() {
            return f.pad(&Plain(self).to_string());
        }
        Plain(self).fmt(f)
    }
}

/// [`Decimal`]'s text without padding: the coefficient's digits (`itoa`, written backwards into
/// a stack buffer, no count of digits first), with the sign, the point and zeros around them.
struct Plain<'a>(&'a Decimal);

impl fmt::Display for Plain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write_plain(self.0, f)
    }
}

impl Decimal {
    /// Appends the value's text (as `Display` writes it without width) to `out`, without going
    /// through `core::fmt` (the JSON writer's hot path).
    pub fn append_to(&self, out: &mut String) {
        // Writing to a String cannot fail.
        let _ = write_plain(self, out);
    }
}

/// [`Plain`]'s text into any writer: `-` if negative; then with scale `s` and the
/// coefficient's `n` digits, `s ≤ 0`: the digits and `-s` zeros (none after a zero);
/// `0 < s < n`: the digits with a point before the last `s`; `s ≥ n`: `0.`, `s - n` zeros and
/// the digits (so a zero of scale 2 is `0.00`).
fn write_plain<W: fmt::Write + ?Sized>(d: &Decimal, f: &mut W) -> fmt::Result {
    let mut buf = itoa::Buffer::new();
    // u64 when it fits (almost always): itoa's u128 path divides by 10^19 first.
    let digits = match u64::try_from(d.coefficient) {
        Ok(small) => buf.format(small),
        Err(_) => buf.format(d.coefficient),
    };
    let n = digits.len();
    if d.negative {
        f.write_str("-")?;
    }
    let scale = i64::from(d.scale);
    if scale <= 0 {
        f.write_str(digits)?;
        return match d.coefficient {
            0 => Ok(()),
            _ => write_zeros(f, scale.unsigned_abs()),
        };
    }
    let s = scale as usize;
    if s < n {
        f.write_str(&digits[..n - s])?;
        f.write_str(".")?;
        return f.write_str(&digits[n - s..]);
    }
    f.write_str("0.")?;
    write_zeros(f, (s - n) as u64)?;
    f.write_str(digits)
}

/// Sixty-four zeros, written in chunks where a number needs zeros.
pub(crate) const ZEROS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Writes `count` zeros in chunks.
fn write_zeros<W: fmt::Write + ?Sized>(f: &mut W, mut count: u64) -> fmt::Result {
    while count > 0 {
        let k = count.min(ZEROS.len() as u64) as usize;
        f.write_str(&ZEROS[..k])?;
        count -= k as u64;
    }
    Ok(())
}

#[cfg(test)]
mod tests;
