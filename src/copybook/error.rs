//! Errors from reading copybook text: each names the file, line and column and what was expected.

use std::fmt;

/// A copybook that could not be read, parsed or laid out.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct CopybookError {
    /// The file the problem is in (as given to the parser, or the COPY member's name).
    pub file: String,
    /// 1-based line; 0 when the problem is the whole file (it cannot be read).
    pub line: u32,
    /// 1-based column (in the original source line, counting the sequence area).
    pub column: u32,
    /// What was wrong, e.g. `expected a PIC string after PIC`.
    pub message: String,
}

impl fmt::Display for CopybookError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.line, self.column) {
            (0, _) => write!(f, "{}: {}", self.file, self.message),
            (line, 0) => write!(f, "{}:{line}: {}", self.file, self.message),
            (line, column) => write!(f, "{}:{line}:{column}: {}", self.file, self.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CopybookError;

    #[test]
    fn a_position_is_shown_only_when_there_is_one() {
        let e = |line, column| CopybookError { file: "A.cpy".into(), line, column, message: "m".into() }.to_string();
        assert_eq!(e(0, 0), "A.cpy: m", "a file that cannot be read has no line");
        assert_eq!(e(7, 0), "A.cpy:7: m");
        assert_eq!(e(7, 12), "A.cpy:7:12: m");
    }
}
