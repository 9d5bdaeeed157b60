//! Seeds the COBOL host's ledger with exactly the data of `Ledger::seeded()`.
//!
//! ficus's own codec encodes each account, history row and the transfer-reference counter
//! into the records of this example's `copybooks/LEDGER.cpy` (ASCII, as GnuCOBOL runs),
//! writes them back to back into sequential load files, and the COBOL program `LEDGLOAD`
//! builds the indexed ledger files from them — the way a host reloads a VSAM cluster with
//! REPRO. It does not serve anything.

use crate::compile::Programs;
use crate::sources::{absolute_dir, Sources};
use ficus::codec::charset::CodePage;
use ficus::codec::decimal::Decimal;
use ficus::codec::json::number_value;
use ficus::codec::{Codec, CodecOptions};
use ficus::sim::ledger::{money, Ledger, ACCOUNTS, FIRST_ACCOUNT};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

/// The ledger files `LEDGLOAD` (re)creates in the data directory.
pub const LEDGER_FILES: [&str; 3] = ["ACCOUNTS", "TXNS", "CONTROL"];

/// The reference counter's key in the CONTROL file.
const REF_KEY: &str = "XFERREF";

fn codec(sources: &Sources, record: &str) -> Result<Codec, String> {
    let path = sources.host_copybooks().join("LEDGER.cpy");
    let book = ficus::copybook::load(&path).map_err(|e| e.to_string())?;
    let rec = book.record(Some(record)).ok_or_else(|| format!("{} has no {record}", path.display()))?;
    Codec::new(rec, CodecOptions::for_codepage(CodePage::Ascii)).map_err(|e| e.to_string())
}

fn num(d: Decimal) -> Value {
    number_value(&d.to_string())
}

fn encode(codec: &Codec, value: &Value, out: &mut Vec<u8>) -> Result<(), String> {
    out.extend(codec.encode_json(value).map_err(|e| format!("{value}: {e}"))?);
    Ok(())
}

/// Writes `ledger` (which must be as `Ledger::seeded()` left it: its transfer references
/// start at 1) into `data` (created if needed) as the indexed ledger files, with the record
/// layouts of the `sources`' `LEDGER.cpy`; returns the records loaded.
pub fn seed(programs: &Programs, sources: &Sources, data: &Path, ledger: &Ledger) -> Result<usize, String> {
    let layout = |record| codec(sources, record);
    let (accounts, txns, control) = (layout("LEDGER-ACCT")?, layout("LEDGER-TXN")?, layout("LEDGER-CTL")?);
    let (mut acct_bytes, mut txn_bytes, mut ctl_bytes) = (Vec::new(), Vec::new(), Vec::new());
    let mut records = 0;
    for i in 0..ACCOUNTS {
        let number = (FIRST_ACCOUNT + i).to_string();
        let a = ledger.account(&number).map_err(|r| format!("seeded ledger lacks {number}: {r:?}"))?;
        let account = json!({
            "LA-ACCT-NO": number,
            "LA-CUST-NAME": a.name,
            "LA-STATUS": a.status.to_string(),
            "LA-BALANCE": num(money(a.balance)),
            "LA-HOLD": num(money(a.hold)),
            "LA-INT-RATE": num(Decimal::new(a.rate < 0, a.rate.unsigned_abs(), 4)),
            "LA-TXN-COUNT": a.history.len(),
        });
        encode(&accounts, &account, &mut acct_bytes)?;
        for (seq, t) in a.history.iter().enumerate() {
            let row = json!({
                "LT-KEY": { "LT-ACCT-NO": number, "LT-SEQ": seq + 1 },
                "LT-DATE": t.date,
                "LT-TIME": t.time,
                "LT-TYPE": t.kind,
                "LT-AMT": num(money(t.amount)),
                "LT-BAL": num(money(t.balance)),
                "LT-MEMO": t.memo,
            });
            encode(&txns, &row, &mut txn_bytes)?;
            records += 1;
        }
        records += 1;
    }
    encode(&control, &json!({ "LC-KEY": REF_KEY, "LC-NEXT-REF": 1 }), &mut ctl_bytes)?;
    records += 1;
    let data = absolute_dir(data, "data")?;
    for (name, bytes) in [("ACCOUNTS.SEQ", &acct_bytes), ("TXNS.SEQ", &txn_bytes), ("CONTROL.SEQ", &ctl_bytes)] {
        let path = data.join(name);
        std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    for name in LEDGER_FILES {
        let path = data.join(name);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(format!("cannot remove the old {}: {e}", path.display()))
            }
            _ => {}
        }
    }
    let ledgload = programs.executable("LEDGLOAD");
    let out = Command::new(&ledgload)
        .current_dir(&data)
        .env("COB_FILE_PATH", &data)
        .output()
        .map_err(|e| format!("cannot run {} (in {}): {e}", ledgload.display(), data.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} failed ({}) in {}: {}{}",
            ledgload.display(),
            out.status,
            data.display(),
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    let loaded = String::from_utf8_lossy(&out.stdout);
    if !loaded.contains(&format!("{records:08} RECORDS LOADED")) {
        return Err(format!(
            "{} loaded something else than the {records} records written to {}: {loaded}",
            ledgload.display(),
            data.display()
        ));
    }
    Ok(records)
}
