//! Building `[journal]` and each route's use of it (`dedupe`, `owner_key`, `reverses`,
//! `original_key`): fields found in the layouts with fixed offsets, rules that keep a write from
//! being sent twice or to a system that never saw it, and the store (reused across reloads while
//! `store` and `max_connections` stay the same).

use super::Builder;
use crate::codec::Codec;
use crate::header::HeaderLayout;
use crate::journal::{JournalPlan, KeyField, OnStoreError, Reversal, ReversalFlag, RouteJournal, Store};
use crate::route::file::{ReversalFlagSpec, RouteSection, RoutesFile};
use crate::route::RouteTable;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

impl Builder<'_> {
    /// Compiles `[journal]`, if present.
    pub(super) fn journal(
        &mut self,
        file: &RoutesFile,
        header: Option<&HeaderLayout>,
        path: &Path,
        previous: Option<&RouteTable>,
    ) -> Option<Arc<JournalPlan>> {
        let j = file.journal.as_ref()?;
        let on_store_error = match j.on_store_error.as_str() {
            "refuse" => OnStoreError::Refuse,
            "pass" => OnStoreError::Pass,
            other => {
                let why = format!("on_store_error = {other:?}: use \"refuse\" (the default) or \"pass\"");
                self.problem("journal", Some("on_store_error"), why);
                OnStoreError::Refuse
            }
        };
        let names: Vec<String> = if j.key.is_empty() {
            match &file.header.message_id {
                Some(id) => vec![id.clone()],
                None => {
                    let why = "key names no field and [header] has no message_id: name the header fields that \
                               identify a transaction, e.g. key = [\"HDR-SEQ-NO\"]";
                    self.problem("journal", Some("key"), why.into());
                    return None;
                }
            }
        } else {
            j.key.clone()
        };
        // A running gateway keeps its journal: with another store, or keys read another way, a
        // resend of a write claimed before the change would not be found, and would be sent again.
        if let Some(running) = previous.and_then(|p| p.journal.as_ref()) {
            let running_key: Vec<&str> = running.key.iter().map(|k| k.name.as_str()).collect();
            if running.store_spec.0 != j.store {
                let why = format!(
                    "store changes only on a restart (running: {:?}): a resend of a write claimed in the old store \
                     would not be found there and would be sent again",
                    running.store_spec.0
                );
                self.problem("journal", Some("store"), why);
            }
            let same_key = header.is_none_or(|h| {
                names
                    .iter()
                    .map(|n| h.codec.plan().lookup(n).map(|l| l.path.to_string()).unwrap_or_default())
                    .collect::<Vec<_>>()
                    == running_key
            });
            if !same_key {
                let why = format!(
                    "key changes only on a restart (running: {}): a resend of a write claimed under the old key would \
                     not be found and would be sent again",
                    running_key.join(", ")
                );
                self.problem("journal", Some("key"), why);
            }
        }
        let header = header?;
        let mut key = Vec::new();
        for name in &names {
            key.push(self.key_field(name, &header.codec, 0, "journal", "key", "the header")?);
        }
        let reversal_flag = match &j.reversal_flag {
            Some(f) => Some(self.reversal_flag(f, &header.codec, &key)?),
            None => None,
        };
        let base = path.parent().unwrap_or(Path::new("."));
        let reused = previous
            .and_then(|p| p.journal.as_ref())
            .filter(|p| p.store_spec == (j.store.clone(), j.max_connections))
            .map(|p| p.store.clone());
        let store = match reused {
            Some(s) => s,
            None => match Store::open(&j.store, base, j.max_connections) {
                Ok(s) => Arc::new(s),
                Err(e) => {
                    self.problem("journal", Some("store"), e.to_string());
                    return None;
                }
            },
        };
        Some(Arc::new(JournalPlan {
            store,
            key,
            on_store_error,
            retention: Duration::from_secs(j.retention_hours.saturating_mul(3600)),
            move_wait: Duration::from_millis(j.move_wait_ms),
            reversal_flag,
            store_spec: (j.store.clone(), j.max_connections),
        }))
    }

    /// Compiles `[journal] reversal_flag`: header fields, values, an original key like the key.
    fn reversal_flag(&mut self, f: &ReversalFlagSpec, header: &Codec, key: &[KeyField]) -> Option<ReversalFlag> {
        let field = self.key_field(&f.field, header, 0, "journal", "reversal_flag", "the header")?;
        if f.values.is_empty() || f.values.iter().any(|v| v.trim().is_empty()) {
            let why = "reversal_flag values: name the flag's values that mean a reversal, e.g. [\"2\", \"3\"]";
            self.problem("journal", Some("reversal_flag"), why.into());
            return None;
        }
        if f.original_key.len() != key.len() {
            let why = format!(
                "reversal_flag original_key names {} field(s); key has {}: name the header fields holding the \
                 original's, in the key's order",
                f.original_key.len(),
                key.len()
            );
            self.problem("journal", Some("reversal_flag"), why);
            return None;
        }
        let mut original_key = Vec::new();
        for (name, k) in f.original_key.iter().zip(key) {
            let o = self.key_field(name, header, 0, "journal", "reversal_flag", "the header")?;
            if !o.same_category(k) {
                let why = format!(
                    "reversal_flag original_key {} and key {} read differently (one text, one a number)",
                    o.name, k.name
                );
                self.problem("journal", Some("reversal_flag"), why);
                return None;
            }
            original_key.push(o);
        }
        Some(ReversalFlag { field, values: f.values.iter().map(|v| v.trim().to_string()).collect(), original_key })
    }

    /// A field at a fixed offset in `codec` (the header, or a request body starting at `base`).
    pub(super) fn key_field(
        &mut self,
        name: &str,
        codec: &Codec,
        base: usize,
        section: &str,
        key: &str,
        layout: &str,
    ) -> Option<KeyField> {
        let leaf = match codec.plan().lookup(name) {
            Ok(leaf) => leaf,
            Err(e) => {
                self.problem(section, Some(key), format!("{key}: {e} ({layout})"));
                return None;
            }
        };
        if !KeyField::usable(leaf.kind) {
            let why = format!(
                "{key}: {} is national, DBCS or floating point; a key is text or a fixed-point number",
                leaf.path
            );
            self.problem(section, Some(key), why);
            return None;
        }
        if codec.plan().slides(leaf) {
            let why = format!(
                "{key}: {} follows a table whose size varies (OCCURS DEPENDING ON), so it has no fixed offset",
                leaf.path
            );
            self.problem(section, Some(key), why);
            return None;
        }
        Some(KeyField {
            name: leaf.path.to_string(),
            offset: base + leaf.offset as usize,
            len: leaf.len as usize,
            kind: leaf.kind,
        })
    }

    /// Compiles a route's use of the journal; `None` when it uses none.
    pub(super) fn route_journal(
        &mut self,
        r: &RouteSection,
        file: &RoutesFile,
        journal: Option<&JournalPlan>,
        (header, request): (Option<&HeaderLayout>, Option<&Codec>),
        section: &str,
    ) -> Option<RouteJournal> {
        let uses = r.dedupe == Some(true) || r.owner_key.is_some() || r.reverses.is_some();
        if !uses && (r.read_only || r.dedupe == Some(false) || file.journal.is_none()) {
            if !r.original_key.is_empty() || r.original_missing.is_some() {
                let why = "original_key and original_missing belong to a reversal route: add reverses = \"OP\"";
                self.problem(section, Some("original_key"), why.into());
            }
            return None;
        }
        if file.journal.is_none() {
            let what = ["dedupe", "owner_key", "reverses"]
                .into_iter()
                .find(|k| match *k {
                    "dedupe" => r.dedupe == Some(true),
                    "owner_key" => r.owner_key.is_some(),
                    _ => r.reverses.is_some(),
                })
                .unwrap_or("dedupe");
            self.problem(
                section,
                Some(what),
                format!("{what} needs a [journal] section (where transactions are kept)"),
            );
            return None;
        }
        if r.read_only && (r.dedupe == Some(true) || r.reverses.is_some()) {
            let key = if r.reverses.is_some() { "reverses" } else { "dedupe" };
            let why = format!("{key} is for writes; this route is read_only (reads may be resent freely)");
            self.problem(section, Some(key), why);
            return None;
        }
        let (header, journal) = (header?, journal?);
        let base = header.size;
        let body_field = |b: &mut Self, name: &str, key: &str| match request {
            Some(codec) => b.key_field(name, codec, base, section, key, "the request layout"),
            None if r.request.is_none() => {
                b.problem(
                    section,
                    Some(key),
                    format!("{key} needs the route's request layout (request = \"FILE#RECORD\")"),
                );
                None
            }
            None => None,
        };
        let owner_key = match &r.owner_key {
            Some(name) => Some(body_field(self, name, "owner_key")?),
            None => None,
        };
        let reverses = match &r.reverses {
            None => {
                if !r.original_key.is_empty() || r.original_missing.is_some() {
                    let why = "original_key and original_missing belong to a reversal route: add reverses = \"OP\"";
                    self.problem(section, Some("original_key"), why.into());
                }
                None
            }
            Some(op) => Some(self.reversal(op, r, file, journal, &body_field, section)?),
        };
        Some(RouteJournal { dedupe: !r.read_only && r.dedupe != Some(false), owner_key, reverses })
    }

    /// Every route's `owner_key` must read an account alike (all text, or all numbers): the
    /// owner table has one row per account, and `0000012345` in a `PIC X` field is not `12345`
    /// read from a `PIC 9` one, so the account would follow its owner on one route only.
    pub(super) fn owner_keys_agree<'r>(
        &mut self,
        routes: impl IntoIterator<Item = (&'r String, &'r crate::route::Route)>,
    ) {
        let mut routes: Vec<_> = routes.into_iter().collect();
        routes.sort_by_key(|(op, _)| op.as_str());
        let mut first: Option<(&str, &KeyField)> = None;
        for (op, route) in routes {
            let Some(field) = route.journal.as_ref().and_then(|j| j.owner_key.as_ref()) else { continue };
            match first {
                None => first = Some((op, field)),
                Some((first_op, f)) if !f.same_category(field) => {
                    let why = format!(
                        "owner_key {} reads an account as {}, but {first_op}'s owner_key {} reads it as {}: one \
                         account would be two rows of the owner table; use fields of one kind",
                        field.name,
                        kind_word(field),
                        f.name,
                        kind_word(f)
                    );
                    self.problem(&format!("routes.{op}"), Some("owner_key"), why);
                }
                Some(_) => {}
            }
        }
    }

    fn reversal(
        &mut self,
        op: &str,
        r: &RouteSection,
        file: &RoutesFile,
        journal: &JournalPlan,
        body_field: &dyn Fn(&mut Self, &str, &str) -> Option<KeyField>,
        section: &str,
    ) -> Option<Reversal> {
        match file.routes.get(op) {
            None => {
                self.problem(section, Some("reverses"), format!("reverses = {op:?}: no route for operation {op}"));
                return None;
            }
            Some(o) if o.read_only || o.dedupe == Some(false) => {
                let why = format!(
                    "reverses = {op:?}: {op} is not journaled ({}), so its transactions cannot be found",
                    if o.read_only { "read_only" } else { "dedupe = false" }
                );
                self.problem(section, Some("reverses"), why);
                return None;
            }
            Some(_) => {}
        }
        if r.original_key.len() != journal.key.len() {
            let names: Vec<&str> = journal.key.iter().map(|k| k.name.as_str()).collect();
            let why = format!(
                "original_key names {} field(s); [journal] key has {} ({}): name the request fields holding the \
                 original's, in that order",
                r.original_key.len(),
                journal.key.len(),
                names.join(", ")
            );
            self.problem(section, Some("original_key"), why);
            return None;
        }
        let mut original_key = Vec::new();
        for (name, journal_field) in r.original_key.iter().zip(&journal.key) {
            let field = body_field(self, name, "original_key")?;
            if !field.same_category(journal_field) {
                let why = format!(
                    "original_key {} and [journal] key {} read differently (one text, one a number), so the same \
                     transaction would not give the same key",
                    field.name, journal_field.name
                );
                self.problem(section, Some("original_key"), why);
                return None;
            }
            original_key.push(field);
        }
        let missing_reply = r.original_missing.as_ref().map(|m| (m.code.clone(), m.message.clone()));
        Some(Reversal { op: op.to_string(), original_key, missing_reply })
    }
}

fn kind_word(f: &KeyField) -> &'static str {
    match f.kind {
        crate::codec::ops::LeafKind::Text { .. } => "text",
        _ => "a number",
    }
}
