//! Framing: where one message ends on a byte stream.
//!
//! Two habits: a binary big-endian length prefix (1, 2 or 4 bytes, not counting itself), and a
//! length carried as digits in a header field (the Korean 전문 habit: `HDR-MSG-LEN PIC 9(6)`
//! holding the whole message's length, in the message's code page). The length is read and
//! checked against the limit before anything is allocated for the body.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// Bytes reserved for a message body before any of it has arrived.
const INITIAL_CAPACITY: usize = 8 * 1024;

/// How messages are delimited on a stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// A binary length prefix of `width` (1, 2 or 4) bytes before the message.
    LengthPrefix {
        /// Width of the prefix in bytes.
        width: u8,
    },
    /// The message's total length as digits in a header field.
    LengthField {
        /// Offset of the field in the message.
        offset: usize,
        /// Width of the field in bytes.
        len: usize,
        /// Digits are EBCDIC (0xF0–0xF9) rather than ASCII.
        ebcdic: bool,
    },
}

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The stated length is over the limit.
    #[error("message of {len} bytes is over the limit of {max}")]
    TooLarge {
        /// Stated length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The length field does not hold digits, or holds a length shorter than the header.
    #[error("length field is not a valid length: {0}")]
    BadLength(String),
    /// The stream ended inside a frame.
    #[error("connection closed inside a message ({got} of {want} bytes)")]
    Truncated {
        /// Bytes received.
        got: usize,
        /// Bytes expected.
        want: usize,
    },
    /// The connection failed inside a frame, after part of it had arrived (a reset mid-reply).
    #[error("connection broken inside a message after {got} bytes: {source}")]
    Broken {
        /// Bytes of the frame received before the failure.
        got: usize,
        /// The failure.
        source: std::io::Error,
    },
    /// A frame that had started did not arrive in full within the read timeout (a slow sender).
    #[error("message not received in full within {ms} ms")]
    Timeout {
        /// The read timeout.
        ms: u64,
    },
    /// An I/O error before any byte of the frame arrived.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

impl Framing {
    /// Bytes that must be read before the message's length is known.
    pub fn head_len(&self) -> usize {
        match *self {
            Framing::LengthPrefix { width } => width as usize,
            Framing::LengthField { offset, len, .. } => offset + len,
        }
    }

    /// From the head bytes, the number of message bytes still to read after the head.
    pub fn remaining_len(&self, head: &[u8], max: usize) -> Result<usize, FrameError> {
        match *self {
            Framing::LengthPrefix { .. } => {
                let len = head.iter().fold(0usize, |acc, &b| (acc << 8) | b as usize);
                if len > max {
                    return Err(FrameError::TooLarge { len, max });
                }
                Ok(len)
            }
            Framing::LengthField { offset, len, ebcdic } => {
                let field = head.get(offset..offset + len).unwrap_or_default();
                let total = parse_digits(field, ebcdic)?;
                if total > max {
                    return Err(FrameError::TooLarge { len: total, max });
                }
                total.checked_sub(self.head_len()).ok_or_else(|| {
                    FrameError::BadLength(format!(
                        "{total} is shorter than the {} bytes before the body",
                        self.head_len()
                    ))
                })
            }
        }
    }

    /// Reads one message. `Ok(None)` means the peer closed cleanly between messages.
    pub async fn read<R: AsyncRead + Unpin>(&self, reader: &mut R, max: usize) -> Result<Option<Vec<u8>>, FrameError> {
        let head_len = self.head_len();
        let mut head = [0u8; 64];
        let head = head
            .get_mut(..head_len)
            .ok_or_else(|| FrameError::BadLength("length field too far into the header".into()))?;
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
        let rest = self.remaining_len(head, max)?;
        let keep_head = matches!(self, Framing::LengthField { .. });
        // Memory follows the bytes that actually arrive, not the length a sender claims: a
        // stalled peer that announced the maximum holds only what it sent.
        let mut message = Vec::with_capacity(rest.min(INITIAL_CAPACITY) + if keep_head { head_len } else { 0 });
        if keep_head {
            message.extend_from_slice(head);
        }
        let start = message.len();
        let result = (&mut *reader).take(rest as u64).read_to_end(&mut message).await;
        let filled = message.len() - start;
        if let Err(source) = result {
            return Err(FrameError::Broken { got: head_len + filled, source });
        }
        if filled < rest {
            return Err(FrameError::Truncated { got: filled, want: rest });
        }
        Ok(Some(message))
    }

    /// Writes one message with its framing (a length field must already be right in `message`).
    pub async fn write<W: AsyncWrite + Unpin>(&self, writer: &mut W, message: &[u8]) -> Result<(), FrameError> {
        if let Framing::LengthPrefix { width } = *self {
            let width = width as usize;
            let max = if width >= 8 { usize::MAX } else { (1usize << (8 * width)) - 1 };
            if message.len() > max {
                return Err(FrameError::TooLarge { len: message.len(), max });
            }
            let mut frame = Vec::with_capacity(width + message.len());
            frame.extend_from_slice(&(message.len() as u64).to_be_bytes()[8 - width..]);
            frame.extend_from_slice(message);
            writer.write_all(&frame).await?;
        } else {
            writer.write_all(message).await?;
        }
        writer.flush().await?;
        Ok(())
    }
}

/// Parses unsigned display digits (ASCII or EBCDIC).
fn parse_digits(field: &[u8], ebcdic: bool) -> Result<usize, FrameError> {
    let zero = if ebcdic { 0xF0 } else { b'0' };
    if field.is_empty() {
        return Err(FrameError::BadLength("empty length field".into()));
    }
    field.iter().try_fold(0usize, |acc, &b| {
        let d = b.wrapping_sub(zero);
        if d > 9 {
            return Err(FrameError::BadLength(format!("byte 0x{b:02X} is not a digit")));
        }
        acc.checked_mul(10)
            .and_then(|a| a.checked_add(d as usize))
            .ok_or_else(|| FrameError::BadLength("too many digits".into()))
    })
}

/// Writes `value` as zero-padded display digits into `field` (ASCII or EBCDIC).
pub fn write_digits(field: &mut [u8], value: usize, ebcdic: bool) -> bool {
    let zero = if ebcdic { 0xF0 } else { b'0' };
    let mut v = value;
    for b in field.iter_mut().rev() {
        *b = zero + (v % 10) as u8;
        v /= 10;
    }
    v == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn length_prefix_round_trip_and_limits() {
        for width in [1u8, 2, 4] {
            let f = Framing::LengthPrefix { width };
            let mut buf = Vec::new();
            f.write(&mut buf, b"hello").await.unwrap();
            assert_eq!(buf.len(), width as usize + 5);
            let got = f.read(&mut &buf[..], 100).await.unwrap();
            assert_eq!(got.as_deref(), Some(&b"hello"[..]));
        }
        let f = Framing::LengthPrefix { width: 4 };
        let lying = [0u8, 0, 0x10, 0];
        assert!(matches!(f.read(&mut &lying[..], 1024).await, Err(FrameError::TooLarge { len: 4096, max: 1024 })));
        let short = [0u8, 0, 0, 9, b'a'];
        assert!(matches!(f.read(&mut &short[..], 1024).await, Err(FrameError::Truncated { got: 1, want: 9 })));
        assert!(f.read(&mut &[][..], 1024).await.unwrap().is_none());
        let mut out = Vec::new();
        assert!(Framing::LengthPrefix { width: 1 }.write(&mut out, &[0u8; 300]).await.is_err());
    }

    #[tokio::test]
    async fn length_field_in_ebcdic_header() {
        let f = Framing::LengthField { offset: 0, len: 6, ebcdic: true };
        let mut msg = vec![0x40u8; 12];
        assert!(write_digits(&mut msg[..6], 12, true));
        assert_eq!(&msg[..6], &[0xF0, 0xF0, 0xF0, 0xF0, 0xF1, 0xF2]);
        let mut stream = msg.clone();
        stream.extend_from_slice(&msg);
        let mut reader = &stream[..];
        assert_eq!(f.read(&mut reader, 100).await.unwrap().unwrap(), msg);
        assert_eq!(f.read(&mut reader, 100).await.unwrap().unwrap(), msg);
        let mut bad = msg.clone();
        bad[2] = 0x40;
        assert!(matches!(f.read(&mut &bad[..], 100).await, Err(FrameError::BadLength(_))));
        let mut tiny = msg.clone();
        write_digits(&mut tiny[..6], 3, true);
        assert!(matches!(f.read(&mut &tiny[..], 100).await, Err(FrameError::BadLength(_))));
        assert!(!write_digits(&mut [0u8; 2], 100, false));
    }
}
