//! Compiling a [`Plan`] into conversion steps: one [`Seg`] per field (fixed tables unrolled,
//! variable ones kept as loops), REDEFINES merged (see `merge`), and the byte tables of a
//! pair of code pages.

use super::{merge, ConvertPlanError, CounterRead, How, Maps, Seg, Step, NONE};
use crate::codec::charset::{CodePage, Overflow};
use crate::codec::decode::body_len;
use crate::codec::plan::{LeafKind, Op, Plan};
use crate::codec::zoned::SignPosition;

/// Most fields a fixed table may unroll into; a bigger one stays a loop.
const MAX_UNROLLED: usize = 4096;

/// The pages whose text converts byte for byte (each a bijection onto Latin-1).
fn single_byte(page: CodePage) -> bool {
    matches!(page, CodePage::Ascii | CodePage::Cp037 | CodePage::Cp1047)
}

fn dbcs_page(page: CodePage) -> bool {
    matches!(page, CodePage::Cp933 | CodePage::Cp1364)
}

struct Builder<'p> {
    plan: &'p Plan,
    from: CodePage,
    to: CodePage,
    /// The index of each enclosing table: `Some` when unrolled, `None` when a loop.
    indexes: Vec<Option<u32>>,
    /// Path of the enclosing group (for FILLER), with `[]` after tables.
    path: Vec<String>,
}

/// The steps of `plan` converted from `from` to `to`.
pub(super) fn steps(plan: &Plan, from: CodePage, to: CodePage) -> Result<Vec<Step>, ConvertPlanError> {
    let mut b = Builder { plan, from, to, indexes: Vec::new(), path: Vec::new() };
    b.list(&plan.ops)
}

/// Steps being collected for one base (the record, or one element of a loop).
#[derive(Default)]
struct List {
    steps: Vec<Step>,
    segs: Vec<Seg>,
    counters: Vec<CounterRead>,
}

impl List {
    fn flush(&mut self) {
        if !self.segs.is_empty() || !self.counters.is_empty() {
            let (segs, counters) = (std::mem::take(&mut self.segs), std::mem::take(&mut self.counters));
            self.steps.push(Step::Chunk { segs, counters });
        }
    }
}

impl Builder<'_> {
    fn list(&mut self, ops: &[Op]) -> Result<Vec<Step>, ConvertPlanError> {
        let mut list = List::default();
        self.ops(ops, 0, &mut list)?;
        list.flush();
        for step in &mut list.steps {
            if let Step::Chunk { segs, .. } = step {
                *segs = merge::merge(std::mem::take(segs), &self.plan.record, self.from, self.to)?;
            }
        }
        self.check_tables(&list.steps)?;
        Ok(list.steps)
    }

    /// A loop's static bytes must not be shared with anything else (a REDEFINES of a variable
    /// table cannot be converted: what follows it depends on which alternative holds data).
    fn check_tables(&self, steps: &[Step]) -> Result<(), ConvertPlanError> {
        for (i, step) in steps.iter().enumerate() {
            let Step::Table { path, offset, stride, max, .. } = step else { continue };
            let (lo, hi) = (u64::from(*offset), u64::from(*offset) + u64::from(*stride) * u64::from(*max));
            for (j, other) in steps.iter().enumerate().filter(|(j, _)| *j != i) {
                let clash = match other {
                    Step::Chunk { segs, .. } => segs
                        .iter()
                        .find(|s| u64::from(s.offset) < hi && u64::from(s.offset) + u64::from(s.len) > lo)
                        .map(|s| s.path.to_string()),
                    Step::Table { path: p, offset: o, stride: s, max: m, .. } => {
                        let (a, b) = (u64::from(*o), u64::from(*o) + u64::from(*s) * u64::from(*m));
                        (j > i && a < hi && b > lo).then(|| p.to_string())
                    }
                };
                if let Some(other) = clash {
                    return Err(ConvertPlanError::VariableRedefines {
                        record: self.plan.record.clone(),
                        table: path.to_string(),
                        other,
                    });
                }
            }
        }
        Ok(())
    }

    /// Adds the steps of `ops`, whose offsets are relative to the list's base plus `origin`.
    fn ops(&mut self, ops: &[Op], origin: u32, list: &mut List) -> Result<(), ConvertPlanError> {
        let mut i = 0;
        while i < ops.len() {
            let next = i + 1 + body_len(&ops[i]);
            let body = &ops[i + 1..next];
            match &ops[i] {
                Op::Leaf { leaf, .. } => {
                    let at = origin + leaf.offset;
                    let path = self.fill(&leaf.path);
                    list.segs.push(Seg { offset: at, len: leaf.len, how: self.how(leaf.kind, &path)?, path });
                    if let Some(slot) = leaf.counter_slot {
                        list.counters.push(CounterRead { offset: at, len: leaf.len, kind: leaf.kind, slot });
                    }
                }
                Op::Group { name, .. } => {
                    self.path.push(name.to_string());
                    self.ops(body, origin, list)?;
                    self.path.pop();
                }
                Op::Lifted { .. } => self.ops(body, origin, list)?,
                Op::Fill { offset, pieces, .. } => {
                    let path = self.fill(&self.filler_path());
                    for p in pieces.iter() {
                        let how = self.how(p.kind, &path)?;
                        list.segs.push(Seg { offset: origin + offset + p.offset, len: p.len, how, path: path.clone() });
                    }
                }
                Op::Skip { path, offset, stride, min, max, counter, pieces, .. } => {
                    let path = self.fill(path);
                    let mut segs = Vec::with_capacity(pieces.len());
                    for p in pieces.iter() {
                        segs.push(Seg {
                            offset: p.offset,
                            len: p.len,
                            how: self.how(p.kind, &path)?,
                            path: path.clone(),
                        });
                    }
                    let body = vec![Step::Chunk {
                        segs: merge::merge(segs, &self.plan.record, self.from, self.to)?,
                        counters: Vec::new(),
                    }];
                    list.flush();
                    list.steps.push(Step::Table {
                        path,
                        offset: origin + offset,
                        stride: *stride,
                        min: *min,
                        max: *max,
                        counter: Some(*counter),
                        body,
                    });
                }
                Op::Array { name, offset, stride, min, max, counter, .. } => {
                    self.path.push(format!("{name}[]"));
                    let unrolled = flat_size(body).and_then(|n| n.checked_mul(*max as usize));
                    if counter.is_none() && unrolled.is_some_and(|n| n <= MAX_UNROLLED) {
                        for k in 0..*max {
                            self.indexes.push(Some(k));
                            self.ops(body, origin + offset + k * stride, list)?;
                            self.indexes.pop();
                        }
                    } else {
                        self.indexes.push(None);
                        let inner = self.list(body);
                        self.indexes.pop();
                        list.flush();
                        let path = self.fill(&self.path.join("."));
                        let path = path.strip_suffix("[]").map(Into::into).unwrap_or(path);
                        list.steps.push(Step::Table {
                            path,
                            offset: origin + offset,
                            stride: *stride,
                            min: *min,
                            max: *max,
                            counter: *counter,
                            body: inner?,
                        });
                    }
                    self.path.pop();
                }
            }
            i = next;
        }
        Ok(())
    }

    fn filler_path(&self) -> String {
        let mut p = self.path.join(".");
        if !p.is_empty() {
            p.push('.');
        }
        p.push_str("FILLER");
        p
    }

    /// `path` with the index of each unrolled table in its `[]` (loops keep `[]`, filled when
    /// a message names the field).
    fn fill(&self, path: &str) -> Box<str> {
        let mut out = String::with_capacity(path.len() + 8);
        let mut parts = path.split("[]").peekable();
        let mut indexes = self.indexes.iter();
        while let Some(part) = parts.next() {
            out.push_str(part);
            if parts.peek().is_some() {
                match indexes.next() {
                    Some(Some(k)) => out.push_str(&format!("[{k}]")),
                    _ => out.push_str("[]"),
                }
            }
        }
        out.into_boxed_str()
    }

    fn how(&self, kind: LeafKind, path: &str) -> Result<How, ConvertPlanError> {
        Ok(match kind {
            // JUST RIGHT too: byte for byte, the padding stays where it is.
            LeafKind::Text { .. } if single_byte(self.from) && single_byte(self.to) => How::Map,
            LeafKind::Text { justified } => How::Text { justified },
            LeafKind::National | LeafKind::Packed { .. } | LeafKind::Binary { .. } | LeafKind::Float(_) => How::Copy,
            LeafKind::Zoned { sign: SignPosition::None, blank_when_zero: false, .. } => How::Digits,
            LeafKind::Zoned { sign, blank_when_zero, .. } => How::Zoned { sign, blank_when_zero },
            LeafKind::Dbcs => {
                let ok = |a: CodePage, b: CodePage| dbcs_page(a) && (dbcs_page(b) || b == CodePage::Cp949);
                if !(ok(self.from, self.to) || ok(self.to, self.from)) {
                    return Err(ConvertPlanError::Unsupported {
                        record: self.plan.record.clone(),
                        field: path.to_string(),
                        reason: format!(
                            "a PIC G (DBCS) field converts only between cp933, cp1364 and cp949, not {} to {}",
                            self.from, self.to
                        ),
                    });
                }
                How::Dbcs
            }
        })
    }
}

/// How many fields `ops` unroll into, or `None` if they hold a variable table.
fn flat_size(ops: &[Op]) -> Option<usize> {
    let mut n = 0usize;
    let mut i = 0;
    while i < ops.len() {
        let next = i + 1 + body_len(&ops[i]);
        let body = &ops[i + 1..next];
        n = n.checked_add(match &ops[i] {
            Op::Leaf { .. } => 1,
            Op::Fill { pieces, .. } => pieces.len(),
            Op::Group { .. } | Op::Lifted { .. } => 0, // their body is counted as we go
            Op::Skip { .. } | Op::Array { counter: Some(_), .. } => return None,
            Op::Array { max, .. } => {
                let inner = flat_size(body)?.checked_mul(*max as usize)?;
                i = next;
                n = n.checked_add(inner)?;
                continue;
            }
        })?;
        i = match &ops[i] {
            Op::Group { .. } | Op::Lifted { .. } => i + 1,
            _ => next,
        };
    }
    Some(n)
}

impl Maps {
    pub(super) fn new(from: CodePage, to: CodePage) -> Maps {
        let mut text = [NONE; 256];
        let mut digit = [NONE; 256];
        let (zf, zt) = (zone(from), zone(to));
        for d in 0..10u8 {
            digit[usize::from(zf | d)] = u16::from(zt | d);
        }
        let mut s = String::new();
        for (b, slot) in (0u8..=255).zip(text.iter_mut()) {
            s.clear();
            // A cp949 lead byte is never a character alone, even where decoding one byte works.
            if from == CodePage::Cp949 && b >= 0x80 {
                continue;
            }
            if from.decode_into(&[b], &mut s).is_err() || s.chars().count() != 1 {
                continue;
            }
            let mut one = [0u8; 1];
            if to.encode_into(&s, &mut one, Overflow::Error).is_ok() {
                *slot = u16::from(one[0]);
            }
        }
        Maps { text, digit }
    }
}

/// The zone of a plain digit in `page`.
pub(super) fn zone(page: CodePage) -> u8 {
    if page.is_ebcdic() {
        0xF0
    } else {
        0x30
    }
}
