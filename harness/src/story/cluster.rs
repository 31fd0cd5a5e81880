//! The cluster at one moment of a recorded run, as the failure story tells
//! it: each node's role and term (from the trace), the leader, and the faults
//! active (from the nemesis log). Read from the recorded data only.
use crate::nemesis::{Fault, FaultRecord};
use std::collections::BTreeMap;
use sut::trace::TraceRecord;
use sut::trace::{Role, TraceEvent};

/// What a node was at a moment, as far as its trace says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeState {
    /// Its last role change before the moment (a boot counts as follower).
    Role { role: Role, term: u64 },
    /// It had halted (refused its storage) and not booted again.
    Halted,
    /// A crash fault had it down.
    Crashed,
}

/// Every node's state at `time` (ns): the last role, boot or halt the trace
/// records at or before it, overridden by a crash fault active then. Nodes
/// with no such record are absent (unknown).
pub fn states(
    trace: &[TraceRecord],
    faults: &[FaultRecord],
    time: u64,
) -> BTreeMap<u64, NodeState> {
    let mut states = BTreeMap::new();
    for r in trace.iter().filter(|r| r.time <= time) {
        let state = match r.event {
            TraceEvent::Role { role, term, .. } => NodeState::Role { role, term },
            TraceEvent::Boot { term, .. } => NodeState::Role {
                role: Role::Follower,
                term,
            },
            TraceEvent::Halt { .. } => NodeState::Halted,
            _ => continue,
        };
        states.insert(r.node, state);
    }
    for f in faults.iter().filter(|f| active(f, time, time)) {
        if let Fault::Crash { .. } = f.fault {
            for n in &f.nodes {
                states.insert(*n, NodeState::Crashed);
            }
        }
    }
    states
}

/// The leader at that moment: of the nodes up and leading, the one of the
/// newest term (a deposed leader that has not noticed still thinks it leads
/// its old term). None when no node was leading.
pub fn leader(states: &BTreeMap<u64, NodeState>) -> Option<(u64, u64)> {
    (states.iter())
        .filter_map(|(n, s)| match *s {
            NodeState::Role {
                role: Role::Leader,
                term,
            } => Some((*n, term)),
            _ => None,
        })
        .max_by_key(|&(n, term)| (term, std::cmp::Reverse(n)))
}

/// Whether the fault was active at some time in `[from, to]` (a fault with no
/// end lasted to the end of the run).
pub fn active(f: &FaultRecord, from: u64, to: u64) -> bool {
    f.start <= to && f.end.is_none_or(|end| end > from)
}

pub fn role_word(role: Role) -> &'static str {
    match role {
        Role::Follower => "follower",
        Role::PreCandidate => "pre-candidate",
        Role::Candidate => "candidate",
        Role::Leader => "leader",
    }
}

/// "a follower in term 1", "the leader of term 3", "crashed", "in an unknown role (no trace record yet)".
pub fn state_text(state: Option<&NodeState>) -> String {
    match state {
        Some(NodeState::Role {
            role: Role::Leader,
            term,
        }) => format!("the leader of term {term}"),
        Some(NodeState::Role { role, term }) => format!("a {} in term {term}", role_word(*role)),
        Some(NodeState::Halted) => "halted".to_string(),
        Some(NodeState::Crashed) => "crashed".to_string(),
        None => "in an unknown role (its trace has no role before then)".to_string(),
    }
}

/// Seconds with millisecond precision: "8.850 s".
pub fn secs(ns: u64) -> String {
    format!(
        "{}.{:03} s",
        ns / 1_000_000_000,
        ns % 1_000_000_000 / 1_000_000
    )
}

fn nodes(ns: &[u64]) -> String {
    let v: Vec<String> = ns.iter().map(|n| format!("n{n}")).collect();
    v.join(",")
}

/// One fault as the story names it: kind, nodes, its rates, its window and
/// what the nemesis noted ("clock-drift of n5 (clock at 0.35× real time),
/// 1.500–6.000 s").
pub fn describe(f: &FaultRecord) -> String {
    let mut s = f.fault.name().to_string();
    if !f.nodes.is_empty() {
        s.push_str(&format!(" of {}", nodes(&f.nodes)));
    }
    let params = match &f.fault {
        Fault::ClockDrift { rate, .. } => Some(format!("clock at {rate}× real time")),
        Fault::Loss { rate } => Some(format!("{rate} of messages lost")),
        Fault::Latency { max_ms } => Some(format!("up to {max_ms} ms")),
        Fault::Unreliable {
            duplicate,
            reorder,
            max_delay_ms,
        } => Some(format!(
            "{duplicate} duplicated, {reorder} reordered, up to {max_delay_ms} ms late"
        )),
        Fault::Disk {
            io_error,
            read_corruption,
            full,
            ..
        } => {
            let mut parts = Vec::new();
            if *io_error > 0.0 {
                parts.push(format!("I/O errors at {io_error}"));
            }
            if *read_corruption > 0.0 {
                parts.push(format!("corrupt reads at {read_corruption}"));
            }
            if *full {
                parts.push("full".to_string());
            }
            Some(parts.join(", "))
        }
        Fault::CrashAt { point, .. } => Some(format!("at {point:?}")),
        _ => None,
    };
    if let Some(p) = params.filter(|p| !p.is_empty()) {
        s.push_str(&format!(" ({p})"));
    }
    let end = f.end.map_or("the end".to_string(), secs);
    s.push_str(&format!(", {}–{end}", secs(f.start).trim_end_matches(" s")));
    if !f.detail.is_empty() && f.detail.len() <= 60 {
        s.push_str(&format!(" ({})", f.detail));
    }
    s
}

/// The faults active at some time in `[from, to]`, described, or "none".
pub fn faults_text(faults: &[FaultRecord], from: u64, to: u64) -> String {
    let active: Vec<String> = (faults.iter())
        .filter(|f| active(f, from, to))
        .map(describe)
        .collect();
    if active.is_empty() {
        "none".to_string()
    } else {
        active.join("; ")
    }
}
