//! The demo's operations in JSON terms (ACCTINQ, TXNHIST, XFER, XFERCAN), over the shared
//! [`Ledger`] and the serving side's own [`Postings`] (the transfers it can cancel).
//!
//! The simulated host wraps these in fixed-width bytes as a COBOL program would (MOVE into its
//! copybook); the sample new service returns them as JSON and lets the gateway encode them.

use super::ledger::{hhmmss, money, yyyymmdd, Effect, Ledger, Refusal};
use super::postings::{Postings, Transfer};
use crate::codec::decimal::Decimal;
use crate::codec::json::number_value;
use serde_json::{json, Value};

/// The result of one operation: response code and message, and the body (none on refusal).
#[derive(Debug, Clone, PartialEq)]
pub struct OpResult {
    /// `0000` or a refusal code.
    pub code: &'static str,
    /// Human-readable message.
    pub message: &'static str,
    /// The response body, for success.
    pub response: Option<Value>,
}

/// Response code of a served operation.
pub const OK_CODE: &str = "0000";
/// Response message of a served operation.
pub const OK_MESSAGE: &str = "NORMAL COMPLETION";

fn refused(r: Refusal) -> OpResult {
    let (code, message) = r.code();
    OpResult { code, message, response: None }
}

fn ok(response: Value) -> OpResult {
    OpResult { code: OK_CODE, message: OK_MESSAGE, response: Some(response) }
}

fn text<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("")
}

fn decimal(v: &Value, key: &str) -> Option<Decimal> {
    v.get(key).map(|n| n.to_string()).and_then(|s| s.parse().ok())
}

fn integer(v: &Value, key: &str) -> u64 {
    decimal(v, key).and_then(|d| d.rescale(0).ok()).map_or(0, |d| d.coefficient as u64)
}

fn num(d: Decimal) -> Value {
    number_value(&d.to_string())
}

/// Serves `op` for `request`; `None` if the operation is unknown. `now` = (YYYYMMDD, HHMMSS).
///
/// Without a side's [`Postings`] nothing applied here can be cancelled: XFERCAN is refused
/// with E401. Each simulator serves through [`serve_on`] with its own.
pub fn serve(ledger: &Ledger, op: &str, request: &Value, now: (u32, u32)) -> Option<OpResult> {
    serve_as(ledger, op, request, now, Effect::Apply)
}

/// [`serve`], with writes applied or only answered (`effect`, a dry run changes nothing).
pub fn serve_as(ledger: &Ledger, op: &str, request: &Value, now: (u32, u32), effect: Effect) -> Option<OpResult> {
    serve_on(ledger, &Postings::default(), None, op, request, now, effect, Paging::Host)
}

/// How a side writes TXNHIST's continuation key (`NEXT-KEY`): each system its own way, as two
/// real systems would, and each refuses the other's (E302), so a page sent to the system that
/// did not serve the page before fails loudly instead of skipping or repeating rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paging {
    /// `H` and the 7-digit sequence number of the next history row (the host and the COBOL host).
    Host,
    /// `S` and the same number in 8 hexadecimal digits (the sample new service).
    Service,
}

impl Paging {
    /// The key resuming at history row `seq` (1-based; newest first).
    pub fn key(self, seq: usize) -> String {
        match self {
            Paging::Host => format!("H{seq:07}"),
            Paging::Service => format!("S{seq:08X}"),
        }
    }

    /// The row a request's key resumes at: the newest (`len`) for no key; `None` for a key
    /// this side did not hand out, or one past the history.
    pub fn resume(self, key: &str, len: usize) -> Option<usize> {
        let key = key.trim_end();
        if key.is_empty() {
            return Some(len);
        }
        let seq = match self {
            Paging::Host => {
                key.strip_prefix('H').filter(|d| d.len() == 7 && d.bytes().all(|b| b.is_ascii_digit()))?.parse().ok()?
            }
            Paging::Service => usize::from_str_radix(key.strip_prefix('S').filter(|d| d.len() == 8)?, 16).ok()?,
        };
        (1..=len).contains(&seq).then_some(seq)
    }
}

/// Serves `op` as one side does: writes are recorded in (and cancellations looked up in) that
/// side's `postings`, under `seq`, the message's HDR-SEQ-NO; TXNHIST pages by the side's
/// `paging` keys. A dry run changes nothing.
#[allow(clippy::too_many_arguments)] // the side's state and the message, each read once
pub fn serve_on(
    ledger: &Ledger,
    postings: &Postings,
    seq: Option<u64>,
    op: &str,
    request: &Value,
    now: (u32, u32),
    effect: Effect,
    paging: Paging,
) -> Option<OpResult> {
    Some(match op {
        "ACCTINQ" => acctinq(ledger, request),
        "TXNHIST" => txnhist(ledger, request, paging),
        "XFER" => xfer(ledger, postings, seq, request, now, effect),
        "XFERCAN" => xfercan(ledger, postings, request, now, effect),
        _ => return None,
    })
}

fn acctinq(ledger: &Ledger, request: &Value) -> OpResult {
    let number = text(request, "ACCT-NO");
    match ledger.account(number) {
        Err(r) => refused(r),
        Ok(a) => ok(json!({
            "ACCT-NO": number.trim(),
            "CUST-NAME": a.name,
            "ACCT-STATUS": a.status.to_string(),
            "BALANCE": num(money(a.balance)),
            "AVAIL-BAL": num(money(a.balance - a.hold)),
            "INT-RATE": num(Decimal::new(false, a.rate as u128, 4)),
            "LAST-TXN-DATE": a.history.last().map_or(0, |t| t.date),
        })),
    }
}

fn txnhist(ledger: &Ledger, request: &Value, paging: Paging) -> OpResult {
    let number = text(request, "ACCT-NO");
    let (from, to) = (integer(request, "FROM-DATE") as u32, integer(request, "TO-DATE") as u32);
    let max = integer(request, "MAX-ROWS").clamp(0, 50) as usize;
    match ledger.account(number) {
        Err(r) => refused(r),
        Ok(a) => {
            let Some(start) = paging.resume(text(request, "NEXT-KEY"), a.history.len()) else {
                return refused(Refusal::BadNextKey);
            };
            // Newest first from `start`, as the COBOL program walks its sequence numbers down.
            let taken: Vec<(usize, &super::ledger::Txn)> = a.history[..start]
                .iter()
                .enumerate()
                .rev()
                .filter(|(_, t)| t.date >= from && (to == 0 || t.date <= to))
                .take(max)
                .map(|(i, t)| (i + 1, t))
                .collect();
            // A full page with rows left below it hands out the key of the next row down.
            let next = match taken.last() {
                Some(&(seq, _)) if taken.len() == max && seq > 1 => paging.key(seq - 1),
                _ => String::new(),
            };
            let rows: Vec<Value> = taken
                .iter()
                .map(|(_, t)| {
                    json!({
                        "TXN-DATE": t.date,
                        "TXN-TIME": t.time,
                        "TXN-TYPE": t.kind,
                        "TXN-AMT": num(money(t.amount)),
                        "TXN-BAL": num(money(t.balance)),
                        "TXN-MEMO": t.memo,
                    })
                })
                .collect();
            ok(json!({ "ACCT-NO": number.trim(), "NEXT-KEY": next, "ROW-COUNT": rows.len(), "TXN-ROW": rows }))
        }
    }
}

/// The request's `AMOUNT` in cents, if it is a number with at most two decimals.
fn cents(request: &Value) -> Option<i128> {
    let amount = decimal(request, "AMOUNT").and_then(|d| d.rescale(2).ok())?;
    Some(if amount.negative { -(amount.coefficient as i128) } else { amount.coefficient as i128 })
}

fn xfer(
    ledger: &Ledger,
    postings: &Postings,
    seq: Option<u64>,
    request: &Value,
    now: (u32, u32),
    effect: Effect,
) -> OpResult {
    let Some(cents) = cents(request) else {
        return refused(Refusal::BadRequest);
    };
    let from = text(request, "FROM-ACCT");
    let t = Transfer { from, to: text(request, "TO-ACCT"), cents, memo: text(request, "MEMO") };
    match postings.transfer(ledger, effect, seq, t, now) {
        Err(r) => refused(r),
        Ok((after, reference)) => ok(json!({
            "FROM-ACCT": from.trim(),
            "FROM-BAL-AFTER": num(money(after)),
            "XFER-REF": reference,
        })),
    }
}

/// XFERCAN: cancels the XFER this side posted under `ORG-SEQ-NO` (see [`Postings::cancel`]).
fn xfercan(ledger: &Ledger, postings: &Postings, request: &Value, now: (u32, u32), effect: Effect) -> OpResult {
    let (Some(cents), Some(original)) = (cents(request), request.get("ORG-SEQ-NO").and_then(whole)) else {
        return refused(Refusal::BadRequest);
    };
    let from = text(request, "FROM-ACCT");
    match postings.cancel(ledger, effect, original, from, cents, now) {
        Err(r) => refused(r),
        Ok((after, reference)) => ok(json!({
            "FROM-ACCT": from.trim(),
            "FROM-BAL-AFTER": num(money(after)),
            "CAN-REF": reference,
        })),
    }
}

/// A header's `HDR-SEQ-NO` (the message id the demo's routes.toml names), as a number.
pub fn sequence(header: &Value) -> Option<u64> {
    header.get("HDR-SEQ-NO").and_then(whole)
}

/// A whole number given as a JSON number or as digits.
fn whole(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The current UTC time as (YYYYMMDD, HHMMSS).
pub fn now() -> (u32, u32) {
    civil(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

/// Seconds since 1970-01-01 UTC as (YYYYMMDD, HHMMSS), for years up to 9999.
pub fn civil(secs: u64) -> (u32, u32) {
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (yyyymmdd(year as u32, month as u32, day as u32), hhmmss(rem as u32))
}

/// The current time as the header's `HDR-TIMESTAMP` value (YYYYMMDDHHMMSS).
pub fn timestamp() -> u64 {
    let (d, t) = now();
    d as u64 * 1_000_000 + t as u64
}
