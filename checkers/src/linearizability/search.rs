//! Wing–Gong–Lowe depth-first search for one partition, with memoisation of
//! (linearized set, state) as in Lowe's "Testing for Linearizability" and
//! Porcupine.
//!
//! Completed operations sit in a doubly linked list of call and return
//! entries ordered by time. The operations that may be linearized next are
//! the calls before the first return entry; a return entry reached means its
//! operation can no longer be placed, so the search backtracks.
//!
//! Indeterminate operations (no return) are optional: leaving one out is the
//! same as linearizing it last, after everything it could affect. They sit in
//! a second list by call time and are tried only when the completed
//! candidates are exhausted, and only before the first return time. The
//! search succeeds once every completed operation is placed.
//!
//! A further cut, sound by an exchange argument: if some linearization
//! exists, one exists in which each indeterminate operation X that is placed
//! (from state s) is immediately followed by an operation Y that needs it
//! there, i.e. neither
//! - Y's result from s equals its result after X: then X can be dropped
//!   (moved to the end) without changing any other step; nor
//! - Y is completed and X, Y commute (Y then X from s reaches the same
//!   state): then X can move one place later.
//!
//! - Y is indeterminate with a lower index and X, Y commute: then they can
//!   swap.
//!
//! Each rewrite lowers (indeterminate ops not at the end, completed ops after
//! them, inversions among adjacent indeterminate ops) lexicographically, so
//! rewriting terminates in such a linearization. An X that leaves the state
//! unchanged is always droppable, so it is never placed.
//!
//! Symmetry: of two indeterminate operations with equal inputs, the one
//! called earlier may stand wherever the later one stands (it has fewer
//! real-time constraints), so a later one is placed only after its earlier
//! twins. (This rewrite lowers the sum of the placed ones' indices, which
//! ranks before the inversions above.)
//! So after placing X we only try successors that need it. A configuration
//! reached that way is explored only partly, so it is looked up in the cache
//! but never inserted.
//!
//! *Late* operations ([`Model::late_writes`]: kv writes no read shows) are
//! cut the same way: a late X may swap with a completed non-reset Y right
//! after it, so some linearization has each X right before a reset, an
//! indeterminate operation, a later-indexed late one, or an operation called
//! after X returned (Y after X otherwise moves ahead of it; the rewrite
//! leaves the indeterminate measure above unchanged and lowers the completed
//! non-late operations after late ones, then inversions among late ones).
//! The configuration after X is likewise looked up but not inserted.
//!
//! What reads pin (the write each observes, its epoch, the epochs' order)
//! holds in every linearization, so it only filters; see `pins.rs`.
//!
//! [`Model::late_writes`]: crate::model::Model::late_writes
//!
//! [`Mode::Pairs`] additionally requires that successor to be a completed
//! operation (no chains of indeterminate operations). It explores a subset of
//! linearizations, so only its success is conclusive; it finds a
//! linearization of a correct history without paying for chains of pending
//! indeterminate operations at every dead end.
use super::cache::{Bits, Cache};
use super::pins::Pins;
pub(crate) use super::plan::Plan;
use super::states::Stepper;
use super::{Budget, Stop};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Mode {
    Pairs,
    Full,
}

pub(crate) enum Outcome {
    /// The linearization found, in local operation indices.
    Linearizable(Vec<u32>),
    /// The longest linearizable prefix found, in local operation indices.
    Violation(Vec<u32>),
    OutOfBudget(Stop),
    /// The search explored more configurations than it is allowed
    /// ([`Mode::Pairs`], or a cap).
    GaveUp,
}

/// One configuration on the search path and how far its candidates have
/// been tried.
struct Level {
    /// The operation placed to reach this configuration, and the state
    /// before it (unused at the root).
    op: u32,
    prev_sid: u32,
    /// Next main-list entry to try; once it is a return entry, the
    /// indeterminate candidates are tried.
    node: u32,
    /// Next indeterminate candidate (node in the indeterminate list), or
    /// `NOT_STARTED`.
    inode: u32,
    /// Indeterminate candidates must be called by this time.
    limit: u64,
    /// Whether the read-only shortcut was looked for; once it placed an
    /// operation, nothing else is tried here.
    looked: bool,
    forced: bool,
}

const NOT_STARTED: u32 = u32::MAX;

/// The `op` of the root level.
const ROOT: u32 = u32::MAX;

struct Search<'a, S: Stepper> {
    plan: &'a Plan,
    stepper: &'a mut S,
    budget: &'a Budget,
    mode: Mode,
    /// Main list over nodes `2i` (call of i) and `2i + 1` (return of i), with
    /// sentinel `head`.
    next: Vec<u32>,
    prev: Vec<u32>,
    head: u32,
    /// Indeterminate list over nodes `k` (operation `completed + k`), with
    /// sentinel `ihead`.
    inext: Vec<u32>,
    iprev: Vec<u32>,
    ihead: u32,
    bits: Bits,
    /// What reads pin down ([`Pins`]).
    pins: Pins,
    key: Vec<u64>,
    zobrist: Vec<u64>,
    hash: u64,
    cache: Cache,
    /// The search path: the root configuration, then one per placed op.
    levels: Vec<Level>,
    best: Vec<u32>,
    /// Stack entries below this index are unchanged since `best` was taken.
    clean: usize,
    memory_reported: usize,
    /// Configurations the search may keep before giving up.
    limit: usize,
    /// Steps (candidates tried) it may take before giving up: a cap counts
    /// those too, since configurations after an indeterminate operation are
    /// explored without being kept.
    step_limit: u64,
    /// Steps taken, and what the partition's work budget leaves it.
    ticks: u64,
    allowance: u64,
    /// Operations whose longest partial linearization is wanted.
    watch: Option<Watch>,
}

/// Porcupine's per-operation partial linearizations: for each watched
/// operation, the longest search path found that includes it. Only watched
/// operations on the path are looked at, so the cost per step is their
/// number on it, and a path is copied only when it beats a watched one's
/// best.
struct Watch {
    watched: Vec<bool>,
    /// Path positions (level indices) holding a watched operation.
    on_path: Vec<usize>,
    best: Vec<Vec<u32>>,
}

impl Watch {
    fn pushed(&mut self, levels: &[Level]) {
        let depth = levels.len() - 1;
        let op = levels[depth].op;
        if op != ROOT && self.watched[op as usize] {
            self.on_path.push(depth);
        }
        for &p in &self.on_path {
            let op = levels[p].op as usize;
            if self.best[op].len() < depth {
                self.best[op] = levels[1..].iter().map(|l| l.op).collect();
            }
        }
    }

    fn popped(&mut self, depth: usize) {
        if self.on_path.last() == Some(&depth) {
            self.on_path.pop();
        }
    }

    fn bytes(&self) -> usize {
        self.best
            .iter()
            .map(super::budget::vec_bytes)
            .sum::<usize>()
            + super::budget::vec_bytes(&self.best)
    }
}

/// `cap`: configurations to explore before giving up ([`Outcome::GaveUp`]).
pub(crate) fn search<S: Stepper>(
    plan: &Plan,
    stepper: &mut S,
    budget: &Budget,
    mode: Mode,
    cap: usize,
) -> Outcome {
    let mut s = Search::new(plan, stepper, budget, mode, cap);
    let outcome = s.run();
    budget.release(s.memory_reported);
    budget.spend(s.ticks);
    outcome
}

/// The complete search, recording for each operation in `watched` the
/// longest partial linearization it found that includes it (empty when none
/// does: the operation was never placed).
pub(crate) fn search_watched<S: Stepper>(
    plan: &Plan,
    stepper: &mut S,
    budget: &Budget,
    watched: &[u32],
) -> (Outcome, Vec<Vec<u32>>) {
    let mut s = Search::new(plan, stepper, budget, Mode::Full, usize::MAX);
    let n = plan.call.len();
    let mut flags = vec![false; n];
    for &op in watched {
        flags[op as usize] = true;
    }
    s.watch = Some(Watch {
        watched: flags,
        on_path: Vec::new(),
        best: vec![Vec::new(); n],
    });
    let outcome = s.run();
    budget.release(s.memory_reported);
    budget.spend(s.ticks);
    let mut best = s.watch.take().map(|w| w.best).unwrap_or_default();
    let partials = watched
        .iter()
        .map(|&op| std::mem::take(&mut best[op as usize]))
        .collect();
    (outcome, partials)
}

/// splitmix64: a fixed pseudo-random 64-bit value per operation.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

fn link(n: usize) -> (Vec<u32>, Vec<u32>) {
    // Circular list 0 -> 1 -> ... -> n-1 -> n (sentinel) -> 0, in node order;
    // callers relabel through `order`.
    let next = (0..=n).map(|i| ((i + 1) % (n + 1)) as u32).collect();
    let prev = (0..=n).map(|i| ((i + n) % (n + 1)) as u32).collect();
    (next, prev)
}

impl<'a, S: Stepper> Search<'a, S> {
    fn new(plan: &'a Plan, stepper: &'a mut S, budget: &'a Budget, mode: Mode, cap: usize) -> Self {
        let nc = plan.completed;
        let n = plan.call.len();
        // Main list: calls before returns at equal times, so that an operation
        // returning at the instant another is called counts as concurrent.
        let mut events: Vec<(u64, u32)> = (0..nc)
            .flat_map(|i| {
                [
                    (plan.call[i], 2 * i as u32),
                    (plan.ret[i], 2 * i as u32 + 1),
                ]
            })
            .collect();
        events.sort_unstable_by_key(|&(t, node)| (t, node & 1, node));
        let head = 2 * nc as u32;
        let mut next = vec![0; 2 * nc + 1];
        let mut prev = vec![0; 2 * nc + 1];
        let mut last = head;
        for &(_, node) in &events {
            next[last as usize] = node;
            prev[node as usize] = last;
            last = node;
        }
        next[last as usize] = head;
        prev[head as usize] = last;
        let (inext, iprev) = link(n - nc);
        Search {
            plan,
            stepper,
            budget,
            mode,
            next,
            prev,
            head,
            inext,
            iprev,
            ihead: (n - nc) as u32,
            bits: Bits::new(nc, n - nc),
            pins: Pins::new(plan),
            key: Vec::new(),
            zobrist: (0..n as u64).map(mix).collect(),
            hash: 0,
            cache: Cache::new(),
            levels: Vec::new(),
            best: Vec::new(),
            clean: 0,
            memory_reported: 0,
            // Correct histories rarely need more than a few configurations
            // per operation; beyond that, chains are likely needed.
            limit: if mode == Mode::Pairs && n > nc {
                cap.min(16 * n + 4096)
            } else {
                cap
            },
            step_limit: if cap == usize::MAX {
                u64::MAX
            } else {
                cap as u64 * 16
            },
            ticks: 0,
            allowance: budget.steps_left(),
            watch: None,
        }
    }

    fn is_info(&self, op: u32) -> bool {
        op as usize >= self.plan.completed
    }

    fn run(&mut self) -> Outcome {
        let mut sid = self.stepper.init();
        if !self.enter(ROOT, sid) {
            return Outcome::Linearizable(Vec::new());
        }
        loop {
            if self.ticks == self.allowance {
                return Outcome::OutOfBudget(self.budget.out_of_steps());
            }
            self.ticks += 1;
            if self.ticks.is_multiple_of(4096) {
                if let Err(stop) = self.account() {
                    return Outcome::OutOfBudget(stop);
                }
                if self.cache.len() > self.limit || self.ticks > self.step_limit {
                    return Outcome::GaveUp;
                }
            }
            let Some(op) = self.next_candidate(sid) else {
                // Every candidate failed: backtrack.
                if let Some(w) = &mut self.watch {
                    w.popped(self.levels.len() - 1);
                }
                let Some(level) = self.levels.pop().filter(|l| l.op != ROOT) else {
                    return Outcome::Violation(std::mem::take(&mut self.best));
                };
                self.clean = self.clean.min(self.levels.len() - 1);
                self.unlift(level.op);
                sid = level.prev_sid;
                continue;
            };
            let Some(new_sid) = self.try_place(sid, op) else {
                continue;
            };
            self.lift(op);
            if !self.enter(op, sid) {
                return Outcome::Linearizable(self.levels[1..].iter().map(|l| l.op).collect());
            }
            sid = new_sid;
            if let Some(w) = &mut self.watch {
                w.pushed(&self.levels);
            }
            let depth = self.levels.len() - 1;
            if depth > self.best.len() {
                self.best.truncate(self.clean);
                let placed = self.levels[self.clean + 1..].iter().map(|l| l.op);
                self.best.extend(placed);
                self.clean = depth;
            }
        }
    }

    /// Pushes the level for the configuration reached by placing `op` from
    /// `prev_sid`; false if no completed operation is left (success).
    fn enter(&mut self, op: u32, prev_sid: u32) -> bool {
        let node = self.next[self.head as usize];
        self.levels.push(Level {
            op,
            prev_sid,
            node,
            inode: NOT_STARTED,
            limit: 0,
            looked: false,
            forced: false,
        });
        node != self.head
    }

    /// The next operation to try at the current level: the calls before the
    /// first return entry, in call order, then indeterminate operations
    /// called by that return.
    fn next_candidate(&mut self, sid: u32) -> Option<u32> {
        let (ihead, completed) = (self.ihead, self.plan.completed as u32);
        let chains = self.mode == Mode::Full;
        let level = self.levels.last_mut()?;
        if !level.looked {
            level.looked = true;
            // Not right after an indeterminate operation: there only the
            // operations that need it are tried, a different cut.
            if level.op == ROOT || (level.op < completed && !self.plan.late(level.op)) {
                if let Some(op) = self.read_only_now(sid) {
                    let level = self.levels.last_mut()?;
                    level.forced = true;
                    return Some(op);
                }
            }
        }
        let level = self.levels.last_mut()?;
        if level.forced {
            return None;
        }
        let node = level.node;
        if node & 1 == 0 {
            level.node = self.next[node as usize];
            return Some(node / 2);
        }
        if level.inode == NOT_STARTED {
            // Pairs mode: no indeterminate op right after another.
            let after_info = level.op != ROOT && level.op >= completed;
            level.limit = self.plan.ret[node as usize / 2];
            level.inode = if after_info && !chains {
                ihead
            } else {
                self.inext[ihead as usize]
            };
        }
        let k = level.inode;
        if k == ihead || self.plan.call[(completed + k) as usize] > level.limit {
            return None;
        }
        level.inode = self.inext[k as usize];
        Some(completed + k)
    }

    /// A read-only candidate allowed in state `sid`, if any. Placing it now is
    /// enough (an exchange argument): in any linearization from here it can
    /// move to the front, since everything that returned before its call is
    /// already placed (it is a candidate), and it changes no state, so every
    /// other step sees the same state. So this configuration has a
    /// linearization if and only if the one after it has.
    fn read_only_now(&mut self, sid: u32) -> Option<u32> {
        let mut node = self.next[self.head as usize];
        while node & 1 == 0 {
            let op = node / 2;
            if self.stepper.read_only(op) && self.read_allowed(sid, op) && self.follows_all(op) {
                return Some(op);
            }
            node = self.next[node as usize];
        }
        None
    }

    /// Whether read-only `op` may go in state `sid` (where it changes nothing).
    fn read_allowed(&mut self, sid: u32, op: u32) -> bool {
        match self.stepper.needs(op) {
            Some(s) => s == sid,
            None => self.stepper.step(sid, op) == Some(sid),
        }
    }

    /// Whether every operation `op` must follow is placed.
    fn follows_all(&self, op: u32) -> bool {
        self.plan.after(op).iter().all(|&a| self.bits.contains(a))
    }

    /// Steps `op` from `sid` and claims the resulting configuration; on
    /// success the operation's bit is set and its new state returned.
    fn try_place(&mut self, sid: u32, op: u32) -> Option<u32> {
        if self.stepper.needs(op).is_some_and(|s| s != sid) {
            return None; // it cannot take effect in this state
        }
        if !self.follows_all(op) {
            return None; // it would come before an operation it must follow
        }
        if self.is_info(op) {
            if let Some(t) = self.plan.twin[op as usize - self.plan.completed] {
                if !self.bits.contains(t) {
                    return None; // its earlier twin can stand in for it
                }
            }
        }
        let new_sid = self.stepper.step(sid, op)?;
        if new_sid == sid && self.is_info(op) {
            return None; // changes nothing, so nothing can need it
        }
        if let Some(&Level {
            op: before,
            prev_sid,
            ..
        }) = self.levels.last()
        {
            if before != ROOT
                && self.is_info(before)
                && !self.depends(before, prev_sid, op, new_sid)
            {
                return None;
            }
            if before != ROOT && self.plan.late(before) && !self.plan.may_follow_late(before, op) {
                return None; // the late operation could move past it
            }
        }
        if !(self.pins).allow(self.plan, self.stepper, &self.bits, (sid, op, new_sid)) {
            return None;
        }
        let hash = self.hash ^ self.zobrist[op as usize];
        let key = hash ^ mix(u64::from(new_sid) ^ 0xA5A5_0000_0000);
        self.bits.insert(op);
        self.bits.encode(&mut self.key);
        let fresh = if self.is_info(op) || self.plan.late(op) {
            !self.cache.contains(key, new_sid, &self.key)
        } else {
            self.cache.insert(key, new_sid, &self.key)
        };
        if !fresh {
            self.bits.remove(op);
            return None;
        }
        self.hash = hash;
        Some(new_sid)
    }

    /// Whether `op`, reaching `new_sid` right after the indeterminate
    /// `before` (placed in state `prev_sid`), needs it there: false if
    /// dropping `before` leaves `op`'s result unchanged, or if `op` is
    /// completed and the two commute (then `before` can move past it).
    fn depends(&mut self, before: u32, prev_sid: u32, op: u32, new_sid: u32) -> bool {
        let without = self.stepper.step(prev_sid, op);
        if without == Some(new_sid) {
            return false;
        }
        match without {
            Some(t) if !self.is_info(op) || op < before => {
                self.stepper.step(t, before) != Some(new_sid)
            }
            _ => true,
        }
    }

    fn lift(&mut self, op: u32) {
        self.pins.update(self.plan, op, true);
        if self.is_info(op) {
            let k = (op - self.plan.completed as u32) as usize;
            let (p, n) = (self.iprev[k], self.inext[k]);
            self.inext[p as usize] = n;
            self.iprev[n as usize] = p;
        } else {
            for node in [2 * op as usize, 2 * op as usize + 1] {
                let (p, n) = (self.prev[node], self.next[node]);
                self.next[p as usize] = n;
                self.prev[n as usize] = p;
            }
        }
    }

    /// Undoes `lift` (dancing links: relink in reverse order).
    fn unlift(&mut self, op: u32) {
        self.pins.update(self.plan, op, false);
        self.bits.remove(op);
        self.hash ^= self.zobrist[op as usize];
        if self.is_info(op) {
            let k = (op - self.plan.completed as u32) as usize;
            let (p, n) = (self.iprev[k], self.inext[k]);
            self.inext[p as usize] = k as u32;
            self.iprev[n as usize] = k as u32;
        } else {
            for node in [2 * op as usize + 1, 2 * op as usize] {
                let (p, n) = (self.prev[node], self.next[node]);
                self.next[p as usize] = node as u32;
                self.prev[n as usize] = node as u32;
            }
        }
    }

    /// Reports memory use (estimated from what is stored, at capacity, so
    /// the same on every machine) to the partition's budget and checks it.
    fn account(&mut self) -> Result<(), Stop> {
        let now = self.cache.bytes()
            + self.stepper.bytes()
            + super::budget::vec_bytes(&self.levels)
            + self.bits.bytes()
            + self.pins.bytes()
            + super::budget::vec_bytes(&self.best)
            + self.watch.as_ref().map_or(0, Watch::bytes);
        self.budget.update(&mut self.memory_reported, now);
        self.budget.check()
    }
}
