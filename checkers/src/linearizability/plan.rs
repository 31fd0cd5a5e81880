//! What a partition's search works from: its operations in local order,
//! their times, and what the model's outputs imply about them (orderings,
//! which write each read observes, which reads an epoch holds).
use super::Operation;

/// A partition's operations, in local order: completed ones `0..completed`,
/// then indeterminate ones; each group sorted by call time.
#[derive(Clone)]
pub(crate) struct Plan {
    pub(crate) completed: usize,
    pub(crate) call: Vec<u64>,
    /// Return time of each completed operation.
    pub(crate) ret: Vec<u64>,
    /// For each indeterminate operation (from `completed` on), the previous
    /// one with an equal input, if any.
    pub(crate) twin: Vec<Option<u32>>,
    /// Operations each one must follow ([`Model::implied_order`]).
    ///
    /// [`Model::implied_order`]: crate::model::Model::implied_order
    after: Lists,
    /// The write each read observes ([`Model::reads_from`]).
    ///
    /// [`Model::reads_from`]: crate::model::Model::reads_from
    pub(crate) reads_from: Links,
    /// The reset each read's epoch starts with ([`Model::epochs`]).
    ///
    /// [`Model::epochs`]: crate::model::Model::epochs
    pub(crate) epochs: Links,
    /// [`LATE`] and [`RESET`] flags ([`Model::late_writes`]); empty when
    /// there are none.
    ///
    /// [`Model::late_writes`]: crate::model::Model::late_writes
    flags: Vec<u8>,
}

const LATE: u8 = 1;
const RESET: u8 = 2;

const NONE: u32 = u32::MAX;

/// A many-to-one relation between operations: each *member* has at most
/// one *source*; each source, its members.
#[derive(Clone, Default)]
pub(crate) struct Links {
    source: Vec<u32>,
    members: Lists,
}

impl Links {
    /// From `(source, member)` pairs, for operations `0..n`.
    fn new(n: usize, pairs: Vec<(u32, u32)>) -> Self {
        if pairs.is_empty() {
            return Links::default();
        }
        let mut source = vec![NONE; n];
        for &(s, m) in &pairs {
            source[m as usize] = s;
        }
        Links {
            source,
            members: Lists::new(n, pairs),
        }
    }

    pub(crate) fn source(&self, op: u32) -> Option<u32> {
        let s = *self.source.get(op as usize)?;
        (s != NONE).then_some(s)
    }

    pub(crate) fn members(&self, op: u32) -> &[u32] {
        self.members.get(op)
    }
}

/// A list of operations per operation, stored flat: `items[start[op]..
/// start[op + 1]]`; an empty `start` means every list is empty.
#[derive(Clone, Default)]
struct Lists {
    items: Vec<u32>,
    start: Vec<u32>,
}

impl Lists {
    /// From `(owner, item)` pairs, for owners `0..n`.
    fn new(n: usize, mut pairs: Vec<(u32, u32)>) -> Self {
        if pairs.is_empty() {
            return Lists::default();
        }
        pairs.sort_unstable();
        pairs.dedup();
        let mut start = Vec::with_capacity(n + 1);
        let items = pairs.iter().map(|&(_, item)| item).collect();
        let mut k = 0;
        for op in 0..=n as u32 {
            start.push(k as u32);
            while k < pairs.len() && pairs[k].0 == op {
                k += 1;
            }
        }
        Lists { items, start }
    }

    fn get(&self, op: u32) -> &[u32] {
        match self.start.get(op as usize..op as usize + 2) {
            Some(&[a, b]) => &self.items[a as usize..b as usize],
            _ => &[],
        }
    }
}

impl Plan {
    pub(crate) fn new(
        completed: usize,
        call: Vec<u64>,
        ret: Vec<u64>,
        twin: Vec<Option<u32>>,
    ) -> Self {
        Plan {
            completed,
            call,
            ret,
            twin,
            after: Lists::default(),
            reads_from: Links::default(),
            epochs: Links::default(),
            flags: Vec::new(),
        }
    }

    /// Whether `op` is late: placed only right before a reset, an
    /// indeterminate operation, a later late one, or one called after it
    /// returned.
    pub(crate) fn late(&self, op: u32) -> bool {
        self.flags.get(op as usize).is_some_and(|f| f & LATE != 0)
    }

    /// Whether `op` may come right after late operation `x`.
    pub(crate) fn may_follow_late(&self, x: u32, op: u32) -> bool {
        let f = self.flags[op as usize];
        op as usize >= self.completed
            || f & RESET != 0
            || (f & LATE != 0 && op > x)
            || self.call[op as usize] > self.ret[x as usize]
    }

    /// Whether `op` is a reset ([`Model::late_writes`]).
    ///
    /// [`Model::late_writes`]: crate::model::Model::late_writes
    pub(crate) fn reset(&self, op: u32) -> bool {
        self.flags.get(op as usize).is_some_and(|f| f & RESET != 0)
    }

    /// Sets the late operations (completed ones only) and the resets.
    pub(crate) fn set_late(&mut self, late: &[u32], resets: &[u32]) {
        let late: Vec<u32> = (late.iter().copied())
            .filter(|&op| (op as usize) < self.completed)
            .collect();
        if late.is_empty() && resets.is_empty() {
            return;
        }
        self.flags = vec![0; self.call.len()];
        for &op in &late {
            self.flags[op as usize] |= LATE;
        }
        for &op in resets {
            self.flags[op as usize] |= RESET;
        }
    }

    /// Whether any read pin is set: reads-from, epochs or late writes.
    pub(crate) fn pinned(&self) -> bool {
        !self.flags.is_empty()
            || !self.reads_from.source.is_empty()
            || !self.epochs.source.is_empty()
    }

    /// The same plan without its read pins (the orderings stay). The pins
    /// prune the search soundly, so a violation is found with or without
    /// them; but with them it shows early, where a pin first cannot hold,
    /// not at the operation a reader should see (the stale read).
    pub(crate) fn without_pins(&self) -> Plan {
        Plan {
            reads_from: Links::default(),
            epochs: Links::default(),
            flags: Vec::new(),
            ..self.clone()
        }
    }

    /// Reads a reset provably overwrote: `(read, source, overwriter)` for
    /// each read whose epoch starts at reset `source` (or that observes write
    /// `source`), while another reset was called after `source` returned and
    /// returned before the read was called. In every order that keeps real
    /// time that reset falls between them, which the pin forbids: the read
    /// is stale. At most one overwriter per read (the earliest to return).
    pub(crate) fn stale_reads(&self) -> Vec<(u32, u32, u32)> {
        let resets: Vec<u32> = (0..self.completed as u32)
            .filter(|&op| self.reset(op))
            .collect();
        let mut stale = Vec::new();
        for read in 0..self.completed as u32 {
            let sources = [self.epochs.source(read), self.reads_from.source(read)];
            let found = sources.into_iter().flatten().find_map(|source| {
                let after = self.ret.get(source as usize).copied()?;
                (resets.iter().copied())
                    .filter(|&x| x != source && x != read)
                    .filter(|&x| self.call[x as usize] > after)
                    .filter(|&x| self.ret[x as usize] < self.call[read as usize])
                    .min_by_key(|&x| (self.ret[x as usize], x))
                    .map(|x| (source, x))
            });
            if let Some((source, overwriter)) = found {
                stale.push((read, source, overwriter));
            }
        }
        stale
    }

    /// The operations `op` must follow.
    pub(crate) fn after(&self, op: u32) -> &[u32] {
        self.after.get(op)
    }

    /// Sets the orderings, as `(before, after)` pairs of local operations.
    pub(crate) fn set_order(&mut self, pairs: Vec<(u32, u32)>) {
        let pairs = pairs.into_iter().map(|(a, b)| (b, a)).collect();
        self.after = Lists::new(self.call.len(), pairs);
    }

    /// Sets which write each read observes, and the reset each read's
    /// epoch starts with, as `(write or reset, read)` pairs of local
    /// operations.
    pub(crate) fn set_reads(&mut self, reads_from: Vec<(u32, u32)>, epochs: Vec<(u32, u32)>) {
        self.reads_from = Links::new(self.call.len(), reads_from);
        self.epochs = Links::new(self.call.len(), epochs);
    }
}

/// Local order of operations `ids`: completed ones by call time, then
/// indeterminate ones; and the search plan over them.
pub(super) fn plan_for<I: Eq + std::hash::Hash, O>(
    history: &[Operation<I, O>],
    ids: &[usize],
) -> (Vec<usize>, Plan) {
    let ret = |i: usize| history[i].ret.as_ref().map(|r| r.0);
    let mut local = ids.to_vec();
    local.sort_by_key(|&i| (ret(i).is_none(), history[i].call, i));
    let completed = local.iter().filter(|&&i| ret(i).is_some()).count();
    // Each indeterminate operation's nearest earlier identical one.
    let mut last: rustc_hash::FxHashMap<&I, u32> = Default::default();
    let twin = (completed..local.len())
        .map(|l| last.insert(&history[local[l]].input, l as u32))
        .collect();
    let call = local.iter().map(|&i| history[i].call).collect();
    let rets = local[..completed]
        .iter()
        .map(|&i| ret(i).unwrap_or(u64::MAX))
        .collect();
    (local, Plan::new(completed, call, rets, twin))
}
