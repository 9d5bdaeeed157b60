//! What the plan does not carry but a contract should say: each elementary field's picture as
//! written, its usage and its level-88 conditions, found by the path the codec gives the field
//! (`TXN-ROW[].TXN-AMT`).

use crate::copybook::{unnamed_table_key, Condition, ConditionValue, Figurative, Item, ItemKind, Literal, Record};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The copybook facts of one record's elementary fields, by the codec's field path.
#[derive(Default)]
pub struct Annotations<'r> {
    fields: HashMap<String, &'r Item>,
}

impl<'r> Annotations<'r> {
    /// The facts of `record`'s named elementary fields, keyed as the codec's plan keys them:
    /// named groups joined by `.`, `[]` after a table, FILLER groups left out, unnamed tables
    /// holding named fields as `FILLER-n` in source order.
    pub fn of(record: &'r Record) -> Self {
        let mut a = Annotations::default();
        let mut unnamed = 0;
        a.walk(&record.root, "", &mut unnamed);
        a
    }

    fn walk(&mut self, item: &'r Item, path: &str, unnamed: &mut usize) {
        let join = |name: &str| if path.is_empty() { name.to_string() } else { format!("{path}.{name}") };
        if item.occurs.is_some() {
            let key = match item.name.as_deref() {
                Some(n) => n.to_string(),
                None if item.has_named_subordinate() => {
                    *unnamed += 1;
                    unnamed_table_key(*unnamed)
                }
                None => return,
            };
            let element = format!("{}[]", join(&key));
            match &item.kind {
                ItemKind::Elementary(_) => {
                    self.fields.insert(element, item);
                }
                ItemKind::Group(children) => children.iter().for_each(|c| self.walk(c, &element, unnamed)),
            }
            return;
        }
        match (&item.kind, item.name.as_deref()) {
            (ItemKind::Group(children), Some(name)) if item.level != 1 && item.level != 77 => {
                let inner = join(name);
                children.iter().for_each(|c| self.walk(c, &inner, unnamed));
            }
            (ItemKind::Group(children), _) => children.iter().for_each(|c| self.walk(c, path, unnamed)),
            (ItemKind::Elementary(_), Some(name)) => {
                self.fields.insert(join(name), item);
            }
            (ItemKind::Elementary(_), None) => {}
        }
    }

    /// The item at the codec's field path `path`, if the record has it.
    pub fn item(&self, path: &str) -> Option<&'r Item> {
        self.fields.get(path).copied()
    }
}

/// A level-88 value as the JSON of its field shows it: text without trailing spaces (as decode
/// writes it), a number as a number; `None` for a value the field cannot show (`HIGH-VALUES`).
pub fn literal_json(literal: &Literal, numeric: bool) -> Option<Value> {
    match literal {
        Literal::Text(s) if numeric => s.trim().parse().ok().map(Value::Number),
        Literal::Text(s) => Some(Value::String(s.trim_end_matches(' ').to_string())),
        Literal::Number(n) if numeric => n.trim_start_matches('+').parse().ok().map(Value::Number),
        Literal::Number(n) => Some(Value::String(n.clone())),
        Literal::Figurative(Figurative::Spaces) if !numeric => Some(Value::String(String::new())),
        Literal::Figurative(Figurative::Zeros) if numeric => Some(Value::Number(0.into())),
        _ => None,
    }
}

/// `x-cobol-88`: each condition's name → its value, its values, or `{"from", "thru"}`.
/// Also returns the single values of all conditions when every value is a single one that the
/// field can show (for an `enum`).
pub fn conditions_json(conditions: &[Condition], numeric: bool) -> (Value, Option<Vec<Value>>) {
    let mut map = Map::new();
    let mut singles = Some(Vec::new());
    for c in conditions {
        let values: Vec<Value> = c
            .values
            .iter()
            .map(|v| match v {
                ConditionValue::Single(l) => {
                    let json = literal_json(l, numeric);
                    match (&json, singles.as_mut()) {
                        (Some(j), Some(s)) if !s.contains(j) => s.push(j.clone()),
                        (Some(_), _) => {}
                        (None, _) => singles = None,
                    }
                    json.unwrap_or(Value::Null)
                }
                ConditionValue::Range(a, b) => {
                    singles = None;
                    let mut range = Map::new();
                    range.insert("from".into(), literal_json(a, numeric).unwrap_or(Value::Null));
                    range.insert("thru".into(), literal_json(b, numeric).unwrap_or(Value::Null));
                    Value::Object(range)
                }
            })
            .collect();
        let value =
            if values.len() == 1 { values.into_iter().next().unwrap_or(Value::Null) } else { Value::Array(values) };
        map.insert(c.name.clone(), value);
    }
    (Value::Object(map), singles)
}
