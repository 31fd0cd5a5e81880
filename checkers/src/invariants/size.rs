//! Size bounds (6.824 TestSnapshotSize): after compaction a node keeps at most
//! `trailing_logs` entries behind its snapshot and a bounded number after it; and a
//! snapshot is as big as the state it holds — it must not carry the log or grow
//! with the history.
use super::snapshot::References;
use super::{Finding, RunData, Violation};
use sut::trace::TraceEvent;

/// Slack for an encoding's framing over the state the specification says it holds.
const SNAPSHOT_SLACK_BYTES: u64 = 256;

pub fn size_bounds(run: &RunData, refs: &References) -> Finding {
    let b = run.bounds;
    let mut violations = Vec::new();
    let mut compactions = 0;
    let mut sizes = Vec::new();
    for r in run.trace {
        match &r.event {
            TraceEvent::Compacted {
                snapshot_index,
                first_index,
                last_index,
            } => {
                compactions += 1;
                let behind = (snapshot_index + 1).saturating_sub(*first_index);
                let ahead = last_index.saturating_sub(*snapshot_index);
                if behind > b.trailing_logs {
                    violations.push(Violation::at(
                        r.node,
                        *snapshot_index,
                        r.time,
                        format!(
                            "n{} kept {behind} entries behind its snapshot at {snapshot_index}; trailing-logs is {}",
                            r.node, b.trailing_logs
                        ),
                    ));
                }
                if ahead > b.snapshot_threshold + b.in_flight {
                    violations.push(Violation::at(
                        r.node,
                        *snapshot_index,
                        r.time,
                        format!(
                            "n{} kept {ahead} entries after its snapshot at {snapshot_index}; at most threshold {} + in-flight {} expected",
                            r.node, b.snapshot_threshold, b.in_flight
                        ),
                    ));
                }
            }
            TraceEvent::SnapshotCreated { index, size, .. } => {
                sizes.push((r.node, r.time, *index, *size));
            }
            _ => {}
        }
    }
    for (node, time, index, size) in &sizes {
        if let Some(reference) = refs.get(index) {
            if *size > 2 * reference.size + SNAPSHOT_SLACK_BYTES {
                violations.push(Violation::at(
                    *node,
                    *index,
                    *time,
                    format!(
                        "n{node}'s snapshot at {index} is {size} bytes for {} bytes of state",
                        reference.size
                    ),
                ));
            }
        }
    }
    Finding::new(
        "size-bounds",
        format!(
            "{compactions} compactions kept the log within bounds; {} snapshots sized like their state",
            sizes.len()
        ),
        violations,
    )
}
