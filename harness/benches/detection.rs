//! `cargo bench -p harness --bench detection`: per bug mutant, the seeds and wall
//! seconds until its intended checker first flags it, campaign style.
use harness::results::Verdict;
use harness::run::{run, RunConfig};
use raftkv::bugs::{Bugs, BUGS};
use std::time::Instant;

fn main() {
    println!(
        "{:<28} {:<20} {:<20} {:>6} {:>9}",
        "mutant", "scenario", "checker", "seeds", "wall s"
    );
    for info in BUGS {
        let start = Instant::now();
        let mut seeds = None;
        for seed in 1..=50 {
            let mut cfg = RunConfig::new(info.scenario, seed);
            cfg.bugs = Bugs::NONE.with(info.bug);
            let r = run(&cfg).expect("scenario exists").results;
            if r.checkers.get(info.checker).map(|c| c.verdict) == Some(Verdict::Invalid) {
                seeds = Some(seed);
                break;
            }
        }
        let seeds = seeds.map_or("none".to_string(), |s| s.to_string());
        println!(
            "{:<28} {:<20} {:<20} {:>6} {:>9.2}",
            info.name,
            info.scenario,
            info.checker,
            seeds,
            start.elapsed().as_secs_f64()
        );
    }
}
