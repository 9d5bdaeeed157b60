//! placeholder until the parser lands
use super::{CopyResolver, CopybookError};
/// placeholder
pub fn normalize(text: &str, _file: &str, _r: &dyn CopyResolver) -> Result<String, CopybookError> {
    Ok(text.to_string())
}
