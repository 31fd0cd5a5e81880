//! What a counterexample carries for the report's linearizability view: the
//! model state before and after every operation of the longest prefix, as
//! the model replays it (hundreds of small random register histories with
//! corrupted results), bounded in count and length.
use checkers::linearizability::{check, CheckOptions, Counterexample, Operation, Verdict};
use checkers::model::{Model, Register, RegisterInput as In, RegisterOutput as Out};

/// A small deterministic generator (xorshift), so the histories are fixed.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Clients taking turns on one register: each operation takes effect at a
/// random moment inside its interval. One read or compare-and-set in four
/// then gives a wrong result.
fn history(rng: &mut Rng) -> Vec<Operation<In, Out>> {
    let clients = 2 + rng.below(3);
    let mut free = vec![0u64; clients as usize];
    // (effect time, call, ret, client, input)
    let mut planned = Vec::new();
    for _ in 0..(4 + rng.below(9)) {
        let c = rng.below(clients) as usize;
        let call = free[c] + rng.below(3);
        let ret = call + 1 + rng.below(14);
        free[c] = ret + 1;
        let input = match rng.below(4) {
            0 => In::Read,
            1 => In::Cas {
                from: rng.below(3) as i64,
                to: rng.below(3) as i64,
            },
            _ => In::Write(rng.below(3) as i64),
        };
        planned.push((call + rng.below(ret - call), call, ret, c as u64, input));
    }
    planned.sort_by_key(|p| (p.0, p.1));
    let mut value = None;
    let mut ops = Vec::new();
    for (_, call, ret, process, input) in planned {
        let out = match input {
            In::Write(v) => {
                value = Some(v);
                Out::Ok
            }
            In::Cas { from, to } => match (value == Some(from), rng.below(4) == 0) {
                // Corrupted: the other result.
                (true, false) | (false, true) => {
                    value = Some(to);
                    Out::Ok
                }
                _ => Out::Failed,
            },
            _ if rng.below(4) == 0 => Out::Read(Some(rng.below(3) as i64)),
            _ => Out::Read(value),
        };
        ops.push(Operation {
            process,
            input,
            call,
            ret: Some((ret, out)),
        });
    }
    ops
}

/// Steps `seq` (history ids) from the initial state: the state before each
/// and after the last, or None where the model refuses a step or real time
/// is broken (an operation placed before one that returned before its call).
fn replay(ops: &[Operation<In, Out>], seq: &[usize]) -> Option<Vec<String>> {
    let mut state = Register.init();
    let mut states = vec![Register.describe_state(&state)];
    for (i, &a) in seq.iter().enumerate() {
        let later_returned_first = seq[i + 1..]
            .iter()
            .any(|&b| ops[b].ret.as_ref().is_some_and(|r| r.0 < ops[a].call));
        if later_returned_first {
            return None;
        }
        state = Register.step(&state, &ops[a].input, ops[a].output())?;
        states.push(Register.describe_state(&state));
    }
    Some(states)
}

#[test]
fn counterexamples_carry_the_state_before_and_after_every_prefix_operation() {
    let mut rng = Rng(0x5eed_c0de);
    let mut failing = 0;
    let options = CheckOptions {
        threads: 1,
        ..CheckOptions::default()
    };
    for _ in 0..600 {
        let ops = history(&mut rng);
        if let Verdict::NotLinearizable(cx) = check(&Register, &ops, &options) {
            failing += 1;
            let states = replay(&ops, &cx.longest_prefix).expect("the prefix linearizes");
            assert_eq!(states.last(), Some(&cx.state_after_prefix));
            // Short prefixes are covered whole: the state before each op and after it.
            assert_eq!(cx.prefix_states, states, "{cx:?}");
        }
    }
    assert!(failing > 50, "only {failing} failing histories");
}

/// Sequential operations on one key, then a read of a value never written.
fn sequential<M: Model>(
    mut ops: Vec<Operation<M::Input, M::Output>>,
    model: &M,
) -> Box<Counterexample> {
    for (i, o) in ops.iter_mut().enumerate() {
        o.call = 2 * i as u64;
        o.ret.as_mut().unwrap().0 = 2 * i as u64 + 1;
    }
    match check(model, &ops, &CheckOptions::default()) {
        Verdict::NotLinearizable(cx) => cx,
        v => panic!("{v:?}"),
    }
}

#[test]
fn long_prefixes_and_long_states_are_cut() {
    use checkers::linearizability::{PREFIX_STATES, STATE_CHARS};
    let op = |input, out| Operation {
        process: 0,
        input,
        call: 0,
        ret: Some((0, out)),
    };
    let mut ops: Vec<_> = (0..1500).map(|v| op(In::Write(v), Out::Ok)).collect();
    ops.push(op(In::Read, Out::Read(Some(-1))));
    let cx = sequential(ops.clone(), &Register);
    assert_eq!(cx.longest_prefix.len(), 1500);
    // The last PREFIX_STATES operations: the state before the first of them,
    // then after each.
    assert_eq!(cx.prefix_states.len(), PREFIX_STATES + 1);
    let states = replay(&ops, &cx.longest_prefix).unwrap();
    assert_eq!(cx.prefix_states[..], states[1500 - PREFIX_STATES..]);

    use checkers::model::{Kv, KvInput, KvOp, KvOutput};
    let kv = |op, out| Operation {
        process: 0,
        input: KvInput {
            key: "k".into(),
            op,
        },
        call: 0,
        ret: Some((0, out)),
    };
    let mut ops: Vec<_> = (0..100)
        .map(|i| kv(KvOp::Append(format!("x {i} y")), KvOutput::Ok))
        .collect();
    ops.push(kv(KvOp::Get, KvOutput::Value(Some("nope".into()))));
    let cx = sequential(ops, &Kv);
    let last = cx.prefix_states.last().unwrap();
    let full = &cx.state_after_prefix;
    assert!(full.chars().count() > STATE_CHARS, "{full}");
    let tail: String = full
        .chars()
        .skip(full.chars().count() - STATE_CHARS)
        .collect();
    assert_eq!(*last, format!("({} chars) …{tail}", full.chars().count()));
}

/// Porcupine's partial linearizations: each one given for an operation the
/// longest prefix leaves out contains it, is a linearization of what it
/// holds (model steps and real-time order), holds everything that returned
/// before any of its operations was called, and is no longer than the
/// longest prefix. Some of them are not empty (a test that cannot fail is
/// no test).
#[test]
fn partial_linearizations_of_left_out_operations_are_real_ones() {
    let mut rng = Rng(0xfeed_5eed);
    let options = CheckOptions {
        threads: 1,
        ..CheckOptions::default()
    };
    let (mut failing, mut shown) = (0, 0);
    for _ in 0..600 {
        let ops = history(&mut rng);
        let Verdict::NotLinearizable(cx) = check(&Register, &ops, &options) else {
            continue;
        };
        failing += 1;
        let left_out = (0..ops.len())
            .filter(|i| !cx.longest_prefix.contains(i))
            .count();
        assert_eq!(cx.partials.len(), left_out.min(64), "{cx:?}");
        for p in &cx.partials {
            assert!(!cx.longest_prefix.contains(&p.op), "{cx:?}");
            if p.linearization.is_empty() {
                continue;
            }
            shown += 1;
            assert!(p.linearization.contains(&p.op), "{p:?}");
            assert!(
                p.linearization.len() <= cx.longest_prefix.len(),
                "{p:?} {cx:?}"
            );
            assert!(replay(&ops, &p.linearization).is_some(), "{p:?} {cx:?}");
            for &a in &p.linearization {
                for (b, o) in ops.iter().enumerate() {
                    if o.ret.as_ref().is_some_and(|r| r.0 < ops[a].call) {
                        assert!(p.linearization.contains(&b), "{b} precedes {a}: {p:?}");
                    }
                }
            }
        }
    }
    assert!(
        failing > 50 && shown > 0,
        "{failing} failing, {shown} partials shown"
    );
}
