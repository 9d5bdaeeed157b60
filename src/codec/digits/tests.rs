//! The digits' text is the decoded value's text, and a field is read here only when decoding
//! it succeeds: checked against `decode_number` + `Decimal` over random fields of every form.

use super::*;
use crate::codec::decimal::Decimal;
use crate::codec::decode::decode_number;
use proptest::prelude::*;

/// A byte that is often a valid digit, zone or sign for the kind, sometimes anything.
fn field_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        4 => (0u8..10).prop_map(|d| 0xF0 | d),
        3 => (0u8..10).prop_map(|d| 0x30 | d),
        4 => (0u8..10, 0u8..10).prop_map(|(h, l)| h << 4 | l),
        2 => (0u8..10, prop::sample::select(vec![0xAu8, 0xB, 0xC, 0xD, 0xE, 0xF])).prop_map(|(h, s)| h << 4 | s),
        2 => prop::sample::select(b"{}ABCIJKRpqy0".to_vec()),
        1 => (0u8..10).prop_map(|d| 0xC0 | d),
        1 => (0u8..10).prop_map(|d| 0xD0 | d),
        1 => Just(0x40u8),
        1 => any::<u8>(),
    ]
}

fn kind() -> impl Strategy<Value = LeafKind> {
    let sign = prop::sample::select(vec![
        SignPosition::None,
        SignPosition::TrailingOverpunch,
        SignPosition::LeadingOverpunch,
        SignPosition::TrailingSeparate,
    ]);
    prop_oneof![
        (1u32..=31, -6i32..=40, any::<bool>()).prop_map(|(digits, scale, signed)| LeafKind::Packed {
            scale,
            digits,
            signed
        }),
        (1u32..=38, -6i32..=45, sign, any::<bool>()).prop_map(|(digits, scale, sign, blank_when_zero)| {
            LeafKind::Zoned { sign, scale, digits, blank_when_zero }
        }),
    ]
}

fn size(kind: LeafKind) -> usize {
    match kind {
        LeafKind::Packed { digits, .. } => digits as usize / 2 + 1,
        LeafKind::Zoned { digits, sign, .. } => {
            digits as usize
                + usize::from(matches!(sign, SignPosition::TrailingSeparate | SignPosition::LeadingSeparate))
        }
        _ => 0,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]
    #[test]
    fn digits_text_is_the_decoded_values_text(
        kind in kind(),
        bytes in prop::collection::vec(field_byte(), 40),
        page in prop::sample::select(vec![CodePage::Ascii, CodePage::Cp037, CodePage::Cp1047]),
        uniform in any::<bool>(),
    ) {
        let mut bytes = bytes[..size(kind)].to_vec();
        if uniform {
            // Mostly valid: digits in the page's own zone, packed nibbles 0-9 and a sign.
            let zone = if page.is_ebcdic() { 0xF0 } else { 0x30 };
            let n = bytes.len();
            match kind {
                LeafKind::Zoned { .. } => {
                    for b in &mut bytes[..n.saturating_sub(1)] {
                        *b = zone | ((*b & 0x0F) % 10);
                    }
                }
                _ => {
                    for b in &mut bytes[..n - 1] {
                        *b = (((*b >> 4) % 10) << 4) | ((*b & 0x0F) % 10);
                    }
                    bytes[n - 1] = (((bytes[n - 1] >> 4) % 10) << 4) | [0xC, 0xD, 0xF][usize::from(bytes[n - 1]) % 3];
                }
            }
        }
        let mut room = [0u8; TEXT_ROOM];
        let fast = decimal_text(kind, &bytes, page, &mut room).map(str::to_string);
        let slow = decode_number(kind, &bytes, page).map(|(n, m, s)| Decimal::signed(n, m, s).to_string());
        match (&fast, &slow) {
            (Some(f), Ok(s)) => prop_assert_eq!(f, s),
            (Some(f), Err(e)) => prop_assert!(false, "read {f:?} where decode fails: {e}"),
            (None, Ok(s)) => {
                // Left to decode only for the forms this module does not read.
                let read_here = match kind {
                    LeafKind::Packed { .. } => true,
                    LeafKind::Zoned { sign, blank_when_zero, .. } => {
                        !blank_when_zero && matches!(sign, SignPosition::None | SignPosition::TrailingOverpunch)
                    }
                    _ => false,
                };
                prop_assert!(!read_here, "{kind:?} {bytes:02X?}: not read, decode gives {s}");
            }
            (None, Err(_)) => {}
        }
    }
}

#[test]
fn known_texts() {
    let text = |kind, bytes: &[u8]| {
        let mut room = [0u8; TEXT_ROOM];
        decimal_text(kind, bytes, CodePage::Cp037, &mut room).map(str::to_string)
    };
    let packed = |digits, scale, signed| LeafKind::Packed { scale, digits, signed };
    let zoned = |digits, scale, sign| LeafKind::Zoned { sign, scale, digits, blank_when_zero: false };
    assert_eq!(text(packed(5, 2, true), &[0x12, 0x34, 0x5D]).as_deref(), Some("-123.45"));
    assert_eq!(text(packed(5, 2, true), &[0x00, 0x00, 0x0D]).as_deref(), Some("-0.00"));
    assert_eq!(text(packed(3, 5, true), &[0x00, 0x5C]).as_deref(), Some("0.00005"));
    assert_eq!(text(packed(3, -2, true), &[0x12, 0x3C]).as_deref(), Some("12300"));
    assert_eq!(text(packed(3, -2, true), &[0x00, 0x0C]).as_deref(), Some("0"));
    assert_eq!(text(packed(3, 0, false), &[0x12, 0x3D]), None, "negative in an unsigned field");
    assert_eq!(text(packed(4, 0, true), &[0x11, 0x23, 0x4C]), None, "the unused nibble is not zero");
    assert_eq!(text(zoned(4, 0, SignPosition::None), &[0xF0, 0xF0, 0xF4, 0xF2]).as_deref(), Some("42"));
    assert_eq!(text(zoned(4, 0, SignPosition::None), &[0xF0, 0xF0, 0xF0, 0xF0]).as_deref(), Some("0"));
    assert_eq!(text(zoned(3, 1, SignPosition::TrailingOverpunch), &[0xF1, 0xF2, 0xD3]).as_deref(), Some("-12.3"));
    assert_eq!(text(zoned(3, 1, SignPosition::None), &[0xF1, 0x40, 0xF3]), None, "a space is not a digit");
    assert_eq!(text(zoned(2, 0, SignPosition::LeadingSeparate), &[0x4E, 0xF1, 0xF2]), None, "left to decode");
}
