//! The classifier on its own: the issue's balance error is a finding, a per-call timestamp is
//! noise, and (properties) a field whose primary value is a function of the request is never
//! noise, whatever the shadow answers; nor is a constant offset, whatever the field; nor a
//! date column that rises down the rows of each reply; nor a primary whose state changes
//! between repeats while the shadow lags, nor a number that is no clock changing between them.

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

/// `seconds` since midnight as an HHMMSS number.
fn hhmmss(seconds: u64) -> u64 {
    let s = seconds % 86_400;
    s / 3600 * 10_000 + s % 3600 / 60 * 100 + s % 60
}

#[test]
fn two_clocks_read_one_after_the_other_are_noise_but_a_fixed_offset_is_not() {
    // Both sides stamp the time; the shadow answers 0 to 2 seconds later. Where the stamps
    // differ, the shadow's is ahead by a varying amount (+1, +2; +41 across a minute).
    let mut t = FieldTrack::new("HDR-TIME");
    let mut now = 10 * 3600 + 58 * 60;
    for serial in 0..40u64 {
        now += 7;
        let later = now + serial % 3;
        if later != now {
            t.count_message(serial);
            see(&mut t, serial % 4, "HDR-TIME", &json!(hhmmss(now)), &json!(hhmmss(later)));
        }
    }
    let r = t.report("HDR-TIME");
    assert_eq!(r.class, Class::PrimaryVaries, "{} / {:?}", r.why, r.delta);
    // The same clock with the shadow exactly one second ahead every time: an offset, a finding
    // (was noise: the constant-delta check skipped fields named like clocks).
    for name in ["HDR-TIMESTAMP", "BALANCE"] {
        let mut t = FieldTrack::new(name);
        let mut clock = 20260616101010u64;
        for serial in 0..20u64 {
            clock += 2;
            t.count_message(serial);
            see(&mut t, serial % 4, name, &json!(clock), &json!(clock + 1));
        }
        let r = t.report(name);
        assert_eq!((r.class, r.delta.as_deref()), (Class::Consistent, Some("always +1")), "{name}: {}", r.why);
    }
}

#[test]
fn a_clock_always_nine_hours_off_is_a_finding() {
    // TXN-TIME set by each side's clock; the new service writes UTC instead of KST: always
    // −90000 in HHMMSS, while the primary rises from message to message (a clock by name and
    // behaviour, on requests never repeated and repeated alike).
    for repeats in [false, true] {
        let mut t = FieldTrack::new("TXN-TIME");
        let mut hhmmss = 100000u64;
        for i in 0..40u64 {
            hhmmss += 1;
            t.count_message(i);
            let key = if repeats { i % 4 } else { 1000 + i };
            see(&mut t, key, "TXN-TIME", &json!(hhmmss), &json!(hhmmss - 90000));
        }
        let r = t.report("TXN-TIME");
        assert_eq!(r.class, Class::Consistent, "repeats {repeats}: {}", r.why);
        assert_eq!((r.delta.as_deref(), r.suggest()), (Some("always -90000"), None));
        assert!(r.why.contains("-90000"), "{}", r.why);
    }
}

#[test]
fn a_date_column_rising_down_the_rows_of_each_reply_is_no_clock() {
    // TXNHIST rows oldest first; the new service answers each row's date a day (or 70) late.
    // No request repeats, and nothing rises from message to message: no clock (it was one,
    // "rose on 152 of 159 successive messages", from the rows of each reply).
    let mut t = FieldTrack::new("TXN-ROW[*].TXN-DATE");
    for m in 0..8u64 {
        t.count_message(m);
        for row in 0..20u64 {
            let d = 20260101 + row;
            let wrong = if row % 3 == 0 { d + 1 } else { d + 70 };
            see(&mut t, 500 + m, &format!("TXN-ROW[{row}].TXN-DATE"), &json!(d), &json!(wrong));
        }
    }
    let r = t.report("TXN-ROW[*].TXN-DATE");
    assert!(!r.class.is_noise() && r.suggest().is_none(), "{:?}: {}", r.class, r.why);
    assert_eq!(r.class, Class::Unrepeated, "{}", r.why);
    // A time every row carries that moves from message to message is a clock still.
    let mut t = FieldTrack::new("TXN-ROW[*].PROC-TIME");
    for m in 0..30u64 {
        t.count_message(m);
        for row in 0..5u64 {
            see(&mut t, 500 + m, &format!("TXN-ROW[{row}].PROC-TIME"), &json!(101010 + m), &json!(0));
        }
    }
    let (class, why) = t.classify();
    assert_eq!(class, Class::Clock, "{why}");
    assert!(why.contains("rose on 29 of 29 successive messages"), "{why}");
}

#[test]
fn a_stale_balance_on_an_active_account_is_state_not_noise() {
    // The primary's BALANCE changes between inquiries because transfers happen in between; the
    // new service reads a lagging replica and answers the balance before the last transfer.
    let mut t = FieldTrack::new("BALANCE");
    let mut bal = 10_000i64;
    let mut serial = 0;
    for round in 0..6 {
        for key in [21u64, 22, 23, 24] {
            let stale = bal;
            bal -= 100 + 7 * round + key as i64; // a transfer between inquiries
            serial += 1;
            t.count_message(serial);
            see(&mut t, key, "BALANCE", &num(&format!("{bal}.00")), &num(&format!("{stale}.00")));
        }
    }
    let r = t.report("BALANCE");
    assert_eq!(r.class, Class::StateChanges, "{}", r.why);
    assert!(r.why.contains("state") && r.why.contains("replay"), "{}", r.why);
    assert_eq!(r.suggest(), None);
    let j = r.to_json(24);
    assert_eq!(j["kind"], "state_changes");
    assert!(j.get("suggest").is_none() && j["examples"].as_array().is_some_and(|e| e.len() == EXAMPLES), "{j}");
}

#[test]
fn a_shadow_one_repeat_behind_is_state_whatever_the_field() {
    // LAST-TXN-DATE moves when a transaction happens; the shadow answers the one before. Named
    // like a clock, and its primary varies for the same request — but the shadow lags it.
    let mut t = FieldTrack::new("LAST-TXN-DATE");
    let mut dates = [20260601u64, 20260602, 20260603];
    let mut serial = 0;
    for _ in 0..5 {
        for (key, date) in dates.iter_mut().enumerate() {
            let before = *date;
            *date += 1 + key as u64;
            serial += 1;
            t.count_message(serial);
            see(&mut t, key as u64, "LAST-TXN-DATE", &json!(*date), &json!(before));
        }
    }
    let (class, why) = t.classify();
    assert_eq!(class, Class::StateChanges, "{why}");
    assert!(why.contains("lags"), "{why}");
}

#[test]
fn text_that_comes_back_is_state_and_tokens_that_never_do_are_noise() {
    // ACCT-STATUS flips between A and D for the same account; the shadow says C: state.
    let mut t = FieldTrack::new("ACCT-STATUS");
    for n in 0..12u64 {
        see(&mut t, n % 3, "ACCT-STATUS", &json!(if (n / 3) % 2 == 0 { "A" } else { "D" }), &json!("C"));
    }
    let (class, why) = t.classify();
    assert_eq!(class, Class::StateChanges, "{why}");
    // A reference the host generates per call never comes back: noise.
    let mut t = FieldTrack::new("XFER-REF");
    for n in 0..12u64 {
        see(&mut t, n % 3, "XFER-REF", &json!(format!("R{:08X}", n.wrapping_mul(0x9E37_79B9))), &json!(""));
    }
    assert_eq!(t.classify().0, Class::PrimaryVaries);
    // A masked balance may be a number: its changes are state too.
    let mut t = FieldTrack::new("BALANCE");
    for n in 0..12u64 {
        see(&mut t, n % 3, "BALANCE", &json!(format!("mask:{n:016x}")), &json!("mask:0"));
    }
    assert_eq!(t.classify().0, Class::StateChanges);
}

#[test]
fn a_rising_sequence_number_on_distinct_requests_is_a_clock() {
    let mut t = FieldTrack::new("TXN-SEQ-NO");
    for n in 0..30u64 {
        t.count_message(n);
        see(&mut t, 1000 + n, "TXN-SEQ-NO", &json!(500 + n), &json!(7));
    }
    assert_eq!(t.classify().0, Class::Clock);
    // The same behaviour under a name that is no clock's is a finding.
    let mut t = FieldTrack::new("BALANCE");
    for n in 0..30u64 {
        t.count_message(n);
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

/// Cents as a number with two decimals (`-12.05`).
fn cents(c: i64) -> Value {
    num(&format!("{}{}.{:02}", if c < 0 { "-" } else { "" }, c.unsigned_abs() / 100, c.unsigned_abs() % 100))
}

/// Names of every kind: clocks, sequences, amounts, text, table columns.
fn any_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "BALANCE",
        "HDR-TIMESTAMP",
        "TXN-TIME",
        "TXN-SEQ-NO",
        "LAST-TXN-DATE",
        "CUST-NAME",
        "TXN-ROW[*].TXN-AMT",
        "TXN-ROW[*].TXN-DATE",
    ])
}

/// A table for one request: `rows` dates rising down the rows from `base`.
fn rising_rows(base: u64, steps: &[u64]) -> Vec<Value> {
    let mut d = base;
    steps
        .iter()
        .map(|s| {
            d += s;
            json!(d)
        })
        .collect()
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

    /// A shadow value that is the primary's plus one fixed non-zero amount is an offset — a
    /// finding — for every field, clocks included, however the primary behaves: rising from
    /// message to message, changing between repeats of a request, or neither.
    #[test]
    fn a_constant_offset_is_never_noise(
        name in any_name(),
        offset in prop_oneof![-100_000i64..0, 1i64..100_000],
        rising in any::<bool>(),
        keys in 1u64..12,
        steps in prop::collection::vec((0u64..64, 0i64..1_000_000), 0..120),
    ) {
        let mut t = FieldTrack::new(name);
        let mut clock = 20_000_000i64;
        for (serial, (key, value)) in steps.iter().enumerate() {
            clock += 1 + value % 5;
            let primary = if rising { clock } else { 200_000 + value };
            t.count_message(serial as u64);
            see(&mut t, key % keys, name, &cents(primary), &cents(primary + offset));
        }
        let (class, why) = t.classify();
        prop_assert!(!class.is_noise(), "{name} classified {class:?}: {why}");
    }

    /// A column whose values rise down the rows of each reply (dates oldest first) never makes
    /// a clock: over at most CLOCK_MIN_RISES requests, each with its own table, in any order,
    /// with any rows agreeing, whatever the shadow answers.
    #[test]
    fn rows_rising_within_a_reply_never_make_a_clock(
        name in prop::sample::select(vec!["TXN-ROW[*].TXN-DATE", "TXN-ROW[*].TXN-TIME", "ROW[*].SEQ-NO"]),
        tables in prop::collection::vec(
            (20_260_101u64..20_261_231, prop::collection::vec(1u64..40, 2..=20)),
            1..=CLOCK_MIN_RISES as usize,
        ),
        messages in prop::collection::vec((0usize..64, prop::collection::vec((any::<bool>(), value()), 20)), 0..60),
    ) {
        let tables: Vec<Vec<Value>> = tables.iter().map(|(base, steps)| rising_rows(*base, steps)).collect();
        let mut t = FieldTrack::new(name);
        for (serial, (i, shadows)) in messages.iter().enumerate() {
            let k = i % tables.len();
            t.count_message(serial as u64);
            for (row, (primary, (agree, shadow))) in tables[k].iter().zip(shadows).enumerate() {
                if !agree && shadow != primary {
                    let path = name.replace("[*]", &format!("[{row}]"));
                    see(&mut t, 7 + k as u64, &path, primary, shadow);
                }
            }
        }
        let (class, why) = t.classify();
        prop_assert!(!class.is_noise(), "{name} classified {class:?}: {why}");
    }

    /// A primary whose value for a request changes between repeats (state: a transfer, a new
    /// transaction) while the shadow answers the value the primary gave the time before is never
    /// noise, whatever the field, numbers or text.
    #[test]
    fn a_shadow_that_lags_the_primarys_state_is_never_noise(
        name in any_name(),
        text in any::<bool>(),
        keys in 1u64..12,
        steps in prop::collection::vec((0u64..64, 1i64..5_000), 0..120),
    ) {
        let mut t = FieldTrack::new(name);
        let mut state: Vec<i64> = (0..keys as i64).map(|k| 1_000_000 + 10_000 * k).collect();
        let render = |v: i64| if text { json!(format!("V{v}")) } else { cents(v) };
        for (serial, (key, step)) in steps.iter().enumerate() {
            let k = (key % keys) as usize;
            let before = state[k];
            state[k] += if step % 2 == 0 { *step } else { -step };
            t.count_message(serial as u64);
            see(&mut t, k as u64, name, &render(state[k]), &render(before));
        }
        let (class, why) = t.classify();
        prop_assert!(!class.is_noise(), "{name} classified {class:?}: {why}");
    }

    /// A number that is no time or sequence and changes between repeats of a request is state,
    /// never noise, whatever the shadow answers.
    #[test]
    fn a_number_that_is_no_clock_is_never_noise(
        name in prop::sample::select(vec!["BALANCE", "AVAIL-BAL", "TXN-ROW[*].TXN-AMT", "HOLD-CNT"]),
        keys in 1u64..12,
        steps in prop::collection::vec((0u64..64, 0i64..1_000_000, value()), 0..120),
    ) {
        let mut t = FieldTrack::new(name);
        for (serial, (key, primary, shadow)) in steps.iter().enumerate() {
            let primary = cents(*primary);
            if *shadow != primary {
                t.count_message(serial as u64);
                see(&mut t, key % keys, name, &primary, shadow);
            }
        }
        let (class, why) = t.classify();
        prop_assert!(!class.is_noise(), "{name} classified {class:?}: {why}");
    }
}
