//! One elementary item: picture + usage (own or inherited) → [`Elementary`] and its size.

use super::{err, picture::resolve_picture, Inherited, MAX_RECORD_BYTES};
use crate::copybook::parse::{Clause, Entry};
use crate::copybook::{Category, ConditionValue, CopybookError, Elementary, Picture, Usage};

/// Most digits a DISPLAY or packed number may have.
pub const MAX_DIGITS: u32 = 38;
/// Most digits a packed-decimal number may have: 16 bytes, IBM's limit under ARITH(EXTEND)
/// (Programming Guide, "Defining numeric data": up to 31 digits).
pub const MAX_PACKED_DIGITS: u32 = 31;
/// Most digits a binary number may have (8 bytes).
pub const MAX_BINARY_DIGITS: u32 = 18;

/// What a group's own USAGE and SIGN pass to its children.
pub fn inherit(entry: &Entry, mut inherited: Inherited) -> Inherited {
    for c in &entry.clauses {
        match c {
            Clause::Usage(u) => inherited.usage = Some(*u),
            Clause::Sign(s) => inherited.sign = Some(*s),
            _ => {}
        }
    }
    inherited
}

/// Resolves an elementary entry: its description and the size of one occurrence.
pub fn resolve(entry: &Entry, inherited: Inherited) -> Result<(Elementary, usize), CopybookError> {
    let own = inherit(entry, Inherited::default());
    let mut usage = own.usage;
    let sign = own.sign.or(inherited.sign);
    let pic = entry.clauses.iter().find_map(|c| if let Clause::Picture(p) = c { Some(p.clone()) } else { None });
    let name = entry.name.as_deref().unwrap_or("FILLER");
    let picture = match (&pic, usage) {
        (_, Some(u @ (Usage::Float | Usage::Double | Usage::Index | Usage::Pointer))) => {
            Picture { source: pic.clone().unwrap_or_else(|| u.to_string()), category: Category::None }
        }
        (Some(p), _) => Picture { source: p.clone(), category: resolve_picture(p).map_err(|m| err(entry, m))? },
        (None, _) => {
            return Err(err(entry, format!("elementary item {name} needs a PICTURE (or a USAGE such as COMP-1)")))
        }
    };
    // A group's USAGE reaches only the children it can apply to (a PIC X under a COMP-3
    // group stays DISPLAY, as IBM and cb2xml do).
    if usage.is_none() {
        usage = inherited.usage.filter(|u| {
            matches!(picture.category, Category::Numeric { .. })
                || !matches!(u, Usage::Binary | Usage::NativeBinary | Usage::Packed)
        });
    }
    // PIC N is national and PIC G is DBCS unless a usage says otherwise.
    let category = match (&picture.category, usage) {
        (Category::National { len }, Some(Usage::Display1)) => Category::Dbcs { len: *len },
        (c, _) => c.clone(),
    };
    if usage.is_none() {
        usage = match category {
            Category::National { .. } => Some(Usage::National),
            Category::Dbcs { .. } => Some(Usage::Display1),
            _ => None,
        };
    }
    let usage = usage.unwrap_or(Usage::Display);
    let size =
        size_of(&category, usage, sign.is_some_and(|s| s.separate)).map_err(|m| err(entry, format!("{name}: {m}")))?;
    if size > MAX_RECORD_BYTES {
        return Err(err(entry, format!("{name} is larger than {MAX_RECORD_BYTES} bytes")));
    }
    let value = entry.clauses.iter().find_map(|c| match c {
        Clause::Values(v) => {
            v.iter().find_map(|v| if let ConditionValue::Single(l) = v { Some(l.clone()) } else { None })
        }
        _ => None,
    });
    let el = Elementary {
        picture: Picture { source: picture.source, category },
        usage,
        sign,
        justified: entry.clauses.contains(&Clause::Justified),
        blank_when_zero: entry.clauses.contains(&Clause::BlankWhenZero),
        value,
    };
    super::value::check(entry, &el, size)?;
    Ok((el, size))
}

fn size_of(category: &Category, usage: Usage, separate: bool) -> Result<usize, String> {
    let numeric = |max: u32| match category {
        Category::Numeric { digits, .. } if *digits <= max => Ok(*digits as usize),
        Category::Numeric { digits, .. } => {
            Err(format!("{digits} digits is more than the {max} allowed for USAGE {usage}"))
        }
        _ => Err(format!("USAGE {usage} needs a numeric picture")),
    };
    Ok(match usage {
        Usage::Float | Usage::Index | Usage::Pointer => 4,
        Usage::Double => 8,
        Usage::Binary | Usage::NativeBinary => super::binary_size(numeric(MAX_BINARY_DIGITS)? as u32),
        Usage::Packed => numeric(MAX_PACKED_DIGITS)? / 2 + 1,
        Usage::Display | Usage::National | Usage::Display1 => {
            let chars = match category {
                Category::Numeric { .. } => numeric(MAX_DIGITS)? + usize::from(separate),
                Category::Alphanumeric { len } | Category::Alphabetic { len } | Category::NumericEdited { len } => {
                    *len as usize
                }
                Category::National { len } | Category::Dbcs { len } => return Ok(2 * *len as usize),
                Category::None => return Err("a picture is needed".to_string()),
            };
            if usage == Usage::Display {
                chars
            } else {
                2 * chars
            }
        }
    })
}
