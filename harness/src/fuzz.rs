//! `snapstorm fuzz`: many seeds of one scenario, each in its own child process (so
//! a panic or a hang is a recorded failure, not the end of the campaign), with a
//! determinism self-check, `campaign.json`, a JUnit file for CI and
//! `campaign.html`. A Ctrl-C or SIGTERM stops it cleanly: the seeds in flight
//! are killed and their directories removed, and the files above are written
//! for the seeds done, marked `interrupted`.
use crate::replay;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct FuzzConfig {
    pub scenario: String,
    /// Inclusive seed range.
    pub first: u64,
    pub last: u64,
    /// Run only seeds with `seed % count == index` (`--shard index/count`).
    pub shard: Option<(u64, u64)>,
    pub jobs: usize,
    pub bugs: Vec<String>,
    /// `--nodes`, `--snapshot-threshold`, `--trailing-logs`, `--workload`
    /// for every seed (None: the scenario's choice).
    pub knobs: crate::knobs::Knobs,
    pub duration_secs: f64,
    pub out: PathBuf,
    /// A seed running longer than this (wall time) is killed and recorded as hung.
    pub seed_timeout: Duration,
    pub keep_passing: bool,
    /// The snapstorm executable that runs each seed.
    pub exe: PathBuf,
    /// Save every invalid seed as a regression-corpus entry in this directory.
    pub save_regressions: Option<PathBuf>,
}

/// `A..B`, both ends included.
pub fn parse_seed_range(s: &str) -> Result<(u64, u64), String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("'{s}' is not a seed range like 1..100"))?;
    let a: u64 = a
        .trim()
        .parse()
        .map_err(|_| format!("'{a}' is not a seed"))?;
    let b: u64 = b
        .trim()
        .parse()
        .map_err(|_| format!("'{b}' is not a seed"))?;
    if a > b {
        return Err(format!("empty seed range {a}..{b}"));
    }
    Ok((a, b))
}

/// `K/N`: this machine's shard K of N (0 <= K < N).
pub fn parse_shard(s: &str) -> Result<(u64, u64), String> {
    let (k, n) = s
        .split_once('/')
        .ok_or_else(|| format!("'{s}' is not a shard like 0/4"))?;
    let k: u64 = k
        .trim()
        .parse()
        .map_err(|_| format!("'{k}' is not a shard index"))?;
    let n: u64 = n
        .trim()
        .parse()
        .map_err(|_| format!("'{n}' is not a shard count"))?;
    if n == 0 || k >= n {
        return Err(format!("shard {k}/{n}: need 0 <= K < N"));
    }
    Ok((k, n))
}

/// The seeds this shard runs: every seed s in the range with s mod N == K, so N
/// machines split one range with no overlap and no gap.
pub fn shard_seeds(first: u64, last: u64, shard: Option<(u64, u64)>) -> Vec<u64> {
    (first..=last)
        .filter(|s| shard.is_none_or(|(k, n)| s % n == k))
        .collect()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SeedResult {
    pub seed: u64,
    /// valid, invalid, unknown, crashed (the run panicked or died), hung, or
    /// nondeterministic (a replay differed).
    pub outcome: String,
    pub failing_checkers: Vec<String>,
    pub dir: Option<String>,
    pub repro: String,
    pub wall_seconds: f64,
    pub detail: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Campaign {
    pub scenario: String,
    pub bugs: Vec<String>,
    /// The seeds run (of an interrupted campaign: the seeds done).
    pub seeds: Vec<u64>,
    pub shard: Option<String>,
    pub failures: Vec<SeedResult>,
    pub passed: u64,
    /// Seeds whose replay was compared byte for byte (all failures, and every
    /// tenth pass).
    pub determinism_checked: u64,
    /// How many failing seeds each checker flagged.
    pub checker_counts: BTreeMap<String, u64>,
    pub wall_seconds: f64,
    pub seeds_per_second: f64,
    /// The whole campaign's seed range (all shards'), both ends included.
    #[serde(default)]
    pub seed_range: Option<(u64, u64)>,
    /// Simulated seconds of each run's main phase.
    #[serde(default)]
    pub duration_secs: Option<f64>,
    /// The system's code probes, summed over the runs that recorded them.
    #[serde(default)]
    pub probes: BTreeMap<String, u64>,
    /// How many runs the probe counts cover.
    #[serde(default)]
    pub probe_runs: u64,
    /// The system's probes these runs never hit (the catalogue is the
    /// system's, so pages that read this file need not know it).
    #[serde(default)]
    pub unhit_probes: Vec<crate::probes::UnhitProbe>,
    /// How many probes the system declares.
    #[serde(default)]
    pub probes_declared: u64,
    /// Seeds whose run did not reach the scenario's target (evidence unmet):
    /// counted among the passes, but they exercised less than claimed.
    #[serde(default)]
    pub vacuous: Vec<u64>,
    /// The knobs every seed ran with (absent: the scenario's choices).
    #[serde(default)]
    pub knobs: crate::knobs::Knobs,
    /// A signal (Ctrl-C, SIGTERM) stopped the campaign before every seed of
    /// its shard ran: `seeds` lists the seeds done, and `campaign merge`
    /// counts the others as not run.
    #[serde(default)]
    pub interrupted: bool,
}

impl Campaign {
    pub fn failed(&self) -> bool {
        !self.failures.is_empty()
    }

    /// The summary line listing the vacuous seeds (empty when there are none).
    pub fn vacuous_line(&self) -> String {
        match self.vacuous.len() {
            0 => String::new(),
            n => format!(
                "  vacuous (evidence unmet): {n} {}: {}\n",
                if n == 1 { "seed" } else { "seeds" },
                reports::campaign::seed_list(&self.vacuous, 8)
            ),
        }
    }
}

pub fn run_campaign(cfg: &FuzzConfig) -> Result<Outcome, String> {
    std::fs::create_dir_all(&cfg.out).map_err(|e| format!("{}: {e}", cfg.out.display()))?;
    // An earlier campaign's record must not describe this one's seed
    // directories if this one is killed before it writes its own.
    for stale in ["campaign.json", "junit.xml", reports::CAMPAIGN_FILE] {
        let _ = std::fs::remove_file(cfg.out.join(stale));
    }
    let seeds = shard_seeds(cfg.first, cfg.last, cfg.shard);
    let queue = Mutex::new(seeds.iter().copied().collect::<VecDeque<u64>>());
    let results = Mutex::new(Vec::new());
    let checked = Mutex::new(0u64);
    let probes = Mutex::new(crate::probes::Coverage::default());
    let vacuous = Mutex::new(Vec::new());
    let discarded = Mutex::new(0u64);
    let progress = crate::progress::CampaignProgress::new(seeds.len() as u64);
    let start = Instant::now(); // determinism-ok: campaign wall time, outside any simulation
    std::thread::scope(|scope| {
        for _ in 0..cfg.jobs.max(1) {
            scope.spawn(|| loop {
                if crate::interrupt::requested() {
                    break;
                }
                let Some(seed) = queue.lock().unwrap_or_else(|e| e.into_inner()).pop_front() else {
                    break;
                };
                let Some((result, replayed, recorded)) = run_seed(cfg, seed) else {
                    *discarded.lock().unwrap_or_else(|e| e.into_inner()) += 1;
                    break;
                };
                let counts = recorded.map(|(counts, was_vacuous)| {
                    if was_vacuous {
                        vacuous.lock().unwrap_or_else(|e| e.into_inner()).push(seed);
                    }
                    counts
                });
                *checked.lock().unwrap_or_else(|e| e.into_inner()) += u64::from(replayed);
                if let Some(counts) = counts {
                    probes
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .add(&counts, 1);
                }
                progress.seed_done(result.outcome != "valid");
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push(result);
            });
        }
    });
    progress.finish();
    let mut results = results.into_inner().unwrap_or_else(|e| e.into_inner());
    results.sort_by_key(|r| r.seed);
    let wall = start.elapsed().as_secs_f64();
    // Cut short by a signal: the campaign is the seeds done (a signal after
    // the last seed finished changes nothing).
    let interrupted = results.len() < seeds.len();
    let planned = seeds.len() as u64;
    let seeds: Vec<u64> = results.iter().map(|r| r.seed).collect();
    let mut checker_counts = BTreeMap::new();
    for r in &results {
        for c in &r.failing_checkers {
            *checker_counts.entry(c.clone()).or_insert(0) += 1;
        }
    }
    let (failures, passes): (Vec<SeedResult>, Vec<SeedResult>) =
        results.into_iter().partition(|r| r.outcome != "valid");
    let probes = probes.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut vacuous = vacuous.into_inner().unwrap_or_else(|e| e.into_inner());
    vacuous.sort_unstable();
    let campaign = Campaign {
        scenario: cfg.scenario.clone(),
        bugs: cfg.bugs.clone(),
        seeds_per_second: seeds.len() as f64 / wall.max(1e-9),
        seeds,
        shard: cfg.shard.map(|(k, n)| format!("{k}/{n}")),
        failures,
        passed: passes.len() as u64,
        determinism_checked: checked.into_inner().unwrap_or_else(|e| e.into_inner()),
        checker_counts,
        wall_seconds: wall,
        seed_range: Some((cfg.first, cfg.last)),
        duration_secs: Some(cfg.duration_secs),
        unhit_probes: crate::probes::unhit(&probes.counts),
        probes_declared: raftkv::probe::Probe::ALL.len() as u64,
        probe_runs: probes.runs,
        probes: probes.counts,
        vacuous,
        knobs: cfg.knobs.clone(),
        interrupted,
    };
    let json = serde_json::to_string_pretty(&campaign).expect("campaign serialises");
    let write = |name: &str, text: String| {
        let p = cfg.out.join(name);
        std::fs::write(&p, text).map_err(|e| format!("{}: {e}", p.display()))
    };
    write("campaign.json", json + "\n")?;
    write("junit.xml", junit(&campaign))?;
    reports::write_campaign_report(&cfg.out).map_err(|e| e.to_string())?;
    if let Some(dir) = cfg.save_regressions.as_ref().filter(|_| !interrupted) {
        // `regress add`'s rules: each entry re-run first, the mutant's own
        // checker preferred, an entry of another run never overwritten.
        match crate::promote::add_campaign(&cfg.out, dir) {
            (2, error) => return Err(error.trim_end().to_string()),
            (_, summary) => crate::cli::print_out(&summary),
        }
    }
    Ok(Outcome {
        campaign,
        planned,
        discarded: discarded.into_inner().unwrap_or_else(|e| e.into_inner()),
    })
}

/// A finished or interrupted campaign, with what an interruption left out.
pub struct Outcome {
    pub campaign: Campaign,
    /// The seeds the shard was to run.
    pub planned: u64,
    /// The seeds in flight when a signal came: killed, their directories removed.
    pub discarded: u64,
}

/// A signal stopped the campaign while a child ran; the child was killed.
struct Interrupted;

/// What a seed's results.json says beyond its verdict: the probes it hit, and
/// whether it was vacuous.
type Recorded = (BTreeMap<String, u64>, bool);

/// Runs one seed in a child process; returns its result, whether its
/// determinism was checked by a replay, and what its run recorded. None when
/// a signal stopped the campaign first: its half-written directory is removed.
fn run_seed(cfg: &FuzzConfig, seed: u64) -> Option<(SeedResult, bool, Option<Recorded>)> {
    let dir = cfg.out.join(format!("seed-{seed}"));
    let mut args: Vec<String> = vec![
        "chaos".into(),
        "--scenario".into(),
        cfg.scenario.clone(),
        "--seed".into(),
        seed.to_string(),
        "--duration".into(),
        cfg.duration_secs.to_string(),
    ];
    args.extend(cfg.knobs.flags());
    for b in &cfg.bugs {
        args.push("--bug".into());
        args.push(b.clone());
    }
    // The command without its output directory.
    let repro = format!("snapstorm {}", args.join(" "));
    args.extend(["--out".into(), dir.display().to_string()]);
    let start = Instant::now(); // determinism-ok: campaign wall time, outside any simulation
    let discard = |_: Interrupted| {
        let _ = std::fs::remove_dir_all(&dir);
    };
    let (code, stderr) = run_child(&cfg.exe, &args, &dir, cfg.seed_timeout)
        .map_err(discard)
        .ok()?;
    let wall_seconds = start.elapsed().as_secs_f64();
    let mut recorded = None;
    let mut result = SeedResult {
        seed,
        outcome: String::new(),
        failing_checkers: Vec::new(),
        dir: Some(dir.display().to_string()),
        repro,
        wall_seconds,
        detail: String::new(),
    };
    match code {
        None => {
            result.outcome = "hung".into();
            result.detail = format!(
                "killed after {:.0} s of wall time",
                cfg.seed_timeout.as_secs_f64()
            );
        }
        Some(c @ (0 | 1 | 3)) => {
            result.outcome = ["valid", "invalid", "", "unknown"][c as usize].to_string();
            if let Ok(r) = replay::load(&dir) {
                recorded = Some((r.probes.clone(), r.vacuous));
                result.failing_checkers = r
                    .checkers
                    .iter()
                    .filter(|(_, v)| v.verdict != crate::results::Verdict::Valid)
                    .map(|(k, _)| k.clone())
                    .collect();
                result.detail = r
                    .checkers
                    .iter()
                    .filter(|(_, v)| v.verdict != crate::results::Verdict::Valid)
                    .map(|(k, v)| format!("{k}: {}", v.detail))
                    .collect::<Vec<_>>()
                    .join("; ");
            }
        }
        Some(c) => {
            result.outcome = "crashed".into();
            result.detail = format!(
                "exit code {c}: {} (stderr.txt has the backtrace)",
                panic_message(&stderr)
            );
        }
    }
    // Determinism self-check: every failure, and every tenth passing seed.
    let check = matches!(result.outcome.as_str(), "invalid" | "unknown") || seed.is_multiple_of(10);
    let mut replayed = false;
    if check && matches!(result.outcome.as_str(), "valid" | "invalid" | "unknown") {
        let args = vec!["replay".to_string(), dir.display().to_string()];
        let (code, stderr) = run_child(&cfg.exe, &args, &dir.join("replay"), cfg.seed_timeout)
            .map_err(discard)
            .ok()?;
        replayed = true;
        if code == Some(4) || code.is_none() {
            result.outcome = "nondeterministic".into();
            result.detail = format!("the replay differed: {}", last_lines(&stderr, 4));
        } else if code == Some(2) {
            // The files the run just wrote do not match the digests it recorded.
            result.outcome = "nondeterministic".into();
            result.detail = format!(
                "the replay refused the recording: {}",
                last_lines(&stderr, 4)
            );
        }
    }
    if result.outcome == "valid" && !cfg.keep_passing {
        let _ = std::fs::remove_dir_all(&dir);
        result.dir = None;
    }
    Some((result, replayed, recorded))
}

/// Runs the child with a wall-clock budget; `None` when it had to be killed.
/// Its stderr (a panic message and backtrace) is kept in `dir/stderr.txt`.
/// A signal to the campaign kills it: `Err(Interrupted)`.
fn run_child(
    exe: &Path,
    args: &[String],
    dir: &Path,
    budget: Duration,
) -> Result<(Option<i32>, String), Interrupted> {
    let _ = std::fs::create_dir_all(dir);
    let err_path = dir.join("stderr.txt");
    let Ok(err_file) = std::fs::File::create(&err_path) else {
        return Ok((Some(-1), format!("cannot create {}", err_path.display())));
    };
    let child = Command::new(exe)
        .args(args)
        .env("RUST_BACKTRACE", "1")
        .stdout(Stdio::null())
        .stderr(err_file)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return Ok((Some(-1), format!("cannot start {}: {e}", exe.display()))),
    };
    let start = Instant::now(); // determinism-ok: campaign wall time, outside any simulation
    let code = loop {
        match child.try_wait() {
            // A Ctrl-C on a terminal reaches the children too.
            Ok(Some(status)) if crate::interrupt::shared_with_child(status.signal()) => {
                return Err(Interrupted)
            }
            Ok(Some(status)) => break Some(status.code().unwrap_or(-1)),
            Ok(None) if crate::interrupt::requested() => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Interrupted);
            }
            Ok(None) if start.elapsed() > budget => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => break Some(-1),
        }
    };
    let stderr = std::fs::read_to_string(&err_path).unwrap_or_default();
    Ok((code, stderr))
}

/// The panic line and its message, or the last lines of stderr.
fn panic_message(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    match lines.iter().position(|l| l.contains("panicked at")) {
        Some(i) => lines[i..(i + 2).min(lines.len())].join(" "),
        None => last_lines(stderr, 4),
    }
}

fn last_lines(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join(" | ")
}

fn xml(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// One test case per seed run, passing or failing (issue 19: the summary case
/// used to fail too, and passing seeds were missing), so GitLab's and the
/// common GitHub JUnit reporters count seeds.
pub fn junit(c: &Campaign) -> String {
    let name = xml(&c.scenario);
    let mut out = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuite name=\"snapstorm-fuzz-{name}\" tests=\"{}\" failures=\"{}\" time=\"{:.3}\">\n",
        c.seeds.len(),
        c.failures.len(),
        c.wall_seconds
    );
    let failing: std::collections::BTreeSet<u64> = c.failures.iter().map(|f| f.seed).collect();
    for seed in c.seeds.iter().filter(|s| !failing.contains(s)) {
        out.push_str(&format!(
            "  <testcase classname=\"snapstorm.{name}\" name=\"seed {seed}\"/>\n"
        ));
    }
    for f in &c.failures {
        out.push_str(&format!(
            "  <testcase classname=\"snapstorm.{name}\" name=\"seed {}\" time=\"{:.3}\"><failure message=\"{}: {}\">{}\n{}</failure></testcase>\n",
            f.seed,
            f.wall_seconds,
            xml(&f.outcome),
            xml(&f.failing_checkers.join(", ")),
            xml(&f.repro),
            xml(&f.detail)
        ));
    }
    out.push_str("</testsuite>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_cover_a_range_exactly_once() {
        let all = shard_seeds(1, 100, None);
        let mut union: Vec<u64> = (0..7)
            .flat_map(|k| shard_seeds(1, 100, Some((k, 7))))
            .collect();
        union.sort_unstable();
        assert_eq!(union, all, "every seed once, none twice");
        assert!(shard_seeds(1, 100, Some((3, 7))).iter().all(|s| s % 7 == 3));
    }

    #[test]
    fn bad_ranges_and_shards_are_clear_errors() {
        assert_eq!(parse_seed_range("5..9"), Ok((5, 9)));
        assert!(parse_seed_range("9..5").unwrap_err().contains("empty"));
        assert!(parse_seed_range("x").unwrap_err().contains("seed range"));
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
        assert!(parse_shard("4/4").is_err() && parse_shard("1/0").is_err());
    }

    #[test]
    fn junit_escapes_and_counts() {
        let c = Campaign {
            scenario: "s<1>".into(),
            bugs: vec![],
            seeds: vec![1, 2],
            shard: None,
            failures: vec![SeedResult {
                seed: 2,
                outcome: "invalid".into(),
                failing_checkers: vec!["linearizability".into()],
                dir: None,
                repro: "snapstorm chaos --seed 2".into(),
                wall_seconds: 0.5,
                detail: "a & b".into(),
            }],
            passed: 1,
            determinism_checked: 1,
            checker_counts: BTreeMap::new(),
            wall_seconds: 1.0,
            seeds_per_second: 2.0,
            seed_range: Some((1, 2)),
            duration_secs: Some(10.0),
            probes: BTreeMap::new(),
            probe_runs: 0,
            unhit_probes: Vec::new(),
            probes_declared: 0,
            vacuous: Vec::new(),
            knobs: Default::default(),
            interrupted: false,
        };
        let x = junit(&c);
        assert!(x.contains("tests=\"2\" failures=\"1\""), "{x}");
        assert_eq!(x.matches("<testcase").count(), 2, "one case per seed");
        assert!(
            x.contains("name=\"seed 1\"/>"),
            "the passing seed is a case"
        );
        assert!(x.contains("s&lt;1&gt;") && x.contains("a &amp; b"));
        assert!(x.contains("name=\"seed 2\""));
    }
}
