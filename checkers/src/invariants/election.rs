//! Election safety (at most one leader per term, and a node follows only the
//! leader of its own term) and leader completeness (a new leader's log holds
//! every entry committed in an earlier term).
use super::{Finding, RunData, Violation};
use std::collections::{BTreeMap, BTreeSet};
use sut::trace::{Role, TraceEvent};

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
    // A node learns its leader only from that leader's messages of its own
    // term, so every leader a node records for term T must have led term T
    // (a node that took a stale leader's message as current would not).
    let led: BTreeSet<(u64, u64)> = run
        .trace
        .iter()
        .filter_map(|r| match r.event {
            TraceEvent::Role {
                role: Role::Leader,
                term,
                ..
            } => Some((r.node, term)),
            _ => None,
        })
        .collect();
    let mut follows = 0;
    for r in run.trace {
        if let TraceEvent::Role {
            term,
            leader: Some(leader),
            ..
        } = r.event
        {
            follows += 1;
            if !led.contains(&(leader, term)) {
                violations.push(Violation {
                    node: Some(r.node),
                    index: None,
                    term: Some(term),
                    time: Some(r.time),
                    message: format!(
                        "n{} followed n{leader} as leader of term {term}, but n{leader} never led term {term}",
                        r.node
                    ),
                    diff: Vec::new(),
                });
            }
        }
    }
    Finding::new(
        "election-safety",
        format!(
            "{} terms with a leader, one leader each; {follows} role changes name their term's leader",
            leaders.len()
        ),
        violations,
    )
}

pub fn leader_completeness(run: &RunData) -> Finding {
    // Raft §5.4.3: an entry committed in term T is in the log of every leader
    // of a term after T. Not of an earlier term: a leader of term 3 may be
    // elected late (its votes were granted before term 4 began, and it was
    // paused with them in its queue) without entries term 4 committed; it
    // can commit nothing, since a majority has already seen term 4.
    //
    // The term an entry was committed in is taken as the term of the node
    // that announced the commit: a follower learns commits only from its
    // term's leader. A term change in the same batch makes that an
    // overestimate, which can only skip an entry, never flag a correct one.
    let mut node_term: BTreeMap<u64, u64> = BTreeMap::new();
    // Per term a commit was announced in, the highest entry (index, term).
    let mut committed: BTreeMap<u64, (u64, u64)> = BTreeMap::new();
    let mut elections = 0;
    let mut violations = Vec::new();
    for r in run.trace {
        match r.event {
            TraceEvent::Boot { term, .. } => {
                node_term.insert(r.node, term);
            }
            TraceEvent::Commit { index, term } => {
                let at = node_term.get(&r.node).copied().unwrap_or(term).max(term);
                let best = committed.entry(at).or_insert((index, term));
                if index > best.0 {
                    *best = (index, term);
                }
            }
            TraceEvent::Role {
                role,
                term,
                last_index,
                last_term,
                ..
            } => {
                node_term.insert(r.node, term);
                if role != Role::Leader {
                    continue;
                }
                elections += 1;
                let Some(&(ci, ct)) = committed.range(..term).map(|(_, e)| e).max() else {
                    continue;
                };
                // The leader's log holds entry (ci, ct), so its last entry
                // is at or after it.
                let behind =
                    last_index < ci || last_term < ct || (last_index == ci && last_term != ct);
                if behind {
                    violations.push(Violation {
                        node: Some(r.node),
                        index: Some(ci),
                        term: Some(term),
                        time: Some(r.time),
                        message: format!(
                            "n{} became leader of term {term} with last entry ({last_index}, term {last_term}) but entry {ci} (term {ct}) was committed in an earlier term",
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
        format!("{elections} new leaders each held every entry committed in an earlier term"),
        violations,
    )
}
