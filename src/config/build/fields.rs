//! Names in routes.toml that must match something the gateway reads, checked against the
//! layouts they apply to:
//!
//! - a route's `ignore`, `tolerance` and `mask` paths must each match at least one field of the
//!   reply the shadow compares (header and response body, one namespace, as
//!   [`crate::shadow::compare`] walks it). A typo in `mask` would otherwise leave the field it
//!   meant unmasked in every finding and record — a silent privacy fault;
//! - an operation code must be one the header's operation field(s) can hold: as many parts as
//!   fields (joined by `.`), each no wider than its field, printable ASCII (what the header
//!   reader accepts) and encodable in the code page.

use super::Builder;
use crate::codec::charset::{CodePage, Overflow};
use crate::codec::ops::Op;
use crate::codec::Codec;
use crate::header::HeaderLayout;
use crate::route::file::RouteSection;
use crate::shadow::paths::PathPattern;

/// Every path a decoded record can have, as the shadow names them: groups and fields by name,
/// tables as `TABLE`, `TABLE[#]` (their count) and `TABLE[0]` for any element.
pub(super) fn record_paths(codec: &Codec) -> Vec<String> {
    let mut out = Vec::new();
    walk(&codec.plan().ops, "", &mut out);
    out
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

fn walk(ops: &[Op], prefix: &str, out: &mut Vec<String>) {
    let mut i = 0;
    while i < ops.len() {
        match &ops[i] {
            Op::Leaf { leaf, .. } => out.push(join(prefix, &leaf.name)),
            Op::Group { name, body, .. } => {
                let path = join(prefix, name);
                let end = (i + 1 + *body as usize).min(ops.len());
                walk(&ops[i + 1..end], &path, out);
                out.push(path);
                i += *body as usize;
            }
            Op::Array { name, body, elements_are_objects, .. } => {
                let path = join(prefix, name);
                let element = format!("{path}[0]");
                let end = (i + 1 + *body as usize).min(ops.len());
                if *elements_are_objects {
                    walk(&ops[i + 1..end], &element, out);
                }
                out.extend([format!("{path}[#]"), element, path]);
                i += *body as usize;
            }
            _ => {}
        }
        i += 1;
    }
}

/// A written path with its indexes made `[0]`, the index [`record_paths`] stands for any.
fn any_index(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len());
    let mut rest = pattern;
    while let Some(open) = rest.find('[') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let close = rest.find(']').unwrap_or(rest.len());
        let index = &rest[..close];
        out.push_str(if !index.is_empty() && index.bytes().all(|b| b.is_ascii_digit()) { "0" } else { index });
        rest = &rest[close..];
    }
    out.push_str(rest);
    out
}

/// The known path nearest `pattern`, if it is close (a typo, not another name): paths are
/// longer than names, so a quarter of the pattern (at least three) may differ.
fn nearest<'a>(pattern: &str, paths: &'a [String]) -> Option<&'a str> {
    crate::copybook::suggest::suggest_within(pattern, paths.iter().map(String::as_str), 3.max(pattern.len() / 4))
}

impl Builder<'_> {
    /// Reports each `ignore`, `tolerance` and `mask` path of route `r` that matches no field of
    /// the header or of `response` (named `layout`), with the nearest field when there is one.
    pub(super) fn field_paths(
        &mut self,
        r: &RouteSection,
        header: &HeaderLayout,
        (response, layout): (&Codec, &str),
        section: &str,
    ) {
        let mut paths = record_paths(&header.codec);
        paths.extend(record_paths(response));
        let written = r.ignore.iter().map(|p| ("ignore", p)).chain(r.tolerance.keys().map(|p| ("tolerance", p)));
        for (key, path) in written.chain(r.mask.iter().map(|p| ("mask", p))) {
            let pattern = PathPattern::new(&any_index(path));
            if paths.iter().any(|p| pattern.matches(p)) {
                continue;
            }
            let hint = match nearest(path, &paths) {
                Some(near) => format!(" — did you mean {near:?}?"),
                None => String::new(),
            };
            let why = format!(
                "{key} {path:?} names no field of the header or of {layout}{hint} (`*` matches within a name, \
                 `[*]` any index)"
            );
            self.problem(section, Some(key), why);
        }
    }

    /// Reports an operation code that the header's operation field(s) can never hold.
    pub(super) fn operation_code(&mut self, op: &str, header: &HeaderLayout, codepage: CodePage, count: usize) {
        let section = format!("routes.{op}");
        let fields: Vec<_> = header.identity().take(count).collect();
        let names = fields.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join(" + ");
        let never = |why: String| format!("operation {op:?} can never match the header's {names}: {why}");
        if let Some(c) = op.chars().find(|c| !(c.is_ascii_graphic() || *c == ' ')) {
            let why = format!("{c:?} is not printable ASCII, and an operation code is read as printable ASCII");
            return self.problem(&section, None, never(why));
        }
        let parts: Vec<&str> = if fields.len() > 1 { op.split('.').collect() } else { vec![op] };
        if parts.len() != fields.len() {
            let why = format!("{} fields make a code of {} parts joined by \".\"", fields.len(), fields.len());
            return self.problem(&section, None, never(why));
        }
        for (part, field) in parts.iter().zip(&fields) {
            let text = part.trim_end();
            let mut buf = vec![0u8; field.len];
            let why = if text.trim().is_empty() {
                format!("an empty code is never read from {}", field.name)
            } else if text.chars().count() > field.len {
                format!("{text:?} is {} characters, {} holds {}", text.chars().count(), field.name, field.len)
            } else if let Err(e) = codepage.encode_into(text, &mut buf, Overflow::Error) {
                format!("{text:?} does not fit {} in code page {}: {e}", field.name, codepage.name())
            } else {
                continue;
            };
            self.problem(&section, None, never(why));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_indexes_stand_for_any() {
        assert_eq!(any_index("TXN-ROW[3].TXN-TIME"), "TXN-ROW[0].TXN-TIME");
        assert_eq!(any_index("TXN-ROW[*].TXN-TIME"), "TXN-ROW[*].TXN-TIME");
        assert_eq!(any_index("A[#]"), "A[#]");
        assert_eq!(any_index("A[12"), "A[0");
    }

    #[test]
    fn a_typo_is_near_and_another_name_is_not() {
        let paths = vec!["CUST-NAME".to_string(), "BALANCE".to_string()];
        assert_eq!(nearest("CUST-NAM", &paths), Some("CUST-NAME"));
        assert_eq!(nearest("cust_name", &paths), Some("CUST-NAME"));
        assert_eq!(nearest("TXN-ROW", &paths), None);
    }
}
