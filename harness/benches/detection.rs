//! `cargo bench -p harness --bench detection`: per bug mutant, the seeds and wall
//! seconds until its intended checker first flags it, campaign style.
use harness::results::Verdict;
use harness::run::{run, RunConfig};
use harness::table;
use raftkv::bugs::{Bug, BugInfo, Bugs, BUGS};
use std::time::Instant;

fn main() {
    // Columns as wide as their longest entry (the figures come later).
    let header = ["mutant", "scenario", "checker", "seeds", "wall s"];
    let mut rows = vec![header.map(String::from).to_vec()];
    for b in BUGS {
        let cells = [b.name, b.scenario, b.checker, "none", "0000.00"];
        rows.push(cells.map(String::from).to_vec());
    }
    let widths = table::widths(&rows);
    let right = [false, false, false, true, true];
    println!("{}", table::row(&header, &widths, &right));
    for info in BUGS {
        let start = Instant::now();
        let seeds = first_caught(info, None).map_or("none".to_string(), |s| s.to_string());
        let wall = format!("{:.2}", start.elapsed().as_secs_f64());
        let cells = [
            info.name,
            info.scenario,
            info.checker,
            seeds.as_str(),
            wall.as_str(),
        ];
        println!("{}", table::row(&cells, &widths, &right));
    }
    // What node-bound clients add: the mutant they exist for, with and without.
    let deposed = Bug::DeposedLeaderReads.info();
    let count = |bound_clients| {
        (1..=20)
            .filter(|s| caught(deposed, *s, bound_clients))
            .count()
    };
    println!(
        "{} on {}: caught on {} of seeds 1..=20 with node-bound clients, {} with --bound-clients 0",
        deposed.name,
        deposed.scenario,
        count(None),
        count(Some(0.0))
    );
}

/// The first of seeds 1..=50 at which the mutant's checker flags its scenario.
fn first_caught(info: &BugInfo, bound_clients: Option<f64>) -> Option<u64> {
    (1..=50).find(|seed| caught(info, *seed, bound_clients))
}

/// The mutant's checker flags its scenario at `seed` (`bound_clients`: the
/// override of the bound-client probability).
fn caught(info: &BugInfo, seed: u64, bound_clients: Option<f64>) -> bool {
    let mut cfg = RunConfig::new(info.scenario, seed);
    cfg.bugs = Bugs::NONE.with(info.bug);
    cfg.overrides.bound_clients = bound_clients;
    let r = run(&cfg).expect("scenario exists").results;
    r.checkers.get(info.checker).map(|c| c.verdict) == Some(Verdict::Invalid)
}
