//! The document's fast path: jiter's iterator (the same JSON grammar as serde_json, its string
//! rules taken from serde_json's) fills the arena, numbers and unescaped strings borrowed from
//! the text — no allocation per number, as serde_json's `arbitrary_precision` makes.
//!
//! It only ever says yes or "ask serde_json": any text it does not take as it is (an error,
//! nesting deeper than [`DEEP`], a key of serde_json's private tokens, a number jiter bounds,
//! text that is not UTF-8) is
//! parsed again by the serde path, which gives the same document or serde_json's own error. So
//! this path can be stricter than serde_json, never looser: a property test holds every text it
//! takes to the serde path's document (`tests.rs`).

use super::{Build, Doc, Node};
use jiter::{Jiter, Peek};
use std::borrow::Cow;

/// Nesting at which the fast path steps aside (serde_json's own limit is 128: deeper texts are
/// left to it, so its recursion error stays its own).
const DEEP: usize = 100;

/// Keys serde_json reads specially as an object's first member (see the module above).
const PRIVATE: &str = "$serde_json::private::";

/// `text` as a document, or `None` where the serde path must decide.
pub(super) fn parse(text: &[u8]) -> Option<Doc<'_>> {
    let mut build = Build::new();
    let mut jiter = Jiter::new(text);
    let peek = jiter.peek().ok()?;
    let root = value(&mut jiter, text, peek, &mut build, 0)?;
    jiter.finish().ok()?;
    Some(build.finish(root))
}

/// The value starting with `peek`, its members in `build`.
fn value<'a>(
    jiter: &mut Jiter<'a>,
    text: &'a [u8],
    peek: Peek,
    build: &mut Build<'a>,
    depth: usize,
) -> Option<Node<'a>> {
    Some(match peek {
        Peek::Null => {
            jiter.known_null().ok()?;
            Node::Null
        }
        Peek::True | Peek::False => Node::Bool(jiter.known_bool(peek).ok()?),
        Peek::String => Node::String(string(within(text, jiter.known_bytes().ok()?)?)?),
        Peek::Array if depth < DEEP => {
            let mark = build.stack.len();
            let mut next = jiter.known_array().ok()?;
            while let Some(peek) = next {
                let node = value(jiter, text, peek, build, depth + 1)?;
                build.stack.push((Cow::Borrowed(""), node));
                next = jiter.array_step().ok()?;
            }
            let (first, len) = build.close(mark, false);
            Node::Array { first, len }
        }
        Peek::Object if depth < DEEP => {
            let mark = build.stack.len();
            let mut key = member(text, jiter.next_object_bytes().ok()?)?;
            while let Some(k) = key {
                if k.starts_with(PRIVATE) {
                    return None;
                }
                let peek = jiter.peek().ok()?;
                let node = value(jiter, text, peek, build, depth + 1)?;
                build.stack.push((k, node));
                key = member(text, jiter.next_key_bytes().ok()?)?;
            }
            let (first, len) = build.close(mark, true);
            Node::Object { first, len }
        }
        _ if peek.is_num() => Node::Number(number(to_str(within(text, jiter.known_number_bytes(peek).ok()?)?)?)),
        _ => return None,
    })
}

/// A member's key from its raw bytes (see [`string`]); `Some(None)` after an object's last.
fn member<'a>(text: &'a [u8], raw: Option<&[u8]>) -> Option<Option<Cow<'a, str>>> {
    match raw {
        None => Some(None),
        Some(raw) => string(within(text, raw)?).map(Some),
    }
}

/// `part` (a slice jiter gives of the text it parses) as a slice of `text` itself, for the
/// text's lifetime; `None` if it is not one.
fn within<'a>(text: &'a [u8], part: &[u8]) -> Option<&'a [u8]> {
    let from = (part.as_ptr() as usize).checked_sub(text.as_ptr() as usize)?;
    text.get(from..from.checked_add(part.len())?)
}

/// A string's text from its raw bytes between the quotes (jiter has checked its escapes and
/// control characters, not its UTF-8): borrowed unless it has escapes. `None` for invalid UTF-8
/// or an escape serde_json refuses (a lone surrogate): left to serde_json and its error.
fn string(raw: &[u8]) -> Option<Cow<'_, str>> {
    let raw = to_str(raw)?;
    match raw.contains('\\') {
        false => Some(Cow::Borrowed(raw)),
        true => unescape(raw).map(Cow::Owned),
    }
}

/// `raw` with its escapes decoded (RFC 8259 §7: the two-character escapes, `\uXXXX`, and a
/// UTF-16 surrogate pair as two `\u` escapes).
fn unescape(raw: &str) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('\\') {
        out.push_str(&rest[..at]);
        let (c, used) = match rest.as_bytes().get(at + 1)? {
            b'"' => ('"', 2),
            b'\\' => ('\\', 2),
            b'/' => ('/', 2),
            b'b' => ('\u{8}', 2),
            b'f' => ('\u{c}', 2),
            b'n' => ('\n', 2),
            b'r' => ('\r', 2),
            b't' => ('\t', 2),
            b'u' => match hex4(rest.get(at + 2..at + 6)?)? {
                high @ 0xD800..=0xDBFF if rest.get(at + 6..at + 8)? == "\\u" => {
                    let low = hex4(rest.get(at + 8..at + 12)?).filter(|low| (0xDC00..=0xDFFF).contains(low))?;
                    (char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))?, 12)
                }
                unit => (char::from_u32(unit)?, 6),
            },
            _ => return None,
        };
        out.push(c);
        rest = &rest[at + used..];
    }
    out.push_str(rest);
    Some(out)
}

/// Four hexadecimal digits' value.
fn hex4(digits: &str) -> Option<u32> {
    match digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        true => u32::from_str_radix(digits, 16).ok(),
        false => None,
    }
}

/// A number's text as serde_json keeps it (`arbitrary_precision`): as written, except that the
/// exponent mark is `e` and its sign always written (`1E5` is kept as `1e+5`; serde_json's
/// `scan_exponent`).
fn number(text: &str) -> Cow<'_, str> {
    let Some(at) = text.find(['e', 'E']) else { return Cow::Borrowed(text) };
    let (mantissa, rest) = (&text[..at], &text[at + 1..]);
    match (&text[at..=at], rest.starts_with(['+', '-'])) {
        ("e", true) => Cow::Borrowed(text),
        (_, true) => Cow::Owned(format!("{mantissa}e{rest}")),
        (_, false) => Cow::Owned(format!("{mantissa}e+{rest}")),
    }
}

/// `bytes` as UTF-8 text, as serde_json requires of a JSON text (RFC 8259 §8.1).
fn to_str(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes).ok()
}
