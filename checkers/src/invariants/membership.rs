//! Membership fidelity: every configuration a node reports — after applying a
//! change, on boot from its snapshot, on installing one — is the membership
//! the committed log gives at that index, computed by the checkers' own
//! reference from the initial voters and every committed change before it.
use super::log::CommittedLog;
use super::reference::ReferenceMembership;
use super::{Finding, RunData, Violation};
use std::collections::BTreeMap;
use sut::trace::{ConfSource, TraceEvent};

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
    Finding::new(
        "membership",
        format!(
            "{judged} configurations nodes reported (applied, booted, installed) match the committed log's {} changes",
            at.len() - 1
        ),
        violations,
    )
}
