// ficus migration dashboard: polls the admin API every 2 s and changes routes on request.
// Vanilla JS, no build step, nothing from elsewhere. Everything shown is built with
// textContent (operation and field names come from config and traffic, never as HTML).
"use strict";

const REFRESH_MS = 2000;
const TOKEN_KEY = "ficus.admin.token";
// `seen` is the table hash the open change dialog was decided on (sent as If-Match).
const state = { routes: null, stats: null, shadow: null, fleet: null, rows: new Map(), editing: null, pending: null, seen: null };

const $ = (id) => document.getElementById(id);

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "class") e.className = v;
    else if (k === "text") e.textContent = v;
    else if (k.startsWith("data-")) e.setAttribute(k, v);
    else e[k] = v;
  }
  for (const c of children) if (c != null) e.append(c);
  return e;
}

function setText(node, text, cls) {
  if (node.textContent !== text) node.textContent = text;
  if (cls !== undefined && node.className !== cls) node.className = cls;
}

// ---- formatting ----------------------------------------------------------------------------

function fmtRate(x) {
  if (x == null) return "–";
  if (x < 0.05) return "0";
  return x < 10 ? x.toFixed(1) : Math.round(x).toString();
}

function fmtPct(x, digits) {
  if (x == null) return "–";
  const p = x * 100;
  if (p === 0) return "0%";
  return (p < 0.1 ? "<0.1" : p.toFixed(digits ?? 1)) + "%";
}

function fmtMs(ms) {
  if (ms == null) return "–";
  if (ms >= 1000) return (ms / 1000).toFixed(2) + " s";
  if (ms >= 100) return Math.round(ms) + " ms";
  return (ms < 1 ? ms.toFixed(2) : ms.toFixed(1)) + " ms";
}

function errClass(x) {
  if (x == null || x === 0) return "num";
  return x >= 0.05 ? "num bad" : x >= 0.01 ? "num warn" : "num";
}

function matchClass(x) {
  if (x == null) return "num";
  return x >= 0.999 ? "num good" : x >= 0.99 ? "num warn" : "num bad";
}

function fmtTime(secs) {
  const d = new Date(secs * 1000);
  const sameDay = d.toDateString() === new Date().toDateString();
  const t = d.toLocaleTimeString([], { hour12: false });
  return sameDay ? t : d.toISOString().slice(0, 10) + " " + t;
}

function fmtValue(v) {
  if (v == null) return "—";
  if (typeof v === "object" && "percent" in v && "to" in v) return `${v.percent}% → ${v.to}`;
  return typeof v === "string" ? v : JSON.stringify(v);
}

function modeClass(mode) {
  const m = mode || "";
  if (m.startsWith("canary")) return "badge canary";
  if (m === "new") return "badge new";
  if (m === "disabled") return "badge disabled";
  if (m === "legacy") return "badge legacy";
  return "badge";
}

// ---- admin API -----------------------------------------------------------------------------

async function getJson(path) {
  const r = await fetch(path, { cache: "no-store", headers: { Accept: "application/json" } });
  if (r.status === 404) return null;
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return r.json();
}

function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

function setToken(t) {
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  else sessionStorage.removeItem(TOKEN_KEY);
  $("token-button").textContent = t ? "Token set ✓" : "Set token";
}

// If-Match: the gateway refuses the change (412) if the table changed since `hash` was read.
async function putRoute(op, patch, tok, hash) {
  const headers = { "Content-Type": "application/json", Authorization: `Bearer ${tok}` };
  if (hash) headers["If-Match"] = `"${hash}"`;
  const r = await fetch(`/routes/${encodeURIComponent(op)}`, {
    method: "PUT",
    headers,
    body: JSON.stringify(patch),
  });
  let body = null;
  try {
    body = await r.json();
  } catch (_) {
    body = { error: `HTTP ${r.status}` };
  }
  return { status: r.status, body };
}

// ---- rendering -----------------------------------------------------------------------------

function sideCells(stats, side) {
  const s = stats && stats.sides && stats.sides[side];
  // Per-side errors need an outcome label on ficus_messages_total; else show the operation's.
  // Without it, a single side has the operation's rate, and no errors at all means none on either.
  const single = s && (Object.keys(stats.sides).length === 1 || stats.error_rate === 0);
  const err = s ? (s.error_rate ?? (single ? stats.error_rate : null)) : null;
  return [
    [s ? fmtRate(s.rate) : "–", "num"],
    [s ? fmtPct(err) : "–", errClass(err)],
    [s ? fmtMs(s.p99_ms) : "–", "num"],
  ];
}

function shadowOps(doc) {
  if (!doc) return {};
  const ops = doc.operations || doc.ops || doc.routes || doc;
  if (Array.isArray(ops)) return Object.fromEntries(ops.map((o) => [o.op || o.operation, o]));
  return Object.fromEntries(Object.entries(ops).filter(([, v]) => v && typeof v === "object"));
}

// The match rate of the last five minutes (how the new service does now), if anything was compared.
function recentRate(s) {
  const r = s && s.recent;
  return r && r.compared ? r.matched / r.compared : null;
}

function matchRate(s) {
  if (!s || !s.compared) return null;
  return s.match_rate ?? (s.matched || 0) / s.compared;
}

// Noise: fields the primary itself answers differently for the same request (safe to ignore).
function noiseOf(s) {
  const list = (s && s.likely_noise) || [];
  return list.map((n) => (typeof n === "string" ? { field: n } : { field: n.field || n.path, suggest: n.suggest }));
}

// Findings: differences that repeat for the same request — to fix, never to ignore.
function findingsOf(s) {
  const list = (s && s.findings) || [];
  return list.map((f) => ({ field: f.field, kind: f.kind, delta: f.delta && f.delta.summary, why: f.why }));
}

function topFields(s) {
  const f = (s && (s.top_fields || s.top_differing_fields || s.fields)) || [];
  const list = Array.isArray(f) ? f : Object.entries(f).map(([path, count]) => ({ path, count }));
  const noise = new Set(noiseOf(s).map((n) => n.field));
  return list.map((x) => (typeof x === "string" ? { path: x, noise: noise.has(x) } : {
    path: x.path || x.field || x.name,
    count: x.count ?? x.mismatches ?? x.n,
    noise: x.noise || noise.has(x.path || x.field || x.name),
  }));
}

function fieldChips(s, max) {
  const span = el("span", { class: "chips" });
  for (const f of topFields(s).slice(0, max)) {
    const label = f.count != null ? `${f.path} ×${f.count}` : f.path;
    const title = f.noise ? "likely noise: the primary varies for the same request" : "finding: fix, never ignore";
    span.append(el("span", { class: f.noise ? "chip noise" : "chip", text: label, title }));
  }
  return span;
}

function makeRow(op) {
  const cells = {};
  const td = (name, cls) => (cells[name] = el("td", { class: cls || "" }));
  const button = el("button", { type: "button", class: "small", text: "Change…", id: `change-${op}`, "data-op": op });
  button.addEventListener("click", () => openChange(op));
  const tr = el("tr", { "data-op": op },
    td("op", "op mono"), td("mode"), td("target"),
    td("l0"), td("l1"), td("l2"), td("n0"), td("n1"), td("n2"),
    td("match", "num shadow-col"), td("fields", "shadow-col"),
    el("td", { class: "actions" }, button));
  cells.mode.append(el("span", { id: `mode-${op}` }));
  cells.mode.append(el("span", { class: "badge shadow", hidden: true }));
  return { tr, cells, button };
}

function renderOps() {
  const routes = (state.routes && state.routes.routes) || {};
  const statOps = (state.stats && state.stats.ops) || {};
  const shadow = shadowOps(state.shadow);
  const names = new Set(Object.keys(routes));
  for (const [op, s] of Object.entries(statOps)) if (s.total > 0) names.add(op);
  // Routed operations first, by name; unrouted traffic (op "unknown") after them.
  const sorted = [...names].sort((a, b) => (b in routes) - (a in routes) || a.localeCompare(b));
  const body = $("ops-body");
  for (const [op, row] of state.rows) {
    if (!names.has(op)) {
      row.tr.remove();
      state.rows.delete(op);
    }
  }
  for (const op of sorted) {
    let row = state.rows.get(op);
    if (!row) {
      row = makeRow(op);
      state.rows.set(op, row);
    }
    body.append(row.tr); // keeps order; moving an element keeps its listeners
    const r = routes[op];
    const c = row.cells;
    setText(c.op, op);
    const mode = r ? r.mode : `default → ${state.routes ? state.routes.default : "?"}`;
    setText($(`mode-${op}`), mode, modeClass(r ? r.mode : ""));
    const shadowBadge = c.mode.lastChild;
    shadowBadge.hidden = !(r && r.shadow);
    if (r && r.shadow) {
      // A shadow pointing at the side now answering compares nothing: say so, not the badge.
      const pct = r.shadow_percent != null ? ` ${r.shadow_percent}%` : "";
      const partial = r.shadow_partial ? " (part)" : "";
      setText(shadowBadge, r.shadow_idle ? "shadow idle" : `shadow → ${r.shadow}${pct}${partial}`,
        r.shadow_idle ? "badge shadow idle" : "badge shadow");
      shadowBadge.title = r.shadow_idle || r.shadow_partial || "";
    }
    const target = r ? r.target + (r.fallback ? ` (fallback ${r.fallback})` : "") : "";
    setText(c.target, target, "mono");
    const s = statOps[op];
    const cells = [...sideCells(s, "legacy"), ...sideCells(s, "new")];
    ["l0", "l1", "l2", "n0", "n1", "n2"].forEach((k, i) => setText(c[k], cells[i][0], cells[i][1]));
    const sh = shadow[op];
    const recent = recentRate(sh);
    const rate = recent ?? matchRate(sh);
    const shown = recent != null ? `${fmtPct(recent, 2)} of ${sh.recent.compared} (5 min)`
      : sh && sh.compared ? `${fmtPct(rate, 2)} of ${sh.compared} (since start)` : "–";
    setText(c.match, shown, matchClass(rate) + " shadow-col");
    c.match.title = sh && sh.compared ? `since the gateway started: ${fmtPct(matchRate(sh), 2)} of ${sh.compared}` : "";
    c.fields.replaceChildren(fieldChips(sh, 3));
    row.button.hidden = !r;
  }
  $("ops-empty").hidden = names.size > 0;
  const w = state.stats && state.stats.window_seconds;
  const span = w == null ? "rates appear after the next refresh"
    : w > 35 ? `rates since the gateway started ${Math.round(w)} s ago (the last 30 s from the next refresh)`
    : `rates over the last ${Math.round(w)} s`;
  setText($("window"), w == null ? span : `${span} · p99 per side`);
}

function renderHeader() {
  const r = state.routes;
  if (!r) return;
  setText($("generation"), String(r.generation));
  setText($("hash"), (r.hash || "").slice(0, 12));
  $("hash").title = r.hash || "";
  setText($("default-target"), r.default || "–");
  const st = r.reload || {};
  setText($("reloads"), `${st.applied ?? 0} applied · ${st.rejected ?? 0} rejected`);
  const alert = $("reload-error");
  alert.hidden = !st.last_error;
  if (st.last_error) setText(alert, `Last reload rejected — the running table stays: ${st.last_error}`);
}

// The journal's unknown outcomes (every replica's, from its store) and duplicates answered here.
function renderJournal() {
  const j = state.stats && state.stats.journal;
  $("journal-facts").hidden = !j;
  if (!j) return;
  const unknown = $("journal-unknown");
  setText(unknown, j.unknown == null ? "?" : String(j.unknown), j.unknown ? "bad" : "");
  unknown.title = j.unknown == null ? `journal store ${j.store}: ${j.error || "no answer"}`
    : j.unknown ? `${j.unknown} write(s) sent without an answer: reconcile with \`ficus journal unknown\` (${j.store})`
    : `no unknown outcomes (${j.store})`;
  setText($("journal-duplicates"), String(j.duplicates ?? 0));
}

// Whose numbers the shadow panel shows (GET /shadow's `source`), and a warning when they are
// not what they seem: the store could not be read (this replica's counters are shown), the
// read stopped at its row cap, or this replica's records are not reaching the store.
function renderShadowSource(doc) {
  const store = doc.source === "store";
  const replicas = store && doc.replicas ? Object.keys(doc.replicas).length : 0;
  setText($("shadow-source"), store ? `all replicas (store${replicas ? `, ${replicas} replica(s)` : ""})` : "this replica",
    store ? "badge source store" : "badge source local");
  $("shadow-source").title = doc.store || "";
  const warnings = [];
  if (doc.store_error) {
    const ago = doc.store_error_seconds_ago != null ? ` (${doc.store_error_seconds_ago} s ago)` : "";
    warnings.push(`Store not readable${ago}: ${doc.store_error} — showing this replica's counters only, not the fleet's.`);
  }
  if (doc.capped) {
    warnings.push(`Only the newest ${doc.read_limit} records were read: the counts cover part of the store (ficus shadow report --store reads all).`);
  }
  const mine = doc.this_replica;
  if (mine && mine.last_error) {
    const dropped = mine.dropped ? (mine.dropped.comparisons || 0) + (mine.dropped.captures || 0) : 0;
    warnings.push(`This replica's records are not reaching the store (${dropped} dropped): ${mine.last_error}`);
  }
  const w = $("shadow-warning");
  w.hidden = warnings.length === 0;
  w.replaceChildren(...warnings.map((t) => el("div", { text: t })));
}

function renderShadow() {
  const panel = $("shadow-panel");
  const present = state.shadow != null;
  panel.hidden = !present;
  document.body.classList.toggle("no-shadow", !present);
  if (!present) return;
  renderShadowSource(state.shadow);
  const rows = Object.entries(shadowOps(state.shadow)).sort(([a], [b]) => a.localeCompare(b));
  $("shadow-empty").hidden = rows.length > 0;
  $("shadow-body").replaceChildren(...rows.map(([op, s]) => {
    const rate = matchRate(s);
    const n = (v) => el("td", { class: "num", text: v == null ? "–" : String(v) });
    const ms = (v) => (v == null ? "–" : fmtMs(v));
    const noise = noiseOf(s).map((x) => x.suggest || x.field).join("  ");
    const findings = findingsOf(s).slice(0, 4).map((x) => `${x.field} ${x.delta || x.kind}`).join("; ");
    return el("tr", { "data-op": op },
      el("td", { class: "mono op", text: op }), n(s.compared), n(s.matched), n(s.mismatched), n(s.dropped),
      n(s.shadow_errors ?? s.errors), el("td", { class: matchClass(rate), text: fmtPct(rate, 2) }),
      el("td", { class: matchClass(recentRate(s)), text: s.recent && s.recent.compared ? `${fmtPct(recentRate(s), 2)} of ${s.recent.compared}` : "–" }),
      el("td", { class: "num", text: `${ms(s.primary_ms_avg)} / ${ms(s.shadow_ms_avg)}` }),
      el("td", {}, fieldChips(s, 6)),
      el("td", { class: "mono finding-cell", text: findings || "—", title: findingsOf(s).map((x) => `${x.field}: ${x.why}`).join("\n") }),
      el("td", { class: "mono hint-cell", text: noise || "—" }));
  }));
}

function describeChange(c) {
  if (c.before == null) return `${c.op} added → ${fmtValue(c.after && c.after.target)}`;
  if (c.after == null) return `${c.op} removed`;
  const keys = new Set([...Object.keys(c.before), ...Object.keys(c.after)]);
  const parts = [];
  for (const k of keys) {
    const a = c.before[k], b = c.after[k];
    if (JSON.stringify(a ?? null) !== JSON.stringify(b ?? null)) parts.push(`${k} ${fmtValue(a)} → ${fmtValue(b)}`);
  }
  return `${c.op}: ${parts.join(", ") || "rewritten"}`;
}

function renderAudit(entries) {
  const list = (entries || []).slice().reverse();
  $("audit-empty").hidden = list.length > 0;
  $("audit-body").replaceChildren(...list.map((e) => {
    const what = (e.changes || []).map(describeChange);
    if (e.other) what.push("settings outside [routes]");
    if (e.owners) {
      const o = e.owners, keys = (o.keys || []).join(", ");
      const more = o.requested > (o.keys || []).length ? ", …" : "";
      what.push(`owners: ${o.moved} account(s) ${o.rollback ? "rolled back" : `→ ${o.to}`} (${keys}${more}); writes waited ${o.waited_ms} ms`);
    }
    return el("tr", {},
      el("td", { class: "mono nowrap", text: fmtTime(e.time) }), el("td", { text: e.who }),
      el("td", { text: e.source }), el("td", { class: "num", text: String(e.generation) }),
      el("td", { class: "change", text: what.join("; ") || "—" }));
  }));
}

function renderUpstreams() {
  const ups = (state.routes && state.routes.upstreams) || {};
  const live = (state.stats && state.stats.upstreams) || {};
  $("upstreams-body").replaceChildren(...Object.keys(ups).sort().map((name) => {
    const u = ups[name], s = live[name] || {};
    const pool = s.pool ? `${s.pool.in_use} / ${s.pool.idle}` : "–";
    return el("tr", {},
      el("td", { class: "mono", text: name }),
      el("td", {}, el("span", { class: `badge ${s.side || ""}`, text: s.side || "?" })),
      el("td", { text: u.kind }), el("td", { class: "mono", text: u.address || u.url || "" }),
      el("td", { class: "num", text: pool }));
  }));
}

// The channels' counters (`ficus_channel_messages_total`, `ficus_conversion_errors_total`).
function renderChannels() {
  const channels = (state.stats && state.stats.channels) || [];
  $("channels-panel").hidden = channels.length === 0;
  $("channels-body").replaceChildren(...channels.map((c) => {
    const page = c.converting ? `${c.codepage} (converted)` : c.codepage;
    return el("tr", { "data-channel": c.name },
      el("td", { class: "mono", text: c.name }),
      el("td", { text: page }),
      el("td", { class: "num", text: fmtRate(c.rate) }),
      el("td", { class: "num", text: String(c.messages) }),
      el("td", { class: errClass(c.messages ? c.errors / c.messages : 0), text: String(c.errors) }),
      el("td", { class: c.conversion_errors ? "num bad" : "num", text: String(c.conversion_errors) }));
  }));
}

// The replicas of `ficus serve --peers` (GET /fleet): one row each, a loud line when their
// table hashes differ or one does not answer. Hidden without peers.
function renderFleet() {
  const f = state.fleet;
  const peers = f && f.replicas;
  $("fleet-panel").hidden = !peers;
  if (!peers) return;
  const mine = state.routes && state.routes.hash;
  const alert = $("fleet-alert");
  alert.hidden = !(f.problems && f.problems.length);
  if (!alert.hidden) setText(alert, f.problems.join(" · "));
  $("fleet-body").replaceChildren(...peers.map((r) => {
    if (r.error) {
      return el("tr", { "data-replica": r.address, class: r.not_counted ? "" : "down" },
        el("td", { class: "mono", text: r.address }),
        el("td", { class: r.not_counted ? "hint-cell" : "bad", colSpan: 6,
          text: r.not_counted ? `not counted: ${r.not_counted}` : `UNREACHABLE: ${r.error}` }));
    }
    const s = r.status, reload = s.reload || {};
    const open = Object.entries(s.upstreams || {}).filter(([, u]) => u.breaker !== "closed")
      .map(([n, u]) => `${n} ${u.breaker}`);
    const hash = (s.hash || "").slice(0, 12);
    return el("tr", { "data-replica": r.address },
      el("td", { class: "mono", text: r.also ? `${r.address} (also ${r.also.join(" ")})` : r.address }),
      el("td", { text: (s.replica && s.replica.host) || "–" }),
      el("td", { class: "num", text: String(s.generation) }),
      el("td", { class: s.hash === mine ? "mono" : "mono bad", text: hash, title: s.hash }),
      el("td", { class: reload.last_error ? "bad" : "", text: reload.last_error ? `REJECTED: ${reload.last_error}` : `ok (${reload.applied ?? 0} applied)` }),
      el("td", { class: "num", text: String(s.in_flight) }),
      el("td", { class: open.length ? "bad" : "", text: open.length ? open.join(", ") : "all closed" }));
  }));
}

// ---- refresh loop --------------------------------------------------------------------------

// /shadow (may read the store) and /fleet (asks every peer) are fetched on their own: the page
// never waits for the slower of them, and one still on its way is not asked again.
const slow = { shadow: false, fleet: false };

function refreshSlow(name, path, render) {
  if (slow[name]) return;
  slow[name] = true;
  // A failed call (a 503 while the endpoint is busy) keeps what was shown.
  getJson(path).catch(() => state[name]).then((doc) => {
    state[name] = doc;
    try { render(); } finally { slow[name] = false; }
  }, () => { slow[name] = false; });
}

// On a timer of its own: a main refresh that hangs does not stop these either.
function slowLoop() {
  refreshSlow("shadow", "/shadow", () => { renderShadow(); if (state.routes) renderOps(); });
  refreshSlow("fleet", "/fleet", renderFleet);
  setTimeout(slowLoop, REFRESH_MS);
}

async function refresh() {
  try {
    const [routes, stats, audit] = await Promise.all([
      getJson("/routes"),
      getJson("/stats").catch(() => null),
      getJson("/audit?limit=20"),
    ]);
    Object.assign(state, { routes, stats });
    renderHeader();
    renderOps();
    renderShadow();
    renderJournal();
    renderChannels();
    renderAudit(audit && audit.entries);
    renderUpstreams();
    renderFleet();
    setText($("live"), `live · ${new Date().toLocaleTimeString([], { hour12: false })}`, "live ok");
  } catch (e) {
    setText($("live"), `offline — retrying (${e.message})`, "live down");
  }
}

async function loop() {
  await refresh();
  setTimeout(loop, REFRESH_MS);
}

// ---- changes -------------------------------------------------------------------------------

// `lines` (the reply's `turned`, `warnings`) are listed under the text; warnings make it amber.
function showResult(text, ok, lines, warn) {
  const r = $("result");
  r.className = !ok ? "alert error" : warn ? "alert warn" : "alert ok";
  r.replaceChildren(el("span", { text }));
  const extra = (lines || []).filter(Boolean);
  if (extra.length) r.append(el("ul", {}, ...extra.map((t) => el("li", { text: t }))));
  r.hidden = false;
}

function fillSelect(select, names, selected) {
  select.replaceChildren(...names.map((n) => el("option", { value: n, text: n, selected: n === selected })));
}

function openChange(op) {
  const r = state.routes && state.routes.routes[op];
  if (!r) return;
  state.editing = op;
  state.seen = state.routes.hash || null;
  const ups = Object.keys(state.routes.upstreams).sort();
  const newSide = ups.filter((n) => state.routes.upstreams[n].kind === "http-json");
  setText($("change-op"), op);
  setText($("change-current"), `${r.mode} (target ${r.target}${r.enabled === false ? ", disabled" : ""})`);
  fillSelect($("target-select"), ups, r.target);
  fillSelect($("canary-to"), newSide.length ? newSide : ups, r.canary ? r.canary.to : newSide[0]);
  $("canary-percent").value = r.canary ? r.canary.percent : "";
  $("canary-sticky").value = r.canary ? r.canary.sticky : "";
  $("toggle-enabled").textContent = r.enabled === false ? "Enable…" : "Disable…";
  showStep("edit");
  $("change-dialog").showModal();
}

function showStep(step) {
  $("step-edit").hidden = step !== "edit";
  $("step-confirm").hidden = step !== "confirm";
  $("change-error").hidden = true;
}

function ask(patch, sentence) {
  state.pending = patch;
  setText($("confirm-text"), sentence);
  setText($("confirm-patch"), `PUT /routes/${state.editing}\n${JSON.stringify(patch, null, 2)}`);
  $("token-input").value = token();
  showStep("confirm");
  (token() ? $("confirm-apply") : $("token-input")).focus();
}

function changeError(status, body) {
  const box = $("change-error");
  box.replaceChildren(el("strong", { text: `HTTP ${status}: ${body.error || "failed"}` }));
  if (Array.isArray(body.problems)) {
    box.append(el("ul", {}, ...body.problems.map((p) =>
      el("li", { text: (p.line != null ? `line ${p.line}: ` : "") + p.message }))));
  }
  box.hidden = false;
}

async function apply() {
  const op = state.editing, patch = state.pending;
  const tok = $("token-input").value.trim();
  if (!tok) {
    changeError("—", { error: "an admin token is needed to change routes" });
    return;
  }
  $("confirm-apply").disabled = true;
  try {
    const { status, body } = await putRoute(op, patch, tok, state.seen);
    if (status === 200) {
      setToken(tok);
      $("change-dialog").close();
      const changed = ((body.diff && body.diff.changes) || []).map(describeChange).join("; ");
      const notes = [body.kept_rejected ? `The invalid routes.toml on disk is kept as ${body.kept_rejected}.` : "",
        body.message || ""].filter(Boolean).join(" ");
      const warnings = (body.warnings || []).map((w) => `Warning: ${w}`);
      showResult(`Applied: generation ${body.generation}. ${changed || "nothing changed"}${notes ? ` — ${notes}` : ""}`,
        true, [body.turned, ...warnings], warnings.length > 0);
      await refresh();
    } else if (status === 412) {
      // Someone else changed the routes since this dialog opened: show what runs now.
      $("change-dialog").close();
      await refresh();
      const now = state.routes && state.routes.routes[op];
      showResult(`Not applied: the routes changed since you opened this (now generation ${body.generation}). ` +
        `${op} is now ${now ? now.mode : "gone"}. Review and try again.`, false);
    } else {
      if (status === 401) setToken("");
      changeError(status, body || {});
    }
  } catch (e) {
    changeError("—", { error: e.message });
  } finally {
    $("confirm-apply").disabled = false;
  }
}

// What "shadow_follows" will do to a flip to `to`, said before it is applied.
function followNote(to) {
  const r = state.routes.routes[state.editing];
  if (!r || r.shadow !== to || r.target === to) return "";
  return ` Its shadow is ${to}: the gateway turns it around to ${r.target} (never to the host for a write).`;
}

function wire() {
  $("flip-target").addEventListener("click", () => {
    const to = $("target-select").value;
    // shadow_follows: the gateway turns a shadow that would become the target around (as the CLI).
    ask({ target: to, canary: null, shadow_follows: true }, `Serve ${state.editing} wholly from ${to}?${followNote(to)}`);
  });
  $("set-canary").addEventListener("click", () => {
    const percent = Number($("canary-percent").value);
    const to = $("canary-to").value, sticky = $("canary-sticky").value.trim();
    if (!(percent >= 0 && percent <= 100) || !sticky) {
      changeError("—", { error: "a canary needs a percentage (0–100) and a sticky field" });
      return;
    }
    ask({ canary: { to, percent, sticky } }, `Send ${percent}% of ${state.editing}'s customers (by ${sticky}) to ${to}?`);
  });
  $("rollback").addEventListener("click", () => {
    const to = state.routes.default;
    ask({ target: to, canary: null, shadow_follows: true },
      `Roll ${state.editing} back to ${to}, removing any canary?${followNote(to)}`);
  });
  $("toggle-enabled").addEventListener("click", () => {
    const r = state.routes.routes[state.editing];
    const enable = r && r.enabled === false;
    ask({ enabled: enable ? null : false }, enable ? `Enable ${state.editing} again?` :
      `Disable ${state.editing}? Every message gets an error reply until it is enabled again.`);
  });
  $("confirm-back").addEventListener("click", () => showStep("edit"));
  $("confirm-apply").addEventListener("click", apply);
  $("token-input").addEventListener("keydown", (e) => { if (e.key === "Enter") apply(); });
  $("change-close").addEventListener("click", () => $("change-dialog").close());
  $("token-button").addEventListener("click", () => {
    $("token-only").value = token();
    $("token-dialog").showModal();
  });
  $("token-save").addEventListener("click", () => { setToken($("token-only").value.trim()); $("token-dialog").close(); });
  $("token-forget").addEventListener("click", () => { setToken(""); $("token-dialog").close(); });
  $("token-cancel").addEventListener("click", () => $("token-dialog").close());
  setToken(token());
}

wire();
slowLoop();
loop();
