//! Dates and times for the journal commands: `+09:00` offsets, `YYYY-MM-DD` days, and the
//! machine's local offset at an instant from its time zone (`TZ`, else `/etc/localtime`, read
//! by the `jiff` crate with the system's TZ database, daylight saving included).

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::Timestamp;

/// An offset east of UTC, in seconds, and where it came from (for people).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offset {
    /// Seconds east of UTC (KST: 32400).
    pub seconds: i32,
    /// `--utc-offset`, the time zone read, or "UTC (no local time zone found)".
    pub from: String,
}

impl Offset {
    /// `+09:00`.
    pub fn text(&self) -> String {
        offset_text(self.seconds)
    }
}

/// `+09:00`, `-05:30`, `+00:00`.
pub fn offset_text(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.unsigned_abs();
    format!("{sign}{:02}:{:02}", s / 3600, s % 3600 / 60)
}

/// Parses `+09:00`, `+0900`, `+9`, `-05:30`, `Z` or `UTC` into seconds east of UTC.
pub fn parse_offset(text: &str) -> Result<i32, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("z") || t.eq_ignore_ascii_case("utc") {
        return Ok(0);
    }
    let bad = || format!("--utc-offset {text:?}: expected +HH:MM (e.g. +09:00 for KST, +00:00 for UTC)");
    let (sign, rest) = match t.as_bytes().first() {
        Some(b'+') => (1, &t[1..]),
        Some(b'-') => (-1, &t[1..]),
        _ => return Err(bad()),
    };
    let (h, m) = match rest.split_once(':') {
        Some((h, m)) => (h, m),
        None if rest.len() == 4 => rest.split_at(2),
        None => (rest, "0"),
    };
    let (h, m): (i32, i32) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(0..=14).contains(&h) || !(0..60).contains(&m) || h.to_string().len() > 2 {
        return Err(bad());
    }
    Ok(sign * (h * 3600 + m * 60))
}

/// Days since 1970-01-01 of `YYYY-MM-DD` (or `YYYYMMDD`); errors say which and why.
pub fn parse_date(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let bad = || format!("--date {text:?}: expected YYYY-MM-DD (e.g. 2026-12-01) or YYYYMMDD");
    let (y, m, d) = match t.split('-').collect::<Vec<_>>().as_slice() {
        [y, m, d] => (*y, *m, *d),
        [ymd] if ymd.len() == 8 => (&ymd[..4], &ymd[4..6], &ymd[6..]),
        _ => return Err(bad()),
    };
    let (y, m, d): (i16, i8, i8) =
        (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
    let date = Date::new(y, m, d).map_err(|_| format!("--date {text:?}: no such day"))?;
    Ok(days_since_epoch(date))
}

fn days_since_epoch(date: Date) -> i64 {
    let epoch = Date::constant(1970, 1, 1);
    i64::from(date.since((jiff::Unit::Day, epoch)).map_or(0, |span| span.get_days()))
}

/// `2026-12-01 10:15:02 +09:00`: milliseconds since the epoch at `offset` seconds east.
pub fn format_ms(ms: i64, offset: i32) -> String {
    let tz = jiff::tz::Offset::from_seconds(offset).map(TimeZone::fixed).unwrap_or(TimeZone::UTC);
    match Timestamp::from_millisecond(ms) {
        Ok(t) => format!("{} {}", t.to_zoned(tz).strftime("%Y-%m-%d %H:%M:%S"), offset_text(offset)),
        Err(_) => format!("{ms} ms"),
    }
}

/// The start and end (ms since the epoch, end excluded) of the local day `day` at a fixed
/// offset: 00:00 to 24:00 there.
pub fn day_bounds(day: i64, offset: i32) -> (i64, i64) {
    let start = (day * 86_400 - i64::from(offset)) * 1000;
    (start, start + 86_400_000)
}

/// The machine's local offset at `ms` (since the epoch): from `TZ` or `/etc/localtime`; UTC
/// when neither names a zone.
pub fn local_offset(ms: i64) -> Offset {
    let tz = TimeZone::system();
    let at = Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH);
    let seconds = tz.to_offset(at).seconds();
    let from = match tz.iana_name() {
        Some(name) => format!("the machine's local time, {name}"),
        None if tz == TimeZone::UTC => "UTC: no local time zone found (TZ, /etc/localtime)".into(),
        None => "the machine's local time".into(),
    };
    Offset { seconds, from }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_read_as_written_and_print_back() {
        assert_eq!(parse_offset("+09:00"), Ok(32_400));
        assert_eq!(parse_offset("+0900"), Ok(32_400));
        assert_eq!(parse_offset("-05:30"), Ok(-19_800));
        assert_eq!(parse_offset("UTC"), Ok(0));
        assert!(parse_offset("09:00").is_err());
        assert!(parse_offset("+25:00").is_err());
        assert_eq!(offset_text(-19_800), "-05:30");
    }

    #[test]
    fn dates_are_checked_and_counted_from_the_epoch() {
        assert_eq!(parse_date("1970-01-01"), Ok(0));
        assert_eq!(parse_date("20261201"), parse_date("2026-12-01"));
        assert_eq!(parse_date("2024-03-01").unwrap() - parse_date("2024-02-28").unwrap(), 2, "a leap year");
        assert!(parse_date("2026-02-30").unwrap_err().contains("no such day"));
        assert!(parse_date("12/01/2026").unwrap_err().contains("expected YYYY-MM-DD"));
    }

    #[test]
    fn a_days_bounds_are_its_local_midnights() {
        let day = parse_date("2026-12-01").unwrap();
        let (from, to) = day_bounds(day, 32_400);
        assert_eq!(format_ms(from, 32_400), "2026-12-01 00:00:00 +09:00");
        assert_eq!(format_ms(to, 0), "2026-12-01 15:00:00 +00:00");
    }

    #[test]
    fn the_local_offset_follows_tz() {
        // jiff reads TZ when the system zone is first asked for; a fixed POSIX rule needs no files.
        let o = local_offset(1_796_000_000_000);
        assert!((-14 * 3600..=14 * 3600).contains(&o.seconds), "{o:?}");
        assert!(!o.from.is_empty());
    }
}
