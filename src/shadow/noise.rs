//! Noise or finding: what one differing field's history says about it.
//!
//! A field is **noise** only when the primary itself is not deterministic: it answered the same
//! request (same operation and request body after the common header) with different values on
//! most repeats, values that look generated (a time or sequence field, or a text token) and
//! never come back; or it is a time/date/sequence field whose primary value keeps rising from
//! message to message (one reading per message: the rows of one reply are never compared with
//! each other) while no repeated request contradicts that. Noise is safe to `ignore`.
//!
//! Every other difference is a **finding**: a difference that repeats identically for the same
//! request, or by the same amount every time (a balance always 0.01 too high, a time always
//! nine hours off — whatever the field's name), is the new side being wrong, and is never
//! suggested for `ignore`. So is a value the primary changed between repeats that is *state*
//! rather than generated ([`Class::StateChanges`]): a number that is no time or sequence (a
//! balance moves between two inquiries), a value that went back to an earlier one, or one the
//! shadow answered a repeat late (it lags). Findings carry examples (message id, request key,
//! primary and shadow values) and, for numbers, the distribution of deltas.
//!
//! Memory is bounded: each field remembers at most [`KEY_SLOTS`] requests (a fixed table; a new
//! request evicts the one in its slot), [`EXAMPLES`] examples and a fixed delta histogram.
//! This module only classifies; `stats` and `report` feed it and show what it says.

mod clock;

pub use clock::{clock_named, clock_value};

use super::delta::{signed, Deltas};
use super::record::MASK_PREFIX;
use clock::ClockRun;
use serde_json::{json, Value};
use std::hash::{DefaultHasher, Hash, Hasher};

/// Requests remembered per field (a direct-mapped table: evicting is overwriting a slot).
pub const KEY_SLOTS: usize = 256;
/// Repeats on which the primary changed, at least, before its field can be called noise.
pub const MIN_CHANGED: u64 = 3;
/// Rises of a time or sequence field's primary value per fall (and at least this many in all)
/// before it is called a clock.
pub const CLOCK_MIN_RISES: u64 = 10;
/// Examples kept per field.
pub const EXAMPLES: usize = 3;

/// One differing field of one compared message, as the classifier sees it.
pub struct Observation<'a> {
    /// The request's key (equal for the same request asked again); none if unknown.
    pub key: Option<u64>,
    /// The field's path in this message (`TXN-ROW[3].TXN-AMT`).
    pub path: &'a str,
    /// The primary's value.
    pub primary: &'a Value,
    /// The shadow's value.
    pub shadow: &'a Value,
    /// The message id, for examples.
    pub id: Option<&'a str>,
}

/// One example of a difference.
#[derive(Clone, Debug, PartialEq)]
pub struct Example {
    /// The message id.
    pub id: Option<String>,
    /// The request key, hex.
    pub key: Option<String>,
    /// The element's path (for tables: with its index).
    pub path: String,
    /// The primary's value.
    pub primary: Value,
    /// The shadow's value.
    pub shadow: Value,
}

/// What a differing field is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Noise: the primary answered the same request differently on most repeats, with values
    /// that look generated (a time or sequence field, or a text token) and never come back.
    PrimaryVaries,
    /// Noise: a time or sequence field whose primary value keeps rising from message to message.
    Clock,
    /// Finding: the same request got the same difference every time, or every difference was
    /// the same number.
    Consistent,
    /// Finding: the primary repeated itself for the same request; the shadow did not.
    ShadowVaries,
    /// Finding: the primary changed on some repeats, too few to call it noise.
    Mixed,
    /// Finding: the primary's value changed between repeats, but as state changes (a balance
    /// moved by a transfer), not as a generated value: a number that is no time or sequence, a
    /// value that went back to an earlier one, or one the shadow answered a repeat late.
    StateChanges,
    /// Finding: no request seen twice yet, so nothing shows the primary varies.
    Unrepeated,
}

impl Class {
    /// True for noise (safe to `ignore`), false for a finding (to fix).
    pub fn is_noise(self) -> bool {
        matches!(self, Class::PrimaryVaries | Class::Clock)
    }

    /// The name used in JSON and reports.
    pub fn name(self) -> &'static str {
        match self {
            Class::PrimaryVaries => "primary_varies",
            Class::Clock => "clock",
            Class::Consistent => "consistent",
            Class::ShadowVaries => "shadow_varies",
            Class::Mixed => "mixed",
            Class::StateChanges => "state_changes",
            Class::Unrepeated => "unrepeated",
        }
    }
}

/// A field's verdict, with the evidence.
#[derive(Clone, Debug)]
pub struct FieldReport {
    /// The field (generalised: `TXN-ROW[*].TXN-AMT`).
    pub field: String,
    /// Messages where it differed.
    pub mismatches: u64,
    /// Noise or which kind of finding.
    pub class: Class,
    /// Why, in a sentence.
    pub why: String,
    /// The numeric deltas (shadow − primary), summarised ("always +0.01").
    pub delta: Option<String>,
    /// The delta distribution as JSON (null if nothing numeric).
    pub deltas: Value,
    /// A few differences.
    pub examples: Vec<Example>,
}

impl FieldReport {
    /// The suggested `ignore` line: only for noise.
    pub fn suggest(&self) -> Option<String> {
        self.class.is_noise().then(|| format!("ignore = [\"{}\"]", self.field))
    }

    /// As JSON, with `share` of `compared` messages.
    pub fn to_json(&self, compared: u64) -> Value {
        let share = if compared > 0 { self.mismatches as f64 / compared as f64 } else { 0.0 };
        let examples: Vec<Value> = self
            .examples
            .iter()
            .map(|e| json!({ "id": e.id, "key": e.key, "path": e.path, "primary": e.primary, "shadow": e.shadow }))
            .collect();
        let mut v = json!({
            "field": self.field,
            "mismatches": self.mismatches,
            "share": share,
            "kind": self.class.name(),
            "why": self.why,
        });
        if self.class.is_noise() {
            v["suggest"] = json!(self.suggest());
        } else {
            v["delta"] = self.deltas.clone();
            v["examples"] = Value::Array(examples);
        }
        v
    }
}

#[derive(Clone, Copy, Default)]
struct Slot {
    used: bool,
    /// `earlier` holds the value the primary gave before `primary`.
    has_earlier: bool,
    key: u64,
    path: u64,
    primary: u64,
    earlier: u64,
    shadow: u64,
}

/// Everything remembered about one differing field of one operation.
#[derive(Clone, Default)]
pub struct FieldTrack {
    clock_named: bool,
    mismatches: u64,
    last_message: Option<u64>,
    slots: Vec<Slot>,
    same: u64,
    identical: u64,
    shadow_changed: u64,
    changed: u64,
    /// Changed repeats where the shadow answered a value the primary gave before.
    lagged: u64,
    /// Changed repeats where the primary went back to the value it gave before the last one.
    returned: u64,
    /// Differences whose primary value was a number or masked (possibly state).
    numeric: u64,
    clock: ClockRun,
    deltas: Deltas,
    examples: Vec<Example>,
}

fn hash_value(v: &Value, h: &mut DefaultHasher) {
    match v {
        Value::Null => 0u8.hash(h),
        Value::Bool(b) => (1u8, b).hash(h),
        Value::Number(n) => match super::delta::number(v) {
            // By value, as the comparison does: 1.50 = 1.5, -0 = 0.
            Some(d) => {
                let (mut c, mut s) = (d.coefficient, d.scale);
                while c != 0 && c % 10 == 0 {
                    c /= 10;
                    s -= 1;
                }
                (2u8, d.negative && c != 0, c, if c == 0 { 0 } else { s }).hash(h)
            }
            None => (3u8, n.as_str()).hash(h),
        },
        Value::String(s) => (4u8, s.trim_end_matches([' ', '\0'])).hash(h),
        Value::Array(a) => {
            (5u8, a.len()).hash(h);
            a.iter().for_each(|x| hash_value(x, h));
        }
        Value::Object(o) => {
            (6u8, o.len()).hash(h);
            for (k, x) in o {
                k.hash(h);
                hash_value(x, h);
            }
        }
    }
}

fn fingerprint(v: &Value) -> u64 {
    let mut h = DefaultHasher::new();
    hash_value(v, &mut h);
    h.finish()
}

/// A number, or a masked value (its type unknown, it may be one): values that may be state.
fn numeric_or_masked(v: &Value) -> bool {
    match v {
        Value::Number(_) => true,
        Value::String(s) => s.starts_with(MASK_PREFIX),
        _ => false,
    }
}

impl FieldTrack {
    /// A track for `field` (its name decides whether it may be a clock).
    pub fn new(field: &str) -> FieldTrack {
        FieldTrack { clock_named: clock_named(field), ..FieldTrack::default() }
    }

    /// Counts message number `serial` once, however many of its elements differ. Call it before
    /// observing each of the message's differences: the clock rule reads one per message.
    pub fn count_message(&mut self, serial: u64) {
        if self.last_message != Some(serial) {
            self.last_message = Some(serial);
            self.mismatches += 1;
            self.clock.next_message();
        }
    }

    /// Messages counted.
    pub fn mismatches(&self) -> u64 {
        self.mismatches
    }

    /// Learns from one difference.
    pub fn observe(&mut self, o: &Observation<'_>) {
        self.deltas.add(o.primary, o.shadow);
        if self.examples.len() < EXAMPLES {
            self.examples.push(Example {
                id: o.id.map(String::from),
                key: o.key.map(|k| format!("{k:016x}")),
                path: o.path.to_string(),
                primary: o.primary.clone(),
                shadow: o.shadow.clone(),
            });
        }
        self.numeric += u64::from(numeric_or_masked(o.primary));
        let mut h = DefaultHasher::new();
        o.path.hash(&mut h);
        let path = h.finish();
        self.clock.see(path, o.primary);
        let Some(key) = o.key else { return };
        if self.slots.is_empty() {
            self.slots = vec![Slot::default(); KEY_SLOTS];
        }
        let (primary, shadow) = (fingerprint(o.primary), fingerprint(o.shadow));
        let slot = &mut self.slots[((key ^ path) % KEY_SLOTS as u64) as usize];
        if !(slot.used && slot.key == key && slot.path == path) {
            *slot = Slot { used: true, key, path, primary, shadow, ..Slot::default() };
            return;
        }
        if slot.primary != primary {
            self.changed += 1;
            // The shadow now says what the primary said before: it lags behind a state change.
            self.lagged += u64::from(shadow == slot.primary || (slot.has_earlier && shadow == slot.earlier));
            // The primary is back at a value it gave before: state, not a generated value.
            self.returned += u64::from(slot.has_earlier && primary == slot.earlier);
            (slot.earlier, slot.has_earlier) = (slot.primary, true);
        } else if slot.shadow == shadow {
            self.same += 1;
            self.identical += 1;
        } else {
            self.same += 1;
            self.shadow_changed += 1;
        }
        (slot.primary, slot.shadow) = (primary, shadow);
    }

    /// Why a primary that changed between repeats is state, not noise; none if nothing says so.
    fn state_changes(&self, repeats: u64) -> Option<String> {
        if self.lagged > 0 {
            return Some(format!(
                "on {} of {repeats} repeats the shadow answered the value the primary had given before for the same request: it lags behind the primary's state (not noise; compare at a quiet time or with replay)",
                self.lagged
            ));
        }
        if self.returned > 0 {
            return Some(format!(
                "the primary's value went back to an earlier one for the same request on {} of {repeats} repeats: state that changes, not a value generated per call (not noise; compare at a quiet time or with replay)",
                self.returned
            ));
        }
        (self.changed > 0 && self.numeric > 0 && !self.clock_named).then(|| {
            format!(
                "the primary's value changed on {} of {repeats} repeats of the same request, and it is a number that is no time or sequence: state that changed in between (a balance after a transfer), not noise (compare at a quiet time or with replay)",
                self.changed
            )
        })
    }

    /// The verdict.
    pub fn classify(&self) -> (Class, String) {
        let repeats = self.same + self.changed;
        // A difference by the same amount every time is the new side's error, whatever the
        // field: a time always nine hours off is a time zone bug, even though the time moves.
        // Two clocks read one after the other differ by varying amounts, not one exact number.
        if let Some(d) = self.deltas.constant(2) {
            let why = format!("differs by {} every time ({} differences)", signed(&d), self.deltas.numeric());
            return (Class::Consistent, why);
        }
        let primary_varies = self.changed >= MIN_CHANGED && self.changed > self.same;
        let clock = self.clock_named
            && self.clock.unclocklike == 0
            // CLOCK_MIN_RISES rises per fall: a value that is a function of the request, over at
            // most CLOCK_MIN_RISES distinct requests, never gets there (between two falls its
            // readings never decrease, so they rise at most once per distinct value).
            && self.clock.rises >= CLOCK_MIN_RISES.saturating_mul(self.clock.falls + 1)
            && self.same <= self.changed;
        if primary_varies || clock || self.shadow_changed == 0 {
            if let Some(why) = self.state_changes(repeats) {
                return (Class::StateChanges, why);
            }
        }
        if primary_varies {
            let why = format!(
                "the primary answered the same request differently on {} of {repeats} repeats: its own value is not deterministic",
                self.changed
            );
            return (Class::PrimaryVaries, why);
        }
        if clock {
            let why = format!(
                "a time or sequence field whose primary value rose on {} of {} successive messages",
                self.clock.rises,
                self.clock.readings.saturating_sub(1)
            );
            return (Class::Clock, why);
        }
        if self.identical > 0 && self.shadow_changed == 0 && self.changed == 0 {
            let why = format!("the same request got the same different answer on every repeat ({})", self.identical);
            return (Class::Consistent, why);
        }
        if self.shadow_changed > 0 {
            let why = format!(
                "the primary repeated its value for the same request, the shadow did not ({} of {repeats} repeats)",
                self.shadow_changed
            );
            return (Class::ShadowVaries, why);
        }
        if self.changed > 0 {
            let why = format!(
                "the primary changed on {} of {repeats} repeats of the same request: too few to call it noise",
                self.changed
            );
            return (Class::Mixed, why);
        }
        (Class::Unrepeated, "no request seen twice yet: nothing shows the primary varies".to_string())
    }

    /// The verdict with its evidence, for `field`.
    pub fn report(&self, field: &str) -> FieldReport {
        let (class, why) = self.classify();
        FieldReport {
            field: field.to_string(),
            mismatches: self.mismatches,
            class,
            why,
            delta: self.deltas.summary(),
            deltas: self.deltas.to_json(),
            examples: self.examples.clone(),
        }
    }
}

#[cfg(test)]
mod tests;
