//! Reading a journal key (or an account, for the owner table) out of a message: fields at fixed
//! offsets, each read as text (trailing spaces dropped) or as a number's decimal form, so a
//! `PIC 9(10)` header field and a `PIC 9(10)` body field holding the same digits make the same key.

use crate::codec::charset::CodePage;
use crate::codec::ops::LeafKind;

/// A field a key is read from: where it is in the whole message (header included) and how to
/// read it.
#[derive(Clone, Debug, PartialEq)]
pub struct KeyField {
    /// The field's path as routes.toml names it (for messages).
    pub name: String,
    /// Offset from the start of the message, in bytes.
    pub offset: usize,
    /// Length in bytes.
    pub len: usize,
    /// How its bytes are read (text, zoned, packed or binary; never national or floating).
    pub kind: LeafKind,
}

/// Why a message's key cannot be read: the message is refused (FC05), never journaled under a
/// guess.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// The field is blank (or zero, for a number): the channel did not set it.
    #[error("{field} is {what}: a journaled write needs it to identify the transaction")]
    Missing {
        /// The field.
        field: String,
        /// "blank" or "zero".
        what: &'static str,
    },
    /// The field's bytes are not valid for its picture, or the message is too short to hold it.
    #[error("{field} cannot be read ({why})")]
    Unreadable {
        /// The field.
        field: String,
        /// Why.
        why: String,
    },
}

impl KeyField {
    /// True for the kinds a key can be read from.
    pub fn usable(kind: LeafKind) -> bool {
        matches!(
            kind,
            LeafKind::Text { .. } | LeafKind::Zoned { .. } | LeafKind::Packed { .. } | LeafKind::Binary { .. }
        )
    }

    /// The field's value: trimmed text, or a number's decimal form.
    pub fn read(&self, message: &[u8], codepage: CodePage) -> Result<String, KeyError> {
        let unreadable = |why: String| KeyError::Unreadable { field: self.name.clone(), why };
        let bytes = message.get(self.offset..self.offset + self.len).ok_or_else(|| {
            unreadable(format!("the message is {} bytes, the field ends at {}", message.len(), self.offset + self.len))
        })?;
        let text = crate::header::field_text(self.kind, bytes, codepage)
            .ok_or_else(|| unreadable(format!("bytes {} are not valid for its picture", hex(bytes))))?;
        match (self.kind, text.as_str()) {
            (LeafKind::Text { .. }, "") => Err(KeyError::Missing { field: self.name.clone(), what: "blank" }),
            (LeafKind::Text { .. }, _) => Ok(text),
            (_, t) if t.trim_start_matches('-').chars().all(|c| c == '0' || c == '.') => {
                Err(KeyError::Missing { field: self.name.clone(), what: "zero" })
            }
            _ => Ok(text),
        }
    }

    /// `typed` (an account as an operator wrote it, e.g. in `ficus owners move --keys`) in the
    /// form [`KeyField::read`] gives for the same value in a message: trimmed text, or for a
    /// number its decimal form (`0000012345` → `12345`). Without this an account of a `PIC 9`
    /// field written with its leading zeros would never match the messages' value: the move
    /// would say it moved the account and its writes would stay where they were.
    pub fn canonical(&self, typed: &str) -> Result<String, String> {
        let t = typed.trim();
        let scale = match self.kind {
            LeafKind::Text { .. } => return Ok(t.to_string()),
            LeafKind::Zoned { scale, .. } | LeafKind::Packed { scale, .. } | LeafKind::Binary { scale, .. } => scale,
            _ => return Ok(t.to_string()),
        };
        let bad = |why: String| format!("{t:?} is not a value of {} (a number): {why}", self.name);
        let d: crate::codec::decimal::Decimal = t.parse().map_err(|e| bad(format!("{e}")))?;
        let d = d.rescale(scale).map_err(|e| bad(format!("{e}")))?;
        Ok(crate::codec::decimal::Decimal::new(d.negative, d.coefficient, d.scale).to_string())
    }

    /// Whether this field and `other` read values alike (both text or both numbers), so that the
    /// same transaction gives the same key from either.
    pub fn same_category(&self, other: &KeyField) -> bool {
        matches!(self.kind, LeafKind::Text { .. }) == matches!(other.kind, LeafKind::Text { .. })
    }
}

/// The values of `fields` in `message`, joined by `|` (a key of several fields).
///
/// With several fields, a `|` or `\` inside a text value is escaped (`\|`, `\\`), so two
/// different transactions never make one key: `"A|"` + `"B"` is `A\||B`, `"A"` + `"|B"` is
/// `A|\|B`. A one-field key, and values without either character (every number), are as read.
pub fn join(fields: &[KeyField], message: &[u8], options: crate::codec::CodecOptions) -> Result<String, KeyError> {
    let values = fields.iter().map(|f| f.read(message, options.codepage)).collect::<Result<Vec<_>, _>>()?;
    Ok(join_values(&values))
}

/// Joins key values as [`join`] does (escaping `|` and `\` when there are several).
pub fn join_values<S: AsRef<str>>(values: &[S]) -> String {
    if let [one] = values {
        return one.as_ref().to_string();
    }
    let mut key = String::new();
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            key.push('|');
        }
        for c in v.as_ref().chars() {
            if c == '|' || c == '\\' {
                key.push('\\');
            }
            key.push(c);
        }
    }
    key
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().take(16).map(|b| format!("{b:02X}")).collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::zoned::SignPosition;

    fn zoned(offset: usize, len: usize) -> KeyField {
        let kind = LeafKind::Zoned { sign: SignPosition::None, scale: 0, digits: len as u32, blank_when_zero: false };
        KeyField { name: "SEQ".into(), offset, len, kind }
    }

    #[test]
    fn numbers_read_without_leading_zeros_and_zero_is_missing() {
        let f = zoned(0, 4);
        assert_eq!(f.read(&[0xF0, 0xF0, 0xF1, 0xF2], CodePage::Cp037), Ok("12".into()));
        assert!(matches!(f.read(&[0xF0; 4], CodePage::Cp037), Err(KeyError::Missing { what: "zero", .. })));
        assert!(matches!(f.read(&[0x40; 4], CodePage::Cp037), Err(KeyError::Unreadable { .. })));
        assert!(matches!(f.read(&[0xF1; 3], CodePage::Cp037), Err(KeyError::Unreadable { .. })));
    }

    #[test]
    fn several_values_make_one_key_only_for_one_tuple() {
        assert_eq!(join_values(&["A|", "B"]), "A\\||B");
        assert_eq!(join_values(&["A", "|B"]), "A|\\|B");
        assert_eq!(join_values(&["A|B"]), "A|B", "one field: as read");
        assert_eq!(join_values(&["12", "345"]), "12|345", "no escapes without | or \\");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 2000, rng_seed: proptest::test_runner::RngSeed::Fixed(14), ..Default::default() })]
        /// Two different tuples of values never join to one key (a key names one transaction).
        #[test]
        fn joined_keys_are_unambiguous(a in proptest::collection::vec("[A|\\\\B]{0,4}", 2..4), b in proptest::collection::vec("[A|\\\\B]{0,4}", 2..4)) {
            if a != b {
                proptest::prop_assert_ne!(join_values(&a), join_values(&b));
            }
        }
    }

    #[test]
    fn blank_text_is_missing() {
        let f = KeyField { name: "ACCT".into(), offset: 1, len: 3, kind: LeafKind::Text { justified: false } };
        assert_eq!(f.read(b"xAB ", CodePage::Ascii), Ok("AB".into()));
        assert!(matches!(f.read(b"x   ", CodePage::Ascii), Err(KeyError::Missing { what: "blank", .. })));
    }
}
