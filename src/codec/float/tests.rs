//! Tests of `codec::float`: hand-checked vectors and property tests.
use super::*;
use proptest::prelude::*;
use FloatFormat::*;

fn enc(text: &str, format: FloatFormat, len: usize) -> Result<Vec<u8>, NumError> {
    let mut dst = vec![0u8; len];
    encode_float(text, format, &mut dst).map(|()| dst)
}

fn dec(bytes: &[u8], format: FloatFormat) -> String {
    decode_float(bytes, format).unwrap()
}

#[test]
fn hfp_hand_checked_vectors() {
    for (text, bytes) in
        [("1", [0x41, 0x10, 0, 0]), ("-118.625", [0xC2, 0x76, 0xA0, 0x00]), ("0.1", [0x40, 0x19, 0x99, 0x9A])]
    {
        assert_eq!(enc(text, IbmHex, 4), Ok(bytes.to_vec()), "{text}");
        assert_eq!(dec(&bytes, IbmHex), text);
    }
    let long_tenth = [0x40, 0x19, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9A];
    assert_eq!(enc("0.1", IbmHex, 8), Ok(long_tenth.to_vec()));
    assert_eq!(dec(&long_tenth, IbmHex), "0.1");
    assert_eq!(enc("1.0E0", IbmHex, 4), Ok(vec![0x41, 0x10, 0, 0]));
    // A negative zero (the sign bit alone) decodes as -0 and encodes back to its bytes.
    assert_eq!(enc("-0", IbmHex, 4), Ok(vec![0x80, 0, 0, 0]));
    assert_eq!(enc("-0.00", IbmHex, 8), Ok(vec![0x80, 0, 0, 0, 0, 0, 0, 0]));
    assert_eq!(enc("0", IbmHex, 4), Ok(vec![0; 4]));
    assert_eq!(enc("-1E-200", IbmHex, 4), Ok(vec![0; 4]), "underflow is positive zero");
    assert_eq!(dec(&[0x80, 0, 0, 0], IbmHex), "-0");
    assert_eq!(dec(&[0x80, 0, 0, 0, 0, 0, 0, 0], IbmHex), "-0");
    assert_eq!(dec(&[0xC5, 0, 0, 0], IbmHex), "0", "a dirty zero cannot round-trip");
    assert_eq!(dec(&[0x45, 0, 0, 0], IbmHex), "0");
    assert_eq!(dec(&[0x41, 0x01, 0, 0], IbmHex), "0.0625"); // unnormalised
    assert_eq!(enc("0.0625", IbmHex, 4), Ok(vec![0x40, 0x10, 0, 0]));
    assert_eq!(dec(&[0x00, 0x10, 0, 0], IbmHex), "5.397605E-79"); // smallest normalised
    assert_eq!(dec(&[0x7F, 0xFF, 0xFF, 0xFF], IbmHex), "7.237005E75");
    assert_eq!(dec(&[0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], IbmHex), "7.2370055773322621E75");
    assert_eq!(dec(&[0x41, 0x10, 0, 0, 0, 0, 0, 1], IbmHex), "1.0000000000000002");
    assert_eq!(dec(&[0x4D, 0x10, 0, 0], IbmHex), "281475000000000"); // 2^48, 24-bit precision
    assert_eq!(dec(&[0x52, 0x10, 0, 0], IbmHex), "295148000000000000000"); // 2^68
                                                                           // 2^72 = 4.7223664828...E21, but below a power of 16 the step is 16 times finer, so
                                                                           // 4.722366E21 is nearer a lower pattern (1.7 steps of 2^48 down).
    assert_eq!(dec(&[0x53, 0x10, 0, 0], IbmHex), "4.722367E21");
    assert_eq!(enc("4.722367E21", IbmHex, 4), Ok(vec![0x53, 0x10, 0, 0]));
    assert_eq!(enc("4.722366E21", IbmHex, 4), Ok(vec![0x52, 0xFF, 0xFF, 0xFE]));
}

#[test]
fn hfp_range_edges() {
    assert_eq!(enc("1e76", IbmHex, 8), Err(NumError::Overflow { digits: 77, max: 75 }));
    assert_eq!(enc("7.3e75", IbmHex, 4), Err(NumError::Overflow { digits: 76, max: 75 }));
    assert_eq!(enc("7.237005e75", IbmHex, 4), Ok(vec![0x7F, 0xFF, 0xFF, 0xFF]));
    assert!(enc("7.2370056e75", IbmHex, 4).is_err()); // rounds up past the largest
    assert_eq!(enc("1e-999999", IbmHex, 8), Ok(vec![0; 8]));
    // Below 16^-65: exponent 0, unnormalised (gradual underflow), then zero.
    assert_eq!(enc("5e-80", IbmHex, 4), Ok(vec![0x00, 0x01, 0x7B, 0x6D]));
    assert_eq!(dec(&[0x00, 0x01, 0x7B, 0x6D], IbmHex), "5E-80");
    let tiniest = [0x00, 0x00, 0x00, 0x01];
    assert_eq!(enc(&dec(&tiniest, IbmHex), IbmHex, 4), Ok(tiniest.to_vec()));
    assert_eq!(enc("1e-86", IbmHex, 4), Ok(vec![0; 4]));
    assert_eq!(enc("1e99999999999999999999", IbmHex, 4), Err(NumError::Overflow { digits: 1 << 20, max: 75 }));
}

#[test]
fn hfp_boundaries_round_trip() {
    for exp in 0u64..128 {
        for frac in [0x10_0000u64, 0x10_0001, 0x1F_FFFF, 0x7F_FFFF, 0x80_0000, 0xFF_FFFF] {
            let short = exp << 24 | frac;
            let long = exp << 56 | frac << 32 | (frac & 0xFF_FFFF) << 8 | 0x5A;
            let (b4, b8) = ((short as u32).to_be_bytes(), long.to_be_bytes());
            assert_eq!(enc(&dec(&b4, IbmHex), IbmHex, 4), Ok(b4.to_vec()), "{b4:02X?}");
            assert_eq!(enc(&dec(&b8, IbmHex), IbmHex, 8), Ok(b8.to_vec()), "{b8:02X?}");
        }
    }
    for frac in [1u32, 2, 3, 0xF_FFFF] {
        let b4 = frac.to_be_bytes(); // exponent 0, unnormalised: kept as is
        assert_eq!(enc(&dec(&b4, IbmHex), IbmHex, 4), Ok(b4.to_vec()));
    }
}

#[test]
fn ieee() {
    assert_eq!(enc("1", IeeeBig, 4), Ok(vec![0x3F, 0x80, 0, 0]));
    assert_eq!(enc("0.1", IeeeBig, 8), Ok(0.1f64.to_bits().to_be_bytes().to_vec()));
    assert_eq!(dec(&0.1f64.to_bits().to_be_bytes(), IeeeBig), "0.1");
    assert_eq!(dec(&0.1f32.to_bits().to_be_bytes(), IeeeBig), "0.1");
    assert_eq!(dec(&1e300f64.to_bits().to_be_bytes(), IeeeBig), "1E300");
    assert_eq!(dec(&(-1.5e-7f64).to_bits().to_be_bytes(), IeeeBig), "-1.5E-7");
    assert_eq!(dec(&(-0.0f64).to_bits().to_be_bytes(), IeeeBig), "-0");
    assert_eq!(dec(&(-0.0f32).to_bits().to_be_bytes(), IeeeBig), "-0");
    assert_eq!(enc("-0.0", IeeeBig, 8), Ok((-0.0f64).to_bits().to_be_bytes().to_vec()));
    assert_eq!(enc("-0", IeeeBig, 4), Ok((-0.0f32).to_bits().to_be_bytes().to_vec()));
    assert_eq!(enc("-1E-400", IeeeBig, 8), Ok(vec![0; 8]), "underflow is positive zero");
    assert_eq!(decode_float(&f32::NAN.to_bits().to_be_bytes(), IeeeBig), Err(NumError::Syntax("NaN".into())));
    assert_eq!(
        decode_float(&f64::NEG_INFINITY.to_bits().to_be_bytes(), IeeeBig),
        Err(NumError::Syntax("-Infinity".into()))
    );
    assert_eq!(enc("1e39", IeeeBig, 4), Err(NumError::Overflow { digits: 40, max: 38 }));
    assert_eq!(enc("1e-50", IeeeBig, 4), Ok(vec![0; 4]));
    assert_eq!(enc("-1e-400", IeeeBig, 8), Ok(vec![0; 8]));
}

#[test]
fn rejects_bad_input() {
    for bad in ["", ".", "1.", "--1", "NaN", "inf", "infinity", "1e", " 1", "0x10", ".5"] {
        for format in [IbmHex, IeeeBig] {
            assert!(matches!(enc(bad, format, 4), Err(NumError::Syntax(_))), "{bad:?}");
        }
    }
    assert!(matches!(enc(&"1".repeat(2000), IbmHex, 8), Err(NumError::Syntax(_))));
    for n in [0, 2, 5, 16] {
        assert_eq!(decode_float(&vec![0; n], IbmHex), Err(NumError::Size(n)));
        assert_eq!(enc("1", IeeeBig, n), Err(NumError::Size(n)));
    }
}

/// The exact value of a short HFP pattern, as `f64` (24 bits always fit).
fn hfp_f64(bits: u32) -> f64 {
    let sign = if bits >> 31 == 1 { -1.0 } else { 1.0 };
    sign * f64::from(bits & 0xFF_FFFF) * 2f64.powi(4 * ((bits >> 24 & 0x7F) as i32 - 64) - 24)
}

proptest! {
    #[test]
    fn hfp_short_round_trip(sign: bool, exp in 0u32..128, frac in 0x10_0000u32..0x100_0000) {
        let bits = u32::from(sign) << 31 | exp << 24 | frac;
        let text = dec(&bits.to_be_bytes(), IbmHex);
        prop_assert_eq!(enc(&text, IbmHex, 4), Ok(bits.to_be_bytes().to_vec()), "{}", text);
        // Independent check: the text is within half a step of the exact value.
        let exact = hfp_f64(bits);
        let parsed: f64 = text.parse().unwrap();
        prop_assert!((parsed - exact).abs() <= exact.abs() * 2f64.powi(-20));
    }

    #[test]
    fn hfp_long_round_trip(sign: bool, exp in 0u64..128, frac in 0x10_0000_0000_0000u64..0x100_0000_0000_0000) {
        let bits = u64::from(sign) << 63 | exp << 56 | frac;
        let text = dec(&bits.to_be_bytes(), IbmHex);
        prop_assert_eq!(enc(&text, IbmHex, 8), Ok(bits.to_be_bytes().to_vec()), "{}", text);
    }

    #[test]
    fn hfp_unnormalised_reads_by_value(exp in 0u32..128, frac in 1u32..0x10_0000) {
        let bits = exp << 24 | frac;
        let text = dec(&bits.to_be_bytes(), IbmHex);
        let again = enc(&text, IbmHex, 4).unwrap();
        prop_assert_eq!(dec(&again, IbmHex), text);
        prop_assert_eq!(hfp_f64(u32::from_be_bytes(again.try_into().unwrap())), hfp_f64(bits));
    }

    #[test]
    fn ieee_round_trip(raw: u64, raw32: u32) {
        let x = f64::from_bits(raw);
        if x.is_finite() && x != 0.0 {
            let text = dec(&raw.to_be_bytes(), IeeeBig);
            prop_assert_eq!(enc(&text, IeeeBig, 8), Ok(raw.to_be_bytes().to_vec()));
        }
        let y = f32::from_bits(raw32);
        if y.is_finite() && y != 0.0 {
            let text = dec(&raw32.to_be_bytes(), IeeeBig);
            prop_assert_eq!(enc(&text, IeeeBig, 4), Ok(raw32.to_be_bytes().to_vec()));
        }
    }

    #[test]
    fn hfp_matches_decimal_rounding(mantissa in 1u64..10_000_000, exp in -80i32..70) {
        // For COMP-1, f64 arithmetic is exact enough to cross-check the nearest pattern.
        let text = format!("{mantissa}E{exp}");
        if let Ok(bytes) = enc(&text, IbmHex, 4) {
            let got = hfp_f64(u32::from_be_bytes(bytes.clone().try_into().unwrap()));
            let want: f64 = text.parse().unwrap();
            let step = got.abs() * 2f64.powi(-20);
            prop_assert!((got - want).abs() <= step, "{} -> {:?}", text, bytes);
        }
    }

    #[test]
    fn never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..10), text in "[-+0-9.eE]{0,30}", ieee: bool) {
        let format = if ieee { IeeeBig } else { IbmHex };
        let _ = decode_float(&bytes, format);
        let mut dst = [0u8; 8];
        let _ = encode_float(&text, format, &mut dst);
        let _ = encode_float(&text, format, &mut dst[..4]);
    }
}
