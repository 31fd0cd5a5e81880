//! `reads-answered`: a leader that takes a linearizable read owes the client
//! an answer. Each read a node accepted (`ReadAccepted`) is answered once
//! (`ReadAnswered`: served, or refused because the leadership was lost
//! before its read point was confirmed) within a bound of the node's own up
//! time, unless the node stopped first (a new boot, a halt): the read then
//! went with the process. A leader that silently drops a read (a new leader
//! that loses the reads it got before its term's first commit, say) only
//! shows in the history as a client timeout, which nothing else judges.
//!
//! The bound is generous: ten of the availability check's step-down bounds
//! of up time. A leader that can reach a majority confirms a read point in a
//! heartbeat round; one that cannot steps down within one step-down bound,
//! and stepping down refuses every read still waiting.
use super::{Finding, RunData, Violation};
use std::collections::BTreeMap;
use sut::trace::TraceEvent;

/// Step-down bounds of up time a read may wait for its answer.
const BOUNDS: u64 = 10;

pub fn reads_answered(run: &RunData) -> Finding {
    let end_of_run = (run.trace.iter().map(|r| r.time))
        .chain(run.history.iter().map(|e| e.time))
        .max()
        .unwrap_or(0);
    let bound = run.timing.map(|t| t.step_down_ns.saturating_mul(BOUNDS));
    // Per node: the reads it owes an answer, by request, with when it took them.
    let mut owed: BTreeMap<u64, BTreeMap<u64, u64>> = BTreeMap::new();
    let mut violations = Vec::new();
    let (mut accepted, mut answered, mut gone) = (0u64, 0u64, 0u64);
    for r in run.trace {
        let reads = owed.entry(r.node).or_default();
        match &r.event {
            TraceEvent::Boot { .. } | TraceEvent::Halt { .. } => {
                gone += reads.len() as u64;
                reads.clear();
            }
            TraceEvent::ReadAccepted { request } => {
                accepted += 1;
                if reads.insert(*request, r.time).is_some() {
                    violations.push(on_node(
                        r.node,
                        r.time,
                        format!(
                            "n{} accepted read {request} again while it still owed an answer to it",
                            r.node
                        ),
                    ));
                }
            }
            TraceEvent::ReadAnswered { request, served } => {
                answered += 1;
                let Some(at) = reads.remove(request) else {
                    violations.push(unowed(r.node, *request, *served, r.time));
                    continue;
                };
                if let Some(b) = bound {
                    let due = due(run, r.node, at, b, end_of_run);
                    if due.is_some_and(|d| r.time > d) {
                        violations.push(late(r.node, *request, at, r.time, b));
                    }
                }
            }
            _ => {}
        }
    }
    let mut unjudged = 0u64;
    for (&node, reads) in &owed {
        for (&request, &at) in reads {
            match bound.and_then(|b| due(run, node, at, b, end_of_run).map(|d| (b, d))) {
                // Located when the node took the read (it was leading then);
                // `due` is only when waiting stopped being excusable.
                Some((b, _due)) => violations.push(on_node(
                    node,
                    at,
                    format!(
                        "n{node} accepted read {request} at {} and never answered it, though it ran on for {} of up time (the run ended at {})",
                        secs(at),
                        secs(b),
                        secs(end_of_run)
                    ),
                )),
                None => unjudged += 1,
            }
        }
    }
    let examined = format!(
        "{accepted} reads accepted by leaders, {answered} answered; {gone} went with their node's crash or halt, {unjudged} were still waiting when the run ended{}",
        match bound {
            Some(b) => format!(" (each answered within {} of its node's up time)", secs(b)),
            None => " (no timing recorded: answers were not timed)".to_string(),
        }
    );
    Finding::new("reads-answered", examined, violations)
}

/// When read taken at `at` on `node` is overdue: after `bound` of the node's
/// up time (by the network record; all time counts without one). None when
/// the run ends first.
fn due(run: &RunData, node: u64, at: u64, bound: u64, end_of_run: u64) -> Option<u64> {
    let Some(net) = run.network else {
        let d = at.saturating_add(bound);
        return (d <= end_of_run).then_some(d);
    };
    let mut left = bound;
    let mut t = at;
    // The state in force at `at`, then each later one.
    let first = net.partition_point(|s| s.time <= at).saturating_sub(1);
    for (i, s) in net.iter().enumerate().skip(first) {
        let end = net.get(i + 1).map_or(end_of_run, |n| n.time);
        if end <= t {
            continue;
        }
        if !s.down.contains(&node) {
            let span = end - t;
            if span >= left {
                return Some(t + left);
            }
            left -= span;
        }
        t = end;
    }
    None
}

fn unowed(node: u64, request: u64, served: bool, time: u64) -> Violation {
    let how = if served { "served" } else { "refused" };
    on_node(
        node,
        time,
        format!("n{node} {how} read {request}, which it did not owe: never accepted, or already answered"),
    )
}

fn late(node: u64, request: u64, at: u64, time: u64, bound: u64) -> Violation {
    on_node(
        node,
        time,
        format!(
            "n{node} answered read {request} at {}, accepted at {}: over {} of its up time later",
            secs(time),
            secs(at),
            secs(bound)
        ),
    )
}

/// A violation at a node and a time, of no log index.
fn on_node(node: u64, time: u64, message: String) -> Violation {
    Violation {
        node: Some(node),
        index: None,
        term: None,
        time: Some(time),
        message,
        diff: Vec::new(),
    }
}

fn secs(ns: u64) -> String {
    format!("{:.2} s", ns as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::super::{NetState, SizeBounds, Timing};
    use super::*;
    use sut::trace::TraceRecord;

    const S: u64 = 1_000_000_000;

    fn rec(time: u64, node: u64, event: TraceEvent) -> TraceRecord {
        TraceRecord { time, node, event }
    }

    fn accepted(time: u64, node: u64, request: u64) -> TraceRecord {
        rec(time, node, TraceEvent::ReadAccepted { request })
    }

    fn answered(time: u64, node: u64, request: u64) -> TraceRecord {
        let served = true;
        rec(time, node, TraceEvent::ReadAnswered { request, served })
    }

    fn halt(time: u64, node: u64) -> TraceRecord {
        let reason = "disk".to_string();
        rec(
            time,
            node,
            TraceEvent::Halt {
                reason,
                injected_faults: 1,
            },
        )
    }

    /// The finding for `trace`, with a step-down bound of 1 s (so reads are
    /// due after 10 s of up time), on `network` if given.
    fn judge(trace: &[TraceRecord], network: Option<&[NetState]>) -> Finding {
        reads_answered(&RunData {
            trace,
            history: &[],
            final_reads_process: None,
            bounds: SizeBounds {
                snapshot_threshold: 1,
                trailing_logs: 1,
                in_flight: 1,
            },
            initial_voters: &[1, 2, 3],
            network,
            timing: Some(Timing {
                step_down_ns: S,
                window_ns: S,
            }),
        })
    }

    fn net(time: u64, down: &[u64]) -> NetState {
        NetState {
            time,
            cut: Vec::new(),
            down: down.to_vec(),
            clock: Vec::new(),
        }
    }

    #[test]
    fn every_accepted_read_answered_in_time_passes() {
        let trace = [
            accepted(S, 1, 1),
            accepted(S, 1, 2),
            answered(2 * S, 1, 2),
            answered(3 * S, 1, 1),
        ];
        let f = judge(&trace, None);
        assert!(f.passed(), "{f:?}");
        assert!(
            f.examined
                .starts_with("2 reads accepted by leaders, 2 answered"),
            "{}",
            f.examined
        );
    }

    #[test]
    fn a_read_never_answered_by_a_node_that_ran_on_fails() {
        // The run goes on to 30 s; n2's read of 1 s was due at 11 s.
        let trace = [
            accepted(S, 2, 7),
            accepted(29 * S, 1, 1),
            answered(30 * S, 1, 1),
        ];
        let f = judge(&trace, None);
        assert_eq!(f.total, 1, "{f:?}");
        let v = &f.violations[0];
        assert_eq!((v.node, v.time), (Some(2), Some(S)), "at the accept: {v:?}");
        assert!(
            v.message
                .contains("n2 accepted read 7 at 1.00 s and never answered it"),
            "{v:?}"
        );
    }

    #[test]
    fn reads_that_go_with_a_crash_or_halt_or_outlive_the_run_are_not_judged() {
        let mut reboot = accepted(0, 1, 0);
        reboot.event = TraceEvent::Boot {
            generation: 1,
            term: 1,
            vote: None,
            commit: 0,
            snapshot_index: 0,
            snapshot_term: 0,
            first_index: 1,
            last_index: 0,
            torn_tail_bytes: 0,
            recovering: false,
            injected_faults: 0,
        };
        reboot.time = 2 * S;
        // n1's read went with its crash (the next boot), n2's with its halt;
        // n3's was taken 5 s before the run ended.
        let trace = [
            accepted(S, 1, 1),
            reboot,
            accepted(S, 2, 1),
            halt(3 * S, 2),
            accepted(25 * S, 3, 1),
            answered(30 * S, 3, 9),
        ];
        let f = judge(&trace[..5], None);
        assert!(f.passed(), "{f:?}");
        assert!(
            f.examined
                .contains("2 went with their node's crash or halt, 1 were still waiting"),
            "{}",
            f.examined
        );
        // Answering a read never taken (or twice) is a violation of its own.
        let f = judge(&trace, None);
        assert_eq!(f.total, 1, "{f:?}");
        assert!(
            f.violations[0]
                .message
                .contains("n3 served read 9, which it did not owe"),
            "{f:?}"
        );
    }

    #[test]
    fn only_up_time_counts_toward_the_bound() {
        // n1 is down from 2 s to 20 s: its read taken at 1 s has 1 s of up
        // time before and is due at 29 s, so an answer at 25 s is in time,
        // one at 30 s late, and one never given by the end at 40 s a
        // violation (located at the accept).
        let network = [net(0, &[]), net(2 * S, &[1]), net(20 * S, &[])];
        let trace = [
            accepted(S, 1, 1),
            answered(25 * S, 1, 1),
            accepted(40 * S, 2, 1),
        ];
        assert!(judge(&trace, Some(&network)).passed());
        let late = [
            accepted(S, 1, 1),
            answered(30 * S, 1, 1),
            accepted(40 * S, 2, 1),
        ];
        let f = judge(&late, Some(&network));
        assert_eq!(f.total, 1, "{f:?}");
        assert!(
            f.violations[0]
                .message
                .contains("answered read 1 at 30.00 s, accepted at 1.00 s"),
            "{f:?}"
        );
        let never = [accepted(S, 1, 1), accepted(40 * S, 2, 1)];
        let f = judge(&never, Some(&network));
        assert_eq!(f.violations.first().and_then(|v| v.time), Some(S), "{f:?}");
    }
}
