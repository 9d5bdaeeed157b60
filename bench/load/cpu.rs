//! CPU accounting from /proc, so the table can say what each proxy spent per request and how
//! busy the rest of the machine was while it ran (other builds on a shared 2-core box make
//! tails noisy; a run with much background load should be repeated, not believed).
//!
//! Linux only; every reading is optional and a missing /proc only blanks a column. Kernel
//! threads doing this benchmark's loopback work (softirq) are counted as other load.

/// USER_HZ: the unit of /proc times, 100 on every Linux the project runs on.
const TICKS_PER_SECOND: f64 = 100.0;

/// The numbers of /proc/PID/stat after the command name: (utime + stime, cutime + cstime, ppid).
fn process_ticks(pid: u32) -> Option<(u64, u64, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; fields are counted after its closing parenthesis.
    let rest = stat.get(stat.rfind(')')? + 2..)?;
    let fields: Vec<&str> = rest.split(' ').collect();
    let n = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok());
    Some((n(11)? + n(12)?, n(13)? + n(14)?, fields.get(1)?.parse().ok()?))
}

fn pids() -> Vec<u32> {
    let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
    dir.flatten().filter_map(|e| e.file_name().to_str().and_then(|s| s.parse().ok())).collect()
}

/// CPU seconds used so far by `pid` alone (all its threads, no children).
pub fn process_seconds(pid: u32) -> Option<f64> {
    Some(process_ticks(pid)?.0 as f64 / TICKS_PER_SECOND)
}

/// CPU seconds used so far by `pid` (all its threads) and its live children (nginx's workers).
pub fn tree_seconds(pid: u32) -> Option<f64> {
    let mut ticks = process_ticks(pid)?.0;
    for p in pids() {
        if let Some((own, _, ppid)) = process_ticks(p) {
            if ppid == pid {
                ticks += own;
            }
        }
    }
    Some(ticks as f64 / TICKS_PER_SECOND)
}

/// CPU seconds used so far by every process on the machine, counting each live process's
/// own time and its reaped children's. A process that exits moves its time into its parent's
/// children column, so the difference of two readings is what everything used in between;
/// /proc/stat is not used because its tick sampling misses short bursts like these requests.
pub fn machine_seconds() -> Option<f64> {
    let ticks: u64 = pids().into_iter().filter_map(process_ticks).map(|(own, children, _)| own + children).sum();
    (ticks > 0).then_some(ticks as f64 / TICKS_PER_SECOND)
}

/// CPU seconds the hypervisor has taken from this machine's virtual CPUs so far, all of them
/// together (the `steal` column of /proc/stat's `cpu` line; proc(5)): time a VM's cores were
/// ready to run and did not, which lands in whatever latency was being measured then.
pub fn steal_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu = stat.lines().find(|l| l.starts_with("cpu "))?;
    Some(cpu.split_whitespace().nth(8)?.parse::<u64>().ok()? as f64 / TICKS_PER_SECOND)
}

/// A reading taken before a run, to subtract from one taken after.
#[derive(Clone, Copy)]
pub struct Sample {
    at: std::time::Instant,
    machine: Option<f64>,
    bench: Option<f64>,
    proxy: Option<f64>,
    steal: Option<f64>,
}

/// What happened between two samples.
pub struct Usage {
    /// CPU seconds of the proxy under test (with its children).
    pub proxy: Option<f64>,
    /// Average cores busy with anything but this benchmark and the proxy.
    pub background_cores: Option<f64>,
    /// CPU seconds the hypervisor took meanwhile ([`steal_seconds`]).
    #[allow(dead_code)]
    pub steal: Option<f64>,
}

impl Sample {
    /// Reads the machine, this process, and the proxy `pid` (if it is a separate process).
    pub fn take(proxy: Option<u32>) -> Sample {
        Sample {
            at: std::time::Instant::now(),
            machine: machine_seconds(),
            bench: process_seconds(std::process::id()),
            proxy: proxy.and_then(tree_seconds),
            steal: steal_seconds(),
        }
    }

    /// The usage from `self` to `later`.
    pub fn until(&self, later: &Sample) -> Usage {
        let d = |a: Option<f64>, b: Option<f64>| a.zip(b).map(|(a, b)| b - a);
        let proxy = d(self.proxy, later.proxy);
        let wall = later.at.duration_since(self.at).as_secs_f64().max(1e-3);
        let background = d(self.machine, later.machine)
            .zip(d(self.bench, later.bench))
            .map(|(all, bench)| ((all - bench - proxy.unwrap_or(0.0)) / wall).max(0.0));
        Usage { proxy, background_cores: background, steal: d(self.steal, later.steal) }
    }
}
