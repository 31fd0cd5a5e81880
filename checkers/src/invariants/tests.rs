//! Hand-made traces that break exactly one property each, and ones that pass.
use super::reference::ReferenceKv;
use super::*;
use crate::history::{Event, EventKind, Function, Value};
use sut::fnv64;
use sut::ops::Op;
use sut::trace::{ApplyKind, Role, StateContents, TraceEvent, TraceRecord};

const BOUNDS: SizeBounds = SizeBounds {
    snapshot_threshold: 2,
    trailing_logs: 1,
    in_flight: 4,
};

fn rec(time: u64, node: u64, event: TraceEvent) -> TraceRecord {
    TraceRecord { time, node, event }
}

fn put(key: &str, value: &str) -> Op {
    Op::Put {
        key: key.into(),
        value: value.into(),
    }
}

/// An apply of command (client 1, seq = index) at `index` in term 1.
fn apply(node: u64, index: u64, op: Op) -> TraceRecord {
    apply_as(node, index, 1, 1, index, op)
}

fn apply_as(node: u64, index: u64, term: u64, client: u64, seq: u64, op: Op) -> TraceRecord {
    // Any digest that tells commands apart will do: checkers compare them only.
    let encoded = format!("{client}/{seq}/{op:?}");
    rec(
        index * 10,
        node,
        TraceEvent::Apply {
            index,
            term,
            kind: ApplyKind::Command,
            digest: fnv64(encoded.as_bytes()),
            client: Some(client),
            seq: Some(seq),
            op: Some(op),
            conf_change: None,
            effective: true,
        },
    )
}

fn boot(node: u64, snapshot_index: u64) -> TraceRecord {
    rec(
        0,
        node,
        TraceEvent::Boot {
            generation: 0,
            term: 0,
            vote: None,
            commit: 0,
            snapshot_index,
            snapshot_term: 0,
            first_index: 1,
            last_index: 0,
            torn_tail_bytes: 0,
            recovering: false,
            injected_faults: 0,
        },
    )
}

/// The KV state after the first `n` of `ops` (as applied by `apply`).
fn state(ops: &[Op], n: usize) -> StateContents {
    let mut kv = ReferenceKv::default();
    for (i, op) in ops.iter().take(n).enumerate() {
        kv.apply(1, i as u64 + 1, op);
    }
    kv.contents()
}

/// The same data with an empty session table (a snapshot that forgot them).
fn without_sessions(mut c: StateContents) -> StateContents {
    c.sessions.clear();
    c
}

fn snapshot_created(node: u64, index: u64, term: u64, kv: &StateContents) -> TraceRecord {
    rec(
        index * 10 + 5,
        node,
        TraceEvent::SnapshotCreated {
            index,
            term,
            size: 20 * (kv.data.len() + kv.sessions.len()) as u64,
            state_digest: fnv64(format!("{kv:?}").as_bytes()),
            keys: kv.data.len() as u64,
            sessions: kv.sessions.len() as u64,
            contents: kv.clone(),
        },
    )
}

fn restored(node: u64, index: u64, applied: u64, kv: &StateContents) -> TraceRecord {
    rec(
        index * 10 + 6,
        node,
        TraceEvent::Restored {
            index,
            term: 1,
            state_digest: fnv64(format!("{kv:?}").as_bytes()),
            applied,
            on_boot: false,
            contents: kv.clone(),
        },
    )
}

fn ops3() -> Vec<Op> {
    vec![put("a", "1"), put("b", "2"), put("a", "3")]
}

/// Three nodes apply the same three entries: the clean baseline.
fn clean_trace() -> Vec<TraceRecord> {
    let mut t = Vec::new();
    for n in 1..=3 {
        t.push(boot(n, 0));
    }
    for (i, op) in ops3().into_iter().enumerate() {
        for n in 1..=3 {
            t.push(apply(n, i as u64 + 1, op.clone()));
        }
    }
    t
}

fn run<'a>(trace: &'a [TraceRecord], history: &'a [Event]) -> Vec<Finding> {
    check_all(&RunData {
        trace,
        history,
        final_reads_process: Some(99),
        bounds: BOUNDS,
        initial_voters: &[1, 2, 3],
        network: None,
        timing: None,
    })
}

/// The findings that failed, by name.
fn failed(trace: &[TraceRecord], history: &[Event]) -> Vec<&'static str> {
    run(trace, history)
        .into_iter()
        .filter(|f| !f.passed())
        .map(|f| f.check)
        .collect()
}

fn finding(trace: &[TraceRecord], history: &[Event], name: &str) -> Finding {
    run(trace, history)
        .into_iter()
        .find(|f| f.check == name)
        .expect("check exists")
}

#[test]
fn clean_trace_passes_every_check() {
    let mut t = clean_trace();
    let kv = state(&ops3(), 2);
    t.push(snapshot_created(1, 2, 1, &kv));
    assert_eq!(failed(&t, &[]), Vec::<&str>::new());
    assert_eq!(run(&t, &[]).len(), CHECKS.len());
}

#[test]
fn different_commands_at_one_index_break_state_machine_safety() {
    let mut t = clean_trace();
    t.push(boot(4, 0));
    t.push(apply(4, 1, put("a", "other")));
    assert_eq!(failed(&t, &[]), vec!["state-machine-safety"]);
    let v = &finding(&t, &[], "state-machine-safety").violations[0];
    assert_eq!((v.node, v.index, v.term), (Some(4), Some(1), Some(1)));
    assert!(
        v.message.contains("n4") && v.message.contains("index 1"),
        "{}",
        v.message
    );
}

#[test]
fn snapshot_with_wrong_state_names_the_differing_keys() {
    let mut t = clean_trace();
    // Claims index 2 but holds the state of index 1 (b is missing).
    t.push(snapshot_created(2, 2, 1, &state(&ops3(), 1)));
    assert_eq!(failed(&t, &[]), vec!["snapshot-fidelity"]);
    let v = &finding(&t, &[], "snapshot-fidelity").violations[0];
    assert_eq!((v.node, v.index), (Some(2), Some(2)));
    assert_eq!(v.diff[0].key, "b");
    assert_eq!(v.diff[0].actual, None);
    assert!(
        v.diff.iter().any(|d| d.key == "session 1"),
        "sessions are compared: {:?}",
        v.diff
    );
}

#[test]
fn snapshot_without_sessions_is_caught() {
    let mut t = clean_trace();
    // The right data at index 2, but no session table.
    t.push(snapshot_created(
        1,
        2,
        1,
        &without_sessions(state(&ops3(), 2)),
    ));
    let f = finding(&t, &[], "snapshot-fidelity");
    assert!(!f.passed());
    assert_eq!(f.violations[0].diff.len(), 1, "{:?}", f.violations[0].diff);
    assert_eq!(f.violations[0].diff[0].key, "session 1");
    assert_eq!(f.violations[0].diff[0].actual, None);
}

#[test]
fn snapshot_labelled_with_the_wrong_term_is_caught() {
    let mut t = clean_trace();
    t.push(snapshot_created(1, 2, 7, &state(&ops3(), 2)));
    let f = finding(&t, &[], "snapshot-fidelity");
    assert!(!f.passed());
    assert!(
        f.violations[0].message.contains("labelled term 7"),
        "{}",
        f.violations[0].message
    );
}

#[test]
fn snapshot_beyond_the_committed_log_is_caught() {
    let mut t = clean_trace();
    t.push(snapshot_created(1, 9, 1, &state(&ops3(), 3)));
    let f = finding(&t, &[], "snapshot-fidelity");
    assert!(!f.passed());
    assert!(
        f.violations[0].message.contains("no entry 4"),
        "{}",
        f.violations[0].message
    );
}

#[test]
fn restore_with_wrong_state_or_index_is_caught() {
    let ops = ops3();
    let mut t = vec![boot(1, 0), boot(2, 0)];
    for (i, op) in ops.iter().enumerate() {
        t.push(apply(1, i as u64 + 1, op.clone()));
    }
    // Node 2 restores index 2 correctly, then applies 3: fine.
    let mut good = t.clone();
    good.push(restored(2, 2, 2, &state(&ops, 2)));
    good.push(apply(2, 3, ops[2].clone()));
    assert_eq!(failed(&good, &[]), Vec::<&str>::new());
    // Wrong state restored.
    let mut bad = t.clone();
    bad.push(restored(2, 2, 2, &state(&ops, 1)));
    assert_eq!(failed(&bad, &[]), vec!["restore-fidelity"]);
    // applied not moved to the snapshot index.
    let mut bad = t.clone();
    bad.push(restored(2, 2, 0, &state(&ops, 2)));
    assert!(finding(&bad, &[], "restore-fidelity").violations[0]
        .message
        .contains("applied = 0"));
    // Applying index 1 again after restoring index 2.
    let mut bad = t;
    bad.push(restored(2, 2, 2, &state(&ops, 2)));
    bad.push(apply(2, 1, ops[0].clone()));
    let f = finding(&bad, &[], "restore-fidelity");
    assert!(
        f.violations[0].message.contains("instead of 3"),
        "{}",
        f.violations[0].message
    );
}

#[test]
fn commit_going_back_within_a_boot_breaks_monotonicity_but_not_across_boots() {
    let mut t = clean_trace();
    t.push(rec(100, 1, TraceEvent::Commit { index: 3, term: 1 }));
    let mut across = t.clone();
    across.push(boot(1, 0));
    across.push(rec(200, 1, TraceEvent::Commit { index: 1, term: 1 }));
    assert_eq!(failed(&across, &[]), Vec::<&str>::new());
    t.push(rec(200, 1, TraceEvent::Commit { index: 2, term: 1 }));
    assert_eq!(failed(&t, &[]), vec!["monotonicity"]);
    let v = &finding(&t, &[], "monotonicity").violations[0];
    assert_eq!((v.node, v.index), (Some(1), Some(2)));
}

#[test]
fn applies_must_be_contiguous_per_boot() {
    let mut t = vec![boot(1, 0)];
    t.push(apply(1, 1, put("a", "1")));
    t.push(apply(1, 3, put("a", "3")));
    let f = finding(&t, &[], "monotonicity");
    assert!(!f.passed());
    assert!(f.violations[0].message.contains("skipped to 3"));
}

fn leader(node: u64, term: u64, last_index: u64, last_term: u64) -> TraceRecord {
    rec(
        1000,
        node,
        TraceEvent::Role {
            role: Role::Leader,
            term,
            leader: Some(node),
            last_index,
            last_term,
        },
    )
}

#[test]
fn two_leaders_in_one_term_break_election_safety() {
    let mut t = clean_trace();
    t.push(leader(1, 2, 3, 1));
    t.push(leader(1, 2, 3, 1)); // the same leader twice is fine
    assert_eq!(failed(&t, &[]), Vec::<&str>::new());
    t.push(leader(2, 2, 3, 1));
    assert_eq!(failed(&t, &[]), vec!["election-safety"]);
    let v = &finding(&t, &[], "election-safety").violations[0];
    assert_eq!((v.node, v.term), (Some(2), Some(2)));
}

#[test]
fn following_a_node_that_never_led_the_term_breaks_election_safety() {
    let follower = |node: u64, term: u64, leader: u64| {
        rec(
            1200,
            node,
            TraceEvent::Role {
                role: Role::Follower,
                term,
                leader: Some(leader),
                last_index: 3,
                last_term: 1,
            },
        )
    };
    let mut t = clean_trace();
    t.push(leader(1, 2, 3, 1));
    t.push(follower(2, 2, 1));
    assert_eq!(failed(&t, &[]), Vec::<&str>::new());
    // n3 takes a message of n1's (leader of term 2) as if it led term 5.
    t.push(follower(3, 5, 1));
    assert_eq!(failed(&t, &[]), vec!["election-safety"]);
    let v = &finding(&t, &[], "election-safety").violations[0];
    assert_eq!((v.node, v.term), (Some(3), Some(5)));
    assert!(v.message.contains("never led term 5"), "{}", v.message);
}

#[test]
fn leader_missing_a_committed_entry_breaks_completeness() {
    let mut t = clean_trace();
    t.push(rec(500, 1, TraceEvent::Commit { index: 3, term: 1 }));
    t.push(leader(2, 2, 3, 1));
    assert_eq!(failed(&t, &[]), Vec::<&str>::new());
    t.push(leader(3, 3, 1, 1));
    assert_eq!(failed(&t, &[]), vec!["leader-completeness"]);
    let v = &finding(&t, &[], "leader-completeness").violations[0];
    assert_eq!((v.node, v.index, v.term), (Some(3), Some(3), Some(3)));
}

#[test]
fn a_late_leader_of_an_earlier_term_need_not_hold_later_commits() {
    let mut t = clean_trace();
    // n1 leads term 4 and commits entry 5 (term 4).
    t.push(leader(1, 4, 5, 4));
    t.push(rec(1100, 1, TraceEvent::Commit { index: 5, term: 4 }));
    // n3 wins term 3 late, with votes granted before term 4 began: Raft
    // does not require term 4's entries in its log.
    t.push(leader(3, 3, 3, 1));
    assert_eq!(failed(&t, &[]), Vec::<&str>::new());
    // A leader of term 5 does need them.
    t.push(leader(2, 5, 3, 1));
    assert_eq!(failed(&t, &[]), vec!["leader-completeness"]);
    let v = &finding(&t, &[], "leader-completeness").violations[0];
    assert_eq!((v.node, v.index, v.term), (Some(2), Some(5), Some(5)));
}

#[test]
fn a_commit_counts_in_the_term_of_the_node_that_announced_it() {
    let mut t = clean_trace();
    // n2, a follower in term 6, learns that entry 4 (term 2) is committed:
    // it was committed in term 6, so a leader of term 5 need not hold it.
    t.push(leader(1, 6, 4, 2));
    t.push(rec(
        1000,
        2,
        TraceEvent::Role {
            role: Role::Follower,
            term: 6,
            leader: Some(1),
            last_index: 4,
            last_term: 2,
        },
    ));
    t.push(rec(1100, 2, TraceEvent::Commit { index: 4, term: 2 }));
    t.push(leader(3, 5, 3, 1));
    assert_eq!(failed(&t, &[]), Vec::<&str>::new());
    t.push(leader(1, 7, 3, 1));
    assert_eq!(failed(&t, &[]), vec!["leader-completeness"]);
}

fn ev(
    index: u64,
    process: u64,
    kind: EventKind,
    f: Function,
    key: &str,
    value: Option<&str>,
) -> Event {
    Event {
        index,
        process,
        kind,
        f,
        key: key.into(),
        value: value.map(|v| Value::String(v.into())),
        time: index * 7,
        node: Some(1),
        error: None,
    }
}

#[test]
fn acknowledged_write_missing_from_the_log_breaks_durability() {
    let t = clean_trace();
    let ok = |i, k, v| ev(i, 0, EventKind::Ok, Function::Put, k, Some(v));
    let inv = |i, k, v| ev(i, 0, EventKind::Invoke, Function::Put, k, Some(v));
    let history = vec![inv(0, "a", "1"), ok(1, "a", "1")];
    assert_eq!(failed(&t, &history), Vec::<&str>::new());
    let history = vec![inv(0, "z", "lost"), ok(1, "z", "lost")];
    assert_eq!(failed(&t, &history), vec!["durability"]);
    assert!(finding(&t, &history, "durability").violations[0]
        .message
        .contains("\"lost\""));
}

fn list_trace(tokens: &[(u64, &str)]) -> Vec<TraceRecord> {
    let mut t = vec![boot(1, 0)];
    for (i, (seq, tok)) in tokens.iter().enumerate() {
        t.push(apply_as(
            1,
            i as u64 + 1,
            1,
            1,
            *seq,
            Op::Append {
                key: "list0".into(),
                value: (*tok).into(),
            },
        ));
    }
    t
}

fn list_history(acked: &[&str], final_read: &str) -> Vec<Event> {
    let mut h = Vec::new();
    for tok in acked {
        let i = h.len() as u64;
        h.push(ev(
            i,
            0,
            EventKind::Invoke,
            Function::Append,
            "list0",
            Some(tok),
        ));
        h.push(ev(
            i + 1,
            0,
            EventKind::Ok,
            Function::Append,
            "list0",
            Some(tok),
        ));
    }
    let i = h.len() as u64;
    h.push(ev(i, 99, EventKind::Invoke, Function::Get, "list0", None));
    h.push(ev(
        i + 1,
        99,
        EventKind::Ok,
        Function::Get,
        "list0",
        Some(final_read),
    ));
    h
}

#[test]
fn duplicate_apply_of_one_command_breaks_exactly_once() {
    let t = list_trace(&[(1, "<1>"), (2, "<2>")]);
    let h = list_history(&["<1>", "<2>"], "<1><2>");
    assert_eq!(failed(&t, &h), Vec::<&str>::new());
    // The retry of seq 1 took effect again at index 3.
    let t = list_trace(&[(1, "<1>"), (2, "<2>"), (1, "<1>")]);
    let h = list_history(&["<1>", "<2>"], "<1><2><1>");
    let f = finding(&t, &h, "exactly-once");
    assert!(!f.passed());
    assert!(f
        .violations
        .iter()
        .any(|v| v.message.contains("took effect twice")));
    assert!(f
        .violations
        .iter()
        .any(|v| v.message.contains("appears 2 times")));
    assert!(f
        .violations
        .iter()
        .any(|v| v.message.contains("was acknowledged before")));
}

#[test]
fn the_final_list_read_follows_real_time_not_issue_order() {
    let t = list_trace(&[(1, "<1>"), (2, "<2>")]);
    // <1> was acknowledged before <2> was invoked: <2><1> breaks real time.
    let h = list_history(&["<1>", "<2>"], "<2><1>");
    let f = finding(&t, &h, "exactly-once");
    assert!(
        f.violations
            .iter()
            .any(|v| v.message.contains("has <2> before <1>")),
        "{:?}",
        f.violations
    );
    // Concurrent appends (both invoked before either is acknowledged, as when
    // one timed out and another session's came first) may land either way.
    let mut h = vec![
        ev(
            0,
            0,
            EventKind::Invoke,
            Function::Append,
            "list0",
            Some("<1>"),
        ),
        ev(
            1,
            1,
            EventKind::Invoke,
            Function::Append,
            "list0",
            Some("<2>"),
        ),
        ev(2, 1, EventKind::Ok, Function::Append, "list0", Some("<2>")),
        ev(3, 0, EventKind::Ok, Function::Append, "list0", Some("<1>")),
    ];
    h.push(ev(4, 99, EventKind::Invoke, Function::Get, "list0", None));
    h.push(ev(
        5,
        99,
        EventKind::Ok,
        Function::Get,
        "list0",
        Some("<2><1>"),
    ));
    let t = list_trace(&[(1, "<2>"), (2, "<1>")]);
    assert_eq!(
        failed(&t, &h),
        Vec::<&str>::new(),
        "concurrent appends in either order"
    );
}

#[test]
fn acknowledged_append_missing_from_the_final_read_is_caught() {
    let t = list_trace(&[(1, "<1>"), (2, "<2>")]);
    let h = list_history(&["<1>", "<2>"], "<1>");
    let failed = failed(&t, &h);
    assert!(
        failed.contains(&"exactly-once") && failed.contains(&"durability"),
        "{failed:?}"
    );
}

#[test]
fn oversized_log_or_snapshot_breaks_size_bounds() {
    let mut t = clean_trace();
    let compacted = |snapshot_index, first_index, last_index| {
        rec(
            50,
            1,
            TraceEvent::Compacted {
                snapshot_index,
                first_index,
                last_index,
            },
        )
    };
    t.push(compacted(3, 3, 5)); // one trailing entry, two after: fine
    assert_eq!(failed(&t, &[]), Vec::<&str>::new());
    let mut bad = t.clone();
    bad.push(compacted(3, 1, 3)); // three behind, trailing-logs is 1
    assert_eq!(failed(&bad, &[]), vec!["size-bounds"]);
    let mut bad = t;
    let kv = state(&ops3(), 2);
    let mut big = snapshot_created(1, 2, 1, &kv);
    if let TraceEvent::SnapshotCreated { size, .. } = &mut big.event {
        *size = 100_000; // a snapshot that carries the log
    }
    bad.push(big);
    assert_eq!(failed(&bad, &[]), vec!["size-bounds"]);
}

fn role(time: u64, node: u64, role: Role, term: u64) -> TraceRecord {
    rec(
        time,
        node,
        TraceEvent::Role {
            role,
            term,
            leader: (role == Role::Leader).then_some(node),
            last_index: 3,
            last_term: 1,
        },
    )
}

#[test]
fn a_leader_committing_only_its_own_terms_entries_passes_the_commit_rule() {
    let mut t = clean_trace();
    // n1 leads term 1 and commits its entries; n2, a follower in term 2, learns
    // a commit of a term-1 entry (fine: followers commit what leaders say).
    t.push(role(100, 1, Role::Leader, 1));
    t.push(rec(110, 1, TraceEvent::Commit { index: 3, term: 1 }));
    t.push(role(120, 2, Role::Follower, 2));
    t.push(rec(130, 2, TraceEvent::Commit { index: 3, term: 1 }));
    // n1 steps down, n3 leads term 2 and commits its own no-op at 4.
    t.push(role(140, 1, Role::Follower, 2));
    t.push(rec(150, 1, TraceEvent::Commit { index: 3, term: 1 }));
    t.push(role(160, 3, Role::Leader, 2));
    t.push(rec(170, 3, TraceEvent::Commit { index: 4, term: 2 }));
    assert_eq!(failed(&t, &[]), Vec::<&str>::new());
    let f = finding(&t, &[], "commit-rule");
    assert!(f.examined.starts_with("2 leader commits"), "{}", f.examined);
}

#[test]
fn a_leader_committing_an_earlier_terms_entry_breaks_the_commit_rule() {
    let mut t = clean_trace();
    t.push(role(100, 1, Role::Leader, 1));
    t.push(rec(110, 1, TraceEvent::Commit { index: 2, term: 1 }));
    // n2 leads term 3 and commits entry 3 of term 1 by counting replicas.
    t.push(role(120, 2, Role::Leader, 3));
    t.push(rec(130, 2, TraceEvent::Commit { index: 3, term: 1 }));
    assert_eq!(failed(&t, &[]), vec!["commit-rule"]);
    let v = &finding(&t, &[], "commit-rule").violations[0];
    assert_eq!((v.node, v.index, v.term), (Some(2), Some(3), Some(3)));
    assert!(v.message.contains("of term 1"), "{}", v.message);
    // A reboot ends leadership: the same commit after it is a follower's.
    let mut rebooted = t[..t.len() - 1].to_vec();
    rebooted.push(boot(2, 0));
    rebooted.push(rec(130, 2, TraceEvent::Commit { index: 3, term: 1 }));
    assert_eq!(failed(&rebooted, &[]), Vec::<&str>::new());
}

#[test]
fn snapshot_with_a_wrong_value_shows_both_values() {
    let mut t = clean_trace();
    let mut kv = state(&ops3(), 2);
    kv.data.insert("a".into(), String::new()); // an empty value is not "1"
    t.push(snapshot_created(1, 2, 1, &kv));
    let v = &finding(&t, &[], "snapshot-fidelity").violations[0];
    assert_eq!(v.diff.len(), 1, "{:?}", v.diff);
    assert_eq!(v.diff[0].key, "a");
    assert_eq!(v.diff[0].expected.as_deref(), Some("\"1\""));
    assert_eq!(v.diff[0].actual.as_deref(), Some("\"\""));
}

#[test]
fn snapshot_with_a_wrong_session_outcome_is_caught() {
    let mut t = clean_trace();
    let mut kv = state(&ops3(), 2);
    let s = kv.sessions.get_mut(&1).expect("client 1");
    s.outcome = sut::ops::Outcome::CasMismatch { current: None };
    t.push(snapshot_created(1, 2, 1, &kv));
    let v = &finding(&t, &[], "snapshot-fidelity").violations[0];
    assert_eq!(v.diff[0].key, "session 1");
    assert!(v.diff[0]
        .actual
        .as_deref()
        .unwrap_or("")
        .contains("CasMismatch"));
}

#[test]
fn restored_state_is_compared_value_for_value() {
    let mut t = clean_trace();
    let mut kv = state(&ops3(), 2);
    kv.data.insert("stale".into(), "left over".into()); // a restore that merged
    t.push(restored(2, 2, 2, &kv));
    let v = &finding(&t, &[], "restore-fidelity").violations[0];
    assert_eq!(v.diff[0].key, "stale");
    assert_eq!(v.diff[0].expected, None);
}

#[test]
fn session_decisions_are_judged_against_the_reference() {
    // Entry 2 retries entry 1's (client 1, seq 1): the reference skips it.
    let mut t = vec![boot(1, 0)];
    t.push(apply_as(1, 1, 1, 1, 1, put("a", "1")));
    let mut retry = apply_as(1, 2, 1, 1, 1, put("a", "1"));
    t.push(retry.clone());
    let f = finding(&t, &[], "exactly-once");
    assert!(!f.passed(), "a retry that took effect is caught");
    assert!(
        f.violations
            .iter()
            .any(|v| v.message.contains("a retry the session table must skip")),
        "{:?}",
        f.violations
    );
    if let TraceEvent::Apply { effective, .. } = &mut retry.event {
        *effective = false;
    }
    t[2] = retry;
    assert!(finding(&t, &[], "exactly-once").passed());
    // A new command skipped as a retry is caught too.
    let mut skipped = apply_as(1, 3, 1, 1, 2, put("a", "2"));
    if let TraceEvent::Apply { effective, .. } = &mut skipped.event {
        *effective = false;
    }
    t.push(skipped);
    let f = finding(&t, &[], "exactly-once");
    assert!(f
        .violations
        .iter()
        .any(|v| v.message.contains("new and must take effect")));
}

/// The availability finding for a run on `voters` with this network timeline.
fn availability_of(
    trace: &[TraceRecord],
    history: &[Event],
    voters: &[u64],
    net: &[crate::invariants::NetState],
    timing: crate::invariants::Timing,
) -> Finding {
    check_all(&RunData {
        trace,
        history,
        final_reads_process: Some(99),
        bounds: BOUNDS,
        initial_voters: voters,
        network: Some(net),
        timing: Some(timing),
    })
    .into_iter()
    .find(|f| f.check == "availability")
    .expect("availability runs")
}

mod availability {
    use super::*;
    use crate::invariants::{NetState, Timing};

    const TIMING: Timing = Timing {
        step_down_ns: 2_000,
        window_ns: 1_000,
    };

    fn leader_at(time: u64, node: u64, term: u64) -> TraceRecord {
        role(time, node, Role::Leader, term)
    }

    fn judge(trace: &[TraceRecord], history: &[Event], net: &[NetState]) -> Finding {
        availability_of(trace, history, &[1, 2, 3], net, TIMING)
    }

    /// n1 is cut off from 2 and 3 during [1000, 9000).
    fn isolated_n1() -> Vec<NetState> {
        let cut = vec![(1, 2), (2, 1), (1, 3), (3, 1)];
        vec![
            NetState::default(),
            NetState {
                time: 1_000,
                cut,
                ..NetState::default()
            },
            NetState {
                time: 9_000,
                ..NetState::default()
            },
        ]
    }

    #[test]
    fn a_leader_that_hears_from_a_peer_resuming_may_keep_leading() {
        // n1 can no longer send to 2 or 3 from 1000 on; n2 is paused until
        // 2500 and, resuming, answers what queued up for it (2 -> 1 works).
        let one_way = vec![(1, 2), (1, 3)];
        let net = |n2_paused: bool| {
            vec![
                NetState::default(),
                NetState {
                    time: 1_000,
                    cut: one_way.clone(),
                    down: vec![2],
                    ..NetState::default()
                },
                NetState {
                    time: 2_500,
                    cut: one_way.clone(),
                    down: if n2_paused { vec![2] } else { vec![] },
                    ..NetState::default()
                },
                NetState {
                    time: 9_000,
                    ..NetState::default()
                },
            ]
        };
        // Leader until 4000: within the bound of n2's answer at 2500.
        let t = vec![leader_at(10, 1, 1), role(4_000, 1, Role::Follower, 1)];
        let f = judge(&t, &[], &net(false));
        assert!(f.passed(), "{:?}", f.violations);
        // Had n2 stayed paused, n1 heard from no one after 1000.
        let f = judge(&t, &[], &net(true));
        assert!(!f.passed(), "a leader alone from 1000 to 4000 is caught");
    }

    #[test]
    fn a_leader_that_steps_down_in_time_passes() {
        let t = vec![leader_at(10, 1, 1), role(2_500, 1, Role::Follower, 1)];
        let f = judge(&t, &[], &isolated_n1());
        assert!(f.passed(), "{:?}", f.violations);
        assert!(f.examined.starts_with("1 leaderships"), "{}", f.examined);
    }

    #[test]
    fn a_leader_alone_past_the_bound_is_caught_with_its_commits_and_acks() {
        let mut t = vec![leader_at(10, 1, 1)];
        t.push(rec(5_000, 1, TraceEvent::Commit { index: 7, term: 1 }));
        t.push(role(8_000, 1, Role::Follower, 1));
        let ack = Event {
            index: 0,
            process: 1,
            kind: EventKind::Ok,
            f: Function::Get,
            key: "a".into(),
            value: None,
            time: 4_000,
            node: Some(1),
            error: None,
        };
        let f = judge(&t, &[ack], &isolated_n1());
        let messages: Vec<&str> = f.violations.iter().map(|v| v.message.as_str()).collect();
        assert_eq!(f.total, 3, "{messages:?}");
        assert!(
            messages[0].contains("n1 was still leader of term 1"),
            "{}",
            messages[0]
        );
        assert_eq!(
            f.violations[0].time,
            Some(3_000),
            "judged from the cut plus the bound"
        );
        assert!(messages.iter().any(|m| m.contains("committed index 7")));
        assert!(messages.iter().any(|m| m.contains("answered a Get")));
    }

    #[test]
    fn a_slow_clock_stretches_the_bound_and_a_down_node_is_not_judged() {
        let mut net = isolated_n1();
        net[1].clock = vec![(1, 0.5)];
        let t = vec![leader_at(10, 1, 1), role(3_500, 1, Role::Follower, 1)];
        assert!(judge(&t, &[], &net).passed(), "bound is 4000 at half speed");
        let mut net = isolated_n1();
        net[1].down = vec![1];
        let t = vec![leader_at(10, 1, 1)];
        assert!(
            judge(&t, &[], &net).passed(),
            "a crashed or paused node acts on nothing"
        );
    }

    #[test]
    fn a_follower_learning_commits_from_a_reachable_leader_is_not_judged() {
        // n1 is cut off but not leading: the commit it records is not judged.
        let t = vec![rec(5_000, 1, TraceEvent::Commit { index: 3, term: 1 })];
        assert!(judge(&t, &[], &isolated_n1()).passed());
    }

    #[test]
    fn without_a_network_timeline_it_says_so() {
        let f = finding(&clean_trace(), &[], "availability");
        assert!(f.passed());
        assert!(f.examined.contains("not judged"), "{}", f.examined);
    }
}

mod membership {
    use super::*;
    use sut::trace::{ConfChange, ConfChangeKind, ConfSource, Membership};

    fn conf_apply(node: u64, index: u64, kind: ConfChangeKind, who: u64) -> TraceRecord {
        rec(
            index * 10,
            node,
            TraceEvent::Apply {
                index,
                term: 1,
                kind: ApplyKind::ConfChange,
                digest: index,
                client: None,
                seq: None,
                op: None,
                conf_change: Some(ConfChange { kind, node: who }),
                effective: true,
            },
        )
    }

    fn changed(
        node: u64,
        index: u64,
        voters: &[u64],
        learners: &[u64],
        source: ConfSource,
    ) -> TraceRecord {
        rec(
            index * 10 + 1,
            node,
            TraceEvent::ConfChanged {
                index,
                conf: Membership {
                    voters: voters.to_vec(),
                    learners: learners.to_vec(),
                },
                source,
            },
        )
    }

    /// n3 is removed at 1 and comes back as a learner at 2.
    fn churn() -> Vec<TraceRecord> {
        let mut t = vec![changed(1, 0, &[1, 2, 3], &[], ConfSource::Boot)];
        t.push(conf_apply(1, 1, ConfChangeKind::Remove, 3));
        t.push(changed(1, 1, &[1, 2], &[], ConfSource::Applied));
        t.push(conf_apply(1, 2, ConfChangeKind::AddLearner, 3));
        t.push(changed(1, 2, &[1, 2], &[3], ConfSource::Applied));
        t
    }

    #[test]
    fn views_that_follow_the_log_pass() {
        let mut t = churn();
        t.push(changed(3, 2, &[1, 2], &[3], ConfSource::Snapshot));
        t.push(changed(2, 1, &[2, 1], &[], ConfSource::Boot));
        let f = finding(&t, &[], "membership");
        assert!(f.passed(), "{:?}", f.violations);
        assert!(f.examined.starts_with("5 configurations"), "{}", f.examined);
    }

    #[test]
    fn a_snapshot_or_boot_with_the_wrong_membership_is_caught() {
        let mut t = churn();
        t.push(changed(3, 2, &[1, 2, 3], &[], ConfSource::Snapshot));
        t.push(changed(2, 1, &[1, 2, 3], &[], ConfSource::Boot));
        let f = finding(&t, &[], "membership");
        assert_eq!(f.total, 2, "{:?}", f.violations);
        assert!(
            f.violations[0].message.contains("n3 installed a snapshot"),
            "{}",
            f.violations[0].message
        );
        assert!(
            f.violations[1].message.contains("n2 booted with"),
            "{}",
            f.violations[1].message
        );
    }

    #[test]
    fn a_change_applied_wrongly_is_caught() {
        let mut t = churn();
        // Promotes instead of adding a learner.
        t[4] = changed(1, 2, &[1, 2, 3], &[], ConfSource::Applied);
        assert!(!finding(&t, &[], "membership").passed());
    }
}

mod availability_window {
    use super::*;
    use crate::invariants::{NetState, Timing};

    /// Peers that come and go: a leader that hears from a different minority
    /// each moment may keep leading as long as, over the window, they add up
    /// to a majority (swarm seed 1776: a bridge, then pauses, then the bridge
    /// healed), and must step down once they no longer do.
    #[test]
    fn the_union_over_the_window_decides() {
        let timing = Timing {
            step_down_ns: 2_000,
            window_ns: 1_000,
        };
        let state = |time: u64, cut: &[(u64, u64)], down: &[u64]| NetState {
            time,
            cut: cut.iter().flat_map(|&(a, b)| [(a, b), (b, a)]).collect(),
            down: down.to_vec(),
            clock: Vec::new(),
        };
        // Five voters. n1 reaches n2 only in [1000, 2000), then n3 only in
        // [2000, 3000), then nobody from 3000.
        let net = vec![
            state(0, &[], &[]),
            state(1_000, &[(1, 3), (1, 4), (1, 5)], &[]),
            state(2_000, &[(1, 2), (1, 4), (1, 5)], &[]),
            state(3_000, &[], &[2, 3, 4, 5]),
        ];
        let judge =
            |trace: &[TraceRecord]| availability_of(trace, &[], &[1, 2, 3, 4, 5], &net, timing);
        let leads_until =
            |t: u64| vec![role(10, 1, Role::Leader, 1), role(t, 1, Role::Follower, 1)];
        // Over [1000, 3000) it reached n2 and n3: with itself a majority.
        assert!(judge(&leads_until(3_500)).passed());
        // Over [2000, 4000) it reached only n3.
        let f = judge(&leads_until(4_500));
        assert_eq!(f.total, 1, "{:?}", f.violations);
        assert_eq!(
            f.violations[0].time,
            Some(4_000),
            "{}",
            f.violations[0].message
        );
    }
}

mod availability_views {
    use super::*;
    use crate::invariants::{NetState, Timing};
    use sut::trace::{ConfSource, Membership};

    /// A leader whose own view drops the peer it could reach (membership-faults
    /// seed 23: n1 removed while n3 was cut off) has a check period to notice:
    /// the window that spans the change is not judged, the next one is.
    #[test]
    fn a_window_spanning_a_view_change_is_not_judged() {
        let net = vec![NetState {
            time: 0,
            cut: vec![(1, 3), (3, 1), (2, 3), (3, 2)],
            ..NetState::default()
        }];
        let view = |time: u64, voters: &[u64]| {
            let conf = Membership {
                voters: voters.to_vec(),
                learners: Vec::new(),
            };
            let source = ConfSource::Applied;
            rec(
                time,
                2,
                TraceEvent::ConfChanged {
                    index: 5,
                    conf,
                    source,
                },
            )
        };
        let judge = |until: u64| {
            let trace = vec![
                role(10, 2, Role::Leader, 1),
                view(5_000, &[2, 3]),
                role(until, 2, Role::Follower, 1),
            ];
            let timing = Timing {
                step_down_ns: 2_000,
                window_ns: 1_000,
            };
            availability_of(&trace, &[], &[1, 2, 3], &net, timing)
        };
        assert!(judge(6_500).passed(), "it reached n1, a voter until 5000");
        let f = judge(7_500);
        assert_eq!(f.violations.first().and_then(|v| v.time), Some(7_000));
    }
}
