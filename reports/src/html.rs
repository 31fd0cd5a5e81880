//! The page: header (scenario, seed, the failure story, verdict per checker, repro, key stats,
//! evidence), then the sections, with the inline stylesheet and script.
use crate::load::Results;
use crate::svg::esc;
use serde_json::Value;
use std::fmt::Write;

const CSS: &str = include_str!("report.css");
const JS: &str = include_str!("report.js");
/// Collects errors from the first moment, for the `#selftest` hook.
pub(crate) const EARLY_JS: &str = "window.__errors=[];window.addEventListener('error',function(e){window.__errors.push(String(e.message||e))});(function(){var ce=console.error;console.error=function(){window.__errors.push(Array.prototype.join.call(arguments,' '));ce.apply(console,arguments)}})();";

pub struct Section {
    pub id: &'static str,
    pub title: String,
    pub body: String,
}

fn verdict_class(v: &str) -> &'static str {
    match v {
        "valid" => "v-valid",
        "invalid" => "v-invalid",
        _ => "v-unknown",
    }
}

/// Stats in a person's order; any others after them, by name.
const STATS: [(&str, &str); 14] = [
    ("ops", "operations"),
    ("ok", "ok"),
    ("fail", "fail"),
    ("info", "info"),
    ("leaders_elected", "leaders elected"),
    ("snapshots_taken", "snapshots taken"),
    ("snapshots_installed", "snapshots installed"),
    ("crashes", "crashes"),
    ("disk_losses", "disk losses"),
    ("unavailable_seconds", "unavailable s"),
    ("longest_unavailable_seconds", "longest unavailable s"),
    ("unavailable_windows", "unavailable windows (s)"),
    ("sim_seconds", "simulated s"),
    ("wall_seconds", "wall s"),
];

fn stat_text(v: &Value) -> String {
    match v {
        Value::Number(n) if n.is_f64() => crate::svg::num(n.as_f64().unwrap_or(0.0), 2),
        Value::String(s) => s.clone(),
        // Windows as "start–end" pairs.
        Value::Array(items) if items.iter().all(Value::is_array) => items
            .iter()
            .map(|w| {
                let part = |i: usize| w.get(i).map_or(String::new(), stat_text);
                format!("{}–{}", part(0), part(1))
            })
            .collect::<Vec<_>>()
            .join(", "),
        v => v.to_string(),
    }
}

pub fn header(r: &Results, missing: &[&str]) -> String {
    let mut out = format!(
        r#"<header><h1>{} <span class="seed">seed {}</span></h1><span class="verdict {}">{}</span></header>"#,
        esc(&r.scenario),
        r.seed,
        verdict_class(&r.verdict),
        esc(&r.verdict.to_uppercase())
    );
    if let Some(story) = &r.story {
        let _ = write!(
            out,
            r#"<div class="story" id="story"><p>{}</p>"#,
            esc(&story.text)
        );
        for cmd in &story.commands {
            let _ = write!(out, r#"<p class="repro"><code>{}</code></p>"#, esc(cmd));
        }
        out.push_str("</div>");
    }
    out.push_str("<table class=\"checkers\">");
    for (name, c) in &r.checkers {
        let link = if c.data.is_some() {
            format!(r##" <a href="#checker-{}">details ▸</a>"##, esc(name))
        } else {
            String::new()
        };
        let _ = write!(
            out,
            r#"<tr><td class="name">{}</td><td><span class="badge {}">{}</span></td><td>{}{link}</td></tr>"#,
            esc(name),
            verdict_class(&c.verdict),
            esc(&c.verdict),
            esc(&c.detail)
        );
    }
    out.push_str("</table>");
    let _ = write!(
        out,
        r#"<p class="repro">repro: <code>{}</code></p><div class="stats">"#,
        esc(&r.repro)
    );
    let mut tile = |label: &str, value: String| stat_tile(&mut out, label, &value);
    for (key, label) in STATS {
        if let Some(v) = r.stats.get(key) {
            tile(label, stat_text(v));
        }
    }
    for (key, v) in &r.stats {
        if !STATS.iter().any(|(k, _)| k == key) {
            tile(&key.replace('_', " "), stat_text(v));
        }
    }
    out.push_str("</div>");
    if !r.evidence.is_empty() {
        out.push_str("<ul class=\"evidence\">");
        for (fact, held) in &r.evidence {
            let _ = write!(
                out,
                r#"<li class="{}">{} {}</li>"#,
                if *held { "held" } else { "missing" },
                if *held { "✓" } else { "✗" },
                esc(fact)
            );
        }
        out.push_str("</ul>");
    }
    if !missing.is_empty() {
        let _ = write!(
            out,
            r#"<p class="warn">Not in the run directory: {}; the report shows what the other files hold.</p>"#,
            esc(&missing.join(", "))
        );
    }
    out
}

pub fn page(r: &Results, header: &str, sections: &[Section]) -> String {
    let mut nav = String::new();
    for s in sections {
        let _ = write!(nav, r##"<a href="#{}">{}</a>"##, s.id, esc(&s.title));
    }
    let mut body = String::new();
    for s in sections {
        let _ = write!(
            body,
            r#"<section id="{}"><h2>{}</h2>{}</section>"#,
            s.id,
            esc(&s.title),
            s.body
        );
    }
    format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{} seed {}: {}</title><script>{EARLY_JS}</script><style>{CSS}</style></head>
<body><main>{header}<nav>{nav}</nav>{body}<footer>snapstorm report, made from results.json, history.jsonl, trace.jsonl and nemesis.jsonl; regenerate with <code>snapstorm report DIR</code>. Times are simulated.</footer></main>
<script>{JS}</script></body></html>
"#,
        esc(&r.scenario),
        r.seed,
        esc(&r.verdict)
    )
}
/// One headline number with its label, as both pages show them.
pub(crate) fn stat_tile(out: &mut String, label: &str, value: &str) {
    let _ = write!(
        out,
        r#"<div class="stat"><div class="value">{}</div><div class="label">{}</div></div>"#,
        esc(value),
        esc(label)
    );
}
