//! Dates and times for the journal commands, without a time-zone crate: civil dates ⇄ days
//! (Howard Hinnant's algorithms), `+09:00` offsets, and the machine's local offset read from
//! its TZif file (`TZ`, else `/etc/localtime`), as `date` would use it.
//!
//! The local offset at an instant is the one of the zone's last transition at or before it;
//! for a zone with daylight saving past the file's last transition (a "slim" TZif whose future
//! is only in its footer rule), give `--utc-offset` instead. Korea (KST, no daylight saving
//! since 1988) is exact either way.

use std::path::PathBuf;

/// An offset east of UTC, in seconds, and where it came from (for people).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offset {
    /// Seconds east of UTC (KST: 32400).
    pub seconds: i32,
    /// `--utc-offset`, the TZif file read, or "UTC (no local time zone found)".
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

/// Days since 1970-01-01 of a proleptic Gregorian date.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (days since 1970-01-01).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

/// Parses `2026-12-01` (also `20261201`, as banks write business dates) into a day number.
pub fn parse_date(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let bad = || format!("--date {text:?}: expected YYYY-MM-DD (e.g. 2026-12-01) or YYYYMMDD");
    let (y, m, d) = match t.split('-').collect::<Vec<_>>().as_slice() {
        [y, m, d] => (*y, *m, *d),
        [ymd] if ymd.len() == 8 => (&ymd[..4], &ymd[4..6], &ymd[6..]),
        _ => return Err(bad()),
    };
    let (y, m, d): (i64, u32, u32) =
        (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
    let days = days_from_civil(y, m, d);
    if !(1..=12).contains(&m) || civil_from_days(days) != (y, m, d) {
        return Err(format!("--date {text:?}: no such day"));
    }
    Ok(days)
}

/// `2026-12-01 10:15:02 +09:00`: milliseconds since the epoch at `offset` seconds east.
pub fn format_ms(ms: i64, offset: i32) -> String {
    let secs = ms.div_euclid(1000) + i64::from(offset);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} {}", s / 3600, s % 3600 / 60, s % 60, offset_text(offset))
}

/// The start and end (ms since the epoch, end excluded) of the local day `day` at a fixed
/// offset: 00:00 to 24:00 there.
pub fn day_bounds(day: i64, offset: i32) -> (i64, i64) {
    let start = (day * 86_400 - i64::from(offset)) * 1000;
    (start, start + 86_400_000)
}

/// The machine's local offset at `ms` (since the epoch): from `TZ` (a zone name, a file, or a
/// fixed `NAME-9` rule) or `/etc/localtime`; UTC when neither says.
pub fn local_offset(ms: i64) -> Offset {
    let at = ms.div_euclid(1000);
    let tz = std::env::var("TZ").ok().filter(|t| !t.trim().is_empty());
    let file = match tz.as_deref().map(|t| t.trim_start_matches(':')) {
        Some(t) if t.starts_with('/') => Some(PathBuf::from(t)),
        Some(t) => {
            let path = PathBuf::from("/usr/share/zoneinfo").join(t);
            if !path.is_file() {
                if let Some(seconds) = posix_fixed(t) {
                    return Offset { seconds, from: format!("the machine's local time (TZ={t})") };
                }
            }
            Some(path)
        }
        None => Some(PathBuf::from("/etc/localtime")),
    };
    if let Some(path) = file {
        if let Some(seconds) = std::fs::read(&path).ok().and_then(|data| tzif_offset(&data, at)) {
            let shown = std::fs::canonicalize(&path).unwrap_or(path);
            return Offset { seconds, from: format!("the machine's local time, {}", shown.display()) };
        }
    }
    Offset { seconds: 0, from: "UTC: no local time zone found (TZ, /etc/localtime)".into() }
}

/// `KST-9` / `UTC0` / `EST5`: a POSIX rule without daylight saving (its offset is west of UTC).
fn posix_fixed(rule: &str) -> Option<i32> {
    let digits = rule.trim_start_matches(|c: char| c.is_ascii_alphabetic());
    if rule.len() - digits.len() < 3 || digits.is_empty() || digits.contains(|c: char| c.is_ascii_alphabetic()) {
        return None;
    }
    let west =
        parse_offset(&if digits.starts_with(['+', '-']) { digits.to_string() } else { format!("+{digits}") }).ok()?;
    Some(-west)
}

/// The UTC offset a TZif file (RFC 8536) gives at `at` seconds since the epoch: the type of the
/// last transition at or before it (the first type before any). Version 2+ files are read in
/// their 64-bit block.
pub fn tzif_offset(data: &[u8], at: i64) -> Option<i32> {
    fn counts(h: &[u8]) -> Option<[usize; 6]> {
        if h.get(..4)? != b"TZif" {
            return None;
        }
        let mut c = [0; 6];
        for (i, n) in c.iter_mut().enumerate() {
            *n = u32::from_be_bytes(h.get(20 + 4 * i..24 + 4 * i)?.try_into().ok()?) as usize;
        }
        Some(c)
    }
    let c = counts(data)?;
    let [isut, isstd, leap, time, types, chars] = c;
    let (block, width, c) = if *data.get(4)? >= b'2' {
        let v1 = 44 + time * 5 + types * 6 + chars + leap * 8 + isstd + isut;
        let b = data.get(v1..)?;
        (b, 8, counts(b)?)
    } else {
        (data, 4, c)
    };
    let [_, _, _, time, types, _] = c;
    let times = block.get(44..44 + time * width)?;
    let index = block.get(44 + time * width..44 + time * (width + 1))?;
    let info = block.get(44 + time * (width + 1)..44 + time * (width + 1) + types * 6)?;
    let read = |i: usize| -> i64 {
        let b = &times[i * width..(i + 1) * width];
        if width == 8 {
            i64::from_be_bytes(b.try_into().unwrap_or_default())
        } else {
            i64::from(i32::from_be_bytes(b.try_into().unwrap_or_default()))
        }
    };
    let n = (0..time).take_while(|&i| read(i) <= at).count();
    let ty = if n == 0 { 0 } else { usize::from(*index.get(n - 1)?) };
    Some(i32::from_be_bytes(info.get(ty * 6..ty * 6 + 4)?.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_days_agree() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(parse_date("2026-12-01"), Ok(days_from_civil(2026, 12, 1)));
        assert_eq!(parse_date("20261201"), parse_date("2026-12-01"));
        assert!(parse_date("2026-02-30").unwrap_err().contains("no such day"));
        assert!(parse_date("12/01/2026").is_err());
        for z in (-800_000..800_000).step_by(997) {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        // 2026-12-01 00:00 KST is 2026-11-30 15:00 UTC.
        let (start, end) = day_bounds(parse_date("2026-12-01").unwrap(), 9 * 3600);
        assert_eq!(format_ms(start, 0), "2026-11-30 15:00:00 +00:00");
        assert_eq!(format_ms(end - 1, 9 * 3600), "2026-12-01 23:59:59 +09:00");
    }

    #[test]
    fn offsets_parse_and_print() {
        assert_eq!(parse_offset("+09:00"), Ok(32_400));
        assert_eq!(parse_offset("+0900"), Ok(32_400));
        assert_eq!(parse_offset("+9"), Ok(32_400));
        assert_eq!(parse_offset("-05:30"), Ok(-19_800));
        assert_eq!(parse_offset("UTC"), Ok(0));
        assert!(parse_offset("09:00").is_err(), "the sign says which way");
        assert!(parse_offset("+25:00").is_err());
        assert_eq!(offset_text(-19_800), "-05:30");
        assert_eq!(posix_fixed("KST-9"), Some(32_400));
        assert_eq!(posix_fixed("UTC0"), Some(0));
        assert_eq!(posix_fixed("Asia/Seoul"), None);
    }

    /// A version-2 TZif file with one transition: +08:30 before 1988-05-08 00:00 UTC, +09:00 after.
    fn tzif() -> Vec<u8> {
        fn header(version: u8, time: u32, types: u32, chars: u32) -> Vec<u8> {
            let mut h = b"TZif".to_vec();
            h.push(version);
            h.extend([0; 15]);
            for n in [0, 0, 0, time, types, chars] {
                h.extend(n.to_be_bytes());
            }
            h
        }
        let at: i64 = 579_052_800;
        let mut f = header(b'2', 1, 2, 4);
        f.extend((at as i32).to_be_bytes());
        f.push(1);
        f.extend(30_600i32.to_be_bytes());
        f.extend([0, 0]);
        f.extend(32_400i32.to_be_bytes());
        f.extend([0, 0]);
        f.extend(b"KST\0");
        f.extend(header(b'2', 1, 2, 4));
        f.extend(at.to_be_bytes());
        f.push(1);
        f.extend(30_600i32.to_be_bytes());
        f.extend([0, 0]);
        f.extend(32_400i32.to_be_bytes());
        f.extend([0, 0]);
        f.extend(b"KST\0");
        f.extend(b"\nKST-9\n");
        f
    }

    #[test]
    fn a_tzif_file_gives_the_offset_in_force() {
        let f = tzif();
        assert_eq!(tzif_offset(&f, 0), Some(30_600));
        assert_eq!(tzif_offset(&f, 579_052_800), Some(32_400));
        assert_eq!(tzif_offset(&f, 1_796_000_000), Some(32_400), "after the last transition: its type");
        assert_eq!(tzif_offset(b"not a tzif", 0), None);
        assert_eq!(tzif_offset(&f[..50], 0), None, "cut short: no answer, never a guess");
    }
}
