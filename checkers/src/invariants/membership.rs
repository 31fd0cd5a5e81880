//! Membership fidelity: every configuration a node reports — after applying a
//! change, on boot from its snapshot, on installing one — is the membership
//! the committed log gives at that index, computed by the checkers' own
//! reference from the initial voters and every committed change before it.
use super::log::CommittedLog;
use super::reference::ReferenceMembership;
use super::{Finding, RunData, Violation};
use std::collections::{BTreeMap, BTreeSet};
use sut::trace::{ConfSource, Role, TraceEvent};

pub fn membership(run: &RunData, log: &CommittedLog) -> Finding {
    // The reference membership after each index that changed it.
    let mut at: BTreeMap<u64, ReferenceMembership> = BTreeMap::new();
    let mut current = ReferenceMembership::new(run.initial_voters);
    at.insert(0, current.clone());
    for (i, e) in &log.entries {
        if let Some(cc) = e.conf_change {
            current.apply(cc);
            at.insert(*i, current.clone());
        }
    }
    let last = log.last_index();
    let mut violations = Vec::new();
    let mut judged = 0;
    for r in run.trace {
        let TraceEvent::ConfChanged {
            index,
            conf,
            source,
        } = &r.event
        else {
            continue;
        };
        // Past the last applied index the log says nothing yet.
        if *index > last {
            continue;
        }
        judged += 1;
        let (_, want) = at
            .range(..=index)
            .next_back()
            .expect("index 0 is always there");
        if !want.matches(conf) {
            let how = match source {
                ConfSource::Applied => "applied a change at",
                ConfSource::Boot => "booted with the configuration of",
                ConfSource::Snapshot => "installed a snapshot with the configuration of",
            };
            violations.push(Violation::at(
                r.node,
                *index,
                r.time,
                format!(
                    "n{} {how} index {index} as voters {:?}, learners {:?}; the committed log gives {}",
                    r.node,
                    conf.voters,
                    conf.learners,
                    want.describe()
                ),
            ));
        }
    }
    let (appended, mut hurried) = one_change_at_a_time(run, log);
    violations.append(&mut hurried);
    Finding::new(
        "membership",
        format!(
            "{judged} configurations nodes reported (applied, booted, installed) match the committed log's {} changes; {appended} changes appended one at a time",
            at.len() - 1
        ),
        violations,
    )
}

/// Raft's single-server changes are safe only one at a time (Ongaro's thesis
/// §4.1): a leader appends a configuration change only once the previous one
/// is committed. Judged for every committed change whose leader's append the
/// trace shows (the leader persisting an entry of its own term there), against
/// the commit index that leader had reported by then.
fn one_change_at_a_time(run: &RunData, log: &CommittedLog) -> (usize, Vec<Violation>) {
    let changes: Vec<u64> = log
        .entries
        .iter()
        .filter(|(_, e)| e.conf_change.is_some())
        .map(|(i, _)| *i)
        .collect();
    // Per node: the term it leads (if it does) and the highest commit it reported.
    let mut leads: BTreeMap<u64, Option<u64>> = BTreeMap::new();
    let mut commit: BTreeMap<u64, u64> = BTreeMap::new();
    let mut judged = BTreeSet::new();
    let mut violations = Vec::new();
    for r in run.trace {
        let committed = commit.entry(r.node).or_default();
        match &r.event {
            TraceEvent::Boot {
                commit: c,
                snapshot_index,
                ..
            } => {
                *committed = (*c).max(*snapshot_index);
                leads.insert(r.node, None);
            }
            TraceEvent::Role { role, term, .. } => {
                leads.insert(r.node, (*role == Role::Leader).then_some(*term));
            }
            TraceEvent::Commit { index, .. }
            | TraceEvent::SnapshotInstalled { index, .. }
            | TraceEvent::SnapshotFastForward { index, .. } => {
                *committed = (*committed).max(*index);
            }
            TraceEvent::Persisted { first, last, .. } => {
                let Some(Some(term)) = leads.get(&r.node) else {
                    continue;
                };
                let start = changes.partition_point(|i| i < first);
                for (k, j) in changes.iter().enumerate().skip(start) {
                    if j > last {
                        break;
                    }
                    if log.entries[j].term != *term || !judged.insert(*j) {
                        continue;
                    }
                    let Some(previous) = k.checked_sub(1).map(|k| changes[k]) else {
                        continue;
                    };
                    if *committed < previous {
                        violations.push(Violation::at(
                            r.node,
                            *j,
                            r.time,
                            format!(
                                "n{}, leader in term {term}, appended the configuration change at index {j} while the previous one, at {previous}, was not committed (its commit index was {}): one change at a time",
                                r.node, *committed
                            ),
                        ));
                    }
                }
            }
            _ => {}
        }
    }
    (judged.len(), violations)
}
