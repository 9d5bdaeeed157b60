//! Decode → JSON text for a layout that does not move: a record without `DEPENDING ON`
//! compiled once more into a flat list of fields, each with its absolute offset and the JSON
//! text that comes before its value (commas, braces, brackets, its key), merged.
//!
//! Writing a record is then one loop: that text, the field's value, the next. The walk over
//! the plan ([`super::decode`]) and each container's bookkeeping are paid once per layout, not
//! per record. The literal text is made by the same [`JsonWriter`] the walk uses, so the two
//! write the same JSON; any record the loop cannot take as it is — shorter than the layout,
//! or with a field invalid where that is an error — is handed to the walk, which gives the
//! same text or the same [`DecodeError`] it always did.

use super::decode::{leaf_value, Leafish, Scratch, Sink};
use super::digits::{decimal_text, TEXT_ROOM};
use super::json::JsonWriter;
use super::plan::{LeafKind, Op, Plan};
use super::DecodeError;

/// Most fields a flat layout holds (tables unrolled; about 32 bytes each, and their keys' text);
/// a larger layout is left to the walk.
pub const MAX_FLAT_FIELDS: usize = 1 << 14;

/// Most bytes of literal JSON text a flat layout keeps (keys of unrolled tables, whose elements
/// may hold only FILLER and so no field); a larger layout is left to the walk.
pub const MAX_FLAT_TEXT: usize = 1 << 20;

/// A layout without `DEPENDING ON`, flattened for decode → JSON text.
#[derive(Clone, Debug)]
pub struct FlatJson {
    /// All literal JSON text, one piece per field and the tail, back to back.
    text: Box<str>,
    /// The fields in record order.
    fields: Box<[Field]>,
    /// Where the text after the last field starts in `text`.
    tail: usize,
    /// Bytes a record needs for every field to be read (and for the walk to find it whole).
    needs: usize,
}

#[derive(Clone, Copy, Debug)]
struct Field {
    /// End of this field's literal text in `FlatJson::text` (it starts where the previous
    /// field's ends).
    text_end: u32,
    /// Offset in the record.
    at: u32,
    /// Length in bytes.
    len: u32,
    kind: LeafKind,
    /// Invalid bytes give `null` (a REDEFINES view), not an error.
    in_view: bool,
}

impl FlatJson {
    /// Flattens `plan`, or `None` when its layout moves (`DEPENDING ON`) or would unroll into
    /// more than [`MAX_FLAT_FIELDS`] fields or [`MAX_FLAT_TEXT`] bytes of literal text.
    pub fn compile(plan: &Plan) -> Option<FlatJson> {
        if plan.counters > 0 {
            return None;
        }
        let mut text = String::new();
        let mut fields = Vec::new();
        let mut writer = JsonWriter::new(&mut text);
        writer.begin_object(None);
        flatten(&plan.ops, 0, &mut writer, &mut fields)?;
        writer.end_object();
        let tail = fields.last().map_or(0, |f: &Field| f.text_end as usize);
        let needs = fields.iter().map(|f| (f.at + f.len) as usize).max().unwrap_or(0).max(plan.max_size);
        Some(FlatJson { text: text.into_boxed_str(), fields: fields.into_boxed_slice(), tail, needs })
    }

    /// Bytes of JSON text a record usually needs: the literal text and half as much again as
    /// the record (a Latin-1 letter is two bytes of UTF-8; padding is trimmed).
    pub fn size_hint(&self) -> usize {
        self.text.len() + self.needs + self.needs / 2
    }

    /// Appends the record at the start of `bytes` to `out` as JSON text, the same text as the
    /// walk writes; returns the record's length. `plan` is the one this was compiled from (or
    /// a clone of it with other options: lenient decoding is read from it).
    ///
    /// Errors: the walk's [`DecodeError`] for the record, when it has one.
    pub fn decode(
        &self,
        plan: &Plan,
        bytes: &[u8],
        out: &mut String,
        scratch: &mut Scratch,
    ) -> Result<usize, DecodeError> {
        let start = out.len();
        if bytes.len() >= self.needs && self.write(plan, bytes, out, scratch) {
            return Ok(plan.max_size);
        }
        out.truncate(start);
        plan.decode(bytes, &mut JsonWriter::new(out), scratch)
    }

    /// One pass over the fields; false at the first field whose error is the record's.
    fn write(&self, plan: &Plan, bytes: &[u8], out: &mut String, scratch: &mut Scratch) -> bool {
        let cp = plan.options.codepage;
        let lenient = plan.options.lenient;
        out.reserve(self.size_hint());
        let mut writer = JsonWriter::new(out);
        let mut from = 0;
        let mut room = [0u8; TEXT_ROOM];
        for f in self.fields.iter() {
            let to = f.text_end as usize;
            writer.raw(&self.text[from..to]);
            from = to;
            let field = &bytes[f.at as usize..(f.at + f.len) as usize];
            if matches!(f.kind, LeafKind::Zoned { .. } | LeafKind::Packed { .. }) {
                if let Some(text) = decimal_text(f.kind, field, cp, &mut room) {
                    writer.raw(text);
                    continue;
                }
            }
            if leaf_value(f.kind, field, cp, &mut writer, None, &mut scratch.text).is_err() {
                if !(f.in_view || lenient) {
                    return false;
                }
                writer.null(None);
            }
        }
        writer.raw(&self.text[self.tail..]);
        true
    }
}

/// Flattens `ops` whose offsets are from `base`, as [`super::decode`]'s walk visits them with
/// nothing sliding: every REDEFINES alternative at its own offset, tables at their largest.
fn flatten(ops: &[Op], base: u32, writer: &mut JsonWriter, fields: &mut Vec<Field>) -> Option<()> {
    let mut i = 0;
    while i < ops.len() {
        if writer.len() > MAX_FLAT_TEXT {
            return None;
        }
        let op = &ops[i];
        let next = i + 1 + super::decode::body_len(op);
        let body = &ops[i + 1..next];
        match op {
            Op::Leaf { leaf, .. } => {
                writer.member(Some(&Leafish { name: &leaf.name, json_key: &leaf.json_key }));
                push(writer, fields, base + leaf.offset, leaf)?;
            }
            Op::Group { name, json_key, .. } => {
                writer.begin_object(Some(&Leafish { name, json_key }));
                flatten(body, base, writer, fields)?;
                writer.end_object();
            }
            Op::Lifted { .. } => flatten(body, base, writer, fields)?,
            Op::Array { name, json_key, offset, stride, max, counter: None, elements_are_objects, .. } => {
                writer.begin_array(&Leafish { name, json_key }, *max as usize);
                for index in 0..*max {
                    if writer.len() > MAX_FLAT_TEXT {
                        return None;
                    }
                    let cursor = base + offset + index * stride;
                    if *elements_are_objects {
                        writer.begin_object(None);
                        flatten(body, cursor, writer, fields)?;
                        writer.end_object();
                    } else if let Some(Op::Leaf { leaf, .. }) = body.first() {
                        writer.member(None);
                        push(writer, fields, cursor + leaf.offset, leaf)?;
                    }
                }
                writer.end_array();
            }
            // A moving layout is never flattened.
            Op::Array { .. } | Op::Skip { .. } => return None,
            Op::Fill { .. } => {}
        }
        i = next;
    }
    Some(())
}

/// Records a field whose value goes where `writer`'s text now ends.
fn push(writer: &JsonWriter, fields: &mut Vec<Field>, at: u32, leaf: &super::plan::Leaf) -> Option<()> {
    if fields.len() >= MAX_FLAT_FIELDS {
        return None;
    }
    let text_end = u32::try_from(writer.len()).ok()?;
    fields.push(Field { text_end, at, len: leaf.len, kind: leaf.kind, in_view: leaf.in_view });
    Some(())
}

#[cfg(test)]
mod tests;
