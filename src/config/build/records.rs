//! Checking `[shadow] records`: a directory (relative to routes.toml), or `"postgres"` — the
//! journal's PostgreSQL store, one place for every replica's comparison records and captures.
//! `"postgres"` needs a `[journal]` whose store is PostgreSQL; a URL written here (it would
//! become a directory named after it) is refused with where the URL goes instead, and so is the
//! keyword in another spelling (`"Postgres"`, `"pg"`), which would also become a directory.

use super::Builder;
use crate::route::file::RoutesFile;
use crate::shadow::store::{is_store_url, RECORDS_POSTGRES};

impl Builder<'_> {
    /// Problems with `[shadow] records`, at its line.
    pub(super) fn shadow_records(&mut self, file: &RoutesFile) {
        let records = file.shadow.records.as_str();
        let store = file.journal.as_ref().map(|j| j.store.as_str());
        let why = if is_store_url(records) || records.starts_with("sqlite:") {
            format!(
                "records = {records:?}: a store is named once, in [journal] store; write records = \"postgres\" to \
                 keep records in the journal's PostgreSQL store, or a directory (records = \"shadow\")"
            )
        } else if records != RECORDS_POSTGRES && looks_like_the_keyword(records) {
            format!(
                "records = {records:?} would be a directory of that name: write records = \"postgres\" (lower case) \
                 for the journal's PostgreSQL store, or \"./{}\" for a directory",
                records.trim()
            )
        } else if records != RECORDS_POSTGRES {
            return;
        } else {
            match store {
                None => "records = \"postgres\" keeps comparison records and captures in the journal's PostgreSQL \
                         store, and there is no [journal]: add [journal] store = \"postgres://USER@HOST:PORT/DB\", or \
                         name a directory (records = \"shadow\")"
                    .to_string(),
                Some(s) if !is_store_url(s) => format!(
                    "records = \"postgres\" needs the journal's store to be PostgreSQL, and [journal] store = {s:?} is \
                     not: set store = \"postgres://USER@HOST:PORT/DB\", or name a directory (records = \"shadow\")"
                ),
                Some(_) => return,
            }
        };
        self.problem("shadow", Some("records"), why);
    }
}

/// `Postgres`, ` postgres `, `PostgreSQL`, `pg`: the keyword meant, not a directory.
fn looks_like_the_keyword(records: &str) -> bool {
    let word = records.trim().to_ascii_lowercase();
    matches!(word.as_str(), "postgres" | "postgresql" | "pg")
}

#[cfg(test)]
mod tests {
    use super::looks_like_the_keyword;

    #[test]
    fn the_keyword_misspelled_is_not_taken_for_a_directory() {
        for meant in ["Postgres", "POSTGRES", " postgres", "postgres ", "PostgreSQL", "pg"] {
            assert!(looks_like_the_keyword(meant), "{meant:?}");
        }
        for dir in ["shadow", "./Postgres", "postgres-records", "/var/lib/ficus/shadow"] {
            assert!(!looks_like_the_keyword(dir), "{dir:?}");
        }
    }
}
