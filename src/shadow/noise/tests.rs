//! The classifier on its own: the issue's balance error is a finding, a per-call timestamp is
//! noise, and (property) a field whose primary value is a function of the request is never
//! noise, whatever the shadow answers.

use super::*;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

fn num(s: &str) -> Value {
    crate::codec::json::number_value(s)
}

fn see(t: &mut FieldTrack, key: u64, path: &str, primary: &Value, shadow: &Value) {
    t.observe(&Observation { key: Some(key), path, primary, shadow, id: Some("0000000001") });
}

#[test]
fn the_issues_balance_error_is_a_consistent_finding() {
    // BALANCE 0.01 too high, the same way every time, for 4 accounts asked 5 times each.
    let mut t = FieldTrack::new("BALANCE");
    for round in 0..5 {
        for (key, balance) in [(11u64, "9050.00"), (12, "120.50"), (13, "0.00"), (14, "77.70")] {
            // balance − (−0.01)
            let shadow = crate::shadow::delta::difference("-0.01".parse().unwrap(), balance.parse().unwrap()).unwrap();
            t.count_message(round * 4 + key);
            see(&mut t, key, "BALANCE", &num(balance), &num(&shadow.to_string()));
        }
    }
    let r = t.report("BALANCE");
    assert_eq!(r.class, Class::Consistent, "{}", r.why);
    assert_eq!(r.suggest(), None, "a finding is never suggested for ignore");
    assert_eq!(r.delta.as_deref(), Some("always +0.01"));
    assert_eq!(r.mismatches, 20);
    let j = r.to_json(20);
    assert_eq!(j["kind"], "consistent");
    assert!(j.get("suggest").is_none(), "{j}");
    assert_eq!(j["examples"][0]["primary"], num("9050.00"));
    assert_eq!(j["examples"][0]["shadow"], num("9050.01"));
}

#[test]
fn the_same_difference_on_every_repeat_is_consistent_even_for_text() {
    let mut t = FieldTrack::new("CUST-NAME");
    for _ in 0..3 {
        for key in 1..=4 {
            see(&mut t, key, "CUST-NAME", &json!(format!("NAME {key}")), &json!(format!("NAME {key}X")));
        }
    }
    assert_eq!(t.classify().0, Class::Consistent);
}

#[test]
fn a_timestamp_the_primary_sets_per_call_is_noise() {
    let mut t = FieldTrack::new("HDR-TIMESTAMP");
    let mut clock = 20260616101010u64;
    for _ in 0..5 {
        for key in 1..=4 {
            clock += 1;
            see(&mut t, key, "HDR-TIMESTAMP", &json!(clock), &json!(19990101000000u64));
        }
    }
    let r = t.report("HDR-TIMESTAMP");
    assert_eq!(r.class, Class::PrimaryVaries, "{}", r.why);
    assert_eq!(r.suggest().as_deref(), Some("ignore = [\"HDR-TIMESTAMP\"]"));
}

#[test]
fn two_clocks_a_second_apart_are_noise_but_a_balance_a_cent_apart_is_not() {
    // Both sides stamp the time; the shadow answers later, so whenever the stamps differ the
    // shadow's is one second ahead: "always +1", and still the host's clock moving on its own.
    for (name, noise) in [("HDR-TIMESTAMP", true), ("BALANCE", false)] {
        let mut t = FieldTrack::new(name);
        let mut clock = 20260616101010u64;
        for _ in 0..5 {
            for key in 1..=4 {
                clock += 2;
                see(&mut t, key, name, &json!(clock), &json!(clock + 1));
            }
        }
        let (class, why) = t.classify();
        assert_eq!(class.is_noise(), noise, "{name}: {class:?} {why}");
    }
}

#[test]
fn a_rising_sequence_number_on_distinct_requests_is_a_clock() {
    let mut t = FieldTrack::new("TXN-SEQ-NO");
    for n in 0..30u64 {
        see(&mut t, 1000 + n, "TXN-SEQ-NO", &json!(500 + n), &json!(7));
    }
    assert_eq!(t.classify().0, Class::Clock);
    // The same behaviour under a name that is no clock's is a finding.
    let mut t = FieldTrack::new("BALANCE");
    for n in 0..30u64 {
        see(&mut t, 1000 + n, "BALANCE", &json!(500 + n), &json!(7));
    }
    assert_eq!(t.classify().0, Class::Unrepeated);
}

#[test]
fn a_shadow_that_varies_while_the_primary_does_not() {
    let mut t = FieldTrack::new("AVAIL-BAL");
    for n in 0..12u64 {
        see(&mut t, n % 3, "AVAIL-BAL", &num("10.00"), &num(&format!("{n}.00")));
    }
    assert_eq!(t.classify().0, Class::ShadowVaries);
}

#[test]
fn table_elements_are_told_apart() {
    // Row 0 and row 1 of one request hold different values: not a primary that varies.
    let mut t = FieldTrack::new("TXN-ROW[*].TXN-AMT");
    for _ in 0..6 {
        for row in 0..2 {
            let path = format!("TXN-ROW[{row}].TXN-AMT");
            see(&mut t, 9, &path, &num(&format!("{row}.00")), &num("5.55"));
        }
    }
    assert_eq!(t.classify().0, Class::Consistent);
}

#[test]
fn memory_stays_bounded() {
    let mut t = FieldTrack::new("BALANCE");
    for key in 0..100_000u64 {
        see(&mut t, key, "BALANCE", &num("1.00"), &num("2.00"));
    }
    assert_eq!(t.slots.len(), KEY_SLOTS);
    assert_eq!(t.examples.len(), EXAMPLES);
    assert_eq!(t.report("BALANCE").delta.as_deref(), Some("always +1.00"));
}

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(256);
    ProptestConfig { cases, rng_seed: RngSeed::Fixed(11), ..ProptestConfig::default() }
}

/// A primary value: a number (of a few widths) or text, so clocks and deltas are both tried.
fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0u64..1_000_000).prop_map(|n| num(&format!("{}.{:02}", n / 100, n % 100))),
        (0u64..40).prop_map(|n| json!(20260616000000u64 + n)),
        "[A-Z ]{0,6}".prop_map(Value::from),
    ]
}

/// One message: which request (index), the shadow's answer (a value, or the primary's own
/// plus a small delta), and whether the shadow happened to agree.
fn step() -> impl Strategy<Value = (usize, Value, bool)> {
    (0usize..64, value(), any::<bool>())
}

fn run(name: &str, keys: &[u64], table: &[Value], steps: &[(usize, Value, bool)]) -> FieldTrack {
    let mut t = FieldTrack::new(name);
    for (serial, (i, shadow, agree)) in steps.iter().enumerate() {
        let k = i % keys.len();
        let primary = &table[k % table.len()];
        if *agree || shadow == primary {
            continue; // no difference, nothing to classify
        }
        t.count_message(serial as u64);
        see(&mut t, keys[k], name, primary, shadow);
    }
    t
}

proptest! {
    #![proptest_config(config())]

    /// Whatever its name (clock-like ones too), a field that is a function of the request is
    /// never noise while requests repeat (at most CLOCK_MIN_RISES distinct ones), whatever
    /// the shadow answers, even when request keys share slots.
    #[test]
    fn a_deterministic_primary_is_never_noise(
        name in prop::sample::select(vec!["BALANCE", "HDR-TIMESTAMP", "TXN-SEQ-NO", "LAST-TXN-DATE", "CUST-NAME"]),
        keys in prop::collection::vec(any::<u64>(), 1..=CLOCK_MIN_RISES as usize),
        table in prop::collection::vec(value(), 1..=CLOCK_MIN_RISES as usize),
        steps in prop::collection::vec(step(), 0..120),
    ) {
        let t = run(name, &keys, &table, &steps);
        let (class, why) = t.classify();
        prop_assert!(!class.is_noise(), "{name} classified {class:?}: {why}");
    }

    /// A field whose name is no clock's is never noise for a deterministic primary, over any
    /// number of distinct requests (more than the table remembers: evictions).
    #[test]
    fn a_deterministic_field_is_never_noise_over_many_requests(
        name in prop::sample::select(vec!["BALANCE", "AVAIL-BAL", "CUST-NAME", "TXN-ROW[*].TXN-AMT"]),
        seed in any::<u64>(),
        size in 1usize..2000,
        steps in prop::collection::vec((0usize..2000, value(), any::<bool>()), 0..400),
    ) {
        let keys: Vec<u64> = (0..size as u64).map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ seed).collect();
        let table: Vec<Value> = (0..size).map(|i| num(&format!("{}.00", (i as u64 ^ seed) % 997))).collect();
        let t = run(name, &keys, &table, &steps);
        let (class, why) = t.classify();
        prop_assert!(!class.is_noise(), "{name} classified {class:?}: {why}");
    }
}
