//! One numbering everywhere: a counterexample names each operation by the
//! number it has in the input (the invocation's `index` in history.jsonl,
//! Jepsen's `:index`, else the invocation's line), not by its position in
//! the checked list, which drops failed operations and so drifts.
use checkers::cli::{check_file, Format};
use checkers::history::{Event, EventKind, Function, Value};
use checkers::linearizability::{CheckOptions, Counterexample, OpRecord, Stuck, Verdict};
use checkers::model::OpText;

fn event(index: u64, process: u64, kind: EventKind, f: Function, value: Option<&str>) -> String {
    let e = Event {
        index,
        process,
        kind,
        f,
        key: "k".into(),
        value: value.map(|v| Value::String(v.into())),
        time: index * 10,
        node: None,
        error: None,
    };
    serde_json::to_string(&e).expect("serialises") + "\n"
}

fn counterexample(name: &str, format: Format, text: &str) -> Counterexample {
    let dir = std::env::temp_dir().join(format!("checkers-numbering-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write");
    match check_file(&path, format, &CheckOptions::default()).expect("reads") {
        Verdict::NotLinearizable(cx) => *cx,
        v => panic!("expected a violation, got {v:?}"),
    }
}

/// Operation ids of the prefix, the stuck ones, and every op listed.
fn ids(cx: &Counterexample) -> (Vec<usize>, Vec<usize>, Vec<usize>) {
    (
        cx.longest_prefix.clone(),
        cx.stuck.iter().map(|s| s.op).collect(),
        cx.ops.iter().map(|o| o.id).collect(),
    )
}

#[test]
fn snapstorm_counterexamples_use_the_invocations_history_index() {
    use EventKind::*;
    use Function::*;
    // A failed put first (dropped by the checker, so positions shift by one),
    // then a put of "a" and a get that reads "b": not linearizable.
    let text = [
        event(0, 2, Invoke, Put, Some("z")),
        event(1, 2, Fail, Put, Some("z")),
        event(2, 0, Invoke, Put, Some("a")),
        event(3, 0, Ok, Put, Some("a")),
        event(4, 1, Invoke, Get, None),
        event(5, 1, Ok, Get, Some("b")),
    ]
    .concat();
    let cx = counterexample("h.jsonl", Format::Snapstorm, &text);
    assert_eq!(ids(&cx), (vec![2], vec![4], vec![2, 4]), "{cx:?}");
}

#[test]
fn jepsen_counterexamples_use_index_or_else_the_line() {
    let with_index = "\
{:process 0, :type :invoke, :f :put, :key \"k\", :value \"a\", :index 40}
{:process 0, :type :ok, :f :put, :key \"k\", :value \"a\", :index 41}
{:process 1, :type :invoke, :f :get, :key \"k\", :value nil, :index 42}
{:process 1, :type :ok, :f :get, :key \"k\", :value \"b\", :index 43}
";
    let cx = counterexample("i.edn", Format::JepsenKv, with_index);
    assert_eq!(ids(&cx), (vec![40], vec![42], vec![40, 42]), "{cx:?}");

    let without: String = with_index
        .lines()
        .map(|l| l.split(", :index").next().unwrap_or(l).to_string() + "}\n")
        .collect();
    let cx = counterexample("l.edn", Format::JepsenKv, &without);
    assert_eq!(ids(&cx), (vec![1], vec![3], vec![1, 3]), "{cx:?}");
}

#[test]
fn renumbering_rewrites_the_operation_a_stuck_one_must_follow() {
    let op = |id| OpRecord {
        id,
        process: id as u64,
        text: OpText {
            f: "get".into(),
            value_in: String::new(),
            value_out: None,
        },
        call: 0,
        ret: None,
    };
    let cx = Counterexample {
        partition: Some("k".into()),
        ops: vec![op(0), op(1)],
        longest_prefix: vec![],
        state_after_prefix: "nil".into(),
        prefix_states: vec!["nil".into()],
        partials: Vec::new(),
        stuck: vec![Stuck {
            op: 0,
            reason: "get: must come after op 1, which the reads show took effect first".into(),
            after: Some(1),
            shows: None,
            missed: None,
        }],
    }
    .renumbered(&[700, 772]);
    assert_eq!(cx.stuck[0].op, 700);
    assert_eq!(cx.stuck[0].after, Some(772));
    assert_eq!(
        cx.stuck[0].reason,
        "get: must come after op 772, which the reads show took effect first"
    );
    assert_eq!(cx.ops.iter().map(|o| o.id).collect::<Vec<_>>(), [700, 772]);
}
