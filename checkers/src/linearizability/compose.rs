//! Parts of a history checked as one object (`--no-partition`): a
//! linearization of the whole assembled from linearizations of its parts,
//! or a part that refutes the whole.
//!
//! The parts are found from `step` and state equality alone
//! ([`super::parts`]); no decision here asks the model how it splits (its
//! `partition`). For a per-key model the whole object is the map, whose
//! state the checker builds as every key's state side by side
//! ([`super::states::Product`]), each operation stepping its own key's entry.
//!
//! # What can be decided this way
//!
//! A *linearizable* verdict needs one witness: an order of all completed
//! operations (and some indeterminate ones) that respects real time and that
//! `step` accepts from the initial state. Whatever heuristic proposes it, the
//! witness is checked step by step ([`is_linearization`]), so the verdict is
//! sound for every model.
//!
//! A *not linearizable* verdict needs more than a part that fails alone: a
//! part found from `step` may not be independent of the rest after all
//! (`tests/without_split.rs` has such a model). It is enough when the part
//! *owns* its state components ([`Stepper::footprint`]): the whole map's
//! step reads and writes only the entry of the operation's key, so
//! operations on entries no other part touches can neither be enabled,
//! disabled nor observed by the rest, and any linearization of the whole,
//! restricted to the part, linearizes the part alone (Herlihy and Wing's
//! locality, as a property of how the whole map is stepped). Without such
//! components (one object whose state every operation may read, as a
//! register) a part that fails alone decides nothing, and the full search
//! runs.
//!
//! Why not simply search the whole map: to refute a history, a search that
//! knows nothing of the state's structure must visit every state reachable
//! before the violation (a model that differed at one unvisited state could
//! make the history linearizable). For Porcupine's `c50-bad` (50 clients, 10
//! keys) that is the product of the keys' states: 3·10^19 whole-map states
//! at one instant after 200 of its 4048 events (measured key by key with
//! `doc/c50-frontier.py`; the violation is near event 1055).
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
use super::{Budget, Operation, Stop};
use rustc_hash::FxHashMap;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

pub(crate) enum Found {
    /// A verified linearization exists.
    Linearizable,
    /// A part that owns its state components is not linearizable on its
    /// own: `local` (history indices) and `plan` are the part's, `prefix` its
    /// longest linearizable prefix in the part's indices, `components` the
    /// state components it owns.
    NotLinearizable {
        components: Vec<u32>,
        local: Vec<usize>,
        plan: Box<Plan>,
        prefix: Vec<u32>,
    },
    /// No witness; why, for the verdict's reason should the full search
    /// give up too.
    Nothing(Option<String>),
    OutOfBudget(Stop),
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
        for (p, (part, order)) in parts.iter().zip(orders.iter_mut()).enumerate() {
            if order.is_some() {
                continue;
            }
            match search_part(&cx, &part.ops, u64::MAX, cap) {
                Outcome::Linearizable(found) => *order = Some(found),
                Outcome::GaveUp => {}
                Outcome::OutOfBudget(why) => return Found::OutOfBudget(why),
                Outcome::Violation(prefix) if owns_its_components(whole, &parts, p) => {
                    let (sub, plan) = part_plan(&cx, &part.ops, u64::MAX);
                    let mut components: Vec<u32> = part
                        .ops
                        .iter()
                        .filter_map(|&op| whole.footprint(op))
                        .collect();
                    components.sort_unstable();
                    components.dedup();
                    return Found::NotLinearizable {
                        components,
                        local: sub.iter().map(|&l| cx.local[l as usize]).collect(),
                        plan: Box::new(plan),
                        prefix,
                    };
                }
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
) -> Result<Option<usize>, Stop>
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

/// Whether part `p`'s operations touch state components (see
/// [`Stepper::footprint`]) that no operation of another part touches. Then
/// the rest of the history can neither change nor observe what they read
/// and write, so any linearization of the whole, restricted to them, is a
/// linearization of the part alone (Herlihy and Wing's locality, here a
/// property of how the stepper builds the whole state, not a claim of the
/// model's), and a part that is not linearizable refutes the whole.
fn owns_its_components<S: Stepper>(whole: &S, parts: &[Part], p: usize) -> bool {
    let mut mine = Vec::new();
    for &op in &parts[p].ops {
        match whole.footprint(op) {
            Some(c) => mine.push(c),
            None => return false,
        }
    }
    mine.sort_unstable();
    mine.dedup();
    (parts.iter().enumerate())
        .filter(|&(q, _)| q != p)
        .flat_map(|(_, part)| &part.ops)
        .all(|&op| {
            whole
                .footprint(op)
                .is_some_and(|c| mine.binary_search(&c).is_err())
        })
}

/// Searches the operations `ops` (local indices, ascending) on their own,
/// those called after `cutoff` left out and those returning after it
/// optional, exploring at most `cap` configurations; a linearization comes
/// back in local indices, a violation's prefix in [`part_plan`]'s.
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
    let (sub, sub_plan) = part_plan(cx, ops, cutoff);
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

/// The operations `ops` (local indices, ascending) on their own, as
/// [`search_part`] searches them: which ones, in the part's order, and
/// their plan.
fn part_plan<I, O, F>(cx: &Context<'_, '_, I, O, F>, ops: &[u32], cutoff: u64) -> (Vec<u32>, Plan)
where
    I: Eq + std::hash::Hash,
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
    let mut sub_plan = Plan::new(
        completed,
        sub.iter().map(|&l| plan.call[l as usize]).collect(),
        sub[..completed]
            .iter()
            .map(|&l| plan.ret[l as usize])
            .collect(),
        twin,
    );
    // The orderings among the operations kept (dropping one only widens the
    // search).
    let position: FxHashMap<u32, u32> = (sub.iter().enumerate())
        .map(|(j, &l)| (l, j as u32))
        .collect();
    let pairs = (sub.iter().enumerate())
        .flat_map(|(j, &l)| {
            let position = &position;
            plan.after(l)
                .iter()
                .filter_map(move |a| position.get(a).map(|&i| (i, j as u32)))
        })
        .collect();
    sub_plan.set_order(pairs);
    (sub, sub_plan)
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
