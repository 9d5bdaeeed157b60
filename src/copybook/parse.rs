//! placeholder until the parser lands
use super::CopybookError;
/// placeholder
pub fn parse_entries(_t: &str) -> Result<(), CopybookError> {
    Ok(())
}
