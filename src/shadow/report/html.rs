//! The shadow report's self-contained HTML page (no scripts, no external assets: it can be
//! mailed), built from the same [`OpReport`]s as the terminal summary.

use super::{field_name, percentile, rate_text, show, OpReport, Sides};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::PathBuf;

fn esc(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

fn chart(timeline: &[(f64, u64, u64)]) -> String {
    let (w, h) = (480.0, 80.0);
    let step = w / (timeline.len().max(2) - 1) as f64;
    let points: Vec<String> = timeline
        .iter()
        .enumerate()
        .filter(|(_, (_, c, _))| *c > 0)
        .map(|(i, (_, c, m))| format!("{:.1},{:.1}", i as f64 * step, h - (*m as f64 / *c as f64) * h))
        .collect();
    format!(
        "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"match rate over time\">\
         <rect width=\"{w}\" height=\"{h}\" fill=\"#f6f8fa\"/><line x1=\"0\" y1=\"0\" x2=\"{w}\" y2=\"0\" stroke=\"#d0d7de\"/>\
         <polyline fill=\"none\" stroke=\"#1a7f37\" stroke-width=\"2\" points=\"{}\"/></svg>",
        points.join(" ")
    )
}

/// The self-contained HTML page.
pub fn html(ops: &BTreeMap<String, OpReport>, sources: &[PathBuf]) -> String {
    html_as(ops, sources, &Sides::default())
}

/// The self-contained HTML page, with the sides called as `sides` says.
pub fn html_as(ops: &BTreeMap<String, OpReport>, sources: &[PathBuf], sides: &Sides) -> String {
    let mut out = String::from(
        "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>ficus shadow report</title><style>\
         body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#1f2328}h1{font-size:20px}h2{font-size:16px;margin-top:2em}\
         table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:left}\
         th{background:#f6f8fa}.num{text-align:right}.bad{color:#cf222e}.ok{color:#1a7f37}code{font-size:13px}</style>",
    );
    let _ = write!(
        out,
        "<h1>Shadow report</h1><p>From {}.</p>",
        esc(&sources.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))
    );
    let _ = write!(
        out,
        "<table><tr><th>operation</th><th>compared</th><th>matched</th><th>match rate</th><th>{} errors</th><th>{} p50 / p99</th><th>{} p50 / p99</th></tr>",
        esc(&sides.shadow), esc(&sides.legacy), esc(&sides.new)
    );
    for (name, op) in ops {
        let class = if op.match_rate() >= 0.999 { "ok" } else { "bad" };
        let lat = |v: &[f64]| format!("{:.1} / {:.1} ms", percentile(v, 0.5), percentile(v, 0.99));
        let legacy_lat = if sides.legacy_timed { lat(&op.legacy_ms) } else { "-".into() };
        let _ = write!(
            out,
            "<tr><td><a href=\"#{0}\">{0}</a></td><td class=num>{1}</td><td class=num>{2}</td><td class=\"num {3}\">{4}</td><td class=num>{5}</td><td>{6}</td><td>{7}</td></tr>",
            esc(name), op.compared, op.matched, class, rate_text(op), op.errors, legacy_lat, lat(&op.new_ms)
        );
    }
    out.push_str("</table>");
    for (name, op) in ops {
        let _ = write!(out, "<h2 id=\"{0}\">{0}</h2><p>Match rate over time</p>{1}", esc(name), chart(&op.timeline));
        if !op.fields.is_empty() {
            out.push_str(
                "<p>Fields that differ. <b>Noise</b> is a field the primary itself answers differently for \
                 the same request; the rest are ",
            );
            let _ = write!(
                out,
                "{}.</p><table><tr><th>field</th><th>messages</th><th>verdict</th>\
                 <th>delta or suggestion</th><th>why</th></tr>",
                esc(&sides.findings)
            );
            for f in op.fields.iter().take(15) {
                let (verdict, class) = if f.class.is_noise() { ("noise", "ok") } else { ("finding", "bad") };
                let detail = f.suggest().or_else(|| f.delta.clone()).unwrap_or_default();
                let _ = write!(
                    out,
                    "<tr><td><code>{}</code></td><td class=num>{}</td><td class={class}>{verdict}: {}</td>\
                     <td><code>{}</code></td><td>{}</td></tr>",
                    esc(field_name(&f.field)),
                    f.mismatches,
                    f.class.name(),
                    esc(&detail),
                    esc(&f.why)
                );
            }
            out.push_str("</table>");
            let examples: Vec<_> =
                op.fields.iter().filter(|f| !f.class.is_noise()).flat_map(|f| f.examples.iter()).collect();
            if !examples.is_empty() {
                out.push_str("<p>Findings, by example</p><table><tr><th>field</th><th>message</th><th>request</th>");
                let _ = write!(out, "<th>primary</th><th>{}</th></tr>", esc(&sides.shadow));
                for e in examples {
                    let _ = write!(
                        out,
                        "<tr><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td>\
                         <td><code>{}</code></td><td><code>{}</code></td></tr>",
                        esc(field_name(&e.path)),
                        esc(e.id.as_deref().unwrap_or("-")),
                        esc(e.key.as_deref().unwrap_or("-")),
                        esc(&format!("{}: {}", sides.primary_of(e.id.as_deref()), show(&e.primary))),
                        esc(&show(&e.shadow))
                    );
                }
                out.push_str("</table>");
            }
        }
        for ex in &op.examples {
            let _ = write!(
                out,
                "<p>Message <code>{}</code></p><table><tr><th>field</th><th>{}</th><th>{}</th></tr>",
                esc(ex.id.as_deref().unwrap_or("-")),
                esc(&sides.legacy),
                esc(&sides.new)
            );
            for d in &ex.diffs {
                let _ = write!(
                    out,
                    "<tr><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                    esc(field_name(&d.path)),
                    esc(&show(&d.legacy)),
                    esc(&show(&d.new))
                );
            }
            out.push_str("</table>");
        }
    }
    out.push_str("</html>\n");
    out
}
