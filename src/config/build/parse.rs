//! routes.toml's text → [`RoutesFile`], reporting every problem rather than the first, each
//! with its line, and none that only follows from another:
//!
//! - **Syntax**: the parser stops at the first error, so the failing line is neutralised (a
//!   key line commented out, a table header renamed to a placeholder so its keys do not land in
//!   the table above) and the text parsed again, up to [`MAX_SYNTAX_ERRORS`]. Only syntax
//!   errors are reported then: meaning read from a neutralised text would be knock-ons.
//! - **Shape** (unknown keys, wrong types, missing keys): each section is read on its own. A
//!   route or upstream that does not read is left out of the build (an upstream's name stays
//!   known, so routes naming it are not also told it does not exist); the other sections are
//!   still built and checked.

use super::{Builder, ConfigProblem};
use crate::route::file::{
    ChannelSection, DefaultSection, GatewaySection, HeaderSection, JournalSection, LimitsSection, RouteSection,
    RoutesFile, ShadowSection, TelemetrySection, UpstreamSection,
};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// Most syntax errors reported for one file.
pub const MAX_SYNTAX_ERRORS: usize = 20;

/// The tables routes.toml may have.
const TOP: [&str; 10] =
    ["gateway", "header", "upstreams", "default", "routes", "limits", "shadow", "journal", "channels", "telemetry"];

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let start = before.rfind('\n').map_or(0, |p| p + 1);
    (before.matches('\n').count() + 1, before[start..].chars().count() + 1)
}

/// Every syntax error of `text` (up to [`MAX_SYNTAX_ERRORS`]), each with line and column.
///
/// The statement holding an error is neutralised whole — a key line and the lines its value
/// runs on (a multi-line array, inline table or string) — so one missing comma in a long
/// `ignore = [` list is one error, not one per element that follows.
pub fn syntax_problems(text: &str) -> Vec<ConfigProblem> {
    let mut lines: Vec<String> = text.split('\n').map(String::from).collect();
    let mut neutralised = Vec::new();
    let mut problems = Vec::new();
    while problems.len() < MAX_SYNTAX_ERRORS {
        let attempt = lines.join("\n");
        let Err(e) = attempt.parse::<toml::Table>() else { break };
        let Some(span) = e.span() else {
            problems.push(ConfigProblem { line: Some(1), column: None, message: one_line(e.message()) });
            break;
        };
        let (line, column) = line_col(&attempt, span.start);
        problems.push(ConfigProblem { line: Some(line), column: Some(column), message: one_line(e.message()) });
        // A line already neutralised that still fails: what follows cannot be told apart from
        // the first error's consequences.
        if neutralised.contains(&line) || line > lines.len() {
            break;
        }
        let inside = continues_a_value(&attempt);
        let first = (1..=line).rev().find(|&l| !inside.get(l - 1).copied().unwrap_or(false)).unwrap_or(line);
        let last = (line + 1..=lines.len()).find(|&l| !inside[l - 1]).map_or(lines.len(), |next| next - 1);
        for l in first..=last {
            neutralised.push(l);
            let text = &mut lines[l - 1];
            *text = if l == first && text.trim_start().starts_with('[') {
                format!("[ficus-check-neutralised-{l}]")
            } else {
                format!("#{text}")
            };
        }
    }
    problems
}

/// True if `line` looks like the start of a statement: a table header or a `key =` line.
fn starts_a_statement(line: &str) -> bool {
    let t = line.trim_start();
    let key_chars = |c: char| c.is_ascii_alphanumeric() || "_-.\"' ".contains(c);
    let header = t.starts_with('[') && t.trim_end().ends_with(']') && !t[1..].starts_with(['"', '\'', '{', '[', ']']);
    let assignment = t.split_once('=').is_some_and(|(k, _)| !k.trim().is_empty() && k.chars().all(key_chars));
    header || (assignment && !t.starts_with(['"', '\'', '{', '[']))
}

/// For each line of `text`: whether it continues a value begun on an earlier line (inside a
/// multi-line array, inline table or string). A rough lexer for text that may not parse: an
/// unclosed bracket ends at the next line that starts a statement.
fn continues_a_value(text: &str) -> Vec<bool> {
    #[derive(Clone, Copy, PartialEq)]
    enum In {
        Code,
        Basic,
        Literal,
        MultiBasic,
        MultiLiteral,
    }
    let mut out = Vec::new();
    let (mut state, mut depth) = (In::Code, 0usize);
    for line in text.split('\n') {
        let multi = matches!(state, In::MultiBasic | In::MultiLiteral);
        if depth > 0 && !multi && starts_a_statement(line) {
            depth = 0;
        }
        out.push(depth > 0 || multi);
        let bytes = line.as_bytes();
        let header = state == In::Code && depth == 0 && line.trim_start().starts_with('[');
        let mut i = 0;
        while i < bytes.len() && !header {
            let rest = &bytes[i..];
            match state {
                In::Code => match bytes[i] {
                    b'#' => break,
                    b'"' if rest.starts_with(b"\"\"\"") => (state, i) = (In::MultiBasic, i + 2),
                    b'\'' if rest.starts_with(b"\'\'\'") => (state, i) = (In::MultiLiteral, i + 2),
                    b'"' => state = In::Basic,
                    b'\'' => state = In::Literal,
                    b'[' | b'{' => depth += 1,
                    b']' | b'}' => depth = depth.saturating_sub(1),
                    _ => {}
                },
                In::Basic if bytes[i] == b'\\' => i += 1,
                In::Basic if bytes[i] == b'"' => state = In::Code,
                In::Literal if bytes[i] == b'\'' => state = In::Code,
                In::MultiBasic if bytes[i] == b'\\' => i += 1,
                In::MultiBasic if rest.starts_with(b"\"\"\"") => (state, i) = (In::Code, i + 2),
                In::MultiLiteral if rest.starts_with(b"\'\'\'") => (state, i) = (In::Code, i + 2),
                _ => {}
            }
            i += 1;
        }
        // A one-line string does not run past its line.
        if matches!(state, In::Basic | In::Literal) {
            state = In::Code;
        }
    }
    out
}

/// The key a serde message is about: "unknown field `x`", "... in `x.y`" → `x`.
fn key_of(message: &str) -> Option<&str> {
    let quoted = |prefix: &str| {
        let rest = &message[message.find(prefix)? + prefix.len()..];
        rest.split('`').next()
    };
    quoted("in `").map(|path| path.split('.').next().unwrap_or(path)).or_else(|| quoted("unknown field `"))
}

/// A parser message on one line: `invalid string (expected `"`, `'`)`.
fn one_line(message: &str) -> String {
    let mut lines = message.lines().map(str::trim).filter(|l| !l.is_empty());
    let first = lines.next().unwrap_or("").to_string();
    let rest: Vec<&str> = lines.collect();
    if rest.is_empty() {
        first
    } else {
        format!("{first} ({})", rest.join("; "))
    }
}

/// One line, without the `in `…`` suffix the key's line makes redundant.
fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or(message).trim().to_string()
}

impl Builder<'_> {
    /// Reads `section` (a table of routes.toml, or one entry of `[routes]`/`[upstreams]`) as
    /// `T`, reporting each failure at the line of the key it names (else of the section).
    ///
    /// serde stops at the first error, so a key it names (unknown, or of the wrong type) is
    /// taken out and the section read again: every unknown key is reported, not only the first.
    /// A required key taken out this way, or misspelt, is not reported a second time as missing.
    fn section<T: DeserializeOwned>(&mut self, section: &str, mut value: toml::Value) -> Option<T> {
        let mut removed: Vec<String> = Vec::new();
        loop {
            let message = match T::deserialize(value.clone()) {
                Ok(t) if removed.is_empty() => return Some(t),
                Ok(_) => return None,
                Err(e) => e.to_string(),
            };
            // A required key taken out, or misspelt (`targt` for `target`), is said once.
            let missing = message.strip_prefix("missing field `").and_then(|m| m.split('`').next());
            let knock_on = missing.is_some_and(|m| removed.iter().any(|k| k == m || strsim::levenshtein(k, m) <= 2));
            if !knock_on {
                self.problem(section, key_of(&message), format!("[{section}]: {}", first_line(&message)));
            }
            let key = key_of(&message).map(str::to_string);
            let taken = match (&key, value.as_table_mut()) {
                (Some(k), Some(table)) => table.remove(k).is_some(),
                _ => false,
            };
            match key {
                Some(k) if taken => removed.push(k),
                _ => return None,
            }
        }
    }

    /// The file's shape, with every syntax or shape problem recorded. `None` when nothing can be
    /// built from it; a file with a bad route or upstream still returns the rest (the problems
    /// recorded keep it from being applied).
    pub(super) fn parse_file(&mut self) -> Option<RoutesFile> {
        let syntax = syntax_problems(self.text);
        if !syntax.is_empty() {
            self.problems.extend(syntax);
            return None;
        }
        if let Ok(file) = toml::from_str::<RoutesFile>(self.text) {
            return Some(file);
        }
        let mut doc: toml::Table = self.text.parse().ok()?;
        for key in doc.keys().filter(|k| !TOP.contains(&k.as_str())).cloned().collect::<Vec<_>>() {
            let line = self.top_line(&key);
            let message = format!("unknown table [{key}] (known: {})", TOP.join(", "));
            self.problems.push(ConfigProblem { line: Some(line), column: None, message });
        }
        let mut required = |b: &mut Self, name: &str| match doc.remove(name) {
            Some(v) => Some(v),
            None => {
                let message = format!("[{name}] is missing");
                b.problems.push(ConfigProblem { line: Some(1), column: None, message });
                None
            }
        };
        let gateway = required(self, "gateway").and_then(|v| self.section::<GatewaySection>("gateway", v));
        let header = required(self, "header").and_then(|v| self.section::<HeaderSection>("header", v));
        let default = required(self, "default").and_then(|v| self.section::<DefaultSection>("default", v));
        let limits = match doc.remove("limits") {
            Some(v) => self.section::<LimitsSection>("limits", v),
            None => Some(LimitsSection::default()),
        };
        let shadow = match doc.remove("shadow") {
            Some(v) => self.section::<ShadowSection>("shadow", v),
            None => Some(ShadowSection::default()),
        };
        let journal = match doc.remove("journal") {
            Some(v) => Some(self.section::<JournalSection>("journal", v)?),
            None => None,
        };
        let telemetry = match doc.remove("telemetry") {
            Some(v) => Some(self.section::<TelemetrySection>("telemetry", v)?),
            None => None,
        };
        let upstreams = self.entries::<UpstreamSection>(doc.remove("upstreams"), "upstreams");
        let routes = self.entries::<RouteSection>(doc.remove("routes"), "routes");
        let channels = self.channel_entries(doc.remove("channels"));
        Some(RoutesFile {
            gateway: gateway?,
            header: header?,
            upstreams,
            default: default?,
            routes,
            limits: limits?,
            shadow: shadow?,
            journal,
            channels,
            telemetry,
        })
    }

    /// Each `[[channels]]` entry that reads (one that does not is said, naming its position).
    fn channel_entries(&mut self, value: Option<toml::Value>) -> Vec<ChannelSection> {
        let entries = match value {
            None => return Vec::new(),
            Some(toml::Value::Array(a)) => a,
            Some(_) => {
                let line = self.top_line("channels");
                let message = "channels must be written as [[channels]] entries".to_string();
                self.problems.push(ConfigProblem { line: Some(line), column: None, message });
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for (i, value) in entries.into_iter().enumerate() {
            let name = value.get("name").and_then(|n| n.as_str()).map_or(format!("#{}", i + 1), str::to_string);
            if let Some(c) = self.section::<ChannelSection>(&format!("channels {name}"), value) {
                out.push(c);
            }
        }
        out
    }

    /// Each entry of `[upstreams]` or `[routes]` that reads; the names of upstreams that do not
    /// are kept, so that naming one is not a second problem.
    fn entries<T: DeserializeOwned>(&mut self, table: Option<toml::Value>, top: &str) -> BTreeMap<String, T> {
        let mut out = BTreeMap::new();
        let entries = match table {
            None => return out,
            Some(toml::Value::Table(t)) => t,
            Some(_) => {
                let line = self.top_line(top);
                let message = format!("{top} must be a table of [{top}.NAME] sections");
                self.problems.push(ConfigProblem { line: Some(line), column: None, message });
                return out;
            }
        };
        for (name, value) in entries {
            match self.section::<T>(&format!("{top}.{name}"), value) {
                Some(t) => {
                    out.insert(name, t);
                }
                None if top == "upstreams" => {
                    self.unreadable_upstreams.insert(name);
                }
                None => {}
            }
        }
        out
    }

    /// The line where top-level table or key `name` starts (1 if not found).
    fn top_line(&self, name: &str) -> usize {
        self.text
            .lines()
            .position(|l| {
                let t = l.trim();
                t.strip_prefix('[').is_some_and(|r| r.trim_start_matches('[').starts_with(name))
                    || t.split(['=', ' ', '.']).next() == Some(name)
            })
            .map_or(1, |p| p + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_syntax_error_is_found_with_its_line_and_column() {
        let text = "[gateway]\nadmin = \"127.0.0.1:1\nlisten = 8\n[routes.X\ntarget = \"a\"\nx = 1\nx = 2\n";
        let problems = syntax_problems(text);
        let at: Vec<_> = problems.iter().map(|p| (p.line.unwrap(), p.column.is_some())).collect();
        assert_eq!(at, [(2, true), (4, true), (7, true)], "{problems:?}");
        assert_eq!(problems.len(), 3, "the neutralised header does not make its keys duplicates: {problems:?}");
    }

    #[test]
    fn odd_texts_never_panic_and_always_end() {
        for text in ["", "[", "[[", "a = \"\"\"", "한 = 1\r\n[x\r\nb", "a = [\n1\n2\n", "=\n=\n=\n"] {
            let problems = syntax_problems(text);
            assert!(problems.len() <= MAX_SYNTAX_ERRORS, "{text:?}");
            assert!(problems.iter().all(|p| p.line.is_some()), "{text:?}: {problems:?}");
        }
        let many: String = (0..50).map(|i| format!("k{i} = \n")).collect();
        assert_eq!(syntax_problems(&many).len(), MAX_SYNTAX_ERRORS, "bounded");
    }

    #[test]
    fn one_missing_comma_in_a_multi_line_array_is_one_error() {
        let text = "[routes.A]\nignore = [\n  \"X\",\n  \"Y\"\n  \"Z\",\n  \"W\",\n]\nmask = [\"Q\"]\nx = = 1\n";
        let problems = syntax_problems(text);
        let lines: Vec<_> = problems.iter().map(|p| p.line.unwrap()).collect();
        assert_eq!(lines, [5, 9], "the comma, then the next statement's own error: {problems:?}");
        let inside = continues_a_value(text);
        assert_eq!(&inside[..9], [false, false, true, true, true, true, true, false, false]);
        let unclosed = continues_a_value("a = [\n1,\nb = 2\n[t]\n");
        assert_eq!(unclosed, [false, true, false, false, false], "an unclosed array ends at the next key");
        let strings = continues_a_value("s = \"\"\"\n[x]\n\"\"\"\nk = '['\nj = 1\n");
        assert_eq!(strings, [false, true, true, false, false, false]);
    }

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\n한c", 6), (2, 2));
        assert_eq!(line_col("a", 9), (1, 2));
    }

    #[test]
    fn the_key_of_a_serde_message() {
        assert_eq!(key_of("unknown field `read_onyl`, expected one of `a`"), Some("read_onyl"));
        assert_eq!(key_of("invalid type: string \"10\", expected f64\nin `canary.percent`\n"), Some("canary"));
        assert_eq!(key_of("missing field `target`"), None);
    }
}
