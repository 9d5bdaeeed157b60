//! placeholder until the parser lands
use super::Record;
/// placeholder
pub fn listing(r: &Record) -> String {
    format!("{}\n", r.name)
}
/// placeholder
pub fn listing_json(r: &Record) -> serde_json::Value {
    serde_json::json!({"name": r.name})
}
