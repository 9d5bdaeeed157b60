//! routes.toml → [`RouteTable`]: parse, validate everything (files, records, fields, upstream
//! names, addresses), then build. All problems are collected, each with its line, so one
//! `ficus check` shows them all (every syntax error too, see `parse`), and a problem that only
//! follows from another (a field looked up in a copybook that could not be read) is not
//! reported a second time. Nothing is applied here; a failed build changes nothing.

use crate::codec::charset::CodePage;
use crate::codec::{Codec, CodecOptions};
use crate::copybook::Copybook;
use crate::header::{HeaderLayout, HeaderNames};
use crate::route::file::RoutesFile;
use crate::route::{Canary, Route, RouteTable, UpstreamEntry};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod async_link;
mod channel;
mod continuation;
mod fields;
mod framing;
mod gateway;
mod journal;
mod link;
mod multipart;
mod parse;
mod problem;
mod records;
mod route;
mod telemetry;
mod upstream;

pub use parse::MAX_SYNTAX_ERRORS;
use problem::copybook_problem;
pub use problem::{ConfigError, ConfigProblem};

pub use crate::route::source::{copybook_files, fingerprint, table_hash, CachedCopybook, CopybookCache, TableSource};

/// Reads and builds `path`. `previous` lends unchanged upstreams (and their open connections).
pub fn load(path: &Path, previous: Option<&RouteTable>, generation: u64) -> Result<RouteTable, ConfigError> {
    let text = read(path)?;
    build(&text, path, previous, generation)
}

/// [`load`] for a gateway about to start (`ficus serve`, and `ficus check`, which must refuse
/// exactly what `serve` refuses): also checks what only a start reads, the admin token file.
/// Reloads and admin changes do not read it again, so a token file gone later does not block a
/// rollback.
pub fn load_to_serve(path: &Path) -> Result<RouteTable, ConfigError> {
    let text = read(path)?;
    let cache = CopybookCache::seeded(None);
    build_checked(&text, path, None, 1, &cache, None, true)
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError {
        file: path.display().to_string(),
        problems: vec![ConfigProblem { line: None, column: None, message: format!("cannot read: {e}") }],
    })
}

/// Builds a table from the text of routes.toml located at `path`, reading its copybooks from
/// disk (those of `previous` are reused where their content is unchanged).
pub fn build(
    text: &str,
    path: &Path,
    previous: Option<&RouteTable>,
    generation: u64,
) -> Result<RouteTable, ConfigError> {
    let cache = CopybookCache::seeded(previous.map(|p| &*p.source));
    build_with(text, path, previous, generation, &cache, None)
}

/// [`build`] with a copybook cache kept by the caller, and optionally `pinned` copybooks: a
/// copybook `pinned` names is taken from it instead of the disk (an admin change applies to the
/// copybooks the running table was built from, whatever the disk holds now).
pub fn build_with(
    text: &str,
    path: &Path,
    previous: Option<&RouteTable>,
    generation: u64,
    cache: &CopybookCache,
    pinned: Option<&TableSource>,
) -> Result<RouteTable, ConfigError> {
    build_checked(text, path, previous, generation, cache, pinned, false)
}

/// [`build_with`], with the start-only checks when `starting`.
fn build_checked(
    text: &str,
    path: &Path,
    previous: Option<&RouteTable>,
    generation: u64,
    cache: &CopybookCache,
    pinned: Option<&TableSource>,
    starting: bool,
) -> Result<RouteTable, ConfigError> {
    // Lines and columns are counted as an editor shows them: a byte-order mark is not a column.
    let (text, bom) = match text.strip_prefix('\u{feff}') {
        Some(rest) => (rest, true),
        None => (text, false),
    };
    let mut b = Builder {
        text,
        bom,
        starting,
        problems: Vec::new(),
        copybooks: BTreeMap::new(),
        dir: PathBuf::new(),
        cache,
        pinned,
        unreadable_upstreams: BTreeSet::new(),
        link_header: None,
    };
    let result = b.build(path, previous, generation);
    match result {
        Some(table) if b.problems.is_empty() => Ok(table),
        _ => {
            let mut problems = b.problems;
            problems.sort_by_key(|p| (p.line.unwrap_or(usize::MAX), p.column));
            // One cause met twice at one place (a copybook named by two keys on one line) is said once.
            problems.dedup();
            if problems.is_empty() {
                let message = "the file does not make a route table (no problem was named: please report this)";
                problems.push(ConfigProblem { line: None, column: None, message: message.into() });
            }
            Err(ConfigError { file: path.display().to_string(), problems })
        }
    }
}

struct Builder<'a> {
    /// The file's text without a byte-order mark.
    text: &'a str,
    /// The file started with a byte-order mark (kept in the table's source).
    bom: bool,
    /// Built for a gateway about to start: also check what only a start reads.
    starting: bool,
    problems: Vec<ConfigProblem>,
    /// Each copybook file by its name in routes.toml; `None` if it could not be read.
    copybooks: BTreeMap<String, Option<Arc<CachedCopybook>>>,
    dir: PathBuf,
    cache: &'a CopybookCache,
    pinned: Option<&'a TableSource>,
    /// Upstreams whose section does not read (already reported): naming one is no new problem.
    unreadable_upstreams: BTreeSet<String>,
    /// The final header (length rules adopted), for links that read header fields (`tcp-async`).
    link_header: Option<HeaderLayout>,
}

impl Builder<'_> {
    /// The line of `key` inside `[section]` (or of the section header itself).
    fn line_of(&self, section: &str, key: Option<&str>) -> Option<usize> {
        let header = format!("[{section}]");
        let mut in_section = false;
        for (i, line) in self.text.lines().enumerate() {
            let t = line.trim();
            if t.starts_with('[') {
                if in_section && key.is_some() {
                    break;
                }
                in_section = t == header || t.replace(' ', "") == header || t.replace('"', "") == header;
                if in_section && key.is_none() {
                    return Some(i + 1);
                }
                continue;
            }
            if in_section {
                if let Some(k) = key {
                    if t.split(['=', ' ']).next() == Some(k) {
                        return Some(i + 1);
                    }
                }
            }
        }
        if key.is_some() {
            return self.line_of(section, None);
        }
        None
    }

    fn problem(&mut self, section: &str, key: Option<&str>, message: String) {
        // A section written in a way line_of does not follow (an inline table) is found by name.
        let name = section.rsplit('.').next().unwrap_or(section);
        let line =
            self.line_of(section, key).or_else(|| self.text.lines().position(|l| l.contains(name)).map(|p| p + 1));
        self.problems.push(ConfigProblem { line: line.or(Some(1)), column: None, message });
    }

    fn copybook(&mut self, file: &str, section: &str, key: &str) -> Option<Arc<Copybook>> {
        let entry = match self.copybooks.get(file) {
            Some(seen) => seen.clone(),
            None => {
                let pinned = self.pinned.and_then(|p| p.copybooks.get(file)).cloned();
                let entry = match pinned.map(Ok).unwrap_or_else(|| self.cache.load(&self.dir.join(file))) {
                    Ok(entry) => Some(entry),
                    Err(e) => {
                        self.problem(section, Some(key), copybook_problem(file, &e));
                        None
                    }
                };
                self.copybooks.insert(file.to_string(), entry.clone());
                if let Some(Err(e)) = entry.as_ref().map(|c| &c.parsed) {
                    let message = copybook_problem(file, e);
                    self.problem(section, Some(key), message);
                }
                entry
            }
        };
        entry?.parsed.as_ref().ok().cloned()
    }

    /// Compiles `FILE#RECORD` (record optional) into a codec.
    fn layout(&mut self, spec: &str, options: CodecOptions, section: &str, key: &str) -> Option<Arc<Codec>> {
        let (file, record) = match spec.split_once('#') {
            Some((f, r)) => (f, Some(r)),
            None => (spec, None),
        };
        let copybook = self.copybook(file, section, key)?;
        let Some(rec) = copybook.record(record) else {
            let names: Vec<_> = copybook.records.iter().map(|r| r.name.as_str()).collect();
            self.problem(
                section,
                Some(key),
                format!("{file} has no record {} (it has: {})", record.unwrap_or("?"), names.join(", ")),
            );
            return None;
        };
        match Codec::new(rec, options) {
            Ok(c) => Some(Arc::new(c)),
            Err(e) => {
                self.problem(section, Some(key), format!("{spec}: {e}"));
                None
            }
        }
    }

    fn build(&mut self, path: &Path, previous: Option<&RouteTable>, generation: u64) -> Option<RouteTable> {
        let file = self.parse_file()?;
        self.dir = path.parent().unwrap_or(Path::new(".")).join(&file.gateway.copybooks);
        let codepage = match CodePage::from_name(&file.gateway.codepage) {
            Ok(c) => c,
            Err(e) => {
                self.problem("gateway", Some("codepage"), e.to_string());
                CodePage::Cp037
            }
        };
        let options = CodecOptions::for_codepage(codepage);
        self.gateway(&file, path);
        let mut header = self.header(&file, options);
        let tcp_framing =
            self.framing(&file.gateway.tcp_framing.clone(), header.as_ref(), codepage, "gateway", "tcp_framing");
        // Every link's framing first: the header adopts their length rules before anything
        // builds a message from it (a poll, an error reply).
        let channel_framings = self.channel_framings(&file, header.as_ref(), codepage);
        // A channel on the host's code page passes messages untouched: its length field must agree.
        let same_page: Vec<(String, crate::frame::Framing)> = file
            .channels
            .iter()
            .zip(&channel_framings)
            .filter(|(c, _)| c.codepage.as_deref().is_none_or(|p| CodePage::from_name(p).ok() == Some(codepage)))
            .filter_map(|(c, f)| Some((format!("channels.{}", c.name), (*f)?)))
            .collect();
        let link_framings = self.link_framings(&file, header.as_mut(), tcp_framing, codepage, &same_page);
        if let Some(h) = header.as_mut() {
            h.multipart = self.multipart(&file, h, codepage);
        }
        let heartbeat = file.gateway.heartbeat.as_ref().and_then(|spec| {
            let header = header.as_ref();
            self.heartbeat(spec, header, &file.routes, "gateway")
        });
        let mut upstreams = HashMap::new();
        self.link_header = header.clone();
        for (name, section) in &file.upstreams {
            let framing = link_framings.get(name.as_str()).copied().flatten();
            let poll = self.poll(name, section, header.as_ref());
            // Same settings are not enough: a header copybook or code page that changed moves a
            // length field or changes its digits, so framing and polls are built again and compared.
            let reused = previous
                .and_then(|p| p.upstreams.get(name))
                .filter(|e| &e.settings == section)
                .filter(|e| link::same_link(e, framing, poll.as_ref()))
                .filter(|e| async_link::same_match(e, header.as_ref()))
                .cloned();
            let link = (framing, poll);
            let entry = match reused {
                Some(e) => Some(e),
                None => self.upstream(name, section, link, file.limits.max_message_bytes),
            };
            if let Some(e) = entry {
                upstreams.insert(name.clone(), e);
            }
        }
        let find_upstream = |b: &mut Self, name: &str, section: &str, key: &str| -> Option<Arc<UpstreamEntry>> {
            let found = upstreams.get(name).cloned();
            if found.is_none() && !file.upstreams.contains_key(name) && !b.unreadable_upstreams.contains(name) {
                let mut known: Vec<_> =
                    file.upstreams.keys().chain(&b.unreadable_upstreams).map(String::as_str).collect();
                known.sort();
                b.problem(
                    section,
                    Some(key),
                    format!("{key} = {name:?} is not an upstream (known: {})", known.join(", ")),
                );
            }
            found
        };
        let default_target = find_upstream(self, &file.default.target, "default", "target");
        let journal = self.journal(&file, header.as_ref(), path, previous);
        self.telemetry(&file, previous);
        self.shadow_records(&file);
        let mut routes = HashMap::new();
        for (op, r) in &file.routes {
            if let Some(h) = &header {
                self.operation_code(op, h, codepage, file.header.operation.len());
            }
            let section = format!("routes.{op}");
            let target = find_upstream(self, &r.target, &section, "target");
            let request = r.request.as_ref().and_then(|s| self.layout(s, options, &section, "request"));
            // Only encoding a JSON service's reply uses these; decoding ignores them.
            let reply_options =
                CodecOptions { fill_missing: r.fill_missing, truncate_text: r.truncate_text, ..options };
            let response = r.response.as_ref().and_then(|s| self.layout(s, reply_options, &section, "response"));
            if let Some(t) = &target {
                if !t.upstream.is_bytes() && (r.request.is_none() || r.response.is_none()) {
                    self.problem(
                        &section,
                        Some("target"),
                        format!("{} speaks JSON, so the route needs both request and response layouts", t.name),
                    );
                }
            }
            let canary = r.canary.as_ref().and_then(|c| {
                let to = find_upstream(self, &c.to, &section, "canary")?;
                if !(0.0..=100.0).contains(&c.percent) {
                    self.problem(&section, Some("canary"), format!("canary percent {} must be 0 to 100", c.percent));
                    return None;
                }
                // A request layout or header that did not build has said why (no knock-on).
                if header.is_none() || (r.request.is_some() && request.is_none()) {
                    return None;
                }
                let sticky = self.sticky(&c.sticky, request.as_deref(), header.as_ref(), &section)?;
                Some(Canary { to, threshold: (c.percent * 100.0).round() as u32, sticky })
            });
            let fallback = r.fallback.as_ref().and_then(|f| {
                if !r.read_only {
                    let why = "fallback is only for read_only operations: a write is never sent twice";
                    self.problem(&section, Some("fallback"), why.into());
                }
                find_upstream(self, f, &section, "fallback")
            });
            if let Some(c) = &canary {
                if !c.to.upstream.is_bytes() && (r.request.is_none() || r.response.is_none()) {
                    let why =
                        format!("{} speaks JSON, so the route needs both request and response layouts", c.to.name);
                    self.problem(&section, Some("canary"), why);
                }
            }
            let disabled_reply = r.disabled_reply.as_ref().map(|d| (d.code.clone(), d.message.clone()));
            let comparison = match (&response, &header) {
                (Some(resp), Some(h)) => self.comparison(r, h, resp, &section),
                _ => None,
            };
            let shadow = r.shadow.as_ref().and_then(|name| {
                let to = find_upstream(self, name, &section, "shadow");
                // An upstream that did not build (said why) still has a kind: a write's shadow
                // to the host is refused all the same.
                let settings = file.upstreams.get(name)?;
                // Layouts named but not built have said why: no second problem about comparing.
                let comparable = match (&comparison, &r.response) {
                    (Some(_), _) => route::Comparable::Yes,
                    (None, Some(_)) => route::Comparable::Failed,
                    (None, None) => route::Comparable::NoLayouts,
                };
                self.shadow(r, (name, settings, to), comparable, &section)
            });
            let capture = r.capture.as_ref().and_then(|c| {
                if !(0.0..=100.0).contains(&c.percent) {
                    self.problem(&section, Some("capture"), format!("capture percent {} must be 0 to 100", c.percent));
                    return None;
                }
                Some((c.percent * 100.0).round() as u32)
            });
            let layouts = (header.as_ref(), request.as_deref());
            let route_journal = self.route_journal(r, &file, journal.as_deref(), layouts, &section);
            let continuation =
                self.continuation(r, &file, (header.as_ref(), request.as_deref(), response.as_deref()), &section);
            if let Some(target) = target {
                let (read_only, enabled) = (r.read_only, r.enabled);
                let route = Route {
                    op: op.clone(),
                    target,
                    request,
                    response,
                    read_only,
                    enabled,
                    canary,
                    fallback,
                    disabled_reply,
                    shadow,
                    comparison,
                    capture,
                    journal: route_journal,
                    continuation,
                    counters: Default::default(),
                };
                routes.insert(op.clone(), route);
            }
        }
        self.owner_keys_agree(&routes);
        let default_channel = channel::DefaultParts { framing: tcp_framing, heartbeat: heartbeat.clone() };
        let channels =
            self.channels(&file, header.as_ref(), codepage, default_channel, channel_framings, &routes, previous);
        let copybooks: BTreeMap<String, Arc<CachedCopybook>> = copybook_files(&file)
            .into_iter()
            .filter_map(|name| Some((name.clone(), self.copybooks.get(&name)?.clone()?)))
            .collect();
        let text = if self.bom { format!("\u{feff}{}", self.text) } else { self.text.to_string() };
        let source = TableSource { text, copybooks };
        let table = RouteTable {
            generation,
            hash: source.hash(),
            source: Arc::new(source),
            header: header?,
            options,
            tcp_framing: tcp_framing?,
            heartbeat,
            limits: file.limits.clone(),
            upstreams: upstreams.clone(),
            routes,
            default_target: default_target?,
            journal,
            channels: channels?,
            file,
        };
        Some(table)
    }

    fn header(&mut self, file: &RoutesFile, options: CodecOptions) -> Option<HeaderLayout> {
        let h = &file.header;
        let copybook = self.copybook(&h.copybook, "header", "copybook")?;
        let Some(record) = copybook.record(h.record.as_deref()) else {
            self.problem(
                "header",
                Some("record"),
                format!("{} has no record {}", h.copybook, h.record.as_deref().unwrap_or("?")),
            );
            return None;
        };
        let names = HeaderNames {
            operation: &h.operation,
            response_code: &h.response_code,
            response_message: &h.response_message,
            length: h.length_field.as_deref(),
            message_id: h.message_id.as_deref(),
        };
        match HeaderLayout::new(record, options, &names) {
            Ok(layout) => Some(layout),
            Err(e) => {
                self.problem("header", None, e);
                None
            }
        }
    }
}
