//! Linearizability checking: Wing–Gong–Lowe search with memoisation,
//! P-compositionality (independent per-key checks, run in parallel) and a
//! time/memory budget. Without the split, a witness assembled from parts
//! found by `step` alone is tried first (`compose.rs`).
mod cache;
mod compose;
mod parts;
mod report;
mod search;
mod states;
#[cfg(test)]
mod tests;

use crate::model::{Model, OpText};
use search::{Mode, Outcome, Plan};
use serde::{Deserialize, Serialize};
use states::{Interned, Product, Stepper};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
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
    /// Give up with [`Verdict::Unknown`] after this long.
    pub timeout: Option<Duration>,
    /// Give up with [`Verdict::Unknown`] when the search holds about this
    /// many bytes.
    pub memory_limit: Option<usize>,
    /// Partitions checked at once.
    pub threads: usize,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            partition: true,
            timeout: None,
            memory_limit: None,
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "kebab-case")]
pub enum Verdict {
    Linearizable,
    NotLinearizable(Box<Counterexample>),
    /// The budget ran out first; the reason says which.
    Unknown {
        reason: String,
    },
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
}

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
}

/// Checks `history` against `model`.
pub fn check<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    options: &CheckOptions,
) -> Verdict {
    let budget = Budget {
        deadline: options.timeout.map(|t| (Instant::now() + t, t)),
        memory_limit: options.memory_limit,
        used: AtomicUsize::new(0),
        cancelled: AtomicBool::new(false),
    };
    let parts = partitions(model, history, options.partition);
    let whole = !options.partition && parts.len() == 1;
    let product = whole && history.iter().any(|o| model.partition(&o.input).is_some());
    let results: Mutex<Vec<Option<Verdict>>> = Mutex::new(vec![None; parts.len()]);
    // Largest partitions first, for load balance.
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(parts[i].1.len()));
    let next = AtomicUsize::new(0);
    let work = || {
        while let Some(&p) = order.get(next.fetch_add(1, Ordering::Relaxed)) {
            if budget.cancelled.load(Ordering::Relaxed) {
                break;
            }
            let (key, ids) = &parts[p];
            let key = if whole { None } else { key.clone() };
            let v = check_part(model, history, ids, key, product, whole, &budget);
            if matches!(v, Verdict::NotLinearizable(_)) {
                // One failing partition decides the verdict; stop the others.
                budget.cancelled.store(true, Ordering::Relaxed);
            }
            results.lock().unwrap_or_else(|e| e.into_inner())[p] = Some(v);
        }
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
    let mut unknown = None;
    for v in results.into_iter().flatten() {
        match v {
            Verdict::NotLinearizable(_) => return v,
            Verdict::Unknown { .. } => unknown = unknown.or(Some(v)),
            Verdict::Linearizable => {}
        }
    }
    unknown.unwrap_or(Verdict::Linearizable)
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
    let ids: Vec<usize> = ids
        .iter()
        .enumerate()
        .filter(|(pos, _)| dropped.binary_search(pos).is_err())
        .map(|(_, &i)| i)
        .collect();
    let (local, plan) = plan_for(history, &ids);
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

/// Local order of operations `ids`: completed ones by call time, then
/// indeterminate ones; and the search plan over them.
fn plan_for<I: Eq + std::hash::Hash, O>(
    history: &[Operation<I, O>],
    ids: &[usize],
) -> (Vec<usize>, Plan) {
    let mut local = ids.to_vec();
    local.sort_by_key(|&i| (history[i].ret.is_none(), history[i].call, i));
    let completed = local.iter().filter(|&&i| history[i].ret.is_some()).count();
    // Each indeterminate operation's nearest earlier identical one.
    let mut last: rustc_hash::FxHashMap<&I, u32> = Default::default();
    let twin = (completed..local.len())
        .map(|l| last.insert(&history[local[l]].input, l as u32))
        .collect();
    let plan = Plan {
        twin,
        completed,
        call: local.iter().map(|&i| history[i].call).collect(),
        ret: local[..completed]
            .iter()
            .map(|&i| history[i].ret.as_ref().map_or(u64::MAX, |r| r.0))
            .collect(),
    };
    (local, plan)
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
            compose::Found::OutOfBudget(reason) => return Verdict::Unknown { reason },
            compose::Found::Nothing(why) => note = why,
        }
    }
    match decide(plan, &mut stepper, budget, usize::MAX) {
        Outcome::Linearizable(_) => Verdict::Linearizable,
        Outcome::OutOfBudget(reason) => Verdict::Unknown {
            reason: match note {
                Some(note) => format!("{reason}; {note}"),
                None => reason,
            },
        },
        Outcome::GaveUp => Verdict::Unknown {
            reason: "search gave up".to_string(),
        },
        Outcome::Violation(prefix) => {
            Verdict::NotLinearizable(Box::new(part.counterexample(&mut stepper, &prefix)))
        }
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

/// Time and memory shared by the partitions of one check.
pub(crate) struct Budget {
    deadline: Option<(Instant, Duration)>,
    memory_limit: Option<usize>,
    used: AtomicUsize,
    cancelled: AtomicBool,
}

impl Budget {
    /// Records that a search now holds `now` bytes, having reported `reported`.
    pub(crate) fn update(&self, reported: &mut usize, now: usize) {
        if now >= *reported {
            self.used.fetch_add(now - *reported, Ordering::Relaxed);
        } else {
            self.used.fetch_sub(*reported - now, Ordering::Relaxed);
        }
        *reported = now;
    }

    pub(crate) fn release(&self, reported: usize) {
        self.used.fetch_sub(reported, Ordering::Relaxed);
    }

    pub(crate) fn check(&self) -> Result<(), String> {
        if self.cancelled.load(Ordering::Relaxed) {
            return Err("cancelled: another partition is not linearizable".to_string());
        }
        if let Some((deadline, limit)) = self.deadline {
            if Instant::now() >= deadline {
                return Err(format!("time budget of {} s ran out", limit.as_secs_f64()));
            }
        }
        if let Some(limit) = self.memory_limit {
            if self.used.load(Ordering::Relaxed) > limit {
                return Err(format!("memory budget of {} MiB ran out", limit >> 20));
            }
        }
        Ok(())
    }
}
