//! `tcp_framing` / `framing` → [`Framing`]: every part checked, each refusal naming the setting
//! and what it may be; and the framings that share a header field checked against each other
//! and against `[header] length_field` (a message passes between them untouched, so they must
//! read its length the same way).

use super::Builder;
use crate::codec::charset::{CodePage, Overflow};
use crate::codec::plan::LeafKind;
use crate::frame::{Counts, Digits, Framing, FramingParts, Place, Trailer, TrailerSpec, COUNTS_NAMES, DIGITS_NAMES};
use crate::header::HeaderLayout;
use crate::route::file::{FramingSpec, RoutesFile, UpstreamKind};
use std::collections::BTreeMap;

impl Builder<'_> {
    /// Where one message ends on a byte stream, from `spec` (`section`, `key` say where it is
    /// written, for problems).
    pub(super) fn framing(
        &mut self,
        spec: &FramingSpec,
        header: Option<&HeaderLayout>,
        codepage: CodePage,
        section: &str,
        key: &str,
    ) -> Option<Framing> {
        let problem = |b: &mut Self, m: String| b.problem(section, Some(key), format!("{key}: {m}"));
        let native = if codepage.is_ebcdic() { Digits::Ebcdic } else { Digits::Ascii };
        let digits = match spec.digits.as_deref().map(|d| (d, Digits::from_name(d))) {
            None => None,
            Some((_, Some(d))) => Some(d),
            Some((d, None)) => {
                problem(self, format!("digits = {d:?} is not one of {}", DIGITS_NAMES.join(", ")));
                return None;
            }
        };
        let counts = match spec.counts.as_deref().map(|c| (c, Counts::from_name(c))) {
            None => None,
            Some((_, Some(c))) => Some(c),
            Some((c, None)) => {
                problem(self, format!("counts = {c:?} is not one of {}", COUNTS_NAMES.join(", ")));
                return None;
            }
        };
        let trailer = match spec.trailer.as_deref().map(Trailer::parse_spec) {
            None => Trailer::NONE,
            Some(Err(e)) => {
                problem(self, e);
                return None;
            }
            Some(Ok(TrailerSpec::Bytes(b))) => Trailer::new(&b)?,
            Some(Ok(TrailerSpec::Text(text))) => {
                let mut bytes = vec![0u8; text.len()];
                // Printable ASCII is one byte in every code page ficus knows.
                if codepage.encode_into(&text, &mut bytes, Overflow::Error).is_err() {
                    problem(self, format!("trailer = {text:?} cannot be written in {}", codepage.name()));
                    return None;
                }
                Trailer::new(&bytes)?
            }
        };
        let (place, width, default_digits, default_counts) = match (spec.length_prefix, &spec.length_field) {
            (Some(w), None) => (Place::Prefix, usize::from(w), Digits::Binary, Counts::After),
            // A header that did not build has said why; its fields are not a second problem.
            (None, Some(_)) if header.is_none() => return None,
            (None, Some(field)) => {
                let header = header?;
                let leaf = match header.codec.plan().lookup(field) {
                    Ok(l) => l.clone(),
                    Err(crate::codec::lookup::LookupError::NotFound { .. }) => {
                        problem(self, format!("length_field {field} is not a field of the header"));
                        return None;
                    }
                    Err(e) => {
                        problem(self, format!("length_field: {e}"));
                        return None;
                    }
                };
                let digits = digits.unwrap_or(native);
                if let Some(why) = field_kind_problem(leaf.kind, digits, native, codepage) {
                    problem(self, format!("length_field {field} {why}"));
                    return None;
                }
                let place = Place::Field { offset: leaf.offset as usize, header: header.size };
                (place, leaf.len as usize, native, Counts::Message)
            }
            _ => {
                problem(self, "needs exactly one of length_prefix or length_field".into());
                return None;
            }
        };
        let parts = FramingParts {
            place,
            width,
            digits: digits.unwrap_or(default_digits),
            counts: counts.unwrap_or(default_counts),
            adjust: spec.adjust.unwrap_or(0),
            trailer,
        };
        match Framing::new(parts) {
            Ok(f) => Some(f),
            Err(e) => {
                problem(self, e);
                None
            }
        }
    }

    /// Every `tcp` upstream's framing, by name (`None`: refused, the problem recorded); `header`
    /// adopts the length rules of these and the channel's `tcp_framing` (see
    /// [`Builder::agree_on_length_fields`]).
    pub(super) fn link_framings<'f>(
        &mut self,
        file: &'f RoutesFile,
        header: Option<&mut HeaderLayout>,
        tcp_framing: Option<Framing>,
        codepage: CodePage,
        channels: &[(String, Framing)],
    ) -> BTreeMap<&'f str, Option<Framing>> {
        let mut links = BTreeMap::new();
        for (name, section) in
            file.upstreams.iter().filter(|(_, s)| matches!(s.kind, UpstreamKind::Tcp | UpstreamKind::TcpAsync))
        {
            let spec = section.framing.clone().unwrap_or_default();
            let framing = self.framing(&spec, header.as_deref(), codepage, &format!("upstreams.{name}"), "framing");
            links.insert(name.as_str(), framing);
        }
        if let Some(h) = header {
            let mut framings: Vec<(String, &str, Framing)> = Vec::new();
            framings.extend(tcp_framing.map(|f| ("gateway".to_string(), "tcp_framing", f)));
            framings.extend(channels.iter().map(|(section, f)| (section.clone(), "framing", *f)));
            for (name, f) in &links {
                framings.extend(f.map(|f| (format!("upstreams.{name}"), "framing", f)));
            }
            self.agree_on_length_fields(h, &framings);
        }
        links
    }

    /// Framings naming the same header field must agree on how its length is read; the header
    /// adopts their rule for its `length_field` (when it is that field), so replies the gateway
    /// builds keep the field right, and skips the field when it checks pictures (a PIC X field
    /// may hold binary or BCD).
    pub(super) fn agree_on_length_fields(&mut self, header: &mut HeaderLayout, framings: &[(String, &str, Framing)]) {
        let mut first: Vec<&(String, &str, Framing)> = Vec::new();
        for entry in framings {
            let (section, key, f) = entry;
            let Some(span) = f.field_span() else { continue };
            match first.iter().find(|(_, _, f0)| f0.field_span() == Some(span)) {
                Some((s0, k0, f0)) if !f0.same_length(f) => self.problem(
                    section,
                    Some(key),
                    format!(
                        "{key}: its length field is also [{s0}] {k0}, which reads it as: {f0}; here: {f}. \
                         A message passes between them untouched, so they must agree"
                    ),
                ),
                Some(_) => {}
                None => {
                    first.push(entry);
                    header.adopt_length_framing(*f);
                }
            }
        }
    }
}

/// Why a header field of `kind` cannot hold a length in `digits`, if it cannot.
fn field_kind_problem(kind: LeafKind, digits: Digits, native: Digits, codepage: CodePage) -> Option<String> {
    let text = matches!(kind, LeafKind::Text { .. });
    let ok = match digits {
        d if d == native => text || matches!(kind, LeafKind::Zoned { scale: 0, .. }),
        Digits::Ascii | Digits::Ebcdic => text,
        Digits::Binary => {
            text || matches!(kind, LeafKind::Binary { order: crate::codec::binary::ByteOrder::Big, scale: 0, .. })
        }
        Digits::BinaryLe => {
            text || matches!(kind, LeafKind::Binary { order: crate::codec::binary::ByteOrder::Little, scale: 0, .. })
        }
        Digits::Bcd => text,
    };
    (!ok).then(|| match digits {
        d if d == native => "must be a PIC 9 DISPLAY (or PIC X) header field to hold a length".to_string(),
        Digits::Ascii | Digits::Ebcdic => format!(
            "holds {} but the header is {}: declare it PIC X(n) (a PIC 9 field would be read as {})",
            digits.words(),
            codepage.name(),
            native.words()
        ),
        Digits::Binary => "must be PIC X or an unsigned big-endian binary (COMP) field for digits = \"binary\"".into(),
        Digits::BinaryLe => "must be PIC X or a little-endian binary (COMP-5) field for digits = \"binary-le\"".into(),
        Digits::Bcd => "must be PIC X(n) for digits = \"bcd\" (BCD has no sign nibble, unlike COMP-3)".into(),
    })
}
