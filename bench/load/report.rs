//! The Markdown results: one row per target and mode, then ficus/nginx ratios (c, e and d
//! over b) against the targets (throughput ≥ 1.0×, fixed-rate p99 ≤ 1.2×) and conversion's
//! cost (f over c: throughput ≥ 0.8×). It prints; it does not fail the run.

use super::run::Stats;
use super::targets::Target;

/// The throughput ratio ficus/nginx must reach.
pub const MIN_THROUGHPUT_RATIO: f64 = 1.0;
/// The fixed-rate p99 ratio ficus/nginx must stay under.
pub const MAX_P99_RATIO: f64 = 1.2;

/// The throughput ratio a converting channel must keep of the same route without conversion
/// (issue #15: conversion costs at most 20%).
pub const MIN_CONVERSION_RATIO: f64 = 0.8;

/// Load mode of a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Open loop at a fixed rate.
    Fixed,
    /// Closed loop, back to back.
    Saturation,
}

/// One measured row.
pub struct Row {
    /// Which target.
    pub target: Target,
    /// Which mode.
    pub mode: Mode,
    /// Connections used.
    pub connections: usize,
    /// The numbers.
    pub stats: Stats,
    /// CPU seconds the proxy process used in this mode, warm-up included (nginx, ficus as a process).
    pub proxy_cpu: Option<f64>,
    /// Average cores busy with other work on the machine meanwhile.
    pub background: Option<f64>,
}

fn us(v: f64) -> String {
    if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// The table, Markdown.
pub fn table(rows: &[Row], rate: u64) -> String {
    let mut out = String::from(
        "| target | mode | conns | req/s | p50 µs | p99 µs | p99.9 µs | max µs | errors | proxy CPU µs/req | other load (cores) |\n\
         |---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for r in rows {
        let s = &r.stats;
        let mode = match r.mode {
            Mode::Fixed => format!("fixed {rate}/s"),
            Mode::Saturation => "saturation".into(),
        };
        let errors = if s.unsent > 0 { format!("{} (+{} unsent)", s.errors, s.unsent) } else { s.errors.to_string() };
        let cpu = match r.proxy_cpu {
            Some(c) if s.replies > 0 => format!("{:.1}", c * 1e6 / s.replies as f64),
            _ => "–".into(),
        };
        out += &format!(
            "| {} | {} | {} | {:.0} | {} | {} | {} | {} | {} | {} | {} |\n",
            r.target.label(),
            mode,
            r.connections,
            s.rate(),
            us(s.micros(0.5)),
            us(s.micros(0.99)),
            us(s.micros(0.999)),
            us(s.hist.max() as f64 / 1000.0),
            errors,
            cpu,
            r.background.map_or("–".into(), |b| format!("{b:.2}"))
        );
    }
    out += "\nproxy CPU: CPU time of the nginx or ficus process (workers included) over the mode, warm-up \
             included, per reply. other load: average cores busy outside this benchmark and the proxy \
             meanwhile (other builds); a mode is repeated (--retries) while it is above 0.1 and the \
             quietest attempt is kept, so a row still well above 0.1 has noisy tails.\n";
    out
}

fn find(rows: &[Row], target: Target, mode: Mode) -> Option<&Stats> {
    rows.iter().find(|r| r.target == target && r.mode == mode).map(|r| &r.stats)
}

/// The ratio lines, ficus (c, e, and d for information) over nginx (b).
pub fn ratios(rows: &[Row]) -> String {
    let mut out = String::new();
    let pairs = [
        (Target::FicusLegacy, "legacy route, host over framed TCP"),
        (Target::FicusHttp, "legacy route, host over HTTP like nginx: proxy against proxy"),
        (Target::FicusJson, "http-json route, translating: informational"),
    ];
    for (ficus, note) in pairs {
        let pair = |mode| find(rows, ficus, mode).zip(find(rows, Target::Nginx, mode));
        if let Some((f, n)) = pair(Mode::Saturation) {
            let r = f.rate() / n.rate().max(f64::MIN_POSITIVE);
            let verdict = if r >= MIN_THROUGHPUT_RATIO { "meets" } else { "MISSES" };
            out += &format!(
                "- {} / nginx, saturation throughput: **{r:.2}×** ({verdict} target ≥ {MIN_THROUGHPUT_RATIO:.1}×; {note})\n",
                ficus.letter()
            );
        }
        if let Some((f, n)) = pair(Mode::Fixed) {
            let r = f.micros(0.99) / n.micros(0.99).max(f64::MIN_POSITIVE);
            let verdict = if r <= MAX_P99_RATIO { "meets" } else { "MISSES" };
            out += &format!(
                "- {} / nginx, p99 at the fixed rate: **{r:.2}×** ({verdict} target ≤ {MAX_P99_RATIO:.1}×; {note})\n",
                ficus.letter()
            );
        }
    }
    out + &conversion(rows)
}

/// The ratio lines of (f), the cp949 channel, over (c), the same route without conversion.
fn conversion(rows: &[Row]) -> String {
    let pair = |mode| find(rows, Target::FicusChannel, mode).zip(find(rows, Target::FicusLegacy, mode));
    let mut out = String::new();
    if let Some((f, c)) = pair(Mode::Saturation) {
        let r = f.rate() / c.rate().max(f64::MIN_POSITIVE);
        let verdict = if r >= MIN_CONVERSION_RATIO { "meets" } else { "MISSES" };
        out += &format!(
            "- f / c, saturation throughput: **{r:.2}×**, conversion costs {:.0}% ({verdict} target ≥ \
             {MIN_CONVERSION_RATIO:.1}×; cp949 ⇄ cp037 both ways, field by field)\n",
            (1.0 - r) * 100.0
        );
    }
    if let Some((f, c)) = pair(Mode::Fixed) {
        let r = f.micros(0.99) / c.micros(0.99).max(f64::MIN_POSITIVE);
        out += &format!("- f / c, p99 at the fixed rate: **{r:.2}×** (informational)\n");
    }
    out
}

/// One ratio read from a round's rows: what it is, and its value if both rows are there.
type RatioOf = (&'static str, fn(&[Row]) -> Option<f64>);

fn rate(rows: &[Row], t: Target, m: Mode) -> Option<f64> {
    find(rows, t, m).map(Stats::rate)
}

fn p99(rows: &[Row], t: Target, m: Mode) -> Option<f64> {
    find(rows, t, m).map(|s| s.micros(0.99))
}

/// The proxy's CPU per reply in µs.
fn cpu(rows: &[Row], t: Target, m: Mode) -> Option<f64> {
    let r = rows.iter().find(|r| r.target == t && r.mode == m)?;
    Some(r.proxy_cpu? * 1e6 / r.stats.replies.max(1) as f64)
}

fn over(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    Some(a? / b?.max(f64::MIN_POSITIVE))
}

/// The ratios every round reports, as issue targets name them.
const RATIOS: [RatioOf; 8] = [
    ("c / b, saturation throughput (target ≥ 1.0×)", |r| {
        over(rate(r, Target::FicusLegacy, Mode::Saturation), rate(r, Target::Nginx, Mode::Saturation))
    }),
    ("c / b, p99 at the fixed rate (target ≤ 1.1×)", |r| {
        over(p99(r, Target::FicusLegacy, Mode::Fixed), p99(r, Target::Nginx, Mode::Fixed))
    }),
    ("e / b, saturation throughput", |r| {
        over(rate(r, Target::FicusHttp, Mode::Saturation), rate(r, Target::Nginx, Mode::Saturation))
    }),
    ("e / b, p99 at the fixed rate", |r| {
        over(p99(r, Target::FicusHttp, Mode::Fixed), p99(r, Target::Nginx, Mode::Fixed))
    }),
    ("d / c, saturation throughput (http-json ÷ legacy; target ≥ 0.8×)", |r| {
        over(rate(r, Target::FicusJson, Mode::Saturation), rate(r, Target::FicusLegacy, Mode::Saturation))
    }),
    ("d / c, ficus CPU per message at saturation (target ≤ 1.4×)", |r| {
        over(cpu(r, Target::FicusJson, Mode::Saturation), cpu(r, Target::FicusLegacy, Mode::Saturation))
    }),
    ("d / c, p99 at the fixed rate", |r| {
        over(p99(r, Target::FicusJson, Mode::Fixed), p99(r, Target::FicusLegacy, Mode::Fixed))
    }),
    ("f / c, saturation throughput (target ≥ 0.8×)", |r| {
        over(rate(r, Target::FicusChannel, Mode::Saturation), rate(r, Target::FicusLegacy, Mode::Saturation))
    }),
];

/// Every ratio present in all `rounds`: its median and its spread (min–max), one line each.
pub fn spread(rounds: &[Vec<Row>]) -> String {
    let mut out = String::new();
    for (what, ratio) in RATIOS {
        let values: Vec<f64> = rounds.iter().filter_map(|rows| ratio(rows)).collect();
        if values.len() == rounds.len() {
            out += &crate::median::median_line(what, &values).unwrap_or_default();
        }
    }
    out
}
