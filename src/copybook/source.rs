//! Copybook source text → a flat stream of tokens, each with its file, line and column.
//!
//! Handles fixed format (sequence area 1–6, indicator 7, code 8–72, 73–80 ignored) and free
//! format (chosen, detected, or switched with `>>SOURCE FORMAT`: see [`SourceFormat`]), CRLF,
//! tabs (stops of 8), comments,
//! continuation lines (words and alphanumeric literals) and `COPY ... REPLACING`, which goes
//! through a [`CopyResolver`]. It does not know the data-description grammar: that is `parse`.

mod format;
mod lex;

use super::{CopyResolver, CopybookError};

pub use format::SourceFormat;
pub use lex::lex;

/// How deep `COPY` members may nest before we assume a cycle.
pub const MAX_COPY_DEPTH: usize = 16;
/// Most tokens one copybook (with its members) may expand to.
pub const MAX_SOURCE_TOKENS: usize = 2_000_000;

/// Where a token starts: index into [`Source::files`], 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Pos {
    /// Index of the file in [`Source::files`].
    pub file: usize,
    /// 1-based line.
    pub line: u32,
    /// 1-based column in the original line (tabs expanded), counting the sequence area.
    pub column: u32,
}

/// One token: a word (upper-cased), a literal (as written), pseudo-text `==..==`, or `.`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// The token's text.
    pub text: String,
    /// Where it starts.
    pub pos: Pos,
}

/// A copybook as tokens, with the names of the files they came from.
#[derive(Clone, Debug)]
pub struct Source {
    /// File names: index 0 is the copybook, later ones its COPY members.
    pub files: Vec<String>,
    /// The tokens, COPY statements already replaced by their members.
    pub tokens: Vec<Token>,
    /// Just past the last token (for "found end of input" errors).
    pub end: Pos,
}

impl Source {
    /// An error at `pos` with `message`.
    pub fn error_at(&self, pos: Pos, message: impl Into<String>) -> CopybookError {
        error(&self.files, pos, message)
    }
}

fn error(files: &[String], pos: Pos, message: impl Into<String>) -> CopybookError {
    CopybookError {
        file: files.get(pos.file).cloned().unwrap_or_default(),
        line: pos.line,
        column: pos.column,
        message: message.into(),
    }
}

/// Turns copybook `text` named `file` into tokens, expanding COPY through `resolver`; the
/// format of each file is detected ([`SourceFormat::Auto`]).
pub fn normalize(text: &str, file: &str, resolver: &dyn CopyResolver) -> Result<Source, CopybookError> {
    normalize_with(text, file, resolver, SourceFormat::Auto)
}

/// [`normalize`], reading the copybook and its COPY members in `format`.
pub fn normalize_with(
    text: &str,
    file: &str,
    resolver: &dyn CopyResolver,
    format: SourceFormat,
) -> Result<Source, CopybookError> {
    let mut files = vec![file.to_string()];
    let tokens = expand(text, 0, &mut files, resolver, 0, format)?;
    let end = tokens.last().map_or(Pos { file: 0, line: 1, column: 1 }, |t| Pos {
        column: t.pos.column.saturating_add(t.text.chars().count() as u32),
        ..t.pos
    });
    Ok(Source { files, tokens, end })
}

/// A parsed `COPY` statement.
#[derive(Debug, PartialEq, Eq)]
struct CopyStatement {
    name: String,
    replacing: Vec<Replacing>,
    /// Tokens the statement took, `COPY` through the period.
    consumed: usize,
}

#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Mode {
    Whole,
    Leading,
    Trailing,
}

#[derive(Debug, PartialEq, Eq)]
struct Replacing {
    mode: Mode,
    from: Vec<String>,
    to: Vec<String>,
}

fn expand(
    text: &str,
    file: usize,
    files: &mut Vec<String>,
    resolver: &dyn CopyResolver,
    depth: usize,
    format: SourceFormat,
) -> Result<Vec<Token>, CopybookError> {
    let tokens = lex(text, file, format).map_err(|(pos, msg)| error(files, pos, msg))?;
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while let Some(tok) = tokens.get(i) {
        if tok.text == "COPY" {
            let stmt = parse_copy(&tokens[i..]).map_err(|(pos, msg)| error(files, pos, msg))?;
            if depth >= MAX_COPY_DEPTH {
                return Err(error(
                    files,
                    tok.pos,
                    format!("COPY {} nests deeper than {MAX_COPY_DEPTH} members (a COPY cycle?)", stmt.name),
                ));
            }
            let Some((member_name, member_text)) = resolver.resolve(&stmt.name) else {
                return Err(error(files, tok.pos, format!("COPY member {} not found", stmt.name)));
            };
            files.push(member_name);
            let member = expand(&member_text, files.len() - 1, files, resolver, depth + 1, format)?;
            out.extend(apply_replacing(member, &stmt.replacing));
            i += stmt.consumed;
        } else if is_listing_directive(&tok.text) {
            // EJECT / SKIPn only shape the compiler listing; a trailing period is optional.
            i += 1;
            if tokens.get(i).is_some_and(|t| t.text == ".") {
                i += 1;
            }
        } else {
            out.push(tok.clone());
            i += 1;
        }
        if out.len() > MAX_SOURCE_TOKENS {
            return Err(error(files, tok.pos, format!("copybook expands to more than {MAX_SOURCE_TOKENS} tokens")));
        }
    }
    Ok(out)
}

fn is_listing_directive(word: &str) -> bool {
    matches!(word, "EJECT" | "SKIP1" | "SKIP2" | "SKIP3" | "TITLE")
}

fn parse_copy(tokens: &[Token]) -> Result<CopyStatement, (Pos, String)> {
    let at = |i: usize| tokens.get(i).or(tokens.last()).map(|t| t.pos).unwrap_or_default();
    let name_tok = tokens
        .get(1)
        .filter(|t| t.text != ".")
        .ok_or_else(|| (at(1), "expected a member name after COPY".to_string()))?;
    let name = unquote(&name_tok.text);
    let mut i = 2;
    if tokens.get(i).is_some_and(|t| t.text == "OF" || t.text == "IN") {
        i += 2;
    }
    if tokens.get(i).is_some_and(|t| t.text == "SUPPRESS") {
        i += 1;
    }
    let mut replacing = Vec::new();
    if tokens.get(i).is_some_and(|t| t.text == "REPLACING") {
        i += 1;
        while let Some(t) = tokens.get(i) {
            if t.text == "." {
                break;
            }
            let mode = match t.text.as_str() {
                "LEADING" => Mode::Leading,
                "TRAILING" => Mode::Trailing,
                _ => Mode::Whole,
            };
            if mode != Mode::Whole {
                i += 1;
            }
            let from =
                operand(tokens.get(i)).ok_or_else(|| (at(i), "expected ==text== or a word to replace".to_string()))?;
            if from.is_empty() {
                return Err((at(i), "REPLACING needs non-empty text to replace".to_string()));
            }
            if tokens.get(i + 1).is_none_or(|t| t.text != "BY") {
                return Err((at(i + 1), "expected BY in COPY REPLACING".to_string()));
            }
            let to = operand(tokens.get(i + 2))
                .ok_or_else(|| (at(i + 2), "expected ==text== or a word after BY".to_string()))?;
            replacing.push(Replacing { mode, from, to });
            i += 3;
        }
    }
    if tokens.get(i).is_none_or(|t| t.text != ".") {
        return Err((at(i), format!("expected a period ending COPY {name}")));
    }
    Ok(CopyStatement { name, replacing, consumed: i + 1 })
}

/// The text words of a REPLACING operand: pseudo-text split on blanks, or one word/literal.
fn operand(tok: Option<&Token>) -> Option<Vec<String>> {
    let text = &tok?.text;
    if text == "." || text == "BY" {
        return None;
    }
    match text.strip_prefix("==").and_then(|t| t.strip_suffix("==")) {
        Some(inner) => Some(
            inner
                .split_whitespace()
                .map(|w| if w.starts_with(['\'', '"']) { w.to_string() } else { w.to_ascii_uppercase() })
                .collect(),
        ),
        None => Some(vec![text.clone()]),
    }
}

fn unquote(text: &str) -> String {
    text.trim_matches(|c| c == '\'' || c == '"').to_string()
}

fn apply_replacing(tokens: Vec<Token>, rules: &[Replacing]) -> Vec<Token> {
    if rules.is_empty() {
        return tokens;
    }
    let mut out = Vec::with_capacity(tokens.len());
    let mut i = 0;
    'outer: while let Some(tok) = tokens.get(i) {
        for rule in rules {
            let n = rule.from.len();
            match rule.mode {
                Mode::Whole
                    if tokens.get(i..i + n).is_some_and(|w| w.iter().zip(&rule.from).all(|(t, f)| &t.text == f)) =>
                {
                    out.extend(rule.to.iter().map(|t| Token { text: t.clone(), pos: tok.pos }));
                    i += n;
                    continue 'outer;
                }
                Mode::Leading | Mode::Trailing if n == 1 => {
                    let from = &rule.from[0];
                    let to = rule.to.first().map_or("", String::as_str);
                    let new = match rule.mode {
                        Mode::Leading => tok.text.strip_prefix(from.as_str()).map(|rest| format!("{to}{rest}")),
                        _ => tok.text.strip_suffix(from.as_str()).map(|rest| format!("{rest}{to}")),
                    };
                    if let Some(text) = new.filter(|t| !t.is_empty()) {
                        out.push(Token { text, pos: tok.pos });
                        i += 1;
                        continue 'outer;
                    }
                }
                _ => {}
            }
        }
        // `:TAG:` pseudo-text replaces part of a word (IBM treats `:` as a separator).
        let mut text = tok.text.clone();
        for rule in rules {
            if let ([from], Mode::Whole) = (rule.from.as_slice(), rule.mode) {
                if from.len() > 2 && from.starts_with(':') && from.ends_with(':') && !text.starts_with(['\'', '"']) {
                    text = text.replace(from.as_str(), &rule.to.concat());
                }
            }
        }
        out.push(Token { text, pos: tok.pos });
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct Members(HashMap<&'static str, &'static str>);
    impl CopyResolver for Members {
        fn resolve(&self, name: &str) -> Option<(String, String)> {
            self.0.get(name).map(|t| (format!("{name}.cpy"), t.to_string()))
        }
    }

    fn texts(s: &Source) -> Vec<&str> {
        s.tokens.iter().map(|t| t.text.as_str()).collect()
    }

    #[test]
    fn copy_is_expanded_with_replacing() {
        let r = Members(HashMap::from([("MEM", "       05 :P:-A PIC X.\n       05 B PIC 9.\n")]));
        let s =
            normalize("       01 R.\n       COPY MEM REPLACING ==:P:== BY ==WS== B BY C.\n", "top.cpy", &r).unwrap();
        assert_eq!(texts(&s), ["01", "R", ".", "05", "WS-A", "PIC", "X", ".", "05", "C", "PIC", "9", "."]);
        assert_eq!(s.files[s.tokens[3].pos.file], "MEM.cpy");
        assert_eq!(s.tokens[3].pos.line, 1);
    }

    #[test]
    fn copy_cycle_is_an_error() {
        let r = Members(HashMap::from([("A", "       COPY A.\n")]));
        let e = normalize("       COPY A.\n", "top", &r).unwrap_err();
        assert!(e.message.contains("nests deeper"), "{e}");
    }

    #[test]
    fn missing_member_names_the_line() {
        let e = normalize("      * c\n       COPY NOPE.\n", "top", &super::super::NoCopy).unwrap_err();
        assert_eq!((e.line, e.column), (2, 8));
        assert!(e.message.contains("NOPE"));
    }

    #[test]
    fn copy_needs_a_period() {
        let e = normalize("       COPY A\n", "top", &super::super::NoCopy).unwrap_err();
        assert!(e.message.contains("expected a period"), "{e}");
    }

    #[test]
    fn leading_replacing() {
        let r = Members(HashMap::from([("M", "       05 XX-A PIC X.\n")]));
        let s = normalize("       COPY M REPLACING LEADING ==XX== BY ==YY==.\n", "t", &r).unwrap();
        assert_eq!(texts(&s)[1], "YY-A");
    }
}
