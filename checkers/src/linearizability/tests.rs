//! Unit tests of the witness built from parts (checking without the split).
use super::compose::{find, is_linearization, merge, Found};
use super::states::{Interned, Product};
use super::{plan_for, Budget, Operation};
use crate::model::StringKv;
use crate::model::{KvInput, KvOp, KvOutput, Register, RegisterInput as R, RegisterOutput as O};

fn unlimited() -> Budget {
    Budget::unlimited()
}

fn reg(input: R, call: u64, ret: u64, out: O) -> Operation<R, O> {
    Operation {
        process: call,
        input,
        call,
        ret: Some((ret, out)),
    }
}

#[test]
fn a_witness_must_hold_every_completed_operation_once_in_real_time_order() {
    let history = [
        reg(R::Write(1), 0, 1, O::Ok),
        reg(R::Write(2), 2, 3, O::Ok),
        reg(R::Read, 4, 5, O::Read(Some(2))),
    ];
    let (local, plan) = plan_for(&history, &[0, 1, 2]);
    let mut stepper = Interned::new(&Register, local.iter().map(|&i| &history[i]).collect());
    assert!(is_linearization(&plan, &mut stepper, &[0, 1, 2]));
    // Write 1 returned before write 2 was called.
    assert!(!is_linearization(&plan, &mut stepper, &[1, 0, 2]));
    assert!(!is_linearization(&plan, &mut stepper, &[0, 1]));
    assert!(!is_linearization(&plan, &mut stepper, &[0, 1, 1, 2]));
    // The model must accept every step: the read sees 2, not 1.
    assert!(!is_linearization(&plan, &mut stepper, &[0, 2, 1]));
}

fn kv(key: &str, op: KvOp, call: u64, ret: u64, out: KvOutput) -> Operation<KvInput, KvOutput> {
    Operation {
        process: call,
        input: KvInput {
            key: key.to_string(),
            op,
        },
        call,
        ret: Some((ret, out)),
    }
}

fn get(key: &str, call: u64, ret: u64, value: &str) -> Operation<KvInput, KvOutput> {
    kv(
        key,
        KvOp::Get,
        call,
        ret,
        KvOutput::Value(Some(value.to_string())),
    )
}

fn append(key: &str, call: u64, ret: u64, value: &str) -> Operation<KvInput, KvOutput> {
    kv(
        key,
        KvOp::Append(value.to_string()),
        call,
        ret,
        KvOutput::Ok,
    )
}

#[test]
fn parts_merge_in_real_time_order_or_not_at_all() {
    // Local order is by call: x append 0, y append 1, x get 2, y get 3.
    let history = [
        append("x", 0, 1, "a"),
        append("y", 2, 3, "b"),
        get("x", 4, 5, "a"),
        get("y", 6, 7, "b"),
    ];
    let (_, plan) = plan_for(&history, &[0, 1, 2, 3]);
    assert_eq!(
        merge(&plan, &[vec![0, 2], vec![1, 3]]),
        Some(vec![0, 1, 2, 3])
    );
    // A part order that breaks real time cannot be merged.
    assert_eq!(merge(&plan, &[vec![2, 0], vec![1, 3]]), None);
}

/// Three keys, a few concurrent appends and reads on each.
fn three_keys(last_read: &str) -> Vec<Operation<KvInput, KvOutput>> {
    let mut h = Vec::new();
    for (k, key) in ["x", "y", "z"].into_iter().enumerate() {
        let t = k as u64;
        h.push(append(key, t, 10 + t, "1"));
        h.push(append(key, 3 + t, 12 + t, "2"));
        h.push(get(key, 6 + t, 8 + t, "2"));
        h.push(get(
            key,
            20 + t,
            21 + t,
            if key == "z" { last_read } else { "21" },
        ));
    }
    h
}

fn find_in(history: &[Operation<KvInput, KvOutput>]) -> Found {
    let ids: Vec<usize> = (0..history.len()).collect();
    let (local, plan) = plan_for(history, &ids);
    let make = |ops| Product::new(&StringKv, ops);
    let mut whole = make(local.iter().map(|&i| &history[i]).collect());
    find(history, &local, &plan, &mut whole, &make, &unlimited())
}

#[test]
fn independent_keys_give_a_witness() {
    assert!(matches!(find_in(&three_keys("21")), Found::Linearizable));
}

#[test]
fn a_part_that_owns_its_key_and_fails_alone_refutes_the_whole() {
    // z's last read shows its appends in an order its first read rules out.
    let history = three_keys("12");
    let Found::NotLinearizable {
        components, local, ..
    } = find_in(&history)
    else {
        panic!("z's part refutes the whole");
    };
    assert_eq!(components.len(), 1);
    let mut local = local;
    local.sort_unstable();
    // z's operations are the last four of the history.
    assert_eq!(local, vec![8, 9, 10, 11]);
    assert!(local.iter().all(|&i| history[i].input.key == "z"));
}

/// put a, append b, put c, then a read of "ab": stale, as put c replaced
/// what it shows before it was called.
fn stale_history() -> Vec<Operation<KvInput, KvOutput>> {
    vec![
        kv("k", KvOp::Put("a".into()), 0, 1, KvOutput::Ok),
        append("k", 2, 3, "b"),
        kv("k", KvOp::Put("c".into()), 4, 5, KvOutput::Ok),
        get("k", 6, 7, "ab"),
    ]
}

#[test]
fn the_pins_show_which_read_a_reset_overwrote() {
    let history = stale_history();
    let (_, mut plan) = plan_for(&history, &[0, 1, 2, 3]);
    // The read's epoch starts at put a (op 0), it reads append b (op 1);
    // the resets are the two puts.
    plan.set_late(&[], &[0, 2]);
    plan.set_reads(vec![(1, 3)], vec![(0, 3)]);
    assert_eq!(plan.stale_reads(), vec![(3, 0, 2)]);
    // Without the overwriting put returned before the read, nothing is stale.
    let (_, mut plan) = plan_for(&history[..3], &[0, 1, 2]);
    plan.set_late(&[], &[0, 2]);
    assert_eq!(plan.stale_reads(), vec![]);
    assert!(!plan.without_pins().pinned());
}

#[test]
fn a_counterexample_names_the_stale_read_and_what_it_missed() {
    use super::{check, CheckOptions, Verdict};
    let history = stale_history();
    let Verdict::NotLinearizable(cx) = check(&crate::model::Kv, &history, &CheckOptions::default())
    else {
        panic!("a stale read is not linearizable");
    };
    let stuck: Vec<usize> = cx.stuck.iter().map(|s| s.op).collect();
    assert!(stuck.contains(&3), "the read is named: {:?}", cx.stuck);
}

#[test]
fn renumbering_keeps_a_stale_reads_reason_in_one_numbering() {
    use super::{report::overwritten, Counterexample, Stuck};
    let cx = Counterexample {
        partition: None,
        ops: Vec::new(),
        longest_prefix: vec![0],
        state_after_prefix: String::new(),
        stuck: vec![Stuck {
            op: 3,
            reason: overwritten("get", 0, 2),
            after: None,
            shows: Some(0),
            missed: Some(2),
        }],
        prefix_states: Vec::new(),
        partials: Vec::new(),
    }
    .renumbered(&[10, 11, 12, 13]);
    let read = &cx.stuck[0];
    assert_eq!((read.op, read.shows, read.missed), (13, Some(10), Some(12)));
    assert_eq!(read.reason, overwritten("get", 10, 12));
    assert!(
        read.reason.contains("op 10 began, but op 12 replaced it"),
        "{}",
        read.reason
    );
}
