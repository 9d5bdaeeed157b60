//! What a failed build reports: each problem of routes.toml with its line (and column, for
//! syntax errors), shown as `file:line[:column]: message`.

use std::fmt;

/// One problem in a configuration file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigProblem {
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column (in characters), for syntax errors.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
}

/// Every problem found in a configuration file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigError {
    /// The file.
    pub file: String,
    /// The problems, in file order where lines are known.
    pub problems: Vec<ConfigProblem>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            match (p.line, p.column) {
                (Some(line), Some(column)) => write!(f, "{}:{line}:{column}: {}", self.file, p.message)?,
                (Some(line), None) => write!(f, "{}:{line}: {}", self.file, p.message)?,
                (None, _) => write!(f, "{}: {}", self.file, p.message)?,
            }
        }
        Ok(())
    }
}

/// A copybook problem as routes.toml reports it: `file:line:column` when there is a place in
/// the copybook to point at, else just the path (a file that cannot be read has no `:0:0`).
pub(super) fn copybook_problem(name: &str, e: &crate::copybook::CopybookError) -> String {
    if e.line == 0 {
        format!("copybook {name}: {}: {}", e.file, e.message)
    } else {
        format!("copybook {name}: {e}")
    }
}
