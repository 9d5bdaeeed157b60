//! Copybooks: COBOL record layouts, from text to a [`Copybook`] of items with offsets.
//!
//! `source` turns fixed- or free-format text into a clean token stream with line/column
//! positions and resolves `COPY ... REPLACING`; `parse` is the nom grammar of data description
//! entries (one clause per function); `layout` holds the result types; `build` nests entries
//! into items and computes offsets and sizes; `qualify` resolves `NAME OF GROUP` references.
//! Only [`load`] touches the file system.

pub mod build;
pub mod error;
pub mod layout;
pub mod listing;
pub mod parse;
pub mod qualify;
pub mod source;
pub mod suggest;

pub use error::CopybookError;
pub use layout::*;
pub use source::SourceFormat;

use std::path::Path;

/// Largest copybook file read (a path like /dev/zero must not hang a reload).
pub const MAX_COPYBOOK_BYTES: u64 = 4 << 20;

/// Finds the text of a `COPY` member by name.
pub trait CopyResolver {
    /// Returns `(display name, text)` of member `name`, or `None` if it does not exist.
    fn resolve(&self, name: &str) -> Option<(String, String)>;
}

/// A resolver that finds nothing: `COPY` is an error.
pub struct NoCopy;

impl CopyResolver for NoCopy {
    fn resolve(&self, _name: &str) -> Option<(String, String)> {
        None
    }
}

/// Resolves `COPY NAME` to `NAME`, `NAME.cpy`, `NAME.cob`, `NAME.cbl` (any case) in a directory.
pub struct DirResolver(pub std::path::PathBuf);

impl CopyResolver for DirResolver {
    fn resolve(&self, name: &str) -> Option<(String, String)> {
        let exts = ["", ".cpy", ".cob", ".cbl", ".CPY", ".COB", ".CBL"];
        for base in [name.to_string(), name.to_ascii_uppercase(), name.to_ascii_lowercase()] {
            for ext in exts {
                let p = self.0.join(format!("{base}{ext}"));
                if let Ok(text) = std::fs::read_to_string(&p) {
                    return Some((p.display().to_string(), text));
                }
            }
        }
        None
    }
}

/// Parses copybook `text` (named `file` in errors), resolving COPY through `resolver`; the
/// source format is detected.
pub fn parse_copybook(text: &str, file: &str, resolver: &dyn CopyResolver) -> Result<Copybook, CopybookError> {
    parse_copybook_with(text, file, resolver, SourceFormat::Auto)
}

/// [`parse_copybook`] reading the text in `format`.
pub fn parse_copybook_with(
    text: &str,
    file: &str,
    resolver: &dyn CopyResolver,
    format: SourceFormat,
) -> Result<Copybook, CopybookError> {
    let lines = source::normalize_with(text, file, resolver, format)?;
    let entries = parse::parse_entries(&lines)?;
    build::build(entries, file)
}

/// Reads and parses a copybook file (format detected); `COPY` members are looked up beside it.
pub fn load(path: &Path) -> Result<Copybook, CopybookError> {
    load_with(path, SourceFormat::Auto)
}

/// [`load`] reading the copybook and its members in `format`.
pub fn load_with(path: &Path, format: SourceFormat) -> Result<Copybook, CopybookError> {
    let file = path.display().to_string();
    let error = |message: String| CopybookError { file: file.clone(), line: 0, column: 0, message };
    let meta = std::fs::metadata(path).map_err(|e| error(format!("cannot read: {e}")))?;
    if !meta.is_file() || meta.len() > MAX_COPYBOOK_BYTES {
        return Err(error(format!("not a regular file of at most {MAX_COPYBOOK_BYTES} bytes")));
    }
    let bytes = std::fs::read(path).map_err(|e| error(format!("cannot read: {e}")))?;
    let text = String::from_utf8_lossy(&bytes);
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    parse_copybook_with(&text, &file, &DirResolver(dir), format)
}
