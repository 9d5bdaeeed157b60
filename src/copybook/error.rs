//! Errors from reading copybook text: each names the file, line and column and what was expected.

use std::fmt;

/// A copybook that could not be read, parsed or laid out.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct CopybookError {
    /// The file the problem is in (as given to the parser, or the COPY member's name).
    pub file: String,
    /// 1-based line.
    pub line: u32,
    /// 1-based column (in the original source line, counting the sequence area).
    pub column: u32,
    /// What was wrong, e.g. `expected a PIC string after PIC`.
    pub message: String,
}

impl fmt::Display for CopybookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: {}", self.file, self.line, self.column, self.message)
    }
}
