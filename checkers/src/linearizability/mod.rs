//! Linearizability checking: Wing–Gong–Lowe search with memoisation,
//! P-compositionality (independent per-key checks, run in parallel) and a
//! work/memory budget counted in the checker's own units (`budget.rs`), with
//! wall time only as a safety net. Without the split, a witness assembled from parts
//! found by `step` alone is tried first (`compose.rs`).
mod budget;
mod cache;
mod compose;
mod parts;
mod pins;
mod plan;
mod report;
mod search;
mod states;
#[cfg(test)]
mod tests;

use crate::model::{Model, OpText};
pub(crate) use budget::{Budget, Stop};
pub use budget::{OutOf, DEFAULT_MAX_STEPS, DEFAULT_MEMORY_LIMIT};
use plan::plan_for;
use search::{Mode, Outcome, Plan};
use serde::{Deserialize, Serialize};
use states::{Interned, Product, Stepper};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One operation of a history: invoked at `call`, and either returned at a
/// time with an output, or indeterminate (Jepsen `:info`; it may take effect
/// at any point after `call`, or never).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Operation<I, O> {
    pub process: u64,
    pub input: I,
    pub call: u64,
    /// Return time and output; `None` when indeterminate.
    pub ret: Option<(u64, O)>,
}

impl<I, O> Operation<I, O> {
    pub fn output(&self) -> Option<&O> {
        self.ret.as_ref().map(|(_, o)| o)
    }
}

#[derive(Clone, Debug)]
pub struct CheckOptions {
    /// Check each partition (key) on its own, when the model allows.
    pub partition: bool,
    /// The work budget: search steps each partition may take, all its
    /// searches together; past it, [`Verdict::Unknown`] ([`OutOf::Steps`]).
    pub max_steps: Option<u64>,
    /// The memory budget: bytes, in the checker's own estimate of what it
    /// stores, each partition's searches may hold at once; past it,
    /// [`Verdict::Unknown`] ([`OutOf::Memory`]).
    pub memory_limit: Option<usize>,
    /// Safety net only: give up after this much wall time
    /// ([`OutOf::WallTime`], a verdict that depends on the machine).
    pub wall_time: Option<Duration>,
    /// Partitions checked at once. The verdict does not depend on it.
    pub threads: usize,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            partition: true,
            max_steps: Some(DEFAULT_MAX_STEPS),
            memory_limit: Some(DEFAULT_MEMORY_LIMIT),
            wall_time: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    Linearizable,
    NotLinearizable(Box<Counterexample>),
    /// The budget ran out first; `out_of` says which, the reason in words.
    Unknown {
        reason: String,
        #[serde(default)]
        out_of: OutOf,
    },
}

impl Verdict {
    /// Whether the wall-time safety net cut this verdict short, so that the
    /// same history may get another verdict on another machine or under
    /// another load. Every other verdict is the same everywhere.
    pub fn machine_dependent(&self) -> bool {
        matches!(
            self,
            Verdict::Unknown {
                out_of: OutOf::WallTime,
                ..
            }
        )
    }
}

/// What a check spent, in its own units.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Work {
    /// Search steps of the partition that took the most (what
    /// [`CheckOptions::max_steps`] bounds); for a history that is not
    /// linearizable, of the partition that shows it (the others stop when it
    /// is found, at a moment that depends on the threads).
    pub steps: u64,
    /// Search steps of all partitions together.
    pub total_steps: u64,
    /// Peak estimated bytes of the partition that held the most (what
    /// [`CheckOptions::memory_limit`] bounds).
    pub memory: usize,
}

/// Why a history is not linearizable, for one partition: the longest prefix
/// that linearizes and, after it, the operations that could be placed next
/// by real-time order but not by the model.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Counterexample {
    /// The partition (key) that fails; `None` when checked as a whole.
    pub partition: Option<String>,
    /// The partition's operations.
    pub ops: Vec<OpRecord>,
    /// Operation ids in linearization order.
    pub longest_prefix: Vec<usize>,
    pub state_after_prefix: String,
    pub stuck: Vec<Stuck>,
    /// The model state around the end of the prefix, for a reader who wants
    /// every step: `prefix_states[0]` is the state before operation
    /// `longest_prefix[longest_prefix.len() + 1 - prefix_states.len()]`, and
    /// each next one the state after the next operation, to the end of the
    /// prefix. At most [`PREFIX_STATES`] operations are covered, each state
    /// cut to its last [`STATE_CHARS`] characters.
    #[serde(default)]
    pub prefix_states: Vec<String>,
    /// Porcupine's partial linearizations: for operations left out of the
    /// longest prefix (at most [`PARTIALS`], in call order), the longest
    /// linearizable sequence the search found that includes each, in order
    /// (empty when no sequence does). Found by a second search of the
    /// failed partition within [`PARTIAL_STEPS`] steps; none past that.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub partials: Vec<Partial>,
}

/// One operation's longest partial linearization.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Partial {
    pub op: usize,
    pub linearization: Vec<usize>,
}

/// Operations outside the prefix whose partial linearizations are sought.
pub const PARTIALS: usize = 64;
/// The second search's step budget (its verdict is known; this only bounds
/// the extra work, the same on every machine).
pub const PARTIAL_STEPS: u64 = 20_000_000;

/// The step budget of the search without read pins that finds a failed
/// partition's longest prefix for the report (`explain`).
pub const EXPLAIN_STEPS: u64 = 1_000_000;
/// Its memory budget, in the checker's estimate.
pub const EXPLAIN_MEMORY: usize = 32 << 20;

/// Prefix operations whose states a counterexample carries.
pub const PREFIX_STATES: usize = 1000;
/// Characters of a state a counterexample keeps (the end of it).
pub const STATE_CHARS: usize = 200;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct OpRecord {
    /// Index in the checked history.
    pub id: usize,
    pub process: u64,
    #[serde(flatten)]
    pub text: OpText,
    pub call: u64,
    /// `None` when indeterminate.
    pub ret: Option<u64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Stuck {
    pub op: usize,
    pub reason: String,
    /// The operation it must follow, when the reads order them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<usize>,
    /// For a stale read: the write or reset whose state it shows...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shows: Option<usize>,
    /// ...and the reset that replaced that state before the read began.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed: Option<usize>,
}

impl Counterexample {
    /// The same counterexample with every operation called by `numbers[id]`
    /// (the numbers of [`crate::parse::Numbered`]: in a snapstorm history,
    /// the invocation's `index` in history.jsonl), so that the checker's
    /// output, the report and the history file use one numbering. An id
    /// without a number keeps its own.
    pub fn renumbered(mut self, numbers: &[u64]) -> Counterexample {
        let n = |id: usize| numbers.get(id).map_or(id, |&x| x as usize);
        for op in &mut self.ops {
            op.id = n(op.id);
        }
        for id in &mut self.longest_prefix {
            *id = n(*id);
        }
        for p in &mut self.partials {
            p.op = n(p.op);
            for id in &mut p.linearization {
                *id = n(*id);
            }
        }
        for s in &mut self.stuck {
            s.op = n(s.op);
            if let (Some(shows), Some(missed)) = (s.shows, s.missed) {
                let what = (s.reason)
                    .strip_suffix(&report::overwritten("", shows, missed))
                    .map(str::to_string);
                (s.shows, s.missed) = (Some(n(shows)), Some(n(missed)));
                if let Some(what) = what {
                    s.reason = report::overwritten(&what, n(shows), n(missed));
                }
            }
            if let Some(a) = s.after {
                let what = s
                    .reason
                    .strip_suffix(&report::must_follow("", a))
                    .map(str::to_string);
                s.after = Some(n(a));
                if let Some(what) = what {
                    s.reason = report::must_follow(&what, n(a));
                }
            }
        }
        self
    }
}

/// Checks `history` against `model`.
pub fn check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    options: &CheckOptions,
) -> Verdict {
    check_measured(model, history, options).0
}

/// [`check`], and what it spent.
///
/// Every partition is searched within its own budget, by one thread, so its
/// result does not depend on the others or on the threads. The first
/// partition found not linearizable stops the rest: that decides the
/// verdict whatever they would have found. (When several partitions fail,
/// which one the counterexample shows may depend on the threads; the verdict
/// does not.)
pub fn check_measured<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    options: &CheckOptions,
) -> (Verdict, Work) {
    let deadline = options.wall_time.map(|t| (Instant::now() + t, t));
    let cancelled = Arc::new(AtomicBool::new(false));
    let parts = partitions(model, history, options.partition);
    let whole = !options.partition && parts.len() == 1;
    let product = whole && history.iter().any(|o| model.partition(&o.input).is_some());
    // By position in `order`: the verdict, steps and peak bytes.
    let results: Mutex<Vec<Option<(Verdict, u64, usize)>>> = Mutex::new(vec![None; parts.len()]);
    // Largest partitions first, for load balance.
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(parts[i].1.len()));
    let next = AtomicUsize::new(0);
    let work = || loop {
        let position = next.fetch_add(1, Ordering::Relaxed);
        let Some(&p) = order.get(position) else { break };
        if cancelled.load(Ordering::Relaxed) {
            break;
        }
        let budget = Budget::new(
            deadline,
            cancelled.clone(),
            options.max_steps,
            options.memory_limit,
        );
        let (key, ids) = &parts[p];
        let key = if whole { None } else { key.clone() };
        let v = check_part(model, history, ids, key, product, whole, &budget);
        if matches!(v, Verdict::NotLinearizable(_)) {
            // It decides the verdict; stop the others.
            cancelled.store(true, Ordering::Relaxed);
        }
        let spent = (v, budget.steps.get(), budget.peak.get());
        results.lock().unwrap_or_else(|e| e.into_inner())[position] = Some(spent);
    };
    let threads = options.threads.clamp(1, parts.len().max(1));
    if threads == 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(work);
            }
        });
    }
    let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut spent = Work::default();
    let mut violation = None;
    let mut unknown: Option<Verdict> = None;
    let mut violation_steps = 0;
    for (v, steps, memory) in results.into_iter().flatten() {
        spent.steps = spent.steps.max(steps);
        spent.total_steps += steps;
        spent.memory = spent.memory.max(memory);
        match v {
            Verdict::NotLinearizable(_) if violation.is_none() => {
                violation = Some(v);
                violation_steps = steps;
            }
            // The first one cut short by the wall-time net, if any: the
            // verdict then says it may depend on the machine.
            Verdict::Unknown { .. }
                if unknown
                    .as_ref()
                    .is_none_or(|u| !u.machine_dependent() && v.machine_dependent()) =>
            {
                unknown = Some(v)
            }
            _ => {}
        }
    }
    if violation.is_some() {
        // The other partitions were cut short at a moment that depends on
        // the threads; the failing one's search does not.
        spent.steps = violation_steps;
    }
    let verdict = violation.or(unknown).unwrap_or(Verdict::Linearizable);
    (verdict, spent)
}

/// Groups operation ids by partition key, in order of first appearance.
fn partitions<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    split: bool,
) -> Vec<(Option<String>, Vec<usize>)> {
    if !split {
        return vec![(None, (0..history.len()).collect())];
    }
    let mut index: rustc_hash::FxHashMap<Option<&str>, usize> = Default::default();
    let mut parts: Vec<(Option<String>, Vec<usize>)> = Vec::new();
    for (i, op) in history.iter().enumerate() {
        let key = model.partition(&op.input);
        let p = *index.entry(key).or_insert_with(|| {
            parts.push((key.map(str::to_string), Vec::new()));
            parts.len() - 1
        });
        parts[p].1.push(i);
    }
    parts
}

/// `whole`: the history is checked as one object, so a witness built from
/// parts is tried first.
fn check_part<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    ids: &[usize],
    key: Option<String>,
    product: bool,
    whole: bool,
    budget: &Budget,
) -> Verdict {
    // Indeterminate operations nothing could observe do not change the verdict.
    let views: Vec<(&M::Input, Option<&M::Output>)> = ids
        .iter()
        .map(|&i| (&history[i].input, history[i].output()))
        .collect();
    let mut dropped = model.unobservable(&views);
    dropped.sort_unstable();
    let kept: Vec<usize> = (0..ids.len())
        .filter(|pos| dropped.binary_search(pos).is_err())
        .collect();
    let (local, mut plan) = plan_for(history, &kept.iter().map(|&p| ids[p]).collect::<Vec<_>>());
    // Partition position to local index.
    let mut position = vec![u32::MAX; ids.len()];
    let by_history: rustc_hash::FxHashMap<usize, u32> = (local.iter().enumerate())
        .map(|(l, &i)| (i, l as u32))
        .collect();
    for &p in &kept {
        position[p] = by_history[&ids[p]];
    }
    let to_local = |pairs: Vec<(usize, usize)>| -> Vec<(u32, u32)> {
        (pairs.into_iter())
            .map(|(a, b)| (position[a], position[b]))
            .filter(|&(a, b)| a != u32::MAX && b != u32::MAX)
            .collect()
    };
    // Orderings the outputs imply.
    plan.set_order(to_local(model.implied_order(&views)));
    // Per key only: in the product, other keys' writes change the state too.
    if !product {
        let (late, resets) = model.late_writes(&views);
        let local_of = |ps: Vec<usize>| -> Vec<u32> {
            (ps.into_iter().map(|p| position[p]))
                .filter(|&l| l != u32::MAX)
                .collect()
        };
        plan.set_late(&local_of(late), &local_of(resets));
        plan.set_reads(
            to_local(model.reads_from(&views)),
            to_local(model.epochs(&views)),
        );
    }
    let part = report::Part {
        model,
        history,
        local: &local,
        plan: &plan,
        key,
    };
    if product {
        solve(&part, &|ops| Product::new(model, ops), whole, budget)
    } else {
        solve(&part, &|ops| Interned::new(model, ops), whole, budget)
    }
}

fn solve<'h, M: Model, S: Stepper>(
    part: &report::Part<'h, M>,
    make: &impl Fn(Vec<&'h Operation<M::Input, M::Output>>) -> S,
    whole: bool,
    budget: &Budget,
) -> Verdict {
    let plan = part.plan;
    let mut stepper = make(part.local.iter().map(|&i| &part.history[i]).collect());
    let mut note = None;
    if whole {
        let found = compose::find(part.history, part.local, plan, &mut stepper, make, budget);
        match found {
            compose::Found::Linearizable => return Verdict::Linearizable,
            compose::Found::NotLinearizable {
                components,
                local,
                plan,
                prefix,
            } => {
                let failed = report::Part {
                    model: part.model,
                    history: part.history,
                    local: &local,
                    plan: &plan,
                    key: Some(
                        (components.iter())
                            .map(|&c| stepper.component_name(c))
                            .collect::<Vec<_>>()
                            .join(", "),
                    ),
                };
                let mut stepper = make(local.iter().map(|&i| &part.history[i]).collect());
                return Verdict::NotLinearizable(Box::new(
                    failed.counterexample(&mut stepper, &prefix),
                ));
            }
            compose::Found::OutOfBudget(stop) => return unknown(stop, None),
            compose::Found::Nothing(why) => note = why,
        }
    }
    match decide(plan, &mut stepper, budget, usize::MAX) {
        Outcome::Linearizable(_) => Verdict::Linearizable,
        Outcome::OutOfBudget(stop) => unknown(stop, note),
        // Not reached with an unlimited cap; kept total.
        Outcome::GaveUp => unknown(budget.out_of_steps(), note),
        Outcome::Violation(prefix) => {
            let unpinned = plan.pinned().then(|| plan.without_pins());
            let explained = unpinned.as_ref().and_then(|plain| {
                let prefix = explain(plain, &mut stepper)?;
                Some((plain, prefix))
            });
            let (plan, prefix) = explained.unwrap_or((plan, prefix));
            let part = report::Part {
                model: part.model,
                history: part.history,
                local: part.local,
                plan,
                key: part.key.clone(),
            };
            let mut cx = part.counterexample(&mut stepper, &prefix);
            cx.partials = partials(&part, &mut stepper, &prefix);
            Verdict::NotLinearizable(Box::new(cx))
        }
    }
}

/// The longest prefix of a search without read pins, of a partition known
/// not to be linearizable: where the history stops making sense to a
/// reader, which is what the counterexample shows. Bounded by
/// [`EXPLAIN_STEPS`] and [`EXPLAIN_MEMORY`] (the verdict is known; this
/// bounds only the extra work, the same on every machine); None past that,
/// and the pinned search's prefix stands, with the stale reads the pins
/// reveal ([`Plan::stale_reads`]).
fn explain<S: Stepper>(plain: &Plan, stepper: &mut S) -> Option<Vec<u32>> {
    let budget = Budget::new(
        None,
        Arc::new(AtomicBool::new(false)),
        Some(EXPLAIN_STEPS),
        Some(EXPLAIN_MEMORY),
    );
    match decide(plain, stepper, &budget, usize::MAX) {
        Outcome::Violation(prefix) => Some(prefix),
        _ => None,
    }
}

/// The partial linearizations of the first [`PARTIALS`] operations (in call
/// order) that the longest prefix leaves out, by history index; none when the
/// second search runs out of its own budget.
fn partials<M: Model, S: Stepper>(
    part: &report::Part<'_, M>,
    stepper: &mut S,
    prefix: &[u32],
) -> Vec<Partial> {
    let plan = part.plan;
    let mut placed = vec![false; plan.call.len()];
    for &op in prefix {
        placed[op as usize] = true;
    }
    let mut left: Vec<u32> = (0..plan.call.len() as u32)
        .filter(|&op| !placed[op as usize])
        .collect();
    left.sort_by_key(|&op| (plan.call[op as usize], op));
    left.truncate(PARTIALS);
    let budget = Budget::new(
        None,
        Arc::new(AtomicBool::new(false)),
        Some(PARTIAL_STEPS),
        Some(DEFAULT_MEMORY_LIMIT),
    );
    match search::search_watched(plan, stepper, &budget, &left) {
        (Outcome::Violation(_), found) => (left.iter().zip(found))
            .map(|(&op, lin)| Partial {
                op: part.local[op as usize],
                linearization: lin.iter().map(|&l| part.local[l as usize]).collect(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// Searches `plan`: first without chains of indeterminate operations, and
/// with a cap on its size: cheap, and enough for most correct histories.
/// Only its success is conclusive, unless there are no indeterminate
/// operations; otherwise the complete search decides. `cap`: configurations
/// each search may explore before giving up.
fn decide<S: Stepper>(plan: &Plan, stepper: &mut S, budget: &Budget, cap: usize) -> Outcome {
    let outcome = search::search(plan, stepper, budget, Mode::Pairs, cap);
    let inconclusive = match outcome {
        Outcome::GaveUp => true,
        Outcome::Violation(_) => plan.completed < plan.call.len(),
        _ => false,
    };
    if inconclusive {
        search::search(plan, stepper, budget, Mode::Full, cap)
    } else {
        outcome
    }
}

/// The verdict of a search stopped by `stop`, with `note` on what was tried.
fn unknown(stop: Stop, note: Option<String>) -> Verdict {
    let (out_of, reason) = match stop {
        Stop::Out(out_of, reason) => (out_of, reason),
        // Never the verdict: an earlier partition's violation is.
        Stop::Cancelled => (
            OutOf::Steps,
            "cancelled: another partition is not linearizable".to_string(),
        ),
    };
    let reason = match note {
        Some(note) => format!("{reason}; {note}"),
        None => reason,
    };
    Verdict::Unknown { reason, out_of }
}
