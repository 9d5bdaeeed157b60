//! Every date and time the simulators make up is one a bank engineer would believe: a real
//! calendar day (`YYYYMMDD`) and a real time of day (`HHMMSS`), checked by an independent
//! calendar over the seeded ledger, the clock conversion and transfers at random moments.

use super::ledger::{hhmmss, Ledger, ACCOUNTS, FIRST_ACCOUNT};
use super::ops::{civil, serve};
use proptest::prelude::*;
use serde_json::json;

fn leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// A real calendar day from 1970 to 9999.
fn valid_date(d: u32) -> bool {
    let (y, m, day) = (d / 10_000, d / 100 % 100, d % 100);
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap(y) => 29,
        2 => 28,
        _ => return false,
    };
    (1970..=9999).contains(&y) && (1..=days).contains(&day)
}

/// A real time of day.
fn valid_time(t: u32) -> bool {
    t / 10_000 < 24 && t / 100 % 100 < 60 && t % 100 < 60
}

fn history_is_valid(ledger: &Ledger) -> Result<(), String> {
    for i in 0..ACCOUNTS {
        let number = (FIRST_ACCOUNT + i).to_string();
        for t in ledger.account(&number).map_err(|r| format!("{r:?}"))?.history {
            if !valid_date(t.date) || !valid_time(t.time) {
                return Err(format!("{number}: {} {:06} is not a real date and time", t.date, t.time));
            }
        }
    }
    Ok(())
}

#[test]
fn the_seeded_history_has_real_dates_and_times() {
    assert_eq!(history_is_valid(&Ledger::seeded()), Ok(()));
}

#[test]
fn the_checker_knows_a_bad_time_and_date() {
    // The seeded ledger used to hold 09:90:34.
    assert!(!valid_time(99034) && !valid_time(240000) && !valid_time(125960));
    assert!(!valid_date(20260230) && !valid_date(20261301) && !valid_date(20260100));
    assert!(valid_date(20240229) && !valid_date(20230229) && !valid_date(21000229) && valid_date(20000229));
    assert_eq!(civil(0), (19700101, 0));
    assert_eq!(civil(951_782_400 + 3_600 * 13 + 60 * 5 + 9), (20000229, 130509));
}

proptest! {
    #[test]
    fn every_clock_reading_is_a_real_date_and_time(secs in 0u64..253_402_300_800) {
        let (date, time) = civil(secs);
        prop_assert!(valid_date(date), "{secs} → date {date}");
        prop_assert!(valid_time(time), "{secs} → time {time:06}");
        prop_assert_eq!(time, hhmmss((secs % 86_400) as u32));
        // The next day is a later date; the same day's seconds keep it.
        let (next, _) = civil(secs + 86_400);
        prop_assert!(next > date, "{date} then {next}");
        prop_assert_eq!(civil(secs - secs % 86_400).0, date);
    }

    #[test]
    fn transfers_at_any_moment_keep_the_history_real(
        moments in proptest::collection::vec((0u64..253_402_300_800, 0u64..10, 0u64..10, 1u32..50_000), 1..8)
    ) {
        let ledger = Ledger::seeded();
        for (secs, from, to, cents) in moments {
            let request = json!({
                "FROM-ACCT": (FIRST_ACCOUNT + from).to_string(),
                "TO-ACCT": (FIRST_ACCOUNT + to).to_string(),
                "AMOUNT": f64::from(cents) / 100.0,
                "MEMO": "PROP",
            });
            serve(&ledger, "XFER", &request, civil(secs));
        }
        prop_assert_eq!(history_is_valid(&ledger), Ok(()));
        let rows = serve(&ledger, "TXNHIST", &json!({ "ACCT-NO": FIRST_ACCOUNT.to_string(), "MAX-ROWS": 50 }), civil(0));
        for row in rows.and_then(|r| r.response).map(|r| r["TXN-ROW"].as_array().cloned().unwrap_or_default()).unwrap_or_default() {
            let (d, t) = (row["TXN-DATE"].as_u64().unwrap_or(0) as u32, row["TXN-TIME"].as_u64().unwrap_or(99) as u32);
            prop_assert!(valid_date(d) && valid_time(t), "{row}");
        }
    }
}
