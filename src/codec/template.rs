//! A blank JSON object for a record: every field present, text empty, numbers zero, tables at
//! their minimum size. A starting point for building messages (`ficus send`) and for docs.

use super::decode::body_len;
use super::plan::{LeafKind, Op, Plan};
use serde_json::{Map, Value};

impl Plan {
    /// The record's blank JSON object.
    pub fn blank_json(&self) -> Value {
        Value::Object(blank_range(&self.ops))
    }
}

fn blank_leaf(kind: LeafKind) -> Value {
    match kind {
        LeafKind::Text { .. } | LeafKind::National | LeafKind::Dbcs => Value::String(String::new()),
        _ => Value::from(0),
    }
}

fn blank_range(ops: &[Op]) -> Map<String, Value> {
    let mut map = Map::new();
    let mut i = 0;
    while i < ops.len() {
        let op = &ops[i];
        let next = i + 1 + body_len(op);
        let body = &ops[i + 1..next];
        match op {
            Op::Leaf { leaf, alt }
                if alt.is_none_or(|_| !map.contains_key(&*leaf.name) && super::encode::is_first_of_set(ops, i)) =>
            {
                map.insert(leaf.name.to_string(), blank_leaf(leaf.kind));
            }
            Op::Group { name, alt, .. } if alt.is_none() || super::encode::is_first_of_set(ops, i) => {
                map.insert(name.to_string(), Value::Object(blank_range(body)));
            }
            Op::Array { name, min, max, counter, elements_are_objects, alt, .. }
                if alt.is_none() || super::encode::is_first_of_set(ops, i) =>
            {
                let count = if counter.is_some() { *min } else { *max } as usize;
                let element = if *elements_are_objects {
                    Value::Object(blank_range(body))
                } else {
                    body.first().map_or(Value::Null, |op| match op {
                        Op::Leaf { leaf, .. } => blank_leaf(leaf.kind),
                        _ => Value::Null,
                    })
                };
                map.insert(name.to_string(), Value::Array(vec![element; count]));
            }
            Op::Lifted { alt, .. } if alt.is_none() || super::encode::is_first_of_set(ops, i) => {
                for (k, v) in blank_range(body) {
                    map.entry(k).or_insert(v);
                }
            }
            _ => {}
        }
        i = next;
    }
    map
}
