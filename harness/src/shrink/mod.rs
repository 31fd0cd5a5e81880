//! `snapstorm shrink DIR`: make a failing run small while it keeps failing the
//! same checker. Every trial is an ordinary deterministic run whose fault
//! schedule, node and client counts are given explicitly (`Overrides`), so the
//! shrunk artifact replays byte for byte like any other.
//!
//! The passes, repeated until none makes progress or the trial budget is spent:
//! fewer nodes (5 or 7 → 3), fewer clients, a shorter main phase, delta
//! debugging (ddmin) over the fault schedule, faults moved earlier, shorter
//! fault windows. Before them,
//! faults aimed at "the leader" or "a random node" are pinned to the node they
//! hit in the original run, so dropping one fault does not move the others.
mod ddmin;
mod search;

pub use ddmin::ddmin;

use crate::nemesis::{Planned, Target};
use crate::overrides::targets_mut;
use crate::replay;
use crate::results::{Results, Verdict};
use crate::run::{self, RunOutcome};
use search::{Candidate, Shrinker};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant; // determinism-ok: times the shrink for its report, outside any simulation

#[derive(clap::Args, Debug)]
pub struct ShrinkArgs {
    /// A failing run directory (with results.json), e.g. a fuzz campaign's seed-N/.
    pub dir: PathBuf,
    /// Where the shrunk run goes (default: DIR-shrunk next to DIR).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The most trial runs to spend (each is one simulation).
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub max_trials: u64,
    /// The checker that must keep failing (default: the mutant's own checker if
    /// it failed, else the first failing checker).
    #[arg(long)]
    pub checker: Option<String>,
    /// No per-trial progress lines on stderr.
    #[arg(long)]
    pub quiet: bool,
}

pub struct ShrinkConfig {
    pub dir: PathBuf,
    pub out: PathBuf,
    pub max_trials: u64,
    pub checker: Option<String>,
    pub progress: bool,
}

/// How big a run is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Size {
    pub history_events: usize,
    pub ops: u64,
    pub faults_planned: usize,
    /// Faults that really started (lines of nemesis.jsonl).
    pub faults_started: usize,
    pub nodes: u64,
    pub clients: u32,
    pub duration_secs: f64,
}

/// What `shrink.json` holds.
#[derive(Clone, Debug, Serialize)]
pub struct ShrinkReport {
    pub original: String,
    pub out: String,
    /// The checker that failed before and still fails.
    pub checker: String,
    pub trials: u64,
    pub max_trials: u64,
    /// The budget ran out before the passes stopped making progress: a smaller
    /// failing run may exist.
    pub budget_exhausted: bool,
    pub before: Size,
    pub after: Size,
    pub kept_faults: Vec<String>,
    /// Checkers failing in the shrunk run besides `checker`.
    pub also_failing: Vec<String>,
    pub wall_seconds: f64,
    pub summary: String,
}

pub fn cli(args: ShrinkArgs) -> i32 {
    let out = match args.out {
        Some(o) => o,
        None => match default_out(&args.dir) {
            Ok(o) => o,
            Err(e) => {
                eprintln!("snapstorm shrink: {e}");
                return 2;
            }
        },
    };
    let cfg = ShrinkConfig {
        dir: args.dir,
        out,
        max_trials: args.max_trials,
        checker: args.checker,
        progress: !args.quiet,
    };
    match shrink(&cfg) {
        Ok(r) => {
            let text = format!("{}\n  shrunk run: {}\n", r.summary, r.out);
            checkers::cli::print_out(&text);
            0
        }
        Err(e) => {
            eprintln!("snapstorm shrink: {e}");
            2
        }
    }
}

/// `DIR-shrunk`, next to DIR.
pub fn default_out(dir: &Path) -> Result<PathBuf, String> {
    let name = dir.file_name().ok_or_else(|| {
        format!(
            "cannot name an output next to '{}'; give --out",
            dir.display()
        )
    })?;
    Ok(dir.with_file_name(format!("{}-shrunk", name.to_string_lossy())))
}

/// The checker to keep failing: the one asked for, else the mutant's own
/// checker, else the first failing one that is not a generic liveness or
/// simulation failure.
pub(crate) fn target_checker(r: &Results, asked: Option<&str>) -> Result<String, String> {
    let invalid: Vec<&String> = r
        .checkers
        .iter()
        .filter(|(_, c)| c.verdict == Verdict::Invalid)
        .map(|(k, _)| k)
        .collect();
    if invalid.is_empty() {
        return Err(format!(
            "nothing to shrink: no checker failed (verdict {})",
            r.verdict.word()
        ));
    }
    if let Some(a) = asked {
        return match invalid.iter().find(|k| k.as_str() == a) {
            Some(k) => Ok(k.to_string()),
            None => Err(format!(
                "checker '{a}' did not fail in this run; failing: {}",
                join(&invalid)
            )),
        };
    }
    let own = r.config.bugs.iter().filter_map(|b| {
        raftkv::bugs::BUGS
            .iter()
            .find(|m| m.name == b.as_str())
            .map(|m| m.checker)
    });
    for c in own {
        if let Some(k) = invalid.iter().find(|k| k.as_str() == c) {
            return Ok(k.to_string());
        }
    }
    let generic = |k: &&&String| matches!(k.as_str(), "liveness" | "simulation");
    Ok(invalid
        .iter()
        .find(|k| !generic(k))
        .or(invalid.first())
        .map(|k| k.to_string())
        .expect("at least one failing checker"))
}

fn join(v: &[&String]) -> String {
    v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

fn size(o: &RunOutcome, c: &Candidate) -> Size {
    Size {
        history_events: o.history.len(),
        ops: o.results.stats.ops,
        faults_planned: c.faults.len(),
        faults_started: o.nemesis.len(),
        nodes: c.nodes,
        clients: c.clients,
        duration_secs: c.duration.as_secs_f64(),
    }
}

fn describe_target(t: &Target) -> String {
    match t {
        Target::Node(n) => format!("n{n}"),
        Target::Leader => "the leader".into(),
        Target::Follower => "a follower".into(),
        Target::ConnectedFollower => "a follower the leader can reach".into(),
        Target::Random => "a random node".into(),
        Target::NewLeader => "the next leader elected".into(),
    }
}

fn describe(p: &Planned) -> String {
    let mut f = p.fault.clone();
    let targets: Vec<String> = targets_mut(&mut f)
        .into_iter()
        .map(|t| describe_target(t))
        .collect();
    let on = if targets.is_empty() {
        String::new()
    } else {
        format!(" on {}", targets.join(" -> "))
    };
    format!(
        "{}{on} at {:.2} s for {:.2} s",
        p.fault.name(),
        p.at.as_secs_f64(),
        p.hold.as_secs_f64()
    )
}

/// Shrinks the failing run in `cfg.dir` and writes the smallest failing run
/// found to `cfg.out`, with `shrink.txt` (the summary) and `shrink.json`.
pub fn shrink(cfg: &ShrinkConfig) -> Result<ShrinkReport, String> {
    let start = Instant::now(); // determinism-ok: reported wall time, outside any simulation
    let (recorded, base) = replay::load_config(&cfg.dir)?;
    let results_path = cfg.dir.join("results.json");
    let checker = target_checker(&recorded, cfg.checker.as_deref())
        .map_err(|e| format!("{}: {e}", results_path.display()))?;
    if same_dir(&cfg.dir, &cfg.out) {
        return Err(format!(
            "--out {} is the run being shrunk; choose another directory",
            cfg.out.display()
        ));
    }
    let scenario = crate::scenario::find(&base.scenario).ok_or_else(|| {
        format!(
            "{}: unknown scenario '{}'",
            results_path.display(),
            base.scenario
        )
    })?;
    let built = run::build(&base, scenario)?;
    let mut faults = built.plan;
    // The nemesis starts faults in this order; keep the indices the same.
    faults.sort_by_key(|p| p.at);
    faults.retain(|p| p.at < base.duration);
    let original = Candidate {
        faults,
        nodes: built.spec.nodes,
        clients: built.workload.clients,
        duration: base.duration,
    };

    // Trial 1: the recorded run with its schedule written out must be the same
    // run, byte for byte, or nothing learned from the trials would transfer.
    let first = run::run(&original.config(&base))?;
    if first.results.hashes != recorded.hashes {
        return Err(format!(
            "{}: the run does not repeat byte for byte (see snapstorm replay {}); cannot shrink it",
            results_path.display(),
            cfg.dir.display()
        ));
    }
    let before = size(&first, &original);
    let first_ops = first.results.stats.ops;
    let mut s = Shrinker::new(
        base,
        checker.clone(),
        cfg.max_trials,
        cfg.progress,
        original,
        first,
    );
    if cfg.progress {
        eprintln!(
            "shrink [1/{}] the recorded run repeats and fails {checker} (ops {first_ops}, {} faults)",
            cfg.max_trials, before.faults_planned
        );
    }
    s.search();

    let after = size(&s.best, &s.current);
    let also_failing: Vec<String> = s
        .best
        .results
        .checkers
        .iter()
        .filter(|(k, c)| c.verdict == Verdict::Invalid && **k != checker)
        .map(|(k, _)| k.clone())
        .collect();
    let kept_faults: Vec<String> = s.current.faults.iter().map(describe).collect();
    run::write(&s.best, &cfg.out).map_err(|e| format!("{}: {e}", cfg.out.display()))?;
    reports::write_report(&cfg.out).map_err(|e| format!("{}: {e}", cfg.out.display()))?;
    let mut report = ShrinkReport {
        original: cfg.dir.display().to_string(),
        out: cfg.out.display().to_string(),
        checker,
        trials: s.trials,
        max_trials: s.max_trials,
        budget_exhausted: s.exhausted,
        before,
        after,
        kept_faults,
        also_failing,
        wall_seconds: start.elapsed().as_secs_f64(),
        summary: String::new(),
    };
    report.summary = summary(&report, &recorded);
    let write = |name: &str, text: String| {
        let p = cfg.out.join(name);
        std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))
    };
    write("shrink.txt", report.summary.clone() + "\n")?;
    write(
        "shrink.json",
        serde_json::to_string_pretty(&report).expect("report serialises") + "\n",
    )?;
    Ok(report)
}

fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn count(n: u32, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn pct(after: f64, before: f64) -> f64 {
    100.0 * after / before.max(1.0)
}

/// The one-paragraph account of what remains.
fn summary(r: &ShrinkReport, recorded: &Results) -> String {
    let (b, a) = (&r.before, &r.after);
    let bugs = if recorded.config.bugs.is_empty() {
        String::new()
    } else {
        format!(" with --bug {}", recorded.config.bugs.join(" --bug "))
    };
    let faults = if r.kept_faults.is_empty() {
        "no faults at all".to_string()
    } else {
        format!(
            "{} of {} faults ({})",
            a.faults_planned,
            b.faults_planned,
            r.kept_faults.join("; ")
        )
    };
    let stop = if r.budget_exhausted {
        format!(
            "; the budget of {} trials ran out, so a smaller run may exist",
            r.max_trials
        )
    } else {
        String::new()
    };
    let also = if r.also_failing.is_empty() {
        String::new()
    } else {
        format!(" Also failing now: {}.", r.also_failing.join(", "))
    };
    format!(
        "Shrunk {} seed {}{bugs} in {} trials ({:.1} s){stop}. It still fails {}. \
         What remains: {faults}; {} nodes (was {}), {} (was {}), a {:.2} s main phase (was {:.2} s). \
         History {} -> {} events, {} -> {} operations ({:.1}% of the original); nemesis log {} -> {} records.{also} \
         Replay it with: snapstorm replay {}",
        recorded.scenario,
        recorded.seed,
        r.trials,
        r.wall_seconds,
        r.checker,
        a.nodes,
        b.nodes,
        count(a.clients, "client"),
        b.clients,
        a.duration_secs,
        b.duration_secs,
        b.history_events,
        a.history_events,
        b.ops,
        a.ops,
        pct(a.ops as f64, b.ops as f64),
        b.faults_started,
        a.faults_started,
        r.out
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_out_sits_next_to_the_run() {
        assert_eq!(
            default_out(Path::new("store/fuzz/seed-3/")).unwrap(),
            PathBuf::from("store/fuzz/seed-3-shrunk")
        );
        assert!(default_out(Path::new("/")).is_err());
    }
}
