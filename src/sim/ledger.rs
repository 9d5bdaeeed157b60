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
    /// `DP` deposit, `WD` withdrawal, `TI`/`TO` transfer in/out, `CI`/`CO` a cancelled
    /// transfer's money coming back in / going back out.
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
    /// Amount not positive, or same account; or a cancellation whose account or amount is
    /// not the original's.
    BadRequest,
    /// A history page's continuation key was not handed out by this system (or is past the
    /// account's history).
    BadNextKey,
    /// A cancellation names a transfer this system did not post.
    OriginalNotFound,
    /// A cancellation names a transfer already cancelled.
    AlreadyCancelled,
}

impl Refusal {
    /// The header response code and message for this refusal.
    pub fn code(self) -> (&'static str, &'static str) {
        match self {
            Refusal::NoAccount => ("E101", "ACCOUNT NOT FOUND"),
            Refusal::NotActive => ("E102", "ACCOUNT NOT ACTIVE"),
            Refusal::Insufficient => ("E201", "INSUFFICIENT FUNDS"),
            Refusal::BadRequest => ("E301", "INVALID REQUEST"),
            Refusal::BadNextKey => ("E302", "INVALID NEXT KEY"),
            Refusal::OriginalNotFound => ("E401", "ORIGINAL NOT FOUND"),
            Refusal::AlreadyCancelled => ("E402", "ALREADY CANCELLED"),
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
        let leg = Leg { debit: from, credit: to, kinds: ("TO", "TI"), prefix: "XF" };
        self.post(effect, leg, cents, memo, at).map(|(debit_after, _, reference)| (debit_after, reference))
    }

    /// Reverses a transfer of `cents` from `from` to `to`: the money goes back from `to` to
    /// `from` (history kinds `CO` on `to`, `CI` on `from`), by the transfer's rules — both
    /// accounts active, and `to` must still have the money available (a reversal never
    /// overdraws the account that received it; it is refused with E201 instead). Returns
    /// `from`'s balance after and a `CN…` reference from the same counter as transfers.
    pub fn reverse_as(
        &self,
        effect: Effect,
        from: &str,
        to: &str,
        cents: i128,
        memo: &str,
        at: (u32, u32),
    ) -> Result<(i128, String), Refusal> {
        let leg = Leg { debit: to, credit: from, kinds: ("CO", "CI"), prefix: "CN" };
        self.post(effect, leg, cents, memo, at).map(|(_, credit_after, reference)| (credit_after, reference))
    }

    /// Moves money by `leg`; returns (debited account's balance after, credited account's
    /// balance after, reference). A dry run answers the same and changes nothing.
    fn post(
        &self,
        effect: Effect,
        leg: Leg<'_>,
        cents: i128,
        memo: &str,
        at: (u32, u32),
    ) -> Result<(i128, i128, String), Refusal> {
        let (date, time) = at;
        let (debit, credit) = (leg.debit.trim(), leg.credit.trim());
        if cents <= 0 || debit == credit {
            return Err(Refusal::BadRequest);
        }
        let mut accounts = self.accounts.lock().map_err(|_| Refusal::BadRequest)?;
        for number in [debit, credit] {
            match accounts.get(number) {
                None => return Err(Refusal::NoAccount),
                Some(a) if a.status != 'A' => return Err(Refusal::NotActive),
                Some(_) => {}
            }
        }
        let source = accounts.get(debit).ok_or(Refusal::NoAccount)?;
        if source.balance - source.hold < cents {
            return Err(Refusal::Insufficient);
        }
        let target = accounts.get(credit).ok_or(Refusal::NoAccount)?;
        let mut reference = self.next_ref.lock().map_err(|_| Refusal::BadRequest)?;
        let xref = format!("{}{date:08}{:010}", leg.prefix, *reference);
        if effect == Effect::DryRun {
            return Ok((source.balance - cents, target.balance + cents, xref));
        }
        *reference += 1;
        let mut after = (0, 0);
        for (number, signed, kind) in [(debit, -cents, leg.kinds.0), (credit, cents, leg.kinds.1)] {
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
                if number == debit {
                    after.0 = a.balance;
                } else {
                    after.1 = a.balance;
                }
            }
        }
        Ok((after.0, after.1, xref))
    }

    /// Every account's balance in cents, by account number.
    pub fn balances(&self) -> BTreeMap<String, i128> {
        let accounts = self.accounts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        accounts.iter().map(|(number, a)| (number.clone(), a.balance)).collect()
    }

    /// The money on the ledger: the sum of every balance, in cents. Transfers and their
    /// reversals move money, never make or lose it, so this stays as seeded.
    pub fn total(&self) -> i128 {
        self.balances().values().sum()
    }
}

/// Which way a posting moves money, what it writes in the history and its reference prefix.
struct Leg<'a> {
    debit: &'a str,
    credit: &'a str,
    /// History kinds for the debited and the credited account.
    kinds: (&'static str, &'static str),
    prefix: &'static str,
}
