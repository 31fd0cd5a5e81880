//! The shrinking search: a current failing candidate, trial runs of smaller
//! ones, and the passes that propose them.
use super::ddmin::ddmin;
use crate::nemesis::{Planned, Target};
use crate::overrides::{pinned_nodes, targets_mut, Overrides};
use crate::results::{Results, Verdict};
use crate::run::{self, RunConfig, RunOutcome};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// One point in the search: everything a trial changes.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Candidate {
    pub faults: Vec<Planned>,
    pub nodes: u64,
    pub clients: u32,
    pub duration: Duration,
}

impl Candidate {
    /// The run config of this candidate: the base config with everything the
    /// search changes given explicitly.
    pub fn config(&self, base: &RunConfig) -> RunConfig {
        let mut cfg = base.clone();
        cfg.duration = self.duration;
        cfg.overrides = Overrides {
            faults: Some(self.faults.clone()),
            nodes: Some(self.nodes),
            clients: Some(self.clients),
            // Not searched: kept as the recorded run had it.
            bound_clients: base.overrides.bound_clients,
        };
        cfg
    }
}

pub(super) struct Shrinker {
    base: RunConfig,
    checker: String,
    pub max_trials: u64,
    /// Trial runs so far (the first is the recorded run itself).
    pub trials: u64,
    /// The budget ran out before the passes stopped making progress.
    pub exhausted: bool,
    progress: bool,
    /// Verdicts of configs already run (keyed by their recorded form).
    seen: BTreeMap<String, bool>,
    pub current: Candidate,
    /// The run of `current`.
    pub best: RunOutcome,
}

const MIN_DURATION: Duration = Duration::from_millis(500);
const DURATION_STEP: Duration = Duration::from_millis(250);
const MIN_HOLD: Duration = Duration::from_millis(50);
const HOLD_STEP: Duration = Duration::from_millis(50);

impl Shrinker {
    /// Starts from `original`, whose run (`first`, trial 1) fails `checker`.
    pub fn new(
        base: RunConfig,
        checker: String,
        max_trials: u64,
        progress: bool,
        original: Candidate,
        first: RunOutcome,
    ) -> Self {
        Shrinker {
            base,
            checker,
            max_trials,
            trials: 1,
            exhausted: false,
            progress,
            seen: BTreeMap::new(),
            current: original,
            best: first,
        }
    }

    /// Pins the targets, then runs the passes until none makes progress or the
    /// budget is spent.
    pub fn search(&mut self) {
        self.pin_targets();
        loop {
            let mut changed = self.fewer_nodes();
            changed |= self.fewer_clients();
            changed |= self.shorter_run();
            changed |= self.fewer_faults();
            changed |= self.earlier_faults();
            changed |= self.shorter_run();
            changed |= self.shorter_windows();
            if !changed || self.exhausted {
                break;
            }
        }
    }

    /// Runs the candidate; true (and it becomes the current one) when it still
    /// fails the checker. False once the budget is spent.
    fn try_candidate(&mut self, c: Candidate, what: &str) -> bool {
        if c == self.current {
            return true;
        }
        let cfg = c.config(&self.base);
        let key = serde_json::to_string(&cfg.record()).expect("configs serialise");
        if let Some(&fails) = self.seen.get(&key) {
            if fails {
                // Seen failing before: run it again only to keep its outcome.
                return self.run_trial(c, cfg, key, what);
            }
            return false;
        }
        self.run_trial(c, cfg, key, what)
    }

    fn run_trial(&mut self, c: Candidate, cfg: RunConfig, key: String, what: &str) -> bool {
        if self.trials >= self.max_trials {
            self.exhausted = true;
            return false;
        }
        self.trials += 1;
        let wall = Instant::now(); // determinism-ok: progress display, outside the simulation
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run::run(&cfg)));
        let wall = wall.elapsed().as_secs_f64();
        let (fails, note) = match outcome {
            Ok(Ok(o)) => {
                let fails = failing(&o.results, &self.checker);
                let note = format!(
                    "{} (ops {})",
                    if fails { "still fails" } else { "passes" },
                    o.results.stats.ops
                );
                if fails {
                    self.current = c;
                    self.best = o;
                }
                (fails, note)
            }
            Ok(Err(e)) => (false, format!("cannot run: {e}")),
            Err(_) => (false, "the trial panicked".to_string()),
        };
        self.seen.insert(key, fails);
        if self.progress {
            eprintln!(
                "shrink [{}/{}] {what}: {note} {wall:.2}s",
                self.trials, self.max_trials
            );
        }
        fails
    }

    fn with(&self, f: impl FnOnce(&mut Candidate)) -> Candidate {
        let mut c = self.current.clone();
        f(&mut c);
        c
    }

    /// Faults aimed at the leader, a follower or a random node are aimed at the
    /// node they hit in the current run.
    fn pin_targets(&mut self) {
        let mut pinned = self.current.faults.clone();
        let mut started = vec![false; pinned.len()];
        for r in &self.best.nemesis {
            let Some(p) = pinned.get_mut(r.planned) else {
                continue;
            };
            started[r.planned] = true;
            let targets = targets_mut(&mut p.fault);
            if targets.len() == r.nodes.len() {
                for (t, n) in targets.into_iter().zip(&r.nodes) {
                    *t = Target::Node(*n);
                }
            }
        }
        // A fault that never started (no node to aim at) did nothing.
        let pinned: Vec<Planned> = pinned
            .into_iter()
            .zip(started)
            .filter_map(|(p, s)| s.then_some(p))
            .collect();
        let c = self.with(|c| c.faults = pinned);
        self.try_candidate(c, "aim every fault at the node it hit");
    }

    fn fewer_nodes(&mut self) -> bool {
        for n in [3, 5] {
            if n >= self.current.nodes {
                break;
            }
            let c = self.with(|c| {
                c.nodes = n;
                c.faults
                    .retain(|p| pinned_nodes(&p.fault).iter().all(|x| *x <= n));
            });
            let what = format!("{} -> {n} nodes", self.current.nodes);
            if self.try_candidate(c, &what) {
                return true;
            }
        }
        false
    }

    fn fewer_clients(&mut self) -> bool {
        let from = self.current.clients;
        let smallest = self.bisect(1, u64::from(from), 1, |s, v| {
            let c = s.with(|c| c.clients = v as u32);
            s.try_candidate(c, &format!("{from} -> {v} clients"))
        });
        smallest < u64::from(from)
    }

    fn shorter_run(&mut self) -> bool {
        let ms = |d: Duration| d.as_millis() as u64;
        let from = self.current.duration;
        if from <= MIN_DURATION {
            return false;
        }
        let best = self.bisect(ms(MIN_DURATION), ms(from), ms(DURATION_STEP), |s, v| {
            let d = Duration::from_millis(v);
            let c = s.with(|c| {
                c.duration = d;
                c.faults.retain(|p| p.at < d);
            });
            s.try_candidate(
                c,
                &format!(
                    "main phase {:.2} s -> {:.2} s",
                    from.as_secs_f64(),
                    d.as_secs_f64()
                ),
            )
        });
        best < ms(from)
    }

    fn fewer_faults(&mut self) -> bool {
        let before = self.current.faults.len();
        let all: Vec<usize> = (0..before).collect();
        let faults = self.current.faults.clone();
        ddmin(all, |keep| {
            if self.exhausted {
                return false;
            }
            let subset: Vec<Planned> = keep.iter().map(|i| faults[*i].clone()).collect();
            let c = self.with(|c| c.faults = subset);
            self.try_candidate(c, &format!("{} of {before} faults", keep.len()))
        });
        self.current.faults.len() < before
    }

    /// Moves the faults earlier together (their spacing kept), so the main
    /// phase can end sooner.
    fn earlier_faults(&mut self) -> bool {
        let Some(first) = self.current.faults.first().map(|p| p.at) else {
            return false;
        };
        let ms = |d: Duration| d.as_millis() as u64;
        // Shifts are from where the faults were when the pass began.
        let from = self.current.faults.clone();
        let best = self.bisect(0, ms(first), ms(HOLD_STEP), |s, v| {
            let shift = first - Duration::from_millis(v);
            let c = s.with(|c| {
                c.faults = from.clone();
                for p in &mut c.faults {
                    p.at -= shift;
                }
            });
            s.try_candidate(
                c,
                &format!(
                    "faults {:.2} s earlier (first at {:.2} s)",
                    shift.as_secs_f64(),
                    v as f64 / 1000.0
                ),
            )
        });
        best < ms(first)
    }

    fn shorter_windows(&mut self) -> bool {
        let ms = |d: Duration| d.as_millis() as u64;
        let mut changed = false;
        for i in 0..self.current.faults.len() {
            let from = self.current.faults[i].hold;
            if from <= MIN_HOLD || self.exhausted {
                continue;
            }
            let name = self.current.faults[i].fault.name();
            let best = self.bisect(ms(MIN_HOLD), ms(from), ms(HOLD_STEP), |s, v| {
                let c = s.with(|c| c.faults[i].hold = Duration::from_millis(v));
                s.try_candidate(
                    c,
                    &format!(
                        "fault {i} ({name}) window {:.2} s -> {:.2} s",
                        from.as_secs_f64(),
                        v as f64 / 1000.0
                    ),
                )
            });
            changed |= best < ms(from);
        }
        changed
    }

    /// The smallest value in [lo, hi] found failing by bisection (hi is the
    /// current, failing value; failure need not be monotone, so this is a good
    /// value, not necessarily the least). Tries `lo` first.
    fn bisect(
        &mut self,
        lo: u64,
        hi: u64,
        step: u64,
        mut fails: impl FnMut(&mut Self, u64) -> bool,
    ) -> u64 {
        if lo >= hi {
            return hi;
        }
        if fails(self, lo) {
            return lo;
        }
        let (mut lo, mut hi) = (lo, hi);
        while hi - lo > step.max(1) && !self.exhausted {
            let mid = lo + (hi - lo) / 2;
            if fails(self, mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }
}

pub(super) fn failing(r: &Results, checker: &str) -> bool {
    r.checkers
        .get(checker)
        .is_some_and(|c| c.verdict == Verdict::Invalid)
}
