//! `cargo bench --bench fuzz`: seeds per second of a `snapstorm fuzz` campaign over
//! `swarm` (the real thing: one child process per seed, the determinism replays of
//! every failure and every tenth pass), with one worker and with two (the 2-core
//! machine's budget), at the default 50 simulated seconds of main phase.
//! Measured, not asserted.
use harness::fuzz::{run_campaign, FuzzConfig};
use std::path::PathBuf;
use std::time::Duration;

const FIRST: u64 = 1;
const LAST: u64 = 40;
/// `fuzz`'s default `--duration`.
const DURATION_SECS: f64 = 50.0;

fn main() {
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_snapstorm"));
    let scratch = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-fuzz");
    println!(
        "snapstorm fuzz --scenario swarm --seeds {FIRST}..{LAST} ({DURATION_SECS} simulated seconds each), {} cores here",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    println!(
        "{:>5} {:>7} {:>9} {:>10} {:>10}",
        "jobs", "seeds", "failures", "wall s", "seeds/s"
    );
    for jobs in [1, 2] {
        let out = scratch.join(format!("jobs{jobs}"));
        let _ = std::fs::remove_dir_all(&out);
        let cfg = FuzzConfig {
            scenario: "swarm".into(),
            first: FIRST,
            last: LAST,
            shard: None,
            jobs,
            bugs: Vec::new(),
            knobs: Default::default(),
            duration_secs: DURATION_SECS,
            out,
            seed_timeout: Duration::from_secs(300),
            keep_passing: false,
            exe: exe.clone(),
            save_regressions: None,
        };
        let c = run_campaign(&cfg).expect("the campaign runs").campaign;
        println!(
            "{jobs:>5} {:>7} {:>9} {:>10.2} {:>10.2}",
            c.seeds.len(),
            c.failures.len(),
            c.wall_seconds,
            c.seeds_per_second
        );
    }
}
