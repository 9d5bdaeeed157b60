//! The common header (공통부): read the operation key without decoding the body, and write the
//! fields the gateway owns in replies (response code and message, total length).
//!
//! Legacy traffic is never re-encoded: the header is only read, once per message, into a
//! [`Head`] that routing, serving, logging and error replies all use. Replies the gateway
//! builds itself (errors, translated replies) start from the request's header bytes.

use crate::codec::charset::Overflow;
use crate::codec::decode::decode_number;
use crate::codec::plan::{Leaf, LeafKind};
use crate::codec::{Codec, CodecOptions};
use crate::copybook::Record;
use crate::frame::Framing;

mod link;
pub mod parts;
#[cfg(test)]
mod read_tests;

/// A header of H-LEN (when `length`), H-OP, H-SUB, H-ID, H-RC, H-MSG with the pictures given,
/// the operation in H-OP and H-SUB, for the unit tests of this module.
#[cfg(test)]
fn test_layout(codepage: &str, op_pic: &str, sub_pic: &str, id_pic: &str, length: bool) -> HeaderLayout {
    let text = format!(
        "       01  H.\n           05  H-LEN   PIC 9(4).\n           05  H-OP    {op_pic}.\n           05  H-SUB   {sub_pic}.\n           05  H-ID    {id_pic}.\n           05  H-RC    PIC X(4).\n           05  H-MSG   PIC X(10).\n"
    );
    let book = crate::copybook::parse_copybook(&text, "H.cpy", &crate::copybook::NoCopy).unwrap();
    let cp = crate::codec::charset::CodePage::from_name(codepage).unwrap();
    let names = HeaderNames {
        operation: &["H-OP".to_string(), "H-SUB".to_string()],
        response_code: "H-RC",
        response_message: "H-MSG",
        length: length.then_some("H-LEN"),
        message_id: Some("H-ID"),
    };
    HeaderLayout::new(&book.records[0], CodecOptions::for_codepage(cp), &names).unwrap()
}
pub mod reassemble;
pub use link::Heartbeat;
pub use parts::{MultipartPlan, PartError, PartKind};

/// A header field the gateway reads or writes.
#[derive(Clone, Debug)]
pub struct HeaderField {
    /// The field's name.
    pub name: String,
    /// Its offset in the message.
    pub offset: usize,
    /// Its length.
    pub len: usize,
    kind: LeafKind,
}

/// Why a header could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The message is shorter than the header.
    #[error("message is {len} bytes, shorter than the {need}-byte header")]
    Short {
        /// Message length.
        len: usize,
        /// Header length.
        need: usize,
    },
    /// An operation field is empty or holds bytes that are not printable text.
    #[error("{field} is not a readable operation code")]
    Unreadable {
        /// The field.
        field: String,
    },
    /// A header field's bytes are invalid for its picture.
    #[error("{0}")]
    Invalid(String),
    /// The length field disagrees with the message's real length.
    #[error("{field} says {stated} bytes, message has {actual}")]
    LengthMismatch {
        /// The field.
        field: String,
        /// What the field says: the message length it means, or why it means none.
        stated: String,
        /// Real length.
        actual: usize,
    },
}

/// A field's value as text: trimmed text, or a number's decimal form (a zoned `F` and `C`
/// sign read alike, leading zeros dropped); `None` when the bytes are invalid for its picture.
pub fn field_text(kind: LeafKind, bytes: &[u8], codepage: crate::codec::charset::CodePage) -> Option<String> {
    with_field_text(kind, bytes, codepage, |s| s.to_string())
}

/// [`field_text`] handed to `f` as a `&str` decoded into this thread's scratch `String`: the
/// caller keeps what it needs (an inline [`Short`] allocates nothing for a short field).
fn with_field_text<R>(
    kind: LeafKind,
    bytes: &[u8],
    codepage: crate::codec::charset::CodePage,
    f: impl FnOnce(&str) -> R,
) -> Option<R> {
    thread_local! {
        static SCRATCH: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) };
    }
    SCRATCH.with(|cell| {
        // Never re-entered (decoding calls back into nothing here); a fresh String if it were.
        let mut fresh = String::new();
        let mut held = cell.try_borrow_mut();
        let s = match held.as_deref_mut() {
            Ok(s) => s,
            Err(_) => &mut fresh,
        };
        s.clear();
        if let LeafKind::Text { .. } = kind {
            codepage.decode_into(bytes, s).ok()?;
            Some(f(s.trim()))
        } else {
            let (neg, mag, scale) = decode_number(kind, bytes, codepage).ok()?;
            crate::codec::decimal::Decimal::new(neg, mag, scale).append_to(s);
            Some(f(s))
        }
    })
}

/// A header value kept per message (operation key, message id): inline up to 24 bytes, so
/// reading a header allocates nothing for the usual short codes and sequence numbers.
pub type Short = compact_str::CompactString;

/// The common header of one message, read once ([`HeaderLayout::read`]).
#[derive(Clone, Debug)]
pub struct Head {
    /// The operation key, or why it cannot be read.
    pub op: Result<Short, HeaderError>,
    /// The message id, if configured and readable.
    pub id: Option<Short>,
    /// The length field and every field's picture checked: `Err` names the first problem.
    pub valid: Result<(), HeaderError>,
}

/// The compiled common header.
#[derive(Clone, Debug)]
pub struct HeaderLayout {
    /// Codec of the whole header (to decode it to JSON for new services).
    pub codec: Codec,
    /// Size of the header in bytes.
    pub size: usize,
    operation: Vec<HeaderField>,
    response_code: HeaderField,
    response_message: HeaderField,
    length: Option<HeaderField>,
    /// How `length` holds the length: by default the code page's digits counting the whole
    /// message; a framing on the same field lends its rule (see [`HeaderLayout::adopt_length_framing`]).
    length_rule: Option<Framing>,
    /// PIC X fields a framing keeps a length in (binary, BCD, other digits): not checked
    /// against their picture, the framing checks them.
    raw_lengths: Vec<(usize, usize)>,
    message_id: Option<HeaderField>,
    options: CodecOptions,
    /// A valid header with every field blank (spaces, zeros).
    blank: Vec<u8>,
    /// The header's fields (none of the header may be a table).
    fields: Vec<Leaf>,
    /// `[header] multipart`: long messages in parts (장전문), when configured.
    pub multipart: Option<std::sync::Arc<MultipartPlan>>,
}

/// Names of the header fields the gateway uses.
pub struct HeaderNames<'a> {
    /// Fields naming the operation.
    pub operation: &'a [String],
    /// Error code field.
    pub response_code: &'a str,
    /// Error message field.
    pub response_message: &'a str,
    /// Total-length field.
    pub length: Option<&'a str>,
    /// Message id field.
    pub message_id: Option<&'a str>,
}

impl HeaderLayout {
    /// Compiles the header record; errors name the missing field.
    pub fn new(record: &Record, options: CodecOptions, names: &HeaderNames) -> Result<HeaderLayout, String> {
        let codec = Codec::new(record, options).map_err(|e| e.to_string())?;
        let find = |name: &str| -> Result<HeaderField, String> {
            let leaf: &Leaf = codec.plan().lookup(name).map_err(|e| match e {
                // The note says why when the name is a group, in a table or a path through FILLER.
                crate::codec::lookup::LookupError::NotFound { note, .. } => {
                    format!("header record {} has no field {name}{note}", record.name)
                }
                other => format!("header: {other}"),
            })?;
            Ok(HeaderField {
                name: leaf.path.to_string(),
                offset: leaf.offset as usize,
                len: leaf.len as usize,
                kind: leaf.kind,
            })
        };
        let operation = names.operation.iter().map(|n| find(n)).collect::<Result<Vec<_>, _>>()?;
        if operation.is_empty() {
            return Err("[header] operation names no field".into());
        }
        let response_code = find(names.response_code)?;
        let response_message = find(names.response_message)?;
        for f in [&response_code, &response_message] {
            if !matches!(f.kind, LeafKind::Text { .. }) {
                return Err(format!("{} must be a PIC X field", f.name));
            }
        }
        let length = names.length.map(find).transpose()?;
        if let Some(f) = &length {
            if !matches!(f.kind, LeafKind::Zoned { .. }) {
                return Err(format!("{} must be a PIC 9 DISPLAY field to hold a length", f.name));
            }
        }
        let message_id = names.message_id.map(find).transpose()?;
        let size = codec.max_size();
        let blank =
            codec.encode_json(&codec.plan().blank_json()).map_err(|e| format!("header {}: {e}", record.name))?;
        let fields: Vec<Leaf> = codec
            .plan()
            .ops
            .iter()
            .filter_map(|op| match op {
                crate::codec::plan::Op::Leaf { leaf, .. } => Some(leaf.clone()),
                _ => None,
            })
            .collect();
        // A FILLER table with DEPENDING ON (`Skip`) makes the header's length vary too.
        let table = |op: &crate::codec::plan::Op| {
            matches!(op, crate::codec::plan::Op::Array { .. } | crate::codec::plan::Op::Skip { .. })
        };
        if codec.plan().ops.iter().any(table) {
            return Err(format!("header {} has a table (OCCURS); a common header must be fixed", record.name));
        }
        let ebcdic = options.codepage.is_ebcdic();
        let length_rule = length.as_ref().map(|f| Framing::field(f.offset, f.len, size, ebcdic));
        Ok(HeaderLayout {
            codec,
            size,
            operation,
            response_code,
            response_message,
            length,
            length_rule,
            raw_lengths: Vec::new(),
            message_id,
            options,
            blank,
            fields,
            multipart: None,
        })
    }

    fn text(&self, message: &[u8], field: &HeaderField) -> Option<String> {
        let bytes = message.get(field.offset..field.offset + field.len)?;
        field_text(field.kind, bytes, self.options.codepage)
    }

    /// The operation key: the operation fields' trimmed values joined by `.`.
    pub fn operation(&self, message: &[u8]) -> Result<String, HeaderError> {
        self.operation_short(message).map(String::from)
    }

    /// [`Self::operation`], inline when short.
    fn operation_short(&self, message: &[u8]) -> Result<Short, HeaderError> {
        if message.len() < self.size {
            return Err(HeaderError::Short { len: message.len(), need: self.size });
        }
        let mut key = Short::default();
        for (i, f) in self.operation.iter().enumerate() {
            let bytes = message.get(f.offset..f.offset + f.len);
            let appended = bytes.and_then(|b| {
                with_field_text(f.kind, b, self.options.codepage, |v| {
                    if i > 0 {
                        key.push('.');
                    }
                    key.push_str(v);
                })
            });
            appended.ok_or_else(|| HeaderError::Unreadable { field: f.name.clone() })?;
        }
        // An operation code is printable ASCII; anything else is garbage, not an unknown
        // operation to pass on to the default target. Every field blank is no code either (two
        // blank fields join to ".").
        let blank = key.len() < self.operation.len();
        if blank || !key.chars().all(|c| c.is_ascii_graphic() || c == ' ') {
            return Err(HeaderError::Unreadable {
                field: self.operation.iter().map(|f| f.name.as_str()).collect::<Vec<_>>().join("+"),
            });
        }
        Ok(key)
    }

    /// Reads the header of `message` once: operation, message id and validity.
    pub fn read(&self, message: &[u8]) -> Head {
        let op = self.operation_short(message);
        let id = self.message_id.as_ref().and_then(|f| {
            let bytes = message.get(f.offset..f.offset + f.len)?;
            with_field_text(f.kind, bytes, self.options.codepage, |s| Short::from(s))
        });
        let valid = match &op {
            Err(e) => Err(e.clone()),
            Ok(_) => self.check_length(message).and_then(|()| self.validate(message)),
        };
        Head { op, id, valid }
    }

    /// Where the message id field is (offset, length), when routes.toml names one: replies
    /// must carry the request's bytes there.
    pub fn message_id_span(&self) -> Option<(usize, usize)> {
        self.message_id.as_ref().map(|f| (f.offset, f.len))
    }

    /// The fields that say which request a reply answers — the operation fields and the message
    /// id: (name, offset, length). A reply must carry the request's bytes in each.
    pub fn identity(&self) -> impl Iterator<Item = &HeaderField> {
        self.operation.iter().chain(self.message_id.iter())
    }

    /// The value of header field `field` in `message` (trimmed text, or a number's decimal
    /// form: a zoned `F` and `C` sign read alike), if readable.
    pub fn value(&self, message: &[u8], field: &HeaderField) -> Option<String> {
        self.text(message, field)
    }

    /// Name of the message id field, if any.
    pub fn message_id_name(&self) -> Option<&str> {
        self.message_id.as_ref().map(|f| f.name.as_str())
    }

    /// The message id (the header's sequence number), if configured and readable.
    pub fn message_id(&self, message: &[u8]) -> Option<String> {
        self.message_id.as_ref().and_then(|f| self.text(message, f))
    }

    /// Checks the length field (if any) against the message's real length.
    pub fn check_length(&self, message: &[u8]) -> Result<(), HeaderError> {
        let (Some(f), Some(rule)) = (&self.length, &self.length_rule) else { return Ok(()) };
        let stated = match rule.claimed_len(message) {
            Some(Ok(len)) if len == message.len() => return Ok(()),
            Some(Ok(len)) => len.to_string(),
            Some(Err(e)) => e.to_string(),
            None => return Ok(()),
        };
        Err(HeaderError::LengthMismatch { field: f.name.clone(), stated, actual: message.len() })
    }

    /// Checks every header field against its picture (e.g. digits in a PIC 9 field).
    pub fn validate(&self, message: &[u8]) -> Result<(), HeaderError> {
        let mut sink = crate::codec::json::NullSink;
        let header = message.get(..self.size).ok_or(HeaderError::Short { len: message.len(), need: self.size })?;
        let mut blanked;
        let header = if self.raw_lengths.is_empty() {
            header
        } else {
            blanked = header.to_vec();
            for &(at, len) in &self.raw_lengths {
                blanked[at..at + len].copy_from_slice(&self.blank[at..at + len]);
            }
            &blanked[..]
        };
        crate::codec::Scratch::with_local(|scratch| self.codec.plan().decode(header, &mut sink, scratch))
            .map(|_| ())
            .map_err(|e| HeaderError::Invalid(e.to_string()))
    }

    /// Sets the length field (if any) to the message's length, as its rule counts it.
    pub fn set_length(&self, message: &mut [u8]) {
        if let Some(rule) = &self.length_rule {
            // A message too short or too long for its field keeps what it had: the framing
            // refuses to send it, and the header check refuses it on the way in.
            let _ = rule.set_field(message);
        }
    }

    /// Takes a framing's rule for a length kept in a header field: the header's own
    /// `length_field`, when it is that field, is read and written the framing's way; a PIC X
    /// field holding the length is no longer checked against its picture.
    pub fn adopt_length_framing(&mut self, framing: Framing) {
        let Some((offset, width)) = framing.field_span() else { return };
        if self.length.as_ref().is_some_and(|f| f.offset == offset && f.len == width) {
            self.length_rule = Some(framing);
        }
        let text = self
            .fields
            .iter()
            .any(|l| l.offset as usize == offset && l.len as usize == width && matches!(l.kind, LeafKind::Text { .. }));
        if text && !self.raw_lengths.contains(&(offset, width)) {
            self.raw_lengths.push((offset, width));
        }
    }

    /// The (offset, width) of the PIC X fields a framing keeps a length in (binary, BCD or
    /// other digits): bytes that are not text whatever their picture says, so code conversion
    /// keeps them as they are.
    pub fn raw_lengths(&self) -> &[(usize, usize)] {
        &self.raw_lengths
    }

    /// Where the length field is (offset, width), if `[header] length_field` names one.
    pub fn length_span(&self) -> Option<(usize, usize)> {
        self.length.as_ref().map(|f| (f.offset, f.len))
    }

    /// Name of the response-code field.
    pub fn response_code_name(&self) -> &str {
        &self.response_code.name
    }

    /// Name of the length field, if any.
    pub fn length_field(&self) -> Option<&str> {
        self.length.as_ref().map(|f| f.name.as_str())
    }

    /// Writes the response code and message (truncated to their fields) into a reply. A
    /// character the header's code page cannot hold (a customer's Hangul quoted in an error, on a
    /// Latin host) is written as `U+XXXX`, so the text goes on past it instead of stopping there.
    pub fn set_response(&self, message: &mut [u8], code: &str, text: &str) {
        for (f, value) in [(&self.response_code, code), (&self.response_message, text)] {
            if let Some(dst) = message.get_mut(f.offset..f.offset + f.len) {
                let value = self.writable(value);
                let _ = self.options.codepage.encode_into(&value, dst, Overflow::Truncate);
            }
        }
    }

    /// `text` with every character the header's code page cannot write spelt `U+XXXX`.
    fn writable<'t>(&self, text: &'t str) -> std::borrow::Cow<'t, str> {
        let fits = |c: char| {
            let mut scratch = [0u8; 8];
            self.options.codepage.encode_into(c.encode_utf8(&mut [0; 4]), &mut scratch, Overflow::Error).is_ok()
        };
        if text.chars().all(fits) {
            return text.into();
        }
        text.chars()
            .map(|c| if fits(c) { c.to_string() } else { format!("U+{:04X}", c as u32) })
            .collect::<String>()
            .into()
    }

    /// Reads the response code of a reply (for comparisons and metrics).
    pub fn response_code(&self, message: &[u8]) -> Option<String> {
        self.text(message, &self.response_code)
    }

    /// An error reply: the request's header with the code and message set and the length
    /// field right. Fields of the request that are missing or unreadable (a short or garbled
    /// message) are left blank, so the reply itself always decodes.
    pub fn error_reply(&self, request: &[u8], code: &str, text: &str) -> Vec<u8> {
        let mut reply = self.blank.clone();
        for leaf in &self.fields {
            let (at, len) = (leaf.offset as usize, leaf.len as usize);
            let Some(src) = request.get(at..at + len) else { continue };
            let readable = match leaf.kind {
                LeafKind::Text { .. } => {
                    let mut scratch = String::new();
                    self.options.codepage.decode_into(src, &mut scratch).is_ok()
                }
                kind => decode_number(kind, src, self.options.codepage).is_ok(),
            };
            if readable {
                reply[at..at + len].copy_from_slice(src);
            }
        }
        self.set_response(&mut reply, code, text);
        self.set_length(&mut reply);
        reply
    }
}
