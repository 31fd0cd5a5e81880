//! Bad input gives an error naming the line and the problem; `snapstorm
//! check` exits 0/1/2/3 as documented; the budget never says `ok`.
use checkers::cli::{run, CheckArgs, Format};
use checkers::history::{Event, EventKind, Function, Value};
use checkers::linearizability::{check, CheckOptions, Verdict};
use checkers::model::Kv;
use checkers::parse::{parse_etcd, parse_jepsen_kv, parse_snapstorm, InputError};
use std::path::PathBuf;
use std::time::Duration;

#[path = "../benches/common/gen.rs"]
mod gen;

fn etcd_err(text: &[u8]) -> InputError {
    parse_etcd(text).expect_err("must be rejected")
}

fn kv_err(text: &[u8]) -> InputError {
    parse_jepsen_kv(text).expect_err("must be rejected")
}

fn snap_err(text: &[u8]) -> InputError {
    parse_snapstorm(text).expect_err("must be rejected")
}

fn assert_err(e: InputError, line: Option<usize>, words: &str) {
    assert_eq!(e.line, line, "{e}");
    assert!(e.message.contains(words), "{e:?} lacks {words:?}");
}

const INV: &str = "INFO  jepsen.util - 1\t:invoke\t:write\t3\n";

#[test]
fn etcd_malformed() {
    assert_err(etcd_err(b""), None, "empty");
    assert_err(etcd_err(b"  \n\n"), None, "empty");
    assert_err(etcd_err(b"just some log line\n"), None, "no operations");
    assert_err(
        etcd_err(b"INFO  jepsen.util - 1\t:ok\t:write\t3\n"),
        Some(1),
        "no operation in flight",
    );
    assert_err(
        etcd_err(format!("{INV}{INV}").as_bytes()),
        Some(2),
        "still in flight",
    );
    let reuse = format!("{INV}INFO  jepsen.util - 1\t:info\t:write\t:timed-out\n{INV}");
    assert_err(
        etcd_err(reuse.as_bytes()),
        Some(3),
        "after an indeterminate",
    );
    assert_err(
        etcd_err(b"INFO  jepsen.util - 1\t:invoke\t:frob\t3\n"),
        Some(1),
        "unknown operation",
    );
    assert_err(
        etcd_err(b"INFO  jepsen.util - 1\t:invoke\t:write\t[3\n"),
        Some(1),
        "bad value",
    );
    assert_err(
        etcd_err(b"INFO  jepsen.util - 1\t:invoke\t:cas\t[1]\n"),
        Some(1),
        "cas needs",
    );
    let wrong_f = format!("{INV}INFO  jepsen.util - 1\t:ok\t:read\t3\n");
    assert_err(etcd_err(wrong_f.as_bytes()), Some(2), "does not match");
    let wrong_type = format!("{INV}INFO  jepsen.util - 1\t:done\t:write\t3\n");
    assert_err(
        etcd_err(wrong_type.as_bytes()),
        Some(2),
        "unknown event type",
    );
    let mut bytes = INV.as_bytes().to_vec();
    bytes.extend_from_slice(b"INFO  jepsen.util - 1\t:ok\t:write\t\xff\n");
    assert_err(etcd_err(&bytes), Some(2), "UTF-8");
}

#[test]
fn etcd_skips_other_log_lines_and_reads_timeouts() {
    let text = "2016-01-01 starting jepsen\n\
        INFO  jepsen.util - :nemesis\t:info\t:start\tnil\n\
        INFO  jepsen.util - 1\t:invoke\t:read\tnil\n\
        INFO  jepsen.util - 1\t:fail\t:read\t:timed-out\n\
        INFO  jepsen.util - 2\t:invoke\t:write\t4\n\
        INFO  jepsen.util - 2\t:info\t:write\t:timed-out\n\
        INFO  jepsen.util - 3\t:invoke\t:cas\t[4 5]\n";
    let ops = parse_etcd(text.as_bytes()).expect("valid");
    // The timed-out read is dropped; the write and the unfinished cas are
    // indeterminate.
    assert_eq!(ops.len(), 2);
    assert!(ops.iter().all(|o| o.ret.is_none()));
}

#[test]
fn kv_malformed() {
    let inv = "{:process 1, :type :invoke, :f :put, :key \"a\", :value \"x\"}\n";
    assert_err(kv_err(b""), None, "empty");
    assert_err(kv_err(b"hello\n"), Some(1), "not an operation map");
    assert_err(
        kv_err(b"{:process 1, :type :invoke, :f :put}\n"),
        Some(1),
        "missing :key",
    );
    assert_err(
        kv_err(b"{:process 1, :type :invoke, :f :put, :key \"a\" :value \"x\n"),
        Some(1),
        "unterminated",
    );
    assert_err(
        kv_err(b"{:process 1, :type :ok, :f :put, :key \"a\", :value \"x\"}\n"),
        Some(1),
        "no operation in flight",
    );
    assert_err(
        kv_err(format!("{inv}{inv}").as_bytes()),
        Some(2),
        "still in flight",
    );
    let other_key = format!("{inv}{{:process 1, :type :ok, :f :put, :key \"b\", :value \"x\"}}\n");
    assert_err(kv_err(other_key.as_bytes()), Some(2), "does not match");
    assert_err(
        kv_err(b"{:process 1, :type :invoke, :f :cas, :key \"a\", :value \"x\"}\n"),
        Some(1),
        "unknown operation",
    );
    assert_err(
        kv_err(b"{:process 1, :type :invoke, :f :put, :key \"a\"}\n"),
        Some(1),
        "needs a string",
    );
    assert_err(kv_err(&[b'{', 0xc3, b'}', b'\n']), Some(1), "UTF-8");
}

fn event(process: u64, kind: EventKind, f: Function, value: Option<Value>, time: u64) -> String {
    let e = Event {
        index: time,
        process,
        kind,
        f,
        key: "k".into(),
        value,
        time,
        node: Some(1),
        error: None,
    };
    serde_json::to_string(&e).expect("serialises") + "\n"
}

#[test]
fn snapstorm_round_trips_its_own_format() {
    let s = |v: &str| Some(Value::String(v.into()));
    let text = [
        event(1, EventKind::Invoke, Function::Put, s("5"), 1),
        event(1, EventKind::Ok, Function::Put, s("5"), 2),
        event(
            2,
            EventKind::Invoke,
            Function::Cas,
            Some(Value::Cas(None, "6".into())),
            3,
        ),
        event(
            2,
            EventKind::Fail,
            Function::Cas,
            Some(Value::Cas(None, "6".into())),
            4,
        ),
        event(3, EventKind::Invoke, Function::Get, None, 5),
        event(3, EventKind::Ok, Function::Get, s("5"), 6),
        event(4, EventKind::Invoke, Function::Delete, None, 7),
        event(4, EventKind::Info, Function::Delete, None, 8),
    ]
    .concat();
    assert!(text.contains(r#""value":[null,"6"]"#), "{text}");
    let ops = parse_snapstorm(text.as_bytes()).expect("valid");
    assert_eq!(ops.len(), 4);
    assert!(matches!(
        check(&Kv, &ops, &CheckOptions::default()),
        Verdict::Linearizable
    ));
}

#[test]
fn a_cas_that_failed_before_the_state_machine_observes_nothing() {
    // put 5, then cas 5 -> 6 fails: as a cas that saw another value, that is
    // impossible; as one the cluster refused (an `error`), it did nothing.
    let s = |v: &str| Some(Value::String(v.into()));
    let cas = || Some(Value::Cas(Some("5".into()), "6".into()));
    let failed = event(2, EventKind::Fail, Function::Cas, cas(), 4);
    let history = |fail: &str| {
        [
            event(1, EventKind::Invoke, Function::Put, s("5"), 1),
            event(1, EventKind::Ok, Function::Put, s("5"), 2),
            event(2, EventKind::Invoke, Function::Cas, cas(), 3),
            fail.to_string(),
        ]
        .concat()
    };
    let verdict = |text: String| {
        let ops = parse_snapstorm(text.as_bytes()).expect("valid");
        check(&Kv, &ops, &CheckOptions::default())
    };
    assert!(matches!(
        verdict(history(&failed)),
        Verdict::NotLinearizable(_)
    ));
    let refused = failed.replace(r#""node":1"#, r#""node":1,"error":"timed out""#);
    assert!(refused.contains(r#""error":"timed out""#), "{refused}");
    assert!(matches!(verdict(history(&refused)), Verdict::Linearizable));
}

#[test]
fn snapstorm_malformed() {
    let put = event(
        1,
        EventKind::Invoke,
        Function::Put,
        Some(Value::String("5".into())),
        10,
    );
    assert_err(snap_err(b""), None, "empty");
    assert_err(snap_err(b"{\"index\":0}\n"), Some(1), "bad event");
    assert_err(snap_err(b"not json\n"), Some(1), "bad event");
    let bad_kind = put.replace("\"invoke\"", "\"done\"");
    assert_err(snap_err(bad_kind.as_bytes()), Some(1), "bad event");
    let no_value = event(1, EventKind::Invoke, Function::Put, None, 1);
    assert_err(snap_err(no_value.as_bytes()), Some(1), "needs a string");
    let cas_string = event(
        1,
        EventKind::Invoke,
        Function::Cas,
        Some(Value::String("x".into())),
        1,
    );
    assert_err(snap_err(cas_string.as_bytes()), Some(1), "[from, to]");
    assert_err(
        snap_err(format!("{put}{put}").as_bytes()),
        Some(2),
        "still in flight",
    );
    let ok = event(
        1,
        EventKind::Ok,
        Function::Put,
        Some(Value::String("5".into())),
        11,
    );
    assert_err(snap_err(ok.as_bytes()), Some(1), "no operation in flight");
    let early = event(
        1,
        EventKind::Ok,
        Function::Put,
        Some(Value::String("5".into())),
        9,
    );
    assert_err(
        snap_err(format!("{put}{early}").as_bytes()),
        Some(2),
        "earlier than its invocation",
    );
    let info = event(
        1,
        EventKind::Info,
        Function::Put,
        Some(Value::String("5".into())),
        11,
    );
    let again = event(1, EventKind::Invoke, Function::Get, None, 12);
    assert_err(
        snap_err(format!("{put}{info}{again}").as_bytes()),
        Some(3),
        "after an indeterminate",
    );
    let get_ok = event(1, EventKind::Ok, Function::Get, None, 11);
    assert_err(
        snap_err(format!("{put}{get_ok}").as_bytes()),
        Some(2),
        "does not match",
    );
}

fn write_temp(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("checkers-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write temp file");
    path
}

fn args(format: Format, files: Vec<PathBuf>) -> CheckArgs {
    CheckArgs {
        format,
        no_partition: false,
        timeout: None,
        steps: checkers::linearizability::DEFAULT_MAX_STEPS,
        memory: 4096,
        json: false,
        files,
    }
}

#[test]
fn exit_codes() {
    let ok = write_temp(
        "ok.log",
        b"INFO  jepsen.util - 1\t:invoke\t:write\t3\nINFO  jepsen.util - 1\t:ok\t:write\t3\n",
    );
    let bad = write_temp(
        "bad.log",
        b"INFO  jepsen.util - 1\t:invoke\t:write\t3\nINFO  jepsen.util - 1\t:ok\t:write\t3\n\
          INFO  jepsen.util - 1\t:invoke\t:read\tnil\nINFO  jepsen.util - 1\t:ok\t:read\t4\n",
    );
    let broken = write_temp("broken.log", b"");
    let missing = PathBuf::from("/nonexistent/checkers/history.log");
    assert_eq!(run(args(Format::JepsenEtcd, vec![ok.clone()])), 0);
    assert_eq!(
        run(args(Format::JepsenEtcd, vec![ok.clone(), bad.clone()])),
        1
    );
    assert_eq!(run(args(Format::JepsenEtcd, vec![bad.clone(), broken])), 2);
    assert_eq!(run(args(Format::JepsenEtcd, vec![ok.clone(), missing])), 2);
    let mut json = args(Format::JepsenEtcd, vec![bad]);
    json.json = true;
    assert_eq!(run(json), 1);

    let spec = gen::Spec {
        ops: 20_000,
        keys: 1,
        clients: 10,
        info: 0.05,
        seed: 3,
        mix: [8, 5, 2, 4, 1],
        stale_read: false,
    };
    let big = write_temp("big.jsonl", gen::to_jsonl(&gen::generate(&spec)).as_bytes());
    let mut out_of_time = args(Format::Snapstorm, vec![big]);
    out_of_time.timeout = Some(0.0);
    assert_eq!(run(out_of_time), 3);
}

#[test]
fn budget_gives_unknown_never_ok() {
    let spec = gen::Spec {
        ops: 20_000,
        keys: 2,
        clients: 10,
        info: 0.05,
        seed: 5,
        mix: [8, 5, 2, 4, 1],
        stale_read: false,
    };
    let ops = parse_snapstorm(gen::to_jsonl(&gen::generate(&spec)).as_bytes()).expect("valid");
    for options in [
        CheckOptions {
            wall_time: Some(Duration::ZERO),
            ..CheckOptions::default()
        },
        CheckOptions {
            memory_limit: Some(1),
            ..CheckOptions::default()
        },
    ] {
        assert!(matches!(
            check(&Kv, &ops, &options),
            Verdict::Unknown { .. }
        ));
    }
}

/// Jepsen's etcd lines with runs of spaces between the fields (as some of its
/// output has, and as Porcupine's parser accepts) read like tab-separated ones.
#[test]
fn etcd_fields_may_be_separated_by_any_whitespace() {
    let tabs = "INFO  jepsen.util - 1\t:invoke\t:cas\t[1 2]\n\
                INFO  jepsen.util - 1\t:fail\t:cas\t[1 2]\n\
                INFO  jepsen.util - 2\t:invoke\t:read\tnil\n\
                INFO  jepsen.util - 2\t:ok\t:read\tnil\n";
    let spaces = "INFO  jepsen.util -   1   :invoke  :cas    [1 2]\n\
                  INFO jepsen.util - 1 :fail :cas [1 2]  \n\
                  INFO  jepsen.util  -  2 \t :invoke :read nil\n\
                  INFO  jepsen.util - 2    :ok    :read  nil\n";
    let a = parse_etcd(tabs.as_bytes()).expect("tabs");
    let b = parse_etcd(spaces.as_bytes()).expect("spaces");
    assert_eq!(a.len(), 2);
    assert_eq!(a, b);
    // Other log lines are still skipped.
    let mixed = format!("INFO  jepsen.util - :nemesis :info :start nil\n{spaces}");
    assert_eq!(parse_etcd(mixed.as_bytes()).expect("mixed").len(), 2);
}

/// A misspelt or missing field is an input error naming the line, not an
/// empty value that makes a false violation.
#[test]
fn kv_unknown_or_missing_fields_are_errors() {
    let inv = "{:process 1, :type :invoke, :f :get, :key \"a\", :value nil}\n";
    let typo = format!("{inv}{{:process 1, :type :ok, :f :get, :key \"a\", :vale \"x\"}}\n");
    assert_err(kv_err(typo.as_bytes()), Some(2), "unknown field :vale");
    let missing = format!("{inv}{{:process 1, :type :ok, :f :get, :key \"a\"}}\n");
    assert_err(kv_err(missing.as_bytes()), Some(2), "missing :value");
    let twice = "{:process 1, :type :invoke, :f :get, :key \"a\", :key \"b\", :value nil}\n";
    assert_err(kv_err(twice.as_bytes()), Some(1), "twice");
    // A get that read nothing says `:value nil` (or ""), which is fine.
    let ok = format!("{inv}{{:process 1, :type :ok, :f :get, :key \"a\", :value nil}}\n");
    assert_eq!(parse_jepsen_kv(ok.as_bytes()).expect("valid").len(), 1);
    let timed = format!(
        "{inv}{{:process 1, :type :ok, :f :get, :key \"a\", :value \"\", :time 5, :index 1, :node \"n1\"}}\n"
    );
    assert_eq!(parse_jepsen_kv(timed.as_bytes()).expect("valid").len(), 1);
}

/// An integer too big for 64 bits is named as such, with its line and column
/// (and `snapstorm check` prefixes the file).
#[test]
fn huge_integers_say_they_do_not_fit() {
    let big = "99999999999999999999999";
    let write = format!("INFO  jepsen.util - 1\t:invoke\t:write\t{big}\n");
    let e = etcd_err(write.as_bytes());
    assert_err(e.clone(), Some(1), "does not fit in 64 bits");
    assert!(e.message.contains("column 38"), "{e}");
    let cas = format!("INFO  jepsen.util - 1\t:invoke\t:cas\t[1 -{big}]\n");
    assert_err(etcd_err(cas.as_bytes()), Some(1), "does not fit in 64 bits");
    let process = format!("INFO  jepsen.util - {big}\t:invoke\t:read\tnil\n");
    assert_err(
        etcd_err(process.as_bytes()),
        Some(1),
        "does not fit in 64 bits",
    );
    let kv = format!("{{:process {big}, :type :invoke, :f :get, :key \"a\", :value nil}}\n");
    let e = kv_err(kv.as_bytes());
    assert_err(e.clone(), Some(1), "does not fit in 64 bits");
    assert!(e.message.contains("column 11"), "{e}");
    let snap = event(1, EventKind::Invoke, Function::Get, None, 1)
        .replace("\"time\":1", &format!("\"time\":{big}"));
    assert_err(
        snap_err(snap.as_bytes()),
        Some(1),
        "does not fit in 64 bits",
    );

    let file = write_temp("huge.log", write.as_bytes());
    assert_eq!(run(args(Format::JepsenEtcd, vec![file])), 2);
}
