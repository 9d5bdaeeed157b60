//! Why a record cannot be compiled into a plan.

use super::MAX_COUNTERS;

/// Why a record cannot be compiled into a plan.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A `DEPENDING ON` counter that is not a numeric field of the record.
    #[error("{table}: DEPENDING ON {counter}, which is not a numeric field of the record")]
    BadCounter {
        /// The table's name.
        table: String,
        /// The counter's name.
        counter: String,
    },
    /// More counters than [`MAX_COUNTERS`].
    #[error("more than {MAX_COUNTERS} DEPENDING ON counters")]
    TooManyCounters,
    /// Two fields that would be written under one JSON key of one object: decode would emit
    /// the key twice and encode would write both from one value.
    #[error(
        "{key} is the JSON key of two fields of one object: {first} (line {first_line}) and {second} (line \
         {second_line}); rename one (FILLER groups and REDEFINES views add no level to the JSON, so their \
         fields share the object above them)"
    )]
    DuplicateKey {
        /// The key.
        key: String,
        /// Path of the first field.
        first: String,
        /// Its line in the copybook.
        first_line: u32,
        /// Path of the second field.
        second: String,
        /// Its line.
        second_line: u32,
    },
    /// A picture the codec cannot carry in the chosen code page.
    #[error("{field}: {reason}")]
    Unsupported {
        /// The field's name.
        field: String,
        /// Why.
        reason: String,
    },
}
