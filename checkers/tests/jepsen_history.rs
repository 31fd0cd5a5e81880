//! `check --format jepsen` reads a standard Jepsen history.edn: Jepsen's
//! vector of maps over many lines or one map per line, tagged ops, nested
//! values, extra fields and nemesis ops; Knossos registers plain or as
//! independent tuples; single-operation Elle `:txn`s. Verdicts follow
//! Knossos's semantics, and bad input names its line.
use checkers::linearizability::{check, CheckOptions, Verdict};
use checkers::model::{Kv, KvOp, KvOutput};
use checkers::parse::{parse_jepsen_numbered, InputError};

fn verdict(text: &str) -> Verdict {
    let parsed = parse_jepsen_numbered(text.as_bytes()).expect("reads");
    check(&Kv, &parsed.ops, &CheckOptions::default())
}

fn err(text: &str) -> InputError {
    match parse_jepsen_numbered(text.as_bytes()) {
        Ok(_) => panic!("must be rejected: {text}"),
        Err(e) => e,
    }
}

/// Jepsen's own store layout: one vector, a map per line, the ops tagged,
/// `:error` a nested vector or map, `:time` and `:node` extra, a nemesis op.
const REGISTER_VECTOR: &str = r#"[{:type :invoke, :f :write, :value 3, :time 10, :process 0, :index 0}
 #jepsen.history.Op{:type :invoke, :f :read, :value nil, :time 11, :process 1, :index 1}
 {:type :info, :f :start-partition, :value nil, :process :nemesis, :index 2}
 {:type :ok, :f :write, :value 3, :time 12, :process 0, :index 3, :node "n1"}
 {:type :ok, :f :read, :value 3, :time 13, :process 1, :index 4}
 {:type :invoke, :f :cas, :value [3 4], :time 14, :process 0, :index 5}
 {:type :fail, :f :cas, :value [3 4], :time 15, :process 0, :index 6, :error {:cause :timeout, :at 1.5}}
 {:type :invoke, :f :read, :value nil, :time 16, :process 1, :index 7}
 {:type :ok, :f :read, :value 3, :time 17, :process 1, :index 8, :error [:none "x"]}]
"#;

#[test]
fn a_jepsen_store_vector_of_register_ops_reads_and_checks() {
    let parsed = parse_jepsen_numbered(REGISTER_VECTOR.as_bytes()).expect("reads");
    // The failed cas did not happen (Knossos); the nemesis op is skipped.
    assert_eq!(parsed.numbers, vec![0, 1, 7], "numbered by :index");
    assert_eq!(parsed.ops[0].input.op, KvOp::Put("3".into()));
    assert_eq!(
        parsed.ops[1].output(),
        Some(&KvOutput::Value(Some("3".into())))
    );
    assert!(matches!(verdict(REGISTER_VECTOR), Verdict::Linearizable));
    // The second read of 4 would need the failed cas to have happened.
    let bad = REGISTER_VECTOR.replace(":value 3, :time 17", ":value 4, :time 17");
    assert!(matches!(verdict(&bad), Verdict::NotLinearizable(_)));
}

#[test]
fn independent_tuples_are_one_register_per_key() {
    let text = "\
{:type :invoke, :f :write, :value [\"a\" 1], :process 0}
{:type :ok, :f :write, :value [\"a\" 1], :process 0}
{:type :invoke, :f :write, :value [\"b\" 2], :process 0}
{:type :ok, :f :write, :value [\"b\" 2], :process 0}
{:type :invoke, :f :cas, :value [\"a\" [1 5]], :process 1}
{:type :ok, :f :cas, :value [\"a\" [1 5]], :process 1}
{:type :invoke, :f :read, :value [\"b\" nil], :process 1}
{:type :ok, :f :read, :value [\"b\" 2], :process 1}
{:type :invoke, :f :read, :value [\"a\" nil], :process 1}
{:type :ok, :f :read, :value [\"a\" 5], :process 1}
";
    let parsed = parse_jepsen_numbered(text.as_bytes()).expect("reads");
    let keys: Vec<&str> = parsed.ops.iter().map(|o| o.input.key.as_str()).collect();
    assert_eq!(keys, ["a", "b", "a", "b", "a"]);
    assert_eq!(parsed.numbers, vec![1, 3, 5, 7, 9], "lines without :index");
    assert!(matches!(verdict(text), Verdict::Linearizable));
    // Reading b's value from a is a violation only with the keys kept apart.
    let bad = text.replace("[\"a\" 5]", "[\"a\" 2]");
    assert!(matches!(verdict(&bad), Verdict::NotLinearizable(_)));
    // One tuple among plain values is an error naming the line.
    let mixed = text.replacen(
        ":value [\"b\" 2], :process 0}\n{",
        ":value 2, :process 0}\n{",
        1,
    );
    let e = err(&mixed);
    assert_eq!(e.line, Some(3), "{e}");
    assert!(e.message.contains("tuple"), "{e}");
}

#[test]
fn single_operation_txns_are_list_appends_and_register_writes() {
    let text = "\
{:type :invoke, :f :txn, :value [[:append 7 1]], :process 0, :index 0}
{:type :ok, :f :txn, :value [[:append 7 1]], :process 0, :index 1}
{:type :invoke, :f :txn, :value [[:append 7 2]], :process 0, :index 2}
{:type :info, :f :txn, :value [[:append 7 2]], :process 0, :index 3}
{:type :invoke, :f :txn, :value [[:r 7 nil]], :process 1, :index 4}
{:type :ok, :f :txn, :value [[:r 7 [1 2]]], :process 1, :index 5}
{:type :invoke, :f :txn, :value [[:w 8 5]], :process 2, :index 6}
{:type :ok, :f :txn, :value [[:w 8 5]], :process 2, :index 7}
{:type :invoke, :f :txn, :value [[:r 8 nil]], :process 1, :index 8}
{:type :ok, :f :txn, :value [[:r 8 5]], :process 1, :index 9}
";
    let parsed = parse_jepsen_numbered(text.as_bytes()).expect("reads");
    assert_eq!(parsed.ops[0].input.op, KvOp::Append("<1>".into()));
    assert_eq!(
        parsed.ops[2].output(),
        Some(&KvOutput::Value(Some("<1><2>".into())))
    );
    assert!(
        matches!(verdict(text), Verdict::Linearizable),
        "the info append took effect"
    );
    let bad = text.replace("[[:r 7 [1 2]]]", "[[:r 7 [2 1]]]");
    assert!(matches!(verdict(&bad), Verdict::NotLinearizable(_)));
    let empty = text.replace("[[:r 7 [1 2]]]", "[[:r 7 []]]");
    assert!(
        matches!(verdict(&empty), Verdict::NotLinearizable(_)),
        "[] is the empty list, after an acknowledged append"
    );
}

#[test]
fn what_it_cannot_read_is_an_error_naming_the_line() {
    let line2 =
        |second: &str| format!("{{:type :invoke, :f :write, :value 1, :process 0}}\n{second}\n");
    let cases = [
        (
            line2("{:type :invoke, :f :txn, :value [[:r 1 nil] [:w 1 2]], :process 1}"),
            "micro-operations",
        ),
        (
            line2("{:type :invoke, :f :start, :value nil, :process 1}"),
            "unknown operation :start",
        ),
        (
            line2("{:type :invoke, :f :read, :process 1"),
            "unexpected end",
        ),
        (
            line2("{:type :invoke, :f :cas, :value 3, :process 1}"),
            "cas needs [from to]",
        ),
        (
            line2("{:type :ok, :f :read, :value 1, :process 1}"),
            "no operation in flight",
        ),
        (
            line2("{:type :invoke, :f :read, :value nil}"),
            "missing :process",
        ),
        (
            line2("{:type :invoke, :f :read, :value nil, :process 1, :index -3}"),
            "bad :index",
        ),
        (line2("[1 2]"), "expected an operation map"),
    ];
    for (text, words) in cases {
        let e = err(&text);
        assert_eq!(e.line, Some(2), "{text}: {e}");
        assert!(e.message.contains(words), "{text}: {e} lacks {words:?}");
    }
    let e = err("[{:type :invoke, :f :write, :value 1, :process 0}\n");
    assert!(e.message.contains("not closed"), "{e}");
    assert!(err("  \n").message.contains("empty"));
}

#[test]
fn the_kv_format_points_a_standard_history_at_the_jepsen_format() {
    let line = "{:type :invoke, :f :read, :value nil, :process 0, :index 0}\n";
    let e = checkers::parse::parse_jepsen_kv(line.as_bytes()).expect_err("no :key");
    assert_eq!(e.line, Some(1));
    assert!(
        e.message.contains("missing :key") && e.message.contains("--format jepsen"),
        "{e}"
    );
}
