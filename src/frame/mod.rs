//! Framing: where one message ends on a byte stream, for the channel listener and the TCP
//! upstreams alike.
//!
//! A length says where a message ends. It sits either **before** the message (a prefix, not part
//! of the message passed on) or **inside** the common header (a field: the message is passed on
//! whole). Its bytes are binary (either byte order), ASCII or EBCDIC digits, or BCD
//! ([`Digits`]); it counts the bytes after it, itself too, the whole message or the body
//! ([`Counts`]); an `adjust` is added to what it states; and a fixed [`Trailer`] may follow
//! each message. The length is read and checked (digits, sign after the adjustment, header size,
//! limit) before anything is allocated for the body. The trailer is never counted by the length
//! (a link whose length counts it says `adjust = -N`).
//!
//! What this module does not do: read the header's meaning (`header`), or decide what a bad
//! frame costs the connection (`server::tcp`, `upstream::pool`).

mod error;
mod length;
mod trailer;
mod words;

pub use error::FrameError;
pub use length::{write_digits, Counts, Digits, COUNTS_NAMES, DIGITS_NAMES};
pub use trailer::{Trailer, TrailerSpec, MAX_TRAILER};

use std::io::IoSlice;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Bytes reserved for a message body before any of it has arrived.
const INITIAL_CAPACITY: usize = 8 * 1024;

/// Most digits a length before the message may have (ten already state 10 GB).
pub const MAX_PREFIX_DIGITS: usize = 10;
/// Most digits a length field in a header may have (a copybook fixes it; u64 holds 19).
pub const MAX_FIELD_DIGITS: usize = 18;
/// Largest `adjust` either way.
pub const MAX_ADJUST: i64 = 1 << 24;

/// Where the length is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// Before the message, not part of it (stripped on read, written on send).
    Prefix,
    /// A field of the common header: the message is passed on whole, length and all.
    Field {
        /// Offset of the field in the message.
        offset: usize,
        /// Size of the common header (a message is never shorter; `body` counts after it).
        header: usize,
    },
}

/// How messages are delimited on a stream. Build one with [`Framing::new`] (checked),
/// [`Framing::prefix`] or [`Framing::field`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Framing {
    place: Place,
    width: usize,
    digits: Digits,
    counts: Counts,
    adjust: i64,
    trailer: Trailer,
}

/// The parts of a framing, as routes.toml gives them (checked by [`Framing::new`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FramingParts {
    /// Before the message, or in a header field.
    pub place: Place,
    /// Bytes of the length.
    pub width: usize,
    /// How its bytes hold the number.
    pub digits: Digits,
    /// What it counts.
    pub counts: Counts,
    /// Added to the stated length to get the counted bytes.
    pub adjust: i64,
    /// Bytes after every message (may be none).
    pub trailer: Trailer,
}

impl Framing {
    /// A binary big-endian prefix of `width` bytes counting the bytes after it (the classic
    /// `length_prefix = 4`).
    pub const fn prefix(width: u8) -> Framing {
        Framing {
            place: Place::Prefix,
            width: width as usize,
            digits: Digits::Binary,
            counts: Counts::After,
            adjust: 0,
            trailer: Trailer::NONE,
        }
    }

    /// A header field at `offset` of `width` display digits (EBCDIC or ASCII) counting the
    /// whole message (the classic `length_field = "HDR-MSG-LEN"`); `header` is the header's size.
    pub const fn field(offset: usize, width: usize, header: usize, ebcdic: bool) -> Framing {
        Framing {
            place: Place::Field { offset, header },
            width,
            digits: if ebcdic { Digits::Ebcdic } else { Digits::Ascii },
            counts: Counts::Message,
            adjust: 0,
            trailer: Trailer::NONE,
        }
    }

    /// A framing from its parts, or why they do not make one (the reason names the setting).
    pub fn new(p: FramingParts) -> Result<Framing, String> {
        let max_text = if p.place == Place::Prefix { MAX_PREFIX_DIGITS } else { MAX_FIELD_DIGITS };
        if let Some(allowed) = p.digits.width_problem(p.width, max_text) {
            let what = if p.place == Place::Prefix { "length_prefix" } else { "the length field" };
            return Err(format!("{what} is {} bytes: {} lengths take {allowed}", p.width, p.digits.name()));
        }
        match (p.place, p.counts) {
            (Place::Prefix, Counts::Message) => {
                return Err("counts = \"message\" is for a length_field; a prefix is not part of the message: \
                            say counts = \"after\" (the message after it) or \"all\" (the prefix too)"
                    .into())
            }
            (Place::Prefix, Counts::Body) => {
                return Err("counts = \"body\" is for a length_field in the header; a prefix counts \"after\" \
                            (the message after it) or \"all\" (the prefix too)"
                    .into())
            }
            (Place::Field { offset, header }, _) if offset + p.width > header => {
                return Err(format!("the length field (offset {offset}, {} bytes) ends past the header", p.width))
            }
            _ => {}
        }
        if p.adjust.abs() > MAX_ADJUST {
            return Err(format!("adjust = {}: at most {MAX_ADJUST} either way", p.adjust));
        }
        let framing = Framing {
            place: p.place,
            width: p.width,
            digits: p.digits,
            counts: p.counts,
            adjust: p.adjust,
            trailer: p.trailer,
        };
        let largest = i128::from(p.digits.max_value(p.width)) + i128::from(p.adjust);
        if framing.message_len(largest) < framing.min_len() as i128 {
            return Err(format!(
                "adjust = {}: even the largest length {} {} can state ({}) would leave {}",
                p.adjust,
                p.width,
                p.digits.words(),
                p.digits.max_value(p.width),
                framing.too_short_words()
            ));
        }
        Ok(framing)
    }

    /// Where the length is.
    pub fn place(&self) -> Place {
        self.place
    }
    /// Bytes of the length.
    pub fn width(&self) -> usize {
        self.width
    }
    /// How the length's bytes hold its number.
    pub fn digits(&self) -> Digits {
        self.digits
    }
    /// What the length counts.
    pub fn counts(&self) -> Counts {
        self.counts
    }
    /// Added to the stated length.
    pub fn adjust(&self) -> i64 {
        self.adjust
    }
    /// The bytes after every message (empty: none).
    pub fn trailer(&self) -> &[u8] {
        self.trailer.as_bytes()
    }

    /// The header field holding the length (offset, width), for a field framing.
    pub fn field_span(&self) -> Option<(usize, usize)> {
        match self.place {
            Place::Field { offset, .. } => Some((offset, self.width)),
            Place::Prefix => None,
        }
    }

    /// True when `other` reads and writes the length the same way (trailers aside): two
    /// framings naming one header field must, since the message passes between them untouched.
    pub fn same_length(&self, other: &Framing) -> bool {
        Framing { trailer: Trailer::NONE, ..*self } == Framing { trailer: Trailer::NONE, ..*other }
    }

    /// Bytes that must be read before the message's length is known.
    pub fn head_len(&self) -> usize {
        match self.place {
            Place::Prefix => self.width,
            Place::Field { offset, .. } => offset + self.width,
        }
    }

    /// The fewest bytes a message may have.
    fn min_len(&self) -> usize {
        match self.place {
            Place::Prefix => 0,
            Place::Field { header, .. } => header,
        }
    }

    fn too_short_words(&self) -> String {
        match self.place {
            Place::Prefix => "a negative length".into(),
            Place::Field { header, .. } => format!("a message shorter than the {header}-byte header"),
        }
    }

    /// The bytes a length counts in a message of `len` bytes (trailer aside).
    fn counted(&self, len: usize) -> i128 {
        let len = len as i128;
        match (self.place, self.counts) {
            (Place::Prefix, Counts::All) => len + self.width as i128,
            (Place::Prefix, _) | (Place::Field { .. }, Counts::Message) => len,
            (Place::Field { offset, .. }, Counts::All) => len - offset as i128,
            (Place::Field { offset, .. }, Counts::After) => len - (offset + self.width) as i128,
            (Place::Field { header, .. }, Counts::Body) => len - header as i128,
        }
    }

    /// The message length for `counted` counted bytes (the inverse of [`Framing::counted`]).
    fn message_len(&self, counted: i128) -> i128 {
        counted - self.counted(0)
    }

    /// The length a message of `len` bytes states, or why it cannot be stated.
    fn stated_for(&self, len: usize) -> Result<u64, FrameError> {
        if len < self.min_len() {
            return Err(FrameError::BadLength(format!(
                "a {len}-byte message is {}",
                self.too_short_words().replace("a message ", "")
            )));
        }
        let stated = self.counted(len) - i128::from(self.adjust);
        let max = self.digits.max_value(self.width);
        if stated < 0 {
            return Err(FrameError::BadLength(format!(
                "a {len}-byte message would state {stated} (adjust {})",
                self.adjust
            )));
        }
        if stated > i128::from(max) {
            let fits = self.message_len(i128::from(max) + i128::from(self.adjust)).max(0);
            return Err(FrameError::TooLarge { len, max: usize::try_from(fits).unwrap_or(usize::MAX) });
        }
        Ok(stated as u64)
    }

    /// The message length a stated length means, checked against the header size and `max`.
    fn len_for_stated(&self, stated: u64, max: usize) -> Result<usize, FrameError> {
        let len = self.message_len(i128::from(stated) + i128::from(self.adjust));
        if len < self.min_len() as i128 {
            let adjusted = if self.adjust == 0 { String::new() } else { format!(" (adjust {})", self.adjust) };
            return Err(FrameError::BadLength(format!(
                "{stated}{adjusted} counting {} leaves {}",
                self.counts,
                self.too_short_words()
            )));
        }
        if len > max as i128 {
            return Err(FrameError::TooLarge { len: usize::try_from(len).unwrap_or(usize::MAX), max });
        }
        Ok(len as usize)
    }

    /// The stated length in `head` (its first [`Framing::head_len`] bytes).
    fn stated_in(&self, head: &[u8]) -> Result<u64, FrameError> {
        let at = self.head_len() - self.width;
        let bytes = head.get(at..at + self.width).unwrap_or_default();
        self.digits.decode(bytes).map_err(|why| FrameError::BadLength(format!("{why} (length 0x{})", hex(bytes))))
    }

    /// For a field framing, the message length the field in `message` claims (no limit);
    /// `None` for a prefix.
    pub fn claimed_len(&self, message: &[u8]) -> Option<Result<usize, FrameError>> {
        self.field_span()?;
        if message.len() < self.head_len() {
            return Some(Err(FrameError::BadLength(format!("a {}-byte message has no length field", message.len()))));
        }
        Some(self.stated_in(message).and_then(|s| self.len_for_stated(s, usize::MAX)))
    }

    /// For a field framing, writes `message`'s own length into its field; a prefix: nothing.
    pub fn set_field(&self, message: &mut [u8]) -> Result<(), FrameError> {
        let Some((offset, width)) = self.field_span() else { return Ok(()) };
        let stated = self.stated_for(message.len())?;
        if let Some(dst) = message.get_mut(offset..offset + width) {
            self.digits.encode(dst, stated);
        }
        Ok(())
    }

    /// Whether a message of `len` bytes can be framed (its length stated) at all.
    pub fn writable(&self, len: usize) -> Result<(), FrameError> {
        self.stated_for(len).map(|_| ())
    }

    /// The bytes that carry `message` on the wire: prefix, message (a length field set to its
    /// length), trailer.
    pub fn frame(&self, message: &[u8]) -> Result<Vec<u8>, FrameError> {
        let stated = self.stated_for(message.len())?;
        let prefix = if self.place == Place::Prefix { self.width } else { 0 };
        let mut out = Vec::with_capacity(prefix + message.len() + self.trailer.as_bytes().len());
        out.resize(prefix, 0);
        self.digits.encode(&mut out[..prefix], stated);
        let at = out.len();
        out.extend_from_slice(message);
        if let Some((offset, width)) = self.field_span() {
            self.digits.encode(&mut out[at + offset..at + offset + width], stated);
        }
        out.extend_from_slice(self.trailer.as_bytes());
        Ok(out)
    }

    /// Reads one message (without prefix or trailer). `Ok(None)` means the peer closed cleanly
    /// between messages.
    pub async fn read<R: AsyncRead + Unpin>(&self, reader: &mut R, max: usize) -> Result<Option<Vec<u8>>, FrameError> {
        let head_len = self.head_len();
        // The head is small (a prefix, or a header up to its length field): on the stack.
        let (mut small, mut big) = ([0u8; 64], Vec::new());
        let head: &mut [u8] = if head_len <= small.len() {
            &mut small[..head_len]
        } else {
            big.resize(head_len, 0);
            &mut big
        };
        let mut got = 0;
        while got < head_len {
            let n = match reader.read(&mut head[got..]).await {
                Ok(n) => n,
                Err(e) if got == 0 => return Err(FrameError::Io(e)),
                Err(source) => return Err(FrameError::Broken { got, source }),
            };
            if n == 0 {
                return if got == 0 { Ok(None) } else { Err(FrameError::Truncated { got, want: head_len }) };
            }
            got += n;
        }
        let len = self.len_for_stated(self.stated_in(head)?, max)?;
        let kept = if self.place == Place::Prefix { 0 } else { head_len };
        let trailer = self.trailer.as_bytes();
        let rest = len - kept + trailer.len();
        // Memory follows the bytes that actually arrive, not the length a sender claims: a
        // stalled peer that announced the maximum holds only what it sent.
        let mut message = Vec::with_capacity(rest.min(INITIAL_CAPACITY) + kept);
        message.extend_from_slice(&head[..kept]);
        let start = message.len();
        let result = (&mut *reader).take(rest as u64).read_to_end(&mut message).await;
        let filled = message.len() - start;
        if let Err(source) = result {
            return Err(FrameError::Broken { got: head_len + filled, source });
        }
        if filled < rest {
            return Err(FrameError::Truncated { got: filled, want: rest });
        }
        if !trailer.is_empty() {
            let got = message.split_off(len);
            if got != trailer {
                return Err(FrameError::BadTrailer { want: self.trailer, got });
            }
        }
        Ok(Some(message))
    }

    /// Writes one message with its framing (a length field is set to the message's length).
    ///
    /// A prefix framing writes prefix, message and trailer in one vectored write (`writev`): the
    /// message is not copied. A length field inside the message is set in a copy ([`Self::frame`]).
    pub async fn write<W: AsyncWrite + Unpin>(&self, writer: &mut W, message: &[u8]) -> Result<(), FrameError> {
        let mut prefix = [0u8; 32];
        if self.place == Place::Prefix && self.width <= prefix.len() {
            let stated = self.stated_for(message.len())?;
            let prefix = &mut prefix[..self.width];
            self.digits.encode(prefix, stated);
            let mut parts = [IoSlice::new(prefix), IoSlice::new(message), IoSlice::new(self.trailer.as_bytes())];
            write_all_vectored(writer, &mut parts).await?;
        } else {
            writer.write_all(&self.frame(message)?).await?;
        }
        writer.flush().await?;
        Ok(())
    }
}

/// Writes every byte of `parts`, in order, however the writer splits them.
async fn write_all_vectored<W: AsyncWrite + Unpin>(
    writer: &mut W,
    mut parts: &mut [IoSlice<'_>],
) -> std::io::Result<()> {
    IoSlice::advance_slices(&mut parts, 0);
    while !parts.is_empty() {
        match writer.write_vectored(parts).await? {
            0 => return Err(std::io::ErrorKind::WriteZero.into()),
            n => IoSlice::advance_slices(&mut parts, n),
        }
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

#[cfg(test)]
mod tests;
