//! `cargo bench -p harness --bench detection`: per bug mutant, the seeds and wall
//! seconds until its intended checker first flags it, campaign style.
use harness::results::Verdict;
use harness::run::{run, RunConfig};
use harness::table;
use raftkv::bugs::{Bugs, BUGS};
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
}
