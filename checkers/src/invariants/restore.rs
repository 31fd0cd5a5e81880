//! Restore fidelity and monotonicity, per node and per boot.
//! - After every restore (on boot or InstallSnapshot) the state equals the
//!   committed log replayed to the snapshot index, `applied` is that index, and the
//!   next entry applied is exactly index + 1.
//! - Within a boot, commit never goes backwards and applies are contiguous; after a
//!   restart, applying resumes right after the durable snapshot (or at 1).
use super::log::CommittedLog;
use super::snapshot::{compare, References, StateClaim};
use super::{Finding, RunData, Violation};
use std::collections::BTreeMap;
use sut::trace::TraceEvent;

pub fn restore_fidelity(run: &RunData, log: &CommittedLog, refs: &References) -> Finding {
    let claims: Vec<(StateClaim, u64)> = run
        .trace
        .iter()
        .filter_map(|r| match &r.event {
            TraceEvent::Restored {
                index,
                term,
                applied,
                contents,
                ..
            } => Some((
                StateClaim {
                    node: r.node,
                    time: r.time,
                    index: *index,
                    term: *term,
                    contents,
                },
                *applied,
            )),
            _ => None,
        })
        .collect();
    let mut violations: Vec<Violation> = Vec::new();
    for (c, applied) in &claims {
        if let Some(v) = compare("restored a snapshot", c, log, refs) {
            violations.push(v);
        }
        if *applied != c.index {
            violations.push(Violation::at(
                c.node,
                c.index,
                c.time,
                format!(
                    "n{} restored the snapshot at index {} but reports applied = {}",
                    c.node, c.index, applied
                ),
            ));
        }
    }
    // The first apply after each restore must be index + 1.
    let mut after_restore: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    for r in run.trace {
        match &r.event {
            TraceEvent::Restored { index, .. } => {
                after_restore.insert(r.node, (*index, r.time));
            }
            TraceEvent::Boot { .. } => {
                after_restore.remove(&r.node);
            }
            TraceEvent::Apply { index, .. } => {
                if let Some((snap, _)) = after_restore.remove(&r.node) {
                    if *index != snap + 1 {
                        violations.push(Violation::at(
                            r.node,
                            *index,
                            r.time,
                            format!(
                                "n{} restored a snapshot at {snap}, then applied index {index} instead of {}",
                                r.node,
                                snap + 1
                            ),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    Finding::new(
        "restore-fidelity",
        format!(
            "{} restores match the committed log and resume at the next index",
            claims.len()
        ),
        violations,
    )
}

#[derive(Default)]
struct Boot {
    commit: u64,
    /// The index the next apply must have, when known.
    next_apply: Option<u64>,
}

pub fn monotonicity(run: &RunData) -> Finding {
    let mut boots: BTreeMap<u64, Boot> = BTreeMap::new();
    let mut violations = Vec::new();
    let mut applies = 0u64;
    for r in run.trace {
        let node = r.node;
        match &r.event {
            TraceEvent::Boot { snapshot_index, .. } => {
                boots.insert(
                    node,
                    Boot {
                        commit: 0,
                        next_apply: Some(snapshot_index + 1),
                    },
                );
            }
            TraceEvent::Restored { index, .. } => {
                // restore-fidelity judges the restore itself; here, only that it
                // does not take applied back within the boot.
                let b = boots.entry(node).or_default();
                let applied = b.next_apply.map_or(0, |n| n.saturating_sub(1));
                if *index < applied {
                    violations.push(Violation::at(
                        node,
                        *index,
                        r.time,
                        format!("n{node} restored a snapshot at {index}, taking applied back from {applied}"),
                    ));
                }
                b.next_apply = Some(index + 1);
            }
            TraceEvent::Commit { index, .. } => {
                let b = boots.entry(node).or_default();
                if *index < b.commit {
                    violations.push(Violation::at(
                        node,
                        *index,
                        r.time,
                        format!(
                            "n{node}'s commit index went back from {} to {index}",
                            b.commit
                        ),
                    ));
                }
                b.commit = b.commit.max(*index);
            }
            TraceEvent::Apply { index, .. } => {
                applies += 1;
                let b = boots.entry(node).or_default();
                if let Some(expected) = b.next_apply {
                    if *index != expected {
                        let how = if *index < expected {
                            "went back to"
                        } else {
                            "skipped to"
                        };
                        violations.push(Violation::at(
                            node,
                            *index,
                            r.time,
                            format!("n{node}'s applied index {how} {index}; expected {expected}"),
                        ));
                    }
                }
                b.next_apply = Some(index + 1);
            }
            _ => {}
        }
    }
    Finding::new(
        "monotonicity",
        format!("{applies} applies are contiguous and commit indexes never go back, per boot"),
        violations,
    )
}
