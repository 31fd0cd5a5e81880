//! The story builder on small hand-made runs, including what it says when
//! the records leave something unknown.
use super::*;
use crate::nemesis::{Fault, Target};
use crate::results::Stats;
use serde_json::json;
use sut::trace::{Role, TraceEvent};
use workloads::history::{EventKind, Function, Value};

const S: u64 = 1_000_000_000;

fn ev(index: u64, process: u64, kind: EventKind, f: Function, value: Option<&str>) -> Event {
    Event {
        index,
        process,
        kind,
        f,
        key: "k".into(),
        value: value.map(|v| Value::String(v.into())),
        time: index * S,
        node: None,
        error: None,
    }
}

fn done(mut e: Event, node: u64) -> Event {
    e.node = Some(node);
    e
}

/// Append a at 0–1 s (ok by n1), append b at 2–3 s (ok by n2), then a read
/// at 4–5 s that n1 answers with only "a".
fn stale_read(appends: bool) -> Vec<Event> {
    use EventKind::*;
    let w = if appends {
        Function::Append
    } else {
        Function::Put
    };
    vec![
        ev(0, 0, Invoke, w, Some("a")),
        done(ev(1, 0, Ok, w, Some("a")), 1),
        ev(2, 1, Invoke, w, Some("b")),
        done(ev(3, 1, Ok, w, Some("b")), 2),
        ev(4, 2, Invoke, Function::Get, None),
        done(ev(5, 2, Ok, Function::Get, Some("a")), 1),
    ]
}

fn role(time: u64, node: u64, role: Role, term: u64) -> TraceRecord {
    TraceRecord {
        time: time * S,
        node,
        event: TraceEvent::Role {
            role,
            term,
            leader: None,
            last_index: 0,
            last_term: 0,
        },
    }
}

/// n1 leads term 1, is deposed by n2 (term 2) at 2 s without noticing.
fn trace() -> Vec<TraceRecord> {
    vec![
        role(0, 1, Role::Leader, 1),
        role(0, 2, Role::Follower, 1),
        role(2, 2, Role::Leader, 2),
    ]
}

fn drift() -> Vec<FaultRecord> {
    vec![
        FaultRecord {
            id: 0,
            fault: Fault::ClockDrift {
                target: Target::Leader,
                rate: 0.35,
            },
            nodes: vec![1],
            start: S,
            end: Some(4 * S + S / 2),
            detail: String::new(),
            planned: 0,
        },
        // Over before the read began: not part of the story.
        FaultRecord {
            id: 1,
            fault: Fault::Isolate {
                target: Target::Node(2),
            },
            nodes: vec![2],
            start: 0,
            end: Some(S),
            detail: String::new(),
            planned: 1,
        },
    ]
}

fn invalid(checker: &str, data: serde_json::Value) -> Results {
    let mut bad = CheckerResult::invalid("it failed");
    bad.data = Some(data);
    Results::new(
        "s",
        1,
        vec![
            (checker, bad),
            ("commit-rule", CheckerResult::valid("fine")),
        ],
        Stats::default(),
        vec![],
        String::new(),
    )
}

fn stuck(op: u64) -> serde_json::Value {
    json!({"partition": "k", "stuck": [{"op": op, "reason": "not possible in state \"ab\""}]})
}

#[test]
fn a_stale_read_names_its_node_role_leader_faults_and_missed_write() {
    let history = stale_read(true);
    let results = invalid("linearizability", stuck(4));
    let story = build(&results, &history, &trace(), &drift()).expect("a story");
    let t = &story.text;
    for part in [
        "linearizability failed on key k: op 4 (get k → \"a\")",
        "served by n1, at 5.000 s the leader of term 1, while n2 was the leader of term 2",
        "clock-drift of n1 (clock at 0.35× real time), 1.000–4.500 s",
        "It missed append k \"b\" (op 2), acknowledged by n2 at 3.000 s, before the read began at 4.000 s",
    ] {
        assert!(t.contains(part), "{part:?} not in {t}");
    }
    assert!(!t.contains("isolate"), "a fault over before the read: {t}");
    assert_eq!(
        (story.op, story.node, story.missed_write),
        (Some(4), Some(1), Some(2))
    );
    assert_eq!(story.time, Some(5 * S));
}

#[test]
fn a_register_read_misses_only_the_last_acknowledged_write() {
    let history = stale_read(false);
    let story = build(&invalid("linearizability", stuck(4)), &history, &[], &[]).unwrap();
    assert!(
        story.text.contains("It missed put k \"b\" (op 2)"),
        "{}",
        story.text
    );
    // Reading the last write misses nothing, whatever came before it.
    let mut fresh = stale_read(false);
    fresh[5].value = Some(Value::String("b".into()));
    let story = build(&invalid("linearizability", stuck(4)), &fresh, &[], &[]).unwrap();
    assert_eq!(story.missed_write, None);
    assert!(
        story
            .text
            .contains("No write acknowledged before it began is missing"),
        "{}",
        story.text
    );
}

#[test]
fn what_the_records_do_not_say_is_called_unknown() {
    // No node on the read, no trace, no faults.
    let mut history = stale_read(true);
    history[5].node = None;
    let story = build(&invalid("linearizability", stuck(4)), &history, &[], &[]).unwrap();
    let t = &story.text;
    assert!(
        t.contains("names no node that served it, so its role and term are unknown"),
        "{t}"
    );
    assert!(t.contains("no node was leading at 5.000 s"), "{t}");
    assert!(
        t.contains("Faults active during it (4.000–5.000 s): none."),
        "{t}"
    );
    // A node with no trace has an unknown role.
    let story = build(
        &invalid("linearizability", stuck(4)),
        &stale_read(true),
        &[],
        &[],
    )
    .unwrap();
    assert!(
        story.text.contains("n1, at 5.000 s in an unknown role"),
        "{}",
        story.text
    );
    // A counterexample naming no operation of the history.
    let story = build(&invalid("linearizability", stuck(99)), &history, &[], &[]).unwrap();
    assert!(
        story.text.contains("names no operation of history.jsonl"),
        "{}",
        story.text
    );
    assert_eq!(story.op, None);
    // A stuck write is not a read: it missed nothing, and the checker's reason is given.
    let story = build(&invalid("linearizability", stuck(2)), &history, &[], &[]).unwrap();
    assert!(
        story
            .text
            .contains("It is not a completed read, so it missed no write"),
        "{}",
        story.text
    );
    assert!(
        story.text.contains("not possible in state"),
        "{}",
        story.text
    );
}

#[test]
fn other_checkers_tell_their_violation_node_time_and_faults() {
    let data = json!([{"node": 1, "index": 7, "time": 5 * S, "message": "snapshot 7 differs."}]);
    let results = invalid("snapshot-fidelity", data);
    let story = build(&results, &[], &trace(), &drift()).unwrap();
    let t = &story.text;
    assert_eq!(story.checker, "snapshot-fidelity");
    for part in [
        "snapshot-fidelity failed: snapshot 7 differs. It shows on n1, at 5.000 s the leader of term 1, while n2 was the leader of term 2.",
        "Faults active then: none.",
        "The log index it names: 7.",
        "no missed write is known",
    ] {
        assert!(t.contains(part), "{part:?} not in {t}");
    }
    // No time: role, leader and faults unknown; no data at all: the detail.
    let story = build(
        &invalid("durability", json!([{"node": 3, "message": "lost"}])),
        &[],
        &[],
        &[],
    );
    let t = story.unwrap().text;
    assert!(t.contains("It shows on n3 but gives no time, so its role and term, the leader and the faults then are unknown"), "{t}");
    let t = build(&invalid("liveness", json!(null)), &[], &[], &[])
        .unwrap()
        .text;
    assert!(
        t.starts_with("liveness failed: it failed. It names no node and no time"),
        "{t}"
    );
}

#[test]
fn an_unexplained_halt_is_found_in_the_trace() {
    let halt = |time: u64, injected_faults: u64| TraceRecord {
        time: time * S,
        node: 1,
        event: TraceEvent::Halt {
            reason: "restoring snapshot: bad bytes".into(),
            injected_faults,
        },
    };
    let mut trace = trace();
    trace.extend([halt(2, 1), halt(3, 0), halt(4, 0)]);
    let mut results = invalid("halts", json!(null));
    results.checkers.get_mut("halts").unwrap().data = None;
    let story = build(&results, &[], &trace, &drift()).unwrap();
    let t = &story.text;
    for part in [
        "halts failed: n1 halted at 3.000 s with no injected disk fault to explain it (restoring snapshot: bad bytes).",
        // The halt at 2 s had an injected fault to explain it: not the story's.
        "Until then it was halted, while n2 was the leader of term 2.",
        "clock-drift of n1 (clock at 0.35× real time), 1.000–4.500 s",
        "1 more such halts.",
    ] {
        assert!(t.contains(part), "{part:?} not in {t}");
    }
    assert_eq!((story.node, story.time), (Some(1), Some(3 * S)));
    // With no such halt in the trace, the story says so.
    let t = build(&results, &[], &[], &[]).unwrap().text;
    assert!(
        t.contains("The trace shows no such halt, so the node, the leader"),
        "{t}"
    );
}

#[test]
fn a_long_message_is_cut_at_a_list_item() {
    let long = format!(
        "nodes halted: {}",
        vec!["n1 at 5 ns: a reason"; 20].join("; ")
    );
    let cut = short_message(&long);
    assert!(
        cut.len() < 240 && cut.ends_with("n1 at 5 ns: a reason; … (the rest in results.json)"),
        "{cut}"
    );
    assert_eq!(short_message("short."), "short");
}

#[test]
fn a_run_that_did_not_fail_has_no_story() {
    let valid = Results::new(
        "s",
        1,
        vec![("linearizability", CheckerResult::valid("fine"))],
        Stats::default(),
        vec![],
        String::new(),
    );
    assert_eq!(build(&valid, &stale_read(true), &trace(), &drift()), None);
    let mut unknown = valid.clone();
    unknown
        .checkers
        .insert("halts".into(), CheckerResult::unknown("budget"));
    unknown.verdict = Verdict::Unknown;
    assert_eq!(build(&unknown, &[], &[], &[]), None);
}

#[test]
fn commands_quote_the_directory_and_text_wraps_at_spaces() {
    assert_eq!(
        commands(Path::new("store/a-seed1")),
        [
            "snapstorm shrink store/a-seed1",
            "snapstorm replay store/a-seed1"
        ]
    );
    assert_eq!(
        commands(Path::new("my runs/it's")),
        [
            r"snapstorm shrink 'my runs/it'\''s'",
            r"snapstorm replay 'my runs/it'\''s'"
        ]
    );
    assert_eq!(wrap("aa bb cc dd", 5, "  "), "aa bb\n  cc\n  dd");
    assert_eq!(wrap("longword x", 3, ""), "longword\nx");
}
