//! What the trace says about each node's log and snapshots, gathered for
//! the snapshot lifecycle drawing: index series, markers merged per pixel
//! column, counts, and snapshot transfers from sender to installer.
use crate::load::{TraceEvent, TraceLine};
use crate::nodes::NodeLife;
use crate::svg::{fmt_time, Scale};
use std::collections::BTreeMap;

/// The marker rows of each node's panel.
pub const ROWS: [&str; 5] = ["taken", "sent", "received", "restored", "up/down"];

/// A marker: merged with others of its row and shape on one pixel column.
pub struct Mark {
    pub count: u64,
    /// The first event's description.
    pub title: String,
    pub x: f64,
    pub class: &'static str,
}

#[derive(Default)]
pub struct Marks {
    /// By (row, shape, pixel column).
    pub at: BTreeMap<(usize, &'static str, i64), Mark>,
}

impl Marks {
    fn add(&mut self, row: usize, shape: &'static str, x: f64, class: &'static str, title: String) {
        let m = self
            .at
            .entry((row, shape, x.floor() as i64))
            .or_insert(Mark {
                count: 0,
                title,
                x,
                class,
            });
        m.count += 1;
    }
}

/// Per node counters for the summary table.
#[derive(Default)]
pub struct Counts {
    pub taken: u64,
    pub sent: u64,
    pub chunks_sent: u64,
    pub chunks_received: u64,
    pub installed: u64,
    pub rejected: u64,
    pub fast_forward: u64,
    pub restored: u64,
    pub max_log: u64,
}

/// A node's log at one time.
#[derive(Clone, Copy, PartialEq)]
pub struct Point {
    pub time: u64,
    /// Last log index.
    pub last: u64,
    /// Index of the latest snapshot.
    pub snap: u64,
    /// Entries in the log.
    pub len: u64,
}

/// Everything drawn, by node.
pub struct Lifecycle {
    pub series: BTreeMap<u64, Vec<Point>>,
    /// Keyed by panel * 100 + row.
    pub marks: Marks,
    pub counts: BTreeMap<u64, Counts>,
    /// Completed transfers: (from, sent at, to, installed at).
    pub xfers: Vec<(u64, u64, u64, u64)>,
}

pub fn collect(trace: &[TraceLine], lives: &BTreeMap<u64, NodeLife>, scale: &Scale) -> Lifecycle {
    let nodes: Vec<u64> = lives.keys().copied().collect();
    let panel = |node: u64| nodes.iter().position(|&n| n == node);
    let mut series: BTreeMap<u64, Vec<Point>> = BTreeMap::new();
    let mut marks = Marks::default();
    let mut counts: BTreeMap<u64, Counts> = nodes.iter().map(|&n| (n, Counts::default())).collect();
    let mut state: BTreeMap<u64, (u64, u64, u64)> = BTreeMap::new(); // first, last, snap
    let mut sends: Vec<(u64, u64, u64, u64)> = Vec::new(); // from, to, index, time
    let mut xfers: Vec<(u64, u64, u64, u64)> = Vec::new(); // from, t0, to, t1
    for r in trace {
        let Some(p) = panel(r.node) else { continue };
        let x = scale.x(r.time);
        let c = counts.entry(r.node).or_default();
        let st = state.entry(r.node).or_insert((1, 0, 0));
        let row = |name: &str| ROWS.iter().position(|r| *r == name).unwrap_or(0) + p * 100;
        match &r.event {
            TraceEvent::Boot {
                generation,
                recovering,
                snapshot_index,
                first_index,
                last_index,
            } => {
                *st = (*first_index, *last_index, *snapshot_index);
                let what = if *recovering { ", empty disk" } else { "" };
                marks.add(
                    row("up/down"),
                    "boot",
                    x,
                    "m-boot",
                    format!(
                        "n{} boot #{generation}{what} at {}",
                        r.node,
                        fmt_time(r.time)
                    ),
                );
            }
            TraceEvent::Persisted { last } => st.1 = *last,
            TraceEvent::Compacted {
                snapshot_index,
                first_index,
                last_index,
            } => *st = (*first_index, *last_index, *snapshot_index),
            TraceEvent::SnapshotCreated { index, term, size } => {
                c.taken += 1;
                marks.add(
                    row("taken"),
                    "tick",
                    x,
                    "m-taken",
                    format!(
                        "snapshot taken at index {index} (term {term}, {size} B), {}",
                        fmt_time(r.time)
                    ),
                );
            }
            TraceEvent::SnapshotSendStart { to, index, size } => {
                c.sent += 1;
                sends.push((r.node, *to, *index, r.time));
                marks.add(
                    row("sent"),
                    "tri",
                    x,
                    "m-sent",
                    format!(
                        "sending snapshot {index} ({size} B) to n{to}, {}",
                        fmt_time(r.time)
                    ),
                );
            }
            TraceEvent::SnapshotChunkSent {
                to,
                index,
                offset,
                len,
            } => {
                c.chunks_sent += 1;
                marks.add(
                    row("sent"),
                    "dot",
                    x,
                    "m-chunk",
                    format!(
                        "chunk of snapshot {index} to n{to}: bytes {offset}+{len}, {}",
                        fmt_time(r.time)
                    ),
                );
            }
            TraceEvent::SnapshotChunkReceived {
                from,
                index,
                offset,
                len,
                accepted,
                reason,
            } => {
                c.chunks_received += 1;
                let why = if *accepted {
                    String::new()
                } else {
                    format!(", refused: {reason}")
                };
                marks.add(
                    row("received"),
                    "dot",
                    x,
                    if *accepted { "m-chunk" } else { "m-bad" },
                    format!(
                        "chunk of snapshot {index} from n{from}: bytes {offset}+{len}{why}, {}",
                        fmt_time(r.time)
                    ),
                );
            }
            TraceEvent::SnapshotInstalled { from, index, size } => {
                c.installed += 1;
                snapshot_replaces_log(st, *index);
                if let Some(i) = sends
                    .iter()
                    .rposition(|s| s.0 == *from && s.1 == r.node && s.2 == *index)
                {
                    let s = sends.remove(i);
                    xfers.push((s.0, s.3, r.node, r.time));
                }
                marks.add(
                    row("received"),
                    "dia",
                    x,
                    "m-installed",
                    format!(
                        "installed snapshot {index} ({size} B) from n{from}, {}",
                        fmt_time(r.time)
                    ),
                );
            }
            TraceEvent::SnapshotRejected {
                from,
                index,
                reason,
            } => {
                c.rejected += 1;
                marks.add(
                    row("received"),
                    "cross",
                    x,
                    "m-bad",
                    format!(
                        "rejected snapshot {index} from n{from}: {reason}, {}",
                        fmt_time(r.time)
                    ),
                );
            }
            TraceEvent::SnapshotFastForward { index } => {
                c.fast_forward += 1;
                marks.add(
                    row("received"),
                    "ff",
                    x,
                    "m-ff",
                    format!(
                        "log already matched snapshot {index}: commit fast-forwarded, {}",
                        fmt_time(r.time)
                    ),
                );
            }
            TraceEvent::Restored { index, on_boot } => {
                c.restored += 1;
                snapshot_replaces_log(st, *index);
                let how = if *on_boot { "on boot" } else { "after install" };
                marks.add(
                    row("restored"),
                    if *on_boot { "circ" } else { "ring" },
                    x,
                    "m-restored",
                    format!(
                        "state machine restored from snapshot {index} {how}, {}",
                        fmt_time(r.time)
                    ),
                );
            }
            _ => continue,
        }
        let len = st.1.saturating_add(1).saturating_sub(st.0);
        c.max_log = c.max_log.max(len);
        let s = series.entry(r.node).or_default();
        if s.last().map(|l| (l.last, l.snap, l.len)) != Some((st.1, st.2, len)) {
            s.push(Point {
                time: r.time,
                last: st.1,
                snap: st.2,
                len,
            });
        }
    }
    for (node, life) in lives {
        let p = panel(*node).unwrap_or(0);
        for d in &life.downs {
            let (what, class) = match (&d.halted, d.disk_lost) {
                (Some(r), _) => (format!("halted: {r}"), "m-bad"),
                (None, true) => (
                    "crashed; came back on an empty disk (disk lost)".to_string(),
                    "m-disk",
                ),
                (None, false) => ("crashed".to_string(), "m-crash"),
            };
            marks.add(
                p * 100 + 4,
                if d.halted.is_some() {
                    "square"
                } else {
                    "cross"
                },
                scale.x(d.from),
                class,
                format!("n{node} {what}, {}", fmt_time(d.from)),
            );
        }
    }

    Lifecycle {
        series,
        marks,
        counts,
        xfers,
    }
}

/// A snapshot at `index` covers the log up to it: (first, last, snapshot).
fn snapshot_replaces_log(st: &mut (u64, u64, u64), index: u64) {
    st.2 = index;
    if st.1 < index {
        *st = (index, index, index);
    }
}
