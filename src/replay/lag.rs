//! Replay lag: a captured reply was stamped when it was captured, the replayed one now, so a
//! clock field (`HDR-TIMESTAMP`) differs by the time since the capture on every message. That
//! is the replay, not a difference to fix: such a difference is taken out of the comparison
//! and counted, so the report can say so. A clock that differs by anything else (a time zone,
//! a stale cache) is still a finding.

use crate::shadow::compare::FieldDiff;
use serde_json::Value;

/// Seconds a clock difference may stray from the replay lag (replies take time; two hosts'
/// clocks drift), plus this share of the lag.
const SLACK_SECS: f64 = 5.0;
const SLACK_SHARE: f64 = 0.01;

/// A clock value as written in a fixed-width field.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Clock {
    /// `YYYYMMDDhhmmss`: seconds since the epoch of its own (unknown) zone.
    Stamp(f64),
    /// `YYYYMMDD`: days since the epoch.
    Date(i64),
    /// `hhmmss`: seconds since midnight.
    Time(f64),
}

fn digits(v: &Value) -> Option<String> {
    let s = match v {
        Value::Number(n) if n.is_u64() => n.to_string(),
        Value::String(s) => s.trim().to_string(),
        _ => return None,
    };
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())).then_some(s)
}

/// Days from 1970-01-01 to a civil date (Howard Hinnant's algorithm), if the date is real.
fn days(y: i64, m: i64, d: i64) -> Option<i64> {
    let month_days = [
        31,
        if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1900..=2999).contains(&y) || !(1..=12).contains(&m) || d < 1 || d > month_days[(m - 1) as usize] {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

fn time_of_day(s: &str) -> Option<f64> {
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    let (h, m, sec) = (n(0..2)?, n(2..4)?, n(4..6)?);
    (h < 24 && m < 60 && sec < 60).then_some((h * 3600 + m * 60 + sec) as f64)
}

fn clock(v: &Value) -> Option<Clock> {
    let s = digits(v)?;
    let n = |r: std::ops::Range<usize>| s.get(r)?.parse::<i64>().ok();
    match s.len() {
        14 => Some(Clock::Stamp(days(n(0..4)?, n(4..6)?, n(6..8)?)? as f64 * 86_400.0 + time_of_day(&s[8..])?)),
        8 => Some(Clock::Date(days(n(0..4)?, n(4..6)?, n(6..8)?)?)),
        6 => Some(Clock::Time(time_of_day(&s)?)),
        _ => None,
    }
}

/// True if `diff` is a clock that moved by `lag` seconds, the time between the capture and
/// the replay, from the captured reply (`legacy` slot) to the replayed one (`new` slot).
pub fn is_replay_lag(diff: &FieldDiff, lag: f64) -> bool {
    let slack = SLACK_SECS + lag.abs() * SLACK_SHARE;
    match (clock(&diff.legacy), clock(&diff.new)) {
        (Some(Clock::Stamp(a)), Some(Clock::Stamp(b))) => (b - a - lag).abs() <= slack,
        // A date moves by the days the lag spans, give or take the day boundary in the host's zone.
        (Some(Clock::Date(a)), Some(Clock::Date(b))) => {
            let moved = (b - a) as f64 * 86_400.0;
            b > a && (moved - lag).abs() < 86_400.0 + slack
        }
        (Some(Clock::Time(a)), Some(Clock::Time(b))) => {
            let off = (b - a - lag).rem_euclid(86_400.0);
            off.min(86_400.0 - off) <= slack
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn diff(a: Value, b: Value) -> FieldDiff {
        FieldDiff { path: "HDR-TIMESTAMP".into(), legacy: a, new: b }
    }

    #[test]
    fn a_clock_moved_by_the_lag_is_the_replay_and_anything_else_is_not() {
        let stamp = |s: u64| Value::from(s);
        // One second later, replayed one second after the capture.
        assert!(is_replay_lag(&diff(stamp(20261201025203), stamp(20261201025204)), 1.2));
        // Across midnight and a month end, two hours later.
        assert!(is_replay_lag(&diff(stamp(20261130230000), stamp(20261201010000)), 7200.0));
        // Nine hours off (UTC against KST) is a finding, not lag.
        assert!(!is_replay_lag(&diff(stamp(20261201025203), stamp(20261201115203)), 1.0));
        // Dates and times of day.
        assert!(is_replay_lag(&diff(stamp(20261130), stamp(20261201)), 3600.0));
        assert!(!is_replay_lag(&diff(stamp(20261201), stamp(20261130)), 3600.0));
        assert!(is_replay_lag(&diff(Value::from("235959"), Value::from("000009")), 10.0));
        // Not clocks: a balance, an impossible date.
        assert!(!is_replay_lag(&diff(Value::from(100), Value::from(101)), 1.0));
        assert!(!is_replay_lag(&diff(stamp(20261399025203), stamp(20261399025204)), 1.0));
    }
}
