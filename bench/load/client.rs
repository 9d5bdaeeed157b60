//! One keep-alive HTTP/1.1 connection of the load generator: a prebuilt request goes out in
//! one write, the reply is read by its `Content-Length`.
//!
//! It does not pipeline, follow redirects or read chunked bodies: every target in this
//! benchmark answers with a `Content-Length`, and anything else counts as an error. Kept
//! deliberately small so that the generator's own cost per request is the same for every target.

use std::io;
use std::net::SocketAddr;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Largest response head accepted before the reply is called malformed.
const MAX_HEAD: usize = 16 * 1024;
/// Largest response body accepted.
const MAX_BODY: usize = 1 << 20;

/// The request bytes for POSTing `message` (one fixed-width message) over keep-alive HTTP/1.1.
pub fn http_request(message: &[u8]) -> Vec<u8> {
    let head = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\n\r\n",
        message.len()
    );
    let mut out = head.into_bytes();
    out.extend_from_slice(message);
    out
}

/// Where a request's message id is, so every request can carry its own number, as channels
/// number their messages (the gateway never reuses a host connection for a message with the
/// same id as its last one, so a constant id would measure connection set-up, not proxying).
#[derive(Clone, Debug)]
pub struct Numbering {
    /// Offset of the id's digits in the whole HTTP request.
    pub at: usize,
    /// How many digits.
    pub len: usize,
    /// EBCDIC digits (0xF0–0xF9) rather than ASCII.
    pub ebcdic: bool,
    /// The next number, shared by every connection.
    pub next: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl Numbering {
    /// The numbering of `request` (an HTTP request carrying `message`) for a message id at
    /// `span` (offset, length) of the message, if the table names one.
    pub fn of(request: &[u8], message_len: usize, span: Option<(usize, usize)>, ebcdic: bool) -> Option<Numbering> {
        let (offset, len) = span?;
        let at = request.len() - message_len + offset;
        Some(Numbering { at, len, ebcdic, next: Default::default() })
    }

    /// Writes the next number into `request`.
    pub fn stamp(&self, request: &mut [u8]) {
        let mut n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let zero = if self.ebcdic { 0xF0 } else { b'0' };
        for b in request[self.at..self.at + self.len].iter_mut().rev() {
            *b = zero + (n % 10) as u8;
            n /= 10;
        }
    }
}

/// What one exchange returned.
#[derive(Clone, Copy, Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body length in bytes.
    pub body_len: usize,
    /// The server said `Connection: close`: open a new connection for the next request.
    pub close: bool,
}

/// A client connection with its read buffer.
pub struct Conn {
    stream: TcpStream,
    buf: Vec<u8>,
    /// Bytes of `buf` that belong to the last reply (dropped before the next read).
    consumed: usize,
    /// Where the last reply's body starts in `buf`.
    body_start: usize,
}

fn bad(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

/// Parses a complete response head at the start of `buf`: (head length, status,
/// content length, close). `None` while the head is incomplete.
fn parse_head(buf: &[u8]) -> io::Result<Option<(usize, u16, usize, bool)>> {
    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
        return if buf.len() > MAX_HEAD { Err(bad("response head too large")) } else { Ok(None) };
    };
    let head = std::str::from_utf8(&buf[..end]).map_err(|_| bad("response head is not UTF-8"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or("");
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| bad(format!("bad status line {status_line:?}")))?;
    let (mut length, mut close) = (None, false);
    for line in lines {
        let Some((name, value)) = line.split_once(':') else { continue };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            length = value.parse::<usize>().ok();
        } else if name.eq_ignore_ascii_case("connection") {
            close = value.eq_ignore_ascii_case("close");
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            return Err(bad(format!("transfer-encoding {value} is not supported")));
        }
    }
    let length = length.ok_or_else(|| bad(format!("status {status} without Content-Length")))?;
    if length > MAX_BODY {
        return Err(bad(format!("body of {length} bytes is too large")));
    }
    Ok(Some((end + 4, status, length, close)))
}

impl Conn {
    /// Connects to `addr` with `TCP_NODELAY` (every target sets it too).
    pub async fn connect(addr: SocketAddr) -> io::Result<Conn> {
        let stream = TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        Ok(Conn { stream, buf: Vec::with_capacity(4096), consumed: 0, body_start: 0 })
    }

    /// Sends `request` (a whole HTTP request) and reads one reply.
    pub async fn exchange(&mut self, request: &[u8]) -> io::Result<Reply> {
        self.buf.drain(..self.consumed);
        self.consumed = 0;
        self.stream.write_all(request).await?;
        loop {
            if let Some((head, status, body_len, close)) = parse_head(&self.buf)? {
                while self.buf.len() < head + body_len {
                    self.fill().await?;
                }
                self.body_start = head;
                self.consumed = head + body_len;
                return Ok(Reply { status, body_len, close });
            }
            self.fill().await?;
        }
    }

    /// The last reply's body.
    pub fn body(&self) -> &[u8] {
        &self.buf[self.body_start..self.consumed]
    }

    async fn fill(&mut self) -> io::Result<()> {
        if self.stream.read_buf(&mut self.buf).await? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "server closed the connection"));
        }
        Ok(())
    }
}
