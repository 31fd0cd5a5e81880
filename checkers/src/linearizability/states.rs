//! State interning: the search works on `u32` state ids, and every
//! `(state, operation)` transition is computed by the model at most once.
//!
//! Backtracking revisits the same transitions many times; for string states
//! (appends) a step allocates, so memoising it pays. Comparing and hashing ids
//! instead of states also keeps the configuration cache cheap.
use super::budget::{map_bytes, vec_bytes};
use super::Operation;
use crate::model::Model;
use rustc_hash::FxHashMap;
use std::hash::BuildHasher;

/// Transition function over interned state ids. `op` is a partition-local
/// operation index.
pub(crate) trait Stepper {
    fn init(&self) -> u32;
    fn step(&mut self, sid: u32, op: u32) -> Option<u32>;
    /// Steps `op` as if its result were unknown (indeterminate).
    fn step_unknown(&mut self, sid: u32, op: u32) -> Option<u32>;
    fn describe(&self, sid: u32) -> String;
    /// Whether completed operation `op` leaves every state as it was
    /// ([`Model::read_only`]).
    fn read_only(&self, op: u32) -> bool;
    /// The one state completed read-only operation `op` may be placed in,
    /// if the model names it ([`Model::read_state`]): it steps from there to
    /// there and is not allowed anywhere else.
    fn needs(&self, op: u32) -> Option<u32>;
    /// Estimated bytes held, from what is stored.
    fn bytes(&self) -> usize;
    /// The one component of the state that `op`'s step reads and writes,
    /// when this stepper builds the state as a vector of components and steps
    /// each operation on its own component only ([`Product`]): operations on
    /// different components then commute and cannot observe each other, by
    /// construction. `None`: the step may read and write all of it.
    fn footprint(&self, op: u32) -> Option<u32>;
    /// The name of a component [`Stepper::footprint`] returned.
    fn component_name(&self, c: u32) -> &str;
}

const DISALLOWED: u32 = u32::MAX;

/// Interns the model's own states.
pub(crate) struct Interned<'a, M: Model> {
    model: &'a M,
    ops: Vec<&'a Operation<M::Input, M::Output>>,
    states: Vec<M::State>,
    /// State hash to the newest state id with it; ids chain by `same_hash`,
    /// so each state is stored once.
    ids: FxHashMap<u64, u32>,
    same_hash: Vec<u32>,
    memo: Memo,
    read_only: Vec<bool>,
    /// Each operation's [`Stepper::needs`], or `DISALLOWED`.
    needs: Vec<u32>,
    /// What the states hold beyond their inline size.
    state_heap: usize,
}

/// Transition memo: the last transition of each operation (the search asks
/// for the same one many times in a row), then a hash map. Operation
/// `ops + i` stands for operation `i` with an unknown result.
struct Memo {
    last: Vec<(u32, u32)>,
    map: FxHashMap<u64, u32>,
}

impl Memo {
    fn new(ops: usize) -> Self {
        Memo {
            last: vec![(u32::MAX, 0); ops],
            map: FxHashMap::default(),
        }
    }

    fn get(&mut self, sid: u32, op: u32) -> Option<Option<u32>> {
        let (s, r) = self.last[op as usize];
        let r = if s == sid {
            r
        } else {
            let r = *self.map.get(&(u64::from(sid) << 32 | u64::from(op)))?;
            self.last[op as usize] = (sid, r);
            r
        };
        Some((r != DISALLOWED).then_some(r))
    }

    fn insert(&mut self, sid: u32, op: u32, r: Option<u32>) {
        let r = r.unwrap_or(DISALLOWED);
        self.last[op as usize] = (sid, r);
        self.map.insert(u64::from(sid) << 32 | u64::from(op), r);
    }

    fn bytes(&self) -> usize {
        vec_bytes(&self.last) + map_bytes(&self.map)
    }
}

impl<'a, M: Model> Interned<'a, M> {
    pub(crate) fn new(model: &'a M, ops: Vec<&'a Operation<M::Input, M::Output>>) -> Self {
        let read_only = ops
            .iter()
            .map(|o| o.output().is_some_and(|out| model.read_only(&o.input, out)))
            .collect();
        let mut this = Interned {
            model,
            memo: Memo::new(2 * ops.len()),
            read_only,
            needs: Vec::new(),
            state_heap: 0,
            ops,
            states: Vec::new(),
            ids: FxHashMap::default(),
            same_hash: Vec::new(),
        };
        this.intern(model.init());
        for i in 0..this.ops.len() {
            let o = this.ops[i];
            let state = (o.output())
                .filter(|_| this.read_only[i])
                .and_then(|out| model.read_state(&o.input, out));
            let id = state.map_or(DISALLOWED, |s| this.intern(s));
            this.needs.push(id);
        }
        this
    }

    fn intern(&mut self, state: M::State) -> u32 {
        let hash = rustc_hash::FxBuildHasher.hash_one(&state);
        let mut id = self.ids.get(&hash).copied().unwrap_or(DISALLOWED);
        while id != DISALLOWED {
            if self.states[id as usize] == state {
                return id;
            }
            id = self.same_hash[id as usize];
        }
        let id = self.states.len() as u32;
        let older = self.ids.insert(hash, id).unwrap_or(DISALLOWED);
        self.same_hash.push(older);
        self.state_heap += self.model.state_bytes(&state);
        self.states.push(state);
        id
    }

    /// Steps the raw model for operation `op` from state `sid`; `op` past
    /// the operations is one with an unknown result.
    fn step_uncached(&mut self, sid: u32, op: u32) -> Option<u32> {
        let n = self.ops.len();
        let o = self.ops[op as usize % n];
        let output = if (op as usize) < n { o.output() } else { None };
        let next = self
            .model
            .step(&self.states[sid as usize], &o.input, output)?;
        Some(self.intern(next))
    }

    fn step_memo(&mut self, sid: u32, op: u32) -> Option<u32> {
        if let Some(r) = self.memo.get(sid, op) {
            return r;
        }
        let r = self.step_uncached(sid, op);
        self.memo.insert(sid, op, r);
        r
    }
}

impl<M: Model> Stepper for Interned<'_, M> {
    fn init(&self) -> u32 {
        0
    }

    fn step(&mut self, sid: u32, op: u32) -> Option<u32> {
        self.step_memo(sid, op)
    }

    fn step_unknown(&mut self, sid: u32, op: u32) -> Option<u32> {
        self.step_memo(sid, op + self.ops.len() as u32)
    }

    fn describe(&self, sid: u32) -> String {
        self.model.describe_state(&self.states[sid as usize])
    }

    fn read_only(&self, op: u32) -> bool {
        self.read_only[op as usize]
    }

    fn needs(&self, op: u32) -> Option<u32> {
        let s = self.needs[op as usize];
        (s != DISALLOWED).then_some(s)
    }

    fn footprint(&self, _op: u32) -> Option<u32> {
        None
    }

    fn component_name(&self, _c: u32) -> &str {
        ""
    }

    fn bytes(&self) -> usize {
        // See `budget`: capacities, the same on every machine.
        vec_bytes(&self.states)
            + self.state_heap
            + vec_bytes(&self.same_hash)
            + map_bytes(&self.ids)
            + vec_bytes(&self.read_only)
            + vec_bytes(&self.needs)
            + self.memo.bytes()
    }
}

/// The whole-history state of a partitioned model checked without the
/// per-key split: one interned state per key, itself interned as a vector.
pub(crate) struct Product<'a, M: Model> {
    inner: Interned<'a, M>,
    /// Key index of each operation.
    key_of: Vec<u32>,
    keys: Vec<String>,
    vectors: Vec<Box<[u32]>>,
    ids: FxHashMap<Box<[u32]>, u32>,
    memo: Memo,
}

impl<'a, M: Model> Product<'a, M> {
    pub(crate) fn new(model: &'a M, ops: Vec<&'a Operation<M::Input, M::Output>>) -> Self {
        let mut keys: Vec<String> = Vec::new();
        let mut index: FxHashMap<&str, u32> = FxHashMap::default();
        let key_of = ops
            .iter()
            .map(|o| {
                let key = model.partition(&o.input).unwrap_or("");
                *index.entry(key).or_insert_with(|| {
                    keys.push(key.to_string());
                    keys.len() as u32 - 1
                })
            })
            .collect();
        let memo = Memo::new(2 * ops.len());
        let inner = Interned::new(model, ops);
        let init: Box<[u32]> = vec![inner.init(); keys.len()].into();
        let mut ids = FxHashMap::default();
        ids.insert(init.clone(), 0);
        Product {
            inner,
            key_of,
            keys,
            vectors: vec![init],
            ids,
            memo,
        }
    }
}

impl<M: Model> Product<'_, M> {
    /// `op` past the operations is one with an unknown result.
    fn step_memo(&mut self, sid: u32, op: u32) -> Option<u32> {
        if let Some(r) = self.memo.get(sid, op) {
            return r;
        }
        let k = self.key_of[op as usize % self.key_of.len()] as usize;
        let r = self
            .inner
            .step_memo(self.vectors[sid as usize][k], op)
            .map(|sub| {
                let mut v = self.vectors[sid as usize].clone();
                v[k] = sub;
                if let Some(&id) = self.ids.get(&v) {
                    return id;
                }
                let id = self.vectors.len() as u32;
                self.ids.insert(v.clone(), id);
                self.vectors.push(v);
                id
            });
        self.memo.insert(sid, op, r);
        r
    }
}

impl<M: Model> Stepper for Product<'_, M> {
    fn init(&self) -> u32 {
        0
    }

    fn step(&mut self, sid: u32, op: u32) -> Option<u32> {
        self.step_memo(sid, op)
    }

    fn step_unknown(&mut self, sid: u32, op: u32) -> Option<u32> {
        self.step_memo(sid, op + self.key_of.len() as u32)
    }

    fn describe(&self, sid: u32) -> String {
        let parts: Vec<String> = (self.keys.iter().zip(self.vectors[sid as usize].iter()))
            .map(|(k, &s)| format!("{k:?}={}", self.inner.describe(s)))
            .collect();
        format!("{{{}}}", parts.join(", "))
    }

    fn read_only(&self, op: u32) -> bool {
        self.inner.read_only(op)
    }

    fn needs(&self, _op: u32) -> Option<u32> {
        None // the inner ids are per key, not whole states
    }

    fn footprint(&self, op: u32) -> Option<u32> {
        Some(self.key_of[op as usize % self.key_of.len()])
    }

    fn component_name(&self, c: u32) -> &str {
        &self.keys[c as usize]
    }

    fn bytes(&self) -> usize {
        // Each vector is stored twice: in `vectors` and as a key of `ids`.
        let per_vector = 2 * self.keys.len() * 4;
        self.inner.bytes()
            + vec_bytes(&self.vectors)
            + self.vectors.len() * per_vector
            + map_bytes(&self.ids)
            + self.memo.bytes()
    }
}
