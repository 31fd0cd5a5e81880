//! The commit rule (Raft §5.4.2, Figure 8): a leader advances its commit index
//! only to an entry of its own term. An earlier term's entry held by a majority
//! can still be overwritten by a later leader; it becomes committed only
//! indirectly, under a current-term entry after it. Followers learn commits from
//! the leader and legitimately commit earlier terms' entries, so only commits a
//! node makes while it leads are judged.
use super::{Finding, RunData, Violation};
use std::collections::BTreeMap;
use sut::trace::{Role, TraceEvent};

pub fn commit_rule(run: &RunData) -> Finding {
    // Per node: the term it leads, while it leads (a boot or any other role ends it).
    let mut leading: BTreeMap<u64, u64> = BTreeMap::new();
    let mut leader_commits = 0;
    let mut violations = Vec::new();
    for r in run.trace {
        match r.event {
            TraceEvent::Role {
                role: Role::Leader,
                term,
                ..
            } => {
                leading.insert(r.node, term);
            }
            TraceEvent::Role { .. } | TraceEvent::Boot { .. } | TraceEvent::Halt { .. } => {
                leading.remove(&r.node);
            }
            TraceEvent::Commit { index, term } => {
                let Some(&leader_term) = leading.get(&r.node) else {
                    continue;
                };
                leader_commits += 1;
                if term != leader_term {
                    violations.push(Violation {
                        node: Some(r.node),
                        index: Some(index),
                        term: Some(leader_term),
                        time: Some(r.time),
                        message: format!(
                            "n{} leading term {leader_term} committed index {index} of term {term} by counting replicas",
                            r.node
                        ),
                        diff: Vec::new(),
                    });
                }
            }
            _ => {}
        }
    }
    Finding::new(
        "commit-rule",
        format!("{leader_commits} leader commits, each of an entry of the leader's own term"),
        violations,
    )
}
