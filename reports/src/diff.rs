//! The data of the snapshot, restore and other invariant checkers: a list of
//! violations, each at a node and log index, with the keys whose values
//! differ (`checkers::invariants::Violation`), or one such object (the older
//! shape). Every entry is shown with its table and a pin on the node's
//! snapshot lifecycle that a "jump to" link lands on.
use crate::load::{TraceEvent, TraceLine};
use crate::snapshots::Pin;
use crate::svg::{esc, fmt_time};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeSet;
use std::fmt::Write;

/// Entries shown; the rest are counted in a note (and are in the JSON).
pub const ENTRIES_SHOWN: usize = 20;
/// Differing keys shown per entry.
const ROWS_SHOWN: usize = 20;

/// One violation, leniently: every field but one of `node` or `message` may
/// be absent.
#[derive(Deserialize)]
pub struct Entry {
    #[serde(default)]
    node: Option<u64>,
    #[serde(default)]
    index: Option<u64>,
    #[serde(default)]
    term: Option<u64>,
    /// Simulated time of the event that shows it, when the checker knows.
    #[serde(default)]
    time: Option<u64>,
    #[serde(default)]
    message: String,
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

impl Entry {
    fn located(&self) -> bool {
        self.node.is_some() || !self.message.is_empty()
    }
}

/// The entries of a checker's data, if it has this shape: a non-empty list
/// of violations, or one object with a node.
pub fn entries(data: &Value) -> Option<Vec<Entry>> {
    match data {
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|v| Entry::deserialize(v).ok().filter(|e| e.located()))
            .collect(),
        Value::Object(_) => Entry::deserialize(data)
            .ok()
            .filter(|e| e.node.is_some())
            .map(|e| vec![e]),
        _ => None,
    }
}

/// Where `node` reached `index`: a snapshot event first, else the apply.
fn reached(trace: &[TraceLine], node: u64, index: u64) -> Option<u64> {
    let at = |snapshot: bool| {
        trace.iter().find(|r| {
            r.node == node
                && match &r.event {
                    TraceEvent::SnapshotCreated { index: i, .. }
                    | TraceEvent::SnapshotInstalled { index: i, .. }
                    | TraceEvent::Restored { index: i, .. } => snapshot && *i == index,
                    TraceEvent::Apply { index: i } => !snapshot && *i == index,
                    _ => false,
                }
        })
    };
    at(true).or_else(|| at(false)).map(|r| r.time)
}

/// A value as the checker recorded it (whole, or its ends and length when
/// long); `null` is a key the state does not have.
fn value(v: &Value) -> String {
    match v {
        Value::Null => r#"<i class="absent">absent</i>"#.to_string(),
        Value::String(s) => format!("<code>{}</code>", esc(s)),
        v => format!("<code>{}</code>", esc(&v.to_string())),
    }
}

/// Renders every entry (the first [`ENTRIES_SHOWN`]); pins go on the
/// lifecycle panels of `nodes`. `name` is the checker's.
pub fn render(
    entries: &[Entry],
    trace: &[TraceLine],
    nodes: &BTreeSet<u64>,
    pins: &mut Vec<Pin>,
    name: &str,
) -> String {
    let mut out = String::new();
    if entries.len() > 1 {
        let _ = write!(
            out,
            "<p>{} violations{}.</p>",
            entries.len(),
            if entries.len() > ENTRIES_SHOWN {
                format!(", the first {ENTRIES_SHOWN} shown")
            } else {
                String::new()
            }
        );
    }
    for (i, e) in entries.iter().take(ENTRIES_SHOWN).enumerate() {
        let _ = write!(
            out,
            r#"<div class="violation" id="{}-{}">"#,
            esc(name),
            i + 1
        );
        let numbered = if entries.len() > 1 {
            format!("#{} ", i + 1)
        } else {
            String::new()
        };
        let node = e.node.map(|n| format!("Node <b>n{n}</b>"));
        let index = e.index.map(|x| format!("index <b>{x}</b>"));
        let term = e.term.map(|t| format!("term {t}"));
        let place: Vec<String> = [node, index, term].into_iter().flatten().collect();
        let keys = if e.diff.is_empty() {
            String::new()
        } else {
            format!(
                ": {} differing key{}",
                e.diff.len(),
                if e.diff.len() == 1 { "" } else { "s" }
            )
        };
        let _ = write!(out, "<p>{numbered}{}{keys}.</p>", place.join(", "));
        if !e.message.is_empty() {
            let _ = write!(out, r#"<p class="detail">{}</p>"#, esc(&e.message));
        }
        let time = e
            .time
            .or_else(|| e.node.zip(e.index).and_then(|(n, x)| reached(trace, n, x)));
        if let (Some(n), Some(t)) = (e.node, time) {
            if nodes.contains(&n) {
                let at = e
                    .index
                    .map(|x| format!(" at index {x}"))
                    .unwrap_or_default();
                let _ = write!(
                    out,
                    r##"<p><a class="jump" href="#pin-{}">Jump to n{n}{at} on the snapshot lifecycle ▸</a> ({})</p>"##,
                    pins.len(),
                    fmt_time(t)
                );
                pins.push(Pin {
                    node: n,
                    time: t,
                    label: if entries.len() > 1 {
                        format!("{name} #{}", i + 1)
                    } else {
                        format!("{name}{at}")
                    },
                    text: format!("{name} {numbered}n{n}{at}: {}", e.message)
                        .trim_end_matches([':', ' '])
                        .to_string(),
                });
            }
        }
        if !e.diff.is_empty() {
            out.push_str(
                "<table class=\"cx-table\"><tr><th>key</th><th>expected</th><th>actual</th></tr>",
            );
            for row in e.diff.iter().take(ROWS_SHOWN) {
                let key = match &row.key {
                    Value::String(s) => s.clone(),
                    v => v.to_string(),
                };
                let _ = write!(
                    out,
                    "<tr><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                    esc(&key),
                    value(&row.expected),
                    value(&row.actual)
                );
            }
            out.push_str("</table>");
            if e.diff.len() > ROWS_SHOWN {
                let _ = write!(
                    out,
                    "<p class=\"note\">first {ROWS_SHOWN} of {} keys shown</p>",
                    e.diff.len()
                );
            }
        }
        out.push_str("</div>");
    }
    out
}
