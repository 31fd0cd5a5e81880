//! What the model says reads pin down, kept up to date as the search places
//! and removes operations ([`Plan::reads_from`], [`Plan::epochs`]). Every
//! count here is a function of the placed set, so the configuration cache
//! stays exact.
//!
//! *Epoch order*: the reads of an epoch come after its reset with no reset
//! between ([`Model::epochs`]), so two epochs' resets and reads never
//! interleave: a reset of one inside the other would end it. So if any of
//! epoch E's operations returned before any of F's was called, all of E
//! comes first, and F's reset goes only after E's.
//!
//! [`Model::epochs`]: crate::model::Model::epochs
use super::cache::Bits;
use super::plan::{Links, Plan};
use super::states::Stepper;

const NONE: u32 = u32::MAX;

pub(crate) struct Pins {
    /// Placed writes' readers not yet placed: while there are any, nothing
    /// may change the state.
    open: u32,
    /// Placed resets' epoch reads not yet placed: while there are any, no
    /// reset may be placed.
    epoch_open: u32,
    order: EpochOrder,
}

impl Pins {
    pub(crate) fn new(plan: &Plan) -> Self {
        Pins {
            open: 0,
            epoch_open: 0,
            order: EpochOrder::new(plan),
        }
    }

    /// Whether `op` may be placed now, stepping from `sid` to `new_sid`:
    /// after the write it reads and the reset of its epoch, changing no
    /// state a placed write's readers still need, ending no epoch with reads
    /// left, after every epoch that comes first, and making the state its
    /// own readers show.
    pub(crate) fn allow<S: Stepper>(
        &self,
        plan: &Plan,
        stepper: &S,
        bits: &Bits,
        (sid, op, new_sid): (u32, u32, u32),
    ) -> bool {
        let source_placed = |l: &Links| l.source(op).is_none_or(|w| bits.contains(w));
        if !source_placed(&plan.reads_from) || !source_placed(&plan.epochs) {
            return false;
        }
        if self.open > 0 && new_sid != sid {
            return false;
        }
        if plan.reset(op) && (self.epoch_open > 0 || !self.order.ready(op)) {
            return false;
        }
        (plan.reads_from.members(op).iter()).all(|&r| stepper.needs(r).is_none_or(|s| s == new_sid))
    }

    /// `op` was placed (`true`) or removed.
    pub(crate) fn update(&mut self, plan: &Plan, op: u32, placed: bool) {
        // A member is placed after its source, so no count underflows.
        let (reads, epochs) = (&plan.reads_from, &plan.epochs);
        let delta = |l: &Links| {
            (
                l.members(op).len() as u32,
                u32::from(l.source(op).is_some()),
            )
        };
        let ((ra, rs), (ea, es)) = (delta(reads), delta(epochs));
        if placed {
            self.open = self.open + ra - rs;
            self.epoch_open = self.epoch_open + ea - es;
        } else {
            self.open = self.open + rs - ra;
            self.epoch_open = self.epoch_open + es - ea;
        }
        self.order.update(op, placed);
    }

    pub(crate) fn bytes(&self) -> usize {
        self.order.bytes()
    }
}

/// The epochs' resets ranked by the first return among their operations,
/// with a Fenwick tree counting the placed ones by rank.
struct EpochOrder {
    /// Each reset's rank, or `NONE`.
    rank: Vec<u32>,
    /// For each reset, how many ranks below its last call: those epochs
    /// have an operation that returned before one of its was called.
    before: Vec<u32>,
    tree: Vec<u32>,
}

impl EpochOrder {
    fn new(plan: &Plan) -> Self {
        let n = plan.call.len();
        // Each reset with reads: (first return, last call, op).
        let mut epochs: Vec<(u64, u64, u32)> = (0..n as u32)
            .filter(|&p| plan.reset(p) && !plan.epochs.members(p).is_empty())
            .map(|p| {
                let core = || std::iter::once(p).chain(plan.epochs.members(p).iter().copied());
                let first_ret = core()
                    .filter_map(|o| plan.ret.get(o as usize).copied())
                    .min()
                    .unwrap_or(u64::MAX);
                let last_call = core().map(|o| plan.call[o as usize]).max().unwrap_or(0);
                (first_ret, last_call, p)
            })
            .collect();
        if epochs.len() < 2 {
            return EpochOrder {
                rank: Vec::new(),
                before: Vec::new(),
                tree: Vec::new(),
            };
        }
        epochs.sort_unstable();
        let mut rank = vec![NONE; n];
        let mut before = vec![0; n];
        for (r, &(_, last_call, p)) in epochs.iter().enumerate() {
            rank[p as usize] = r as u32;
            before[p as usize] = epochs.partition_point(|e| e.0 < last_call) as u32;
        }
        EpochOrder {
            rank,
            before,
            tree: vec![0; epochs.len() + 1],
        }
    }

    /// Whether every epoch that must come before reset `op`'s has its
    /// reset placed (`op` itself is not).
    fn ready(&self, op: u32) -> bool {
        let Some(&r) = self.rank.get(op as usize).filter(|&&r| r != NONE) else {
            return true;
        };
        let before = self.before[op as usize];
        self.placed_below(before) == before - u32::from(r < before)
    }

    fn placed_below(&self, mut k: u32) -> u32 {
        let mut sum = 0;
        while k > 0 {
            sum += self.tree[k as usize];
            k &= k - 1;
        }
        sum
    }

    fn update(&mut self, op: u32, placed: bool) {
        let Some(&r) = self.rank.get(op as usize).filter(|&&r| r != NONE) else {
            return;
        };
        let mut i = r as usize + 1;
        while i < self.tree.len() {
            if placed {
                self.tree[i] += 1;
            } else {
                self.tree[i] -= 1;
            }
            i += i & i.wrapping_neg();
        }
    }

    fn bytes(&self) -> usize {
        super::budget::vec_bytes(&self.rank)
            + super::budget::vec_bytes(&self.before)
            + super::budget::vec_bytes(&self.tree)
    }
}
