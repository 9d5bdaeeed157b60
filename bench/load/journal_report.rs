//! The journal benchmark's Markdown: one row per variant (medians over the rounds), ratios to
//! the same operation without a journal, the targets, and the integrity count (every
//! transfer answered was posted once and journaled once). It prints; it does not fail the run.

use super::journal_variants::{Op, Variant};
use super::run::Stats;
use std::collections::BTreeMap;

/// The largest share of write throughput the SQLite journal may cost.
pub const SQLITE_MAX_COST: f64 = 0.15;
/// The largest share of write throughput the PostgreSQL journal may cost.
pub const POSTGRES_MAX_COST: f64 = 0.30;

/// Load mode of a measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    /// Open loop at a fixed rate.
    Fixed,
    /// Closed loop, back to back.
    Saturation,
}

/// One measurement of one variant in one mode.
pub struct Measured {
    /// The generator's numbers.
    pub stats: Stats,
    /// CPU seconds of the `ficus serve` process (SQLite runs inside it).
    pub ficus_cpu: Option<f64>,
    /// CPU seconds of the PostgreSQL server (postmaster and backends), for its variants.
    pub store_cpu: Option<f64>,
    /// Average cores busy with other work meanwhile.
    pub background: Option<f64>,
    /// Transfers the host posted meanwhile (warm-up included).
    pub posted: u64,
    /// Rows the journal gained meanwhile, if it has one.
    pub journaled: Option<u64>,
}

/// Every measurement, by variant letter and mode, in round order.
pub type Results = BTreeMap<(char, Mode), Vec<Measured>>;

/// The run whose `key` is the median (the lower middle for an even count).
fn median(runs: &[Measured], key: impl Fn(&Measured) -> f64) -> Option<&Measured> {
    let mut sorted: Vec<&Measured> = runs.iter().collect();
    sorted.sort_by(|a, b| key(a).total_cmp(&key(b)));
    sorted.get(sorted.len().saturating_sub(1) / 2).copied()
}

fn median_of(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.collect();
    v.sort_by(f64::total_cmp);
    v.get(v.len().saturating_sub(1) / 2).copied()
}

fn int(v: f64) -> String {
    let n = v.round() as i64;
    let s = n.abs().to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

/// Median saturation throughput of `letter`.
fn throughput(results: &Results, letter: char) -> Option<f64> {
    median(results.get(&(letter, Mode::Saturation))?, |m| m.stats.rate()).map(|m| m.stats.rate())
}

/// Median fixed-rate p99 (µs) of `letter`.
fn p99(results: &Results, letter: char) -> Option<f64> {
    median(results.get(&(letter, Mode::Fixed))?, |m| m.stats.micros(0.99)).map(|m| m.stats.micros(0.99))
}

fn ratio(a: Option<f64>, b: Option<f64>) -> Option<f64> {
    a.zip(b).map(|(a, b)| a / b.max(f64::MIN_POSITIVE))
}

/// The table.
pub fn table(variants: &[Variant], results: &Results, rate: u64) -> String {
    let mut out = format!(
        "| | variant | saturation req/s | × no journal | range over rounds | fixed {rate}/s p50 / p99 / p99.9 µs | p99 × \
         no journal | failed | ficus CPU µs/msg | PostgreSQL CPU µs/msg | other load (cores) |\n\
         |---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n"
    );
    for v in variants {
        let (Some(sat), Some(fixed)) =
            (results.get(&(v.letter, Mode::Saturation)), results.get(&(v.letter, Mode::Fixed)))
        else {
            continue;
        };
        let rates: Vec<f64> = sat.iter().map(|m| m.stats.rate()).collect();
        let range = format!(
            "{}–{}",
            int(rates.iter().copied().fold(f64::INFINITY, f64::min)),
            int(rates.iter().copied().fold(0.0, f64::max))
        );
        let f = median(fixed, |m| m.stats.micros(0.99)).expect("a fixed-rate run");
        let failed: u64 = sat.iter().chain(fixed).map(|m| m.stats.errors + m.stats.unsent).sum();
        let per_msg = |cpu: fn(&Measured) -> Option<f64>| {
            median_of(sat.iter().filter_map(|m| Some(cpu(m)? * 1e6 / m.stats.replies.max(1) as f64)))
                .map_or("–".into(), |us| format!("{us:.1}"))
        };
        let show_ratio = |r: Option<f64>| match (v.letter == v.baseline(), r) {
            (true, _) => "–".to_string(),
            (false, Some(r)) => format!("{r:.2}×"),
            (false, None) => "?".into(),
        };
        out += &format!(
            "| {} | {} | {} | {} | {range} | {:.0} / {:.0} / {:.0} | {} | {failed} | {} | {} | {} |\n",
            v.letter,
            v.label,
            throughput(results, v.letter).map_or("–".into(), int),
            show_ratio(ratio(throughput(results, v.letter), throughput(results, v.baseline()))),
            f.stats.micros(0.5),
            f.stats.micros(0.99),
            f.stats.micros(0.999),
            show_ratio(ratio(p99(results, v.letter), p99(results, v.baseline()))),
            per_msg(|m| m.ficus_cpu),
            per_msg(|m| m.store_cpu),
            median_of(sat.iter().chain(fixed).filter_map(|m| m.background)).map_or("–".into(), |b| format!("{b:.2}")),
        );
    }
    out += "\nsaturation: closed loop; fixed: open loop, latency from the intended send time. Medians over the \
            rounds (the table's p99 is the median round's). failed: replies that were not HTTP 200 with the \
            copybook's length and response code 0000, plus requests never sent, summed over every round. CPU \
            per message: at saturation, warm-up included. other load: cores busy outside this benchmark, ficus \
            and PostgreSQL.\n";
    out
}

/// The targets and the integrity count, one line each.
pub fn verdicts(variants: &[Variant], results: &Results) -> String {
    let mut out = String::new();
    let cost =
        |letter: char, base: char| ratio(throughput(results, letter), throughput(results, base)).map(|r| 1.0 - r);
    for v in variants {
        let Some(c) = cost(v.letter, v.baseline()).filter(|_| v.letter != v.baseline()) else { continue };
        let target = match v.letter {
            'b' => Some(SQLITE_MAX_COST),
            'c' => Some(POSTGRES_MAX_COST),
            _ => None,
        };
        let verdict = match (target, v.op) {
            (Some(t), _) if c <= t => format!("meets the target ≤ {:.0}%", t * 100.0),
            (Some(t), _) => format!("MISSES the target ≤ {:.0}%", t * 100.0),
            (None, Op::Acctinq) => "reads are not journaled: should be ~0%".into(),
            (None, Op::Xfer) => "candidate setting".into(),
        };
        out += &format!(
            "- {} ({}): costs **{:.0}%** of saturation throughput vs {} ({verdict})\n",
            v.letter,
            v.label,
            c * 100.0,
            v.baseline()
        );
    }
    for v in variants {
        let runs = [Mode::Fixed, Mode::Saturation].into_iter().filter_map(|m| results.get(&(v.letter, m))).flatten();
        let (mut posted, mut journaled, mut answered) = (0, 0, 0);
        for m in runs {
            posted += m.posted;
            journaled += m.journaled.unwrap_or(0);
            answered += m.stats.replies;
        }
        let (want_posted, want_journaled) = match v.op {
            Op::Xfer => (answered, if v.store == super::journal_variants::Store::None { 0 } else { answered }),
            Op::Acctinq => (0, 0),
        };
        let ok = posted == want_posted && journaled == want_journaled;
        out += &format!(
            "- {} integrity: {answered} answered, {posted} posted by the host, {journaled} journal rows: {}\n",
            v.letter,
            if ok { "as expected" } else { "MISMATCH" }
        );
    }
    out
}
