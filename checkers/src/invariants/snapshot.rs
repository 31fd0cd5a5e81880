//! Snapshot fidelity: every snapshot taken at (index, term) holds exactly the state
//! obtained by applying the committed log 1..=index to the checkers' own reference
//! KV — data and client session table, value for value — and is labelled with the
//! term of entry `index`. The snapshot's contents come from the trace, decoded by
//! the system from the snapshot's bytes; its encoding and digest are not trusted.
use super::log::CommittedLog;
use super::reference::ReferenceKv;
use super::{Finding, KeyDiff, RunData, Violation};
use std::collections::BTreeMap;
use sut::trace::{SessionState, StateContents, TraceEvent, TraceRecord};

/// A state some node reported at `index`: a snapshot it took, or one it restored.
pub struct StateClaim<'a> {
    pub node: u64,
    pub time: u64,
    pub index: u64,
    pub term: u64,
    pub contents: &'a StateContents,
}

/// What the reference replay says about each claimed index.
pub struct Reference {
    pub contents: StateContents,
    /// Bytes of state by the specification (see `ReferenceKv::size`).
    pub size: u64,
}

/// Replays the committed log once, remembering the reference state at each of
/// `indexes`. Indexes beyond a gap in the log are missing from the result.
fn reference_states(
    log: &CommittedLog,
    indexes: impl Iterator<Item = u64>,
) -> BTreeMap<u64, Reference> {
    let mut wanted: Vec<u64> = indexes.collect();
    wanted.sort_unstable();
    wanted.dedup();
    let mut out = BTreeMap::new();
    let _ = log.replay(&wanted, |i, kv: &ReferenceKv| {
        out.insert(
            i,
            Reference {
                contents: kv.contents(),
                size: kv.size(),
            },
        );
    });
    out
}

/// Compares a claimed state with the reference; None when they agree.
pub fn compare(
    what: &str,
    claim: &StateClaim,
    log: &CommittedLog,
    refs: &BTreeMap<u64, Reference>,
) -> Option<Violation> {
    let mut v = Violation {
        node: Some(claim.node),
        index: Some(claim.index),
        term: Some(claim.term),
        time: Some(claim.time),
        message: String::new(),
        diff: Vec::new(),
    };
    if claim.index == 0 {
        return None;
    }
    let Some(reference) = refs.get(&claim.index) else {
        v.message = format!(
            "n{} {what} at index {} but the committed log has no entry {} that any node applied",
            claim.node,
            claim.index,
            first_gap(log, claim.index)
        );
        return Some(v);
    };
    if let Some(entry) = log.entries.get(&claim.index) {
        if entry.term != claim.term {
            v.message = format!(
                "n{} {what} at index {} labelled term {}, but entry {} has term {}",
                claim.node, claim.index, claim.term, claim.index, entry.term
            );
            return Some(v);
        }
    }
    if reference.contents == *claim.contents {
        return None;
    }
    v.diff = diff(&reference.contents, claim.contents);
    let keys: Vec<&str> = v.diff.iter().take(3).map(|d| d.key.as_str()).collect();
    v.message = format!(
        "n{} {what} at index {} term {} differs from the committed log replayed to {}: first differences in {}",
        claim.node,
        claim.index,
        claim.term,
        claim.index,
        keys.join(", ")
    );
    Some(v)
}

fn first_gap(log: &CommittedLog, upto: u64) -> u64 {
    (1..=upto)
        .find(|i| !log.entries.contains_key(i))
        .unwrap_or(upto)
}

/// A value as a report shows it: whole when short, ends and length when long.
fn shown(v: &str) -> String {
    let chars: Vec<char> = v.chars().collect();
    if chars.len() <= 48 {
        return format!("{v:?}");
    }
    let head: String = chars[..20].iter().collect();
    let tail: String = chars[chars.len() - 20..].iter().collect();
    format!("{head:?}…{tail:?} ({} chars)", chars.len())
}

fn shown_session(s: &SessionState) -> String {
    format!("last seq {}, {:?}", s.last_seq, s.outcome)
}

/// The first keys (then sessions) whose values differ, in key order.
pub fn diff(expected: &StateContents, actual: &StateContents) -> Vec<KeyDiff> {
    let mut out = Vec::new();
    let keys: std::collections::BTreeSet<&String> =
        expected.data.keys().chain(actual.data.keys()).collect();
    for k in keys {
        let (e, a) = (expected.data.get(k), actual.data.get(k));
        if e != a {
            out.push(KeyDiff {
                key: k.clone(),
                expected: e.map(|v| shown(v)),
                actual: a.map(|v| shown(v)),
            });
        }
    }
    let clients: std::collections::BTreeSet<&u64> = expected
        .sessions
        .keys()
        .chain(actual.sessions.keys())
        .collect();
    for c in clients {
        let (e, a) = (expected.sessions.get(c), actual.sessions.get(c));
        if e != a {
            out.push(KeyDiff {
                key: format!("session {c}"),
                expected: e.map(shown_session),
                actual: a.map(shown_session),
            });
        }
    }
    out.truncate(10);
    out
}

/// The reference state at every index the trace claims a state for (snapshots
/// taken and restored): one replay of the committed log serves every check.
pub type References = BTreeMap<u64, Reference>;

pub fn references(trace: &[TraceRecord], log: &CommittedLog) -> References {
    let indexes = trace.iter().filter_map(|r| match r.event {
        TraceEvent::SnapshotCreated { index, .. } | TraceEvent::Restored { index, .. } => {
            Some(index)
        }
        _ => None,
    });
    reference_states(log, indexes)
}

pub fn snapshot_fidelity(run: &RunData, log: &CommittedLog, refs: &References) -> Finding {
    let claims: Vec<StateClaim> = run
        .trace
        .iter()
        .filter_map(|r| match &r.event {
            TraceEvent::SnapshotCreated {
                index,
                term,
                contents,
                ..
            } => Some(StateClaim {
                node: r.node,
                time: r.time,
                index: *index,
                term: *term,
                contents,
            }),
            _ => None,
        })
        .collect();
    let violations = claims
        .iter()
        .filter_map(|c| compare("took a snapshot", c, log, refs))
        .collect();
    Finding::new(
        "snapshot-fidelity",
        format!(
            "{} snapshots hold the committed log replayed on the checkers' reference KV",
            claims.len()
        ),
        violations,
    )
}
