//! PICTURE strings → [`Category`]: repetition `(n)`, digits and scale (`V`, `P`), editing.

use crate::copybook::Category;

/// Longest picture, in character positions, we accept (one record's worth of bytes).
pub const MAX_PICTURE_LEN: u32 = 16 << 20;

/// One picture symbol and how many times it repeats. `CR`/`DB` are `c`/`d`, two positions each.
type Run = (char, u32);

/// Resolves a picture string such as `S9(13)V99` or `ZZ,ZZ9.99CR`.
pub fn resolve_picture(pic: &str) -> Result<Category, String> {
    let runs = expand(pic)?;
    let has = |set: &[char]| runs.iter().any(|(c, _)| set.contains(c));
    let only = |set: &[char]| runs.iter().all(|(c, _)| set.contains(c));
    let len = positions(&runs)?;
    if only(&['A']) {
        Ok(Category::Alphabetic { len })
    } else if (only(&['X', 'A', '9']) && has(&['X', 'A']))
        || (has(&['X', 'A']) && only(&['X', 'A', '9', 'B', '0', '/']))
    {
        Ok(Category::Alphanumeric { len })
    } else if only(&['N']) || only(&['N', 'B']) {
        Ok(Category::National { len })
    } else if only(&['G']) || only(&['G', 'B']) {
        Ok(Category::Dbcs { len })
    } else if only(&['9', 'S', 'V', 'P']) {
        numeric(&runs, pic)
    } else if only(&['9', 'Z', '*', ',', '.', '+', '-', 'c', 'd', '$', 'B', '0', '/', 'V', 'P', 'E', 'S']) {
        // `S9(3).99` is not standard, but common (Cobrix): an overpunched sign takes no position.
        Ok(Category::NumericEdited { len })
    } else {
        let bad = runs.iter().map(|(c, _)| *c).find(|c| !"AXNG9SVPZ*,.+-cd$B0/E".contains(*c)).unwrap_or('?');
        Err(format!("picture {pic} mixes symbols that do not go together (`{bad}`)"))
    }
}

/// `X(3)9` → `[('X', 3), ('9', 1)]`, upper-cased, with `(n)` applied.
fn expand(pic: &str) -> Result<Vec<Run>, String> {
    let chars: Vec<char> = pic.chars().map(|c| c.to_ascii_uppercase()).collect();
    let mut runs: Vec<Run> = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let sym = match (c, chars.get(i + 1)) {
            ('C', Some('R')) => {
                i += 1;
                'c'
            }
            ('D', Some('B')) => {
                i += 1;
                'd'
            }
            ('(', _) => return Err(format!("picture {pic} has `(` without a symbol before it")),
            (c, _) if "AXNG9SVPZ*,.+-$B0/E".contains(c) => c,
            (c, _) => return Err(format!("invalid character `{c}` in picture {pic}")),
        };
        i += 1;
        let mut count = 1u32;
        if chars.get(i) == Some(&'(') {
            let close = chars[i..]
                .iter()
                .position(|&c| c == ')')
                .ok_or_else(|| format!("picture {pic} has `(` without `)`"))?;
            let digits: String = chars[i + 1..i + close].iter().collect();
            count = digits.trim().parse::<u32>().ok().filter(|&n| n > 0 && n <= MAX_PICTURE_LEN).ok_or_else(|| {
                format!("bad repeat count ({digits}) in picture {pic}: expected 1 to {MAX_PICTURE_LEN}")
            })?;
            i += close + 1;
        }
        match runs.last_mut() {
            Some((last, n)) if *last == sym => *n = n.saturating_add(count),
            _ => runs.push((sym, count)),
        }
    }
    if runs.is_empty() {
        return Err("empty picture string".to_string());
    }
    Ok(runs)
}

/// Character positions the picture occupies (`V` and `P` take none; `CR`/`DB` take two).
fn positions(runs: &[Run]) -> Result<u32, String> {
    let mut len: u64 = 0;
    for &(c, n) in runs {
        len += match c {
            'V' | 'P' | 'S' => 0,
            'c' | 'd' => 2 * u64::from(n),
            _ => u64::from(n),
        };
    }
    u32::try_from(len)
        .ok()
        .filter(|&l| l <= MAX_PICTURE_LEN)
        .ok_or_else(|| format!("picture longer than {MAX_PICTURE_LEN} positions"))
}

fn numeric(runs: &[Run], pic: &str) -> Result<Category, String> {
    let signed = runs.first().is_some_and(|(c, _)| *c == 'S');
    let count = |sym: char| runs.iter().filter(|(c, _)| *c == sym).map(|(_, n)| *n).sum::<u32>();
    if count('S') > u32::from(signed) {
        return Err(format!("picture {pic}: S must come first, once"));
    }
    if count('V') > 1 {
        return Err(format!("picture {pic}: more than one V"));
    }
    let digits = count('9');
    if digits == 0 {
        return Err(format!("picture {pic} has no digit positions"));
    }
    // Where the implied decimal point is: at V; else before leading Ps, else at the end.
    let first_digitish = runs.iter().position(|(c, _)| *c == '9' || *c == 'P');
    let point = match runs.iter().position(|(c, _)| *c == 'V') {
        Some(v) => v,
        None if first_digitish.is_some_and(|f| runs[f].0 == 'P') => first_digitish.unwrap_or(0),
        None => runs.len(),
    };
    let mut scale: i64 = 0;
    for (idx, &(c, n)) in runs.iter().enumerate() {
        match (c, idx > point) {
            ('9' | 'P', true) => scale += i64::from(n),
            ('P', false) if idx >= point => scale += i64::from(n),
            ('P', false) => scale -= i64::from(n),
            _ => {}
        }
    }
    let scale = i32::try_from(scale).map_err(|_| format!("picture {pic}: scale out of range"))?;
    Ok(Category::Numeric { digits, scale, signed })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(p: &str) -> (u32, i32, bool) {
        match resolve_picture(p).unwrap() {
            Category::Numeric { digits, scale, signed } => (digits, scale, signed),
            c => panic!("{p}: {c:?}"),
        }
    }

    #[test]
    fn numeric_digits_and_scale() {
        assert_eq!(num("S9(13)V99"), (15, 2, true));
        assert_eq!(num("9(3)PPP"), (3, -3, false));
        assert_eq!(num("PPP999"), (3, 6, false));
        assert_eq!(num("VPPP999"), (3, 6, false));
        assert_eq!(num("99PPPV"), (2, -3, false));
        assert_eq!(num("S9V9(4)"), (5, 4, true));
    }

    #[test]
    fn text_categories() {
        assert_eq!(resolve_picture("X(16)"), Ok(Category::Alphanumeric { len: 16 }));
        assert_eq!(resolve_picture("AAA"), Ok(Category::Alphabetic { len: 3 }));
        assert_eq!(resolve_picture("XXBXX"), Ok(Category::Alphanumeric { len: 5 }));
        assert_eq!(resolve_picture("N(5)"), Ok(Category::National { len: 5 }));
        assert_eq!(resolve_picture("G(4)"), Ok(Category::Dbcs { len: 4 }));
    }

    #[test]
    fn edited() {
        assert_eq!(resolve_picture("ZZ9.99"), Ok(Category::NumericEdited { len: 6 }));
        assert_eq!(resolve_picture("--,---,--9.99"), Ok(Category::NumericEdited { len: 13 }));
        assert_eq!(resolve_picture("$ZZ9.99CR"), Ok(Category::NumericEdited { len: 9 }));
        assert_eq!(resolve_picture("99/99/99"), Ok(Category::NumericEdited { len: 8 }));
        assert_eq!(resolve_picture("S9(3).99"), Ok(Category::NumericEdited { len: 6 }));
    }

    #[test]
    fn errors() {
        assert!(resolve_picture("9(0)").is_err());
        assert!(resolve_picture("X(99999999999)").is_err());
        assert!(resolve_picture("9(3").is_err());
        assert!(resolve_picture("9S").is_err());
        assert!(resolve_picture("Q").is_err());
        assert!(resolve_picture("SV").is_err());
    }
}
