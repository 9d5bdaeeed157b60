//! What the encoder reads a record from: any JSON value that can say what it is and look up a
//! member — `serde_json::Value` (the CLI, tests, code that builds a tree) or a borrowed
//! [`super::json_doc::Doc`] (the gateway's hot path: a service's reply parsed without a tree).
//!
//! Numbers reach the encoder as their exact decimal text, never as `f64`.

use serde_json::Value;

/// One JSON value as the encoder sees it: a scalar with its text, or the kind of container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scalar<'v> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as its literal text (`-12.50`, `1e3`).
    Number(&'v str),
    /// A string, unescaped.
    String(&'v str),
    /// An object (members via [`JsonRead::get`]).
    Object,
    /// An array (elements via [`JsonRead::item`]).
    Array,
}

/// A JSON value the encoder can walk. Implementations are cheap handles (`Copy`).
pub trait JsonRead<'v>: Copy {
    /// What the value is; scalars with their text.
    fn scalar(self) -> Scalar<'v>;
    /// The member `key` of an object (the last one, if the key repeats); `None` if absent or
    /// if this is not an object.
    fn get(self, key: &str) -> Option<Self>;
    /// The number of elements of an array (0 for anything else).
    fn array_len(self) -> usize;
    /// Element `i` of an array.
    fn item(self, i: usize) -> Option<Self>;
    /// The value as compact JSON text, cut at 40 bytes with `…` (for error messages).
    fn abridge(self) -> String;

    /// True for an object.
    fn is_object(self) -> bool {
        matches!(self.scalar(), Scalar::Object)
    }
}

/// `s` cut at 40 bytes (on a character boundary) with `…` when longer.
pub fn cut_40(mut s: String) -> String {
    if s.len() > 40 {
        let mut cut = 40;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

impl<'v> JsonRead<'v> for &'v Value {
    fn scalar(self) -> Scalar<'v> {
        match self {
            Value::Null => Scalar::Null,
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Number(n) => Scalar::Number(n.as_str()),
            Value::String(s) => Scalar::String(s),
            Value::Object(_) => Scalar::Object,
            Value::Array(_) => Scalar::Array,
        }
    }
    fn get(self, key: &str) -> Option<Self> {
        self.as_object()?.get(key)
    }
    fn array_len(self) -> usize {
        self.as_array().map_or(0, Vec::len)
    }
    fn item(self, i: usize) -> Option<Self> {
        self.as_array()?.get(i)
    }
    fn abridge(self) -> String {
        cut_40(self.to_string())
    }
}
