//! Comparison records: one JSON object a line, written by a background thread (the message path
//! only hands a record over, never waits on disk), rotated by size (`shadow.jsonl`,
//! `shadow.jsonl.1`, …). Values of masked fields are replaced by a keyed hash (HMAC-SHA256 with
//! `FICUS_MASK_KEY`), so equal values still look equal and reports can be shared.

use super::compare::FieldDiff;
use super::paths::{any_match, PathPattern};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::Sha256;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, SyncSender, TrySendError};

/// The environment variable holding the masking key.
pub const MASK_KEY_ENV: &str = "FICUS_MASK_KEY";

/// One compared (or failed) shadow message.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct ShadowRecord {
    /// Seconds since the Unix epoch, with milliseconds.
    pub time: f64,
    /// The operation.
    pub op: String,
    /// The message id (the header's sequence number), if any.
    pub id: Option<String>,
    /// The channel the message came in on (`default` for `[gateway]`'s listeners, else its
    /// `[[channels]]` name); absent in records written before channels, and in replays of
    /// captures that did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// `match`, `mismatch` or `error`.
    pub result: String,
    /// Who answered the channel.
    pub primary: String,
    /// Who was shadowed.
    pub shadow: String,
    /// Latency of the legacy side, milliseconds.
    pub legacy_ms: Option<f64>,
    /// Latency of the new side, milliseconds.
    pub new_ms: Option<f64>,
    /// The differing fields, masked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub diffs: Vec<FieldDiff>,
    /// Why the shadow failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For a mismatch: the request's key (hex), equal for the same request asked again (a keyed
    /// hash of the operation and the request body after the header; see `mirror::request_key`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    /// Whether the primary was the legacy side (which of `legacy` / `new` in `diffs` it is).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_is_legacy: Option<bool>,
}

/// What a masked value starts with (`mask:<hex>`).
pub const MASK_PREFIX: &str = "mask:";

/// Replaces the values of masked paths with `mask:<hex>` of a keyed hash.
pub fn mask_diffs(diffs: &mut [FieldDiff], mask: &[PathPattern], key: &[u8]) {
    for d in diffs.iter_mut().filter(|d| any_match(mask, &d.path)) {
        d.legacy = masked(&d.legacy, key);
        d.new = masked(&d.new, key);
    }
}

fn masked(value: &Value, key: &[u8]) -> Value {
    if value.is_null() {
        return Value::Null;
    }
    let text = match value {
        Value::String(s) => s.trim_end().to_string(),
        other => other.to_string(),
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else { return Value::from(format!("{MASK_PREFIX}?")) };
    mac.update(text.as_bytes());
    let digest = mac.finalize().into_bytes();
    Value::from(format!("{MASK_PREFIX}{}", digest.iter().take(8).map(|b| format!("{b:02x}")).collect::<String>()))
}

/// The masking key: `FICUS_MASK_KEY`, or a per-process random key (hashes then only compare
/// within one run).
pub fn mask_key() -> Vec<u8> {
    match std::env::var(MASK_KEY_ENV) {
        Ok(k) if !k.is_empty() => k.into_bytes(),
        _ => {
            let seed = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
            format!("{seed:x}-{}", std::process::id()).into_bytes()
        }
    }
}

/// Hands lines to the writer thread.
pub struct Recorder {
    tx: SyncSender<String>,
    path: PathBuf,
    writer: std::thread::JoinHandle<()>,
}

/// Lines queued for the writer at most; beyond it records are dropped rather than waited for.
pub const QUEUE: usize = 4096;

impl Recorder {
    /// Starts a writer for `dir/name` (the directory is created), rotating past `max_bytes`
    /// and keeping `keep` old files.
    pub fn start(dir: &Path, name: &str, max_bytes: u64, keep: usize) -> std::io::Result<Recorder> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(name);
        let (tx, rx) = sync_channel::<String>(QUEUE);
        let file_path = path.clone();
        // Opened here, not in the thread: a failure is reported now, and the file exists (and
        // holds its descriptor) from the moment `start` returns.
        let first = open(&path)?;
        let writer = std::thread::Builder::new().name("ficus-records".into()).spawn(move || {
            let size = first.metadata().map_or(0, |m| m.len());
            let mut out = Out { size, file: Some(first), buf: Vec::new(), path: file_path, max_bytes, keep };
            while let Ok(line) = rx.recv() {
                // Everything queued meanwhile goes out with it, in one write.
                out.push(&line);
                while let Ok(line) = rx.try_recv() {
                    out.push(&line);
                }
                out.flush();
                // Records gather in the queue meanwhile: the message path hands them over
                // without waking this thread for each one.
                std::thread::sleep(GATHER);
            }
        })?;
        Ok(Recorder { tx, path, writer })
    }

    /// Writes out everything queued and stops the writer.
    pub fn close(self) {
        drop(self.tx);
        let _ = self.writer.join();
    }

    /// The current file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queues one record (as a JSON line); false if it was dropped because the writer is
    /// [`QUEUE`] lines behind (counted in `ficus_records_dropped_total{file}`).
    pub fn write<T: Serialize>(&self, record: &T) -> bool {
        let Ok(mut line) = serde_json::to_string(record) else { return false };
        line.push('\n');
        match self.tx.try_send(line) {
            Ok(()) => true,
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                let file = self.path.file_name().map_or_else(String::new, |f| f.to_string_lossy().into_owned());
                metrics::counter!("ficus_records_dropped_total", "file" => file).increment(1);
                false
            }
        }
    }
}

/// How long the writer lets records gather after each write (a record reaches the file at
/// most this much later; at [`QUEUE`] lines queued, more are dropped and counted).
const GATHER: std::time::Duration = std::time::Duration::from_millis(5);

/// The writer thread's file, its size, and the lines not yet written.
struct Out {
    file: Option<std::fs::File>,
    size: u64,
    buf: Vec<u8>,
    path: PathBuf,
    max_bytes: u64,
    keep: usize,
}

fn open(p: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().create(true).append(true).open(p)
}

impl Out {
    /// Adds `line`, rotating first (after writing what is pending) when it would pass `max_bytes`.
    fn push(&mut self, line: &str) {
        let pending = self.buf.len() as u64;
        if self.size + pending + line.len() as u64 > self.max_bytes && self.size + pending > 0 {
            self.flush();
            rotate(&self.path, self.keep);
            self.file = open(&self.path).ok();
            self.size = 0;
        }
        self.buf.extend_from_slice(line.as_bytes());
        if self.buf.len() >= 1 << 20 {
            self.flush();
        }
    }

    /// Writes the pending lines. A file that is gone (its directory removed or cleaned up while
    /// running: writes to the open descriptor would go nowhere) or could not be opened is made
    /// again first; lines that still cannot be written are dropped and counted in
    /// `ficus_records_dropped_total{file}`, and the next batch tries again.
    fn flush(&mut self) {
        if self.buf.is_empty() {
            return;
        }
        if self.file.is_none() || !self.path.exists() {
            // The records' own directory only: a removed volume or tree above it is not made
            // again here (its lines are dropped and counted until it is back).
            if let Some(dir) = self.path.parent() {
                let _ = std::fs::create_dir(dir);
            }
            self.file = open(&self.path).ok();
            self.size = self.file.as_ref().and_then(|f| f.metadata().ok()).map_or(0, |m| m.len());
        }
        match self.file.as_mut().map(|f| f.write_all(&self.buf)) {
            Some(Ok(())) => self.size += self.buf.len() as u64,
            failed => {
                if let Some(Err(e)) = failed {
                    tracing::warn!(file = %self.path.display(), error = %e, "records not written");
                }
                self.file = None;
                let lines = self.buf.iter().filter(|&&b| b == b'\n').count() as u64;
                let file = self.path.file_name().map_or_else(String::new, |f| f.to_string_lossy().into_owned());
                metrics::counter!("ficus_records_dropped_total", "file" => file).increment(lines);
            }
        }
        self.buf.clear();
    }
}

fn rotate(path: &Path, keep: usize) {
    let numbered = |n: usize| PathBuf::from(format!("{}.{n}", path.display()));
    for n in (1..keep.max(1)).rev() {
        let _ = std::fs::rename(numbered(n), numbered(n + 1));
    }
    let _ = std::fs::remove_file(numbered(keep.max(1) + 1));
    let _ = std::fs::rename(path, numbered(1));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_with_a_keyed_hash() {
        let mut diffs = vec![
            FieldDiff { path: "CUST-NAME".into(), legacy: Value::from("KIM  "), new: Value::from("KIM") },
            FieldDiff { path: "BALANCE".into(), legacy: Value::from(1), new: Value::from(2) },
        ];
        mask_diffs(&mut diffs, &[PathPattern::new("CUST-NAME")], b"k1");
        assert!(diffs[0].legacy.as_str().unwrap().starts_with("mask:"));
        assert_eq!(diffs[0].legacy, diffs[0].new, "equal values hash equal");
        assert_eq!(diffs[1].legacy, Value::from(1), "unmasked fields keep their values");
        let mut other = vec![FieldDiff { path: "CUST-NAME".into(), legacy: Value::from("KIM"), new: Value::Null }];
        mask_diffs(&mut other, &[PathPattern::new("CUST-NAME")], b"k2");
        assert_ne!(other[0].legacy, diffs[0].legacy, "another key, another hash");
    }

    #[test]
    fn rotates_by_size() {
        let dir = tempfile::tempdir().unwrap();
        let rec = Recorder::start(dir.path(), "r.jsonl", 200, 2).unwrap();
        for i in 0..40 {
            assert!(rec.write(&serde_json::json!({ "i": i, "pad": "xxxxxxxxxxxxxxxxxxxx" })));
        }
        rec.close();
        assert!(dir.path().join("r.jsonl.1").exists() && dir.path().join("r.jsonl.2").exists());
        assert!(!dir.path().join("r.jsonl.3").exists(), "only `keep` old files");
        assert!(std::fs::metadata(dir.path().join("r.jsonl")).unwrap().len() <= 200);
    }

    #[test]
    fn a_burst_is_written_whole_in_order_and_every_rotated_file_holds_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let rec = Recorder::start(dir.path(), "b.jsonl", 4000, 50).unwrap();
        for i in 0..QUEUE as u64 {
            assert!(rec.write(&serde_json::json!({ "i": i })), "record {i} dropped");
        }
        rec.close();
        let mut files: Vec<_> = (1..=50).rev().map(|n| dir.path().join(format!("b.jsonl.{n}"))).collect();
        files.push(dir.path().join("b.jsonl"));
        let mut seen = Vec::new();
        for f in files.iter().filter(|f| f.exists()) {
            let text = std::fs::read_to_string(f).unwrap();
            assert!(text.len() <= 4000 && text.ends_with('\n'), "{}: {} bytes", f.display(), text.len());
            seen.extend(text.lines().map(|l| serde_json::from_str::<Value>(l).unwrap()["i"].as_u64().unwrap()));
        }
        assert_eq!(seen, (0..QUEUE as u64).collect::<Vec<_>>());
    }

    #[test]
    fn records_written_after_the_directory_is_removed_land_in_it_again() {
        let dir = tempfile::tempdir().unwrap();
        let records = dir.path().join("shadow");
        let rec = Recorder::start(&records, "s.jsonl", 1 << 20, 2).unwrap();
        assert!(rec.write(&serde_json::json!({ "i": 0 })));
        while std::fs::metadata(records.join("s.jsonl")).map_or(0, |m| m.len()) == 0 {
            std::thread::sleep(GATHER);
        }
        std::fs::remove_dir_all(&records).unwrap();
        for i in 1..=3 {
            assert!(rec.write(&serde_json::json!({ "i": i })));
        }
        rec.close();
        let text = std::fs::read_to_string(records.join("s.jsonl")).expect("the file is made again");
        assert_eq!(text, "{\"i\":1}\n{\"i\":2}\n{\"i\":3}\n");
        // A tree removed above the records' directory is not made again.
        let deep = dir.path().join("volume/shadow");
        let rec = Recorder::start(&deep, "s.jsonl", 1 << 20, 2).unwrap();
        std::fs::remove_dir_all(dir.path().join("volume")).unwrap();
        assert!(rec.write(&serde_json::json!({ "i": 4 })));
        rec.close();
        assert!(!dir.path().join("volume").exists());
    }

    #[test]
    fn a_line_longer_than_max_bytes_goes_alone_into_its_own_file() {
        let dir = tempfile::tempdir().unwrap();
        let rec = Recorder::start(dir.path(), "l.jsonl", 50, 5).unwrap();
        let long = "x".repeat(120);
        for v in ["a", long.as_str(), "b"] {
            assert!(rec.write(&serde_json::json!({ "v": v })));
        }
        rec.close();
        let read = |name: &str| std::fs::read_to_string(dir.path().join(name)).unwrap();
        assert_eq!(read("l.jsonl.2"), "{\"v\":\"a\"}\n");
        assert_eq!(read("l.jsonl.1"), format!("{{\"v\":\"{long}\"}}\n"));
        assert_eq!(read("l.jsonl"), "{\"v\":\"b\"}\n");
    }
}
