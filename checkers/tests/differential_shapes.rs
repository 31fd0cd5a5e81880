//! Differential tests of the shapes issue 18's checker-speed rows measure,
//! made small enough for the oracles: one key, many clients all in flight at
//! once, fresh `+n` values written by gets, puts and appends (the bench's
//! generator, `benches/common/gen.rs`). The first shape is all complete with
//! one stale read; the second has indeterminate operations. Half the cases
//! get a read corrupted, so both verdicts come up.
use checkers::linearizability::Operation;
use checkers::model::{Kv, KvInput, KvOp, KvOutput};
use checkers::parse::parse_snapstorm;
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

#[path = "common/oracle.rs"]
mod oracle;
use oracle::{brute_force, kv_ret, oracle, ours, Store};

#[path = "../benches/common/gen.rs"]
mod gen;

type Ops = Vec<Operation<KvInput, KvOutput>>;

/// A history of `ops` operations by `clients` clients on one key, with the
/// bench's mix (get 4 : put 1 : append 4).
fn history(ops: usize, clients: usize, info: f64, seed: u64) -> Ops {
    let spec = gen::Spec {
        ops,
        keys: 1,
        clients,
        info,
        seed,
        mix: [4, 1, 4, 0, 0],
        stale_read: false,
    };
    parse_snapstorm(gen::to_jsonl(&gen::generate(&spec)).as_bytes()).expect("generated")
}

fn read_value(op: &Operation<KvInput, KvOutput>) -> Option<&Option<String>> {
    match &op.ret {
        Some((_, KvOutput::Value(v))) if op.input.op == KvOp::Get => Some(v),
        _ => None,
    }
}

/// A stale read: of the pairs of reads where one returned before the other
/// was called and they saw different values, the `pick`-th (mod their
/// number) has the later read return what the earlier one did. Without
/// such a pair (everything overlaps), the `pick`-th read shows its last two
/// values swapped, or with one value, loses it. Usually not linearizable;
/// the oracles decide.
fn stale(mut ops: Ops, pick: usize) -> Ops {
    let reads: Vec<usize> = (0..ops.len())
        .filter(|&i| read_value(&ops[i]).is_some())
        .collect();
    let returned = |e: usize| ops[e].ret.as_ref().map_or(u64::MAX, |r| r.0);
    let pairs: Vec<(usize, usize)> = (reads.iter())
        .flat_map(|&e| reads.iter().map(move |&r| (e, r)))
        .filter(|&(e, r)| returned(e) < ops[r].call && read_value(&ops[e]) != read_value(&ops[r]))
        .collect();
    let (r, old) = match pairs.get(pick % pairs.len().max(1)) {
        Some(&(e, r)) => (r, read_value(&ops[e]).cloned().flatten()),
        None if !reads.is_empty() => {
            let r = reads[pick % reads.len()];
            let v = read_value(&ops[r]).cloned().flatten().unwrap_or_default();
            let mut pieces: Vec<String> = v.split('+').skip(1).map(|p| format!("+{p}")).collect();
            let n = pieces.len();
            if n >= 2 {
                pieces.swap(n - 2, n - 1);
            } else {
                pieces.clear();
            }
            (r, (!pieces.is_empty()).then(|| pieces.concat()))
        }
        None => return ops,
    };
    ops[r].ret.as_mut().expect("a read returned").1 = KvOutput::Value(old);
    ops
}

/// Our verdict, split and whole, against the brute-force oracle.
fn agrees(ops: &Ops) -> Result<bool, TestCaseError> {
    let expected = brute_force(Store::default(), ops, kv_ret);
    prop_assert_eq!(ours(&Kv, ops, true), expected, "split, history {:#?}", ops);
    prop_assert_eq!(ours(&Kv, ops, false), expected, "whole, history {:#?}", ops);
    Ok(expected)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, rng_seed: RngSeed::Fixed(0x5eed_5a9e), ..ProptestConfig::default() })]

    /// "1 key, 10 clients, all complete, one stale read", small.
    #[test]
    fn ten_clients_all_complete_with_a_stale_read_agree_with_brute_force(
        seed in any::<u64>(), ops in 8usize..=16, corrupt in any::<bool>(), pick in any::<usize>(),
    ) {
        let mut h = history(ops, 10, 0.0, seed);
        if corrupt {
            h = stale(h, pick);
        }
        agrees(&h)?;
    }

    /// "1 key, 50 clients, 5% indeterminate", small: more clients than
    /// operations, so every operation overlaps nearly every other; more
    /// indeterminate ones, so a small history has some.
    #[test]
    fn many_clients_with_indeterminate_ops_agree_with_brute_force(
        seed in any::<u64>(), ops in 6usize..=11, corrupt in any::<bool>(), pick in any::<usize>(),
    ) {
        let mut h = history(ops, 50, 0.15, seed);
        if corrupt {
            h = stale(h, pick);
        }
        agrees(&h)?;
    }

    /// Both shapes, smaller still, against stateright too.
    #[test]
    fn small_shapes_agree_with_stateright(
        seed in any::<u64>(), ops in 5usize..=9, many in any::<bool>(), corrupt in any::<bool>(), pick in any::<usize>(),
    ) {
        let (clients, info) = if many { (50, 0.15) } else { (10, 0.0) };
        let mut h = history(ops, clients, info, seed);
        if corrupt {
            h = stale(h, pick);
        }
        let expected = oracle(Store::default(), &h, kv_ret);
        prop_assert_eq!(agrees(&h)?, expected, "oracles disagree: {:#?}", h);
    }
}

/// The cases above must give both verdicts in useful numbers, and show the
/// structure the search relies on (reads of several appends, indeterminate
/// writes some read shows), or they prove little.
#[test]
fn the_small_shapes_give_both_verdicts() {
    let mut rng = gen::Rng::new(0x5a9e);
    let (mut ok, mut bad, mut long_reads, mut info_shown) = (0, 0, 0, 0);
    for case in 0..200 {
        let many = case % 2 == 1;
        let (ops, clients, info) = if many { (11, 50, 0.15) } else { (16, 10, 0.0) };
        let mut h = history(ops, clients, info, rng.next());
        if case % 4 < 2 {
            h = stale(h, rng.next() as usize);
        }
        let reads: Vec<String> = (h.iter())
            .filter_map(|o| read_value(o).cloned().flatten())
            .collect();
        long_reads += reads.iter().filter(|v| v.matches('+').count() >= 2).count();
        info_shown += (h.iter())
            .filter(|o| o.ret.is_none())
            .filter(|o| match &o.input.op {
                KvOp::Append(v) | KvOp::Put(v) => reads.iter().any(|r| r.contains(v.as_str())),
                _ => false,
            })
            .count();
        if brute_force(Store::default(), &h, kv_ret) {
            ok += 1;
        } else {
            bad += 1;
        }
    }
    println!("linearizable {ok}, not {bad}; {long_reads} reads of 2+ values, {info_shown} indeterminate writes read");
    assert!(ok > 50 && bad > 40, "linearizable {ok}, not {bad}");
    assert!(
        long_reads > 200,
        "only {long_reads} reads show two values or more"
    );
    assert!(
        info_shown > 20,
        "only {info_shown} indeterminate writes are read"
    );
}
