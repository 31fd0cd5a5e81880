//! The reference oracles the differential tests compare the checker with:
//! stateright's exhaustive `LinearizabilityTester`, and a brute-force search
//! straight from the definition. Shared by `differential*.rs` (`#[path]`).
#![allow(dead_code)]
use checkers::linearizability::{check, CheckOptions, Operation, Verdict};
use checkers::model::{KvInput, KvOp, KvOutput, RegisterInput, RegisterOutput};
use stateright::semantics::{ConsistencyTester, LinearizabilityTester, SequentialSpec};
use std::collections::BTreeMap;

/// The reference object for stateright: the project's KV.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Store(BTreeMap<String, String>);

#[derive(Clone, Debug, PartialEq)]
pub enum Ret {
    Value(Option<String>),
    Ok,
    Cas(bool),
}

impl SequentialSpec for Store {
    type Op = KvInput;
    type Ret = Ret;
    fn invoke(&mut self, op: &KvInput) -> Ret {
        let k = op.key.clone();
        match &op.op {
            KvOp::Get => Ret::Value(self.0.get(&k).cloned()),
            KvOp::Put(v) => {
                self.0.insert(k, v.clone());
                Ret::Ok
            }
            KvOp::Append(v) => {
                self.0.entry(k).or_default().push_str(v);
                Ret::Ok
            }
            KvOp::Cas { from, to } => {
                let hit = self.0.get(&k) == from.as_ref();
                if hit {
                    self.0.insert(k, to.clone());
                }
                Ret::Cas(hit)
            }
            KvOp::Delete => {
                self.0.remove(&k);
                Ret::Ok
            }
        }
    }
}

/// The register (Jepsen etcd) for stateright.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Reg(Option<i64>);

impl SequentialSpec for Reg {
    type Op = RegisterInput;
    type Ret = RegisterOutput;
    fn invoke(&mut self, op: &RegisterInput) -> RegisterOutput {
        match *op {
            RegisterInput::Read => RegisterOutput::Read(self.0),
            RegisterInput::Write(v) => {
                self.0 = Some(v);
                RegisterOutput::Ok
            }
            RegisterInput::Cas { from, to } => {
                if self.0 == Some(from) {
                    self.0 = Some(to);
                    RegisterOutput::Ok
                } else {
                    RegisterOutput::Failed
                }
            }
        }
    }
}

/// Runs stateright over the history: invocations and returns in time order,
/// indeterminate operations left in flight (they may or may not apply).
pub fn oracle<S, I, O>(init: S, ops: &[Operation<I, O>], ret: impl Fn(&I, &O) -> S::Ret) -> bool
where
    S: SequentialSpec<Op = I> + Clone,
    I: Clone + std::fmt::Debug,
    S::Ret: Clone + std::fmt::Debug + PartialEq,
{
    let mut events: Vec<(u64, usize, bool)> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        events.push((op.call, i, false));
        if let Some((t, _)) = op.ret {
            events.push((t, i, true));
        }
    }
    events.sort();
    let mut tester = LinearizabilityTester::new(init);
    for (_, i, is_return) in events {
        let op = &ops[i];
        let r = if is_return {
            let (_, out) = op.ret.as_ref().expect("returned");
            tester
                .on_return(op.process, ret(&op.input, out))
                .map(|_| ())
        } else {
            tester.on_invoke(op.process, op.input.clone()).map(|_| ())
        };
        r.expect("well-formed history");
    }
    tester.is_consistent()
}

/// A second oracle, straight from the definition: some order of all
/// completed operations and some of the indeterminate ones, respecting real
/// time, is a valid sequential run. Memoised on (placed set, state); at most
/// 64 operations.
pub fn brute_force<S, I, O>(
    init: S,
    ops: &[Operation<I, O>],
    ret: impl Fn(&I, &O) -> S::Ret,
) -> bool
where
    S: SequentialSpec<Op = I> + Clone + Eq + std::hash::Hash,
{
    assert!(ops.len() <= 64);
    let completed: u64 = (0..ops.len())
        .filter(|&i| ops[i].ret.is_some())
        .map(|i| 1 << i)
        .sum();
    // Operations that returned before each one was called.
    let before: Vec<u64> = ops
        .iter()
        .map(|o| {
            (0..ops.len())
                .filter(|&j| ops[j].ret.as_ref().is_some_and(|(t, _)| *t < o.call))
                .map(|j| 1 << j)
                .sum()
        })
        .collect();
    let rets: Vec<Option<S::Ret>> = ops
        .iter()
        .map(|o| o.ret.as_ref().map(|(_, out)| ret(&o.input, out)))
        .collect();
    let mut failed = std::collections::HashSet::new();
    fn go<S: SequentialSpec + Clone + Eq + std::hash::Hash>(
        placed: u64,
        state: &S,
        ops: &[&S::Op],
        rets: &[Option<S::Ret>],
        before: &[u64],
        completed: u64,
        failed: &mut std::collections::HashSet<(u64, S)>,
    ) -> bool {
        if placed & completed == completed {
            return true;
        }
        if failed.contains(&(placed, state.clone())) {
            return false;
        }
        for i in 0..ops.len() {
            if placed & (1 << i) != 0 || before[i] & !placed != 0 {
                continue;
            }
            let mut next = state.clone();
            let ok = match &rets[i] {
                Some(r) => next.is_valid_step(ops[i], r),
                None => {
                    next.invoke(ops[i]);
                    true
                }
            };
            if ok && go(placed | 1 << i, &next, ops, rets, before, completed, failed) {
                return true;
            }
        }
        failed.insert((placed, state.clone()));
        false
    }
    let inputs: Vec<&I> = ops.iter().map(|o| &o.input).collect();
    go(0, &init, &inputs, &rets, &before, completed, &mut failed)
}

/// The brute-force oracle key by key: the store's keys are separate objects,
/// and linearizability is local (Herlihy and Wing), so the history is
/// linearizable exactly when each key's operations are. Exponential only in
/// each key's size, so histories over many keys stay cheap to judge.
pub fn brute_force_per_key(ops: &[Operation<KvInput, KvOutput>]) -> bool {
    let mut keys: BTreeMap<&str, Vec<Operation<KvInput, KvOutput>>> = BTreeMap::new();
    for op in ops {
        keys.entry(&op.input.key).or_default().push(op.clone());
    }
    keys.values()
        .all(|key_ops| brute_force(Store::default(), key_ops, kv_ret))
}

pub fn ours<M: checkers::model::Model>(
    model: &M,
    ops: &[Operation<M::Input, M::Output>],
    partition: bool,
) -> bool {
    let options = CheckOptions {
        partition,
        threads: 1,
        ..CheckOptions::default()
    };
    match check(model, ops, &options) {
        Verdict::Linearizable => true,
        Verdict::NotLinearizable(_) => false,
        Verdict::Unknown { reason, .. } => panic!("the default budget ran out: {reason}"),
    }
}

pub fn kv_ret(input: &KvInput, out: &KvOutput) -> Ret {
    match (out, &input.op) {
        (KvOutput::Value(v), _) => Ret::Value(v.clone()),
        (KvOutput::Ok, KvOp::Cas { .. }) => Ret::Cas(true),
        (KvOutput::Failed, _) => Ret::Cas(false),
        (KvOutput::Ok, _) => Ret::Ok,
    }
}
