//! cp949 (Unified Hangul Code, windows-949) through `encoding_rs`'s `EUC_KR`, which is that
//! code page under its WHATWG name: ASCII single bytes, every other character two bytes.
//!
//! Strict both ways: malformed bytes are an error with their offset, never U+FFFD, and a
//! character outside the page is an error, never an HTML numeric reference.

use encoding_rs::{DecoderResult, EncoderResult, EUC_KR};

use super::{CharsetError, Overflow};

const NAME: &str = "cp949";

/// Appends the text of `bytes`.
pub(super) fn decode(bytes: &[u8], out: &mut String) -> Result<(), CharsetError> {
    let mut decoder = EUC_KR.new_decoder_without_bom_handling();
    let mut offset = 0;
    loop {
        let rest = bytes.get(offset..).unwrap_or_default();
        let room = decoder.max_utf8_buffer_length_without_replacement(rest.len()).unwrap_or(rest.len());
        out.reserve(room);
        let (result, read) = decoder.decode_to_string_without_replacement(rest, out, true);
        offset += read;
        match result {
            DecoderResult::InputEmpty => return Ok(()),
            DecoderResult::OutputFull => continue, // not expected after the reserve above
            DecoderResult::Malformed(bad, after) => {
                let at = offset.saturating_sub(usize::from(bad) + usize::from(after));
                return Err(CharsetError::InvalidBytes { codepage: NAME, offset: at });
            }
        }
    }
}

/// Writes `text` into `dst`, padded with 0x20; a two-byte character is never split.
pub(super) fn encode(text: &str, dst: &mut [u8], overflow: Overflow) -> Result<(), CharsetError> {
    let mut encoder = EUC_KR.new_encoder();
    let (result, read, mut written) = encoder.encode_from_utf8_without_replacement(text, dst, true);
    match result {
        EncoderResult::InputEmpty => {}
        EncoderResult::Unmappable(ch) => return Err(CharsetError::Unmappable { ch, codepage: NAME }),
        EncoderResult::OutputFull => {
            // encoding_rs stops when fewer bytes are left than its longest character (two),
            // even before a one-byte character that fits: go on one character at a time,
            // writing each that still fits whole and measuring (and checking) the rest.
            let mut needed = written;
            let mut fits = true;
            let mut one = [0u8; 2];
            let rest = text.get(read..).unwrap_or_default();
            for (i, c) in rest.char_indices() {
                let ch = rest.get(i..i + c.len_utf8()).unwrap_or_default();
                let (result, _, n) = encoder.encode_from_utf8_without_replacement(ch, &mut one, false);
                if let EncoderResult::Unmappable(ch) = result {
                    return Err(CharsetError::Unmappable { ch, codepage: NAME });
                }
                needed += n;
                fits = fits && needed <= dst.len();
                if fits {
                    if let Some(slot) = dst.get_mut(written..written + n) {
                        slot.copy_from_slice(&one[..n]);
                    }
                    written += n;
                }
            }
            if needed > dst.len() && overflow == Overflow::Error {
                return Err(CharsetError::TooLong { needed, len: dst.len() });
            }
        }
    }
    if let Some(tail) = dst.get_mut(written..) {
        tail.fill(0x20);
    }
    Ok(())
}
