//! The distribution of one field's numeric differences (shadow − primary), exact and in bounded
//! memory: the few most common deltas with their counts, the smallest and the largest, and how
//! many differences were not numeric (text, masked values, a side without the field). It says
//! "always +0.01" when every difference was the same number — a finding to fix, not noise.
//!
//! It does not decide what a difference means; `noise` does, using it.

use crate::codec::decimal::Decimal;
use serde_json::{json, Value};
use std::cmp::Ordering;

/// Distinct deltas counted exactly; any further ones are counted together in `other`.
pub const MAX_DISTINCT: usize = 8;

/// Numeric differences of one field.
#[derive(Clone, Debug)]
pub struct Deltas {
    buckets: [(Decimal, u64); MAX_DISTINCT],
    used: usize,
    other: u64,
    min: Option<Decimal>,
    max: Option<Decimal>,
    numeric: u64,
    non_numeric: u64,
}

impl Default for Deltas {
    fn default() -> Self {
        Deltas {
            buckets: [(Decimal::ZERO, 0); MAX_DISTINCT],
            used: 0,
            other: 0,
            min: None,
            max: None,
            numeric: 0,
            non_numeric: 0,
        }
    }
}

/// A JSON number as an exact decimal (no allocation: the number's own text is parsed).
pub fn number(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => n.as_str().parse().ok(),
        _ => None,
    }
}

/// `b − a`, exactly (none if it does not fit 38 digits).
pub fn difference(a: Decimal, b: Decimal) -> Option<Decimal> {
    let scale = a.scale.max(b.scale);
    let (a, b) = (a.rescale(scale).ok()?, b.rescale(scale).ok()?);
    let signed = |d: Decimal| i128::try_from(d.coefficient).ok().map(|c| if d.negative { -c } else { c });
    let d = signed(b)?.checked_sub(signed(a)?)?;
    Some(Decimal::new(d < 0, d.unsigned_abs(), scale))
}

/// `+0.01`, `-3`, `0`: a delta with its sign.
pub fn signed(d: &Decimal) -> String {
    if d.is_zero() || d.negative {
        d.to_string()
    } else {
        format!("+{d}")
    }
}

impl Deltas {
    /// Counts one difference; values that are not both numbers count as non-numeric.
    pub fn add(&mut self, primary: &Value, shadow: &Value) {
        let Some(d) = number(primary).zip(number(shadow)).and_then(|(p, s)| difference(p, s)) else {
            self.non_numeric += 1;
            return;
        };
        self.numeric += 1;
        if self.min.is_none_or(|m| d.cmp_value(&m) == Ordering::Less) {
            self.min = Some(d);
        }
        if self.max.is_none_or(|m| d.cmp_value(&m) == Ordering::Greater) {
            self.max = Some(d);
        }
        match self.buckets[..self.used].iter_mut().find(|(b, _)| b.cmp_value(&d).is_eq()) {
            Some((_, n)) => *n += 1,
            None if self.used < MAX_DISTINCT => {
                self.buckets[self.used] = (d, 1);
                self.used += 1;
            }
            None => self.other += 1,
        }
    }

    /// The one delta every difference had, if all (at least `min`) were numeric and equal.
    pub fn constant(&self, min: u64) -> Option<Decimal> {
        (self.non_numeric == 0 && self.other == 0 && self.used == 1 && self.numeric >= min).then(|| self.buckets[0].0)
    }

    /// Differences that were numeric.
    pub fn numeric(&self) -> u64 {
        self.numeric
    }

    fn most_common(&self) -> Vec<(Decimal, u64)> {
        let mut v = self.buckets[..self.used].to_vec();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp_value(&b.0)));
        v
    }

    /// "always +0.01", or "from -1.00 to +0.01, most often +0.01 (12 of 20)"; none if no
    /// difference was numeric.
    pub fn summary(&self) -> Option<String> {
        if self.numeric == 0 {
            return None;
        }
        let mut text = match self.constant(1) {
            Some(d) => format!("always {}", signed(&d)),
            None => {
                let (min, max) = (self.min.unwrap_or(Decimal::ZERO), self.max.unwrap_or(Decimal::ZERO));
                let common = self.most_common();
                let (top, n) = common.first().copied().unwrap_or((Decimal::ZERO, 0));
                let range = if self.used == 1 && self.other == 0 {
                    format!("always {} when numeric", signed(&top))
                } else {
                    format!("from {} to {}", signed(&min), signed(&max))
                };
                format!("{range}, most often {} ({n} of {})", signed(&top), self.numeric)
            }
        };
        if self.non_numeric > 0 {
            text.push_str(&format!("; {} not numeric", self.non_numeric));
        }
        Some(text)
    }

    /// The distribution as JSON (none if no difference was numeric).
    pub fn to_json(&self) -> Value {
        let Some(summary) = self.summary() else { return Value::Null };
        let common: Vec<Value> =
            self.most_common().iter().map(|(d, n)| json!({ "delta": signed(d), "count": n })).collect();
        json!({
            "summary": summary,
            "min": self.min.as_ref().map(signed),
            "max": self.max.as_ref().map(signed),
            "most_common": common,
            "other": self.other,
            "numeric": self.numeric,
            "non_numeric": self.non_numeric,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(s: &str) -> Value {
        crate::codec::json::number_value(s)
    }

    #[test]
    fn always_the_same_delta() {
        let mut d = Deltas::default();
        for (p, s) in [("9050.00", "9050.01"), ("120.50", "120.51"), ("0.00", "0.01")] {
            d.add(&num(p), &num(s));
        }
        assert_eq!(d.summary().as_deref(), Some("always +0.01"));
        assert_eq!(d.constant(2).map(|c| signed(&c)).as_deref(), Some("+0.01"));
        assert_eq!(d.to_json()["most_common"], json!([{ "delta": "+0.01", "count": 3 }]));
    }

    #[test]
    fn a_spread_of_deltas_and_text() {
        let mut d = Deltas::default();
        for (p, s) in [("1.00", "2.00"), ("5.00", "4.00"), ("3.00", "4.00"), ("7", "8")] {
            d.add(&num(p), &num(s));
        }
        d.add(&json!("KIM"), &json!("LEE"));
        assert_eq!(d.constant(1), None);
        assert_eq!(d.summary().as_deref(), Some("from -1.00 to +1.00, most often +1.00 (3 of 4); 1 not numeric"));
        for i in 0..20 {
            d.add(&num("0"), &num(&i.to_string()));
        }
        assert!(d.to_json()["other"].as_u64().unwrap() > 0, "beyond {MAX_DISTINCT} distinct deltas, counted as other");
    }

    #[test]
    fn exact_at_any_scale() {
        let a: Decimal = "-0.5".parse().unwrap();
        let b: Decimal = "1.25".parse().unwrap();
        assert_eq!(difference(a, b).unwrap().to_string(), "1.75");
        assert_eq!(signed(&difference(b, a).unwrap()), "-1.75");
        assert_eq!(signed(&difference(b, b).unwrap()), "0.00");
    }
}
