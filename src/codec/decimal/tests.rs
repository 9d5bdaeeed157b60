//! Tests of `codec::decimal`: hand-checked vectors and property tests.
use super::*;
use proptest::prelude::*;

fn d(s: &str) -> Decimal {
    s.parse().unwrap()
}

#[test]
fn parses_json_numbers() {
    assert_eq!(d("-12.50"), Decimal::new(true, 1250, 2));
    assert_eq!(d("0"), Decimal::ZERO);
    assert_eq!(d("1e3"), Decimal::new(false, 1, -3));
    assert_eq!(d("1.5E-2"), Decimal::new(false, 15, 3));
    assert_eq!(d("+5"), Decimal::new(false, 5, 0));
    assert_eq!(d("1E+3"), Decimal::new(false, 1, -3));
    // A negative zero keeps its sign (a host writes X'0D'); it still equals zero by value.
    assert_eq!(d("-0.00"), Decimal::signed(true, 0, 2));
    assert_eq!(d("-0.00").to_string(), "-0.00");
    assert_eq!(d("-0").rescale(2).unwrap().to_string(), "-0.00");
    assert_eq!(d("-0.00").cmp_value(&Decimal::ZERO), Ordering::Equal);
    assert!(d("-0").is_negative_zero() && !d("0").is_negative_zero());
    assert_eq!(d("0.000"), Decimal { coefficient: 0, scale: 3, negative: false });
    assert_eq!(d("007"), Decimal::new(false, 7, 0));
    let long = Decimal::new(false, POW10[37], -3);
    assert_eq!(d(&format!("1{}", "0".repeat(40))), long);
    assert_eq!(d(&long.to_string()).cmp_value(&long), Ordering::Equal);
    assert_eq!(format!("1{}1", "0".repeat(40)).parse::<Decimal>(), Err(DecimalError::TooManyDigits));
    assert_eq!(format!("1{}.0", "0".repeat(40)).parse::<Decimal>(), Err(DecimalError::TooManyDigits));
    let forty_with_leading_zeros = format!("0.000{}", "9".repeat(38));
    assert_eq!(d(&forty_with_leading_zeros).digit_count(), 38);
}

#[test]
fn rejects_non_numbers() {
    for bad in ["", ".", "1.", "--1", "NaN", "-", "+", ".5", "1e", "1e+", "1 ", " 1", "0x1", "1.2.3", "١"] {
        assert!(matches!(bad.parse::<Decimal>(), Err(DecimalError::Syntax(_))), "{bad:?}");
    }
    assert_eq!("9".repeat(39).parse::<Decimal>(), Err(DecimalError::TooManyDigits));
    assert_eq!(format!("1.{}", "0".repeat(38)).parse::<Decimal>(), Err(DecimalError::TooManyDigits));
    assert_eq!("1e-5000".parse::<Decimal>(), Err(DecimalError::TooManyDigits));
    assert_eq!("1e99999999999999999999".parse::<Decimal>(), Err(DecimalError::TooManyDigits));
    let long = "x".repeat(1000);
    assert_eq!(long.parse::<Decimal>(), Err(DecimalError::Syntax("x".repeat(64))));
}

#[test]
fn prints_exact_scale() {
    let cases = [((1234, 2), "12.34"), ((5, 3), "0.005"), ((0, 2), "0.00"), ((12, -3), "12000"), ((0, -3), "0")];
    for ((c, s), text) in cases {
        assert_eq!(Decimal::new(false, c, s).to_string(), text);
    }
    assert_eq!(Decimal::new(true, 1250, 2).to_string(), "-12.50");
    assert_eq!(Decimal::new(true, 0, 1).to_string(), "0.0");
    assert_eq!(Decimal::new(false, u128::MAX, 0).to_string(), u128::MAX.to_string());
    assert_eq!(Decimal::new(false, 1, 70).to_string(), format!("0.{}1", "0".repeat(69)));
    assert_eq!(Decimal::new(false, 7, -100).to_string(), format!("7{}", "0".repeat(100)));
    assert_eq!(format!("[{:>8}]", Decimal::new(true, 15, 1)), "[    -1.5]");
}

#[test]
fn rescales_exactly() {
    assert_eq!(d("1.50").rescale(1), Ok(d("1.5")));
    assert!(matches!(d("1.55").rescale(1), Err(DecimalError::Inexact { scale: 1, .. })));
    assert_eq!(d("1.5").rescale(3), Ok(Decimal::new(false, 1500, 3)));
    assert_eq!(d("-12000").rescale(-3), Ok(Decimal::new(true, 12, -3)));
    assert_eq!(d("0.00").rescale(i32::MIN), Ok(Decimal::new(false, 0, i32::MIN)));
    assert_eq!(d("1").rescale(38), Err(DecimalError::TooManyDigits));
    assert_eq!(d("1").rescale(37), Ok(Decimal::new(false, POW10[37], 37)));
    assert_eq!(d("1").rescale(i32::MAX), Err(DecimalError::TooManyDigits));
    assert!(matches!(d("1").rescale(-39), Err(DecimalError::Inexact { .. })));
    let wide = Decimal::new(false, POW10[35] * 3, 30);
    assert_eq!(wide.rescale(5), Ok(Decimal::new(false, 3 * POW10[10], 5)));
}

#[test]
fn compares_by_value() {
    use Ordering::*;
    assert_eq!(d("1.50").cmp_value(&d("1.5")), Equal);
    assert_eq!(Decimal { coefficient: 0, scale: 0, negative: true }.cmp_value(&Decimal::ZERO), Equal);
    assert_eq!(d("-2").cmp_value(&d("1")), Less);
    assert_eq!(d("-2").cmp_value(&d("-1.99")), Less);
    assert_eq!(d("12000").cmp_value(&d("12e3")), Equal);
    assert_eq!(d("0.1").cmp_value(&d("0.09999999999999999999999999999999999")), Greater);
    let max = Decimal::new(false, u128::MAX, 0);
    assert_eq!(max.cmp_value(&Decimal::new(false, 9, -38)), Less);
    assert_eq!(Decimal::new(false, 1, i32::MIN).cmp_value(&Decimal::new(false, 1, i32::MAX)), Greater);
    assert_eq!(d("0").digit_count(), 0);
    assert_eq!(d("-100.0").digit_count(), 4);
}

proptest! {
    #[test]
    fn display_parse_round_trip(c in 0u128..POW10[31], scale in -40i32..=40, negative: bool) {
        let v = Decimal::new(negative, c, scale);
        let back: Decimal = v.to_string().parse().unwrap();
        prop_assert_eq!(back.cmp_value(&v), Ordering::Equal);
        if scale >= 0 {
            prop_assert_eq!(back, v);
        }
    }

    #[test]
    fn parse_never_panics(s in "\\PC{0,50}", t in "[-+0-9.eE]{0,50}") {
        let _ = s.parse::<Decimal>();
        let _ = t.parse::<Decimal>();
    }

    #[test]
    fn cmp_matches_rescaled(a in 0u128..POW10[18], b in 0u128..POW10[18], sa in 0i32..18, sb in 0i32..18) {
        let (x, y) = (Decimal::new(false, a, sa), Decimal::new(false, b, sb));
        let (xs, ys) = (a * POW10[(18 - sa) as usize], b * POW10[(18 - sb) as usize]);
        prop_assert_eq!(x.cmp_value(&y), xs.cmp(&ys));
    }
}

#[test]
fn sums_are_exact_at_the_larger_scale() {
    assert_eq!(d("1.5").checked_add(&d("2.25")).unwrap().to_string(), "3.75");
    assert_eq!(d("10.00").checked_add(&d("-10")).unwrap().to_string(), "0.00");
    assert!(!d("-0.00").checked_add(&d("0")).unwrap().negative, "a zero sum is positive");
    assert_eq!(d("-3").checked_add(&d("1.10")).unwrap().to_string(), "-1.90");
    assert_eq!(d("0.1").checked_add(&d("0.2")).unwrap().to_string(), "0.3", "no binary fractions");
    let max = Decimal::new(false, POW10[38] - 1, 0);
    assert_eq!(max.checked_add(&d("1")), None, "39 digits: refused, never wrapped");
    assert_eq!(max.checked_add(&d("-1")).unwrap(), Decimal::new(false, POW10[38] - 2, 0));
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 2000,
        rng_seed: proptest::test_runner::RngSeed::Fixed(14),
        ..ProptestConfig::default()
    })]
    /// Sums of amounts in cents agree with integer arithmetic, in any order.
    #[test]
    fn sums_agree_with_integer_cents(amounts in proptest::collection::vec(-10_i64.pow(13)..10_i64.pow(13), 0..40)) {
        let mut total = Decimal::new(false, 0, 2);
        for a in &amounts {
            let cents = Decimal::new(*a < 0, u128::from(a.unsigned_abs()), 2);
            total = total.checked_add(&cents).unwrap();
        }
        let expected: i128 = amounts.iter().map(|a| i128::from(*a)).sum();
        prop_assert_eq!(total.scale, 2);
        prop_assert_eq!(total.negative, expected < 0);
        prop_assert_eq!(total.coefficient, expected.unsigned_abs());
        let mut reversed = Decimal::ZERO;
        for a in amounts.iter().rev() {
            reversed = reversed.checked_add(&Decimal::new(*a < 0, u128::from(a.unsigned_abs()), 2)).unwrap();
        }
        prop_assert_eq!(reversed.cmp_value(&total), Ordering::Equal);
    }
}
