//! Code conversion of whole fixed-width messages, field by field with their layout: a channel
//! that sends EUC-KR/ASCII in front of an EBCDIC host (and back).
//!
//! Pure: no I/O. A [`Conversion`] is compiled once per (layout, source page, target page) from
//! the codec's [`Plan`], and converts one record per call into the caller's buffer; steady
//! state allocates nothing beyond that buffer. [`convert_message`] puts the common header's
//! conversion and the operation's body conversion together.
//!
//! What happens to each kind of field:
//! - **Text** (PIC X, A, numeric-edited; FILLER too — IBM treats an elementary FILLER as an
//!   item of its picture's category, and a reserved `PIC X` area holds spaces that must become
//!   the target's spaces): decoded in the source page, written in the target page and padded
//!   with its spaces as COBOL pads (on the right; JUST RIGHT on the left). Korean between cp949
//!   and cp933/cp1364 gains or loses SO/SI. A character the target lacks, bytes invalid in the
//!   source, or text that no longer fits its field is an error naming the field and its offset:
//!   never a truncated or substituted character. Between the single-byte pages (ascii, cp037,
//!   cp1047) text is a byte-for-byte table lookup.
//! - **Zoned decimal** (DISPLAY numbers): digits and sign mapped nibble by nibble between the
//!   ASCII and EBCDIC conventions — EBCDIC zone C/D ⇄ the IBM ASCII overpunch `{ A–I` / `} J–R`,
//!   an unsigned-looking F zone (or plain ASCII digit) in the sign position stays plain, a
//!   SIGN SEPARATE byte `+`/`-` ⇄ X'4E'/X'60'. The source bytes must be valid zoned data as
//!   the codec decodes it (any overpunch convention is read; the target's is written).
//!   BLANK WHEN ZERO spaces become the target's spaces.
//! - **PIC G** (DBCS without shift bytes, only with cp933/cp1364 on the host side): between
//!   cp933 and cp1364 pair for pair; to and from cp949 as two-byte characters (U+3000, the
//!   DBCS space X'4040', is A1A1 in cp949).
//! - **Copied untouched**: packed (COMP-3), binary (COMP, COMP-4, COMP-5, INDEX, POINTER),
//!   float (COMP-1/2), PIC N (UTF-16), and any byte no field covers.
//! - **HIGH-VALUES / LOW-VALUES**: a text or zoned field that is all X'FF' or all X'00' is
//!   copied as it is — COBOL defines those figurative constants as the same bytes in every
//!   code page, and hosts use them to mark a field "not set".
//!
//! Layouts that are ambiguous for conversion, decided here:
//! - **REDEFINES**: alternatives over the same bytes must agree, or the layout is refused when
//!   the conversion is built ([`ConvertPlanError::Ambiguous`], naming both fields). They agree
//!   when they convert each byte the same way: identical fields; packed/binary over
//!   packed/binary; unsigned digits under text or under other digits (the text view wins: it
//!   converts valid digits to the same bytes); and between two single-byte pages any text over
//!   any text. A FILLER view without named fields is not in the plan, so it is not consulted.
//! - **OCCURS DEPENDING ON**: the counter is read from the source message in the source code
//!   page; the converted message has the same count, so what follows slides the same way. A
//!   variable table inside a REDEFINES area is refused.
//! - **Groups** convert as their elementary items; a group with no elementary item has no bytes.
//!
//! ```
//! use ficus::codec::charset::CodePage;
//! use ficus::codec::convert::Conversion;
//! use ficus::codec::{Codec, CodecOptions};
//! use ficus::copybook::{parse_copybook, NoCopy};
//!
//! let book = parse_copybook(
//!     "       01 CUST.\n           05 CUST-NAME PIC X(10).\n           05 CUST-BAL PIC S9(3) COMP-3.\n",
//!     "cust.cpy",
//!     &NoCopy,
//! )
//! .unwrap();
//! let host = Codec::new(&book.records[0], CodecOptions::for_codepage(CodePage::Cp933)).unwrap();
//! let to_host = Conversion::new(host.plan(), CodePage::Cp949, CodePage::Cp933).unwrap();
//! let to_channel = Conversion::new(host.plan(), CodePage::Cp933, CodePage::Cp949).unwrap();
//!
//! // 홍길동 in cp949 (C8AB B1E6 B5BF), four spaces, then +123 packed.
//! let channel = [0xC8, 0xAB, 0xB1, 0xE6, 0xB5, 0xBF, b' ', b' ', b' ', b' ', 0x12, 0x3C];
//! let mut host_bytes = Vec::new();
//! to_host.convert(&channel, &mut host_bytes).unwrap();
//! // SO, three double-byte syllables, SI: ten bytes, no room to spare; COMP-3 untouched.
//! assert_eq!(host_bytes[0], 0x0E);
//! assert_eq!(host_bytes[7], 0x0F);
//! assert_eq!(host_bytes[10..], [0x12, 0x3C]);
//! let mut back = Vec::new();
//! to_channel.convert(&host_bytes, &mut back).unwrap();
//! assert_eq!(back, channel);
//! ```

mod build;
mod error;
mod merge;
mod run;
#[cfg(test)]
mod tests;

pub use error::{ConvertError, ConvertPlanError};

use super::charset::CodePage;
use super::plan::Plan;
use super::zoned::{SignPosition, SignStyle};

/// A layout compiled for converting its records from one code page to another.
#[derive(Clone, Debug)]
pub struct Conversion {
    from: CodePage,
    to: CodePage,
    /// How the target writes overpunched and separate signs.
    style: SignStyle,
    record: Box<str>,
    max_size: usize,
    /// Each counter slot's field, for messages.
    counter_names: Box<[Box<str>]>,
    steps: Vec<Step>,
    maps: Box<Maps>,
}

/// Byte tables built once per pair of code pages.
#[derive(Clone, Debug)]
struct Maps {
    /// A source byte that is a whole character, to its single target byte; [`NONE`] where
    /// text must go through the general path (double-byte, shift bytes, no single byte).
    text: [u16; 256],
    /// A source digit byte to the target's digit byte; [`NONE`] if not a digit.
    digit: [u16; 256],
}

/// "No entry" in [`Maps`].
const NONE: u16 = 0xFFFF;

/// How one run of bytes converts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum How {
    /// Copied as it is: packed, binary, float, national, or kept raw.
    Copy,
    /// Text between two single-byte pages: a byte-for-byte table.
    Map,
    /// Text through the code pages (trim, transcode, pad).
    Text {
        /// JUST RIGHT: padded on the left.
        justified: bool,
    },
    /// Unsigned zoned digits without BLANK WHEN ZERO: byte for byte.
    Digits,
    /// Signed (or BLANK WHEN ZERO) zoned decimal.
    Zoned {
        /// Where the sign is.
        sign: SignPosition,
        /// Spaces mean zero.
        blank_when_zero: bool,
    },
    /// PIC G: double-byte characters without shift bytes.
    Dbcs,
}

impl How {
    /// Converts byte by byte, so runs of it may be cut or joined anywhere.
    fn byte_local(self) -> bool {
        matches!(self, How::Copy | How::Map | How::Digits)
    }

    fn describe(self) -> &'static str {
        match self {
            How::Copy => "packed, binary, float or national: copied",
            How::Map | How::Text { .. } => "text",
            How::Digits => "unsigned zoned digits",
            How::Zoned { .. } => "signed zoned decimal",
            How::Dbcs => "DBCS text",
        }
    }
}

/// One field (or a run of byte-local bytes) to convert.
#[derive(Clone, Debug)]
struct Seg {
    /// Offset from the enclosing table element (or record), largest form.
    offset: u32,
    len: u32,
    how: How,
    /// For messages; `[]` where a variable table's index goes.
    path: Box<str>,
}

/// A numeric field a `DEPENDING ON` table counts with, read from the source message.
#[derive(Clone, Debug)]
struct CounterRead {
    offset: u32,
    len: u32,
    kind: super::plan::LeafKind,
    slot: u8,
}

/// One step of a conversion.
#[derive(Clone, Debug)]
enum Step {
    /// Fields at fixed offsets from the same base (counters are read before the fields).
    Chunk { segs: Vec<Seg>, counters: Vec<CounterRead> },
    /// A table kept as a loop: variable (`DEPENDING ON`), or holding a variable table.
    Table { path: Box<str>, offset: u32, stride: u32, min: u32, max: u32, counter: Option<u8>, body: Vec<Step> },
}

impl Conversion {
    /// Compiles `plan` (the operation's layout, usually compiled for the host) for converting
    /// records from `from` to `to`. The plan's own code page does not matter: only its fields
    /// do. Fails when the layout is ambiguous for conversion or a field cannot be carried in
    /// both pages (see the module doc). With `from == to` nothing is checked and
    /// [`Conversion::is_identity`] is true.
    pub fn new(plan: &Plan, from: CodePage, to: CodePage) -> Result<Conversion, ConvertPlanError> {
        let style = super::plan::CodecOptions::for_codepage(to).sign_style;
        let steps = if from == to { Vec::new() } else { build::steps(plan, from, to)? };
        Ok(Conversion {
            from,
            to,
            style,
            record: plan.record.as_str().into(),
            max_size: plan.max_size,
            counter_names: plan.counter_names.iter().map(|n| n.as_str().into()).collect(),
            steps,
            maps: Box::new(Maps::new(from, to)),
        })
    }

    /// Same code page both ways: [`Conversion::convert`] copies, and a caller should simply
    /// pass the bytes through.
    pub fn is_identity(&self) -> bool {
        self.from == self.to
    }

    /// The source code page.
    pub fn from(&self) -> CodePage {
        self.from
    }

    /// The target code page.
    pub fn to(&self) -> CodePage {
        self.to
    }

    /// Size of the record's largest form (the header's size, for a header layout).
    pub fn max_size(&self) -> usize {
        self.max_size
    }

    /// Keeps the bytes `offset..offset + len` of the record (at a fixed position, before any
    /// `DEPENDING ON` table) as they are: for a header field a framing keeps a binary or BCD
    /// length in, which is not text whatever its picture says. The range must cover whole
    /// fields.
    pub fn keep_raw(&mut self, offset: usize, len: usize) -> Result<(), ConvertPlanError> {
        let end = offset.saturating_add(len);
        let cut = |field: &str, field_offset: usize, field_len: usize| ConvertPlanError::RawSplitsField {
            record: self.record.to_string(),
            offset,
            end,
            field: field.to_string(),
            field_offset,
            field_len,
        };
        for step in &mut self.steps {
            match step {
                Step::Chunk { segs, .. } => {
                    for seg in segs.iter_mut() {
                        let (lo, hi) = (seg.offset as usize, seg.offset as usize + seg.len as usize);
                        if lo >= end || hi <= offset {
                            continue;
                        }
                        if lo < offset || hi > end {
                            return Err(cut(&seg.path, lo, hi - lo));
                        }
                        seg.how = How::Copy;
                    }
                }
                Step::Table { path, offset: at, stride, max, .. } => {
                    let size = *stride as usize * *max as usize;
                    if (*at as usize) < end {
                        return Err(cut(path, *at as usize, size));
                    }
                }
            }
        }
        Ok(())
    }

    /// Converts one whole record (`src` must be exactly the record: what its counters make
    /// it) and appends it to `dst`. On error `dst` is left as it was.
    pub fn convert(&self, src: &[u8], dst: &mut Vec<u8>) -> Result<(), ConvertError> {
        self.convert_at(src, dst, 0)
    }

    /// [`Conversion::convert`] for a record that starts at `origin` in its message (offsets in
    /// errors are the message's).
    fn convert_at(&self, src: &[u8], dst: &mut Vec<u8>, origin: usize) -> Result<(), ConvertError> {
        let start = dst.len();
        dst.extend_from_slice(src);
        if self.is_identity() {
            return Ok(());
        }
        let out = dst.get_mut(start..).unwrap_or_default();
        let result = run::Run::new(self, src, out, origin).record();
        if result.is_err() {
            dst.truncate(start);
        }
        result
    }
}

/// Converts a whole message: the common header (fixed size) with `header`, and the body after
/// it, if any, with `body` (the operation's request layout towards the host, its response
/// layout towards the channel). A header-only message (an error reply) needs no body layout;
/// body bytes without one are [`ConvertError::NoLayout`]. `dst` is cleared first.
pub fn convert_message(
    header: &Conversion,
    body: Option<&Conversion>,
    src: &[u8],
    dst: &mut Vec<u8>,
) -> Result<(), ConvertError> {
    dst.clear();
    let split = header.max_size.min(src.len());
    header.convert_at(&src[..split], dst, 0)?;
    convert_body(header, body, src, dst)
}

/// The rest of [`convert_message`] once `dst` holds `src`'s header converted with `header`
/// (a caller that needed the header first, to read its operation, converts it only once): the
/// body after it, appended to `dst`.
///
/// # Errors
/// As [`convert_message`]'s for the body.
pub fn convert_body(
    header: &Conversion,
    body: Option<&Conversion>,
    src: &[u8],
    dst: &mut Vec<u8>,
) -> Result<(), ConvertError> {
    let split = header.max_size.min(src.len());
    let rest = &src[split..];
    if rest.is_empty() {
        return Ok(());
    }
    match body {
        Some(body) => body.convert_at(rest, dst, split),
        None if header.is_identity() => {
            dst.extend_from_slice(rest);
            Ok(())
        }
        None => Err(ConvertError::NoLayout { header: split, len: rest.len() }),
    }
}
