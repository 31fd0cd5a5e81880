//! `quorum-boundary`: on 5 or 7 nodes, the newest committed entries live on a
//! bare majority only when the leader falls, so the next leader must come
//! from that majority (see [`crate::nemesis::Fault::QuorumBoundary`]).
use super::{Evidence, Setup, MS};
use crate::nemesis::{struck_at, Fault};
use rand::Rng;
use sut::trace::{Role, TraceEvent};

/// With 3 nodes "the leader plus one follower" is every majority; the
/// boundary is only a boundary with 5 or 7 (`--nodes 3` still runs it).
pub(super) const SIZES: &[u64] = &[5, 7];

pub(super) fn build(s: &mut Setup) {
    // The cut lasts until the leader's next commit (a few slow round trips),
    // then the rest of the window leaves time for an election without it.
    s.every(MS(600), MS(1600), MS(800), |rng| Fault::QuorumBoundary {
        crash: rng.random_bool(0.5),
    });
}

pub(super) fn evidence(e: &Evidence) -> Vec<(&'static str, bool)> {
    let struck: Vec<(&crate::nemesis::FaultRecord, u64)> = e
        .faults
        .iter()
        .filter(|f| f.fault.name() == "quorum-boundary")
        .filter_map(|f| struck_at(&f.detail).map(|t| (f, t)))
        .collect();
    let from_majority = struck.iter().any(|(f, t)| {
        let old = f.nodes.first().copied();
        let next = e.trace.iter().find(|r| {
            r.time > *t
                && Some(r.node) != old
                && matches!(
                    r.event,
                    TraceEvent::Role {
                        role: Role::Leader,
                        ..
                    }
                )
        });
        next.is_some_and(|r| f.nodes.contains(&r.node) && f.end.is_none_or(|end| r.time <= end))
    });
    vec![
        (
            "the leader fell right after a commit that only a bare majority held",
            !struck.is_empty(),
        ),
        (
            "the next leader came from that bare majority, while the old one was out",
            from_majority,
        ),
    ]
}
