//! The `snapstorm` command line.
use crate::knobs;
use crate::results::{Results, Verdict};
use crate::run::{self, RunConfig};
use crate::scenario;
use clap::builder::PossibleValuesParser;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser, Debug)]
#[command(
    name = "snapstorm",
    version,
    about = "Chaos and linearizability testing for Raft in a deterministic simulator"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run one scenario on one seed: a verdict, and a run directory to read.
    Chaos(ChaosArgs),
    /// Run many seeds of a scenario (each in its own process); record failures.
    Fuzz(FuzzArgs),
    /// Repeat a recorded run and check it is byte-identical.
    Replay {
        /// A run directory (with results.json).
        dir: PathBuf,
    },
    /// Make a failing run small while it keeps failing the same checker.
    Shrink(crate::shrink::ShrinkArgs),
    /// List the scenarios, one line each.
    Scenarios,
    /// List the bug mutants: mechanism, the real bug each models, the scenario
    /// that exposes it and the checker expected to flag it.
    Bugs {
        /// Print JSON for machines.
        #[arg(long)]
        json: bool,
    },
    /// Check recorded histories for linearizability.
    Check(checkers::cli::CheckArgs),
    /// Write a run's history in another tool's format (Jepsen's EDN: Knossos,
    /// Elle or the kv maps, by workload).
    Export(crate::export::ExportArgs),
    /// Regenerate DIR/report.html from a run directory's files, or
    /// DIR/campaign.html from a campaign directory's campaign.json.
    Report {
        /// The run directory (results.json, history.jsonl, trace.jsonl, nemesis.jsonl)
        /// or campaign directory (campaign.json).
        dir: PathBuf,
    },
    /// Campaigns across machines: merge sharded `fuzz` outputs.
    #[command(subcommand)]
    Campaign(crate::merge::CampaignCommand),
    /// The regression corpus: add a recorded failure to it.
    #[command(subcommand)]
    Regress(crate::promote::RegressCommand),
    /// Code-probe coverage of runs and campaigns: every probe with how often it
    /// was hit, then the ones never hit (exit 1 if any is unexplained).
    Probes {
        /// Run or campaign directories, or folders of them (default: store).
        dirs: Vec<PathBuf>,
        /// Print JSON for machines.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
struct ChaosArgs {
    /// The scenario to run (see `snapstorm scenarios`).
    #[arg(long, value_parser = PossibleValuesParser::new(scenario::names()))]
    scenario: String,
    /// Every random choice of the run comes from this seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[command(flatten)]
    knobs: KnobArgs,
    /// Simulated seconds of the faulty main phase.
    #[arg(long, default_value_t = 50.0, value_parser = knobs::parse_duration)]
    duration: f64,
    /// Switch on a bug mutant (repeatable; see `snapstorm bugs`).
    #[arg(long = "bug", value_parser = PossibleValuesParser::new(raftkv::bugs::Bug::names()))]
    bugs: Vec<String>,
    /// Probability that a node gets a client bound to it, 0 to 1 (default 0.5;
    /// 0: no bound clients, every client follows the leader).
    #[arg(long, value_parser = parse_share)]
    bound_clients: Option<f64>,
    /// Run directory (default store/<scenario>-seed<N>/, or
    /// store/<scenario>-seed<N>-<bug>[-<bug>...]/ with mutants).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The knobs `chaos` and `fuzz` share ([`knobs::Knobs`]).
#[derive(Args, Debug)]
struct KnobArgs {
    /// Cluster size (default: drawn from the seed, 3, 5 or 7; see `snapstorm scenarios`).
    #[arg(long, value_parser = PossibleValuesParser::new(knobs::NODES))]
    nodes: Option<String>,
    /// Snapshot after this many applied entries (default 3).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    snapshot_threshold: Option<u64>,
    /// Log entries kept behind a snapshot (default 1).
    #[arg(long)]
    trailing_logs: Option<u64>,
    /// Client workload: register, kv or list-append (default: the scenario's).
    #[arg(long, value_parser = PossibleValuesParser::new(knobs::WORKLOADS))]
    workload: Option<String>,
}

impl KnobArgs {
    fn knobs(&self) -> Result<knobs::Knobs, String> {
        knobs::Knobs::from_flags(
            self.nodes.as_deref(),
            self.snapshot_threshold,
            self.trailing_logs,
            self.workload.clone(),
        )
    }
}

#[derive(Args, Debug)]
struct FuzzArgs {
    /// The scenario every seed runs (see `snapstorm scenarios`).
    #[arg(long, value_parser = PossibleValuesParser::new(scenario::names()))]
    scenario: String,
    /// Seeds to run, both ends included (e.g. 1..1000).
    #[arg(long, value_parser = crate::fuzz::parse_seed_range)]
    seeds: (u64, u64),
    /// Parallel runs, at least 1 (default: the number of cores).
    #[arg(long, value_parser = parse_jobs)]
    jobs: Option<usize>,
    /// Run only seeds s with s mod N == K, so N machines split one range.
    #[arg(long, value_parser = crate::fuzz::parse_shard)]
    shard: Option<(u64, u64)>,
    /// Switch on a bug mutant in every seed (repeatable; see `snapstorm bugs`).
    #[arg(long = "bug", value_parser = PossibleValuesParser::new(raftkv::bugs::Bug::names()))]
    bugs: Vec<String>,
    /// Every seed's knobs, as for `chaos`.
    #[command(flatten)]
    knobs: KnobArgs,
    /// Simulated seconds of each run's main phase.
    #[arg(long, default_value_t = 50.0, value_parser = knobs::parse_duration)]
    duration: f64,
    /// Wall seconds a seed may take before it is killed and recorded as hung
    /// (at least 1).
    #[arg(long, default_value_t = 300.0, value_parser = parse_seed_timeout)]
    seed_timeout: f64,
    /// Keep the run directories of passing seeds too.
    #[arg(long)]
    keep_passing: bool,
    /// Add the campaign's judged failures to the regression corpus in DIR,
    /// as `regress add CAMPAIGN --corpus DIR` does (re-run first; an entry of
    /// another run is kept, not overwritten).
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = "regressions")]
    save_regressions: Option<PathBuf>,
    /// Campaign directory (default store/fuzz-<scenario>-<first>-<last>/).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn parse_jobs(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("0 jobs would run nothing; give at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{s}' is not a number of parallel runs")),
    }
}

fn parse_share(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1.0).contains(&v) => Ok(v),
        _ => Err(format!("'{s}' is not a probability from 0 to 1")),
    }
}

/// The longest `--seed-timeout`: a day (a `Duration` cannot hold every f64).
const MAX_SEED_TIMEOUT_SECS: f64 = 86_400.0;

fn parse_seed_timeout(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a number of wall seconds"))?;
    if !(1.0..=MAX_SEED_TIMEOUT_SECS).contains(&v) {
        return Err(format!(
            "{} is outside 1..={MAX_SEED_TIMEOUT_SECS} wall seconds (a seed needs at least 1 s to start)",
            knobs::number(v)
        ));
    }
    Ok(v)
}

/// Parses the arguments, runs the command and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap says 0 for --help/--version, and we say 2 for usage errors.
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match cli.command {
        Command::Chaos(args) => chaos(args),
        Command::Fuzz(args) => fuzz(args),
        Command::Replay { dir } => match crate::replay::replay(&dir) {
            Ok(r) => {
                print_out(&crate::replay::summary(&r));
                crate::replay::exit_code(&r)
            }
            Err(e) => {
                eprintln!("snapstorm replay: {e}");
                2
            }
        },
        Command::Shrink(args) => crate::shrink::cli(args),
        Command::Scenarios => {
            print_out(&list_scenarios());
            0
        }
        Command::Bugs { json } => {
            print_out(&list_bugs(json));
            0
        }
        Command::Check(args) => checkers::cli::run(args),
        Command::Export(args) => crate::export::cli(args),
        Command::Campaign(cmd) => crate::merge::main(cmd),
        Command::Regress(cmd) => crate::promote::main(cmd),
        Command::Probes { dirs, json } => crate::probes::cli(&dirs, json),
        Command::Report { dir } if reports::is_campaign_dir(&dir) => {
            match reports::write_campaign_report(&dir) {
                Ok(path) => {
                    print_out(&format!("campaign report: {}\n", path.display()));
                    0
                }
                Err(e) => {
                    eprintln!("snapstorm report: {e}");
                    2
                }
            }
        }
        Command::Report { dir } if crate::merge::unfinished_campaign(&dir).is_some() => {
            let e = crate::merge::unfinished_campaign(&dir).unwrap_or_default();
            eprintln!("snapstorm report: {e}");
            2
        }
        Command::Report { dir } => match reports::write_report(&dir) {
            Ok(path) => {
                for missing in reports::missing_files(&dir) {
                    eprintln!(
                        "snapstorm report: warning: {} is missing; the report is drawn without it",
                        missing.display()
                    );
                }
                print_out(&format!("report: {}\n", path.display()));
                0
            }
            Err(e) => {
                eprintln!("snapstorm report: {e}");
                2
            }
        },
    }
}

fn fuzz(args: FuzzArgs) -> i32 {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("snapstorm fuzz: cannot find my own executable: {e}");
            return 2;
        }
    };
    let (first, last) = args.seeds;
    // The knobs go through the same checks as chaos's flags, once, before any seed runs.
    let knobs = match args.knobs.knobs().and_then(|k| {
        let mut record = RunConfig::new(&args.scenario, first).record();
        k.apply(&mut record);
        record.duration_secs = args.duration;
        record.bugs = args.bugs.clone();
        RunConfig::from_record(&record).map_err(|e| e.flag_message())?;
        Ok(k)
    }) {
        Ok(k) => k,
        Err(e) => {
            eprintln!("snapstorm fuzz: {e}");
            return 2;
        }
    };
    let cfg = crate::fuzz::FuzzConfig {
        out: args.out.unwrap_or_else(|| {
            PathBuf::from(format!("store/fuzz-{}-{first}-{last}", args.scenario))
        }),
        scenario: args.scenario,
        first,
        last,
        shard: args.shard,
        jobs: args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        bugs: args.bugs,
        knobs,
        duration_secs: args.duration,
        seed_timeout: Duration::from_secs_f64(args.seed_timeout),
        keep_passing: args.keep_passing,
        save_regressions: args.save_regressions,
        exe,
    };
    if let Err(e) = crate::interrupt::install() {
        eprintln!("snapstorm fuzz: warning: {e}; a Ctrl-C will leave no campaign.json");
    }
    match crate::fuzz::run_campaign(&cfg) {
        Ok(outcome) => {
            let c = &outcome.campaign;
            let seeds = if c.interrupted {
                format!("INTERRUPTED after {} of {}", c.seeds.len(), outcome.planned)
            } else {
                c.seeds.len().to_string()
            };
            let mut t = format!(
                "fuzz {}: {seeds} seeds, {} passed, {} failed, {} replayed for determinism; {:.1} seeds/s\n",
                c.scenario,
                c.passed,
                c.failures.len(),
                c.determinism_checked,
                c.seeds_per_second
            );
            t.push_str(&c.vacuous_line());
            for f in &c.failures {
                t.push_str(&format!(
                    "  seed {}: {} [{}] — {}\n",
                    f.seed,
                    f.outcome,
                    f.failing_checkers.join(", "),
                    f.repro
                ));
            }
            t.push_str(&format!(
                "  campaign: {}\n  report:   {}\n",
                cfg.out.join("campaign.json").display(),
                cfg.out.join(reports::CAMPAIGN_FILE).display()
            ));
            print_out(&t);
            if c.interrupted {
                eprintln!(
                    "snapstorm fuzz: interrupted by {}: {} of {} seeds done ({} in flight killed, \
                     their directories removed; {} not started); {} lists the seeds done \
                     (\"interrupted\": true){}",
                    crate::interrupt::signal_name().unwrap_or("a signal"),
                    c.seeds.len(),
                    outcome.planned,
                    outcome.discarded,
                    outcome.planned - c.seeds.len() as u64 - outcome.discarded,
                    cfg.out.join("campaign.json").display(),
                    if cfg.save_regressions.is_some() {
                        "; --save-regressions skipped (regress add DIR adds its failures)"
                    } else {
                        ""
                    }
                );
                return crate::interrupt::EXIT_CODE;
            }
            i32::from(c.failed())
        }
        Err(e) => {
            eprintln!("snapstorm fuzz: {e}");
            2
        }
    }
}

fn chaos(args: ChaosArgs) -> i32 {
    // The flags go through the same checks as a recorded config (replay, shrink).
    let mut record = RunConfig::new(&args.scenario, args.seed).record();
    let knobs = match args.knobs.knobs() {
        Ok(k) => k,
        Err(e) => {
            eprintln!("snapstorm chaos: {e}");
            return 2;
        }
    };
    knobs.apply(&mut record);
    record.duration_secs = args.duration;
    record.bugs = args.bugs;
    record.overrides.bound_clients = args.bound_clients;
    let cfg = match RunConfig::from_record(&record) {
        Ok(cfg) => cfg,
        Err(e) => {
            eprintln!("snapstorm chaos: {}", e.flag_message());
            return 2;
        }
    };
    let out = args.out.unwrap_or_else(|| cfg.default_out());
    // Test hook: makes one seed's run panic, so campaigns can prove they record it.
    if std::env::var("SNAPSTORM_TEST_PANIC_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        == Some(cfg.seed)
    {
        panic!(
            "injected panic for seed {} (SNAPSTORM_TEST_PANIC_SEED)",
            cfg.seed
        );
    }
    let outcome = match run::run(&cfg) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("snapstorm chaos: {e}");
            return 2;
        }
    };
    if let Err(e) = run::write(&outcome, &out) {
        eprintln!("snapstorm chaos: cannot write {}: {e}", out.display());
        return 2;
    }
    print_summary(&outcome.results, &out);
    match reports::write_report(&out) {
        Ok(path) => print_out(&format!("  report: {}\n", path.display())),
        Err(e) => {
            eprintln!("snapstorm chaos: cannot write the report: {e}");
            return 2;
        }
    }
    outcome.results.verdict.exit_code()
}

/// Prints to stdout, ignoring a closed pipe (`snapstorm ... | head` must not panic).
pub(crate) fn print_out(text: &str) {
    checkers::cli::print_out(text);
}

fn print_summary(r: &Results, out: &std::path::Path) {
    use std::fmt::Write;
    let word = |v: Verdict| match v {
        Verdict::Valid => "valid",
        Verdict::Invalid => "INVALID",
        Verdict::Unknown => "unknown",
    };
    let mut t = String::new();
    let _ = writeln!(
        t,
        "scenario {}, seed {}: {}{}",
        r.scenario,
        r.seed,
        word(r.verdict).to_uppercase(),
        if r.vacuous {
            " (vacuous: the scenario's evidence is unmet, see below)"
        } else {
            ""
        }
    );
    for (name, c) in &r.checkers {
        let _ = writeln!(t, "  {name:<22} {:<8} {}", word(c.verdict), c.detail);
    }
    if let Some(story) = &r.story {
        let _ = writeln!(
            t,
            "  story: {}",
            crate::story::wrap(&story.text, 100, "    ")
        );
        for (what, cmd) in ["shrink it:", "replay it:"]
            .into_iter()
            .zip(crate::story::commands(out))
        {
            let _ = writeln!(t, "  {what} {cmd}");
        }
    }
    let s = &r.stats;
    let _ = writeln!(
        t,
        "  {} nodes; ops {} (ok {}, fail {}, info {}); leaders elected {}; snapshots taken {}, installed {}; crashes {}; disk losses {}",
        s.nodes, s.ops, s.ok, s.fail, s.info, s.leaders_elected, s.snapshots_taken, s.snapshots_installed, s.crashes, s.disk_losses
    );
    if !s.unavailable_windows.is_empty() {
        let _ = writeln!(
            t,
            "  unavailable: {} windows without a successful operation, {:.2}s in all, the longest {:.2}s",
            s.unavailable_windows.len(),
            s.unavailable_seconds,
            s.longest_unavailable_seconds
        );
    }
    for (fact, held) in &r.evidence {
        let _ = writeln!(t, "  evidence [{}] {fact}", if *held { "x" } else { " " });
    }
    let _ = writeln!(
        t,
        "  simulated {:.1}s in {:.2}s of wall time ({:.2}s simulating, {:.2}s checking)",
        s.sim_seconds,
        s.wall_seconds,
        s.sim_wall_seconds,
        s.wall_seconds - s.sim_wall_seconds
    );
    let _ = writeln!(t, "  run directory: {}", out.display());
    let _ = writeln!(t, "  repro: {}", r.repro);
    print_out(&t);
}

/// One line a scenario: its name, padded to the longest, the node counts it
/// draws from, and what it does.
pub fn list_scenarios() -> String {
    let sizes = |s: &scenario::Scenario| match s.sizes() {
        [] => "3/5/7 nodes".to_string(),
        sizes => {
            let v: Vec<String> = sizes.iter().map(|n| n.to_string()).collect();
            format!("{} nodes", v.join("/"))
        }
    };
    let sized: Vec<String> = scenario::SCENARIOS.iter().map(sizes).collect();
    let rows: Vec<Vec<&str>> = scenario::SCENARIOS
        .iter()
        .zip(&sized)
        .map(|(s, n)| vec![s.name, n.as_str(), s.summary])
        .collect();
    crate::table::render(&rows, &[])
}

pub fn list_bugs(json: bool) -> String {
    use raftkv::bugs::BUGS;
    if json {
        return serde_json::to_string_pretty(BUGS).expect("bug list serialises") + "\n";
    }
    let mut out = String::new();
    for b in BUGS {
        out.push_str(&format!(
            "{}\n  what:     {}\n  models:   {}\n  exposed:  snapstorm chaos --scenario {} --seed {} --bug {}\n  flagged:  {}\n",
            b.name, b.mechanism, b.models, b.scenario, b.seed, b.name, b.checker
        ));
    }
    out
}
