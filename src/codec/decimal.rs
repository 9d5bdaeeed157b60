//! Exact decimal numbers for the numeric path: no floating point anywhere.
//!
//! A [`Decimal`] is `(-1)^negative × coefficient × 10^-scale` with a `u128` coefficient, enough
//! for 38 significant digits (COBOL's limit is 31). It parses JSON number text (including
//! exponents) and prints exactly, keeping the scale's trailing zeros. It does not round.

use std::fmt;
use std::str::FromStr;

/// An exact decimal value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Decimal {
    /// The digits as an integer.
    pub coefficient: u128,
    /// How many of those digits are after the decimal point; negative means trailing zeros.
    pub scale: i32,
    /// The sign (never set on zero once normalised by the constructors).
    pub negative: bool,
}

/// Why a decimal could not be parsed or rescaled.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    /// The text is not a number.
    #[error("not a number: {0:?}")]
    Syntax(String),
    /// More than 38 significant digits.
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
    pub fn new(negative: bool, coefficient: u128, scale: i32) -> Self {
        let _ = (negative, coefficient, scale);
        todo!()
    }
    /// Zero at scale 0.
    pub const ZERO: Decimal = Decimal {
        coefficient: 0,
        scale: 0,
        negative: false,
    };
    /// True if the value is zero.
    pub fn is_zero(&self) -> bool {
        self.coefficient == 0
    }
    /// The same value with exactly `scale` decimal places, or an error if digits would be lost
    /// (or the coefficient would overflow).
    pub fn rescale(&self, scale: i32) -> Result<Decimal, DecimalError> {
        let _ = scale;
        todo!()
    }
    /// Compares by value: `1.50 == 1.5`, `-0 == 0`.
    pub fn cmp_value(&self, other: &Decimal) -> std::cmp::Ordering {
        let _ = other;
        todo!()
    }
    /// Count of significant digits of the coefficient (0 for zero).
    pub fn digit_count(&self) -> u32 {
        todo!()
    }
}

impl FromStr for Decimal {
    type Err = DecimalError;
    /// Parses `-12.50`, `1E+3`, `0.000`, `+5` (JSON number text, plus a leading `+`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let _ = s;
        todo!()
    }
}

impl fmt::Display for Decimal {
    /// Writes exactly `scale` decimal places (`123.40`); a negative scale writes trailing
    /// zeros (`12000`); never exponent notation.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let _ = f;
        todo!()
    }
}
