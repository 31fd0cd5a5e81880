//! `snapstorm campaign merge DIR...`: the outputs of the shards of one campaign
//! (each a `snapstorm fuzz --shard K/N --out DIR` directory, maybe run on
//! another machine and downloaded) become one campaign: `campaign.json`,
//! `junit.xml` and `campaign.html`, with every failure's artifacts copied into
//! `seed-N/` beside them so the page's links work and `snapstorm replay` runs
//! on them. Shards must come from the same campaign and must not overlap; the
//! merged campaign says which seeds of the range were run.
use crate::fuzz::{self, Campaign};
use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

mod text;
pub use text::{markdown, summary};

#[derive(Subcommand, Debug)]
pub enum CampaignCommand {
    /// Merge sharded `fuzz` outputs into one campaign.json, junit.xml and
    /// campaign.html. Exit 0 all passed, 1 some seed failed, 3 no failure but
    /// seeds of the range missing, 2 bad input.
    Merge(MergeArgs),
}

#[derive(Args, Debug)]
pub struct MergeArgs {
    /// The shards' output directories (each with campaign.json).
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// The merged campaign's directory (default store/fuzz-<scenario>-<A>-<B>-merged/).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also append a Markdown summary to FILE (e.g. "$GITHUB_STEP_SUMMARY").
    #[arg(long, value_name = "FILE")]
    markdown: Option<PathBuf>,
}

/// A shard as the merged campaign lists it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ShardSummary {
    pub dir: String,
    pub shard: Option<String>,
    pub seeds: u64,
    pub passed: u64,
    pub failed: u64,
    pub wall_seconds: f64,
    pub seeds_per_second: f64,
    /// A signal stopped the shard: `seeds` are the ones it finished.
    #[serde(default)]
    pub interrupted: bool,
}

/// Which seeds of the campaign's range the shards ran.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Coverage {
    pub range: (u64, u64),
    pub run: u64,
    /// Seeds of the range no shard ran, as inclusive ranges.
    pub missing: Vec<(u64, u64)>,
}

impl Coverage {
    pub fn complete(&self) -> bool {
        self.missing.is_empty()
    }
}

/// `campaign.json` of a merged campaign: the campaign (as one machine's would
/// be, so every reader of campaign.json reads it) plus its shards and coverage.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Merged {
    #[serde(flatten)]
    pub campaign: Campaign,
    pub shards: Vec<ShardSummary>,
    pub coverage: Coverage,
}

/// Reads `dir/campaign.json`; errors name the file, and the line when garbled.
pub fn load(dir: &Path) -> Result<Campaign, String> {
    let path = dir.join("campaign.json");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        unfinished_campaign(dir).unwrap_or_else(|| format!("{}: cannot read: {e}", path.display()))
    })?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}: line {}: not a snapstorm campaign file: {e}",
            path.display(),
            e.line()
        )
    })
}

/// The error for a directory that holds a fuzz campaign's `seed-N/`
/// directories but neither `campaign.json` nor `results.json`: a `fuzz`
/// killed before it could write its campaign (a signal it can catch makes it
/// write an interrupted one; SIGKILL does not).
pub fn unfinished_campaign(dir: &Path) -> Option<String> {
    if dir.join("campaign.json").exists() || dir.join("results.json").exists() {
        return None;
    }
    let seeds = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with("seed-") && e.path().is_dir())
        .count();
    (seeds > 0).then(|| {
        format!(
            "{}: missing: {} holds {seeds} seed-N/ directories but no campaign.json, so its \
             `snapstorm fuzz` was killed before it finished (SIGKILL, or the machine stopped); \
             its seed directories may be half-written: run the campaign again",
            dir.join("campaign.json").display(),
            dir.display()
        )
    })
}

/// Merges shard campaigns (with the directories they came from), checking
/// they belong together and do not overlap. Failures keep their recorded
/// `dir`; [`merge_dirs`] points them at the copied artifacts.
pub fn merge(shards: &[(PathBuf, Campaign)]) -> Result<Merged, String> {
    let Some((first_dir, first)) = shards.first() else {
        return Err("no shard directories given".to_string());
    };
    let file = |d: &Path| d.join("campaign.json").display().to_string();
    for (dir, c) in &shards[1..] {
        let differ = |what: &str, a: String, b: String| {
            Err(format!(
                "{} and {} are not shards of one campaign: {what} {a} vs {b}",
                file(first_dir),
                file(dir)
            ))
        };
        if c.scenario != first.scenario {
            return differ("scenario", first.scenario.clone(), c.scenario.clone());
        }
        if c.bugs != first.bugs {
            return differ(
                "mutants",
                format!("{:?}", first.bugs),
                format!("{:?}", c.bugs),
            );
        }
        if c.duration_secs != first.duration_secs {
            return differ(
                "duration",
                format!("{:?}", first.duration_secs),
                format!("{:?}", c.duration_secs),
            );
        }
        if c.knobs != first.knobs {
            return differ(
                "knobs",
                first.knobs.flags().join(" "),
                c.knobs.flags().join(" "),
            );
        }
        if c.seed_range != first.seed_range {
            return differ(
                "seed range",
                format!("{:?}", first.seed_range),
                format!("{:?}", c.seed_range),
            );
        }
    }
    // No seed may be in two shards: the union would count it twice and two
    // copies of its artifacts would compete for seed-N/.
    let mut owner: BTreeMap<u64, &Path> = BTreeMap::new();
    for (dir, c) in shards {
        for &s in &c.seeds {
            if let Some(other) = owner.insert(s, dir) {
                return Err(format!(
                    "{} and {} overlap: both ran seed {s} (shards must split one range with --shard K/N)",
                    file(other),
                    file(dir)
                ));
            }
        }
    }
    let seeds: Vec<u64> = owner.keys().copied().collect();
    let range = first.seed_range.unwrap_or((
        seeds.first().copied().unwrap_or(0),
        seeds.last().copied().unwrap_or(0),
    ));
    let coverage = Coverage {
        range,
        run: seeds.len() as u64,
        missing: missing_ranges(range, &seeds),
    };
    let mut failures: Vec<fuzz::SeedResult> = shards
        .iter()
        .flat_map(|(_, c)| c.failures.iter().cloned())
        .collect();
    failures.sort_by_key(|f| f.seed);
    let mut checker_counts: BTreeMap<String, u64> = BTreeMap::new();
    for (_, c) in shards {
        for (k, n) in &c.checker_counts {
            *checker_counts.entry(k.clone()).or_insert(0) += n;
        }
    }
    let mut probes = crate::probes::Coverage::default();
    for (_, c) in shards {
        probes.add(&c.probes, c.probe_runs);
    }
    let summaries = shards
        .iter()
        .map(|(dir, c)| ShardSummary {
            dir: dir.display().to_string(),
            shard: c.shard.clone(),
            seeds: c.seeds.len() as u64,
            passed: c.passed,
            failed: c.failures.len() as u64,
            wall_seconds: c.wall_seconds,
            seeds_per_second: c.seeds_per_second,
            interrupted: c.interrupted,
        })
        .collect();
    let campaign = Campaign {
        scenario: first.scenario.clone(),
        bugs: first.bugs.clone(),
        seeds,
        shard: None,
        failures,
        passed: shards.iter().map(|(_, c)| c.passed).sum(),
        determinism_checked: shards.iter().map(|(_, c)| c.determinism_checked).sum(),
        checker_counts,
        // Shards run side by side: the campaign took as long as its slowest
        // shard, and its throughput is theirs added up.
        wall_seconds: shards
            .iter()
            .map(|(_, c)| c.wall_seconds)
            .fold(0.0, f64::max),
        seeds_per_second: shards.iter().map(|(_, c)| c.seeds_per_second).sum(),
        seed_range: first.seed_range,
        duration_secs: first.duration_secs,
        knobs: first.knobs.clone(),
        // The shards say which of them was interrupted; their unfinished
        // seeds are the coverage's missing ones.
        interrupted: false,
        unhit_probes: crate::probes::unhit(&probes.counts),
        probes_declared: raftkv::probe::Probe::ALL.len() as u64,
        probe_runs: probes.runs,
        probes: probes.counts,
        vacuous: {
            let mut v: Vec<u64> = shards
                .iter()
                .flat_map(|(_, c)| c.vacuous.iter().copied())
                .collect();
            v.sort_unstable();
            v
        },
    };
    Ok(Merged {
        campaign,
        shards: summaries,
        coverage,
    })
}

/// The seeds of `range` not in `seeds` (sorted), as inclusive ranges; walks
/// the seeds, not the range, so a huge range costs nothing.
fn missing_ranges((a, b): (u64, u64), seeds: &[u64]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    // The first seed not yet accounted for; None once past u64::MAX.
    let mut next = Some(a);
    for &s in seeds.iter().filter(|&&s| (a..=b).contains(&s)) {
        let Some(n) = next else { break };
        if s > n {
            out.push((n, s - 1));
        }
        next = s.checked_add(1);
    }
    if let Some(n) = next.filter(|&n| n <= b) {
        out.push((n, b));
    }
    out
}

/// Reads every shard, merges them into `out` and copies each failure's
/// artifacts to `out/seed-N/`. Returns the merged campaign and a note per
/// failure whose artifacts were not found.
pub fn merge_dirs(dirs: &[PathBuf], out: &Path) -> Result<(Merged, Vec<String>), String> {
    let out_abs = std::path::absolute(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut shards = Vec::new();
    for d in dirs {
        if std::path::absolute(d).ok().as_deref() == Some(&out_abs) {
            return Err(format!(
                "{}: the output directory must not be one of the shards",
                out.display()
            ));
        }
        shards.push((d.clone(), load(d)?));
    }
    let mut merged = merge(&shards)?;
    std::fs::create_dir_all(out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut notes = Vec::new();
    for f in &mut merged.campaign.failures {
        let (shard_dir, _) = shards
            .iter()
            .find(|(_, c)| c.seeds.contains(&f.seed))
            .expect("every failure's seed is in its shard");
        let name = format!("seed-{}", f.seed);
        // The recorded dir is where the shard's machine wrote it; after a
        // download the artifacts sit in seed-N/ of the shard's directory.
        let candidates = [shard_dir.join(&name)]
            .into_iter()
            .chain(f.dir.as_ref().map(PathBuf::from));
        let dest = out.join(&name);
        match candidates.into_iter().find(|p| p.is_dir()) {
            Some(src) => {
                let _ = std::fs::remove_dir_all(&dest);
                copy_dir(&src, &dest)?;
                f.dir = Some(dest.display().to_string());
            }
            None => {
                notes.push(format!(
                    "seed {}: no artifacts in {} (it {})",
                    f.seed,
                    shard_dir.join(&name).display(),
                    f.outcome
                ));
                f.dir = None;
            }
        }
    }
    let write = |name: &str, text: String| {
        let p = out.join(name);
        std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))
    };
    write(
        "campaign.json",
        serde_json::to_string_pretty(&merged).expect("campaign serialises") + "\n",
    )?;
    write("junit.xml", fuzz::junit(&merged.campaign))?;
    reports::write_campaign_report(out).map_err(|e| e.to_string())?;
    Ok((merged, notes))
}

/// Copies a directory tree (a failure's run directory: a few files, and its
/// replay/ directory).
fn copy_dir(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from).map_err(|e| format!("{}: {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", from.display()))?;
        let (src, dest) = (entry.path(), to.join(entry.file_name()));
        if src.is_dir() {
            copy_dir(&src, &dest)?;
        } else {
            std::fs::copy(&src, &dest).map_err(|e| format!("{}: {e}", src.display()))?;
        }
    }
    Ok(())
}

/// The exit code: 1 if any seed failed, else 3 if seeds of the range were not
/// run (the campaign cannot be called passed), else 0.
pub fn exit_code(m: &Merged) -> i32 {
    if m.campaign.failed() {
        1
    } else if !m.coverage.complete() {
        3
    } else {
        0
    }
}

/// Runs `snapstorm campaign ...`; returns the exit code.
pub fn main(cmd: CampaignCommand) -> i32 {
    let CampaignCommand::Merge(args) = cmd;
    let out = match &args.out {
        Some(o) => o.clone(),
        None => match load(&args.dirs[0]) {
            Ok(c) => {
                let (a, b) = c.seed_range.unwrap_or((0, 0));
                PathBuf::from(format!("store/fuzz-{}-{a}-{b}-merged", c.scenario))
            }
            Err(e) => {
                eprintln!("snapstorm campaign merge: {e}");
                return 2;
            }
        },
    };
    let (merged, notes) = match merge_dirs(&args.dirs, &out) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("snapstorm campaign merge: {e}");
            return 2;
        }
    };
    crate::cli::print_out(&summary(&merged, &out, &notes));
    if let Some(md) = &args.markdown {
        use std::io::Write;
        let appended = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(md)
            .and_then(|mut f| f.write_all(markdown(&merged, &out).as_bytes()));
        if let Err(e) = appended {
            eprintln!("snapstorm campaign merge: {}: {e}", md.display());
            return 2;
        }
    }
    exit_code(&merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(k: u64, n: u64, range: (u64, u64), failing: &[u64]) -> (PathBuf, Campaign) {
        let seeds = fuzz::shard_seeds(range.0, range.1, Some((k, n)));
        let failures: Vec<fuzz::SeedResult> = failing
            .iter()
            .map(|&seed| fuzz::SeedResult {
                seed,
                outcome: "invalid".into(),
                failing_checkers: vec!["restore-fidelity".into()],
                dir: Some(format!("/runner/shard-{k}/seed-{seed}")),
                repro: format!("snapstorm chaos --scenario all-crash --seed {seed}"),
                wall_seconds: 0.1,
                detail: String::new(),
            })
            .collect();
        let c = Campaign {
            scenario: "all-crash".into(),
            bugs: vec![],
            passed: (seeds.len() - failures.len()) as u64,
            seeds,
            shard: Some(format!("{k}/{n}")),
            determinism_checked: failures.len() as u64,
            checker_counts: [("restore-fidelity".to_string(), failures.len() as u64)].into(),
            failures,
            wall_seconds: 10.0 + k as f64,
            seeds_per_second: 1.5,
            seed_range: Some(range),
            duration_secs: Some(5.0),
            probes: [("kv.put".to_string(), 10 + k)].into(),
            probe_runs: 2,
            unhit_probes: Vec::new(),
            probes_declared: 0,
            vacuous: vec![k],
            knobs: Default::default(),
            interrupted: false,
        };
        (PathBuf::from(format!("shard-{k}")), c)
    }

    #[test]
    fn shards_merge_into_one_campaign_with_full_coverage() {
        let m = merge(&[shard(1, 2, (1, 10), &[3, 7]), shard(0, 2, (1, 10), &[4])]).unwrap();
        assert_eq!(m.campaign.seeds, (1..=10).collect::<Vec<_>>());
        assert_eq!(
            m.campaign
                .failures
                .iter()
                .map(|f| f.seed)
                .collect::<Vec<_>>(),
            vec![3, 4, 7]
        );
        assert_eq!(m.campaign.passed, 7);
        assert_eq!(m.campaign.checker_counts["restore-fidelity"], 3);
        assert_eq!(m.campaign.probes["kv.put"], 10 + 11, "probe counts add up");
        assert_eq!(m.campaign.probe_runs, 4);
        assert_eq!(
            m.campaign.vacuous,
            vec![0, 1],
            "vacuous seeds of every shard"
        );
        let unhit: Vec<&str> = m
            .campaign
            .unhit_probes
            .iter()
            .map(|u| u.name.as_str())
            .collect();
        assert!(!unhit.contains(&"kv.put") && unhit.contains(&"snapshot.installed"));
        assert_eq!(m.campaign.wall_seconds, 11.0, "the slowest shard");
        assert_eq!(m.campaign.seeds_per_second, 3.0, "throughputs add up");
        assert!(m.coverage.complete() && m.coverage.run == 10);
        assert_eq!(exit_code(&m), 1);
        let md = markdown(&m, Path::new("merged"));
        assert!(md.contains("| 7 | invalid | restore-fidelity | `snapstorm chaos --scenario all-crash --seed 7` |"), "{md}");
    }

    #[test]
    fn a_missing_shard_is_incomplete_coverage_never_a_pass() {
        let m = merge(&[shard(0, 3, (1, 10), &[]), shard(2, 3, (1, 10), &[])]).unwrap();
        assert_eq!(m.coverage.missing, vec![(1, 1), (4, 4), (7, 7), (10, 10)]);
        assert_eq!(exit_code(&m), 3);
        assert!(summary(&m, Path::new("o"), &[])
            .contains("coverage INCOMPLETE: 6 of 1..10 ran; not run: 1, 4, 7, 10"));
    }

    #[test]
    fn an_interrupted_shard_keeps_its_seeds_done_and_misses_the_rest() {
        let mut cut = shard(1, 2, (1, 10), &[3]);
        cut.1.seeds = vec![1, 3];
        cut.1.passed = 1;
        cut.1.interrupted = true;
        let m = merge(&[shard(0, 2, (1, 10), &[4, 8]), cut]).unwrap();
        let failed: Vec<u64> = m.campaign.failures.iter().map(|f| f.seed).collect();
        assert_eq!(failed, vec![3, 4, 8], "every shard's failures are kept");
        assert_eq!(m.coverage.missing, vec![(5, 5), (7, 7), (9, 9)]);
        assert!(m.shards[1].interrupted && !m.shards[0].interrupted);
        assert_eq!(exit_code(&m), 1, "failures outrank missing seeds");
        let text = summary(&m, Path::new("o"), &[]);
        assert!(
            text.contains("shard 1/2 (shard-1) was interrupted after 2 seeds: its other seeds count as not run"),
            "{text}"
        );
        assert!(markdown(&m, Path::new("o"))
            .contains("Interrupted: shard 1/2 (shard-1) after 2 seeds."));
        // Without failures, the missing seeds make the campaign incomplete.
        let mut clean = shard(1, 2, (1, 10), &[]);
        (clean.1.seeds, clean.1.interrupted) = (vec![1], true);
        let m = merge(&[shard(0, 2, (1, 10), &[]), clean]).unwrap();
        assert_eq!(exit_code(&m), 3);
    }

    #[test]
    fn overlapping_or_mismatched_shards_are_refused() {
        let e = merge(&[shard(0, 2, (1, 10), &[]), shard(0, 2, (1, 10), &[])]).unwrap_err();
        assert!(e.contains("overlap") && e.contains("seed 2"), "{e}");
        let mut other = shard(1, 2, (1, 10), &[]);
        other.1.bugs = vec!["restore-merges".into()];
        let e = merge(&[shard(0, 2, (1, 10), &[]), other]).unwrap_err();
        assert!(e.contains("not shards of one campaign: mutants"), "{e}");
        let e = merge(&[shard(0, 2, (1, 10), &[]), shard(1, 2, (1, 12), &[])]).unwrap_err();
        assert!(e.contains("seed range"), "{e}");
        let mut other = shard(1, 2, (1, 10), &[]);
        other.1.knobs.nodes = Some(5);
        let e = merge(&[shard(0, 2, (1, 10), &[]), other]).unwrap_err();
        assert!(e.contains("knobs  vs --nodes 5"), "{e}");
    }

    #[test]
    fn missing_ranges_walk_the_seeds() {
        assert_eq!(missing_ranges((1, 5), &[1, 2, 3, 4, 5]), vec![]);
        assert_eq!(missing_ranges((1, 5), &[]), vec![(1, 5)]);
        assert_eq!(missing_ranges((1, 5), &[2, 5]), vec![(1, 1), (3, 4)]);
        assert_eq!(missing_ranges((0, u64::MAX), &[0]), vec![(1, u64::MAX)]);
    }
}
