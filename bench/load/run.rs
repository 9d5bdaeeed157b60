//! The two load modes over N keep-alive connections, each connection its own task.
//!
//! - **Open loop at a fixed rate**: connection `k` of `N` sends at `t0 + k/rate + i·N/rate`.
//!   When a reply is late the next send on that connection is late too; that request's
//!   latency is then counted from its *intended* send time (coordinated-omission correction,
//!   as wrk2 does), so a stall shows up in every request it delayed. When the connection was
//!   idle at the intended time, latency counts from the actual write, so the generator's own
//!   1 ms timer granularity is not charged to the target.
//! - **Closed loop (saturation)**: every connection sends its next request as soon as the
//!   previous reply is read; latency counts from the write.
//!
//! Both warm up first (results discarded) and stop by themselves: nothing is sent after the
//! window ends, and a connection that is still behind one grace period later gives up and
//! counts what it never sent. It does not decide pass or fail; `report` does.
//!
//! A good reply is HTTP 200 with the expected body length; the `_checked` variants also hand
//! each such body to a [`BodyCheck`] (e.g. "the response code is 0000"), so an answer that is
//! well formed but a refusal (insufficient funds, a duplicate) counts as an error too.

use super::client::Conn;
use hdrhistogram::Histogram;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::time::{sleep_until, timeout, Instant};

/// How long one exchange (or connect) may take before it counts as an error.
const IO_TIMEOUT: Duration = Duration::from_secs(5);
/// How long past the window a connection that fell behind may keep sending.
const GRACE: Duration = Duration::from_secs(1);

/// What to send, where, and for how long.
#[derive(Clone)]
pub struct Plan {
    /// The target's HTTP address.
    pub addr: SocketAddr,
    /// The whole HTTP request.
    pub request: Arc<Vec<u8>>,
    /// Where its message id is: each request then carries its own number.
    pub numbering: Option<super::client::Numbering>,
    /// The reply body length every good reply has.
    pub expected_len: usize,
    /// Connections.
    pub connections: usize,
    /// Warm-up before measuring.
    pub warmup: Duration,
    /// The measured window.
    pub measure: Duration,
}

/// Results of one mode against one target (only requests in the measured window).
pub struct Stats {
    /// Latencies of good replies, in nanoseconds.
    pub hist: Histogram<u64>,
    /// Good replies (HTTP 200, expected length).
    pub ok: u64,
    /// Non-200, wrong length, I/O errors and timeouts.
    pub errors: u64,
    /// Requests scheduled in the window but never sent (the target fell too far behind).
    pub unsent: u64,
    /// Every reply read, warm-up included (to divide the proxy's CPU time by).
    pub replies: u64,
    /// The first error seen, for the log.
    pub first_error: Option<String>,
    /// Seconds from the window's start to its end or its last reply, whichever is later.
    pub seconds: f64,
    /// When the last reply of the window arrived.
    finished: Option<Instant>,
}

impl Stats {
    fn new(seconds: f64) -> Stats {
        let hist = Histogram::new_with_bounds(1, 60_000_000_000, 3).expect("valid histogram bounds");
        Stats { hist, ok: 0, errors: 0, unsent: 0, replies: 0, first_error: None, seconds, finished: None }
    }

    fn error(&mut self, what: String) {
        self.errors += 1;
        self.first_error.get_or_insert(what);
    }

    fn merge(&mut self, other: Stats) {
        self.hist.add(&other.hist).expect("same histogram bounds");
        self.ok += other.ok;
        self.errors += other.errors;
        self.unsent += other.unsent;
        self.replies += other.replies;
        self.finished = self.finished.max(other.finished);
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    /// Adds `other`, a later window of the same kind, as if both were one window (their
    /// seconds summed): how interleaved slices become one row.
    #[allow(dead_code)]
    pub fn append(&mut self, other: Stats) {
        self.seconds += other.seconds;
        self.merge(other);
    }

    /// Good replies per second over the window.
    pub fn rate(&self) -> f64 {
        self.ok as f64 / self.seconds
    }

    /// A latency quantile in microseconds.
    pub fn micros(&self, q: f64) -> f64 {
        self.hist.value_at_quantile(q) as f64 / 1000.0
    }
}

/// Judges a well-formed reply's body: `Err(why)` makes it an error (counted, `why` logged once).
pub type BodyCheck = Arc<dyn Fn(&[u8]) -> Result<(), String> + Send + Sync>;

/// Open loop at `rate` requests per second in total.
pub async fn fixed_rate(plan: &Plan, rate: u64) -> Stats {
    fixed_rate_checked(plan, rate, None).await
}

/// Closed loop: every connection back to back.
pub async fn saturate(plan: &Plan) -> Stats {
    saturate_checked(plan, None).await
}

/// [`fixed_rate`], every good reply's body also passing `check`.
#[allow(dead_code)]
pub async fn fixed_rate_checked(plan: &Plan, rate: u64, check: Option<BodyCheck>) -> Stats {
    let connections = plan.connections.clamp(1, rate.max(1) as usize);
    let step = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let interval = step * connections as u32;
    run(plan, connections, check, |k| Some((step * k as u32, interval))).await
}

/// [`saturate`], every good reply's body also passing `check`.
#[allow(dead_code)]
pub async fn saturate_checked(plan: &Plan, check: Option<BodyCheck>) -> Stats {
    run(plan, plan.connections.max(1), check, |_| None).await
}

/// Starts `connections` tasks; `schedule(k)` gives connection k's (offset, interval), if paced.
async fn run(
    plan: &Plan,
    connections: usize,
    check: Option<BodyCheck>,
    schedule: impl Fn(usize) -> Option<(Duration, Duration)>,
) -> Stats {
    let t0 = Instant::now() + Duration::from_millis(20);
    let window = (t0 + plan.warmup, t0 + plan.warmup + plan.measure);
    let tasks: Vec<_> = (0..connections)
        .map(|k| {
            let pace = schedule(k).map(|(offset, interval)| (t0 + offset, interval));
            tokio::spawn(connection(plan.clone(), check.clone(), pace, window))
        })
        .collect();
    let mut total = Stats::new(plan.measure.as_secs_f64());
    for task in tasks {
        match task.await {
            Ok(stats) => total.merge(stats),
            Err(e) => total.error(format!("load task failed: {e}")),
        }
    }
    // A target that fell behind answers after the window: its rate counts that time too.
    total.seconds = (total.finished.unwrap_or(window.1).max(window.1) - window.0).as_secs_f64();
    total
}

/// One connection's loop. `pace` is (first intended send, interval) for the open loop.
async fn connection(
    plan: Plan,
    check: Option<BodyCheck>,
    pace: Option<(Instant, Duration)>,
    (start, end): (Instant, Instant),
) -> Stats {
    let mut stats = Stats::new(plan.measure.as_secs_f64());
    let mut conn: Option<Conn> = None;
    let mut intended = pace.map(|(first, _)| first);
    let mut request = plan.request.to_vec();
    loop {
        let now = Instant::now();
        let (origin, measured) = match (pace, intended) {
            (Some((_, interval)), Some(at)) => {
                intended = Some(at + interval);
                if at >= end {
                    break;
                }
                if now >= end + GRACE {
                    let missed_from = at.max(start);
                    stats.unsent += ((end - missed_from).as_nanos() / interval.as_nanos()) as u64 + 1;
                    break;
                }
                if at > now {
                    sleep_until(at).await;
                    (Instant::now(), at >= start)
                } else {
                    (at, at >= start)
                }
            }
            _ if now >= end => break,
            _ => (now, now >= start),
        };
        if conn.is_none() {
            match timeout(IO_TIMEOUT, Conn::connect(plan.addr)).await {
                Ok(Ok(c)) => conn = Some(c),
                failed => {
                    if measured {
                        stats.error(match failed {
                            Ok(Err(e)) => format!("connect: {e}"),
                            _ => format!("connect: no answer within {IO_TIMEOUT:?}"),
                        });
                    }
                    // Do not spin on a refused connection; the window bounds the loop anyway.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            }
        }
        let Some(c) = conn.as_mut() else { continue };
        if let Some(n) = &plan.numbering {
            n.stamp(&mut request);
        }
        let result = timeout(IO_TIMEOUT, c.exchange(&request)).await;
        let latency = origin.elapsed();
        match result {
            Ok(Ok(reply)) => {
                stats.replies += 1;
                let verdict = match &check {
                    Some(check) if reply.status == 200 && reply.body_len == plan.expected_len => check(c.body()),
                    _ => Ok(()),
                };
                if reply.close {
                    conn = None;
                }
                if !measured {
                    continue;
                }
                stats.finished = Some(Instant::now());
                if reply.status == 200 && reply.body_len == plan.expected_len {
                    match verdict {
                        Ok(()) => {
                            stats.ok += 1;
                            stats.hist.saturating_record(latency.as_nanos() as u64);
                        }
                        Err(why) => stats.error(why),
                    }
                } else {
                    stats.error(format!("HTTP {} with {} body bytes", reply.status, reply.body_len));
                }
            }
            failed => {
                conn = None;
                if measured {
                    stats.error(match failed {
                        Ok(Err(e)) => format!("exchange: {e}"),
                        _ => format!("no reply within {IO_TIMEOUT:?}"),
                    });
                }
            }
        }
    }
    stats
}
