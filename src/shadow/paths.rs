//! Field path patterns for `ignore`, `mask` and `tolerance`: `HDR-TIMESTAMP`,
//! `TXN-ROW[*].TXN-TIME`, `*-DATE`. `*` matches any run of characters within one name or
//! index; it never crosses a `.`.

/// A compiled field path pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PathPattern {
    text: String,
}

impl PathPattern {
    /// A pattern from its text (upper-cased, as copybook names are).
    pub fn new(text: &str) -> PathPattern {
        PathPattern { text: text.trim().to_ascii_uppercase() }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True if `path` (e.g. `TXN-ROW[3].TXN-TIME`) matches.
    pub fn matches(&self, path: &str) -> bool {
        glob(self.text.as_bytes(), path.as_bytes())
    }
}

/// True if any pattern matches `path`.
pub fn any_match(patterns: &[PathPattern], path: &str) -> bool {
    patterns.iter().any(|p| p.matches(path))
}

/// Iterative glob with backtracking to the last `*`; `*` does not cross `.`.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p].eq_ignore_ascii_case(&text[t]) {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star.filter(|&(_, st)| text[st] != b'.') {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_indexes_and_wildcards() {
        let p = PathPattern::new("TXN-ROW[*].TXN-TIME");
        assert!(p.matches("TXN-ROW[0].TXN-TIME"));
        assert!(p.matches("TXN-ROW[49].TXN-TIME"));
        assert!(!p.matches("TXN-ROW[1].TXN-DATE"));
        assert!(!p.matches("TXN-ROW[1].TXN-TIME-X"));
        assert!(PathPattern::new("hdr-timestamp").matches("HDR-TIMESTAMP"));
        assert!(PathPattern::new("*-DATE").matches("LAST-TXN-DATE"));
        assert!(!PathPattern::new("*-DATE").matches("TXN-ROW[0].TXN-DATE"), "* does not cross a dot");
        assert!(PathPattern::new("*.TXN-DATE").matches("TXN-ROW[0].TXN-DATE"));
        assert!(!PathPattern::new("BALANCE").matches("AVAIL-BAL"));
        assert!(any_match(&[PathPattern::new("X"), PathPattern::new("BAL*")], "BALANCE"));
    }
}
