//! Snapshot fidelity: every snapshot taken at (index, term) holds exactly the state
//! obtained by applying the committed log 1..=index to a fresh reference KV — data
//! and client session table — and is labelled with the term of entry `index`.
use super::log::CommittedLog;
use super::{Finding, KeyDiff, RunData, Violation};
use raftkv::kv::{Fingerprint, Kv};
use raftkv::trace::TraceEvent;
use std::collections::BTreeMap;

/// A state some node reported at `index`: a snapshot it took, or one it restored.
pub struct StateClaim<'a> {
    pub node: u64,
    pub time: u64,
    pub index: u64,
    pub term: u64,
    pub digest: u64,
    pub fingerprint: &'a Fingerprint,
}

/// What the reference replay says about each claimed index.
pub struct Reference {
    pub digest: u64,
    pub fingerprint: Fingerprint,
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
    let _ = log.replay(&wanted, |i, kv: &Kv| {
        out.insert(
            i,
            Reference {
                digest: kv.digest(),
                fingerprint: kv.fingerprint(),
                size: kv.snapshot().len() as u64,
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
    if reference.digest == claim.digest {
        return None;
    }
    v.diff = diff(&reference.fingerprint, claim.fingerprint);
    let keys: Vec<&str> = v.diff.iter().take(3).map(|d| d.key.as_str()).collect();
    v.message = format!(
        "n{} {what} at index {} term {} differs from the committed log replayed to {}: first differences in {}",
        claim.node,
        claim.index,
        claim.term,
        claim.index,
        if keys.is_empty() { "the encoding".to_string() } else { keys.join(", ") }
    );
    Some(v)
}

fn first_gap(log: &CommittedLog, upto: u64) -> u64 {
    (1..=upto)
        .find(|i| !log.entries.contains_key(i))
        .unwrap_or(upto)
}

/// The first keys (then sessions) whose value digests differ, in key order.
pub fn diff(expected: &Fingerprint, actual: &Fingerprint) -> Vec<KeyDiff> {
    let mut out = Vec::new();
    let e: BTreeMap<&str, u64> = expected
        .keys
        .iter()
        .map(|(k, d)| (k.as_str(), *d))
        .collect();
    let a: BTreeMap<&str, u64> = actual.keys.iter().map(|(k, d)| (k.as_str(), *d)).collect();
    let keys: std::collections::BTreeSet<&str> = e.keys().chain(a.keys()).copied().collect();
    for k in keys {
        if e.get(k) != a.get(k) {
            out.push(KeyDiff {
                key: k.to_string(),
                expected: e.get(k).map(|d| format!("value digest {d:016x}")),
                actual: a.get(k).map(|d| format!("value digest {d:016x}")),
            });
        }
    }
    let es: BTreeMap<u64, u64> = expected.sessions.iter().copied().collect();
    let as_: BTreeMap<u64, u64> = actual.sessions.iter().copied().collect();
    let clients: std::collections::BTreeSet<u64> = es.keys().chain(as_.keys()).copied().collect();
    for c in clients {
        if es.get(&c) != as_.get(&c) {
            out.push(KeyDiff {
                key: format!("session {c}"),
                expected: es.get(&c).map(|s| format!("last seq {s}")),
                actual: as_.get(&c).map(|s| format!("last seq {s}")),
            });
        }
    }
    out.truncate(10);
    out
}

/// The reference state at every index the trace claims a state for (snapshots
/// taken and restored): one replay of the committed log serves every check.
pub type References = BTreeMap<u64, Reference>;

pub fn references(trace: &[raftkv::node::TraceRecord], log: &CommittedLog) -> References {
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
                state_digest,
                fingerprint,
                ..
            } => Some(StateClaim {
                node: r.node,
                time: r.time,
                index: *index,
                term: *term,
                digest: *state_digest,
                fingerprint,
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
            "{} snapshots match the committed log replayed on a reference KV",
            claims.len()
        ),
        violations,
    )
}
