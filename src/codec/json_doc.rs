//! A JSON document parsed without a tree of owned values: every node sits in one arena and
//! strings and numbers borrow from the text (only a string with escapes, and a number whose
//! exponent serde_json writes otherwise, own their text).
//!
//! The gateway parses a service's reply with it and encodes straight from it
//! ([`super::json_read::JsonRead`]), so a reply costs a handful of allocations instead of one
//! per member. The document is serde_json's: the same grammar, values, depth limit and error
//! texts as `serde_json::from_slice` into a `Value`. jiter's iterator reads a text first
//! (`json_doc/jiter_path.rs`: no allocation per number); any text it does not take as it is —
//! every error among them — is read by serde_json's parser, driven by a visitor that fills the
//! same arena, so errors are serde_json's word for word. Numbers keep their text as serde_json
//! keeps it (built with `arbitrary_precision`: as written, the exponent as `e+`/`e-`). A key
//! given twice keeps its first position and its last value, as `serde_json::Map` does. An
//! object whose first key is one of serde_json's private tokens is read as serde_json's `Value`
//! reads it: a number from its string, or (when `raw_value` is on) the JSON text inside it.

use super::json_read::{cut_40, JsonRead, Scalar};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// The key serde_json gives a number's text under `arbitrary_precision`.
const NUMBER_TOKEN: &str = "$serde_json::private::Number";
/// The key serde_json gives a raw value's text under `raw_value`.
const RAW_TOKEN: &str = "$serde_json::private::RawValue";

/// True if serde_json's `Value` reads an object keyed [`RAW_TOKEN`] as the JSON in its string
/// (the `raw_value` feature, which another crate of the build may turn on).
fn raw_values_are_read() -> bool {
    static READ: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *READ.get_or_init(|| {
        serde_json::from_str::<serde_json::Value>(&format!("{{\"{RAW_TOKEN}\":\"1\"}}")).is_ok_and(|v| v.is_number())
    })
}

#[derive(Clone, Debug)]
enum Node<'a> {
    Null,
    Bool(bool),
    Number(Cow<'a, str>),
    String(Cow<'a, str>),
    /// Members at `first..first + len` of the arena.
    Object {
        first: u32,
        len: u32,
    },
    /// Elements at `first..first + len` of the arena.
    Array {
        first: u32,
        len: u32,
    },
}

/// A parsed JSON text (see the module docs). `'a` is the text's lifetime.
#[derive(Debug, Default)]
pub struct Doc<'a> {
    /// (member key, or "" for elements and the root; node). The root is last.
    nodes: Vec<(Cow<'a, str>, Node<'a>)>,
}

impl<'a> Doc<'a> {
    /// Parses `text` (one JSON value, whitespace around it allowed).
    ///
    /// Errors: serde_json's, for the same inputs `serde_json::from_slice::<Value>` refuses.
    pub fn parse(text: &'a [u8]) -> Result<Doc<'a>, serde_json::Error> {
        match jiter_path::parse(text) {
            Some(doc) => Ok(doc),
            None => Doc::parse_by_serde(text),
        }
    }

    /// [`Doc::parse`] by serde_json's parser: every text the fast path leaves, and each error.
    fn parse_by_serde(text: &'a [u8]) -> Result<Doc<'a>, serde_json::Error> {
        let mut build = Build::new();
        let mut de = serde_json::Deserializer::from_slice(text);
        let root = NodeSeed(&mut build).deserialize(&mut de)?;
        de.end()?;
        Ok(build.finish(root))
    }

    /// The document's value.
    pub fn root(&self) -> Val<'_, 'a> {
        Val { doc: self, at: self.nodes.len().saturating_sub(1) as u32 }
    }
}

/// A handle on one value of a [`Doc`].
#[derive(Clone, Copy)]
pub struct Val<'d, 'a> {
    doc: &'d Doc<'a>,
    at: u32,
}

impl<'d, 'a> Val<'d, 'a> {
    fn node(self) -> &'d Node<'a> {
        &self.doc.nodes[self.at as usize].1
    }

    /// The members of an object, in document order (nothing for anything else).
    pub fn members(self) -> impl Iterator<Item = (&'d str, Val<'d, 'a>)> {
        let (first, len) = match self.node() {
            Node::Object { first, len } => (*first, *len),
            _ => (0, 0),
        };
        let doc = self.doc;
        (first..first + len).map(move |at| (&*doc.nodes[at as usize].0, Val { doc, at }))
    }

    /// The value as a `serde_json::Value` (builds a tree: for error paths and tests).
    pub fn to_value(self) -> serde_json::Value {
        use serde_json::Value;
        match self.node() {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(*b),
            Node::Number(n) => super::json::number_value(n),
            Node::String(s) => Value::String(s.to_string()),
            Node::Object { .. } => Value::Object(self.members().map(|(k, v)| (k.to_string(), v.to_value())).collect()),
            Node::Array { len, .. } => {
                Value::Array((0..*len as usize).filter_map(|i| self.item(i)).map(Val::to_value).collect())
            }
        }
    }
}

impl<'d, 'a> JsonRead<'d> for Val<'d, 'a> {
    fn scalar(self) -> Scalar<'d> {
        match self.node() {
            Node::Null => Scalar::Null,
            Node::Bool(b) => Scalar::Bool(*b),
            Node::Number(n) => Scalar::Number(n),
            Node::String(s) => Scalar::String(s),
            Node::Object { .. } => Scalar::Object,
            Node::Array { .. } => Scalar::Array,
        }
    }
    fn get(self, key: &str) -> Option<Self> {
        // Keys are unique after parsing (see `Build::close_object`).
        self.members().find(|(k, _)| *k == key).map(|(_, v)| v)
    }
    fn array_len(self) -> usize {
        match self.node() {
            Node::Array { len, .. } => *len as usize,
            _ => 0,
        }
    }
    fn item(self, i: usize) -> Option<Self> {
        match self.node() {
            Node::Array { first, len } if i < *len as usize => Some(Val { doc: self.doc, at: first + i as u32 }),
            _ => None,
        }
    }
    fn abridge(self) -> String {
        cut_40(self.to_value().to_string())
    }
}

/// The arena being filled, and the members of the containers still open.
struct Build<'a> {
    doc: Doc<'a>,
    stack: Vec<(Cow<'a, str>, Node<'a>)>,
}

impl<'a> Build<'a> {
    /// An empty arena, with room for a typical reply's members.
    fn new() -> Build<'a> {
        Build { doc: Doc { nodes: Vec::with_capacity(32) }, stack: Vec::with_capacity(32) }
    }

    /// The document, its `root` put last (where [`Doc::root`] reads it).
    fn finish(mut self, root: Node<'a>) -> Doc<'a> {
        self.doc.nodes.push((Cow::Borrowed(""), root));
        self.doc
    }

    /// Moves the members pushed since `mark` into the arena, one key once (first position,
    /// last value); returns where they start and how many.
    fn close(&mut self, mark: usize, object: bool) -> (u32, u32) {
        if object && has_duplicates(&self.stack[mark..]) {
            let mut kept: Vec<(Cow<'a, str>, Node<'a>)> = Vec::new();
            for (k, v) in self.stack.drain(mark..) {
                match kept.iter_mut().find(|(kk, _)| *kk == k) {
                    Some(slot) => slot.1 = v,
                    None => kept.push((k, v)),
                }
            }
            self.stack.extend(kept);
        }
        let first = self.doc.nodes.len() as u32;
        self.doc.nodes.extend(self.stack.drain(mark..));
        (first, self.doc.nodes.len() as u32 - first)
    }
}

impl<'a> Build<'a> {
    /// Puts a tree (the value of a raw value's text) into the arena.
    fn push_value(&mut self, value: serde_json::Value) -> Node<'a> {
        use serde_json::Value;
        match value {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(b),
            Value::Number(n) => Node::Number(Cow::Owned(n.as_str().to_owned())),
            Value::String(s) => Node::String(Cow::Owned(s)),
            Value::Array(items) => {
                let mark = self.stack.len();
                for item in items {
                    let node = self.push_value(item);
                    self.stack.push((Cow::Borrowed(""), node));
                }
                let (first, len) = self.close(mark, false);
                Node::Array { first, len }
            }
            Value::Object(members) => {
                let mark = self.stack.len();
                for (k, v) in members {
                    let node = self.push_value(v);
                    self.stack.push((Cow::Owned(k), node));
                }
                let (first, len) = self.close(mark, true);
                Node::Object { first, len }
            }
        }
    }
}

/// True if two members share a key.
fn has_duplicates(members: &[(Cow<'_, str>, Node<'_>)]) -> bool {
    if members.len() <= 16 {
        return members.iter().enumerate().any(|(i, (k, _))| members[..i].iter().any(|(kk, _)| kk == k));
    }
    let mut keys: Vec<&str> = members.iter().map(|(k, _)| &**k).collect();
    keys.sort_unstable();
    keys.windows(2).any(|w| w[0] == w[1])
}

struct NodeSeed<'b, 'a>(&'b mut Build<'a>);

impl<'de, 'b> DeserializeSeed<'de> for NodeSeed<'b, 'de> {
    type Value = Node<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Node<'de>, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, 'b> Visitor<'de> for NodeSeed<'b, 'de> {
    type Value = Node<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node<'de>, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node<'de>, E> {
        Ok(Node::Number(Cow::Owned(v.to_string())))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node<'de>, E> {
        Ok(Node::Number(Cow::Owned(v.to_string())))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node<'de>, E> {
        Ok(Node::Number(Cow::Owned(v.to_string())))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Node<'de>, E> {
        Ok(Node::String(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node<'de>, E> {
        Ok(Node::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node<'de>, A::Error> {
        let build = self.0;
        let mark = build.stack.len();
        while let Some(node) = seq.next_element_seed(NodeSeed(&mut *build))? {
            build.stack.push((Cow::Borrowed(""), node));
        }
        let (first, len) = build.close(mark, false);
        Ok(Node::Array { first, len })
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node<'de>, A::Error> {
        let build = self.0;
        let mark = build.stack.len();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if build.stack.len() == mark && key == NUMBER_TOKEN {
                // A number under arbitrary_precision (or a service's object keyed so, which
                // serde_json's Value reads the same way): the number in the string, as serde_json
                // writes it, and serde_json's error if there is none.
                return Ok(Node::Number(Cow::Owned(map.next_value_seed(NumberText)?)));
            }
            if build.stack.len() == mark && key == RAW_TOKEN && raw_values_are_read() {
                // serde_json's Value reads the string's text as JSON: so does the document.
                let text = map.next_value_seed(RawText)?;
                let value: serde_json::Value = serde_json::from_str(&text).map_err(serde::de::Error::custom)?;
                return Ok(build.push_value(value));
            }
            let node = map.next_value_seed(NodeSeed(&mut *build))?;
            build.stack.push((key, node));
        }
        let (first, len) = build.close(mark, true);
        Ok(Node::Object { first, len })
    }
}

/// The value of a number token: a string holding a number (serde_json's `NumberFromString`:
/// the same expectation and errors), as serde_json writes that number.
struct NumberText;

impl<'de> DeserializeSeed<'de> for NumberText {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for NumberText {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("string containing a number")
    }
    fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<String, E> {
        let n: serde_json::Number = s.parse().map_err(E::custom)?;
        Ok(n.as_str().to_owned())
    }
    /// serde_json's own number (its parser gives JSON strings borrowed or as `&str`, never
    /// owned): already its text, taken as it is — no second parse, no copy, per number.
    fn visit_string<E>(self, s: String) -> Result<String, E> {
        Ok(s)
    }
}

/// The value of a raw value token: a string (serde_json's `BoxedFromString`).
struct RawText;

impl<'de> DeserializeSeed<'de> for RawText {
    type Value = String;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for RawText {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("raw value")
    }
    fn visit_str<E>(self, s: &str) -> Result<String, E> {
        Ok(s.to_owned())
    }
    fn visit_string<E>(self, s: String) -> Result<String, E> {
        Ok(s)
    }
}

/// A member key, borrowed unless it had escapes.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeySeed {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v.to_string()))
    }
    fn visit_string<E>(self, v: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(v))
    }
}

#[path = "json_doc/jiter_path.rs"]
mod jiter_path;

#[cfg(test)]
#[path = "json_doc/tests.rs"]
mod tests;
