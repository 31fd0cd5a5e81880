//! State-machine safety (Raft §5.4.3): every node that applied index i applied the
//! same command at i; and log matching for applied entries: same index and term
//! means the same entry.
use super::log::CommittedLog;
use super::{Finding, RunData, Violation};

pub fn state_machine_safety(_run: &RunData, log: &CommittedLog) -> Finding {
    let violations = log
        .conflicts
        .iter()
        .map(|c| {
            let what = if c.first.term == c.other.term {
                "log matching broken: same index and term, different entries"
            } else {
                "different entries applied at the same index"
            };
            Violation {
                node: Some(c.other.node),
                index: Some(c.index),
                term: Some(c.other.term),
                time: Some(c.other.time),
                message: format!(
                    "{what}: n{} applied index {} term {} (digest {:016x}) but n{} applied term {} (digest {:016x})",
                    c.other.node, c.index, c.other.term, c.other.digest, c.first.node, c.first.term, c.first.digest
                ),
                diff: Vec::new(),
            }
        })
        .collect();
    Finding::new(
        "state-machine-safety",
        format!(
            "{} applies agree on {} committed indexes",
            log.applies,
            log.entries.len()
        ),
        violations,
    )
}
