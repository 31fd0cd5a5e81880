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
//! is immediately followed by an operation whose outcome X changes (from the
//! state before X, that operation would be disallowed or reach another
//! state). Otherwise X could be moved to the end, i.e. dropped, without
//! changing any other step; repeat until no such X is left. So after placing
//! X we only try successors that depend on X. A configuration reached that
//! way is explored only partly, so it is looked up in the cache but never
//! inserted.
//!
//! [`Mode::Pairs`] additionally requires that successor to be a completed
//! operation (no chains of indeterminate operations). It explores a subset of
//! linearizations, so only its success is conclusive; it finds a
//! linearization of a correct history without paying for chains of pending
//! indeterminate operations at every dead end.
use super::cache::Cache;
use super::states::Stepper;
use super::Budget;

/// A partition's operations, in local order: completed ones `0..completed`,
/// then indeterminate ones; each group sorted by call time.
pub(crate) struct Plan {
    pub(crate) completed: usize,
    pub(crate) call: Vec<u64>,
    /// Return time of each completed operation.
    pub(crate) ret: Vec<u64>,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Mode {
    Pairs,
    Full,
}

pub(crate) enum Outcome {
    Linearizable,
    /// The longest linearizable prefix found, in local operation indices.
    Violation(Vec<u32>),
    OutOfBudget(String),
}

#[derive(Clone, Copy)]
enum Cursor {
    /// Next entry to try in the main list.
    Main(u32),
    /// Next indeterminate operation to try, among those called by `limit`.
    Info(u32, u64),
}

struct Frame {
    op: u32,
    prev_sid: u32,
    resume: Cursor,
}

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
    bits: Vec<u64>,
    zobrist: Vec<u64>,
    hash: u64,
    cache: Cache,
    stack: Vec<Frame>,
    best: Vec<u32>,
    /// Stack entries below this index are unchanged since `best` was taken.
    clean: usize,
    memory_reported: usize,
}

pub(crate) fn search<S: Stepper>(
    plan: &Plan,
    stepper: &mut S,
    budget: &Budget,
    mode: Mode,
) -> Outcome {
    let mut s = Search::new(plan, stepper, budget, mode);
    let outcome = s.run();
    budget.release(s.memory_reported);
    outcome
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
    fn new(plan: &'a Plan, stepper: &'a mut S, budget: &'a Budget, mode: Mode) -> Self {
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
            bits: vec![0; n.div_ceil(64)],
            zobrist: (0..n as u64).map(mix).collect(),
            hash: 0,
            cache: Cache::new(n),
            stack: Vec::new(),
            best: Vec::new(),
            clean: 0,
            memory_reported: 0,
        }
    }

    fn is_info(&self, op: u32) -> bool {
        op as usize >= self.plan.completed
    }

    fn run(&mut self) -> Outcome {
        let mut sid = self.stepper.init();
        let mut cursor = Cursor::Main(self.next[self.head as usize]);
        let mut ticks = 0u32;
        loop {
            ticks = ticks.wrapping_add(1);
            if ticks % 4096 == 0 {
                if let Err(why) = self.account() {
                    return Outcome::OutOfBudget(why);
                }
            }
            // Find the next operation to place, or decide to backtrack.
            let found = match cursor {
                Cursor::Main(node) if node == self.head => return Outcome::Linearizable,
                Cursor::Main(node) if node & 1 == 0 => {
                    let after = Cursor::Main(self.next[node as usize]);
                    match self.try_place(sid, node / 2) {
                        Some(new_sid) => Some((node / 2, new_sid, after)),
                        None => {
                            cursor = after;
                            continue;
                        }
                    }
                }
                Cursor::Main(node) => {
                    let after_info = self.stack.last().is_some_and(|f| self.is_info(f.op));
                    if after_info && self.mode == Mode::Pairs {
                        None
                    } else {
                        let limit = self.plan.ret[node as usize / 2];
                        cursor = Cursor::Info(self.inext[self.ihead as usize], limit);
                        continue;
                    }
                }
                Cursor::Info(k, limit) => {
                    let op = self.plan.completed as u32 + k;
                    if k == self.ihead || self.plan.call[op as usize] > limit {
                        None
                    } else {
                        let after = Cursor::Info(self.inext[k as usize], limit);
                        match self.try_place(sid, op) {
                            Some(new_sid) => Some((op, new_sid, after)),
                            None => {
                                cursor = after;
                                continue;
                            }
                        }
                    }
                }
            };
            match found {
                Some((op, new_sid, resume)) => {
                    self.stack.push(Frame {
                        op,
                        prev_sid: sid,
                        resume,
                    });
                    self.lift(op);
                    sid = new_sid;
                    if self.stack.len() > self.best.len() {
                        self.best.truncate(self.clean);
                        self.best
                            .extend(self.stack[self.clean..].iter().map(|f| f.op));
                        self.clean = self.stack.len();
                    }
                    cursor = Cursor::Main(self.next[self.head as usize]);
                }
                None => {
                    let Some(frame) = self.stack.pop() else {
                        return Outcome::Violation(std::mem::take(&mut self.best));
                    };
                    self.clean = self.clean.min(self.stack.len());
                    self.unlift(frame.op);
                    sid = frame.prev_sid;
                    cursor = frame.resume;
                }
            }
        }
    }

    /// Steps `op` from `sid` and claims the resulting configuration; on
    /// success the operation's bit is set and its new state returned.
    fn try_place(&mut self, sid: u32, op: u32) -> Option<u32> {
        let new_sid = self.stepper.step(sid, op)?;
        if let Some(top) = self.stack.last() {
            if self.is_info(top.op) && self.stepper.step(top.prev_sid, op) == Some(new_sid) {
                return None; // does not depend on the indeterminate op before it
            }
        }
        let hash = self.hash ^ self.zobrist[op as usize];
        let key = hash ^ mix(u64::from(new_sid) ^ 0xA5A5_0000_0000);
        let (word, bit) = (op as usize / 64, 1u64 << (op % 64));
        self.bits[word] |= bit;
        let fresh = if self.is_info(op) {
            !self.cache.contains(key, new_sid, &self.bits)
        } else {
            self.cache.insert(key, new_sid, &self.bits)
        };
        if !fresh {
            self.bits[word] &= !bit;
            return None;
        }
        self.hash = hash;
        Some(new_sid)
    }

    fn lift(&mut self, op: u32) {
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
        let (word, bit) = (op as usize / 64, 1u64 << (op % 64));
        self.bits[word] &= !bit;
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

    /// Reports memory use to the shared budget and checks it.
    fn account(&mut self) -> Result<(), String> {
        let now = self.cache.bytes()
            + self.stepper.bytes()
            + self.stack.capacity() * std::mem::size_of::<Frame>()
            + self.best.capacity() * 4;
        self.budget.update(&mut self.memory_reported, now);
        self.budget.check()
    }
}
