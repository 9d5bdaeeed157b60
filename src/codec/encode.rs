//! Encode: walks a [`Plan`] over a JSON object and writes the record's bytes.
//!
//! Every named field must be present and fit its picture: a missing field, a wrong type, too
//! many digits or decimals is an error naming the field — never a silently wrong record.
//! FILLER is written as its VALUE (see [`super::value`]), or spaces. For REDEFINES, the first
//! view present in the JSON is written. For `DEPENDING ON` tables the counter must equal the
//! array's length.
//!
//! Two options relax this, each only when asked for: `fill_missing` writes a field the JSON
//! leaves out as its VALUE (or INITIALIZE's default), a group or table left out field by field,
//! and the first view of a REDEFINES set none of whose views is present; `truncate_text` cuts
//! text that does not fit at its last whole character.

use super::charset::{CharsetError, Overflow};
use super::decimal::Decimal;
use super::decode::{body_len, decode_number, fill_path, op_alt, FieldError};
use super::float::encode_float;
use super::json_read::{cut_40, JsonRead, Scalar};
pub(crate) use super::number::encode_number;
use super::plan::{Leaf, LeafKind, Op, Plan};
use super::NumError;
use serde_json::Value;

/// Why a JSON value could not be encoded into a record.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A field of the copybook is missing from the JSON.
    #[error("{path}: missing")]
    Missing {
        /// Field path.
        path: String,
    },
    /// A JSON value of the wrong type.
    #[error("{path}: expected {expected}, found {found}")]
    Type {
        /// Field path.
        path: String,
        /// What the copybook needs.
        expected: &'static str,
        /// What the JSON has (abridged).
        found: String,
    },
    /// A value that does not fit its field.
    #[error("{path}: {cause}")]
    Field {
        /// Field path.
        path: String,
        /// What was wrong.
        cause: FieldError,
    },
    /// A table's length disagrees with its counter or bounds.
    #[error("{path}: {reason}")]
    Count {
        /// The table's path.
        path: String,
        /// Elements in the JSON array.
        len: usize,
        /// What the count should be.
        reason: String,
    },
}

/// The plan walked over one JSON value. An object given as `None` is an empty one (a group
/// or table element `fill_missing` writes field by field).
struct Walk<'p, J> {
    plan: &'p Plan,
    /// The record's object (where a missing counter finds its table's array).
    root: J,
    out: &'p mut Vec<u8>,
    counters: Vec<Option<u128>>,
    indexes: Vec<usize>,
}

impl Plan {
    /// Encodes the record object `value` into `out` (cleared first).
    pub fn encode(&self, value: &Value, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        self.encode_from(value, out)
    }

    /// Encodes the record object `value` — any [`JsonRead`], e.g. a borrowed
    /// [`super::json_doc::Doc`] — into `out` (cleared first). Errors as [`Plan::encode`].
    pub fn encode_from<'v, J: JsonRead<'v>>(&self, value: J, out: &mut Vec<u8>) -> Result<(), EncodeError> {
        out.clear();
        out.resize(self.max_size, self.options.codepage.space());
        if !value.is_object() {
            return Err(EncodeError::Type { path: self.record.clone(), expected: "an object", found: value.abridge() });
        }
        let mut walk = Walk { plan: self, root: value, out, counters: vec![None; self.counters], indexes: Vec::new() };
        let shift = walk.range(&self.ops, Some(value), 0, 0)?;
        let len = (self.max_size as isize + shift).max(0) as usize;
        out.truncate(len);
        Ok(())
    }
}

/// A scalar as JSON text, abridged (for a value the walk made itself, e.g. a counter).
fn abridge_scalar(value: Scalar<'_>) -> String {
    cut_40(match value {
        Scalar::Null => "null".into(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Number(n) => n.to_string(),
        Scalar::String(s) => Value::String(s.to_string()).to_string(),
        Scalar::Object => "{}".into(),
        Scalar::Array => "[]".into(),
    })
}

fn op_name(op: &Op) -> &str {
    match op {
        Op::Leaf { leaf, .. } => &leaf.name,
        Op::Group { name, .. } | Op::Array { name, .. } => name,
        Op::Fill { .. } | Op::Lifted { .. } | Op::Skip { .. } => "",
    }
}

/// True if `obj` gives a value for `ops[i]`: its key, or for a FILLER view any of its fields.
fn op_present<'v, J: JsonRead<'v>>(ops: &[Op], i: usize, obj: Option<J>) -> bool {
    match &ops[i] {
        Op::Lifted { body, .. } => {
            let body = &ops[i + 1..i + 1 + *body as usize];
            let mut j = 0;
            while j < body.len() {
                if op_present(body, j, obj) {
                    return true;
                }
                j += 1 + body_len(&body[j]);
            }
            false
        }
        op => obj.is_some_and(|o| o.get(op_name(op)).is_some()),
    }
}

impl<'v, J: JsonRead<'v>> Walk<'_, J> {
    fn path(&self, path: &str) -> String {
        fill_path(path, &self.indexes)
    }

    fn range(&mut self, ops: &[Op], obj: Option<J>, base: usize, mut shift: isize) -> Result<isize, EncodeError> {
        let mut i = 0;
        // (set, shift at the set's start, a view has been written)
        let mut current_set: Option<(u16, isize, bool)> = None;
        while i < ops.len() {
            let op = &ops[i];
            let next = i + 1 + body_len(op);
            let body = &ops[i + 1..next];
            let mut start = shift;
            if let Some(alt) = op_alt(op) {
                let (set_start, written) = match current_set {
                    Some((set, at, written)) if set == alt.set => (at, written),
                    _ => (shift, false),
                };
                current_set = Some((alt.set, set_start, written));
                start = set_start;
                // No view of the set is in the JSON: with fill_missing the first one is written.
                let fill_set = !written
                    && self.plan.options.fill_missing
                    && is_first_of_set(ops, i)
                    && !set_present(ops, i, alt.set, obj);
                if !fill_set && (written || !op_present(ops, i, obj)) {
                    if alt.last && !written {
                        let first =
                            ops[..i].iter().rev().find(|o| op_alt(o).map(|a| a.set) == Some(alt.set)).unwrap_or(op);
                        return Err(EncodeError::Missing { path: self.path_of_op(first) });
                    }
                    i = next;
                    continue;
                }
                current_set = Some((alt.set, set_start, true));
            } else {
                current_set = None;
            }
            shift = match op {
                Op::Leaf { leaf, .. } => {
                    match obj.and_then(|o| o.get(&leaf.name)) {
                        Some(value) => self.leaf(leaf, value.scalar(), Some(value), base, start)?,
                        None => self.missing_leaf(leaf, base, start)?,
                    }
                    start
                }
                Op::Group { name, .. } => match obj.and_then(|o| o.get(name)) {
                    Some(inner) if inner.is_object() => self.range(body, Some(inner), base, start)?,
                    Some(other) => return Err(self.type_error(op, "an object", other)),
                    None if self.plan.options.fill_missing => self.range(body, None, base, start)?,
                    None => return Err(EncodeError::Missing { path: self.path_of_op(op) }),
                },
                Op::Lifted { .. } => self.range(body, obj, base, start)?,
                Op::Array { .. } => self.array(op, body, obj, base, start)?,
                Op::Skip { path, offset, stride, min, max, counter, bytes, .. } => {
                    let count = match self.counters.get(*counter as usize).copied().flatten() {
                        Some(c) if c >= *min as u128 && c <= *max as u128 => c as usize,
                        other => {
                            let field = self.plan.counter_names.get(*counter as usize).map_or("", String::as_str);
                            let found = other.map_or_else(|| "no whole number ≥ 0".to_string(), |c| c.to_string());
                            return Err(EncodeError::Count {
                                path: self.path(path),
                                len: 0,
                                reason: format!(
                                    "counter {field} = {found}, outside the table's {min} to {max} elements \
                                     (it must precede the table in the record)"
                                ),
                            });
                        }
                    };
                    let at = (base as isize + *offset as isize + start) as usize;
                    for k in 0..count {
                        let from = at + k * *stride as usize;
                        if let Some(dst) = self.out.get_mut(from..from + bytes.len()) {
                            dst.copy_from_slice(bytes);
                        }
                    }
                    start + (count as isize - *max as isize) * *stride as isize
                }
                Op::Fill { offset, bytes, .. } => {
                    let at = (base as isize + *offset as isize + start) as usize;
                    if let Some(dst) = self.out.get_mut(at..at + bytes.len()) {
                        dst.copy_from_slice(bytes);
                    }
                    start
                }
            };
            i = next;
        }
        Ok(shift)
    }

    /// A field the JSON leaves out: its fill bytes when the codec fills missing fields, else
    /// an error naming it.
    fn missing_leaf(&mut self, leaf: &Leaf, base: usize, shift: isize) -> Result<(), EncodeError> {
        if !self.plan.options.fill_missing || leaf.fill.len() != leaf.len as usize {
            return Err(EncodeError::Missing { path: self.path(&leaf.path) });
        }
        // A counter left out counts the elements of its table's array, when the JSON has it.
        if let Some(len) = leaf.counter_slot.and_then(|slot| self.table_len(slot, leaf)) {
            return self.leaf(leaf, Scalar::Number(&len.to_string()), None, base, shift);
        }
        let at = (base as isize + leaf.offset as isize + shift) as usize;
        if let Some(dst) = self.out.get_mut(at..at + leaf.fill.len()) {
            dst.copy_from_slice(&leaf.fill);
        }
        if let Some(slot) = leaf.counter_slot {
            let value = decode_number(leaf.kind, &leaf.fill, self.plan.options.codepage).ok();
            if let Some(c) = self.counters.get_mut(slot as usize) {
                *c = value.filter(|(negative, m, _)| !negative || *m == 0).map(|(_, m, _)| m);
            }
        }
        Ok(())
    }

    /// The length of the JSON array of the table counter `slot` serves, if the counter is
    /// outside any table and the JSON has that array.
    fn table_len(&self, slot: u8, leaf: &Leaf) -> Option<usize> {
        if leaf.path.contains("[]") {
            return None;
        }
        let keys = self.plan.counter_tables.get(slot as usize)?.as_ref()?;
        let (last, groups) = keys.split_last()?;
        let mut obj = self.root;
        for key in groups {
            obj = obj.get(key).filter(|o| o.is_object())?;
        }
        let table = obj.get(last)?;
        (table.scalar() == Scalar::Array).then(|| table.array_len())
    }

    fn path_of_op(&self, op: &Op) -> String {
        match op {
            Op::Leaf { leaf, .. } => self.path(&leaf.path),
            _ => op_name(op).to_string(),
        }
    }

    fn type_error(&self, op: &Op, expected: &'static str, found: J) -> EncodeError {
        EncodeError::Type { path: self.path_of_op(op), expected, found: found.abridge() }
    }

    fn array(&mut self, op: &Op, body: &[Op], obj: Option<J>, base: usize, shift: isize) -> Result<isize, EncodeError> {
        let Op::Array { name, offset, stride, min, max, counter, elements_are_objects, .. } = op else {
            return Ok(shift);
        };
        // The JSON array, or (`None`) as many blank elements as `len` says.
        let (items, len) = match obj.and_then(|o| o.get(name)) {
            Some(items) if items.scalar() == Scalar::Array => (Some(items), items.array_len()),
            Some(other) => return Err(self.type_error(op, "an array", other)),
            None if self.plan.options.fill_missing => {
                // As many elements as the table holds: all of a fixed one, what the counter
                // (written before it) says for DEPENDING ON, else its minimum.
                let count = match counter {
                    None => *max as usize,
                    Some(slot) => match self.counters.get(*slot as usize).copied().flatten() {
                        Some(c) if c <= *max as u128 => c as usize,
                        _ => *min as usize,
                    },
                };
                (None, count)
            }
            None => return Err(EncodeError::Missing { path: name.to_string() }),
        };
        let count_error = |reason: String| EncodeError::Count { path: name.to_string(), len, reason };
        match counter {
            Some(slot) => {
                let field = self.plan.counter_names.get(*slot as usize).map_or("", String::as_str);
                match self.counters.get(*slot as usize).copied().flatten() {
                    Some(c) if c < *min as u128 || c > *max as u128 => {
                        return Err(count_error(format!(
                            "counter {field} = {c}, outside the table's {min} to {max} elements"
                        )))
                    }
                    Some(c) if c != len as u128 => {
                        return Err(count_error(format!(
                            "the JSON array has {len} elements, but counter {field} = {c}"
                        )))
                    }
                    Some(_) => {}
                    None => {
                        return Err(count_error(format!(
                            "counter {field} has no whole number ≥ 0 when the table is written (it must precede \
                             the table in the record); the table holds {min} to {max} elements, the JSON array {len}"
                        )))
                    }
                }
            }
            None if len != *max as usize => {
                return Err(count_error(format!("the JSON array has {len} elements; the table holds exactly {max}")))
            }
            None => {}
        }
        let start = (base as isize + *offset as isize + shift) as usize;
        let mut cursor = start;
        for index in 0..len {
            let item = items.and_then(|a| a.item(index));
            self.indexes.push(index);
            let inner = if *elements_are_objects {
                match item {
                    None => self.range(body, None, cursor, 0)?,
                    Some(inner) if inner.is_object() => self.range(body, Some(inner), cursor, 0)?,
                    Some(other) => return Err(self.type_error(op, "an object", other)),
                }
            } else if let Some(Op::Leaf { leaf, .. }) = body.first() {
                let value = item.map_or(Scalar::Null, |v| v.scalar());
                match value {
                    Scalar::Null if self.plan.options.fill_missing => self.missing_leaf(leaf, cursor, 0)?,
                    _ => self.leaf(leaf, value, item, cursor, 0)?,
                }
                0
            } else {
                0
            };
            self.indexes.pop();
            cursor = (cursor as isize + *stride as isize + inner) as usize;
        }
        Ok(shift + (cursor - start) as isize - *stride as isize * *max as isize)
    }

    /// Writes `value` into `leaf`; `found` is where it came from (for an error's text), `None`
    /// for a value the walk made itself.
    fn leaf(
        &mut self,
        leaf: &Leaf,
        value: Scalar<'_>,
        found: Option<J>,
        base: usize,
        shift: isize,
    ) -> Result<(), EncodeError> {
        let at = (base as isize + leaf.offset as isize + shift) as usize;
        let options = self.plan.options;
        let field_error = |cause: FieldError| EncodeError::Field { path: fill_path(&leaf.path, &self.indexes), cause };
        let type_error = |expected| EncodeError::Type {
            path: fill_path(&leaf.path, &self.indexes),
            expected,
            found: found.map_or_else(|| abridge_scalar(value), |f| f.abridge()),
        };
        let number_text = match value {
            Scalar::Number(n) => Some(n),
            Scalar::String(s) => Some(s.trim()),
            _ => None,
        };
        let mut counter_value = None;
        let Some(dst) = self.out.get_mut(at..at + leaf.len as usize) else {
            return Err(field_error(NumError::Size(leaf.len as usize).into()));
        };
        match leaf.kind {
            LeafKind::Text { justified } => {
                let text = match value {
                    Scalar::String(s) | Scalar::Number(s) => s,
                    Scalar::Bool(true) => "true",
                    Scalar::Bool(false) => "false",
                    _ => return Err(type_error("a string")),
                };
                let overflow = if options.truncate_text { Overflow::Truncate } else { Overflow::Error };
                options.codepage.encode_into(text, dst, overflow).map_err(|e| field_error(e.into()))?;
                if justified {
                    let space = options.codepage.space();
                    let used = dst.iter().rposition(|&b| b != space).map_or(0, |p| p + 1);
                    dst.rotate_right(dst.len() - used);
                }
            }
            LeafKind::National => {
                let Scalar::String(s) = value else {
                    return Err(type_error("a string"));
                };
                let units: Vec<u16> = s.encode_utf16().collect();
                if units.len() * 2 > dst.len() {
                    return Err(field_error(CharsetError::TooLong { needed: units.len() * 2, len: dst.len() }.into()));
                }
                for (pair, unit) in dst.chunks_exact_mut(2).zip(units.iter().copied().chain(std::iter::repeat(0x20))) {
                    pair.copy_from_slice(&unit.to_be_bytes());
                }
            }
            LeafKind::Dbcs => {
                let Scalar::String(s) = value else {
                    return Err(type_error("a string"));
                };
                let mut wrapped = vec![0u8; dst.len() + 2];
                options.codepage.encode_into(s, &mut wrapped, Overflow::Error).map_err(|e| field_error(e.into()))?;
                let body = wrapped.strip_prefix(&[0x0E]).unwrap_or(&[]);
                let run = body.iter().position(|&b| b == 0x0F).unwrap_or(0);
                if !s.is_empty() && run == 0 {
                    return Err(field_error(
                        CharsetError::Unmappable { ch: s.chars().next().unwrap_or(' '), codepage: "DBCS" }.into(),
                    ));
                }
                dst.fill(0x40);
                dst[..run].copy_from_slice(&body[..run]);
            }
            LeafKind::Float(format) => {
                let Some(text) = number_text else {
                    return Err(type_error("a number"));
                };
                encode_float(text, format, dst).map_err(|e| field_error(e.into()))?;
            }
            kind => {
                let Some(text) = number_text else {
                    return Err(type_error("a number"));
                };
                let decimal: Decimal =
                    text.parse().map_err(|_| field_error(NumError::Syntax(text.to_string()).into()))?;
                encode_number(kind, decimal, options, dst).map_err(|e| field_error(e.into()))?;
                // Only a DEPENDING ON counter keeps its value (a rescale that fails makes an error
                // text: not for every amount with decimals).
                counter_value = (leaf.counter_slot.is_some() && (!decimal.negative || decimal.is_zero()))
                    .then(|| decimal.rescale(0).map(|d| d.coefficient).ok())
                    .flatten();
            }
        }
        if let Some(slot) = leaf.counter_slot {
            if let Some(c) = self.counters.get_mut(slot as usize) {
                *c = counter_value;
            }
        }
        Ok(())
    }
}

/// True if `ops[i]` is the first alternative of its REDEFINES set at this level (the one
/// encode prefers).
pub(super) fn is_first_of_set(ops: &[Op], i: usize) -> bool {
    let Some(set) = op_alt(&ops[i]).map(|a| a.set) else { return true };
    let mut j = 0;
    while j < i {
        if op_alt(&ops[j]).map(|a| a.set) == Some(set) {
            return false;
        }
        j += 1 + body_len(&ops[j]);
    }
    true
}

/// True if any alternative of REDEFINES set `set`, from `ops[i]` on, is present in `obj`.
fn set_present<'v, J: JsonRead<'v>>(ops: &[Op], mut i: usize, set: u16, obj: Option<J>) -> bool {
    while i < ops.len() {
        match op_alt(&ops[i]) {
            Some(a) if a.set == set => {
                if op_present(ops, i, obj) {
                    return true;
                }
            }
            _ => return false,
        }
        i += 1 + body_len(&ops[i]);
    }
    false
}
