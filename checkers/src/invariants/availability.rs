//! Availability while faults are active (Raft §6.2 check-quorum, §6.4 leases).
//!
//! A node that cannot reach a majority of its voters must stop acting as
//! leader within the step-down bound: no leadership, no commits, no client
//! acknowledgements after it. The network's state comes from the harness
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

/// A stretch of time in which `node` was up but could not reach a majority.
#[derive(Clone, Debug, PartialEq)]
struct Cutoff {
    node: u64,
    start: u64,
    end: u64,
    /// The slowest its clock ran meanwhile (a slow clock steps down late).
    min_rate: f64,
    reachable: usize,
    voters: usize,
}

fn cutoffs(run: &RunData, end_of_run: u64) -> Vec<Cutoff> {
    let Some(net) = run.network else {
        return Vec::new();
    };
    // Each node's own view of the voters, by time.
    let mut views: BTreeMap<u64, Vec<(u64, Vec<u64>)>> = BTreeMap::new();
    for r in run.trace {
        if let TraceEvent::ConfChanged { conf, .. } = &r.event {
            views
                .entry(r.node)
                .or_default()
                .push((r.time, conf.voters.clone()));
        }
    }
    let voters_at = |n: u64, t: u64| -> &[u64] {
        views
            .get(&n)
            .and_then(|v| v.iter().rev().find(|(at, _)| *at <= t))
            .map(|(_, v)| v.as_slice())
            .unwrap_or(run.initial_voters)
    };
    let nodes: BTreeSet<u64> = run
        .initial_voters
        .iter()
        .chain(views.keys())
        .copied()
        .collect();
    let mut open: BTreeMap<u64, Cutoff> = BTreeMap::new();
    let mut out = Vec::new();
    for (i, s) in net.iter().enumerate() {
        let until = net.get(i + 1).map_or(end_of_run, |n| n.time);
        let cut: BTreeSet<(u64, u64)> = s.cut.iter().copied().collect();
        let down: BTreeSet<u64> = s.down.iter().copied().collect();
        let rate = |n: u64| {
            s.clock
                .iter()
                .find(|(m, _)| *m == n)
                .map_or(1.0, |(_, r)| *r)
        };
        for &n in &nodes {
            let voters = voters_at(n, s.time);
            let reach = voters
                .iter()
                .filter(|&&m| {
                    m == n
                        || (!down.contains(&m) && !cut.contains(&(n, m)) && !cut.contains(&(m, n)))
                })
                .count();
            let alone = !down.contains(&n) && voters.contains(&n) && reach < voters.len() / 2 + 1;
            match (alone, open.remove(&n)) {
                (true, Some(mut c)) => {
                    c.end = until;
                    c.min_rate = c.min_rate.min(rate(n));
                    c.reachable = c.reachable.max(reach);
                    open.insert(n, c);
                }
                (true, None) => {
                    let c = Cutoff {
                        node: n,
                        start: s.time,
                        end: until,
                        min_rate: rate(n),
                        reachable: reach,
                        voters: voters.len(),
                    };
                    open.insert(n, c);
                }
                (false, Some(c)) => out.push(c),
                (false, None) => {}
            }
        }
    }
    out.extend(open.into_values());
    out.sort_by_key(|c| (c.start, c.node));
    out
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
    let Some(timing) = run.timing else {
        return Finding::new(
            "availability",
            "not judged: the run recorded no network timeline".into(),
            Vec::new(),
        );
    };
    let end_of_run = run
        .trace
        .iter()
        .map(|r| r.time)
        .chain(run.history.iter().map(|e| e.time))
        .max()
        .unwrap_or(0);
    let cutoffs = cutoffs(run, end_of_run);
    let bound = |c: &Cutoff| (timing.step_down_ns as f64 / c.min_rate.max(0.05)) as u64;
    let mut violations = Vec::new();
    let leaderships = leaderships(run, end_of_run);
    for c in &cutoffs {
        let from = c.start + bound(c);
        if from >= c.end {
            continue;
        }
        let alone = format!(
            "it could reach {} of {} voters from {}",
            c.reachable,
            c.voters,
            secs(c.start)
        );
        if let Some(&(n, term, start, _)) = leaderships
            .iter()
            .find(|(n, _, s, e)| *n == c.node && *s < c.end && *e > from)
        {
            let at = start.max(from);
            violations.push(Violation {
                node: Some(n),
                index: None,
                term: Some(term),
                time: Some(at),
                message: format!(
                    "n{n} was still leader of term {term} at {}: {alone}, and must step down within {}",
                    secs(at),
                    secs(bound(c))
                ),
                diff: Vec::new(),
            });
        }
        // Followers learn commits from a leader they can still reach; only
        // what the node does as leader is judged.
        let leading = |t: u64| {
            leaderships
                .iter()
                .any(|(n, _, s, e)| *n == c.node && *s <= t && t < *e)
        };
        let commit = run.trace.iter().find(|r| {
            r.node == c.node
                && (from..c.end).contains(&r.time)
                && matches!(r.event, TraceEvent::Commit { .. })
                && leading(r.time)
        });
        if let Some(r) = commit {
            if let TraceEvent::Commit { index, term } = r.event {
                violations.push(Violation {
                    node: Some(r.node),
                    index: Some(index),
                    term: Some(term),
                    time: Some(r.time),
                    message: format!(
                        "n{} committed index {index} at {}: {alone}",
                        r.node,
                        secs(r.time)
                    ),
                    diff: Vec::new(),
                });
            }
        }
        let ack = run.history.iter().find(|e| {
            e.kind == EventKind::Ok
                && e.node == Some(c.node)
                && (from..c.end).contains(&e.time)
                && leading(e.time)
        });
        if let Some(e) = ack {
            violations.push(Violation::for_event(
                e,
                format!(
                    "n{} answered a {:?} on {} at {}: {alone}",
                    c.node,
                    e.f,
                    e.key,
                    secs(e.time)
                ),
            ));
        }
    }
    let windows = unavailability_windows(run, timing.window_ns);
    let longest = windows.iter().map(|(a, b)| b - a).max().unwrap_or(0);
    let total: u64 = windows.iter().map(|(a, b)| b - a).sum();
    Finding::new(
        "availability",
        format!(
            "{} times a node could not reach a majority, and it stopped leading, committing and answering within the bound; {} windows over {} without a successful operation ({} in all, the longest {})",
            cutoffs.len(),
            windows.len(),
            secs(timing.window_ns),
            secs(total),
            secs(longest)
        ),
        violations,
    )
}
