//! Boot recovery: a node rebooted on its own disk comes back with everything it
//! reported durable before the crash.
//!
//! What a node said was durable, per boot, from its own trace:
//! - `Persisted {first, last}`: entries first..=last are fsynced and replace any
//!   from `first` on, so the durable log now ends at `last`;
//! - `Compacted {snapshot_index, first_index, last_index}`: the WAL marker of
//!   that snapshot and the retained log first..=last are durable, whole.
//!
//! At the next boot on the same disk (same generation) the recovered log must
//! start where the last compaction left it and end no earlier than the last
//! durable entry. Only an unsynced tail may be lost (a torn write). One
//! exception: when the harness corrupted reads during that boot, the last
//! record may be lost, since a flipped byte in it looks like a torn tail; a
//! flip anywhere before it must stop the node, never cut the log there.
//!
//! Every boot is also checked on its own: the log it reports must continue its
//! snapshot (first ≤ snapshot + 1 ≤ last + 1).
use super::{Finding, RunData, Violation};
use std::collections::BTreeMap;
use sut::trace::TraceEvent;

/// What a node had made durable since its last boot.
#[derive(Clone, Copy, Debug)]
struct Durable {
    generation: u64,
    snapshot_index: u64,
    first_index: u64,
    last_index: u64,
}

/// A boot's report of what it recovered.
struct Booted {
    generation: u64,
    snapshot_index: u64,
    first_index: u64,
    last_index: u64,
    injected_faults: u64,
}

pub fn recovery(run: &RunData) -> Finding {
    let mut durable: BTreeMap<u64, Durable> = BTreeMap::new();
    let mut violations = Vec::new();
    let (mut boots, mut reboots) = (0, 0);
    for r in run.trace {
        let at = |index: u64, message: String| Violation::at(r.node, index, r.time, message);
        match &r.event {
            TraceEvent::Boot {
                generation,
                snapshot_index,
                first_index,
                last_index,
                injected_faults,
                ..
            } => {
                let b = Booted {
                    generation: *generation,
                    snapshot_index: *snapshot_index,
                    first_index: *first_index,
                    last_index: *last_index,
                    injected_faults: *injected_faults,
                };
                boots += 1;
                if let Some(message) = inconsistent(r.node, &b) {
                    violations.push(at(b.snapshot_index, message));
                }
                if let Some(before) = durable
                    .get(&r.node)
                    .filter(|d| d.generation == b.generation)
                {
                    reboots += 1;
                    if let Some((index, message)) = lost(r.node, before, &b) {
                        violations.push(at(index, message));
                    }
                }
                durable.insert(
                    r.node,
                    Durable {
                        generation: b.generation,
                        snapshot_index: b.snapshot_index,
                        first_index: b.first_index,
                        last_index: b.last_index,
                    },
                );
            }
            TraceEvent::Persisted { last, .. } => {
                if let Some(d) = durable.get_mut(&r.node) {
                    d.last_index = *last;
                }
            }
            TraceEvent::Compacted {
                snapshot_index,
                first_index,
                last_index,
            } => {
                if let Some(d) = durable.get_mut(&r.node) {
                    d.snapshot_index = *snapshot_index;
                    d.first_index = *first_index;
                    d.last_index = *last_index;
                }
            }
            _ => {}
        }
    }
    Finding::new(
        "recovery",
        format!("{boots} boots, {reboots} of them on a disk the node had written"),
        violations,
    )
}

/// A boot whose log does not continue its snapshot.
fn inconsistent(node: u64, b: &Booted) -> Option<String> {
    let continues = b.first_index <= b.snapshot_index.saturating_add(1)
        && b.snapshot_index <= b.last_index
        && b.first_index <= b.last_index.saturating_add(1);
    (!continues).then(|| {
        format!(
            "n{node} booted with log {}..={} after snapshot {}: the log must continue the snapshot",
            b.first_index, b.last_index, b.snapshot_index
        )
    })
}

/// What a reboot lost of what the node had reported durable.
fn lost(node: u64, before: &Durable, b: &Booted) -> Option<(u64, String)> {
    if b.snapshot_index > before.snapshot_index {
        // A compaction completed that the crash kept the node from reporting:
        // the log was rewritten whole, nothing to compare it with.
        return None;
    }
    let faults = b.injected_faults > 0;
    if b.snapshot_index < before.snapshot_index && !faults {
        return Some((
            before.snapshot_index,
            format!(
                "n{node} rebooted from snapshot {} although its WAL had marked snapshot {} durable",
                b.snapshot_index, before.snapshot_index
            ),
        ));
    }
    if b.snapshot_index == before.snapshot_index && b.first_index != before.first_index {
        return Some((
            b.first_index,
            format!(
                "n{node} rebooted with its log starting at {} although its last compaction kept {}..",
                b.first_index, before.first_index
            ),
        ));
    }
    // A corrupted read of the last record is indistinguishable from a tear.
    let may_lose = u64::from(faults);
    if b.last_index.saturating_add(may_lose) < before.last_index {
        let excuse = if faults {
            " (with corrupted reads only the last record may go)"
        } else {
            " (only an unsynced tail may be lost)"
        };
        return Some((
            b.last_index.saturating_add(1),
            format!(
                "n{node} rebooted with its log ending at {} although entries up to {} were durable{excuse}",
                b.last_index, before.last_index
            ),
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use sut::trace::TraceRecord;

    /// A boot of `node` on disk `generation` that recovered snapshot `s` and
    /// log `first..=last`, with `faults` disk faults fired while it read.
    fn boot(
        node: u64,
        generation: u64,
        s: u64,
        (first, last): (u64, u64),
        faults: u64,
    ) -> TraceRecord {
        let event = TraceEvent::Boot {
            generation,
            term: 1,
            vote: None,
            commit: 0,
            snapshot_index: s,
            snapshot_term: 1,
            first_index: first,
            last_index: last,
            torn_tail_bytes: 0,
            recovering: false,
            injected_faults: faults,
        };
        TraceRecord {
            time: 0,
            node,
            event,
        }
    }

    fn persisted(node: u64, first: u64, last: u64) -> TraceRecord {
        let event = TraceEvent::Persisted {
            first,
            last,
            last_term: 1,
        };
        TraceRecord {
            time: 0,
            node,
            event,
        }
    }

    fn compacted(node: u64, snapshot_index: u64, first_index: u64, last_index: u64) -> TraceRecord {
        let event = TraceEvent::Compacted {
            snapshot_index,
            first_index,
            last_index,
        };
        TraceRecord {
            time: 0,
            node,
            event,
        }
    }

    fn check(trace: &[TraceRecord]) -> Finding {
        recovery(&RunData {
            trace,
            history: &[],
            final_reads_process: None,
            bounds: crate::invariants::SizeBounds {
                snapshot_threshold: 4,
                trailing_logs: 1,
                in_flight: 4,
            },
            initial_voters: &[1],
            network: None,
            timing: None,
        })
    }

    #[test]
    fn a_reboot_that_recovers_every_durable_entry_passes() {
        let f = check(&[
            boot(1, 0, 0, (1, 0), 0),
            persisted(1, 1, 5),
            compacted(1, 4, 4, 5),
            persisted(1, 6, 7),
            // 8 was appended but never reported durable: it may go.
            boot(1, 0, 4, (4, 7), 0),
        ]);
        assert!(f.passed(), "{:?}", f.violations);
        assert_eq!(
            f.examined,
            "2 boots, 1 of them on a disk the node had written"
        );
    }

    #[test]
    fn a_lost_durable_entry_is_a_violation() {
        let f = check(&[
            boot(1, 0, 0, (1, 0), 0),
            persisted(1, 1, 5),
            boot(1, 0, 0, (1, 4), 0),
        ]);
        assert_eq!(f.total, 1);
        assert!(f.violations[0]
            .message
            .contains("ending at 4 although entries up to 5"));
    }

    #[test]
    fn an_overwritten_suffix_ends_the_durable_log_where_the_new_entries_end() {
        let f = check(&[
            boot(1, 0, 0, (1, 0), 0),
            persisted(1, 1, 9),
            // A new leader's entries replace 6..=9 with 6..=7.
            persisted(1, 6, 7),
            boot(1, 0, 0, (1, 7), 0),
        ]);
        assert!(f.passed(), "{:?}", f.violations);
    }

    #[test]
    fn a_lost_disk_is_not_judged_here() {
        let f = check(&[
            boot(1, 0, 0, (1, 0), 0),
            persisted(1, 1, 5),
            boot(1, 1, 0, (1, 0), 0),
        ]);
        assert!(f.passed(), "{:?}", f.violations);
    }

    #[test]
    fn corrupted_reads_may_cost_the_last_record_but_no_more() {
        let before = [boot(1, 0, 0, (1, 0), 0), persisted(1, 1, 5)];
        let last_gone = [&before[..], &[boot(1, 0, 0, (1, 4), 1)]].concat();
        assert!(check(&last_gone).passed());
        let two_gone = [&before[..], &[boot(1, 0, 0, (1, 3), 1)]].concat();
        assert_eq!(check(&two_gone).total, 1);
    }

    #[test]
    fn the_log_must_start_where_the_last_compaction_left_it() {
        let f = check(&[
            boot(1, 0, 0, (1, 0), 0),
            persisted(1, 1, 6),
            compacted(1, 6, 7, 6),
            boot(1, 0, 6, (5, 6), 0),
        ]);
        assert_eq!(f.total, 1);
        assert!(f.violations[0].message.contains("starting at 5"));
    }

    #[test]
    fn a_durable_snapshot_marker_must_survive_unless_reads_were_corrupted() {
        let before = [
            boot(1, 0, 0, (1, 0), 0),
            persisted(1, 1, 6),
            compacted(1, 4, 4, 6),
        ];
        let older = [&before[..], &[boot(1, 0, 0, (1, 6), 0)]].concat();
        assert!(check(&older).violations[0]
            .message
            .contains("from snapshot 0"));
        let fell_back = [&before[..], &[boot(1, 0, 0, (1, 6), 2)]].concat();
        assert!(check(&fell_back).passed());
    }

    #[test]
    fn a_boot_whose_log_does_not_continue_its_snapshot_is_a_violation() {
        // An empty log after snapshot 6 starts at 7; reporting 5 claims two
        // entries the node does not have.
        assert!(check(&[boot(1, 0, 6, (7, 6), 0)]).passed());
        assert_eq!(check(&[boot(1, 0, 6, (8, 6), 0)]).total, 1);
        assert_eq!(check(&[boot(1, 0, 6, (5, 4), 0)]).total, 1);
        assert_eq!(check(&[boot(1, 0, 0, (u64::MAX, 0), 0)]).total, 1);
    }
}
