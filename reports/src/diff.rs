//! The data of the snapshot and invariant checkers: a node, a log index and
//! the keys whose values differ.
use crate::load::{TraceEvent, TraceLine};
use crate::snapshots::Pin;
use crate::svg::{esc, fmt_time};
use serde::Deserialize;
use serde_json::Value;
use std::fmt::Write;

/// The shape the snapshot and invariant checkers give their data.
#[derive(Deserialize)]
pub struct NodeDiff {
    node: u64,
    index: u64,
    #[serde(default)]
    term: Option<u64>,
    #[serde(default)]
    diff: Vec<DiffRow>,
}

#[derive(Deserialize)]
struct DiffRow {
    key: Value,
    #[serde(default)]
    expected: Value,
    #[serde(default)]
    actual: Value,
}

impl NodeDiff {
    /// The node, index and term, a jump to where the node reached that
    /// index (pinned on its snapshot lifecycle), and the first differing keys.
    pub fn render(&self, trace: &[TraceLine], pins: &mut Vec<Pin>, name: &str) -> String {
        let d = self;
        let term = d.term.map(|t| format!(", term {t}")).unwrap_or_default();
        let mut out = format!(
            "<p>Node <b>n{}</b>, index <b>{}</b>{term}: {} differing key{}.</p>",
            d.node,
            d.index,
            d.diff.len(),
            if d.diff.len() == 1 { "" } else { "s" }
        );
        // Where the node reached that index: a snapshot event first, else the apply.
        let at = |snapshot: bool| {
            trace.iter().find(|r| {
                r.node == d.node
                    && match &r.event {
                        TraceEvent::SnapshotCreated { index, .. }
                        | TraceEvent::SnapshotInstalled { index, .. }
                        | TraceEvent::Restored { index, .. } => snapshot && *index == d.index,
                        TraceEvent::Apply { index } => !snapshot && *index == d.index,
                        _ => false,
                    }
            })
        };
        if let Some(r) = at(true).or_else(|| at(false)) {
            let _ = write!(
                out,
                r##"<p><a class="jump" href="#pin-{}">Show n{} at index {} on the snapshot lifecycle ▸</a> ({})</p>"##,
                pins.len(),
                d.node,
                d.index,
                fmt_time(r.time)
            );
            pins.push(Pin {
                node: d.node,
                time: r.time,
                text: format!("{name}: index {}", d.index),
            });
        }
        if !d.diff.is_empty() {
            out.push_str(
                "<table class=\"cx-table\"><tr><th>key</th><th>expected</th><th>actual</th></tr>",
            );
            for row in d.diff.iter().take(20) {
                let show = |v: &Value| match v {
                    Value::String(s) => s.clone(),
                    v => v.to_string(),
                };
                let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td><code>{}</code></td><td><code>{}</code></td></tr>",
                esc(&show(&row.key)),
                esc(&show(&row.expected)),
                esc(&show(&row.actual))
            );
            }
            out.push_str("</table>");
            if d.diff.len() > 20 {
                let _ = write!(
                    out,
                    "<p class=\"note\">first 20 of {} keys shown</p>",
                    d.diff.len()
                );
            }
        }
        out
    }
}
