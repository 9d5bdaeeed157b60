//! The COBOL host's TCP front end: a CICS-like region in miniature.
//!
//! It reads framed messages (4-byte big-endian length prefix, as the simulated host and the
//! gateway's legacy pool use), and for each one writes the bytes to a file and runs the COBOL
//! dispatcher `DISPATCH`, which links to the transaction program named by HDR-TRAN-CODE and
//! writes the program's reply; the front end frames those bytes back unchanged. Bytes are
//! ASCII end to end (routes.toml says `codepage = "ascii"`), so nothing is converted.
//!
//! One transaction runs at a time (a mutex around the dispatch), which is what makes XFER's
//! two-account update atomic with respect to every other message. What it does not give is
//! crash safety: GnuCOBOL's indexed files have no syncpoint, so a process killed between
//! XFER's REWRITEs would leave half a transfer (a real region has recoverable VSAM for that).
//!
//! Optionally it keeps a *replica* — the in-memory `Ledger` the sample `accounts` service
//! reads — in step, as change data capture would: every XFER the COBOL host accepts is applied
//! to the replica with the same date, time and amount before the reply goes back, and the
//! replica's balance and reference are checked against the host's.

use crate::compile::Programs;
use ficus::codec::charset::CodePage;
use ficus::codec::{Codec, CodecOptions};
use ficus::frame::Framing;
use ficus::sim::ledger::Ledger;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::BufReader;
use tokio::net::TcpListener;

/// The largest message the dispatcher's COMMAREA holds.
pub const MAX_MESSAGE: usize = 4096;
/// How long one transaction may run before the front end abends it.
const TRANSACTION_TIMEOUT: Duration = Duration::from_secs(10);

/// Layouts the front end reads: the header (abend replies) and XFER (the replica).
struct Layouts {
    header: Codec,
    xfer_req: Codec,
    xfer_resp: Codec,
}

fn layouts(copybooks: &Path) -> Result<Layouts, String> {
    let options = CodecOptions::for_codepage(CodePage::Ascii);
    let record = |file: &str, name: &str| -> Result<Codec, String> {
        let path = copybooks.join(file);
        let book = ficus::copybook::load(&path).map_err(|e| e.to_string())?;
        let rec = book.record(Some(name)).ok_or_else(|| format!("{} has no {name}", path.display()))?;
        Codec::new(rec, options).map_err(|e| e.to_string())
    };
    Ok(Layouts {
        header: record("COMMHDR.cpy", "COMM-HDR")?,
        xfer_req: record("XFER.cpy", "XFER-REQ")?,
        xfer_resp: record("XFER.cpy", "XFER-RESP")?,
    })
}

/// The running host: compiled programs, a data directory holding the ledger, a replica.
pub struct CobolHost {
    programs: Programs,
    data: PathBuf,
    layouts: Layouts,
    turn: tokio::sync::Mutex<()>,
    replica: Option<Arc<Ledger>>,
    served: AtomicU64,
    replica_mismatches: AtomicU64,
}

impl CobolHost {
    /// A host over the ledger in `data` (seeded already), reading the gateway's `copybooks`;
    /// `replica`, if any, is kept in step with every accepted XFER.
    pub fn new(
        programs: Programs,
        data: &Path,
        copybooks: &Path,
        replica: Option<Arc<Ledger>>,
    ) -> Result<CobolHost, String> {
        let shown = crate::sources::absolute(data);
        let data = std::fs::canonicalize(data).map_err(|e| format!("data directory {}: {e}", shown.display()))?;
        Ok(CobolHost {
            programs,
            data,
            layouts: layouts(copybooks)?,
            turn: tokio::sync::Mutex::new(()),
            replica,
            served: AtomicU64::new(0),
            replica_mismatches: AtomicU64::new(0),
        })
    }

    /// Messages the COBOL programs answered.
    pub fn served(&self) -> u64 {
        self.served.load(Ordering::Relaxed)
    }

    /// Accepted transfers the replica did not reproduce exactly (should stay 0).
    pub fn replica_mismatches(&self) -> u64 {
        self.replica_mismatches.load(Ordering::Relaxed)
    }

    /// Runs one message through `DISPATCH` and returns the reply bytes.
    pub async fn reply(&self, message: &[u8]) -> Vec<u8> {
        let _turn = self.turn.lock().await;
        let (input, output) = (self.data.join("MESSAGE.IN"), self.data.join("MESSAGE.OUT"));
        let _ = std::fs::remove_file(&output);
        if let Err(e) = std::fs::write(&input, message) {
            return self.abend(message, &format!("cannot write the message to {}: {e}", input.display()));
        }
        let dispatch = self.programs.executable("DISPATCH");
        let run = tokio::process::Command::new(&dispatch)
            .arg(&input)
            .arg(&output)
            .current_dir(&self.data)
            .env("COB_FILE_PATH", &self.data)
            .env("COB_LIBRARY_PATH", &self.programs.dir)
            .env("TZ", "UTC")
            .kill_on_drop(true)
            .output();
        let reply = match tokio::time::timeout(TRANSACTION_TIMEOUT, run).await {
            Err(_) => return self.abend(message, &format!("{} timed out", dispatch.display())),
            Ok(Err(e)) => return self.abend(message, &format!("cannot start {}: {e}", dispatch.display())),
            Ok(Ok(out)) if !out.status.success() => {
                let why = format!("{} {}: {}", dispatch.display(), out.status, String::from_utf8_lossy(&out.stderr));
                return self.abend(message, &why);
            }
            Ok(Ok(_)) => match std::fs::read(&output) {
                Ok(bytes) if !bytes.is_empty() => bytes,
                _ => {
                    return self
                        .abend(message, &format!("{} wrote no reply to {}", dispatch.display(), output.display()))
                }
            },
        };
        self.served.fetch_add(1, Ordering::Relaxed);
        if let Some(ledger) = &self.replica {
            self.replicate(ledger, message, &reply);
        }
        reply
    }

    /// A header-only E999 reply for a transaction that did not finish.
    fn abend(&self, message: &[u8], why: &str) -> Vec<u8> {
        tracing::error!(why, "transaction abend");
        let header = &self.layouts.header;
        let mut value = match header.decode_json(message) {
            Ok((v, _)) => v,
            Err(_) => header.plan().blank_json(),
        };
        if let Value::Object(h) = &mut value {
            h.insert("HDR-MSG-LEN".into(), Value::from(header.max_size()));
            h.insert("HDR-TIMESTAMP".into(), Value::from(ficus::sim::ops::timestamp()));
            h.insert("HDR-RESP-CODE".into(), Value::from("E999"));
            h.insert("HDR-RESP-MSG".into(), Value::from("HOST: TRANSACTION ABEND"));
        }
        header.encode_json(&value).unwrap_or_else(|_| vec![b' '; header.max_size()])
    }

    /// Applies an accepted XFER to the replica and checks it agrees with the host.
    fn replicate(&self, ledger: &Ledger, message: &[u8], reply: &[u8]) {
        let l = &self.layouts;
        let hl = l.header.max_size();
        let Ok((head, _)) = l.header.decode_json(reply) else { return };
        if head["HDR-TRAN-CODE"] != "XFER" || head["HDR-RESP-CODE"] != "0000" {
            return;
        }
        let (Ok((req, _)), Ok((resp, _))) =
            (l.xfer_req.decode_json(message.get(hl..).unwrap_or_default()), l.xfer_resp.decode_json(&reply[hl..]))
        else {
            self.replica_mismatches.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let stamp: u64 = head["HDR-TIMESTAMP"].to_string().parse().unwrap_or(0);
        let (date, time) = ((stamp / 1_000_000) as u32, (stamp % 1_000_000) as u32);
        let cents = cents_of(&req["AMOUNT"]);
        let text = |v: &Value| v.as_str().unwrap_or("").to_string();
        let applied =
            ledger.transfer(&text(&req["FROM-ACCT"]), &text(&req["TO-ACCT"]), cents, &text(&req["MEMO"]), date, time);
        let host = (cents_of(&resp["FROM-BAL-AFTER"]), text(&resp["XFER-REF"]));
        match applied {
            Ok((after, reference)) if (after, &reference) == (host.0, &host.1) => {}
            other => {
                tracing::error!(?other, ?host, "replica disagrees with the COBOL host");
                self.replica_mismatches.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// Serves framed TCP until `shutdown` fires; connections are persistent.
    pub async fn serve(self: Arc<Self>, listener: TcpListener, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let framing = Framing::prefix(4);
        loop {
            let stream = tokio::select! {
                accepted = listener.accept() => match accepted { Ok((s, _)) => s, Err(_) => continue },
                _ = shutdown.changed() => return,
            };
            let _ = stream.set_nodelay(true);
            let host = self.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut read = BufReader::new(read);
                // A frame over MAX_MESSAGE is an error: the connection closes.
                while let Ok(Some(message)) = framing.read(&mut read, MAX_MESSAGE).await {
                    let reply = host.reply(&message).await;
                    if framing.write(&mut write, &reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    }
}

/// A decoded two-place amount in cents (`150.25` → 15025).
fn cents_of(v: &Value) -> i128 {
    v.to_string().parse::<ficus::codec::decimal::Decimal>().ok().and_then(|d| d.rescale(2).ok()).map_or(0, |d| {
        if d.negative {
            -(d.coefficient as i128)
        } else {
            d.coefficient as i128
        }
    })
}
