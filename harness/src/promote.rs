//! `snapstorm regress add DIR...`: turns a recorded run (a failure's `seed-N/`
//! directory from a campaign, a CI artifact, or any `chaos --out` directory),
//! or every judged failure of a campaign directory, into regression-corpus
//! entries. The entry is built from the run's recorded config, so it repeats
//! the same run; it is re-run once and saved only if it gets the recorded
//! verdict again (the corpus test would fail on an entry that does not).
use crate::regressions::{self, Regression};
use crate::results::{Results, Verdict};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};

#[derive(Subcommand, Debug)]
pub enum RegressCommand {
    /// Add runs to the regression corpus: each DIR is a run directory (with
    /// results.json) or a campaign directory (with campaign.json: all its
    /// invalid and unknown seeds). Exit 0 all added (or already there), 1 some
    /// not added (the re-run disagreed, or another run's entry has the file
    /// name), 2 bad input.
    Add(AddArgs),
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// Run directories (with results.json) or campaign directories (with campaign.json).
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// The corpus directory.
    #[arg(long, default_value = "regressions")]
    corpus: PathBuf,
    /// Save without re-running the entry first.
    #[arg(long)]
    no_verify: bool,
    /// Replace an entry of the same scenario, seed and mutants that describes
    /// another run (another duration or knob, or another expected verdict).
    #[arg(long)]
    force: bool,
}

/// The entry that repeats a recorded run and expects its verdict.
pub fn entry_for(r: &Results, source: &Path) -> Regression {
    let c = &r.config;
    let verdict = format!("{:?}", r.verdict).to_lowercase();
    let flagged: Vec<&String> = r
        .checkers
        .iter()
        .filter(|(_, v)| v.verdict == Verdict::Invalid)
        .map(|(k, _)| k)
        .collect();
    let detail: Vec<String> = r
        .checkers
        .iter()
        .filter(|(_, v)| v.verdict != Verdict::Valid)
        .map(|(k, v)| format!("{k}: {}", v.detail))
        .collect();
    let mut note = format!(
        "added from {} (snapstorm {} at {})",
        source.display(),
        r.version,
        r.revision
    );
    if !detail.is_empty() {
        note.push_str(": ");
        note.push_str(&detail.join("; ").chars().take(300).collect::<String>());
    }
    Regression {
        scenario: c.scenario.clone(),
        seed: c.seed,
        duration: c.duration_secs,
        nodes: c.nodes,
        bugs: c.bugs.clone(),
        snapshot_threshold: c.snapshot_threshold,
        trailing_logs: c.trailing_logs,
        workload: c.workload.clone(),
        expect: verdict,
        checker: intended_checker(&c.bugs, &flagged)
            .or_else(|| flagged.first().map(|s| s.to_string())),
        note,
    }
}

/// The checker a mutant of the run is meant to trip, when it is among those
/// that flagged the run (the registry's, not whichever sorts first).
fn intended_checker(bugs: &[String], flagged: &[&String]) -> Option<String> {
    bugs.iter()
        .filter_map(|b| raftkv::bugs::Bug::parse(b))
        .map(|b| b.info().checker)
        .find(|c| flagged.iter().any(|f| f.as_str() == *c))
        .map(str::to_string)
}

/// Runs the entry once: `Ok` when it gets the expected verdict and checker.
pub fn verify(e: &Regression) -> Result<(), String> {
    let cfg = e.config()?;
    let expected = e.expected()?;
    let r = crate::run::run(&cfg)?.results;
    if r.verdict != expected {
        return Err(format!(
            "re-run gave {:?}, recorded {expected:?}",
            r.verdict
        ));
    }
    if let Some(c) = &e.checker {
        if r.checkers.get(c).map(|x| x.verdict) != Some(Verdict::Invalid) {
            return Err(format!("re-run: checker {c} no longer flags it"));
        }
    }
    Ok(())
}

/// Whether two entries describe the same run with the same expectation.
fn same_run(a: &Regression, b: &Regression) -> bool {
    (
        &a.scenario,
        a.seed,
        a.nodes,
        &a.bugs,
        a.snapshot_threshold,
        a.trailing_logs,
        &a.workload,
        &a.expect,
    ) == (
        &b.scenario,
        b.seed,
        b.nodes,
        &b.bugs,
        b.snapshot_threshold,
        b.trailing_logs,
        &b.workload,
        &b.expect,
    ) && a.duration == b.duration
}

/// Adds one entry: a line for the summary, and whether it is in the corpus
/// now (`Ok(false)`: not added, and why is in the line).
fn add_one(e: &Regression, run: &Path, args: &AddArgs) -> (String, Result<bool, String>) {
    let path = args.corpus.join(e.file_name());
    if path.exists() {
        let old = std::fs::read_to_string(&path)
            .ok()
            .and_then(|t| toml::from_str::<Regression>(&t).ok());
        match old {
            Some(old) if same_run(&old, e) => {
                return (
                    format!("  already in the corpus: {}\n", path.display()),
                    Ok(true),
                );
            }
            _ if !args.force => {
                return (
                    format!(
                        "  NOT added {}: {} holds another run of this scenario, seed and mutants (--force replaces it)\n",
                        run.display(),
                        path.display()
                    ),
                    Ok(false),
                );
            }
            _ => {}
        }
    }
    if !args.no_verify {
        if let Err(why) = verify(e) {
            return (
                format!(
                    "  NOT added {} (expect {}): {why}\n",
                    run.display(),
                    e.expect
                ),
                Ok(false),
            );
        }
    }
    let replaced = path.exists();
    match regressions::save(&args.corpus, e) {
        Ok(path) => (
            format!(
                "  {} {} (expect {}{}{})\n",
                if replaced { "replaced" } else { "added" },
                path.display(),
                e.expect,
                e.checker
                    .as_ref()
                    .map_or_else(String::new, |c| format!(", flagged by {c}")),
                if args.no_verify {
                    ""
                } else {
                    "; re-run agrees"
                }
            ),
            Ok(true),
        ),
        Err(err) => (String::new(), Err(err)),
    }
}

/// The run directories DIR stands for: itself, or a campaign's failing seeds
/// that a checker judged (crashed and hung seeds have no verdict to expect:
/// they are listed as skipped).
fn run_dirs(dir: &Path) -> Result<(Vec<PathBuf>, Vec<String>), String> {
    if let Some(e) = crate::merge::unfinished_campaign(dir) {
        return Err(e);
    }
    if !reports::is_campaign_dir(dir) {
        return Ok((vec![dir.to_path_buf()], Vec::new()));
    }
    let c = crate::merge::load(dir)?;
    let mut runs = Vec::new();
    let mut skipped = Vec::new();
    for f in &c.failures {
        let run = dir.join(format!("seed-{}", f.seed));
        let judged = matches!(f.outcome.as_str(), "invalid" | "unknown");
        if judged && run.join("results.json").is_file() {
            runs.push(run);
        } else if judged {
            skipped.push(format!(
                "seed {} ({}): {} is missing, so there is no recorded run to add; repro: {}",
                f.seed,
                f.outcome,
                run.join("results.json").display(),
                f.repro
            ));
        } else {
            skipped.push(format!(
                "seed {} ({}): no verdict to keep; repro: {}",
                f.seed, f.outcome, f.repro
            ));
        }
    }
    Ok((runs, skipped))
}

pub fn main(cmd: RegressCommand) -> i32 {
    let RegressCommand::Add(args) = cmd;
    let (code, text) = add(&args);
    if code == 2 {
        eprint!("{text}"); // bad input: the error, on stderr
    } else {
        crate::cli::print_out(&text);
    }
    code
}

/// What `fuzz --save-regressions DIR` does once its campaign is written: the
/// same as `regress add CAMPAIGN --corpus DIR` (each entry re-run first, an
/// entry describing another run kept unless `--force`). The exit code and the
/// summary.
pub fn add_campaign(campaign: &Path, corpus: &Path) -> (i32, String) {
    add(&AddArgs {
        dirs: vec![campaign.to_path_buf()],
        corpus: corpus.to_path_buf(),
        no_verify: false,
        force: false,
    })
}

/// `regress add`: the exit code and the summary.
fn add(args: &AddArgs) -> (i32, String) {
    let mut runs = Vec::new();
    let mut text = String::new();
    for d in &args.dirs {
        match run_dirs(d) {
            Ok((r, skipped)) => {
                runs.extend(r);
                for s in skipped {
                    text.push_str(&format!("  skipped {s}\n"));
                }
            }
            Err(e) => return (2, format!("snapstorm regress add: {e}\n")),
        }
    }
    let mut entries = Vec::new();
    for run in &runs {
        match crate::replay::load_config(run) {
            Ok((r, _)) => entries.push((run, entry_for(&r, run))),
            Err(e) => return (2, format!("snapstorm regress add: {e}\n")),
        }
    }
    let (mut code, mut added) = (0, 0);
    for (run, e) in &entries {
        let (line, saved) = add_one(e, run, args);
        text.push_str(&line);
        match saved {
            Ok(true) => added += 1,
            Ok(false) => code = 1,
            Err(e) => return (2, format!("snapstorm regress add: {e}\n")),
        }
    }
    let summary = format!(
        "regression corpus {}: {added} of {} runs in it\n{text}",
        args.corpus.display(),
        runs.len()
    );
    (code, summary)
}

#[cfg(test)]
mod tests {
    use super::intended_checker;

    #[test]
    fn a_mutant_entry_names_the_mutants_own_checker_when_it_flagged() {
        let (restore, snapshot) = (
            "restore-fidelity".to_string(),
            "snapshot-fidelity".to_string(),
        );
        let flagged = [&restore, &snapshot];
        let bugs = ["session-drops-outcome".to_string()];
        assert_eq!(
            intended_checker(&bugs, &flagged).as_deref(),
            Some("snapshot-fidelity")
        );
        // Its own checker did not flag it: none is preferred.
        assert_eq!(intended_checker(&bugs, &[&restore]), None);
        assert_eq!(intended_checker(&[], &flagged), None);
    }
}
