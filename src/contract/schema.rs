//! The JSON Schema (2020-12) of one record, walked from its compiled plan: see the module
//! above for the rules and the `x-` extensions.

use super::annotate::{conditions_json, Annotations};
use super::numbers::{number, picture_max, step, storage_range};
use crate::codec::charset::CodePage;
use crate::codec::decode::body_len;
use crate::codec::plan::{Leaf, LeafKind, Op, Plan};
use crate::codec::zoned::SignPosition;
use crate::copybook::{Category, ItemKind, Record};
use serde_json::{json, Map, Value};

/// The dialect `ficus schema` declares (OpenAPI 3.1's schema objects are this dialect).
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// Which side of the codec the JSON is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// The JSON ficus writes when it decodes the record (what a service receives).
    Decoded,
    /// The JSON ficus accepts to encode the record (what a service must answer).
    Encoded,
}

/// Choices a contract's reader may make.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Level-88 values become the field's `enum` (by default they are only `x-cobol-88`: COBOL
    /// and ficus accept any value that fits the picture).
    pub enum_88: bool,
}

/// The schema of `plan`'s record in `direction`; `record` (the copybook's) adds pictures,
/// usages and level-88 conditions.
pub fn record_schema(plan: &Plan, record: Option<&Record>, direction: Direction, options: Options) -> Value {
    let notes = record.map(Annotations::of).unwrap_or_default();
    let g = Gen { plan, notes, direction, options };
    // A level-01/77 elementary record is one field: its value, not an object.
    if let [Op::Leaf { leaf, .. }] = plan.ops.as_slice() {
        if record.is_some_and(|r| matches!(r.root.kind, ItemKind::Elementary(_))) {
            return g.leaf(leaf);
        }
    }
    g.object(&plan.ops)
}

/// `schema` as a document of its own: the dialect, a title and a description.
pub fn standalone(mut schema: Value, title: &str, description: &str) -> Value {
    let mut out = Map::new();
    out.insert("$schema".into(), DIALECT.into());
    out.insert("title".into(), title.into());
    out.insert("description".into(), description.into());
    if let Value::Object(map) = &mut schema {
        out.append(map);
    }
    Value::Object(out)
}

struct Gen<'a> {
    plan: &'a Plan,
    notes: Annotations<'a>,
    direction: Direction,
    options: Options,
}

/// An object being built: its properties, the keys always required, and its REDEFINES sets
/// (each view: its keys, in order).
#[derive(Default)]
struct Obj {
    props: Map<String, Value>,
    required: Vec<String>,
    sets: Vec<(u16, Vec<Vec<String>>)>,
}

impl Gen<'_> {
    fn decoded(&self) -> bool {
        self.direction == Direction::Decoded
    }

    fn object(&self, ops: &[Op]) -> Value {
        let mut o = Obj::default();
        self.members(ops, &mut o);
        self.finish(o)
    }

    fn members(&self, ops: &[Op], o: &mut Obj) {
        let mut i = 0;
        while i < ops.len() {
            let op = &ops[i];
            let next = i + 1 + body_len(op);
            let body = &ops[i + 1..next];
            let (keys, alt) = match op {
                Op::Leaf { leaf, alt } => {
                    o.props.insert(leaf.name.to_string(), self.leaf(leaf));
                    (vec![leaf.name.to_string()], *alt)
                }
                Op::Group { name, alt, .. } => {
                    o.props.insert(name.to_string(), self.object(body));
                    (vec![name.to_string()], *alt)
                }
                Op::Array { name, alt, .. } => {
                    o.props.insert(name.to_string(), self.array(op, body));
                    (vec![name.to_string()], *alt)
                }
                // A FILLER view: its fields belong to this object; present when any of them is.
                Op::Lifted { alt, .. } => {
                    let mut inner = Obj::default();
                    self.members(body, &mut inner);
                    let keys: Vec<String> = inner.props.keys().cloned().collect();
                    o.props.append(&mut inner.props);
                    o.sets.append(&mut inner.sets);
                    (keys, *alt)
                }
                Op::Fill { .. } | Op::Skip { .. } => (Vec::new(), None),
            };
            match alt {
                Some(a) => match o.sets.iter_mut().find(|(set, _)| *set == a.set) {
                    Some((_, views)) => views.push(keys),
                    None => o.sets.push((a.set, vec![keys])),
                },
                None => o.required.extend(keys),
            }
            i = next;
        }
    }

    fn finish(&self, o: Obj) -> Value {
        let mut out = Map::new();
        out.insert("type".into(), "object".into());
        let required: Vec<String> = if self.decoded() {
            o.props.keys().cloned().collect()
        } else if self.plan.options.fill_missing {
            Vec::new()
        } else {
            o.required
        };
        out.insert("properties".into(), Value::Object(o.props));
        if !required.is_empty() {
            out.insert("required".into(), json!(required));
        }
        if self.decoded() {
            out.insert("additionalProperties".into(), false.into());
        }
        if !o.sets.is_empty() {
            let views: Vec<&Vec<Vec<String>>> = o.sets.iter().map(|(_, v)| v).collect();
            out.insert("x-cobol-redefines".into(), json!(views));
        }
        if !self.decoded() && !o.sets.is_empty() {
            let all: Vec<Value> = o.sets.iter().map(|(_, views)| self.one_of(views)).collect();
            out.insert("allOf".into(), Value::Array(all));
        }
        Value::Object(out)
    }

    /// The views of one REDEFINES set as encode reads them: the first present is written.
    fn one_of(&self, views: &[Vec<String>]) -> Value {
        let present = |keys: &Vec<String>| match keys.as_slice() {
            [one] => json!({ "required": [one] }),
            many => json!({ "anyOf": many.iter().map(|k| json!({ "required": [k] })).collect::<Vec<_>>() }),
        };
        let mut branches: Vec<Value> = Vec::new();
        for (k, view) in views.iter().enumerate() {
            let mut branch = present(view);
            if k > 0 {
                let earlier: Vec<Value> = views[..k].iter().map(present).collect();
                branch["not"] = json!({ "anyOf": earlier });
            }
            branches.push(branch);
        }
        if self.plan.options.fill_missing {
            // No view given: the first is written from its VALUE clauses.
            branches.push(json!({ "not": { "anyOf": views.iter().map(present).collect::<Vec<_>>() } }));
        }
        json!({ "oneOf": branches })
    }

    fn array(&self, op: &Op, body: &[Op]) -> Value {
        let Op::Array { min, max, counter, elements_are_objects, .. } = op else { return json!({}) };
        let items = match body.first() {
            Some(Op::Leaf { leaf, .. }) if !elements_are_objects => self.leaf(leaf),
            _ => self.object(body),
        };
        let mut out = Map::new();
        out.insert("type".into(), "array".into());
        out.insert("items".into(), items);
        out.insert("minItems".into(), (if counter.is_some() { *min } else { *max }).into());
        out.insert("maxItems".into(), (*max).into());
        if let Some(slot) = counter {
            let name = self.plan.counter_names.get(*slot as usize).cloned().unwrap_or_default();
            out.insert("x-cobol-depending-on".into(), name.into());
        }
        Value::Object(out)
    }

    fn leaf(&self, leaf: &Leaf) -> Value {
        let mut out = Map::new();
        let (ty, numeric) = match leaf.kind {
            LeafKind::Text { .. } => {
                out.insert("maxLength".into(), leaf.len.into());
                let cp = self.plan.options.codepage;
                if matches!(cp, CodePage::Cp949 | CodePage::Cp933 | CodePage::Cp1364) {
                    out.insert("x-ficus-dbcs-mixed".into(), true.into());
                }
                ("string", false)
            }
            LeafKind::National | LeafKind::Dbcs => {
                out.insert("maxLength".into(), (leaf.len / 2).into());
                let ext = if leaf.kind == LeafKind::National { "x-cobol-national" } else { "x-cobol-dbcs" };
                out.insert(ext.into(), true.into());
                ("string", false)
            }
            LeafKind::Float(format) => {
                let max = super::numbers::float_max(format, leaf.len);
                out.insert("minimum".into(), json!(-max));
                out.insert("maximum".into(), json!(max));
                ("number", true)
            }
            LeafKind::Zoned { scale, digits, sign, .. } => {
                self.bounds(&mut out, (digits, scale, sign != SignPosition::None), None);
                (if scale > 0 { "number" } else { "integer" }, true)
            }
            LeafKind::Packed { scale, digits, signed } => {
                self.bounds(&mut out, (digits, scale, signed), None);
                (if scale > 0 { "number" } else { "integer" }, true)
            }
            LeafKind::Binary { scale, digits, signed, native, .. } => {
                let storage = native || digits == 0 || self.decoded() || self.plan.options.trunc_bin;
                self.bounds(&mut out, (digits, scale, signed), storage.then_some(leaf.len));
                (if scale > 0 { "number" } else { "integer" }, true)
            }
        };
        // A REDEFINES view's field whose bytes do not fit its picture decodes as null.
        let nullable = self.decoded() && leaf.in_view;
        out.insert("type".into(), if nullable { json!([ty, "null"]) } else { json!(ty) });
        out.insert("x-cobol-bytes".into(), leaf.len.into());
        if let Some(item) = self.notes.item(&leaf.path) {
            if let ItemKind::Elementary(e) = &item.kind {
                if !matches!(e.picture.category, Category::None) {
                    out.insert("x-cobol-picture".into(), e.picture.source.clone().into());
                }
                out.insert("x-cobol-usage".into(), e.usage.to_string().into());
            }
            if !item.conditions.is_empty() {
                let (names, singles) = conditions_json(&item.conditions, numeric);
                out.insert("x-cobol-88".into(), names);
                if let (true, Some(mut values)) = (self.options.enum_88, singles) {
                    if nullable {
                        values.push(Value::Null);
                    }
                    out.insert("enum".into(), Value::Array(values));
                }
            }
        }
        Value::Object(out)
    }

    /// `multipleOf`, `minimum`, `maximum` of a number of `digits` at `scale`; `storage`: the
    /// bytes of a binary field that may hold its storage's whole range.
    fn bounds(&self, out: &mut Map<String, Value>, (digits, scale, signed): (u32, i32, bool), storage: Option<u32>) {
        if scale != 0 {
            out.insert("multipleOf".into(), number(&step(scale)));
        }
        let (min, max) = match storage {
            Some(len) => storage_range(len, signed, scale),
            None => {
                let max = picture_max(digits, scale);
                (if signed { format!("-{max}") } else { "0".into() }, max)
            }
        };
        out.insert("minimum".into(), number(&min));
        out.insert("maximum".into(), number(&max));
    }
}
