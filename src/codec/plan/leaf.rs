//! How the plan reads one elementary item: its [`LeafKind`] from picture and usage, and the
//! [`Leaf`] op with its fill bytes for `fill_missing`; the [`Piece`]s of a FILLER area.

use super::{json_key, Compiler, PlanError, MAX_PACKED_DIGITS};
use crate::codec::binary::{binary_size, ByteOrder};
use crate::codec::charset::CodePage;
use crate::codec::ops::{Leaf, LeafKind, Piece};
use crate::codec::value::initial_bytes;
use crate::codec::zoned::SignPosition;
use crate::copybook::{Category, Elementary, Item, ItemKind, Usage};

impl Compiler<'_> {
    pub(super) fn leaf(
        &self,
        item: &Item,
        e: &Elementary,
        offset: u32,
        path: &str,
        in_view: bool,
    ) -> Result<Leaf, PlanError> {
        let name = item.display_name();
        let kind = self.leaf_kind(name, e, item.size)?;
        // A field's fill bytes (its VALUE, or spaces / zero) are compiled whatever the options,
        // so the same plan can fill later (`Codec::filling_missing`); a VALUE that cannot be
        // written is an error only for a codec that fills.
        let mut fill = vec![0; item.size];
        match initial_bytes(kind, e.value.as_ref(), self.options, &mut fill) {
            Ok(()) => {}
            Err(reason) if self.options.fill_missing => {
                return Err(PlanError::Unsupported { field: name.to_string(), reason })
            }
            Err(_) => fill.clear(),
        }
        Ok(Leaf {
            name: name.into(),
            json_key: json_key(name),
            path: path.into(),
            offset,
            len: item.size as u32,
            kind,
            in_view,
            counter_slot: item.name.as_ref().and_then(|_| self.counter_slot(path)),
            fill: fill.into_boxed_slice(),
        })
    }

    pub(super) fn leaf_kind(&self, name: &str, e: &Elementary, size: usize) -> Result<LeafKind, PlanError> {
        let unsupported = |reason: &str| PlanError::Unsupported { field: name.to_string(), reason: reason.to_string() };
        let numeric = match e.picture.category {
            Category::Numeric { digits, scale, signed } => Some((digits, scale, signed)),
            _ => None,
        };
        Ok(match (e.usage, numeric) {
            (Usage::Float, _) | (Usage::Double, _) => LeafKind::Float(self.options.float),
            (Usage::Index, _) | (Usage::Pointer, _) => {
                LeafKind::Binary { scale: 0, digits: 0, signed: false, order: ByteOrder::Big, native: true }
            }
            (Usage::Binary | Usage::NativeBinary, Some((digits, scale, signed))) => {
                let order = if e.usage == Usage::NativeBinary { self.options.comp5_order } else { ByteOrder::Big };
                if binary_size(digits) != size {
                    return Err(unsupported("binary size does not match its picture"));
                }
                LeafKind::Binary { scale, digits, signed, order, native: e.usage == Usage::NativeBinary }
            }
            (Usage::Packed, Some((digits, _, _))) if digits > MAX_PACKED_DIGITS => {
                return Err(unsupported(&format!(
                    "COMP-3 holds at most {MAX_PACKED_DIGITS} digits (IBM's limit); this picture has {digits}"
                )))
            }
            (Usage::Packed, Some((digits, scale, signed))) => LeafKind::Packed { scale, digits, signed },
            (Usage::Display, Some((digits, scale, signed))) => {
                // A SIGN clause on an unsigned picture is read as IBM data has it: the sign
                // position the clause names (the layout already counts a SEPARATE byte).
                let sign = match (signed, e.sign) {
                    (false, None) => SignPosition::None,
                    (true, None) => SignPosition::TrailingOverpunch,
                    (_, Some(s)) => match (s.leading, s.separate) {
                        (true, true) => SignPosition::LeadingSeparate,
                        (true, false) => SignPosition::LeadingOverpunch,
                        (false, true) => SignPosition::TrailingSeparate,
                        (false, false) => SignPosition::TrailingOverpunch,
                    },
                };
                LeafKind::Zoned { sign, scale, digits, blank_when_zero: e.blank_when_zero }
            }
            (Usage::National, _) | (_, None) if matches!(e.picture.category, Category::National { .. }) => {
                LeafKind::National
            }
            (_, None) if matches!(e.picture.category, Category::Dbcs { .. }) => {
                if !matches!(self.options.codepage, CodePage::Cp933 | CodePage::Cp1364) {
                    return Err(unsupported("PIC G needs a DBCS code page (cp933 or cp1364)"));
                }
                LeafKind::Dbcs
            }
            (Usage::Display | Usage::Display1, None) => LeafKind::Text { justified: e.justified },
            (usage, _) => return Err(unsupported(&format!("USAGE {usage} with PIC {}", e.picture.source))),
        })
    }

    /// The elementary parts of one occurrence of `item`, at `at` and after (offsets from the
    /// FILLER area's start). Of a REDEFINES inside it the first description counts, as for
    /// its VALUE (see `item_bytes`).
    pub(super) fn pieces(&self, item: &Item, at: u32, out: &mut Vec<Piece>) {
        match &item.kind {
            ItemKind::Elementary(e) => {
                let kind =
                    self.leaf_kind(item.display_name(), e, item.size).unwrap_or(LeafKind::Text { justified: false });
                out.push(Piece { offset: at, len: item.size as u32, kind });
            }
            ItemKind::Group(children) => {
                for child in children.iter().filter(|c| c.redefines.is_none()) {
                    let start = at + child.offset.saturating_sub(item.offset) as u32;
                    let count = child.occurs.as_ref().map_or(1, |o| o.max);
                    for k in 0..count {
                        self.pieces(child, start + k * child.size as u32, out);
                    }
                }
            }
        }
    }
}
