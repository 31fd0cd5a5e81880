//! `cargo bench -p harness --bench run`: how fast the harness runs, measured (not
//! asserted).
//! - simulated seconds per wall second of a 5-node swarm run (simulation alone),
//!   next to the work done per wall second (client operations, trace events,
//!   elections, snapshots), since sim-s/wall-s alone depends on the time scale;
//! - the same per scenario;
//! - what the checks cost next to the simulation of a typical run.
//!
//! `cargo bench -p harness --bench run -- speed` prints only the swarm figures.
use harness::results::Stats;
use harness::run::{run, RunConfig, RunOutcome};
use harness::scenario::SCENARIOS;
use std::time::Duration;

/// What a set of runs did and how long their simulations took.
#[derive(Default)]
struct Work {
    sim: f64,
    wall: f64,
    ops: u64,
    events: u64,
    elections: u64,
    snapshots: u64,
    installs: u64,
    faults: u64,
}

impl Work {
    fn add(&mut self, out: &RunOutcome) {
        let s: &Stats = &out.results.stats;
        self.sim += s.sim_seconds;
        self.wall += s.sim_wall_seconds;
        self.ops += s.ops;
        self.events += out.trace.len() as u64;
        self.elections += s.leaders_elected;
        self.snapshots += s.snapshots_taken;
        self.installs += s.snapshots_installed;
        self.faults += out.nemesis.len() as u64;
    }

    fn header(first: &str) {
        println!(
            "{first:<26} {:>7} {:>7} {:>8} {:>6} {:>8} {:>8} {:>9} {:>5} {:>6} {:>5} {:>6}",
            "sim s",
            "wall s",
            "sim/wall",
            "ops",
            "ops/s",
            "events",
            "events/s",
            "elect",
            "snaps",
            "inst",
            "faults"
        );
    }

    fn row(&self, name: &str) {
        println!(
            "{name:<26} {:>7.1} {:>7.3} {:>7.0}x {:>6} {:>8.0} {:>8} {:>9.0} {:>5} {:>6} {:>5} {:>6}",
            self.sim,
            self.wall,
            self.sim / self.wall,
            self.ops,
            self.ops as f64 / self.wall,
            self.events,
            self.events as f64 / self.wall,
            self.elections,
            self.snapshots,
            self.installs,
            self.faults
        );
    }
}

fn main() {
    let only_speed = std::env::args().any(|a| a == "speed");
    println!("simulation speed: swarm, 5 nodes, 150 simulated seconds of faults per seed");
    println!("(wall s: the simulation alone; ops/s and events/s: per wall second)");
    Work::header("seed");
    let mut all = Work::default();
    for seed in 1..=5 {
        let mut cfg = RunConfig::new("swarm", seed);
        cfg.nodes = Some(5);
        cfg.duration = Duration::from_secs(150);
        let out = run(&cfg).expect("swarm runs");
        let mut one = Work::default();
        one.add(&out);
        one.row(&seed.to_string());
        all.add(&out);
    }
    all.row("all (goal: 1000x)");
    if only_speed {
        return;
    }

    println!();
    println!("per scenario, default settings, seeds 1-3");
    Work::header("scenario");
    for s in SCENARIOS {
        let mut w = Work::default();
        for seed in 1..=3 {
            w.add(&run(&RunConfig::new(s.name, seed)).expect("runs"));
        }
        w.row(s.name);
    }

    println!();
    println!("check cost next to simulation time (goal for the invariant checks: < 10%)");
    println!(
        "{:<24} {:>8} {:>10} {:>10} {:>9} {:>10} {:>9}",
        "scenario", "ops", "sim wall", "invariants", "share", "lineariz.", "share"
    );
    for name in [
        "lagging-follower",
        "crash-mid-snapshot",
        "all-crash",
        "swarm",
    ] {
        let (mut simw, mut inv, mut lin, mut ops) = (0.0, 0.0, 0.0, 0);
        for seed in 1..=3 {
            let s = run(&RunConfig::new(name, seed))
                .expect("runs")
                .results
                .stats;
            simw += s.sim_wall_seconds;
            inv += s.invariants_seconds;
            lin += s.linearizability_seconds;
            ops += s.ops;
        }
        println!(
            "{name:<24} {ops:>8} {simw:>9.3}s {inv:>9.3}s {:>8.1}% {lin:>9.3}s {:>8.1}%",
            100.0 * inv / simw,
            100.0 * lin / simw
        );
    }
}
