//! Unit tests of the framings, and the worked examples of docs/framing.md byte for byte.

use super::*;

fn parts(place: Place, width: usize, digits: Digits, counts: Counts) -> FramingParts {
    FramingParts { place, width, digits, counts, adjust: 0, trailer: Trailer::NONE }
}

fn hex_of(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ")
}

#[tokio::test]
async fn length_prefix_round_trip_and_limits() {
    for width in [1u8, 2, 4] {
        let f = Framing::prefix(width);
        let mut buf = Vec::new();
        f.write(&mut buf, b"hello").await.unwrap();
        assert_eq!(buf.len(), width as usize + 5);
        let got = f.read(&mut &buf[..], 100).await.unwrap();
        assert_eq!(got.as_deref(), Some(&b"hello"[..]));
    }
    let f = Framing::prefix(4);
    let lying = [0u8, 0, 0x10, 0];
    assert!(matches!(f.read(&mut &lying[..], 1024).await, Err(FrameError::TooLarge { len: 4096, max: 1024 })));
    let short = [0u8, 0, 0, 9, b'a'];
    assert!(matches!(f.read(&mut &short[..], 1024).await, Err(FrameError::Truncated { got: 1, want: 9 })));
    assert!(f.read(&mut &[][..], 1024).await.unwrap().is_none());
    let mut out = Vec::new();
    assert!(matches!(
        Framing::prefix(1).write(&mut out, &[0u8; 300]).await,
        Err(FrameError::TooLarge { len: 300, max: 255 })
    ));
    assert!(out.is_empty(), "nothing written for a message that cannot be framed");
}

#[tokio::test]
async fn length_field_in_ebcdic_header() {
    let f = Framing::field(0, 6, 10, true);
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
    // A length shorter than the header: refused before the header is read.
    let mut tiny = msg.clone();
    write_digits(&mut tiny[..6], 8, true);
    let err = f.read(&mut &tiny[..], 100).await.unwrap_err();
    assert!(err.to_string().contains("shorter than the 10-byte header"), "{err}");
    assert!(!write_digits(&mut [0u8; 2], 100, false));
}

#[test]
fn every_digit_kind_encodes_and_decodes_its_range() {
    for (digits, width, value, bytes) in [
        (Digits::Binary, 2, 300u64, vec![0x01, 0x2C]),
        (Digits::BinaryLe, 2, 300, vec![0x2C, 0x01]),
        (Digits::Ascii, 4, 300, b"0300".to_vec()),
        (Digits::Ebcdic, 4, 300, vec![0xF0, 0xF3, 0xF0, 0xF0]),
        (Digits::Bcd, 2, 300, vec![0x03, 0x00]),
        (Digits::Binary, 8, u64::MAX, vec![0xFF; 8]),
    ] {
        let mut dst = vec![0u8; width];
        assert!(digits.encode(&mut dst, value), "{digits:?}");
        assert_eq!(dst, bytes, "{digits:?}");
        assert_eq!(digits.decode(&bytes), Ok(value), "{digits:?}");
        assert!(!digits.encode(&mut vec![0u8; width], digits.max_value(width).saturating_add(1)) || width == 8);
    }
    assert!(Digits::Bcd.decode(&[0x1A]).unwrap_err().contains("BCD"));
    assert!(Digits::Ascii.decode(b"12 4").unwrap_err().contains("0x20 is not an ASCII digit"));
    assert!(Digits::Ebcdic.decode(b"1234").unwrap_err().contains("EBCDIC"));
}

#[test]
fn invalid_combinations_are_refused_with_a_reason() {
    let prefix = Place::Prefix;
    let field = Place::Field { offset: 0, header: 10 };
    let refused = [
        (parts(prefix, 3, Digits::Binary, Counts::After), "1, 2, 4 or 8 bytes"),
        (parts(prefix, 11, Digits::Ascii, Counts::After), "1 to 10 digits"),
        (parts(prefix, 6, Digits::Bcd, Counts::After), "1 to 5 bytes"),
        (parts(prefix, 4, Digits::Binary, Counts::Body), "counts = \"body\" is for a length_field"),
        (parts(prefix, 4, Digits::Binary, Counts::Message), "say counts = \"after\""),
        (parts(Place::Field { offset: 8, header: 10 }, 4, Digits::Ascii, Counts::Message), "ends past the header"),
        (FramingParts { adjust: -10_000, ..parts(prefix, 4, Digits::Ascii, Counts::After) }, "negative length"),
        (FramingParts { adjust: -100, ..parts(field, 2, Digits::Ascii, Counts::Message) }, "shorter than the 10-byte"),
        (FramingParts { adjust: 1 << 30, ..parts(prefix, 4, Digits::Binary, Counts::After) }, "at most"),
    ];
    for (p, why) in refused {
        let err = Framing::new(p).unwrap_err();
        assert!(err.contains(why), "{p:?}: {err}");
    }
    assert!(Framing::new(parts(field, 4, Digits::Ascii, Counts::Body)).is_ok());
}

#[test]
fn a_framing_in_words() {
    let f = Framing::new(FramingParts {
        adjust: -2,
        trailer: Trailer::new(&[0x03]).unwrap(),
        ..parts(Place::Prefix, 8, Digits::Ascii, Counts::After)
    })
    .unwrap();
    assert_eq!(
        f.to_string(),
        "8 ASCII digits length before each message, counting the bytes after it, -2 added to what it states; \
         each message followed by 0x03"
    );
    assert_eq!(
        Framing::field(0, 6, 40, true).to_string(),
        "length in the header at offset 0 (6 EBCDIC digits), counting the whole message"
    );
}

#[tokio::test]
async fn a_wrong_trailer_and_a_missing_one_are_errors() {
    let f = Framing::new(FramingParts {
        trailer: Trailer::new(b"ZZ").unwrap(),
        ..parts(Place::Prefix, 4, Digits::Ascii, Counts::After)
    })
    .unwrap();
    let good = f.frame(b"HELLO").unwrap();
    assert_eq!(good, b"0005HELLOZZ");
    assert_eq!(f.read(&mut &good[..], 100).await.unwrap().unwrap(), b"HELLO");
    let err = f.read(&mut &b"0005HELLOZY"[..], 100).await.unwrap_err();
    assert!(matches!(&err, FrameError::BadTrailer { got, .. } if got == b"ZY"), "{err}");
    assert!(err.to_string().contains("0x5A5A: got 0x5A59"), "{err}");
    assert!(matches!(f.read(&mut &b"0005HELLOZ"[..], 100).await, Err(FrameError::Truncated { got: 6, want: 7 })));
}

/// The worked examples of docs/framing.md: the message `HELLO` (or a 10-byte header `LLLLINQ101`
/// then `HELLO`) as each convention puts it on the wire.
#[test]
fn worked_examples_of_the_docs() {
    let prefix = |width, digits, counts| Framing::new(parts(Place::Prefix, width, digits, counts)).unwrap();
    let hello = b"HELLO";
    let cases = [
        (prefix(4, Digits::Binary, Counts::After), "00 00 00 05 48 45 4C 4C 4F"),
        (prefix(2, Digits::BinaryLe, Counts::After), "05 00 48 45 4C 4C 4F"),
        (prefix(8, Digits::Ascii, Counts::After), "30 30 30 30 30 30 30 35 48 45 4C 4C 4F"),
        (prefix(5, Digits::Ascii, Counts::All), "30 30 30 31 30 48 45 4C 4C 4F"),
        (prefix(4, Digits::Ebcdic, Counts::After), "F0 F0 F0 F5 48 45 4C 4C 4F"),
        (prefix(2, Digits::Bcd, Counts::After), "00 05 48 45 4C 4C 4F"),
    ];
    for (f, want) in cases {
        assert_eq!(hex_of(&f.frame(hello).unwrap()), want, "{f}");
    }
    let with_trailer = |trailer: &[u8], adjust| {
        Framing::new(FramingParts {
            adjust,
            trailer: Trailer::new(trailer).unwrap(),
            ..parts(Place::Prefix, 4, Digits::Ascii, Counts::After)
        })
        .unwrap()
    };
    assert_eq!(hex_of(&with_trailer(&[0x03], 0).frame(hello).unwrap()), "30 30 30 35 48 45 4C 4C 4F 03");
    assert_eq!(hex_of(&with_trailer(b"\r\n", -2).frame(hello).unwrap()), "30 30 30 37 48 45 4C 4C 4F 0D 0A");

    let field = |offset, header, counts| {
        Framing::new(parts(Place::Field { offset, header }, 4, Digits::Ascii, counts)).unwrap()
    };
    let message = b"0000INQ101HELLO";
    for (f, want) in [
        (field(0, 10, Counts::Message), "0015INQ101HELLO"),
        (field(0, 10, Counts::After), "0011INQ101HELLO"),
        (field(0, 10, Counts::Body), "0005INQ101HELLO"),
    ] {
        assert_eq!(String::from_utf8(f.frame(message).unwrap()).unwrap(), want, "{f}");
    }
    // A 9-byte transaction code before the length, which counts itself and what follows.
    let after_code = field(9, 13, Counts::All);
    assert_eq!(String::from_utf8(after_code.frame(b"TRX000001....HELLO").unwrap()).unwrap(), "TRX0000010009HELLO");
}
