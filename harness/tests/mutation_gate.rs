//! The mutation gate: the bounded detection campaign that judges each
//! cargo-mutants mutant of raftkv (`.ci/mutation-score`, README "Mutation
//! score"). A mutant is killed when any run of the mix is not valid or is
//! vacuous (its scenario's evidence unmet). On the clean system every run must
//! be valid and reach its target, which this test asserts on every
//! `cargo test` too.
//!
//! The mix is fixed (no seed is chosen per mutant): every scenario on its
//! first seeds at its own node count, again at 5 and 7 nodes, and swarm
//! seeds. Runs go on two threads and stop at the first failure, so a killed
//! mutant costs little and a survivor the whole mix (about 15 s on 2 cores).
use harness::results::Verdict;
use harness::run::{run, RunConfig};
use harness::scenario::SCENARIOS;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

/// Seeds of every named scenario at its own node count.
const SCENARIO_SEEDS: u64 = 3;
/// Swarm seeds (node count, thresholds and faults drawn from the seed).
const SWARM_SEEDS: u64 = 40;

fn mix() -> Vec<RunConfig> {
    let mut runs = Vec::new();
    for s in SCENARIOS.iter().filter(|s| s.name != "swarm") {
        for seed in 1..=SCENARIO_SEEDS {
            runs.push(RunConfig::new(s.name, seed));
        }
        for nodes in [5, 7] {
            let mut cfg = RunConfig::new(s.name, 1);
            cfg.nodes = Some(nodes);
            runs.push(cfg);
        }
    }
    for seed in 1..=SWARM_SEEDS {
        runs.push(RunConfig::new("swarm", seed));
    }
    // The default duration: the mix is what a user runs (at 30 simulated
    // seconds torn-wal seeds 1, 7, 18 and 20 tear no WAL tail: vacuous).
    runs
}

#[test]
fn the_mutation_mix_is_valid_on_the_clean_system() {
    let runs = mix();
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let failures = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= runs.len() || failed.load(Ordering::Relaxed) {
                    break;
                }
                let cfg = &runs[i];
                let r = run(cfg).expect("scenario exists").results;
                // A run that did not reach its scenario's target is no pass:
                // a mutant that stops snapshots or faults is caught here.
                if r.verdict != Verdict::Valid || r.vacuous {
                    failed.store(true, Ordering::Relaxed);
                    let why: Vec<String> = r
                        .checkers
                        .iter()
                        .filter(|(_, c)| c.verdict != Verdict::Valid)
                        .map(|(k, c)| format!("{k}: {}", c.detail))
                        .chain(
                            r.evidence
                                .iter()
                                .filter(|(_, held)| !**held)
                                .map(|(f, _)| format!("vacuous: not {f}")),
                        )
                        .collect();
                    failures
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push(format!("{}: {}", cfg.repro(), why.join("; ")));
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap_or_else(|e| e.into_inner());
    assert!(
        failures.is_empty(),
        "the mix has failing runs:\n{}",
        failures.join("\n")
    );
}
