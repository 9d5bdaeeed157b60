//! Random layouts with FILLER groups, FILLER tables (fixed and DEPENDING ON), FILLER REDEFINES
//! views and repeated names: each either fails to load with an error naming a key two fields
//! share at one object level — exactly when the layout has such a pair — or decodes a record
//! made for it into JSON without a duplicate key and encodes that JSON back byte for byte.
//! A fixed seed and case count keep it repeatable.

use ficus::codec::{Codec, PlanError};
use ficus::copybook::{parse_copybook, unnamed_table_key, Item, ItemKind, NoCopy};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::collections::HashSet;
use std::fmt;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

struct Gen {
    rng: Rng,
    lines: Vec<String>,
    fresh: usize,
    /// Names are drawn from a small pool (clashes likely) instead of fresh ones.
    clashing: bool,
}

impl Gen {
    fn name(&mut self) -> String {
        if self.rng.below(4) == 0 {
            return "FILLER".into();
        }
        if self.clashing {
            return ["A", "B", "FILLER-1"][self.rng.below(3) as usize].into();
        }
        self.fresh += 1;
        format!("N{}", self.fresh)
    }

    fn line(&mut self, level: u8, text: String) {
        self.lines.push(format!("       {:width$}{level:02} {text}.", "", width = level as usize / 5));
    }

    /// An elementary item's clauses; returns its size.
    fn picture(&mut self) -> (String, usize) {
        let n = 1 + self.rng.below(3) as usize;
        if self.rng.below(2) == 0 {
            (format!("PIC X({n})"), n)
        } else {
            (format!("PIC 9({n})"), n)
        }
    }

    /// Items at `level`, `depth` groups deep; returns their total size.
    fn items(&mut self, level: u8, depth: u32) -> usize {
        let mut size = 0;
        for _ in 0..1 + self.rng.below(3) {
            let name = self.name();
            let occurs =
                if self.rng.below(4) == 0 { format!(" OCCURS {}", 1 + self.rng.below(3)) } else { String::new() };
            let count = occurs.trim().strip_prefix("OCCURS ").map_or(1, |n| n.parse::<usize>().unwrap());
            let one = if depth < 2 && self.rng.below(3) == 0 {
                self.line(level, format!("{name}{occurs}"));
                self.items(level + 5, depth + 1)
            } else {
                let (pic, n) = self.picture();
                self.line(level, format!("{name} {pic}{occurs}"));
                n
            };
            size += one * count;
            // A view of a named item just written (not a table): a FILLER group of text fields
            // or a named text field, no larger than the item.
            if occurs.is_empty() && name != "FILLER" && self.rng.below(3) == 0 {
                let view = if self.rng.below(2) == 0 { "FILLER".to_string() } else { self.name() };
                if view == "FILLER" {
                    self.line(level, format!("FILLER REDEFINES {name}"));
                    let first = 1 + self.rng.below(one as u64) as usize;
                    let a = self.name();
                    self.line(level + 5, format!("{a} PIC X({first})"));
                    if first < one {
                        let b = self.name();
                        self.line(level + 5, format!("{b} PIC X({})", one - first));
                    }
                } else {
                    self.line(level, format!("{view} REDEFINES {name} PIC X({one})"));
                }
            }
        }
        size
    }
}

/// The copybook text of one random layout.
fn layout(seed: u64) -> String {
    let mut g = Gen {
        rng: Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1),
        lines: Vec::new(),
        fresh: 0,
        clashing: seed.is_multiple_of(2),
    };
    g.lines.push("       01 R.".into());
    let odo = g.rng.below(2) == 0;
    if odo {
        g.line(5, "CNT PIC 9".into());
    }
    g.items(5, 0);
    if odo {
        let name = if g.rng.below(3) == 0 { "T".to_string() } else { "FILLER".to_string() };
        if g.rng.below(2) == 0 {
            let (pic, _) = g.picture();
            g.line(5, format!("{name} {pic} OCCURS 0 TO 3 TIMES DEPENDING ON CNT"));
        } else {
            g.line(5, format!("{name} OCCURS 0 TO 3 TIMES DEPENDING ON CNT"));
            g.items(10, 1);
        }
        g.items(5, 1);
    }
    g.lines.join("\n") + "\n"
}

/// The keys one object level holds, by the documented rule: a named item is its name; an
/// unnamed table holding named items is its generated key; an unnamed group (or REDEFINES
/// view) adds its members to this level. Returns the first key seen twice.
fn first_clash(children: &[Item], keys: &mut HashSet<String>, tables: &mut usize) -> Option<String> {
    for c in children {
        let key = match (&c.name, &c.occurs) {
            (Some(n), _) => Some(n.clone()),
            (None, Some(_)) if c.has_named_subordinate() => {
                *tables += 1;
                Some(unnamed_table_key(*tables))
            }
            _ => None,
        };
        if let Some(k) = &key {
            if !keys.insert(k.clone()) {
                return Some(k.clone());
            }
        }
        if let ItemKind::Group(members) = &c.kind {
            let clash = if key.is_none() && c.occurs.is_none() {
                first_clash(members, keys, tables)
            } else {
                first_clash(members, &mut HashSet::new(), tables)
            };
            if clash.is_some() {
                return clash;
            }
        }
    }
    None
}

/// Bytes of the largest form: every field's bytes valid for it; a view's bytes are its area's.
fn fill(item: &Item, out: &mut [u8], rng: &mut Rng) {
    match &item.kind {
        ItemKind::Group(children) => {
            for c in children.iter().filter(|c| c.redefines.is_none()) {
                let count = c.occurs.as_ref().map_or(1, |o| o.max as usize);
                for k in 0..count {
                    let at = c.offset - item.offset + k * c.size;
                    fill(c, &mut out[at..at + c.size], rng);
                }
            }
        }
        ItemKind::Elementary(e) => {
            let numeric = e.picture.source.starts_with('9');
            for b in out.iter_mut() {
                *b = match (&item.name, numeric) {
                    (None, _) => b' ',
                    (Some(_), true) => b'0' + rng.below(10) as u8,
                    (Some(_), false) => b'A' + rng.below(26) as u8,
                };
            }
        }
    }
}

/// A JSON value read with every object's keys checked for repeats.
struct Checked;

impl<'de> Deserialize<'de> for Checked {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(CheckedVisitor)
    }
}

struct CheckedVisitor;

impl<'de> Visitor<'de> for CheckedVisitor {
    type Value = Checked;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("JSON")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Checked, A::Error> {
        let mut seen = HashSet::new();
        while let Some(key) = map.next_key::<String>()? {
            if !seen.insert(key.clone()) {
                return Err(serde::de::Error::custom(format!("duplicate key {key}")));
            }
            map.next_value::<Checked>()?;
        }
        Ok(Checked)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Checked, A::Error> {
        while seq.next_element::<Checked>()?.is_some() {}
        Ok(Checked)
    }
    fn visit_str<E>(self, _: &str) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Checked, E> {
        Ok(Checked)
    }
    fn visit_unit<E>(self) -> Result<Checked, E> {
        Ok(Checked)
    }
}

#[test]
fn random_filler_layouts_load_error_or_round_trip() {
    let (mut refused, mut round_trips) = (0, 0);
    for seed in 1..=400u64 {
        let text = layout(seed);
        let book = parse_copybook(&text, "r.cpy", &NoCopy).unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
        let record = book.record(None).unwrap();
        let ItemKind::Group(top) = &record.root.kind else { unreachable!() };
        let clash = first_clash(top, &mut HashSet::new(), &mut 0);
        let options = ficus::codec::CodecOptions::for_codepage(ficus::codec::charset::CodePage::Ascii);
        match (Codec::new(record, options), clash) {
            (Err(PlanError::DuplicateKey { key, first, second, first_line, second_line }), Some(_)) => {
                assert!(first_line < second_line, "seed {seed}: {key} {first} {second}\n{text}");
                assert!(text.lines().nth(first_line as usize - 1).is_some(), "seed {seed}");
                refused += 1;
            }
            (Err(e), clash) => panic!("seed {seed}: {e} (expected clash: {clash:?})\n{text}"),
            (Ok(_), Some(k)) => panic!("seed {seed}: {k} is two fields' key, yet the layout loaded\n{text}"),
            (Ok(codec), None) => {
                let mut rng = Rng(seed | 1);
                let mut bytes = vec![b' '; record.max_size()];
                fill(&record.root, &mut bytes, &mut rng);
                // A DEPENDING ON table: pick a count, drop the elements beyond it.
                if let Some(t) = top.iter().find(|c| c.occurs.as_ref().is_some_and(|o| o.depending_on.is_some())) {
                    let count = rng.below(4) as usize;
                    bytes[0] = b'0' + count as u8;
                    let end = t.offset + t.size * 3;
                    bytes.drain(t.offset + t.size * count..end);
                }
                let mut json = String::new();
                let used = codec
                    .decode_json_text(&bytes, &mut json, &mut Default::default())
                    .unwrap_or_else(|e| panic!("seed {seed}: {e}\n{text}"));
                assert_eq!(used, bytes.len(), "seed {seed}: {json}\n{text}");
                let mut de = serde_json::Deserializer::from_str(&json);
                Checked::deserialize(&mut de).unwrap_or_else(|e| panic!("seed {seed}: {e} in {json}\n{text}"));
                let value: serde_json::Value = serde_json::from_str(&json).unwrap();
                let back = codec.encode_json(&value).unwrap_or_else(|e| panic!("seed {seed}: {e} from {json}\n{text}"));
                assert_eq!(
                    String::from_utf8_lossy(&back),
                    String::from_utf8_lossy(&bytes),
                    "seed {seed}: {json}\n{text}"
                );
                round_trips += 1;
            }
        }
    }
    assert!(refused > 50 && round_trips > 100, "{refused} refused, {round_trips} round trips");
}
