//! The enums behind `--format` (a copybook's source format) and `--record-format` (a file's
//! record format), shared by `ficus layout`, `decode` and `encode`.

use clap::ValueEnum;

/// The long help of `--format`.
pub(super) const FORMAT_HELP: &str = "Source format of the copybook and its COPY members.\n\
fixed: columns 1-6 sequence, 7 indicator, 8-72 code; 73-80 are cut, as the compiler does.\n\
free: code anywhere on a line of any length, *> comments.\n\
auto (default): decide per file; a file read as fixed whose code runs past column 72 (a \
free-format source saved as .cpy, or tabs pushing code right) is an error naming the line, \
never a silent cut. Tabs expand to the next multiple of 8 columns (as GnuCOBOL's default \
-ftab-width=8); >>SOURCE FORMAT FREE|FIXED switches inside a file in every mode.";

/// `--format`: the copybook's source format.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum FormatArg {
    /// Fixed (reference) format: code in columns 8-72.
    Fixed,
    /// Free format.
    Free,
    /// Detect per file; code cut at column 72 is an error.
    Auto,
}

impl From<FormatArg> for crate::copybook::SourceFormat {
    fn from(f: FormatArg) -> Self {
        match f {
            FormatArg::Fixed => crate::copybook::SourceFormat::Fixed,
            FormatArg::Free => crate::copybook::SourceFormat::Free,
            FormatArg::Auto => crate::copybook::SourceFormat::Auto,
        }
    }
}

/// `--record-format`.
#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum RecordFormatArg {
    /// Fixed: records back to back.
    #[value(name = "F")]
    F,
    /// Fixed blocked: records of the record's largest size; --block-size checked.
    #[value(name = "FB")]
    Fb,
    /// Variable: each record behind an RDW.
    #[value(name = "V")]
    V,
    /// Variable blocked: BDW blocks of RDW records.
    #[value(name = "VB")]
    Vb,
}
