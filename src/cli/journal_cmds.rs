//! `ficus journal …`: what operations do with the transaction journal — list the writes whose
//! outcome is unknown (to reconcile before a channel may resend), show one transaction decoded
//! with its route's layouts, forget one that reconciliation showed was NOT applied, and the
//! daily totals per operation, upstream and outcome (대사, in [`super::journal_summary`]).
//!
//! Each opens the store named by routes.toml's `[journal]` directly (SQLite is in WAL mode, so
//! this works beside a running gateway; PostgreSQL is shared anyway). Nothing here goes through
//! the admin API, and nothing but `forget` changes the store.

use super::clock::{self, Offset};
use super::{config_path, CliError};
use crate::journal::{Entry, EntryState, JournalPlan};
use crate::route::RouteTable;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Most rows `ficus journal unknown` lists unless `--limit` says otherwise.
const DEFAULT_LIMIT: i64 = 1000;

/// `ficus journal …`.
#[derive(clap::Subcommand, Debug)]
pub enum JournalCommand {
    /// List every transaction whose outcome is unknown: sent, and no answer came (or the replica
    /// holding it stopped mid-write). A resend of one is refused (FC21) until it is reconciled.
    ///
    /// For each: its key, operation, account (the route's owner_key value), the upstream it was
    /// sent to, since when, and the claim (which replica sent it). Reconcile each with that
    /// upstream's own records: if it WAS applied, leave the row (a resend stays refused); if it
    /// was NOT, `ficus journal forget KEY` lets the channel send it again.
    /// Examples:
    ///   ficus journal unknown
    ///   ficus journal unknown --json | jq -r '.[].key'
    /// Exit codes: 0 listed (also when there are none), 1 the store cannot be read, 64 routes.toml
    /// is invalid or has no [journal].
    #[command(verbatim_doc_comment)]
    Unknown {
        /// The routes file whose [journal] names the store.
        #[arg(long, env = "FICUS_CONFIG", default_value = "routes.toml")]
        config: PathBuf,
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
        /// List at most this many (oldest first).
        #[arg(long, default_value_t = DEFAULT_LIMIT)]
        limit: i64,
        /// Show times at this offset from UTC (default: the machine's local time).
        #[arg(long, value_name = "+HH:MM", allow_hyphen_values = true)]
        utc_offset: Option<String>,
    },
    /// Show one transaction: its state and times, and its request and reply decoded with the
    /// route's layouts (header and body as JSON).
    ///
    /// KEY is the transaction's key as `ficus journal unknown` prints it: the [journal] key
    /// fields' values, numbers without leading zeros, joined by '|' when there are several
    /// (a '|' or '\' inside a text value is then written '\|', '\\').
    /// Examples:
    ///   ficus journal show 555
    ///   ficus journal show 555 --json
    /// Exit codes: 0 shown, 1 no such transaction or the store cannot be read, 64 bad config.
    #[command(verbatim_doc_comment)]
    Show {
        /// The transaction key.
        key: String,
        /// The routes file whose [journal] names the store.
        #[arg(long, env = "FICUS_CONFIG", default_value = "routes.toml")]
        config: PathBuf,
        /// One JSON object instead of text.
        #[arg(long)]
        json: bool,
        /// Show times at this offset from UTC (default: the machine's local time).
        #[arg(long, value_name = "+HH:MM", allow_hyphen_values = true)]
        utc_offset: Option<String>,
    },
    /// Forget a transaction whose outcome is unknown, once reconciliation showed it was NOT
    /// applied: the channel may then send it again (the resend is journaled afresh).
    ///
    /// Only unknown transactions can be forgotten: a done one (its reply is what a resend gets)
    /// and one still in flight are refused, and nothing changes.
    /// Example:
    ///   ficus journal forget 555
    /// Exit codes: 0 forgotten, 1 refused (not unknown, or no such key) or the store cannot be
    /// written, 64 bad config.
    #[command(verbatim_doc_comment)]
    Forget {
        /// The transaction key (as `ficus journal unknown` prints it).
        key: String,
        /// The routes file whose [journal] names the store.
        #[arg(long, env = "FICUS_CONFIG", default_value = "routes.toml")]
        config: PathBuf,
    },
    /// Daily totals (대사): per operation, upstream and outcome, the count of transactions and,
    /// with --sum, the exact total of a request field — what a bank compares with each system's
    /// own totals for the day.
    ///
    /// A transaction belongs to the day it was received (claimed) on: from 00:00 to 24:00 at
    /// --utc-offset (default: the machine's local time zone, from TZ or /etc/localtime; UTC
    /// when it has none). A bank's business day is local: give --utc-offset +09:00 for KST on
    /// a machine that runs on UTC. The header line says which boundaries were used.
    ///
    /// Outcomes: ok (done, response code --ok-code), refused CODE (done: the upstream answered
    /// with another code, so nothing was posted), unknown (sent, no answer: reconcile), in flight
    /// (being sent now). Sums are exact decimals, read with the route's request layout.
    /// Examples:
    ///   ficus journal summary --date 2026-12-01 --utc-offset +09:00
    ///   ficus journal summary --date 2026-12-01 --sum AMOUNT
    ///   ficus journal summary --date 20261201 --sum AMOUNT --json
    /// Exit codes: 0 summed, 1 the store cannot be read or a stored request cannot be read for
    /// --sum (listed), 64 bad config, a --sum field that is not a fixed-point number, or one no
    /// operation of the day has (an operation without it is listed as a note, not summed).
    #[command(verbatim_doc_comment)]
    Summary {
        /// The day (YYYY-MM-DD or YYYYMMDD), local to --utc-offset.
        #[arg(long)]
        date: String,
        /// A numeric field of the request (e.g. AMOUNT) to total per row.
        #[arg(long, value_name = "FIELD")]
        sum: Option<String>,
        /// The day's offset from UTC, e.g. +09:00 (default: the machine's local time zone).
        #[arg(long, value_name = "+HH:MM", allow_hyphen_values = true)]
        utc_offset: Option<String>,
        /// The response code of a posted transaction.
        #[arg(long, default_value = "0000", value_name = "CODE")]
        ok_code: String,
        /// The routes file whose [journal] names the store.
        #[arg(long, env = "FICUS_CONFIG", default_value = "routes.toml")]
        config: PathBuf,
        /// One JSON object instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// Runs one `ficus journal` command.
pub fn run(command: JournalCommand) -> Result<(), CliError> {
    // The store is opened (by loading routes.toml) and used on this one runtime.
    let rt = super::gateway_cmds::runtime()?;
    let _inside = rt.enter();
    match command {
        JournalCommand::Unknown { config, json, limit, utc_offset } => {
            let (table, plan) = open(&config)?;
            let offset = offset_arg(utc_offset.as_deref(), crate::journal::now_ms())?;
            rt.block_on(unknown(&table, &plan, json, limit.max(1), &offset))
        }
        JournalCommand::Show { key, config, json, utc_offset } => {
            let (table, plan) = open(&config)?;
            let offset = offset_arg(utc_offset.as_deref(), crate::journal::now_ms())?;
            rt.block_on(show(&table, &plan, &key, json, &offset))
        }
        JournalCommand::Forget { key, config } => {
            let (_, plan) = open(&config)?;
            rt.block_on(forget(&plan, &key))
        }
        JournalCommand::Summary { date, sum, utc_offset, ok_code, config, json } => {
            let (table, plan) = open(&config)?;
            let day = clock::parse_date(&date).map_err(CliError::runtime)?;
            let noon = clock::day_bounds(day, 0).0 + 12 * 3_600_000;
            let offset = offset_arg(utc_offset.as_deref(), noon)?;
            let args = super::journal_summary::SummaryArgs { day, offset, sum, ok_code, json };
            rt.block_on(super::journal_summary::summary(&table, &plan, &args))
        }
    }
}

/// The offset of `--utc-offset`, else the machine's local offset at `at_ms`.
pub(super) fn offset_arg(arg: Option<&str>, at_ms: i64) -> Result<Offset, CliError> {
    match arg {
        Some(text) => clock::parse_offset(text)
            .map(|seconds| Offset { seconds, from: "--utc-offset".into() })
            .map_err(CliError::runtime),
        None => Ok(clock::local_offset(at_ms)),
    }
}

/// Loads routes.toml and its journal plan; exit 64 when it is invalid or has no `[journal]`.
pub(super) fn open(config: &Path) -> Result<(RouteTable, Arc<JournalPlan>), CliError> {
    let table = config_path::load(config)?;
    match table.journal.clone() {
        Some(plan) => Ok((table, plan)),
        None => Err(CliError::config(format!(
            "{} has no [journal] section, so there is no transaction journal to read.\n  \
             Add one (store = \"sqlite:journal.db\", relative to routes.toml), or name the gateway's routes \
             file with --config PATH (or FICUS_CONFIG).",
            config.display()
        ))),
    }
}

/// A store failure as the CLI says it (exit 1).
pub(super) fn store_failed(e: impl std::fmt::Display) -> CliError {
    CliError::runtime(format!("{e}\n  (the journal store named by [journal] store cannot be read or written)"))
}

/// The replica part of a claim token (`host:pid`, without the start time and counter).
pub(super) fn replica(claim: &str) -> String {
    claim.splitn(3, ':').take(2).collect::<Vec<_>>().join(":")
}

/// A state as people read it at `now`.
fn state_word(e: &Entry, now: i64) -> &'static str {
    match (e.state, e.state_at(now)) {
        (EntryState::InFlight, EntryState::Unknown) => "unknown (replica stopped mid-write)",
        (_, EntryState::Unknown) => "unknown",
        (_, EntryState::InFlight) => "in flight",
        (_, EntryState::Done) => "done",
    }
}

fn entry_json(e: &Entry, now: i64, offset: &Offset) -> Value {
    json!({
        "key": e.key,
        "op": e.op,
        "account": e.route_key,
        "upstream": e.upstream,
        "state": e.state_at(now).as_str(),
        "stored_state": e.state.as_str(),
        "response_code": e.response_code,
        "since": clock::format_ms(e.created_ms, offset.seconds),
        "created_ms": e.created_ms,
        "updated_ms": e.updated_ms,
        "lease_ms": e.lease_ms,
        "claim": e.claim,
        "replica": replica(&e.claim),
        "generation": e.generation,
    })
}

/// How long ago, roughly: `42 s`, `3 min`, `5 h`, `2 d`.
fn ago(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    match s {
        0..=119 => format!("{s} s"),
        120..=7199 => format!("{} min", s / 60),
        7200..=172_799 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86_400),
    }
}

async fn unknown(
    _table: &RouteTable,
    plan: &JournalPlan,
    as_json: bool,
    limit: i64,
    offset: &Offset,
) -> Result<(), CliError> {
    let now = crate::journal::now_ms();
    let store = &plan.store;
    let rows = store.unknown(now, limit).await.map_err(store_failed)?;
    let total = if rows.len() as i64 >= limit { store.count_unknown(now).await.map_err(store_failed)? } else { 0 };
    if as_json {
        let list: Vec<Value> = rows.iter().map(|e| entry_json(e, now, offset)).collect();
        return print_json(&Value::Array(list));
    }
    if rows.is_empty() {
        println!("No transaction has an unknown outcome in {}: nothing to reconcile.", store.display());
        return Ok(());
    }
    println!(
        "{} transaction(s) with an unknown outcome in {} (sent, no answer; a resend is refused with FC21):",
        rows.len().max(total as usize),
        store.display()
    );
    let header = ["KEY", "OP", "ACCOUNT", "UPSTREAM", "SINCE", "STATE", "REPLICA"];
    let cells: Vec<[String; 7]> = rows
        .iter()
        .map(|e| {
            [
                e.key.clone(),
                e.op.clone(),
                e.route_key.clone().unwrap_or_else(|| "-".into()),
                e.upstream.clone(),
                format!("{} ({} ago)", clock::format_ms(e.created_ms, offset.seconds), ago(now - e.created_ms)),
                state_word(e, now).to_string(),
                replica(&e.claim),
            ]
        })
        .collect();
    print!("{}", super::admin_cmds::columns(&header, [10, 6, 16, 8, 0, 7, 0], &cells));
    if total as usize > rows.len() {
        println!("… and {} more (--limit)", total as usize - rows.len());
    }
    println!(
        "\nReconcile each with the upstream it was sent to (times at {}, {}):\n  \
         applied     → leave it: a resend stays refused, the channel treats the transaction as done\n  \
         NOT applied → ficus journal forget KEY   (the channel may then send it again)",
        offset.text(),
        offset.from
    );
    Ok(())
}

/// A stored message decoded with the route's layouts: `{"header", "body"}` for a request.
fn decode_request(table: &RouteTable, op: &str, message: &[u8]) -> Value {
    let header =
        table.header.codec.decode_json(message).map(|(v, _)| v).unwrap_or_else(|e| json!({ "error": e.to_string() }));
    let body = message.get(table.header.size..).unwrap_or_default();
    let decoded = match table.routes.get(op).and_then(|r| r.request.as_ref()) {
        Some(codec) if !body.is_empty() => {
            codec.decode_json(body).map(|(v, _)| v).unwrap_or_else(|e| json!({ "error": e.to_string() }))
        }
        Some(_) => Value::Null,
        None => json!({ "hex": body.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                        "note": format!("routes.toml has no request layout for {op}") }),
    };
    json!({ "header": header, "body": decoded })
}

async fn show(
    table: &RouteTable,
    plan: &JournalPlan,
    key: &str,
    as_json: bool,
    offset: &Offset,
) -> Result<(), CliError> {
    let now = crate::journal::now_ms();
    let key = &plan.typed_key(key).map_err(CliError::runtime)?;
    let Some(e) = plan.store.get(key).await.map_err(store_failed)? else {
        return Err(CliError::runtime(format!(
            "no transaction {key:?} in {} (kept {} h after it is done; `ficus journal unknown` lists the unknown ones)",
            plan.store.display(),
            plan.retention.as_secs() / 3600
        )));
    };
    let request = decode_request(table, &e.op, &e.request);
    let reply = e.reply.as_deref().map(|r| super::decode_reply(table, &e.op, r));
    if as_json {
        let mut v = entry_json(&e, now, offset);
        v["request"] = request;
        v["reply"] = reply.unwrap_or(Value::Null);
        return print_json(&v);
    }
    let t = |ms: i64| clock::format_ms(ms, offset.seconds);
    let state = match e.state_at(now) {
        EntryState::Unknown => format!(
            "{} — sent, no answer: reconcile with {} before any resend (`ficus journal forget {}` if NOT applied)",
            state_word(&e, now),
            e.upstream,
            e.key
        ),
        EntryState::InFlight => format!("in flight — being sent now (lease until {})", t(e.lease_ms)),
        EntryState::Done => "done — a resend gets this reply, byte for byte".to_string(),
    };
    println!("key         {}", e.key);
    println!("operation   {}", e.op);
    println!("account     {}", e.route_key.as_deref().unwrap_or("-"));
    println!("upstream    {}", e.upstream);
    println!("state       {state}");
    println!("response    {}", e.response_code.as_deref().unwrap_or("-"));
    println!("received    {}", t(e.created_ms));
    println!("updated     {}", t(e.updated_ms));
    println!("replica     {} (claim {})", replica(&e.claim), e.claim);
    println!("generation  {}", e.generation);
    println!("request     {}", request);
    match reply {
        Some(r) => println!("reply       {r}"),
        None => println!("reply       - (none recorded)"),
    }
    Ok(())
}

async fn forget(plan: &JournalPlan, key: &str) -> Result<(), CliError> {
    let now = crate::journal::now_ms();
    let store = &plan.store;
    let key = &plan.typed_key(key).map_err(CliError::runtime)?;
    let Some(e) = store.get(key).await.map_err(store_failed)? else {
        return Err(CliError::runtime(format!("no transaction {key:?} in {}: nothing forgotten", store.display())));
    };
    match e.state_at(now) {
        EntryState::Done => {
            return Err(CliError::runtime(format!(
                "transaction {key} ({} to {}) is done with response code {}: refused. Its reply is what a resend \
                 gets; forgetting it would let the channel post it twice.",
                e.op,
                e.upstream,
                e.response_code.as_deref().unwrap_or("-")
            )))
        }
        EntryState::InFlight => {
            return Err(CliError::runtime(format!(
                "transaction {key} ({} to {}) is in flight right now: refused. Wait for its answer; if none comes it \
                 turns unknown (by {}).",
                e.op,
                e.upstream,
                clock::format_ms(e.lease_ms, clock::local_offset(e.lease_ms).seconds)
            )))
        }
        EntryState::Unknown => {}
    }
    if !store.forget(key, now).await.map_err(store_failed)? {
        return Err(CliError::runtime(format!(
            "transaction {key} changed while it was being forgotten (it was answered, or forgotten elsewhere): \
             nothing forgotten; look again with `ficus journal show {key}`"
        )));
    }
    tracing::info!(key, op = %e.op, upstream = %e.upstream, "journal row forgotten after reconciliation");
    println!(
        "forgot {key}: {} to {} (account {}), unknown since {}. The channel may send it again; the resend is \
         journaled afresh.",
        e.op,
        e.upstream,
        e.route_key.as_deref().unwrap_or("-"),
        clock::format_ms(e.created_ms, clock::local_offset(e.created_ms).seconds)
    );
    Ok(())
}

/// Prints `value` as pretty JSON on stdout.
pub(super) fn print_json(value: &Value) -> Result<(), CliError> {
    use std::io::Write;
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::runtime(e.to_string()))?;
    writeln!(std::io::stdout().lock(), "{text}").map_err(CliError::writing)
}
