//! Compares two replies as COBOL values, field by field: numbers by value (packed `+0` and
//! `-0`, sign nibbles C and F, and scale are all equal when the values are), text with trailing
//! spaces and LOW-VALUES normalised, tables element by element with their counts. Differences in
//! the header's response code come first.

use super::paths::{any_match, PathPattern};
use crate::codec::decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One field that differs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldDiff {
    /// Path, e.g. `BALANCE`, `TXN-ROW[2].TXN-AMT`, `TXN-ROW[#]` for a count.
    pub path: String,
    /// The legacy side's value.
    pub legacy: Value,
    /// The new side's value.
    pub new: Value,
}

/// What to leave out and how close numbers must be.
#[derive(Clone, Debug, Default)]
pub struct Rules {
    /// Paths never compared.
    pub ignore: Vec<PathPattern>,
    /// Allowed absolute difference by path.
    pub tolerance: Vec<(PathPattern, Decimal)>,
    /// The header's response-code field: its differences are listed first.
    pub response_code: String,
}

/// Compares two decoded replies (`{"header": {...}, "response": {...} | null}`, header and body
/// fields in one namespace) and returns the differences, response code first.
pub fn compare(legacy: &Value, new: &Value, rules: &Rules) -> Vec<FieldDiff> {
    let mut diffs = Vec::new();
    for part in ["header", "response"] {
        walk(&legacy[part], &new[part], String::new(), rules, &mut diffs);
    }
    diffs.sort_by_key(|d| d.path != rules.response_code);
    diffs
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

fn normalise_text(s: &str) -> &str {
    s.trim_end_matches([' ', '\0'])
}

fn as_decimal(v: &Value) -> Option<Decimal> {
    match v {
        Value::Number(n) => n.as_str().parse().ok(),
        _ => None,
    }
}

fn within(a: Decimal, b: Decimal, tolerance: Option<Decimal>) -> bool {
    if a.cmp_value(&b).is_eq() {
        return true;
    }
    let Some(t) = tolerance else { return false };
    // |a - b| <= t, computed exactly at a common scale.
    let scale = a.scale.max(b.scale).max(t.scale);
    let (Ok(a), Ok(b), Ok(t)) = (a.rescale(scale), b.rescale(scale), t.rescale(scale)) else { return false };
    let signed = |d: Decimal| if d.negative { -(d.coefficient as i128) } else { d.coefficient as i128 };
    (signed(a) - signed(b)).unsigned_abs() <= t.coefficient
}

fn walk(legacy: &Value, new: &Value, path: String, rules: &Rules, diffs: &mut Vec<FieldDiff>) {
    if !path.is_empty() && any_match(&rules.ignore, &path) {
        return;
    }
    let differ = |diffs: &mut Vec<FieldDiff>| {
        diffs.push(FieldDiff { path: path.clone(), legacy: legacy.clone(), new: new.clone() })
    };
    match (legacy, new) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, va) in a {
                walk(va, b.get(k).unwrap_or(&Value::Null), join(&path, k), rules, diffs);
            }
            for (k, vb) in b.iter().filter(|(k, _)| !a.contains_key(*k)) {
                walk(&Value::Null, vb, join(&path, k), rules, diffs);
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            if a.len() != b.len() {
                diffs.push(FieldDiff {
                    path: format!("{path}[#]"),
                    legacy: Value::from(a.len()),
                    new: Value::from(b.len()),
                });
            }
            for (i, (va, vb)) in a.iter().zip(b.iter()).enumerate() {
                walk(va, vb, format!("{path}[{i}]"), rules, diffs);
            }
        }
        (Value::String(a), Value::String(b)) => {
            if normalise_text(a) != normalise_text(b) {
                differ(diffs);
            }
        }
        (Value::Number(_), Value::Number(_)) => {
            let tolerance = rules.tolerance.iter().find(|(p, _)| p.matches(&path)).map(|(_, t)| *t);
            match (as_decimal(legacy), as_decimal(new)) {
                (Some(a), Some(b)) if within(a, b, tolerance) => {}
                // Beyond what a Decimal holds (a COMP-2 of 1E-70): the same text is the same value.
                (None, None) if legacy == new => {}
                _ => differ(diffs),
            }
        }
        (a, b) if a == b => {}
        _ => differ(diffs),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn num(s: &str) -> Value {
        crate::codec::json::number_value(s)
    }

    fn rules() -> Rules {
        Rules { response_code: "HDR-RESP-CODE".into(), ..Default::default() }
    }

    #[test]
    fn numbers_by_value_text_normalised() {
        let a = json!({ "header": { "HDR-RESP-CODE": "0000" }, "response": { "BAL": num("0.00"), "NAME": "KIM  ", "R": num("1.50") } });
        let b = json!({ "header": { "HDR-RESP-CODE": "0000" }, "response": { "BAL": num("-0"), "NAME": "KIM\u{0}\u{0}", "R": num("1.5") } });
        assert!(compare(&a, &b, &rules()).is_empty());
        let c = json!({ "header": { "HDR-RESP-CODE": "0000" }, "response": { "BAL": num("0.01"), "NAME": " KIM", "R": num("1.5") } });
        let paths: Vec<_> = compare(&a, &c, &rules()).into_iter().map(|d| d.path).collect();
        assert_eq!(paths, ["BAL", "NAME"]);
    }

    #[test]
    fn response_code_first_tables_by_element_ignore_and_tolerance() {
        let a = json!({ "header": { "HDR-TIMESTAMP": 1, "HDR-RESP-CODE": "0000" },
            "response": { "ROWS": [{ "AMT": num("1.00"), "TIME": 1 }, { "AMT": num("2.00"), "TIME": 2 }], "RATE": num("1.2500") } });
        let b = json!({ "header": { "HDR-TIMESTAMP": 2, "HDR-RESP-CODE": "E101" },
            "response": { "ROWS": [{ "AMT": num("1.00"), "TIME": 9 }], "RATE": num("1.2501") } });
        let mut r = rules();
        let all: Vec<_> = compare(&a, &b, &r).into_iter().map(|d| d.path).collect();
        assert_eq!(all[0], "HDR-RESP-CODE");
        assert!(
            all.contains(&"ROWS[#]".to_string())
                && all.contains(&"ROWS[0].TIME".to_string())
                && all.contains(&"RATE".to_string())
        );
        r.ignore = vec![PathPattern::new("HDR-TIMESTAMP"), PathPattern::new("ROWS[*].TIME")];
        r.tolerance = vec![(PathPattern::new("RATE"), "0.0001".parse().unwrap())];
        let some: Vec<_> = compare(&a, &b, &r).into_iter().map(|d| d.path).collect();
        assert_eq!(some, ["HDR-RESP-CODE", "ROWS[#]"]);
    }

    #[test]
    fn the_same_number_is_equal_even_beyond_a_decimal() {
        // More digits than a Decimal holds (none of ficus's decoders writes one, but a number
        // that cannot be read must still equal itself, or equal replies would differ).
        let big = "1234567890123456789012345678901234567890.5";
        let tiny = json!({ "header": {}, "response": { "F": num(big), "G": num("7.2370055773322621E75") } });
        assert!(as_decimal(&tiny["response"]["F"]).is_none(), "the case needs a number beyond Decimal");
        assert!(compare(&tiny, &tiny.clone(), &rules()).is_empty());
        let other = json!({ "header": {}, "response": { "F": num("1E-71"), "G": num("7.2370055773322621E75") } });
        assert_eq!(compare(&tiny, &other, &rules()).len(), 1);
        let other =
            json!({ "header": {}, "response": { "F": num(&format!("{big}1")), "G": num("7.2370055773322621E75") } });
        assert_eq!(compare(&tiny, &other, &rules()).len(), 1);
    }

    #[test]
    fn header_only_reply_against_a_full_one() {
        let a = json!({ "header": { "HDR-RESP-CODE": "0000" }, "response": { "X": 1 } });
        let b = json!({ "header": { "HDR-RESP-CODE": "E101" }, "response": null });
        let d = compare(&a, &b, &rules());
        assert_eq!(d[0].path, "HDR-RESP-CODE");
        assert_eq!(d[1].path, "", "the whole body differs");
    }
}
