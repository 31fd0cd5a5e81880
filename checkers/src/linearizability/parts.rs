//! Grouping a history's operations into parts that look independent, from
//! the model's `step` alone, for [`super::compose`]. A heuristic: parts only
//! propose a witness, which is verified, so a wrong guess costs time, never
//! soundness.
//!
//! - Operations with equal inputs are interchangeable (the model contract),
//!   so they share a part.
//! - *Writers*, operations whose effect with an unknown result changes the
//!   initial state, share a part with any writer they do not commute with
//!   there (`x` then `y` and `y` then `x` reach different states). Each new
//!   writer is compared with one writer per part so far.
//! - The other operations (reads, and writes that change nothing at first)
//!   join the part of a writer whose effect they notice: stepping through
//!   that part's writers in call order, or in return order (proxies for the
//!   order they took effect in), the read becomes possible or impossible, or
//!   stops commuting, across one of the writer's steps shortly before it
//!   returned.
use super::search::Plan;
use super::states::Stepper;
use rustc_hash::FxHashMap;

/// Step calls the discovery may spend (plus this many per operation) before
/// giving up on splitting.
const DISCOVERY_STEPS: usize = 1 << 20;
const DISCOVERY_STEPS_PER_OP: usize = 64;

/// Writers before a read's return whose states are compared for it.
const WINDOW: usize = 16;

/// Writers returning after a read that are still compared for it (they may
/// have taken effect before it).
const SLACK: usize = 4;

/// Reads of one class tried against each part.
const SAMPLES: usize = 24;

/// Operations (local indices, ascending) that look independent of the rest;
/// `writes`: some of them change the initial state.
pub(crate) struct Part {
    pub(crate) ops: Vec<u32>,
    pub(crate) writes: bool,
}

/// Union–find over operations.
struct Parts {
    parent: Vec<u32>,
}

impl Parts {
    fn new(n: usize) -> Self {
        Parts {
            parent: (0..n as u32).collect(),
        }
    }

    fn root(&mut self, mut x: u32) -> u32 {
        while self.parent[x as usize] != x {
            let up = self.parent[self.parent[x as usize] as usize];
            self.parent[x as usize] = up;
            x = up;
        }
        x
    }

    fn join(&mut self, a: u32, b: u32) {
        let (a, b) = (self.root(a), self.root(b));
        if a != b {
            self.parent[a.max(b) as usize] = a.min(b);
        }
    }
}

/// Counts step calls against a limit.
struct Probe<'s, S: Stepper> {
    stepper: &'s mut S,
    calls: usize,
    limit: usize,
}

impl<S: Stepper> Probe<'_, S> {
    fn step(&mut self, sid: u32, op: u32) -> Option<u32> {
        self.calls += 1;
        self.stepper.step(sid, op)
    }

    fn step_unknown(&mut self, sid: u32, op: u32) -> Option<u32> {
        self.calls += 1;
        self.stepper.step_unknown(sid, op)
    }

    fn exhausted(&self) -> bool {
        self.calls > self.limit
    }
}

/// Groups the operations into parts that look independent (see the module
/// comment). One part if discovery ran out of steps.
pub(crate) fn discover<S: Stepper, I: Eq + std::hash::Hash>(
    stepper: &mut S,
    plan: &Plan,
    inputs: &[&I],
) -> Vec<Part> {
    let n = inputs.len();
    let mut parts = Parts::new(n);
    let mut first: FxHashMap<&I, u32> = FxHashMap::default();
    for (i, input) in inputs.iter().enumerate() {
        let f = *first.entry(*input).or_insert(i as u32);
        parts.join(f, i as u32);
    }
    let mut probe = Probe {
        stepper,
        calls: 0,
        limit: DISCOVERY_STEPS + DISCOVERY_STEPS_PER_OP * n,
    };
    let init = probe.stepper.init();

    // Writers, with the state each reaches from the initial one.
    let mut writers: Vec<(u32, u32)> = Vec::new();
    for op in 0..n as u32 {
        if let Some(t) = probe.step_unknown(init, op).filter(|&t| t != init) {
            writers.push((op, t));
        }
    }
    // One writer per part so far; a new writer joins every part it does not
    // commute with.
    let mut reps: Vec<(u32, u32)> = Vec::new();
    for &(x, tx) in &writers {
        let mut joined = false;
        for &(r, tr) in &reps {
            let xr = probe.step_unknown(tx, r);
            if xr.is_none() || xr != probe.step_unknown(tr, x) {
                parts.join(x, r);
                joined = true;
            }
        }
        if !joined {
            reps.push((x, tx));
        } else {
            let mut seen = Vec::new();
            reps.retain(|&(r, _)| {
                let root = parts.root(r);
                let keep = !seen.contains(&root);
                seen.push(root);
                keep
            });
        }
        if probe.exhausted() {
            return one_part(n);
        }
    }
    // Each writer part's writers in call order and in return order (proxies
    // for the order they took effect in), with the states they pass.
    let writer_ops: Vec<u32> = writers.iter().map(|&(w, _)| w).collect();
    let ret = |w: u32| plan.ret.get(w as usize).copied().unwrap_or(u64::MAX);
    let mut runs = writer_runs(&mut probe, &mut parts, &writer_ops, |w| {
        plan.call[w as usize]
    });
    runs.extend(writer_runs(&mut probe, &mut parts, &writer_ops, ret));
    // Parts with no writer: join each writer part whose steps they notice.
    let mut members: FxHashMap<u32, Vec<u32>> = FxHashMap::default();
    for op in 0..n as u32 {
        members.entry(parts.root(op)).or_default().push(op);
    }
    let mut classes: Vec<(u32, Vec<u32>)> = members
        .into_iter()
        .filter(|(root, _)| !runs.iter().any(|r| r.root == *root))
        .collect();
    classes.sort_unstable();
    for (_, class) in &classes {
        // A spread of the class's operations.
        let stride = class.len().div_ceil(SAMPLES).max(1);
        for run in &runs {
            let noticed = class.iter().step_by(stride).any(|&r| {
                // The writers that may have taken effect before `r` returned.
                let end = run.times.partition_point(|&t| t < ret(r)) + SLACK;
                let end = end.min(run.states.len() - 1);
                notices(&mut probe, r, &run.ops[..end], &run.states[..=end])
            });
            if noticed {
                parts.join(class[0], run.root);
            }
            if probe.exhausted() {
                return one_part(n);
            }
        }
    }
    let mut grouped: FxHashMap<u32, Part> = FxHashMap::default();
    for op in 0..n as u32 {
        let part = grouped.entry(parts.root(op)).or_insert(Part {
            ops: Vec::new(),
            writes: false,
        });
        part.ops.push(op);
    }
    for &w in &writer_ops {
        if let Some(part) = grouped.get_mut(&parts.root(w)) {
            part.writes = true;
        }
    }
    let mut grouped: Vec<Part> = grouped.into_values().collect();
    grouped.sort_unstable_by_key(|g| g.ops[0]);
    grouped
}

/// One writer part's writers in some order, and the states they pass from the
/// initial one: `states[j + 1]` is `states[j]` after `ops[j]`, as far as
/// that step is possible.
struct Run {
    root: u32,
    ops: Vec<u32>,
    times: Vec<u64>,
    states: Vec<u32>,
}

/// A run per writer part, its writers ordered by `time`.
fn writer_runs<S: Stepper>(
    probe: &mut Probe<'_, S>,
    parts: &mut Parts,
    writers: &[u32],
    time: impl Fn(u32) -> u64,
) -> Vec<Run> {
    let mut sorted = writers.to_vec();
    sorted.sort_by_key(|&w| (time(w), w));
    let init = probe.stepper.init();
    let mut runs: FxHashMap<u32, Run> = FxHashMap::default();
    for w in sorted {
        let root = parts.root(w);
        let run = runs.entry(root).or_insert_with(|| Run {
            root,
            ops: Vec::new(),
            times: Vec::new(),
            states: vec![init],
        });
        if run.states.len() == run.ops.len() + 1 {
            if let Some(next) = probe.step_unknown(run.states[run.ops.len()], w) {
                run.states.push(next);
            }
        }
        run.ops.push(w);
        run.times.push(time(w));
    }
    let mut runs: Vec<Run> = runs.into_values().collect();
    runs.sort_unstable_by_key(|r| r.root);
    runs
}

/// Whether `r` notices one of the last [`WINDOW`] steps of a writer run
/// (`states[j + 1]` is `states[j]` after `writers[j]`): it becomes possible
/// or impossible across it, or stops commuting with it.
fn notices<S: Stepper>(probe: &mut Probe<'_, S>, r: u32, writers: &[u32], states: &[u32]) -> bool {
    let start = writers.len().saturating_sub(WINDOW);
    let mut before = probe.step(states[start], r);
    for j in start..writers.len() {
        let after = probe.step(states[j + 1], r);
        match (before, after) {
            (Some(b), Some(a)) => {
                if probe.step_unknown(b, writers[j]) != Some(a) {
                    return true;
                }
            }
            (None, None) => {}
            _ => return true,
        }
        before = after;
    }
    false
}

fn one_part(n: usize) -> Vec<Part> {
    vec![Part {
        ops: (0..n as u32).collect(),
        writes: true,
    }]
}
