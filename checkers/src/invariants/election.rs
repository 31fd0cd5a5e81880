//! Election safety (at most one leader per term) and leader completeness (a new
//! leader's log holds every entry committed before it was elected).
use super::{Finding, RunData, Violation};
use raftkv::trace::{Role, TraceEvent};
use std::collections::BTreeMap;

pub fn election_safety(run: &RunData) -> Finding {
    let mut leaders: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    let mut violations = Vec::new();
    for r in run.trace {
        if let TraceEvent::Role {
            role: Role::Leader,
            term,
            ..
        } = r.event
        {
            match leaders.get(&term) {
                Some(&(other, _)) if other != r.node => violations.push(Violation {
                    node: Some(r.node),
                    index: None,
                    term: Some(term),
                    time: Some(r.time),
                    message: format!("two leaders in term {term}: n{other} and n{}", r.node),
                    diff: Vec::new(),
                }),
                Some(_) => {}
                None => {
                    leaders.insert(term, (r.node, r.time));
                }
            }
        }
    }
    Finding::new(
        "election-safety",
        format!("{} terms with a leader, one leader each", leaders.len()),
        violations,
    )
}

pub fn leader_completeness(run: &RunData) -> Finding {
    // The highest commit any node had announced so far, with its term.
    let mut committed: Option<(u64, u64)> = None;
    let mut elections = 0;
    let mut violations = Vec::new();
    for r in run.trace {
        match r.event {
            TraceEvent::Commit { index, term } if committed.is_none_or(|(i, _)| index > i) => {
                committed = Some((index, term));
            }
            TraceEvent::Role {
                role: Role::Leader,
                term,
                last_index,
                last_term,
                ..
            } => {
                elections += 1;
                let Some((ci, ct)) = committed else { continue };
                // Raft §5.4: the leader's log is at least as up to date as any
                // committed entry; so its last entry is at or after it.
                let behind =
                    last_index < ci || last_term < ct || (last_index == ci && last_term != ct);
                if behind {
                    violations.push(Violation {
                        node: Some(r.node),
                        index: Some(ci),
                        term: Some(term),
                        time: Some(r.time),
                        message: format!(
                            "n{} became leader of term {term} with last entry ({last_index}, term {last_term}) but entry {ci} (term {ct}) was already committed",
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
        "leader-completeness",
        format!("{elections} new leaders each held every entry committed before them"),
        violations,
    )
}
