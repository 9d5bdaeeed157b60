//! Single-byte tables: the pages ASCII (high half read as Latin-1), cp037 and cp1047, and the
//! single-byte half of cp933/cp1364 that `dbcs` decodes through.
//!
//! ASCII, cp037 and cp1047 are bijections between the 256 bytes and U+0000..=U+00FF, so an
//! EBCDIC page is a byte-to-byte translation to Latin-1 followed by Latin-1 → UTF-8. Decoding
//! is on the hot path of every record: bytes are translated in stack chunks and
//! `encoding_rs::mem` (word-at-a-time for ASCII) writes the UTF-8 straight into the `String`,
//! with no per-character push and no `unsafe`. The Korean half does the same for stretches
//! that stay in Latin-1 and pushes characters one by one elsewhere.

use super::{CharsetError, Overflow};

include!("../tables/sbcs.rs");

/// Table value for a byte that has no character.
pub(super) const NONE: u16 = 0xFFFF;

/// Bytes translated per chunk; the UTF-8 of a chunk is at most twice as long.
const CHUNK: usize = 256;

/// Fields up to this long (most of a record's, once trimmed) are decoded character by
/// character: for them the chunked path's three passes (translate, check, copy) cost more in
/// calls than they save.
const SHORT: usize = 48;

/// A `str` of NULs that a chunk's UTF-8 overwrites in place (see [`append_latin1`]).
const ZEROS: &str = match std::str::from_utf8(&[0u8; 2 * CHUNK]) {
    Ok(s) => s,
    Err(_) => panic!("NUL bytes are UTF-8"),
};

/// An EBCDIC single-byte page as translations to and from Latin-1.
pub(super) struct SbcsPage {
    name: &'static str,
    to_latin1: [u8; 256],
    from_latin1: [u8; 256],
}

/// cp037, checked at compile time to be a bijection.
pub(super) static CP037_PAGE: SbcsPage = SbcsPage::new("cp037", &CP037);
/// cp1047, checked at compile time to be a bijection.
pub(super) static CP1047_PAGE: SbcsPage = SbcsPage::new("cp1047", &CP1047);

impl SbcsPage {
    /// Builds both directions; fails the build (const panic) unless `table` is a bijection
    /// onto U+0000..=U+00FF.
    const fn new(name: &'static str, table: &[u16; 256]) -> SbcsPage {
        let mut to_latin1 = [0u8; 256];
        let mut from_latin1 = [0u8; 256];
        let mut seen = [false; 256];
        let mut b = 0;
        while b < 256 {
            let u = table[b];
            assert!(u < 256, "single-byte table maps outside Latin-1");
            assert!(!seen[u as usize], "single-byte table maps two bytes to one character");
            seen[u as usize] = true;
            to_latin1[b] = u as u8;
            from_latin1[u as usize] = b as u8;
            b += 1;
        }
        SbcsPage { name, to_latin1, from_latin1 }
    }

    /// Appends the text of `bytes`.
    pub(super) fn decode(&self, bytes: &[u8], out: &mut String) {
        if bytes.len() <= SHORT {
            return append_short(bytes, out, |b| self.to_latin1[usize::from(b)]);
        }
        let mut buf = [0u8; CHUNK];
        for chunk in bytes.chunks(CHUNK) {
            for (d, &b) in buf.iter_mut().zip(chunk) {
                *d = self.to_latin1[usize::from(b)];
            }
            append_latin1(&buf[..chunk.len()], out);
        }
    }

    /// Writes `text` into `dst`, padded with 0x40.
    pub(super) fn encode(&self, text: &str, dst: &mut [u8], overflow: Overflow) -> Result<(), CharsetError> {
        if text.len() <= dst.len() && text.is_ascii() {
            // Common case: one byte per char, no overflow, nothing unmappable.
            let (head, tail) = dst.split_at_mut(text.len());
            for (d, b) in head.iter_mut().zip(text.bytes()) {
                *d = self.from_latin1[usize::from(b)];
            }
            tail.fill(0x40);
            return Ok(());
        }
        encode_chars(text, dst, overflow, 0x40, self.name, |c| self.byte_of(c))
    }

    /// The byte of `c`, if it is in Latin-1.
    pub(super) fn byte_of(&self, c: char) -> Option<u8> {
        let u = u8::try_from(u32::from(c)).ok()?;
        Some(self.from_latin1[usize::from(u)])
    }
}

/// Appends Latin-1 `bytes` (ASCII page: the field itself) as UTF-8.
pub(super) fn decode_latin1(bytes: &[u8], out: &mut String) {
    if bytes.len() <= SHORT {
        return append_short(bytes, out, |b| b);
    }
    for chunk in bytes.chunks(CHUNK) {
        append_latin1(chunk, out);
    }
}

/// Appends a short field (at most [`SHORT`] bytes) character by character, each byte taken to
/// its Latin-1 character by `latin1`, into room reserved once.
#[inline]
fn append_short(bytes: &[u8], out: &mut String, latin1: impl Fn(u8) -> u8) {
    out.reserve(2 * bytes.len());
    out.extend(bytes.iter().map(|&b| char::from(latin1(b))));
}

/// Appends one chunk of at most [`CHUNK`] Latin-1 bytes. ASCII (the usual case) is copied
/// as it is; otherwise `out` grows by NULs (valid UTF-8), `encoding_rs` overwrites them, and
/// what was not used is cut.
fn append_latin1(chunk: &[u8], out: &mut String) {
    if chunk.is_ascii() {
        if let Ok(ascii) = std::str::from_utf8(chunk) {
            out.push_str(ascii);
            return;
        }
    }
    let start = out.len();
    let room = ZEROS.get(..2 * chunk.len()).unwrap_or(ZEROS);
    out.push_str(room);
    let written = match out.get_mut(start..) {
        Some(dst) if dst.len() >= 2 * chunk.len() => encoding_rs::mem::convert_latin1_to_str(chunk, dst),
        _ => 0, // unreachable: chunks are at most CHUNK long
    };
    out.truncate(start + written);
}

/// A single-byte table whose characters are not all in Latin-1 (the Korean SBCS half),
/// with a fast path for stretches that are.
pub(super) struct MappedPage {
    table: &'static [u16; 256],
    to_latin1: [u8; 256],
    /// Bytes whose character is outside Latin-1, or that have none.
    special: [bool; 256],
}

/// The single-byte half of cp933/cp1364.
pub(super) static KOREAN_SBCS_PAGE: MappedPage = MappedPage::new(&KOREAN_SBCS);

impl MappedPage {
    const fn new(table: &'static [u16; 256]) -> MappedPage {
        let mut to_latin1 = [0u8; 256];
        let mut special = [true; 256];
        let mut b = 0;
        while b < 256 {
            if table[b] < 256 {
                to_latin1[b] = table[b] as u8;
                special[b] = false;
            }
            b += 1;
        }
        MappedPage { table, to_latin1, special }
    }

    /// Appends the text of `bytes` up to the first byte that has no character (for the
    /// Korean half: SO, SI, or an invalid byte) and returns that byte's offset, or
    /// `bytes.len()` if there is none.
    pub(super) fn decode_until_none(&self, bytes: &[u8], out: &mut String) -> usize {
        // Blocks of 16 are translated into `buf` until one has a special byte: short
        // stretches between double-byte runs cost little, long ones go at table speed.
        const BLOCK: usize = 16;
        let mut buf = [0u8; CHUNK];
        let mut n = 0;
        for (base, block) in (0..).step_by(BLOCK).zip(bytes.chunks(BLOCK)) {
            let mut special = false;
            let dst = buf.get_mut(n..n + block.len()).unwrap_or_default();
            for (d, &b) in dst.iter_mut().zip(block) {
                *d = self.to_latin1[usize::from(b)];
                special |= self.special[usize::from(b)];
            }
            if !special {
                n += block.len();
                if n + BLOCK > CHUNK {
                    append_latin1(&buf[..n], out);
                    n = 0;
                }
                continue;
            }
            append_latin1(&buf[..n], out);
            n = 0;
            for (k, &b) in block.iter().enumerate() {
                let u = self.table[usize::from(b)];
                match char::from_u32(u32::from(u)).filter(|_| u != NONE) {
                    Some(c) => out.push(c),
                    None => return base + k,
                }
            }
        }
        append_latin1(&buf[..n], out);
        bytes.len()
    }
}

/// ASCII page: `text` as Latin-1 bytes, padded with 0x20.
pub(super) fn encode_latin1(text: &str, dst: &mut [u8], overflow: Overflow) -> Result<(), CharsetError> {
    if text.len() <= dst.len() && text.is_ascii() {
        let (head, tail) = dst.split_at_mut(text.len());
        head.copy_from_slice(text.as_bytes());
        tail.fill(0x20);
        return Ok(());
    }
    encode_chars(text, dst, overflow, 0x20, "ascii", |c| u8::try_from(u32::from(c)).ok())
}

/// One byte per character through `map`, for any single-byte page.
fn encode_chars(
    text: &str,
    dst: &mut [u8],
    overflow: Overflow,
    space: u8,
    codepage: &'static str,
    map: impl Fn(char) -> Option<u8>,
) -> Result<(), CharsetError> {
    let mut needed = 0usize;
    for c in text.chars() {
        let b = map(c).ok_or(CharsetError::Unmappable { ch: c, codepage })?;
        if let Some(slot) = dst.get_mut(needed) {
            *slot = b;
        }
        needed += 1;
    }
    if needed > dst.len() && overflow == Overflow::Error {
        return Err(CharsetError::TooLong { needed, len: dst.len() });
    }
    if let Some(tail) = dst.get_mut(needed..) {
        tail.fill(space);
    }
    Ok(())
}
