//! What failed: the linearizability counterexample (key, longest linearizable
//! prefix, the operations that could not be placed, drawn on their own and
//! marked on the timeline), the node/index/diff of snapshot and invariant
//! checkers, and any checker's data as JSON.
use crate::diff;
use crate::load::{CheckerResult, TraceLine};
use crate::ops::Op;
use crate::snapshots::Pin;
use crate::svg::{esc, fmt_time, px, GUTTER, RIGHT, WIDTH};
use crate::timeline::Marks;
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

/// The checkers' `Counterexample` (`checkers::linearizability`), leniently.
#[derive(Deserialize)]
struct Counterexample {
    #[serde(default)]
    partition: Option<String>,
    ops: Vec<CxOp>,
    longest_prefix: Vec<usize>,
    #[serde(default)]
    state_after_prefix: String,
    stuck: Vec<Stuck>,
    /// The state before the first covered prefix operation, then after each
    /// to the end of the prefix (newer checkers; may be empty).
    #[serde(default)]
    prefix_states: Vec<String>,
    /// Porcupine's partial linearizations of operations left out of the
    /// prefix (newer checkers; may be empty).
    #[serde(default)]
    partials: Vec<Partial>,
}

#[derive(Deserialize)]
struct Partial {
    op: usize,
    linearization: Vec<usize>,
}

impl Counterexample {
    /// ` data-partial="a b c"`: the longest partial linearization the checker
    /// found that includes operation `id` (empty when none does), for hover;
    /// nothing when the checker did not look for one.
    fn partial_attr(&self, id: usize) -> String {
        match self.partials.iter().find(|p| p.op == id) {
            Some(p) => {
                let ids: Vec<String> = p.linearization.iter().map(usize::to_string).collect();
                format!(r#" data-partial="{}""#, ids.join(" "))
            }
            None => String::new(),
        }
    }

    /// The model state before and after the prefix operation at `position`,
    /// when the checker recorded it.
    fn states_at(&self, position: usize) -> Option<(&str, &str)> {
        let from = (self.longest_prefix.len() + 1).checked_sub(self.prefix_states.len())?;
        let i = position.checked_sub(from)?;
        Some((
            self.prefix_states.get(i)?.as_str(),
            self.prefix_states.get(i + 1)?.as_str(),
        ))
    }
}

#[derive(Deserialize)]
struct CxOp {
    id: usize,
    process: u64,
    f: String,
    #[serde(default)]
    value_in: String,
    #[serde(default)]
    value_out: Option<String>,
    call: u64,
    ret: Option<u64>,
}

impl CxOp {
    /// Without the key, which the diagram already names.
    fn short(&self, key: Option<&str>) -> String {
        let quoted = key.map(|k| format!("{k:?}"));
        let input = match quoted.as_deref() {
            Some(q) => self
                .value_in
                .strip_prefix(q)
                .unwrap_or(&self.value_in)
                .trim_start(),
            None => &self.value_in,
        };
        format!(
            "{} {input} → {}",
            self.f,
            self.value_out.as_deref().unwrap_or("?")
        )
    }

    fn text(&self) -> String {
        format!(
            "{} {} → {}",
            self.f,
            self.value_in,
            self.value_out.as_deref().unwrap_or("?")
        )
    }
}

#[derive(Deserialize)]
struct Stuck {
    op: usize,
    reason: String,
}

pub struct Failures {
    /// HTML of the failure sections, empty when nothing failed with data.
    pub html: String,
    pub marks: Marks,
    pub pins: Vec<Pin>,
}

/// Diagram and tables show at most this many prefix operations.
const PREFIX_SHOWN: usize = 8;
/// Pretty JSON beyond this many bytes is cut.
const JSON_LIMIT: usize = 100_000;
/// The diagram shows at most this many operations.
const DIAGRAM_MAX: usize = 60;

pub fn analyse(
    checkers: &BTreeMap<String, CheckerResult>,
    ops: &[Op],
    trace: &[TraceLine],
    nodes: &BTreeSet<u64>,
) -> Failures {
    let mut f = Failures {
        html: String::new(),
        marks: Marks::default(),
        pins: Vec::new(),
    };
    for (name, c) in checkers {
        let Some(data) = &c.data else { continue };
        let _ = write!(
            f.html,
            r#"<section class="failure" id="checker-{}"><h2>{}: {}</h2><p class="detail">{}</p>"#,
            esc(name),
            esc(name),
            esc(&c.verdict),
            esc(&c.detail)
        );
        if let Ok(cx) = Counterexample::deserialize(data) {
            f.html.push_str(&linearizability(&cx, ops, &mut f.marks));
        } else if let Some(entries) = diff::entries(data) {
            f.html
                .push_str(&diff::render(&entries, trace, nodes, &mut f.pins, name));
        }
        let mut json = serde_json::to_string_pretty(data).unwrap_or_default();
        if json.len() > JSON_LIMIT {
            let mut cut = JSON_LIMIT;
            while !json.is_char_boundary(cut) {
                cut -= 1;
            }
            json.truncate(cut);
            json.push_str("\n… (cut; see results.json)");
        }
        let _ = write!(
            f.html,
            "<details><summary>{} data (JSON)</summary><pre class=\"json\">{}</pre></details></section>",
            esc(name),
            esc(&json)
        );
    }
    f
}

/// Finds each counterexample operation in the history by process, call time
/// and function: position in `ops` by counterexample id.
fn locate(cx: &Counterexample, ops: &[Op]) -> BTreeMap<usize, usize> {
    let mut by_call: BTreeMap<(u64, u64), Vec<usize>> = BTreeMap::new();
    for (i, op) in ops.iter().enumerate() {
        if cx.partition.as_deref().is_none_or(|k| k == op.key) {
            by_call.entry((op.process, op.call)).or_default().push(i);
        }
    }
    let mut used = BTreeSet::new();
    let mut out = BTreeMap::new();
    for c in &cx.ops {
        let found = by_call.get(&(c.process, c.call)).and_then(|v| {
            v.iter()
                .copied()
                .find(|&i| ops[i].f == c.f && !used.contains(&i))
        });
        if let Some(i) = found {
            used.insert(i);
            out.insert(c.id, i);
        }
    }
    out
}

fn linearizability(cx: &Counterexample, ops: &[Op], marks: &mut Marks) -> String {
    let by_id: BTreeMap<usize, &CxOp> = cx.ops.iter().map(|o| (o.id, o)).collect();
    let at = locate(cx, ops);
    let stuck: BTreeSet<usize> = cx.stuck.iter().map(|s| s.op).collect();
    for id in &cx.longest_prefix {
        if let Some(&i) = at.get(id) {
            marks.classes.insert(i, "cxp");
        }
    }
    for id in &stuck {
        if let Some(&i) = at.get(id) {
            marks.classes.insert(i, "cxs");
        }
    }
    // The first error: the stuck operation invoked first.
    let first = cx
        .stuck
        .iter()
        .filter_map(|s| by_id.get(&s.op))
        .min_by_key(|o| (o.call, o.id));
    marks.first_error = first.and_then(|o| at.get(&o.id).copied());
    // The window around the failure: the end of the prefix and the stuck ops.
    let tail = &cx.longest_prefix[cx.longest_prefix.len().saturating_sub(PREFIX_SHOWN)..];
    let focus: Vec<&CxOp> = tail
        .iter()
        .chain(stuck.iter())
        .filter_map(|id| by_id.get(id).copied())
        .collect();
    let t0 = focus.iter().map(|o| o.call).min().unwrap_or(0);
    let t1 = focus
        .iter()
        .map(|o| o.ret.unwrap_or(o.call))
        .max()
        .unwrap_or(t0)
        .max(t0.saturating_add(1));
    let key = cx.partition.as_deref().unwrap_or("(whole history)");
    let mut out = String::new();
    let target = match marks.first_error {
        Some(i) => format!("op-{}", ops[i].index),
        None => "cx-diagram".to_string(),
    };
    out.push_str(r#"<div id="counterexample">"#);
    let _ = write!(
        out,
        r##"<p><a id="jump-first-error" class="jump" href="#{target}" data-a="{t0}" data-b="{t1}">Jump to first error on the timeline ▸</a></p>
<p>Key <code>{}</code>: the first {} of its {} operations linearize (in the order numbered below), leaving the state <code>{}</code>. {}</p>"##,
        esc(key),
        cx.longest_prefix.len(),
        cx.ops.len(),
        esc(&cx.state_after_prefix),
        match cx.stuck.len() {
            1 => "The one operation that real time allows next cannot be placed after them."
                .to_string(),
            n => format!(
                "None of the {n} operations that real time allows next can be placed after them."
            ),
        }
    );
    out.push_str(&diagram(cx, &by_id, &stuck, t0, t1));
    out.push_str(r#"<div id="cx-hover" class="cx-hover">Hover an operation above: its place in the linearization (the partial linearization up to it is outlined) and the model state before and after it.</div>"#);
    out.push_str("<h3>Operations that could not be placed</h3><table class=\"cx-table\"><tr><th>op</th><th>operation</th><th>process</th><th>invoked</th><th>completed</th><th>why not</th></tr>");
    for s in &cx.stuck {
        let Some(o) = by_id.get(&s.op) else { continue };
        let _ = write!(
            out,
            "<tr class=\"stuck\"><td>{}</td><td><code>{}</code></td><td>p{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            op_link(o.id),
            esc(&o.text()),
            o.process,
            fmt_time(o.call),
            o.ret.map(fmt_time).unwrap_or_else(|| "never (indeterminate)".into()),
            esc(&s.reason)
        );
    }
    out.push_str("</table>");
    let _ = write!(
        out,
        "<h3>End of the longest linearizable prefix ({} of {})</h3><table class=\"cx-table\"><tr><th>place</th><th>op</th><th>operation</th><th>process</th><th>invoked</th><th>completed</th><th>state before</th><th>state after</th></tr>",
        tail.len(),
        cx.longest_prefix.len()
    );
    let base = cx.longest_prefix.len() - tail.len();
    for (i, id) in tail.iter().enumerate() {
        let Some(o) = by_id.get(id) else { continue };
        let (before, after) = cx.states_at(base + i).unwrap_or(("?", "?"));
        let _ = write!(
            out,
            "<tr><td>{}.</td><td>{}</td><td><code>{}</code></td><td>p{}</td><td>{}</td><td>{}</td><td><code>{}</code></td><td><code>{}</code></td></tr>",
            base + i + 1,
            op_link(o.id),
            esc(&o.text()),
            o.process,
            fmt_time(o.call),
            o.ret.map(fmt_time).unwrap_or_else(|| "never".into()),
            esc(before),
            esc(after)
        );
    }
    out.push_str("</table></div>");
    out
}

/// `op N`, linking to the operation's bar on the timeline (`op-N`: the
/// counterexample and the timeline both number an operation by its
/// invocation's index in history.jsonl).
fn op_link(id: usize) -> String {
    format!(r##"<a class="oplink" href="#op-{id}">op {id}</a>"##)
}

/// The operations on the key around the failure, one lane per process,
/// prefix operations numbered in linearization order, stuck ones in red.
fn diagram(
    cx: &Counterexample,
    by_id: &BTreeMap<usize, &CxOp>,
    stuck: &BTreeSet<usize>,
    t0: u64,
    t1: u64,
) -> String {
    let order: BTreeMap<usize, usize> = cx
        .longest_prefix
        .iter()
        .enumerate()
        .map(|(i, &id)| (id, i + 1))
        .collect();
    let mut shown: Vec<&CxOp> = by_id
        .values()
        .copied()
        .filter(|o| o.call <= t1 && o.ret.is_none_or(|r| r >= t0))
        .collect();
    if shown.len() > DIAGRAM_MAX {
        let tail: BTreeSet<usize> = cx.longest_prefix
            [cx.longest_prefix.len().saturating_sub(PREFIX_SHOWN)..]
            .iter()
            .copied()
            .collect();
        shown.retain(|o| stuck.contains(&o.id) || tail.contains(&o.id));
    }
    // Ordinal x: every call and return gets its own slot, so real-time order
    // is exact and short operations stay readable.
    let times: Vec<u64> = shown
        .iter()
        .flat_map(|o| [o.call, o.ret.unwrap_or(t1)])
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let slot_w = WIDTH / times.len().max(1) as f64;
    let slot = |t: u64| times.partition_point(|&x| x < t) as f64;
    let lanes: BTreeMap<u64, usize> = shown
        .iter()
        .map(|o| o.process)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .enumerate()
        .map(|(i, p)| (p, i))
        .collect();
    const LANE: f64 = 26.0;
    let h = 24.0 + lanes.len() as f64 * LANE + 10.0;
    let w = GUTTER + WIDTH + RIGHT;
    let mut out = format!(
        r#"<svg id="cx-diagram" class="plot" width="{w}" height="{h}" viewBox="0 0 {w} {h}"><text class="tick" x="{GUTTER}" y="14">The key's operations around the failure, {} – {}: left to right in real-time order of calls and returns (not to scale); n. is the operation's place in the linearization, op N (on hover) its number in history.jsonl.</text>"#,
        fmt_time(t0),
        fmt_time(t1),
        h = px(h)
    );
    for (p, i) in &lanes {
        let _ = write!(
            out,
            r#"<text class="rowlbl" x="{}" y="{}" text-anchor="end">p{p}</text>"#,
            px(GUTTER - 6.0),
            px(24.0 + *i as f64 * LANE + 16.0)
        );
    }
    for o in &shown {
        let x0 = GUTTER + slot(o.call) * slot_w + 2.0;
        let x1 = match o.ret {
            Some(r) => GUTTER + (slot(r) + 1.0) * slot_w - 2.0,
            None => GUTTER + WIDTH,
        };
        let y = 24.0 + lanes[&o.process] as f64 * LANE + 2.0;
        let n = cx.longest_prefix.len();
        // What hovering shows: the place in the linearization and the model
        // state before and after (for a stuck one, the state it failed in).
        let (class, prefix, why, data) = if stuck.contains(&o.id) {
            let reason = cx
                .stuck
                .iter()
                .find(|s| s.op == o.id)
                .map(|s| s.reason.as_str())
                .unwrap_or("");
            let data = format!(
                r#" data-n="{}" data-before="{}" data-why="{}"{}"#,
                n + 1,
                esc(&cx.state_after_prefix),
                esc(reason),
                cx.partial_attr(o.id)
            );
            ("cx-stuck", "✗ ".to_string(), format!(": {reason}"), data)
        } else if let Some(&k) = order.get(&o.id) {
            let data = match cx.states_at(k - 1) {
                Some((b, a)) => format!(
                    r#" data-n="{k}" data-before="{}" data-after="{}""#,
                    esc(b),
                    esc(a)
                ),
                None => format!(r#" data-n="{k}""#),
            };
            let states = cx
                .states_at(k - 1)
                .map(|(b, a)| format!("; state {b} → {a}"))
                .unwrap_or_default();
            ("cx-prefix", format!("{k}. "), states, data)
        } else {
            let data = format!(r#" data-n="0"{}"#, cx.partial_attr(o.id));
            (
                "cx-later",
                String::new(),
                " (not reached)".to_string(),
                data,
            )
        };
        let _ = write!(
            out,
            r#"<svg x="{}" y="{}" width="{}" height="{}" class="cx-op {class}" data-id="{}" data-op="{}"{data}><rect width="100%" height="100%" rx="3"/><text x="4" y="15">{}</text><title>op {} p{} {}{}, {} – {}</title></svg>"#,
            px(x0),
            px(y),
            px(x1 - x0),
            LANE - 4.0,
            o.id,
            esc(&o.text()),
            esc(&format!("{prefix}{}", o.short(cx.partition.as_deref()))),
            o.id,
            o.process,
            esc(&o.text()),
            esc(&why),
            fmt_time(o.call),
            o.ret.map(fmt_time).unwrap_or_else(|| "never".into())
        );
    }
    out.push_str("</svg>");
    out
}
