//! The last rejected reloads and refused route changes, kept in memory (bounded) so the
//! dashboard can draw them on its time axis: the audit log records only what was applied.

use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Mutex;

/// Rejections kept; older ones are forgotten.
pub const KEPT: usize = 100;

/// One reload or change that was not applied.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Rejection {
    /// Seconds since the Unix epoch (UTC).
    pub time: u64,
    /// The token's name (API), or `file` / `signal`.
    pub who: String,
    /// `api`, `file` or `sighup`.
    pub source: String,
    /// Why, as the reload reported it.
    pub error: String,
}

/// The last [`KEPT`] rejections, oldest first.
#[derive(Default)]
pub struct Rejections {
    kept: Mutex<VecDeque<Rejection>>,
}

impl Rejections {
    /// Keeps one, stamped now.
    pub fn add(&self, who: String, source: &str, error: String) {
        let time = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
        let mut kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        if kept.len() == KEPT {
            kept.pop_front();
        }
        kept.push_back(Rejection { time, who, source: source.into(), error });
    }

    /// Those at or after `since` (Unix seconds), oldest first.
    pub fn since(&self, since: u64) -> Vec<Rejection> {
        let kept = self.kept.lock().unwrap_or_else(|p| p.into_inner());
        kept.iter().filter(|r| r.time >= since).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_ones() {
        let r = Rejections::default();
        for i in 0..KEPT + 3 {
            r.add(format!("t{i}"), "api", "bad".into());
        }
        let all = r.since(0);
        assert_eq!(all.len(), KEPT);
        assert_eq!(all[0].who, "t3");
        assert!(r.since(u64::MAX).is_empty());
    }
}
