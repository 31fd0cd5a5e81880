//! A linearization of the whole history assembled from linearizations of its
//! parts, for a history checked as one object (`--no-partition`).
//!
//! The search sees the model only through [`Stepper`]: `step` on state ids
//! and state equality. No decision here asks the model how it splits (its
//! `partition`), so checking without the split stays an independent check.
//! (For a per-key model the whole object's state is still its keys' states
//! side by side, [`super::states::Product`]: that is how such a model
//! defines the whole map, not a split of the history.)
//!
//! # What can be decided this way
//!
//! A *linearizable* verdict needs one witness: an order of all completed
//! operations (and some indeterminate ones) that respects real time and that
//! `step` accepts from the initial state. Whatever heuristic proposes it, the
//! witness is checked step by step ([`is_linearization`]), so the verdict is
//! sound for every model.
//!
//! A *not linearizable* verdict is different. A search that only calls
//! `step` must, to be sound for every model, call it at every configuration
//! (set of placed operations, state) reachable before the violation: had it
//! skipped a reachable state `s` with a candidate `x`, a model equal to this
//! one except that `x` at `s` leads to a state accepting everything would
//! answer every call identically yet make the history linearizable. For
//! Porcupine's `c50-bad` (50 clients, 10 keys) the states reachable at one
//! instant are the products of each key's: measured by a breadth-first
//! pass per key, 3·10^19 whole-map states after 200 of its 4048 events
//! (the violation is near event 1055), so no
//! step-only search refutes it; only an independence guarantee from the
//! model (the split) does. Here a part that is not linearizable on its own
//! therefore decides nothing: the full search runs as before.
//!
//! # How the witness is built
//!
//! The operations are grouped into parts that look independent
//! ([`super::parts`]). A part without writers that does not linearize alone
//! joins the first writer part it fits with on a short beginning of the
//! history. Each part is searched alone (with the same [`Stepper`] kind, so
//! over the whole state), in rounds of growing caps so that a failing part
//! shows early. Their linearizations are merged in an order that respects
//! real time across parts (the earliest-called next operation of any part,
//! once every operation that returned before its call is placed), and the
//! merged order is verified as above. When there is one part, or any step
//! fails, the full search decides.
use super::parts::{discover, Part};
use super::search::{Outcome, Plan};
use super::states::Stepper;
use super::{Budget, Operation};
use rustc_hash::FxHashMap;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub(crate) enum Found {
    /// A verified linearization exists.
    Linearizable,
    /// No witness; why, for the verdict's reason should the full search
    /// give up too.
    Nothing(Option<String>),
    OutOfBudget(String),
}

/// Configurations a trial search of `n` operations may keep (see [`host`]);
/// the first cap of the rounds too.
fn trial(n: usize) -> usize {
    1024 + 32 * n
}

/// Configurations (at least, or per operation of the history) a part may
/// keep in the last round before the full search takes over.
const LAST_CAP: usize = 1 << 21;
const LAST_CAP_PER_OP: usize = 64;

/// Reads not possible initially that a trial of a part without writers
/// covers.
const TRIAL_READS: usize = 3;

/// What the parts are searched with.
struct Context<'c, 'h, I, O, F> {
    history: &'h [Operation<I, O>],
    local: &'c [usize],
    plan: &'c Plan,
    make: &'c F,
    budget: &'c Budget,
}

/// Tries to build a verified linearization of `plan`'s operations (`local`:
/// their history indices) from linearizations of independent-looking parts.
/// `whole` steps all of them; `make` builds a stepper for a part.
pub(crate) fn find<'h, I, O, S, F>(
    history: &'h [Operation<I, O>],
    local: &[usize],
    plan: &Plan,
    whole: &mut S,
    make: &F,
    budget: &Budget,
) -> Found
where
    I: Eq + std::hash::Hash,
    S: Stepper,
    F: Fn(Vec<&'h Operation<I, O>>) -> S,
{
    let inputs: Vec<&I> = local.iter().map(|&i| &history[i].input).collect();
    let mut parts = discover(whole, plan, &inputs);
    if parts.len() < 2 {
        return Found::Nothing(None);
    }
    let cx = Context {
        history,
        local,
        plan,
        make,
        budget,
    };
    // A part without writers that does not linearize alone joins the first
    // writer part it fits with.
    for c in 0..parts.len() {
        if parts[c].writes {
            continue;
        }
        match search_part(&cx, &parts[c].ops, u64::MAX, trial(parts[c].ops.len())) {
            Outcome::Linearizable(_) => continue,
            Outcome::OutOfBudget(why) => return Found::OutOfBudget(why),
            Outcome::Violation(_) | Outcome::GaveUp => {}
        }
        match host(&cx, whole, &parts, c) {
            Ok(Some(k)) => {
                let ops = std::mem::take(&mut parts[c].ops);
                parts[k].ops.extend(ops);
                parts[k].ops.sort_unstable();
            }
            Ok(None) => {}
            Err(why) => return Found::OutOfBudget(why),
        }
    }
    parts.retain(|p| !p.ops.is_empty());
    if parts.len() < 2 {
        return Found::Nothing(None); // the full search is the same work
    }
    // Parts in rounds of growing size caps, so that a part that is not
    // linearizable shows before a hard one takes the whole budget; parts
    // harder than the last cap are left to the full search.
    let mut orders: Vec<Option<Vec<u32>>> = vec![None; parts.len()];
    let mut cap = trial(plan.call.len() / parts.len());
    let last_cap = LAST_CAP.max(LAST_CAP_PER_OP * plan.call.len());
    while orders.iter().any(Option::is_none) {
        if cap > last_cap {
            return Found::Nothing(None);
        }
        for (part, order) in parts.iter().zip(orders.iter_mut()) {
            if order.is_some() {
                continue;
            }
            match search_part(&cx, &part.ops, u64::MAX, cap) {
                Outcome::Linearizable(found) => *order = Some(found),
                Outcome::GaveUp => {}
                Outcome::OutOfBudget(why) => return Found::OutOfBudget(why),
                Outcome::Violation(_) => {
                    return Found::Nothing(Some(format!(
                        "a part of {} of the {} operations, independent of the rest in every \
                         state tried, is not linearizable on its own, which without an \
                         independence guarantee from the model decides nothing",
                        part.ops.len(),
                        plan.call.len()
                    )))
                }
            }
        }
        cap = cap.saturating_mul(8);
    }
    let orders: Vec<Vec<u32>> = orders.into_iter().flatten().collect();
    match merge(plan, &orders) {
        Some(order) if is_linearization(plan, whole, &order) => Found::Linearizable,
        _ => Found::Nothing(None),
    }
}

/// The first writer part that the part `c` (no writers) fits with, judged on
/// a short beginning: the operations called up to the return of its first
/// few reads that are not possible initially, those still running then
/// optional. `Err` when the budget ran out.
fn host<'h, I, O, S, F>(
    cx: &Context<'_, 'h, I, O, F>,
    whole: &mut S,
    parts: &[Part],
    c: usize,
) -> Result<Option<usize>, String>
where
    I: Eq + std::hash::Hash,
    S: Stepper,
    F: Fn(Vec<&'h Operation<I, O>>) -> S,
{
    let plan = cx.plan;
    let init = whole.init();
    let mut rets: Vec<u64> = (parts[c].ops.iter())
        .filter(|&&r| (r as usize) < plan.completed && whole.step(init, r).is_none())
        .map(|&r| plan.ret[r as usize])
        .collect();
    rets.sort_unstable();
    let Some(&cutoff) = rets.get(TRIAL_READS - 1).or(rets.last()) else {
        return Ok(None);
    };
    for (k, part) in parts.iter().enumerate() {
        if !part.writes || part.ops.is_empty() {
            continue;
        }
        let mut ops = [&part.ops[..], &parts[c].ops[..]].concat();
        ops.sort_unstable();
        match search_part(cx, &ops, cutoff, trial(ops.len())) {
            Outcome::Linearizable(_) => return Ok(Some(k)),
            Outcome::OutOfBudget(why) => return Err(why),
            Outcome::Violation(_) | Outcome::GaveUp => {}
        }
    }
    Ok(None)
}

/// Searches the operations `ops` (local indices, ascending) on their own,
/// those called after `cutoff` left out and those returning after it
/// optional, exploring at most `cap` configurations; a linearization comes
/// back in local indices.
fn search_part<'h, I, O, S, F>(
    cx: &Context<'_, 'h, I, O, F>,
    ops: &[u32],
    cutoff: u64,
    cap: usize,
) -> Outcome
where
    I: Eq + std::hash::Hash,
    S: Stepper,
    F: Fn(Vec<&'h Operation<I, O>>) -> S,
{
    let plan = cx.plan;
    let done = |l: u32| (l as usize) < plan.completed && plan.ret[l as usize] <= cutoff;
    let mut sub: Vec<u32> = ops
        .iter()
        .copied()
        .filter(|&l| plan.call[l as usize] <= cutoff)
        .collect();
    // Completed ones by call time, then optional ones (already in that order
    // within each group).
    sub.sort_by_key(|&l| (!done(l), plan.call[l as usize], l));
    let completed = sub.iter().filter(|&&l| done(l)).count();
    // Twins (interchangeable optional operations) only among truly
    // indeterminate ones: an operation cut short keeps its result.
    let mut last: FxHashMap<&I, u32> = FxHashMap::default();
    let twin = (completed..sub.len())
        .map(|j| {
            let l = sub[j] as usize;
            (l >= plan.completed)
                .then(|| last.insert(&cx.history[cx.local[l]].input, j as u32))
                .flatten()
        })
        .collect();
    let sub_plan = Plan {
        completed,
        call: sub.iter().map(|&l| plan.call[l as usize]).collect(),
        ret: sub[..completed]
            .iter()
            .map(|&l| plan.ret[l as usize])
            .collect(),
        twin,
    };
    let mut stepper = (cx.make)(
        sub.iter()
            .map(|&l| &cx.history[cx.local[l as usize]])
            .collect(),
    );
    match super::decide(&sub_plan, &mut stepper, cx.budget, cap) {
        Outcome::Linearizable(path) => {
            Outcome::Linearizable(path.iter().map(|&p| sub[p as usize]).collect())
        }
        other => other,
    }
}

/// Whether `order` (local indices) is a linearization: each operation at
/// most once, every completed one present, nothing placed before an
/// operation that returned before its call, every step allowed.
pub(super) fn is_linearization<S: Stepper>(plan: &Plan, stepper: &mut S, order: &[u32]) -> bool {
    let n = plan.call.len();
    let mut placed = vec![false; n];
    // Completed operations by return time; `next` is the first unplaced one.
    let mut by_ret: Vec<u32> = (0..plan.completed as u32).collect();
    by_ret.sort_unstable_by_key(|&i| plan.ret[i as usize]);
    let mut next = 0;
    let mut sid = stepper.init();
    for &op in order {
        let i = op as usize;
        if i >= n || placed[i] {
            return false;
        }
        while next < by_ret.len() && placed[by_ret[next] as usize] {
            next += 1;
        }
        if next < by_ret.len() && plan.ret[by_ret[next] as usize] < plan.call[i] {
            return false; // an operation that returned before this call is missing
        }
        let Some(after) = stepper.step(sid, op) else {
            return false;
        };
        placed[i] = true;
        sid = after;
    }
    placed[..plan.completed].iter().all(|&p| p)
}

/// Merges per-part orders into one that respects real time, if the greedy
/// merge finds one: repeatedly the earliest-called next operation of any
/// part, once nothing unplaced returned before its call.
pub(super) fn merge(plan: &Plan, orders: &[Vec<u32>]) -> Option<Vec<u32>> {
    let total: usize = orders.iter().map(Vec::len).sum();
    let mut placed = vec![false; plan.call.len()];
    let mut by_ret: Vec<u32> = (0..plan.completed as u32).collect();
    by_ret.sort_unstable_by_key(|&i| plan.ret[i as usize]);
    let mut next_ret = 0;
    let mut heads: BinaryHeap<Reverse<(u64, usize, usize)>> = orders
        .iter()
        .enumerate()
        .filter(|(_, o)| !o.is_empty())
        .map(|(p, o)| Reverse((plan.call[o[0] as usize], p, 0)))
        .collect();
    let mut merged = Vec::with_capacity(total);
    while let Some(Reverse((call, p, k))) = heads.pop() {
        while next_ret < by_ret.len() && placed[by_ret[next_ret] as usize] {
            next_ret += 1;
        }
        if next_ret < by_ret.len() && plan.ret[by_ret[next_ret] as usize] < call {
            // The earliest-called candidate must wait for an operation that
            // is behind another part's candidate: no merge in this order.
            return None;
        }
        let op = orders[p][k];
        placed[op as usize] = true;
        merged.push(op);
        if let Some(&after) = orders[p].get(k + 1) {
            heads.push(Reverse((plan.call[after as usize], p, k + 1)));
        }
    }
    Some(merged)
}
