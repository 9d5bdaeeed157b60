//! The parts of one long message (장전문) on one channel connection, put back together: a pure
//! state machine fed one framed message at a time ([`Reassembler::push`]). It keeps at most one
//! open message, bounded by `max_bytes` and `max_parts`; the clock is its driver's (a parts
//! timeout is [`Reassembler::expire`]).
//!
//! A message being reassembled is the first part's header followed by every part's body in
//! part-number order; when the last part comes, its flag is set to single and its length field
//! made right. Any part that does not continue the open message — out of order, a duplicate,
//! another operation or message id, a new first part, a single message — drops the open
//! message and is refused: nothing partial is ever handed on. In pass mode (a legacy route's
//! parts, forwarded one by one) the same checks run and no body is kept.

use super::parts::{MultipartPlan, PartError, PartKind};
use super::HeaderLayout;

/// What to do with a message just pushed.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// A message in one part: serve it as it is.
    Single,
    /// A first or middle part, kept: nothing to serve yet.
    Held {
        /// Its part number.
        part: u32,
    },
    /// A part of a message in pass mode, checked: forward it as it is.
    Pass {
        /// Its part number.
        part: u32,
        /// It was the last part (the message is closed).
        last: bool,
    },
    /// The last part came: the whole message, marked single.
    Complete {
        /// The reassembled message.
        message: Vec<u8>,
        /// How many parts it had.
        parts: u32,
    },
}

/// One connection's open message, if any.
#[derive(Debug, Default)]
pub struct Reassembler {
    open: Option<Open>,
}

#[derive(Debug)]
struct Open {
    /// The operation key of the first part.
    op: String,
    /// The message id of the first part, when `[header] message_id` names one.
    id: Option<String>,
    /// The next part number expected.
    next: u32,
    /// The first part's header, then every body so far (only the header in pass mode).
    message: Vec<u8>,
    /// Parts are forwarded one by one, not kept.
    pass: bool,
}

impl Open {
    fn name(&self) -> String {
        self.id.clone().unwrap_or_else(|| self.op.clone())
    }
}

impl Reassembler {
    /// True while a message waits for its next part.
    pub fn is_open(&self) -> bool {
        self.open.is_some()
    }

    /// True while a message waits for its next part and its parts are kept here (not passed
    /// to the host one by one).
    pub fn is_holding(&self) -> bool {
        self.open.as_ref().is_some_and(|o| !o.pass)
    }

    /// Drops the open message (a channel that closed mid-message): its operation and the part it
    /// waited for, if one was open.
    pub fn abandon(&mut self) -> Option<(String, u32)> {
        self.open.take().map(|o| (o.name(), o.next))
    }

    /// The parts timeout passed: the open message is dropped, and the error and the first
    /// part's header (to answer on) are returned.
    pub fn expire(&mut self, header: &HeaderLayout, ms: u64) -> Option<(PartError, Vec<u8>)> {
        let open = self.open.take()?;
        let first = open.message[..header.size.min(open.message.len())].to_vec();
        Some((PartError::Timeout { expected: open.next, id: open.name(), ms }, first))
    }

    /// Takes one framed message. `pass` is asked only for a first part: true when the
    /// message's parts are to be forwarded one by one (a legacy route) instead of reassembled.
    /// On any error the open message is dropped.
    pub fn push(
        &mut self,
        plan: &MultipartPlan,
        header: &HeaderLayout,
        message: &[u8],
        pass: impl FnOnce() -> bool,
    ) -> Result<Step, PartError> {
        let result = self.step(plan, header, message, pass);
        if result.is_err() {
            self.open = None;
        }
        result
    }

    fn step(
        &mut self,
        plan: &MultipartPlan,
        header: &HeaderLayout,
        message: &[u8],
        pass: impl FnOnce() -> bool,
    ) -> Result<Step, PartError> {
        let kind = plan.kind(header, message)?;
        if kind == PartKind::Single {
            return match &self.open {
                None => Ok(Step::Single),
                Some(o) => Err(PartError::SingleWhileOpen { id: o.name(), expected: o.next }),
            };
        }
        let part = plan.part_no(header, message)?;
        if let Err(error) = header.check_length(message) {
            return Err(PartError::Malformed { part, error });
        }
        let settings = &plan.settings;
        if kind == PartKind::First {
            if let Some(o) = &self.open {
                return Err(PartError::FirstWhileOpen { id: o.name(), expected: o.next });
            }
            let op = header.operation(message).map_err(|error| PartError::Malformed { part, error })?;
            let id = header.message_id(message);
            if part != 1 {
                return Err(PartError::OutOfOrder { expected: 1, got: part, id: id.unwrap_or(op) });
            }
            let pass = pass();
            let keep = if pass { header.size.min(message.len()) } else { message.len() };
            if !pass && message.len() > settings.max_bytes {
                return Err(PartError::TooLarge { bytes: message.len(), max: settings.max_bytes, part });
            }
            self.open = Some(Open { op, id, next: 2, message: message[..keep].to_vec(), pass });
            return Ok(if pass { Step::Pass { part, last: false } } else { Step::Held { part } });
        }
        let Some(open) = self.open.as_mut() else { return Err(PartError::NotOpen { kind: kind.name(), got: part }) };
        let op = header.operation(message).map_err(|error| PartError::Malformed { part, error })?;
        if op != open.op {
            let field = "operation".to_string();
            return Err(PartError::Foreign { part, field, open: open.op.clone(), got: op });
        }
        let id = header.message_id(message);
        if id != open.id {
            let field = header.message_id_name().unwrap_or("message id").to_string();
            let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "(unreadable)".into());
            return Err(PartError::Foreign { part, field, open: show(&open.id), got: show(&id) });
        }
        if part != open.next {
            return Err(PartError::OutOfOrder { expected: open.next, got: part, id: open.name() });
        }
        if part > plan.max_parts() {
            return Err(PartError::TooManyParts { part, max: plan.max_parts() });
        }
        let last = kind == PartKind::Last;
        if open.pass {
            open.next += 1;
            if last {
                self.open = None;
            }
            return Ok(Step::Pass { part, last });
        }
        let body = message.get(header.size..).unwrap_or_default();
        let bytes = open.message.len() + body.len();
        if bytes > settings.max_bytes {
            return Err(PartError::TooLarge { bytes, max: settings.max_bytes, part });
        }
        open.message.extend_from_slice(body);
        open.next += 1;
        if !last {
            return Ok(Step::Held { part });
        }
        let Some(open) = self.open.take() else { unreachable!("checked open above") };
        let mut message = open.message;
        plan.mark_single(header, &mut message);
        if header.check_length(&message).is_err() {
            // A length field too narrow for the whole message: it cannot be stated.
            let field = header.length_field().unwrap_or("the length field").to_string();
            return Err(PartError::Unstatable { bytes: message.len(), field });
        }
        Ok(Step::Complete { message, parts: part })
    }
}

#[cfg(test)]
#[path = "reassemble_tests.rs"]
mod tests;
