//! The demo's seeded in-memory ledger: accounts `1000000000000001` … `1000000000000010` with
//! deterministic names, balances and histories. Both the simulated host and the sample new
//! service read the same ledger, so either side gives the same answers.

use crate::codec::decimal::Decimal;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Number of seeded accounts.
pub const ACCOUNTS: u64 = 10;
/// The first account number.
pub const FIRST_ACCOUNT: u64 = 1_000_000_000_000_001;

const GIVEN: [&str; 10] = ["MINJUN", "SEOYEON", "JIHO", "HAEUN", "DOYUN", "SUA", "SIWOO", "JIWOO", "YEJUN", "HAYOON"];
const FAMILY: [&str; 10] = ["KIM", "LEE", "PARK", "CHOI", "JUNG", "KANG", "CHO", "YOON", "JANG", "LIM"];

/// One transaction in an account's history. Amounts are in won·100 (two implied decimals).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Txn {
    /// `YYYYMMDD`.
    pub date: u32,
    /// `HHMMSS`.
    pub time: u32,
    /// `DP`, `WD`, `TI`, `TO`.
    pub kind: &'static str,
    /// Signed amount in cents.
    pub amount: i128,
    /// Balance after, in cents.
    pub balance: i128,
    /// Memo text.
    pub memo: String,
}

/// One account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// Holder's name.
    pub name: String,
    /// `A` active, `D` dormant, `C` closed.
    pub status: char,
    /// Balance in cents.
    pub balance: i128,
    /// Held amount in cents (available = balance − hold).
    pub hold: i128,
    /// Interest rate in 1/10000 percent units (scale 4).
    pub rate: i128,
    /// Oldest first.
    pub history: Vec<Txn>,
}

/// Why a ledger operation was refused (the response codes both sides send).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// No such account.
    NoAccount,
    /// The account is not active.
    NotActive,
    /// Not enough money.
    Insufficient,
    /// Amount not positive, or same account.
    BadRequest,
}

impl Refusal {
    /// The header response code and message for this refusal.
    pub fn code(self) -> (&'static str, &'static str) {
        match self {
            Refusal::NoAccount => ("E101", "ACCOUNT NOT FOUND"),
            Refusal::NotActive => ("E102", "ACCOUNT NOT ACTIVE"),
            Refusal::Insufficient => ("E201", "INSUFFICIENT FUNDS"),
            Refusal::BadRequest => ("E301", "INVALID REQUEST"),
        }
    }
}

/// The shared ledger.
pub struct Ledger {
    accounts: Mutex<BTreeMap<String, Account>>,
    next_ref: Mutex<u64>,
}

/// `YYYYMMDD` from its parts (the caller keeps them valid).
pub fn yyyymmdd(year: u32, month: u32, day: u32) -> u32 {
    year * 10_000 + month * 100 + day
}

/// `HHMMSS` from seconds since midnight (taken modulo a day, so always a valid time).
pub fn hhmmss(secs: u32) -> u32 {
    let secs = secs % 86_400;
    secs / 3600 * 10_000 + secs % 3600 / 60 * 100 + secs % 60
}

/// What a write does: change the ledger, or only say what it would answer (a dry run, as a
/// shadowed or replayed write is sent with `Ficus-Shadow: dry-run`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Apply it.
    Apply,
    /// Validate and answer as if applied; change nothing (not even the reference counter).
    DryRun,
}

/// Converts cents to an exact decimal with two places.
pub fn money(cents: i128) -> Decimal {
    Decimal::new(cents < 0, cents.unsigned_abs(), 2)
}

impl Ledger {
    /// The seeded ledger (the same every time).
    pub fn seeded() -> Ledger {
        let mut accounts = BTreeMap::new();
        for i in 0..ACCOUNTS {
            let n = i as usize;
            let name = format!("{} {}", FAMILY[n], GIVEN[(n * 3 + 1) % 10]);
            let status = if i == 8 { 'D' } else { 'A' };
            let mut balance: i128 = 1_000_000 * (i as i128 + 1) + 12_345 * i as i128;
            let mut history = Vec::new();
            for d in 0..12u32 {
                let kind = ["DP", "WD", "TI", "TO"][(n + d as usize) % 4];
                let amount: i128 = 10_000 + 2_500 * ((n as i128 * 7 + d as i128 * 13) % 40);
                let signed = if kind == "DP" || kind == "TI" { amount } else { -amount };
                balance += signed;
                history.push(Txn {
                    // Two a month from January, in banking hours (09:00 to before 18:00).
                    date: yyyymmdd(2026, 1 + d / 2, 10 + (d % 2) * 5 + i as u32 % 3),
                    time: hhmmss(9 * 3600 + d * (43 * 60 + 7) + i as u32 * (3 * 60 + 17)),
                    kind,
                    amount: signed,
                    balance,
                    memo: format!("{} {:02}", ["SALARY", "ATM CASH", "RENT", "CARD"][d as usize % 4], d + 1),
                });
            }
            let rate = 1_2500 + 250 * i as i128;
            accounts.insert(
                (FIRST_ACCOUNT + i).to_string(),
                Account { name, status, balance, hold: (i as i128 % 3) * 5_000, rate, history },
            );
        }
        Ledger { accounts: Mutex::new(accounts), next_ref: Mutex::new(1) }
    }

    /// A copy of one account.
    pub fn account(&self, number: &str) -> Result<Account, Refusal> {
        let accounts = self.accounts.lock().map_err(|_| Refusal::BadRequest)?;
        accounts.get(number.trim()).cloned().ok_or(Refusal::NoAccount)
    }

    /// Moves `cents` from one account to another atomically; returns (balance after, reference).
    pub fn transfer(
        &self,
        from: &str,
        to: &str,
        cents: i128,
        memo: &str,
        date: u32,
        time: u32,
    ) -> Result<(i128, String), Refusal> {
        self.transfer_as(Effect::Apply, from, to, cents, memo, (date, time))
    }

    /// [`Ledger::transfer`] by the same rules, applied or only answered (`effect`); `at` is
    /// (YYYYMMDD, HHMMSS). A dry run answers what the transfer would: the same balance after
    /// and the next reference.
    pub fn transfer_as(
        &self,
        effect: Effect,
        from: &str,
        to: &str,
        cents: i128,
        memo: &str,
        at: (u32, u32),
    ) -> Result<(i128, String), Refusal> {
        let (date, time) = at;
        let (from, to) = (from.trim(), to.trim());
        if cents <= 0 || from == to {
            return Err(Refusal::BadRequest);
        }
        let mut accounts = self.accounts.lock().map_err(|_| Refusal::BadRequest)?;
        for number in [from, to] {
            match accounts.get(number) {
                None => return Err(Refusal::NoAccount),
                Some(a) if a.status != 'A' => return Err(Refusal::NotActive),
                Some(_) => {}
            }
        }
        let source = accounts.get(from).ok_or(Refusal::NoAccount)?;
        if source.balance - source.hold < cents {
            return Err(Refusal::Insufficient);
        }
        let mut reference = self.next_ref.lock().map_err(|_| Refusal::BadRequest)?;
        let xref = format!("XF{date:08}{:010}", *reference);
        if effect == Effect::DryRun {
            return Ok((source.balance - cents, xref));
        }
        *reference += 1;
        let mut after = 0;
        for (number, signed, kind) in [(from, -cents, "TO"), (to, cents, "TI")] {
            if let Some(a) = accounts.get_mut(number) {
                a.balance += signed;
                a.history.push(Txn {
                    date,
                    time,
                    kind,
                    amount: signed,
                    balance: a.balance,
                    memo: memo.chars().take(20).collect(),
                });
                if number == from {
                    after = a.balance;
                }
            }
        }
        Ok((after, xref))
    }
}
