//! Why a frame could not be read or written.

use super::Trailer;

/// Why a frame could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The stated length is over the limit (or, writing, over what the length can state).
    #[error("message of {len} bytes is over the limit of {max}")]
    TooLarge {
        /// Stated length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The length does not hold a length: not digits, negative after the adjustment, shorter
    /// than the header; or, writing, a message whose length cannot be stated.
    #[error("bad length: {0}")]
    BadLength(String),
    /// The bytes after a message are not the link's trailer.
    #[error("message not followed by its trailer {want}: got 0x{got}", got = hex(got))]
    BadTrailer {
        /// The trailer the link expects.
        want: Trailer,
        /// The bytes found in its place.
        got: Vec<u8>,
    },
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}
