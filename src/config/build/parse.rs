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
    DefaultSection, GatewaySection, HeaderSection, LimitsSection, RouteSection, RoutesFile, ShadowSection,
    UpstreamSection,
};
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;

/// Most syntax errors reported for one file.
pub const MAX_SYNTAX_ERRORS: usize = 20;

/// The tables routes.toml may have.
const TOP: [&str; 7] = ["gateway", "header", "upstreams", "default", "routes", "limits", "shadow"];

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
        neutralised.push(line);
        let text = &mut lines[line - 1];
        *text = if text.trim_start().starts_with('[') {
            format!("[ficus-check-neutralised-{line}]")
        } else {
            format!("#{text}")
        };
    }
    problems
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
    /// `T`, reporting a failure at the line of the key it names (else of the section).
    fn section<T: DeserializeOwned>(&mut self, section: &str, value: toml::Value) -> Option<T> {
        match T::deserialize(value) {
            Ok(t) => Some(t),
            Err(e) => {
                let message = e.to_string();
                self.problem(section, key_of(&message), format!("[{section}]: {}", first_line(&message)));
                None
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
        let upstreams = self.entries::<UpstreamSection>(doc.remove("upstreams"), "upstreams");
        let routes = self.entries::<RouteSection>(doc.remove("routes"), "routes");
        Some(RoutesFile {
            gateway: gateway?,
            header: header?,
            upstreams,
            default: default?,
            routes,
            limits: limits?,
            shadow: shadow?,
        })
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
