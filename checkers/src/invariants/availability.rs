//! Availability while faults are active (Raft §6.2 check-quorum, §6.4 leases).
//!
//! Check-quorum makes a leader step down when, over a whole check period, it
//! heard from no majority. So a node that, over the last step-down window
//! (two periods plus slack, scaled by its clock rate), could reach no
//! majority of its voters in all — the union of what it could reach at any
//! moment of the window, as peers come and go — must not be leader, commit
//! or answer a client as leader. The network's state comes from the harness
//! (which links were cut, which nodes were down, whose clock drifted), not
//! from the system, so a leader that never notices it is alone is judged
//! against what really happened. The same pass measures how long clients saw
//! no answer at all (unavailability windows), which is reported, not judged.
use super::{Finding, RunData, Violation};
use crate::history::EventKind;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use sut::trace::{Role, TraceEvent};

/// The network as the harness left it from `time` until the next state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NetState {
    /// Simulated time, in ns.
    pub time: u64,
    /// Directed links that drop every message.
    pub cut: Vec<(u64, u64)>,
    /// Nodes crashed, halted or paused: they act on nothing.
    pub down: Vec<u64>,
    /// Nodes whose clock runs at a rate other than 1 (rate × true time).
    pub clock: Vec<(u64, f64)>,
}

/// Timing the judgement needs, at clock rate 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timing {
    /// How long a leader that hears from no majority may go on leading: two
    /// check-quorum periods (the first may have seen the peers just before
    /// the cut), plus ticks and message latency for slack.
    pub step_down_ns: u64,
    /// Gaps without any successful client operation longer than this are
    /// reported as unavailability windows.
    pub window_ns: u64,
}

/// What one node could reach from `start` until `end`.
struct Segment {
    start: u64,
    end: u64,
    /// Nodes it had two-way links to and that were up (itself included).
    reach: BTreeSet<u64>,
    /// It was down itself: it acted on nothing and its ticks stopped.
    down: bool,
    /// Peers that came back up at `start` (a pause or a crash ended) and
    /// can send to it: a resumed node reads what queued up for it while it
    /// was down and answers, so the leader hears from it even when its own
    /// messages no longer get through (clean swarm seed 407964: a leader cut
    /// off one way heard from a follower resuming from a pause, and rightly
    /// kept leading).
    resumed: BTreeSet<u64>,
    rate: f64,
}

fn segments(net: &[NetState], node: u64, nodes: &BTreeSet<u64>, end_of_run: u64) -> Vec<Segment> {
    net.iter()
        .enumerate()
        .map(|(i, s)| {
            let cut: BTreeSet<(u64, u64)> = s.cut.iter().copied().collect();
            let down: BTreeSet<u64> = s.down.iter().copied().collect();
            let reach = nodes
                .iter()
                .copied()
                .filter(|&m| {
                    m == node
                        || (!down.contains(&m)
                            && !cut.contains(&(node, m))
                            && !cut.contains(&(m, node)))
                })
                .collect();
            let rate = (s.clock.iter().find(|(m, _)| *m == node)).map_or(1.0, |(_, r)| *r);
            let was_down = |m: u64| i > 0 && net[i - 1].down.contains(&m);
            let resumed = nodes
                .iter()
                .copied()
                .filter(|&m| m != node && was_down(m) && !down.contains(&m))
                .filter(|&m| !cut.contains(&(m, node)))
                .collect();
            Segment {
                start: s.time,
                end: net.get(i + 1).map_or(end_of_run, |n| n.time),
                reach,
                down: down.contains(&node),
                resumed,
                rate,
            }
        })
        .collect()
}

/// Each node's own view of the voters, by time.
struct Views<'a> {
    changes: BTreeMap<u64, Vec<(u64, Vec<u64>)>>,
    initial: &'a [u64],
}

impl Views<'_> {
    fn changed_within(&self, node: u64, from: u64, to: u64) -> bool {
        (self.changes.get(&node)).is_some_and(|v| v.iter().any(|(at, _)| *at > from && *at <= to))
    }

    fn voters(&self, node: u64, t: u64) -> &[u64] {
        (self.changes.get(&node))
            .and_then(|v| v.iter().rev().find(|(at, _)| *at <= t))
            .map_or(self.initial, |(_, v)| v.as_slice())
    }
}

/// Why `node` may not act as leader at `t`, if it may not: over the window
/// before `t` it could reach no majority of its voters.
fn alone_at(segs: &[Segment], views: &Views, node: u64, t: u64, window: u64) -> Option<String> {
    let from = t.checked_sub(window)?;
    // Check-quorum counts the voters of the moment: a window that spans a
    // change of the node's own view is not judged (its next window is).
    if views.changed_within(node, from, t) {
        return None;
    }
    let mut union = BTreeSet::new();
    // Segments are contiguous and in time order.
    let first = segs.partition_point(|s| s.end <= from);
    let last = segs.partition_point(|s| s.start <= t);
    for s in &segs[first..last.max(first)] {
        if s.down {
            return None;
        }
        union.extend(s.reach.iter().copied());
        if s.start >= from {
            union.extend(s.resumed.iter().copied());
        }
    }
    let voters = views.voters(node, t);
    if !voters.contains(&node) {
        return None;
    }
    let reached: Vec<u64> = voters
        .iter()
        .copied()
        .filter(|v| union.contains(v))
        .collect();
    (reached.len() < voters.len() / 2 + 1).then(|| {
        format!(
            "from {} on it could reach only {:?} of its voters {:?}",
            secs(from),
            reached,
            voters
        )
    })
}

/// When each node was leader: from its Role event to its next Role or Boot.
fn leaderships(run: &RunData, end_of_run: u64) -> Vec<(u64, u64, u64, u64)> {
    let mut open: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    let mut out = Vec::new();
    for r in run.trace {
        let ends = matches!(r.event, TraceEvent::Role { .. } | TraceEvent::Boot { .. });
        if ends {
            if let Some((start, term)) = open.remove(&r.node) {
                out.push((r.node, term, start, r.time));
            }
        }
        if let TraceEvent::Role {
            role: Role::Leader,
            term,
            ..
        } = r.event
        {
            open.insert(r.node, (r.time, term));
        }
    }
    out.extend(
        open.into_iter()
            .map(|(n, (start, term))| (n, term, start, end_of_run)),
    );
    out
}

fn secs(ns: u64) -> String {
    format!("{:.2} s", ns as f64 / 1e9)
}

/// Gaps longer than the window in which no client operation succeeded.
pub fn unavailability_windows(run: &RunData, window_ns: u64) -> Vec<(u64, u64)> {
    let main: Vec<u64> = run
        .history
        .iter()
        .filter(|e| Some(e.process) != run.final_reads_process)
        .filter(|e| e.kind == EventKind::Ok)
        .map(|e| e.time)
        .collect();
    let start = run.history.first().map_or(0, |e| e.time);
    let mut out = Vec::new();
    let mut last = start;
    for t in main {
        if t.saturating_sub(last) > window_ns {
            out.push((last, t));
        }
        last = last.max(t);
    }
    out
}

pub fn availability(run: &RunData) -> Finding {
    let (Some(timing), Some(net)) = (run.timing, run.network) else {
        return Finding::new(
            "availability",
            "not judged: the run recorded no network timeline".into(),
            Vec::new(),
        );
    };
    let end_of_run = (run.trace.iter().map(|r| r.time))
        .chain(run.history.iter().map(|e| e.time))
        .max()
        .unwrap_or(0);
    let mut changes: BTreeMap<u64, Vec<(u64, Vec<u64>)>> = BTreeMap::new();
    for r in run.trace {
        if let TraceEvent::ConfChanged { conf, .. } = &r.event {
            let view = (r.time, conf.voters.clone());
            changes.entry(r.node).or_default().push(view);
        }
    }
    let nodes: BTreeSet<u64> = (run.initial_voters.iter().copied())
        .chain(changes.keys().copied())
        .chain(run.trace.iter().map(|r| r.node))
        .collect();
    let views = Views {
        changes,
        initial: run.initial_voters,
    };
    let leaderships = leaderships(run, end_of_run);
    let mut violations = Vec::new();
    let mut judged = 0;
    let mut by_node: BTreeMap<u64, Vec<Segment>> = BTreeMap::new();
    for &(n, term, start, end) in &leaderships {
        judged += 1;
        let segs = by_node
            .entry(n)
            .or_insert_with(|| segments(net, n, &nodes, end_of_run));
        let segs: &[Segment] = segs;
        // A slow clock stretches its check periods: the slowest rate the node
        // ran at while leading (or just before) sets its window.
        let rate = (segs.iter())
            .filter(|s| s.end > start.saturating_sub(timing.step_down_ns * 4) && s.start < end)
            .map(|s| s.rate)
            .fold(1.0f64, f64::min)
            .max(0.05);
        let window = (timing.step_down_ns as f64 / rate) as u64;
        // What it could reach changes only at segment boundaries and view
        // changes, so checking there (and a window after) finds the first
        // moment it must have stepped down.
        let mut candidates: BTreeSet<u64> = BTreeSet::from([start]);
        for s in segs {
            candidates.extend([s.start, s.end, s.start + window, s.end + window]);
        }
        if let Some(v) = views.changes.get(&n) {
            candidates.extend(v.iter().flat_map(|(t, _)| [*t, *t + window]));
        }
        let first = candidates
            .range(start..end)
            .find_map(|&t| alone_at(segs, &views, n, t, window).map(|why| (t, why)));
        if let Some((t, why)) = first {
            violations.push(Violation {
                node: Some(n),
                index: None,
                term: Some(term),
                time: Some(t),
                message: format!(
                    "n{n} was still leader of term {term} at {}: {why}, and must step down within {} of losing its majority",
                    secs(t),
                    secs(window)
                ),
                diff: Vec::new(),
            });
        }
        // Commits and answers while leading, judged at their own times.
        let commit = run.trace.iter().find_map(|r| match r.event {
            TraceEvent::Commit { index, term } if r.node == n && (start..end).contains(&r.time) => {
                alone_at(segs, &views, n, r.time, window).map(|why| (r, index, term, why))
            }
            _ => None,
        });
        if let Some((r, index, term, why)) = commit {
            violations.push(Violation {
                node: Some(n),
                index: Some(index),
                term: Some(term),
                time: Some(r.time),
                message: format!("n{n} committed index {index} at {}: {why}", secs(r.time)),
                diff: Vec::new(),
            });
        }
        let ack = run.history.iter().find_map(|e| {
            let mine = e.kind == EventKind::Ok && e.node == Some(n);
            if !(mine && (start..end).contains(&e.time)) {
                return None;
            }
            alone_at(segs, &views, n, e.time, window).map(|why| (e, why))
        });
        if let Some((e, why)) = ack {
            let message = format!(
                "n{n} answered a {:?} on {} at {}: {why}",
                e.f,
                e.key,
                secs(e.time)
            );
            violations.push(Violation::for_event(e, message));
        }
    }
    let windows = unavailability_windows(run, timing.window_ns);
    let longest = windows.iter().map(|(a, b)| b - a).max().unwrap_or(0);
    let total: u64 = windows.iter().map(|(a, b)| b - a).sum();
    Finding::new(
        "availability",
        format!(
            "{judged} leaderships judged against the network: none led, committed or answered past the step-down window without a majority; {} windows over {} without a successful operation ({} in all, the longest {})",
            windows.len(),
            secs(timing.window_ns),
            secs(total),
            secs(longest)
        ),
        violations,
    )
}
