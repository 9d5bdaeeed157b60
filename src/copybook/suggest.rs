//! "Did you mean": the data-name a mistyped one was probably meant to be. One rule for every
//! place that names what it did not find — JSON keys and operation codes in `ficus send`,
//! routes in `ficus route`, field paths in routes.toml.
//!
//! A name equal but for case and `_`/`-` (how COBOL names are mistyped in JSON and TOML) wins;
//! else the single nearest candidate within the allowed edits (Levenshtein, `strsim`). Two
//! equally near candidates suggest nothing: a guess between two names is not help.

/// Upper case, `_` as `-`.
pub fn fold(name: &str) -> String {
    name.trim().to_ascii_uppercase().replace('_', "-")
}

/// The candidate `name` was probably meant as, within two edits (names are short).
pub fn suggest<'a>(name: &str, candidates: impl Iterator<Item = &'a str> + Clone) -> Option<&'a str> {
    suggest_within(name, candidates, 2)
}

/// [`suggest`] allowing `max_edits` (longer names, such as field paths, allow more).
pub fn suggest_within<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str> + Clone,
    max_edits: usize,
) -> Option<&'a str> {
    let folded = fold(name);
    if let Some(same) = candidates.clone().find(|c| fold(c) == folded) {
        return Some(same);
    }
    let mut best: Option<(usize, &str)> = None;
    let mut tie = false;
    for c in candidates {
        let d = strsim::levenshtein(&folded, &fold(c));
        match best {
            Some((b, _)) if d > b => {}
            Some((b, _)) if d == b => tie = true,
            _ => {
                best = Some((d, c));
                tie = false;
            }
        }
    }
    best.filter(|(d, _)| *d <= max_edits && !tie).map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_and_underscores_first_then_the_single_nearest() {
        let ops = ["ACCTINQ", "TXNHIST", "XFER"];
        assert_eq!(suggest("acctinq", ops.iter().copied()), Some("ACCTINQ"));
        assert_eq!(suggest("XFR", ops.iter().copied()), Some("XFER"));
        assert_eq!(suggest("PAYMENT", ops.iter().copied()), None);
        assert_eq!(suggest("AB", ["AC", "AD"].iter().copied()), None, "a tie suggests nothing");
        assert_eq!(suggest_within("CUST-NAMX", ["CUST-NAME"].iter().copied(), 3), Some("CUST-NAME"));
        assert_eq!(suggest_within("cust_name", ["CUST-NAME"].iter().copied(), 0), Some("CUST-NAME"));
    }
}
