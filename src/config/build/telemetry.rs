//! Checking `[telemetry]` with the rest of the file, so `ficus check` and a reload refuse a
//! collector URL or sampling value that cannot work, naming its line. The `OTEL_*` variables are
//! the environment's: a bad one is ignored with a warning, never a refused table. Traces themselves start with the process (`main.rs`): a reload that changes
//! `[telemetry]` is applied on the next restart, and says so.

use super::Builder;
use crate::route::file::RoutesFile;
use crate::route::RouteTable;

impl Builder<'_> {
    /// Records every problem `[telemetry]` or the environment has.
    pub(super) fn telemetry(&mut self, file: &RoutesFile, previous: Option<&RouteTable>) {
        let env = |name: &str| std::env::var(name).ok();
        // Only the file's own values are problems; a bad OTEL_* variable is ignored (and warned
        // about by `ficus serve` and `ficus check`), never a reason to refuse a table.
        if let Err(problems) = crate::telemetry::resolve(file.telemetry.as_ref(), &env) {
            for p in problems {
                self.problem("telemetry", p.key, p.message);
            }
        }
        if let Some(running) = previous.filter(|p| p.file.telemetry != file.telemetry) {
            tracing::warn!(
                running = ?running.file.telemetry,
                "[telemetry] changed: traces keep their running settings until ficus restarts"
            );
        }
    }
}
