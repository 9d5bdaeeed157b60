// ficus dashboard: the migration's progress (/progress) and one operation's last hour
// (/history) as uPlot charts — messages/s per side, error rate, p99 per side, shadow match
// rate — with every change drawn as a vertical marker naming who made it. Polls every 2 s.
// uPlot is vendored (/assets/uPlot.iife.min.js); nothing comes from elsewhere.
"use strict";

(() => {
  const REFRESH_MS = 2000;
  const $ = (id) => document.getElementById(id);
  const h = { op: null, seconds: 900, charts: {}, markers: [], drawn: [], progress: null };
  // For tests and the curious: what the charts hold and which markers they drew.
  window.ficusHistory = h;

  const COLORS = { legacy: "#4a5a78", new: "#137a4b", bad: "#c4302b", shadow: "#6b4fbb" };
  const MARKER_COLORS = { flip: "#137a4b", rollback: "#c4302b", canary: "#a86500", rejected: "#c4302b", owners: "#2457c5", change: "#6b7385" };

  function node(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text != null) e.textContent = text;
    return e;
  }

  async function getJson(path) {
    const r = await fetch(path, { cache: "no-store" });
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return r.json();
  }

  // ---- markers: a uPlot plugin drawing a dashed vertical line and a label per change --------

  function markerPlugin(name) {
    return {
      hooks: {
        draw: [(u) => {
          const dpr = window.devicePixelRatio || 1;
          const { left, top, width, height } = u.bbox;
          const ctx = u.ctx;
          const drawn = [];
          ctx.save();
          ctx.font = `${11 * dpr}px system-ui, sans-serif`;
          h.markers.forEach((m, i) => {
            const x = Math.round(u.valToPos(m.time, "x", true));
            if (x < left || x > left + width) return;
            const color = MARKER_COLORS[m.kind] || MARKER_COLORS.change;
            ctx.strokeStyle = color;
            ctx.fillStyle = color;
            ctx.lineWidth = 1.5 * dpr;
            ctx.setLineDash([5 * dpr, 3 * dpr]);
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
            // A rejection's reason is long: the chart says what and who, the list below says why.
            const label = `${m.kind === "rejected" ? "rejected" : m.label} · ${m.who}`;
            // Staggered, so two close changes do not print over each other.
            const y = top + (12 + (i % 3) * 13) * dpr;
            const w = ctx.measureText(label).width;
            const lx = x + 4 * dpr + w > left + width ? x - 4 * dpr - w : x + 4 * dpr;
            ctx.fillText(label, Math.max(left, lx), y);
            drawn.push(label);
          });
          ctx.restore();
          u.ficusMarkers = drawn;
          if (name === "rate") h.drawn = drawn;
        }],
      },
    };
  }

  // ---- charts ------------------------------------------------------------------------------

  const CHARTS = [
    { name: "rate", title: "messages/s", series: [["legacy", "legacy_per_s", COLORS.legacy], ["new service", "new_per_s", COLORS.new]], fmt: (v) => v },
    { name: "errors", title: "error rate", series: [["errors", "error_rate", COLORS.bad]], fmt: (v) => v == null ? null : v * 100, unit: "%", range: (u, min, max) => [0, Math.max(5, max)] },
    { name: "p99", title: "p99 latency", series: [["legacy", "legacy_p99_ms", COLORS.legacy], ["new service", "new_p99_ms", COLORS.new]], fmt: (v) => v, unit: " ms" },
    { name: "shadow", title: "shadow match rate", series: [["match", "shadow_match_rate", COLORS.shadow]], fmt: (v) => v == null ? null : v * 100, unit: "%", range: (u, min) => [Math.min(90, min == null ? 90 : min), 100] },
  ];

  function chartWidth() {
    const grid = $("history-charts");
    const w = grid ? grid.clientWidth : 800;
    return Math.max(280, Math.floor((w - 14) / 2));
  }

  function makeChart(spec, data) {
    const box = node("div", "chart");
    box.dataset.chart = spec.name;
    $("history-charts").append(box);
    const unit = spec.unit || "";
    const opts = {
      title: spec.title,
      width: chartWidth(),
      height: 170,
      scales: spec.range ? { x: { time: true }, y: { range: spec.range } } : { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      series: [{}].concat(spec.series.map(([label, , color]) => ({
        label, stroke: color, width: 1.5, fill: color + "18", spanGaps: false, points: { show: false },
        value: (u, v) => v == null ? "–" : (Math.round(v * 100) / 100) + unit,
      }))),
      axes: [{}, { size: 48, values: (u, vals) => vals.map((v) => v + unit.trim()) }],
      plugins: [markerPlugin(spec.name)],
    };
    return new uPlot(opts, data, box);
  }

  // Seconds before the first one sampled (a gateway started minutes ago) are left out, but at
  // least half a minute is shown, so a young gateway's traffic is not a sliver at the right edge.
  function firstShown(doc) {
    const cols = Object.values(doc.series);
    let first = doc.times.findIndex((_, i) => cols.some((c) => c[i] != null));
    if (first < 0) first = doc.times.length;
    return Math.max(0, Math.min(first, doc.times.length - 30));
  }

  function columns(spec, doc, from) {
    return [doc.times.slice(from)].concat(spec.series.map(([, key]) => (doc.series[key] || []).slice(from).map(spec.fmt)));
  }

  function renderHistory(doc) {
    h.markers = doc.markers || [];
    const from = firstShown(doc);
    for (const spec of CHARTS) {
      const data = columns(spec, doc, from);
      const chart = h.charts[spec.name];
      if (chart) chart.setData(data);
      else h.charts[spec.name] = makeChart(spec, data);
    }
    const list = $("history-markers");
    list.replaceChildren(...h.markers.slice().reverse().map((m) => {
      const li = node("li", `marker ${m.kind}`);
      li.dataset.kind = m.kind;
      li.append(node("span", "when", new Date(m.time * 1000).toLocaleTimeString([], { hour12: false })),
        node("span", "what", m.label), node("span", "who", `by ${m.who} (${m.source})`));
      if (m.error) li.title = m.error;
      return li;
    }));
    $("history-markers-empty").hidden = h.markers.length > 0;
    $("history-mode").textContent = doc.mode ? `now: ${doc.mode}` : "";
  }

  // ---- progress ----------------------------------------------------------------------------

  const STAGES = ["legacy", "shadow", "canary", "new", "retired"];

  function pct(x) {
    return x == null ? "–" : (Math.round(x * 1000) / 10) + "%";
  }

  function renderProgress(p) {
    h.progress = p;
    const total = p.operations.length || 1;
    const bar = $("progress-bar");
    bar.replaceChildren(...STAGES.filter((s) => p.by_stage[s] > 0).map((s) => {
      const seg = node("div", `seg ${s}`, `${s} ${p.by_stage[s]}`);
      seg.style.flexGrow = String(p.by_stage[s] / total);
      seg.dataset.stage = s;
      return seg;
    }));
    $("progress-ops").replaceChildren(...p.operations.map((o) => {
      const li = node("li", `stage ${o.stage}`);
      li.dataset.op = o.op;
      li.append(node("span", "mono", o.op), node("span", `badge ${o.stage}`, o.stage === "canary" ? `canary ${o.canary_percent}%` : o.stage));
      return li;
    }));
    const t = p.traffic;
    $("share-minute").textContent = pct(t.last_minute.new_share);
    $("share-start").textContent = pct(t.since_start.new_share);
    $("share-counts").textContent = `${t.since_start.new} of ${t.since_start.new + t.since_start.legacy} messages since start`;
    const a = p.accounts;
    $("accounts-facts").hidden = !a;
    if (a) $("accounts-moved").textContent = a.error ? `– (${a.error})` : String(a.moved_to_new);
    // The operation picker follows the table.
    const select = $("history-op");
    const names = p.operations.map((o) => o.op);
    if (select.options.length !== names.length || names.some((n, i) => select.options[i].value !== n)) {
      select.replaceChildren(...names.map((n) => { const o = node("option", null, n); o.value = n; return o; }));
      if (h.op && names.includes(h.op)) select.value = h.op;
    }
    if (!h.op || !names.includes(h.op)) h.op = names[0] || null;
  }

  // ---- recent mismatches of the chosen operation (from /shadow; masked values as recorded) ---

  function text(v) {
    if (v == null) return "—";
    return typeof v === "string" ? v : JSON.stringify(v);
  }

  function renderMismatches(shadow) {
    const s = shadow && shadow.operations && shadow.operations[h.op];
    const rows = ((s && s.findings) || []).concat((s && s.likely_noise) || []);
    $("mismatch-body").replaceChildren(...rows.map((f) => {
      const tr = node("tr");
      tr.dataset.field = f.field;
      const ex = (f.examples || [])[0];
      const cells = [
        node("td", "mono", f.field),
        node("td", "num", `${f.mismatches} (${pct(f.share)})`),
        node("td", "", f.kind + (f.suggest ? " · noise" : "")),
        node("td", "mono", (f.delta && f.delta.summary) || "—"),
        node("td", "mono", ex ? `${text(ex.primary)} → ${text(ex.shadow)}` : "—"),
        node("td", "mono hint", ex && ex.id ? ex.id : ""),
      ];
      cells[2].title = f.why || "";
      tr.append(...cells);
      return tr;
    }));
    $("mismatch-empty").hidden = rows.length > 0;
  }

  async function refresh() {
    try {
      renderProgress(await getJson("/progress"));
      if (h.op) renderHistory(await getJson(`/history?op=${encodeURIComponent(h.op)}&seconds=${h.seconds}`));
      renderMismatches(await getJson("/shadow").catch(() => null));
      $("history-error").hidden = true;
    } catch (e) {
      $("history-error").hidden = false;
      $("history-error").textContent = `history: ${e.message}`;
    }
  }

  async function loop() {
    await refresh();
    setTimeout(loop, REFRESH_MS);
  }

  function wire() {
    $("history-op").addEventListener("change", (e) => { h.op = e.target.value; refresh(); });
    $("history-seconds").addEventListener("change", (e) => { h.seconds = Number(e.target.value); refresh(); });
    window.addEventListener("resize", () => {
      for (const c of Object.values(h.charts)) c.setSize({ width: chartWidth(), height: 170 });
    });
  }

  wire();
  loop();
})();
