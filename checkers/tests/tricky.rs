//! Hand-made histories for the cases that are easy to get wrong.
use checkers::linearizability::{check, CheckOptions, Operation, Verdict};
use checkers::model::{
    Kv, KvInput, KvOp, KvOutput, Register, RegisterInput as R, RegisterOutput as O,
};

type RegOp = Operation<R, O>;

fn op(process: u64, input: R, call: u64, ret: Option<(u64, O)>) -> RegOp {
    Operation {
        process,
        input,
        call,
        ret,
    }
}

fn linearizable(ops: &[RegOp]) -> bool {
    match check(&Register, ops, &CheckOptions::default()) {
        Verdict::Linearizable => true,
        Verdict::NotLinearizable(_) => false,
        Verdict::Unknown { reason, .. } => panic!("unknown: {reason}"),
    }
}

#[test]
fn concurrent_cas_only_one_can_win() {
    let write = op(0, R::Write(0), 0, Some((1, O::Ok)));
    let cas = |p, out| {
        op(
            p,
            R::Cas {
                from: 0,
                to: p as i64,
            },
            2,
            Some((5, out)),
        )
    };
    assert!(!linearizable(&[
        write.clone(),
        cas(1, O::Ok),
        cas(2, O::Ok)
    ]));
    assert!(linearizable(&[
        write.clone(),
        cas(1, O::Ok),
        cas(2, O::Failed)
    ]));
    assert!(linearizable(&[write, cas(1, O::Failed), cas(2, O::Ok)]));
}

#[test]
fn failed_cas_observes_a_mismatch() {
    let write = op(0, R::Write(1), 0, Some((1, O::Ok)));
    let cas = op(1, R::Cas { from: 1, to: 2 }, 2, Some((3, O::Failed)));
    assert!(!linearizable(&[write, cas]));
}

#[test]
fn read_of_a_value_written_by_a_pending_write() {
    // The write is still in flight when the read returns its value.
    let write = op(0, R::Write(7), 0, Some((10, O::Ok)));
    let read = op(1, R::Read, 2, Some((3, O::Read(Some(7)))));
    assert!(linearizable(&[write.clone(), read]));
    // A read that returned before the write was invoked cannot see it.
    let early = op(1, R::Read, 0, Some((1, O::Read(Some(7)))));
    let late_write = op(0, R::Write(7), 2, Some((3, O::Ok)));
    assert!(!linearizable(&[early, late_write]));
    // Nor can a write that never happened be read.
    let indeterminate_write = op(0, R::Write(7), 0, None);
    let read_after = op(1, R::Read, 1, Some((2, O::Read(Some(7)))));
    let read_back = op(1, R::Read, 3, Some((4, O::Read(None))));
    assert!(!linearizable(&[indeterminate_write, read_after, read_back]));
}

#[test]
fn indeterminate_write_observed_much_later() {
    let mut ops = vec![
        op(0, R::Write(1), 0, Some((1, O::Ok))),
        op(9, R::Write(2), 2, None),
    ];
    // Many reads still see 1 ...
    for i in 0..200u64 {
        ops.push(op(
            1 + i % 3,
            R::Read,
            10 + 2 * i,
            Some((11 + 2 * i, O::Read(Some(1)))),
        ));
    }
    // ... then the timed-out write shows up.
    ops.push(op(1, R::Read, 1000, Some((1001, O::Read(Some(2))))));
    assert!(linearizable(&ops));
    // But once seen, the old value cannot come back.
    ops.push(op(2, R::Read, 1002, Some((1003, O::Read(Some(1))))));
    assert!(!linearizable(&ops));
}

#[test]
fn indeterminate_operations_may_never_happen() {
    let ops = [
        op(0, R::Write(1), 0, Some((1, O::Ok))),
        op(1, R::Write(5), 2, None),
        op(2, R::Cas { from: 1, to: 6 }, 2, None),
        op(3, R::Read, 3, None), // a timed-out read constrains nothing
        op(4, R::Read, 4, Some((5, O::Read(Some(1))))),
    ];
    assert!(linearizable(&ops));
}

#[test]
fn indeterminate_cas_takes_effect_only_if_it_matches() {
    let write = op(0, R::Write(1), 0, Some((1, O::Ok)));
    let cas = |from| op(1, R::Cas { from, to: 9 }, 2, None);
    let read = op(2, R::Read, 3, Some((4, O::Read(Some(9)))));
    assert!(linearizable(&[write.clone(), cas(1), read.clone()]));
    assert!(!linearizable(&[write, cas(2), read]));
}

fn kv(key: &str, op: KvOp) -> KvInput {
    KvInput {
        key: key.to_string(),
        op,
    }
}

fn kv_linearizable(ops: &[Operation<KvInput, KvOutput>], partition: bool) -> bool {
    let options = CheckOptions {
        partition,
        ..CheckOptions::default()
    };
    match check(&Kv, ops, &options) {
        Verdict::Linearizable => true,
        Verdict::NotLinearizable(_) => false,
        Verdict::Unknown { reason, .. } => panic!("unknown: {reason}"),
    }
}

#[test]
fn identical_indeterminate_deletes_each_count_once() {
    let get_nil = |t| Operation {
        process: 1,
        input: kv("k", KvOp::Get),
        call: t,
        ret: Some((t + 1, KvOutput::Value(None))),
    };
    let put = |v: &str, t| Operation {
        process: 2,
        input: kv("k", KvOp::Put(v.into())),
        call: t,
        ret: Some((t + 1, KvOutput::Ok)),
    };
    let delete = |p, t| Operation {
        process: p,
        input: kv("k", KvOp::Delete),
        call: t,
        ret: None,
    };
    // Two absent reads after two puts need both timed-out deletes.
    let mut ops = vec![
        put("a", 0),
        delete(10, 1),
        delete(11, 1),
        get_nil(3),
        put("b", 5),
        get_nil(7),
    ];
    assert!(kv_linearizable(&ops, true));
    ops.remove(2);
    assert!(!kv_linearizable(&ops, true));
}

#[test]
fn keys_are_independent_but_each_must_hold() {
    let put = |k: &str, v: &str, t| Operation {
        process: t,
        input: kv(k, KvOp::Put(v.into())),
        call: t,
        ret: Some((t + 1, KvOutput::Ok)),
    };
    let get = |k: &str, v: Option<&str>, t| Operation {
        process: t,
        input: kv(k, KvOp::Get),
        call: t,
        ret: Some((t + 1, KvOutput::Value(v.map(str::to_string)))),
    };
    let ok = vec![
        put("x", "1", 0),
        put("y", "2", 2),
        get("x", Some("1"), 4),
        get("y", Some("2"), 6),
    ];
    assert!(kv_linearizable(&ok, true) && kv_linearizable(&ok, false));
    let bad = vec![put("x", "1", 0), put("y", "2", 2), get("x", Some("2"), 4)];
    assert!(!kv_linearizable(&bad, true) && !kv_linearizable(&bad, false));
    let Verdict::NotLinearizable(c) = check(&Kv, &bad, &CheckOptions::default()) else {
        panic!("not linearizable")
    };
    assert_eq!(c.partition.as_deref(), Some("x"));
    assert_eq!(c.stuck.len(), 1);
    assert!(
        c.stuck[0].reason.contains("not possible"),
        "{}",
        c.stuck[0].reason
    );
}

#[test]
fn append_and_cas_from_absent() {
    let o = |p, op: KvOp, t, out| Operation {
        process: p,
        input: kv("k", op),
        call: t,
        ret: Some((t + 1, out)),
    };
    let ops = vec![
        o(
            0,
            KvOp::Cas {
                from: None,
                to: "a".into(),
            },
            0,
            KvOutput::Ok,
        ),
        o(1, KvOp::Append("b".into()), 2, KvOutput::Ok),
        o(2, KvOp::Get, 4, KvOutput::Value(Some("ab".into()))),
        o(
            3,
            KvOp::Cas {
                from: None,
                to: "z".into(),
            },
            6,
            KvOutput::Failed,
        ),
        o(4, KvOp::Delete, 8, KvOutput::Ok),
        o(5, KvOp::Append("c".into()), 10, KvOutput::Ok),
        o(6, KvOp::Get, 12, KvOutput::Value(Some("c".into()))),
    ];
    assert!(kv_linearizable(&ops, true));
    let mut wrong = ops.clone();
    wrong[6].ret = Some((13, KvOutput::Value(Some("abc".into()))));
    assert!(!kv_linearizable(&wrong, true));
}

/// Indeterminate writes that no read ever shows are dropped before the search;
/// the verdict must be unchanged either way.
#[test]
fn unobserved_indeterminate_writes_do_not_change_the_verdict() {
    use checkers::linearizability::{check, CheckOptions, Operation, Verdict};
    use checkers::model::{Kv, KvInput, KvOp, KvOutput};
    let op = |process, op: KvOp, call, ret: Option<(u64, KvOutput)>| Operation {
        process,
        input: KvInput {
            key: "k".into(),
            op,
        },
        call,
        ret,
    };
    let get = |p, call, ret, v: Option<&str>| {
        op(
            p,
            KvOp::Get,
            call,
            Some((ret, KvOutput::Value(v.map(String::from)))),
        )
    };
    let opts = CheckOptions::default();
    // 20 timed-out appends nobody ever reads, around linearizable reads.
    let mut h = vec![op(0, KvOp::Put("a".into()), 0, Some((1, KvOutput::Ok)))];
    for i in 0..20 {
        h.push(op(10 + i, KvOp::Append(format!("<{i}>")), 2 + i, None));
    }
    h.push(get(1, 30, 31, Some("a")));
    assert!(matches!(check(&Kv, &h, &opts), Verdict::Linearizable));
    // One of them *is* read: it must still be placed (and can be).
    let mut seen = h.clone();
    seen.push(get(2, 40, 41, Some("a<7>")));
    assert!(matches!(check(&Kv, &seen, &opts), Verdict::Linearizable));
    // A read no placement explains stays non-linearizable.
    let mut bad = h.clone();
    bad.push(get(3, 50, 51, Some("b")));
    assert!(matches!(
        check(&Kv, &bad, &opts),
        Verdict::NotLinearizable(_)
    ));
    // With a cas on the key, nothing is dropped, and the verdict still holds.
    let mut with_cas = h;
    with_cas.push(op(
        4,
        KvOp::Cas {
            from: Some("a".into()),
            to: "c".into(),
        },
        60,
        Some((61, KvOutput::Ok)),
    ));
    assert!(matches!(
        check(&Kv, &with_cas, &opts),
        Verdict::Linearizable
    ));
}

/// The shape of swarm seed 207327: a put and many appends, most of them
/// timed out, land during an outage and one read long after shows them all.
/// Only one order of the appends matches the read, but a search that does not
/// read it off tries the orders one by one (that history exhausted 24 GB).
fn appends_read_late(shown: &[usize]) -> Vec<Operation<KvInput, KvOutput>> {
    let value = |i: usize| format!("x {i} y");
    let mut ops = vec![Operation {
        process: 0,
        input: kv("k", KvOp::Put(value(0))),
        call: 0,
        ret: Some((1, KvOutput::Ok)),
    }];
    for i in 1..=14 {
        ops.push(Operation {
            process: i as u64,
            input: kv("k", KvOp::Append(value(i))),
            call: 1 + i as u64,
            // Every third one is acknowledged, the rest time out.
            ret: (i % 3 == 0).then_some((1_000, KvOutput::Ok)),
        });
    }
    let read: String = shown.iter().map(|&i| value(i)).collect();
    ops.push(Operation {
        process: 99,
        input: kv("k", KvOp::Get),
        call: 2_000,
        ret: Some((2_001, KvOutput::Value(Some(read)))),
    });
    ops
}

fn steps_for(ops: &[Operation<KvInput, KvOutput>]) -> (bool, u64) {
    let options = CheckOptions {
        max_steps: Some(10_000),
        ..CheckOptions::default()
    };
    let (v, work) = checkers::linearizability::check_measured(&Kv, ops, &options);
    match v {
        Verdict::Linearizable => (true, work.steps),
        Verdict::NotLinearizable(_) => (false, work.steps),
        Verdict::Unknown { reason, .. } => panic!("unknown within 10,000 steps: {reason}"),
    }
}

#[test]
fn a_late_read_of_many_appends_fixes_their_order() {
    // The put, then the appends in a scrambled order.
    let order = [0, 7, 2, 13, 9, 1, 14, 4, 11, 3, 8, 12, 5, 10, 6];
    let (ok, steps) = steps_for(&appends_read_late(&order));
    assert!(ok, "every order of concurrent appends is allowed");
    assert!(steps < 200, "{steps} steps: the order should be read off");
    // Without the put's value first, the read is impossible (the put was
    // acknowledged before any append began); without append 3, which was
    // acknowledged before the read began, too.
    let (ok, _) = steps_for(&appends_read_late(&order[1..]));
    assert!(!ok, "a read missing the put");
    let without_3: Vec<usize> = order.iter().copied().filter(|&i| i != 3).collect();
    let (ok, _) = steps_for(&appends_read_late(&without_3));
    assert!(!ok, "a read missing an acknowledged append");
    // Leaving out timed-out appends is fine: they may never have happened.
    let without_timeouts: Vec<usize> = order.iter().copied().filter(|&i| i % 3 == 0).collect();
    let (ok, _) = steps_for(&appends_read_late(&without_timeouts));
    assert!(ok, "timed-out appends may never have happened");
}

#[test]
fn an_order_that_real_time_rules_out_is_refuted() {
    // Append 12 returned (at 1,000) before append 20 was called: a read
    // showing 20 before 12 cannot be linearized.
    let with_late_append = |shown: &[usize]| {
        let mut ops = appends_read_late(shown);
        ops.push(Operation {
            process: 20,
            input: kv("k", KvOp::Append("x 20 y".to_string())),
            call: 1_500,
            ret: None,
        });
        steps_for(&ops).0
    };
    assert!(!with_late_append(&[0, 3, 6, 9, 20, 12]));
    assert!(with_late_append(&[0, 3, 6, 9, 12, 20]));
}

/// What the kv model says reads pin, on a small history of fresh values:
/// each read's write (its last piece), its epoch (the put its state starts
/// with), and the completed writes no read shows (late) with the resets.
#[test]
fn kv_reads_pin_their_write_their_epoch_and_leave_unread_writes_late() {
    use checkers::model::Model;
    let ops = [
        (kv("k", KvOp::Put("+1".into())), Some(KvOutput::Ok)),
        (kv("k", KvOp::Append("+2".into())), Some(KvOutput::Ok)),
        (
            kv("k", KvOp::Get),
            Some(KvOutput::Value(Some("+1+2".into()))),
        ),
        (kv("k", KvOp::Get), Some(KvOutput::Value(Some("+1".into())))),
        (kv("k", KvOp::Put("+3".into())), Some(KvOutput::Ok)),
        (kv("k", KvOp::Append("+4".into())), None),
    ];
    let views: Vec<(&KvInput, Option<&KvOutput>)> =
        ops.iter().map(|(i, o)| (i, o.as_ref())).collect();
    assert_eq!(Kv.reads_from(&views), vec![(0, 3), (1, 2)]);
    assert_eq!(Kv.epochs(&views), vec![(0, 2), (0, 3)]);
    assert_eq!(Kv.late_writes(&views), (vec![4], vec![0, 4]));
    assert_eq!(checkers::model::StringKv.epochs(&views), Kv.epochs(&views));
}
