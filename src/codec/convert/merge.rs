//! REDEFINES for conversion: fields that share bytes (alternatives of one area, or a FILLER
//! and a view over it) are merged byte by byte into one way of converting each byte, or
//! refused when they disagree.
//!
//! Agreement, per byte (the first alternative is the redefined item, so it wins ties):
//! - the same field shape (how, offset and length) agrees;
//! - byte-local kinds agree with themselves whatever their boundaries: copied with copied,
//!   single-byte text with single-byte text, digits with digits;
//! - unsigned digits give way to text (single-byte or not) and to overpunched zoned decimal
//!   over the same bytes: both convert valid digits to the same bytes, and accept more;
//! - anything else is [`ConvertPlanError::Ambiguous`].
//!
//! A field converted as a whole (text through the code pages, signed zoned, DBCS) must win
//! all of its bytes or none.

use super::{ConvertPlanError, How, Seg};
use crate::codec::charset::CodePage;
use crate::codec::zoned::SignPosition;

/// Which of two fields over one byte converts it.
enum Pick {
    Keep,
    Take,
    Conflict,
}

fn pick(held: &Seg, new: &Seg) -> Pick {
    if held.how == new.how && (held.offset, held.len) == (new.offset, new.len) {
        return Pick::Keep;
    }
    let overpunch = |h: How| {
        matches!(
            h,
            How::Zoned {
                sign: SignPosition::TrailingOverpunch | SignPosition::LeadingOverpunch,
                blank_when_zero: false
            }
        )
    };
    match (held.how, new.how) {
        (a, b) if a == b && a.byte_local() => Pick::Keep,
        (How::Digits, How::Map | How::Text { .. }) => Pick::Take,
        (How::Map | How::Text { .. }, How::Digits) => Pick::Keep,
        (How::Digits, b) if overpunch(b) => Pick::Take,
        (a, How::Digits) if overpunch(a) => Pick::Keep,
        _ => Pick::Conflict,
    }
}

/// `segs` (in layout order) with shared bytes merged, sorted by offset.
pub(super) fn merge(
    mut segs: Vec<Seg>,
    record: &str,
    from: CodePage,
    to: CodePage,
) -> Result<Vec<Seg>, ConvertPlanError> {
    let mut order: Vec<usize> = (0..segs.len()).collect();
    order.sort_by_key(|&i| (segs[i].offset, i));
    if order.windows(2).all(|w| end(&segs[w[0]]) <= segs[w[1]].offset as usize) {
        segs.sort_by_key(|s| s.offset);
        return Ok(segs);
    }
    let mut out = Vec::with_capacity(segs.len());
    let mut k = 0;
    while k < order.len() {
        // A group of fields whose bytes overlap, one after another.
        let lo = segs[order[k]].offset as usize;
        let mut hi = end(&segs[order[k]]);
        let mut j = k + 1;
        while j < order.len() && (segs[order[j]].offset as usize) < hi {
            hi = hi.max(end(&segs[order[j]]));
            j += 1;
        }
        let mut group: Vec<usize> = order[k..j].to_vec();
        if group.len() == 1 {
            out.push(segs[group[0]].clone());
        } else {
            group.sort_unstable();
            resolve(&segs, &group, lo, hi, &mut out).map_err(|(a, b, at)| ConvertPlanError::Ambiguous {
                record: record.to_string(),
                first: segs[a].path.to_string(),
                first_how: segs[a].how.describe(),
                second: segs[b].path.to_string(),
                second_how: segs[b].how.describe(),
                offset: at,
                from,
                to,
            })?;
        }
        k = j;
    }
    Ok(out)
}

fn end(s: &Seg) -> usize {
    s.offset as usize + s.len as usize
}

/// Merges the overlapping fields `group` (indexes into `segs`, layout order) over bytes
/// `lo..hi` into `out`; a conflict is `(first, second, offset)`.
fn resolve(
    segs: &[Seg],
    group: &[usize],
    lo: usize,
    hi: usize,
    out: &mut Vec<Seg>,
) -> Result<(), (usize, usize, usize)> {
    let mut owner: Vec<Option<usize>> = vec![None; hi - lo];
    for &i in group {
        let s = &segs[i];
        for at in s.offset as usize..end(s) {
            let slot = &mut owner[at - lo];
            match *slot {
                None => *slot = Some(i),
                Some(h) => match pick(&segs[h], s) {
                    Pick::Keep => {}
                    Pick::Take => *slot = Some(i),
                    Pick::Conflict => return Err((h, i, at)),
                },
            }
        }
    }
    // A whole-field conversion owns all of its bytes or none.
    for &i in group {
        let s = &segs[i];
        if s.how.byte_local() {
            continue;
        }
        let range = s.offset as usize - lo..end(s) - lo;
        if owner[range.clone()].contains(&Some(i)) {
            if let Some(p) = owner[range.clone()].iter().position(|o| *o != Some(i)) {
                let other = owner[range.start + p].unwrap_or(i);
                return Err((other.min(i), other.max(i), lo + range.start + p));
            }
        }
    }
    // Runs of one owner become fields again.
    let mut at = 0;
    while at < owner.len() {
        let who = owner[at];
        let mut stop = at + 1;
        while stop < owner.len() && owner[stop] == who {
            stop += 1;
        }
        if let Some(i) = who {
            let s = &segs[i];
            out.push(Seg { offset: (lo + at) as u32, len: (stop - at) as u32, how: s.how, path: s.path.clone() });
        }
        at = stop;
    }
    Ok(())
}
