//! Reference format: which columns hold code, as the compilers read them.
//!
//! Fixed format is the 80-column card: sequence area 1–6, indicator 7, code 8–72,
//! identification area 73–80 (ignored). Free format has no columns. The caller chooses, or
//! [`SourceFormat::Auto`] looks at the text; `>>SOURCE FORMAT` directives switch inside a file
//! either way. Tabs are expanded to the next multiple of 8 columns before any of this, as
//! GnuCOBOL does by default (`-ftab-width=8`) and Micro Focus does for line-sequential text
//! (tab positions 9, 17, 25, …). On z/OS a source is a file of 80-byte records and a tab
//! never reaches the compiler: ISPF/TSO EDIT expands the key to its COBOL tab settings
//! (columns 8, 12, 72) as it is typed.
//!
//! The danger this module guards against is silent: a free-format line read as fixed loses
//! what is past column 72 (`PIC X(30).` becomes `PIC X`). In auto mode such a cut is an error
//! naming the line and the text; only an explicit `--format fixed` cuts silently, as the
//! compiler does.

use std::fmt;
use std::str::FromStr;

/// Last column of the code area in fixed format.
pub const FIXED_END: usize = 72;
/// Last column of a fixed-format record (the identification area ends here).
pub const CARD_END: usize = 80;
/// Tab stops every this many columns.
pub const TAB_WIDTH: usize = 8;

/// How copybook text is laid out in columns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum SourceFormat {
    /// Columns 1–6 sequence, 7 indicator, 8–72 code, 73–80 ignored (IBM reference format).
    Fixed,
    /// No columns: code anywhere on the line, `*>` comments.
    Free,
    /// Decide per file from the text (sequence area, indicator, code past column 72); a
    /// fixed-format file whose code runs past column 72 is an error instead of a silent cut.
    #[default]
    Auto,
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SourceFormat::Fixed => "fixed",
            SourceFormat::Free => "free",
            SourceFormat::Auto => "auto",
        })
    }
}

impl FromStr for SourceFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "fixed" => Ok(SourceFormat::Fixed),
            "free" => Ok(SourceFormat::Free),
            "auto" => Ok(SourceFormat::Auto),
            _ => Err(format!("source format {s:?}: expected fixed, free or auto")),
        }
    }
}

/// Tabs to the next multiple of [`TAB_WIDTH`]; `\r` dropped.
pub(super) fn expand_tabs(line: &str) -> Vec<char> {
    let mut out = Vec::with_capacity(line.len());
    for c in line.chars() {
        match c {
            '\t' => {
                out.push(' ');
                while out.len() % TAB_WIDTH != 0 {
                    out.push(' ');
                }
            }
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// A compiler directive line: `>>SOURCE [FORMAT] [IS] FREE|FIXED`, `$SET SOURCEFORMAT"FREE"`,
/// or another `>>`/`$SET` line (which only the compiler acts on).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Directive {
    /// Switch to this format from the next line on.
    Format(SourceFormat),
    /// A directive that does not concern the layout of the text.
    Other,
}

/// The directive on this line, if it is one. In fixed format the directive may also stand in
/// the code area behind a sequence number.
pub(super) fn directive(chars: &[char], fixed: bool) -> Option<Directive> {
    let whole: String = chars.iter().collect();
    let mut text = whole.trim().to_ascii_uppercase();
    if fixed && !text.starts_with(">>") && !text.starts_with("$SET") {
        text = chars.get(7..).unwrap_or_default().iter().collect::<String>().trim().to_ascii_uppercase();
    }
    let rest = text.strip_prefix(">>").or_else(|| text.strip_prefix("$SET"))?;
    let words: Vec<&str> = rest
        .split(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '(' | ')' | '='))
        .filter(|w| !w.is_empty())
        .collect();
    let is_source = words.first().is_some_and(|w| *w == "SOURCE" || *w == "SOURCEFORMAT");
    if !is_source {
        return Some(Directive::Other);
    }
    let format = words.iter().skip(1).find_map(|w| match *w {
        "FREE" => Some(SourceFormat::Free),
        "FIXED" => Some(SourceFormat::Fixed),
        _ => None,
    });
    Some(format.map_or(Directive::Other, Directive::Format))
}

fn is_indicator(c: char) -> bool {
    matches!(c, ' ' | '*' | '/' | '-' | 'D' | 'd' | '$')
}

/// A comment (or debugging) line in fixed format: nothing on it is code.
pub(super) fn is_fixed_comment(chars: &[char]) -> bool {
    matches!(chars.get(6), Some('*' | '/' | 'D' | 'd' | '$'))
}

/// Text a fixed-format reading would cut from a line and that looks like code, not an
/// identification area.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Cut {
    /// The text past column 72, trailing blanks removed.
    pub text: String,
    /// Why it looks like code.
    pub why: &'static str,
}

/// What column 73 on of `chars` holds, if cutting it would lose code. `next_is_continuation`:
/// the following line has `-` in column 7 (a literal or word continued through column 72 is
/// meant to reach it, so a word touching column 73 there is not cut code).
pub(super) fn cut_code(chars: &[char], next_is_continuation: bool) -> Option<Cut> {
    if is_fixed_comment(chars) || chars.len() <= FIXED_END {
        return None;
    }
    let tail: String = chars[FIXED_END..].iter().collect::<String>().trim_end().to_string();
    if tail.trim().is_empty() {
        return None;
    }
    let why = if chars.iter().skip(CARD_END).any(|c| !c.is_whitespace()) {
        "the line runs past column 80"
    } else if tail.contains(['.', '(', ')', '\'', '"']) {
        "it holds COBOL punctuation"
    } else if !chars[FIXED_END - 1].is_whitespace()
        && !tail.starts_with(char::is_whitespace)
        && chars[FIXED_END - 1] != '.'
        && !next_is_continuation
        && !tail.chars().all(|c| c.is_ascii_digit())
    {
        "a word runs across column 72"
    } else {
        return None;
    };
    Some(Cut { text: tail, why })
}

/// Why a file was read as fixed or free format (for error messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Detected {
    /// Free format.
    pub free: bool,
    /// Lines with a sequence number in columns 1–6.
    pub numbered: usize,
}

/// Free format if some line cannot be fixed format (text in columns 1–6 that is not a
/// sequence number, a character in column 7 that is no indicator, code cut at column 72) and
/// such lines are at least as many as sequence-numbered ones.
pub(super) fn detect(lines: &[Vec<char>]) -> Detected {
    let (mut free, mut numbered) = (0usize, 0usize);
    for (i, chars) in lines.iter().enumerate() {
        if chars.iter().all(|c| c.is_whitespace()) || directive(chars, false).is_some() {
            continue;
        }
        let seq: String = chars.iter().take(6).collect();
        let seq_trim = seq.trim();
        let bad_indicator = chars.get(6).is_some_and(|&c| !is_indicator(c));
        let right_aligned_number =
            seq.chars().count() == 6 && seq.ends_with(seq_trim) && seq_trim.chars().all(|c| c.is_ascii_digit());
        let seq_is_code =
            !seq_trim.is_empty() && (seq_trim.contains(' ') || !seq.starts_with(seq_trim) && !right_aligned_number);
        let cut = cut_code(chars, next_is_continuation(lines, i)).is_some();
        if bad_indicator || seq_is_code || cut {
            free += 1;
        } else if !seq_trim.is_empty() {
            numbered += 1;
        }
    }
    Detected { free: free > 0 && free >= numbered, numbered }
}

/// The next non-blank line after `i` has `-` in column 7.
pub(super) fn next_is_continuation(lines: &[Vec<char>], i: usize) -> bool {
    lines.iter().skip(i + 1).find(|l| l.iter().any(|c| !c.is_whitespace())).is_some_and(|l| l.get(6) == Some(&'-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars(s: &str) -> Vec<char> {
        expand_tabs(s)
    }

    #[test]
    fn tabs_go_to_the_next_multiple_of_eight() {
        assert_eq!(chars("\tA").len(), 9);
        assert_eq!(chars("000100\tA").iter().position(|&c| c == 'A'), Some(8));
        assert_eq!(chars("      \tA").iter().position(|&c| c == 'A'), Some(8));
        assert_eq!(chars("1234567\tA").iter().position(|&c| c == 'A'), Some(8));
        assert_eq!(chars("12345678\tA").iter().position(|&c| c == 'A'), Some(16));
    }

    #[test]
    fn directives() {
        assert_eq!(directive(&chars(">>SOURCE FORMAT IS FREE"), false), Some(Directive::Format(SourceFormat::Free)));
        assert_eq!(directive(&chars("       >>source fixed"), true), Some(Directive::Format(SourceFormat::Fixed)));
        assert_eq!(directive(&chars("000100 >>SOURCE FREE"), true), Some(Directive::Format(SourceFormat::Free)));
        assert_eq!(
            directive(&chars("      $SET SOURCEFORMAT\"FREE\""), false),
            Some(Directive::Format(SourceFormat::Free))
        );
        // A name that merely contains FREE switches nothing.
        assert_eq!(directive(&chars(">>DEFINE FREE-LIST AS 1"), false), Some(Directive::Other));
        assert_eq!(directive(&chars("       05 A PIC X."), true), None);
    }

    #[test]
    fn identification_areas_are_not_code() {
        let id = format!("{:<72}{}", "       05 A PIC X.", "ACCT0001");
        assert_eq!(cut_code(&chars(&id), false), None);
        // A literal continued through column 72, then a sequence number.
        let seq = format!("       05 A VALUE '{}00010000", "L".repeat(53));
        assert_eq!(seq.chars().nth(71), Some('L'));
        assert_eq!(cut_code(&chars(&seq), true), None);
        assert_eq!(cut_code(&chars(&seq), false), None, "digits only: a sequence number");
    }

    #[test]
    fn code_past_column_72_is_found() {
        let pic = format!("{:<66}{}", "           05 LONG-NAME", "PIC X(30).");
        assert_eq!(cut_code(&chars(&pic), false).map(|c| c.text), Some("30).".to_string()));
        let long = format!("{:<84}{}", "       05 A", "PIC X.");
        assert_eq!(cut_code(&chars(&long), false).map(|c| c.why), Some("the line runs past column 80"));
        let word = format!("{:<68}{}", "       05 A PIC X. 05", " CUSTOMER");
        assert!(cut_code(&chars(&word), false).is_some());
        let comment = format!("      *{:<80}X", "");
        assert_eq!(cut_code(&chars(&comment), false), None);
    }
}
