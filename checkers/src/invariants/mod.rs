//! Checks that linearizability alone misses: Raft's safety properties and the
//! fidelity of every snapshot and restore, judged from the node trace (and, for
//! durability and exactly-once, the client history). Each check is a pure function
//! of the recorded run, linear or n·log n in its size.
mod availability;
mod commit;
mod durability;
mod election;
mod exactly_once;
mod log;
mod membership;
mod reads;
mod recovery;
mod reference;
mod restore;
mod safety;
mod size;
mod snapshot;

#[cfg(test)]
mod tests;

use crate::history::Event;
use serde::{Deserialize, Serialize};
use sut::trace::TraceRecord;

pub use availability::{unavailability_windows, NetState, Timing};
pub use log::CommittedLog;

/// What the checks read.
pub struct RunData<'a> {
    pub trace: &'a [TraceRecord],
    pub history: &'a [Event],
    /// The process that performed the final reads, if any.
    pub final_reads_process: Option<u64>,
    pub bounds: SizeBounds,
    /// The initial voters (a node's view changes with its ConfChanged events).
    pub initial_voters: &'a [u64],
    /// The network's states as the harness set them, if it recorded them.
    pub network: Option<&'a [NetState]>,
    pub timing: Option<Timing>,
}

/// Configuration the size checks need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SizeBounds {
    pub snapshot_threshold: u64,
    pub trailing_logs: u64,
    /// Entries a leader may legitimately hold beyond the snapshot threshold while
    /// they wait to commit (client retries and no-ops).
    pub in_flight: u64,
}

/// One broken property, located as precisely as the trace allows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Violation {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub index: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub term: Option<u64>,
    /// Simulated time of the event that shows it, in ns.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time: Option<u64>,
    pub message: String,
    /// For state mismatches: the first differing keys and sessions.
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    pub diff: Vec<KeyDiff>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyDiff {
    /// A key, or `session <client>` for the session table.
    pub key: String,
    /// The value (or session) the reference state has; None = absent.
    pub expected: Option<String>,
    pub actual: Option<String>,
}

impl Violation {
    /// A violation shown by a client's history event.
    fn for_event(e: &Event, message: String) -> Self {
        Violation {
            node: e.node,
            index: None,
            term: None,
            time: Some(e.time),
            message,
            diff: Vec::new(),
        }
    }

    fn at(node: u64, index: u64, time: u64, message: String) -> Self {
        Violation {
            node: Some(node),
            index: Some(index),
            term: None,
            time: Some(time),
            message,
            diff: Vec::new(),
        }
    }
}

/// The outcome of one named check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Finding {
    pub check: &'static str,
    /// What was examined, for the report ("412 applies on 3 nodes").
    pub examined: String,
    /// The first violations (at most [`MAX_VIOLATIONS`]).
    pub violations: Vec<Violation>,
    /// How many violations there were in all.
    pub total: usize,
}

pub const MAX_VIOLATIONS: usize = 20;

impl Finding {
    fn new(check: &'static str, examined: String, mut violations: Vec<Violation>) -> Self {
        let total = violations.len();
        violations.truncate(MAX_VIOLATIONS);
        Finding {
            check,
            examined,
            violations,
            total,
        }
    }

    pub fn passed(&self) -> bool {
        self.total == 0
    }

    /// One line: what held, or the first violation.
    pub fn summary(&self) -> String {
        match self.violations.first() {
            None => self.examined.clone(),
            Some(v) => {
                let mut s = v.message.clone();
                match self.total {
                    0 | 1 => {}
                    2 => s.push_str(" (and 1 more violation)"),
                    n => s.push_str(&format!(" (and {} more violations)", n - 1)),
                }
                s
            }
        }
    }
}

/// The check names, in the order `check_all` reports them.
pub const CHECKS: [&str; 14] = [
    "state-machine-safety",
    "snapshot-fidelity",
    "restore-fidelity",
    "monotonicity",
    "election-safety",
    "leader-completeness",
    "commit-rule",
    "durability",
    "exactly-once",
    "size-bounds",
    "membership",
    "availability",
    "reads-answered",
    "recovery",
];

pub fn check_all(run: &RunData) -> Vec<Finding> {
    let log = CommittedLog::from_trace(run.trace);
    let refs = snapshot::references(run.trace, &log);
    vec![
        safety::state_machine_safety(run, &log),
        snapshot::snapshot_fidelity(run, &log, &refs),
        restore::restore_fidelity(run, &log, &refs),
        restore::monotonicity(run),
        election::election_safety(run),
        election::leader_completeness(run),
        commit::commit_rule(run),
        durability::durability(run, &log),
        exactly_once::exactly_once(run, &log),
        size::size_bounds(run, &refs),
        membership::membership(run, &log),
        availability::availability(run),
        reads::reads_answered(run),
        recovery::recovery(run),
    ]
}

#[cfg(test)]
mod summary_tests {
    use super::*;

    fn finding(n: u64) -> Finding {
        let v = (1..=n)
            .map(|i| Violation::at(1, i, 0, format!("index {i} differs")))
            .collect();
        Finding::new("state-machine-safety", "checked".into(), v)
    }

    #[test]
    fn the_count_after_the_first_violation_says_violations() {
        assert_eq!(finding(0).summary(), "checked");
        assert_eq!(finding(1).summary(), "index 1 differs");
        assert_eq!(
            finding(2).summary(),
            "index 1 differs (and 1 more violation)"
        );
        assert_eq!(
            finding(3).summary(),
            "index 1 differs (and 2 more violations)"
        );
    }
}
