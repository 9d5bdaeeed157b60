//! The JSON keys of each object level a plan writes, so that two fields never share one key:
//! decode would emit it twice and encode would write both fields from one value. FILLER groups,
//! FILLER REDEFINES views and REDEFINES alternatives add no level, so their fields are checked
//! against the object above them.

use super::PlanError;
use std::collections::HashMap;

/// Open object levels, innermost last: each key with the path and line of its field.
pub(super) struct Keys {
    levels: Vec<HashMap<String, (String, u32)>>,
    record: String,
}

impl Keys {
    /// The record's top level open.
    pub(super) fn new(record: &str) -> Keys {
        Keys { levels: vec![HashMap::new()], record: record.to_string() }
    }

    /// A group's or table element's object starts.
    pub(super) fn open(&mut self) {
        self.levels.push(HashMap::new());
    }

    /// The innermost object ends.
    pub(super) fn close(&mut self) {
        self.levels.pop();
    }

    /// Takes `key` for the field at `path` (line `line`) in the innermost object.
    pub(super) fn claim(&mut self, key: &str, path: &str, line: u32) -> Result<(), PlanError> {
        let record = &self.record;
        let Some(level) = self.levels.last_mut() else { return Ok(()) };
        if let Some((first, first_line)) = level.get(key) {
            return Err(PlanError::DuplicateKey {
                key: key.to_string(),
                first: format!("{record}.{first}"),
                first_line: *first_line,
                second: format!("{record}.{path}"),
                second_line: line,
            });
        }
        level.insert(key.to_string(), (path.to_string(), line));
        Ok(())
    }
}
