//! Every framing against its own encoder: for every combination of place (prefix or header
//! field), digits, width, counts, adjust and trailer, a message framed and read back is the
//! message (twice in a row on one stream, then a clean end); a length over the limit, a length
//! that is not one, a longer length than was sent, a wrong or missing trailer are each the
//! right error — never a panic, never a wrong message. What `Framing::write` puts on a stream
//! (a vectored write for a prefix, however the stream splits it) is what `Framing::frame` makes,
//! byte for byte; a message it cannot frame writes nothing. The whole grid once with fixed
//! messages, then random framings and messages (proptest, fixed seed).

use ficus::frame::{Counts, Digits, FrameError, Framing, FramingParts, Place, Trailer};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};
use std::future::Future;
use std::task::{Context, Poll, Waker};

const MAX: usize = 4096;
const DIGITS: [Digits; 5] = [Digits::Binary, Digits::BinaryLe, Digits::Ascii, Digits::Ebcdic, Digits::Bcd];
const COUNTS: [Counts; 4] = [Counts::After, Counts::All, Counts::Message, Counts::Body];
const TRAILERS: [&[u8]; 4] = [b"", b"ZZ", &[0x03], &[0xFF, 0xEF]];
const ADJUSTS: [i64; 3] = [-2, 0, 3];

fn widths(d: Digits) -> &'static [usize] {
    match d {
        Digits::Binary | Digits::BinaryLe => &[1, 2, 4, 8],
        Digits::Ascii | Digits::Ebcdic => &[1, 2, 4, 5, 6, 8, 10],
        Digits::Bcd => &[1, 2, 3, 5],
    }
}

/// Runs a read from memory (never pending) to its end.
fn read(f: &Framing, stream: &mut &[u8], max: usize) -> Result<Option<Vec<u8>>, FrameError> {
    let mut fut = std::pin::pin!(f.read(stream, max));
    match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(r) => r,
        Poll::Pending => panic!("a read from memory was pending"),
    }
}

/// A stream that takes at most `step` bytes per call (vectored or not), as a socket with a full
/// send buffer does; `step` changes after every call.
struct Trickle {
    got: Vec<u8>,
    step: usize,
}

impl Trickle {
    fn take(&mut self, bufs: &[std::io::IoSlice<'_>]) -> usize {
        let mut room = self.step;
        self.step = self.step % 7 + 1;
        let before = self.got.len();
        for b in bufs {
            let n = b.len().min(room);
            self.got.extend_from_slice(&b[..n]);
            room -= n;
            if room == 0 {
                break;
            }
        }
        self.got.len() - before
    }
}

impl tokio::io::AsyncWrite for Trickle {
    fn poll_write(mut self: std::pin::Pin<&mut Self>, _: &mut Context<'_>, buf: &[u8]) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Ok(self.take(&[std::io::IoSlice::new(buf)])))
    }
    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Poll::Ready(Ok(self.take(bufs)))
    }
    fn is_write_vectored(&self) -> bool {
        true
    }
    fn poll_flush(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
    fn poll_shutdown(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// What `Framing::write` puts on a stream that takes a few bytes per call, starting at `step`.
fn written(f: &Framing, message: &[u8], step: usize) -> Result<Vec<u8>, FrameError> {
    let mut stream = Trickle { got: Vec::new(), step };
    let result = {
        let mut fut = std::pin::pin!(f.write(&mut stream, message));
        match fut.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
            Poll::Ready(r) => r,
            Poll::Pending => panic!("a write to memory was pending"),
        }
    };
    match result {
        Ok(()) => Ok(stream.got),
        Err(e) => {
            assert!(
                stream.got.is_empty(),
                "{f}: {} bytes written for a message that cannot be framed",
                stream.got.len()
            );
            Err(e)
        }
    }
}

/// Where the length's bytes are on the wire.
fn length_at(f: &Framing) -> std::ops::Range<usize> {
    match f.place() {
        Place::Prefix => 0..f.width(),
        Place::Field { offset, .. } => offset..offset + f.width(),
    }
}

/// The checks of the module doc for one framing and one message.
fn check(f: &Framing, message: &[u8]) {
    let step = message.len() % 7 + 1;
    let wire = match f.frame(message) {
        Ok(w) => w,
        Err(FrameError::TooLarge { .. } | FrameError::BadLength(_)) => {
            assert!(f.writable(message.len()).is_err(), "{f}: frame and writable disagree");
            assert!(written(f, message, step).is_err(), "{f}: write sent what frame refused");
            return;
        }
        Err(e) => panic!("{f}: framing in memory failed: {e}"),
    };
    let sent = written(f, message, step).unwrap_or_else(|e| panic!("{f}: write failed: {e}"));
    assert_eq!(sent, wire, "{f}: write and frame put different bytes on the wire");
    assert!(wire.ends_with(f.trailer()), "{f}: no trailer");
    // A field framing's message carries its own length: framing it sets the field.
    let mut expect = message.to_vec();
    f.set_field(&mut expect).unwrap();
    let message = &expect[..];
    let mut stream = wire.clone();
    stream.extend_from_slice(&wire);
    let mut r = &stream[..];
    for _ in 0..2 {
        assert_eq!(read(f, &mut r, MAX).unwrap_or_else(|e| panic!("{f}: {e}")).as_deref(), Some(message), "{f}");
    }
    assert!(read(f, &mut r, MAX).unwrap().is_none(), "{f}: no clean end");

    if !message.is_empty() {
        let got = read(f, &mut &wire[..], message.len() - 1);
        assert!(matches!(got, Err(FrameError::TooLarge { .. }) | Err(FrameError::BadLength(_))), "{f}: limit: {got:?}");
    }
    let at = length_at(f);
    // Not a length: a byte no digit of these digits can be.
    if f.digits() != Digits::Binary && f.digits() != Digits::BinaryLe {
        let mut bad = wire.clone();
        bad[at.end - 1] = if f.digits() == Digits::Bcd { 0xAA } else { b'X' ^ 0x80 };
        let got = read(f, &mut &bad[..], MAX);
        assert!(matches!(got, Err(FrameError::BadLength(ref why)) if why.contains("0x")), "{f}: not digits: {got:?}");
    }
    // A longer length than was sent: never the message, never a longer one.
    let stated = f.digits().decode(&wire[at.clone()]).unwrap();
    let mut longer = wire.clone();
    if f.digits().encode(&mut longer[at.clone()], stated + 1) {
        let got = read(f, &mut &longer[..], MAX);
        assert!(matches!(got, Err(FrameError::Truncated { .. } | FrameError::TooLarge { .. })), "{f}: longer: {got:?}");
    }
    if !f.trailer().is_empty() {
        let mut wrong = wire.clone();
        *wrong.last_mut().unwrap() ^= 0x01;
        let got = read(f, &mut &wrong[..], MAX);
        assert!(matches!(got, Err(FrameError::BadTrailer { .. })), "{f}: wrong trailer: {got:?}");
        let got = read(f, &mut &wire[..wire.len() - 1], MAX);
        assert!(matches!(got, Err(FrameError::Truncated { .. })), "{f}: missing trailer: {got:?}");
    }
}

/// Every valid combination (an invalid one must say why).
fn grid() -> Vec<Framing> {
    let mut out = Vec::new();
    let places = [Place::Prefix, Place::Field { offset: 0, header: 12 }, Place::Field { offset: 3, header: 16 }];
    for place in places {
        for digits in DIGITS {
            for &width in widths(digits) {
                for counts in COUNTS {
                    for adjust in ADJUSTS {
                        for trailer in TRAILERS {
                            let trailer = Trailer::new(trailer).unwrap();
                            match Framing::new(FramingParts { place, width, digits, counts, adjust, trailer }) {
                                Ok(f) => out.push(f),
                                Err(why) => assert!(!why.is_empty()),
                            }
                        }
                    }
                }
            }
        }
    }
    out
}

#[test]
fn every_combination_reads_what_it_writes() {
    let framings = grid();
    // Prefixes (5 digit kinds) and both field places with every counts.
    assert!(framings.len() > 1500, "only {} framings", framings.len());
    for place_counts in [(true, Counts::All), (false, Counts::Body), (false, Counts::After)] {
        assert!(framings
            .iter()
            .any(|f| (f.place() == Place::Prefix) == place_counts.0 && f.counts() == place_counts.1));
    }
    for f in &framings {
        for len in [0usize, 5, 16, 17, 40, 300] {
            let message: Vec<u8> = (0..len).map(|i| (i * 7 + 3) as u8).collect();
            check(f, &message);
        }
    }
}

#[test]
fn random_framings_and_messages() {
    let framings = grid();
    let mut runner = TestRunner::new_with_rng(
        Config { cases: 3000, ..Config::default() },
        TestRng::from_seed(RngAlgorithm::ChaCha, &[15; 32]),
    );
    let strategy = (0..framings.len(), proptest::collection::vec(any::<u8>(), 0..600));
    runner
        .run(&strategy, |(i, message)| {
            check(&framings[i], &message);
            Ok(())
        })
        .unwrap();
}
