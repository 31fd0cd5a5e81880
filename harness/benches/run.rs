//! `cargo bench -p harness`: how fast the harness runs, measured (not asserted).
//! - simulated seconds per wall second of a 5-node swarm run (simulation alone);
//! - what the checks cost next to the simulation of a typical run.
use harness::run::{run, RunConfig};
use std::time::Duration;

fn main() {
    println!("simulation speed, swarm with 5 nodes, 30 simulated seconds of faults each");
    println!(
        "{:>6} {:>10} {:>10} {:>10}",
        "seed", "sim s", "wall s", "sim/wall"
    );
    let (mut sim, mut wall) = (0.0, 0.0);
    for seed in 1..=5 {
        let mut cfg = RunConfig::new("swarm", seed);
        cfg.nodes = Some(5);
        cfg.duration = Duration::from_secs(30);
        let s = run(&cfg).expect("swarm runs").results.stats;
        println!(
            "{seed:>6} {:>10.1} {:>10.3} {:>9.0}x",
            s.sim_seconds,
            s.sim_wall_seconds,
            s.sim_seconds / s.sim_wall_seconds
        );
        sim += s.sim_seconds;
        wall += s.sim_wall_seconds;
    }
    println!(
        "{:>6} {sim:>10.1} {wall:>10.3} {:>9.0}x   (goal: 1000x)",
        "all",
        sim / wall
    );

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
