//! Edits routes.toml the way a person would: change one route's keys in place, keeping every
//! comment and the layout (`toml_edit`), and write the result atomically (temp file, fsync,
//! rename) so a reader never sees half a file. The file keeps its own style: a byte-order mark
//! and CRLF line endings (a file saved on Windows) stay as they were.

use serde_json::{Map, Value};
use std::io::Write;
use std::path::Path;
use toml_edit::{value, Array, DocumentMut, InlineTable, Item, Table};

/// Keys a route may have (the same as `[routes.OP]` in routes.toml).
pub const ROUTE_KEYS: [&str; 18] = [
    "request",
    "response",
    "target",
    "read_only",
    "enabled",
    "canary",
    "fallback",
    "disabled_reply",
    "shadow",
    "shadow_percent",
    "shadow_writes",
    "shadow_timeout_ms",
    "ignore",
    "tolerance",
    "mask",
    "capture",
    "fill_missing",
    "truncate_text",
];

fn to_toml(v: &Value) -> Result<toml_edit::Value, String> {
    Ok(match v {
        Value::Bool(b) => (*b).into(),
        Value::String(s) => s.as_str().into(),
        Value::Number(n) if n.is_i64() => n.as_i64().unwrap_or_default().into(),
        // A whole number arrives as 10.0 from clients that only have floats (the CLI's
        // `--canary 10`); routes.toml keeps the way people write it, `percent = 10` (every
        // numeric key reads either form).
        Value::Number(n) => match n.as_f64().ok_or_else(|| format!("{n} is not a number toml can hold"))? {
            f if f.fract() == 0.0 && f.abs() < 9.0e15 => (f as i64).into(),
            f => f.into(),
        },
        Value::Array(items) => {
            let mut a = Array::new();
            for item in items {
                a.push(to_toml(item)?);
            }
            a.into()
        }
        Value::Object(map) => {
            let mut t = InlineTable::new();
            for (k, v) in map {
                if !v.is_null() {
                    t.insert(k, to_toml(v)?);
                }
            }
            t.into()
        }
        Value::Null => return Err("null".into()),
    })
}

/// Applies `patch` to `[routes.OP]` in `text`: each key set, or removed when `null`. Creates the
/// route if it does not exist. Returns the new text.
pub fn patch_route(text: &str, op: &str, patch: &Map<String, Value>) -> Result<String, String> {
    if op.is_empty() || !op.chars().all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)) {
        return Err(format!("{op:?} is not an operation code"));
    }
    let style = TextStyle::of(text);
    let body = text.strip_prefix(BOM).unwrap_or(text);
    let mut doc: DocumentMut = body.parse().map_err(|e| format!("routes.toml does not parse: {e}"))?;
    let routes = doc.entry("routes").or_insert_with(|| {
        let mut t = Table::new();
        t.set_implicit(true);
        Item::Table(t)
    });
    let routes = routes.as_table_mut().ok_or("[routes] is not a table")?;
    let route = routes.entry(op).or_insert_with(|| Item::Table(Table::new()));
    let route = route.as_table_mut().ok_or_else(|| format!("routes.{op} is not a table"))?;
    for (key, v) in patch {
        if !ROUTE_KEYS.contains(&key.as_str()) {
            return Err(format!("{key:?} is not a route key (known: {})", ROUTE_KEYS.join(", ")));
        }
        if v.is_null() {
            route.remove(key);
        } else if let Some(existing) = route.get_mut(key).and_then(Item::as_value_mut) {
            // Keep the comment that follows the value on its line.
            let decor = existing.decor().clone();
            *existing = to_toml(v)?;
            *existing.decor_mut() = decor;
        } else {
            route.insert(key, value(to_toml(v)?));
        }
    }
    Ok(style.apply(&doc.to_string()))
}

/// The byte-order mark some editors put first.
const BOM: char = '\u{feff}';

/// How a text file is written: with a byte-order mark or not, CRLF or LF line endings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TextStyle {
    /// The file starts with U+FEFF.
    pub bom: bool,
    /// Most of its lines end in CRLF.
    pub crlf: bool,
}

impl TextStyle {
    /// The style of `text`.
    pub fn of(text: &str) -> TextStyle {
        let crlf = text.matches("\r\n").count();
        let lf = text.matches('\n').count() - crlf;
        TextStyle { bom: text.starts_with(BOM), crlf: crlf > lf }
    }

    /// `text` (any line endings) written in this style: every line ending made the file's.
    pub fn apply(self, text: &str) -> String {
        let body = text.strip_prefix(BOM).unwrap_or(text);
        let mut out = String::with_capacity(body.len() + body.len() / 16 + 3);
        if self.bom {
            out.push(BOM);
        }
        if self.crlf {
            out.push_str(&body.replace("\r\n", "\n").replace('\n', "\r\n"));
        } else {
            out.push_str(body);
        }
        out
    }
}

/// Writes `text` to `path` atomically: a temp file beside it (its own per call, so two writers
/// in one process never share one), fsync, rename over.
pub fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("routes.toml");
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.tmp-{}-{n}", std::process::id()));
    let written = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        drop(f);
        // A symlinked file (a ConfigMap) is replaced where it points, not the link itself.
        let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        std::fs::rename(&tmp, target)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const TEXT: &str = "# top comment\n[routes.ACCTINQ]\ntarget = \"legacy\"   # who serves it\nread_only = true\n";

    #[test]
    fn patch_keeps_comments_and_sets_and_removes_keys() {
        let patch = json!({ "target": "accounts", "canary": { "to": "accounts", "percent": 10, "sticky": "ACCT-NO" }, "read_only": null });
        let out = patch_route(TEXT, "ACCTINQ", patch.as_object().unwrap()).unwrap();
        assert!(out.starts_with("# top comment\n"), "{out}");
        assert!(out.contains("target = \"accounts\"   # who serves it"), "{out}");
        assert!(!out.contains("read_only"), "{out}");
        assert!(out.contains("canary = { to = \"accounts\", percent = 10, sticky = \"ACCT-NO\" }"), "{out}");
    }

    #[test]
    fn whole_numbers_are_written_as_people_write_them() {
        let patch =
            json!({ "canary": { "to": "accounts", "percent": 10.0, "sticky": "ACCT-NO" }, "shadow_percent": 12.5 });
        let out = patch_route(TEXT, "ACCTINQ", patch.as_object().unwrap()).unwrap();
        assert!(out.contains("percent = 10,"), "{out}");
        assert!(out.contains("shadow_percent = 12.5"), "{out}");
        let table: toml::Table = toml::from_str(&out).unwrap();
        let canary: crate::route::file::CanarySpec = table["routes"]["ACCTINQ"]["canary"].clone().try_into().unwrap();
        assert_eq!(canary.percent, 10.0, "an integer reads as the float it was");
    }

    #[test]
    fn a_bom_and_crlf_line_endings_are_kept() {
        let patch = json!({ "target": "accounts", "shadow": "legacy" });
        let windows = format!("\u{feff}{}", TEXT.replace('\n', "\r\n"));
        let out = patch_route(&windows, "ACCTINQ", patch.as_object().unwrap()).unwrap();
        assert!(out.starts_with("\u{feff}# top comment\r\n"), "{out:?}");
        assert!(out.contains("target = \"accounts\"   # who serves it\r\n"), "{out:?}");
        assert!(out.contains("shadow = \"legacy\"\r\n"), "the new line too: {out:?}");
        assert_eq!(out.matches('\n').count(), out.matches("\r\n").count(), "{out:?}");
        // A plain file stays plain.
        let out = patch_route(TEXT, "ACCTINQ", patch.as_object().unwrap()).unwrap();
        assert!(!out.contains('\r') && !out.starts_with('\u{feff}'), "{out:?}");
    }

    #[test]
    fn patch_creates_routes_and_refuses_unknown_keys() {
        let out = patch_route(TEXT, "XFER", json!({ "target": "legacy" }).as_object().unwrap()).unwrap();
        assert!(out.contains("[routes.XFER]\ntarget = \"legacy\""), "{out}");
        assert!(patch_route(TEXT, "XFER", json!({ "targt": "x" }).as_object().unwrap()).unwrap_err().contains("targt"));
        assert!(patch_route(TEXT, "../x", json!({}).as_object().unwrap()).is_err());
    }
}
