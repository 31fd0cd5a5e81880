//! Every scenario on the clean system: valid under every checker, with evidence
//! that its faults really happened, over several seeds.
use harness::results::Verdict;
use harness::run::{run, RunConfig};
use harness::scenario::SCENARIOS;
use std::time::Duration;

#[test]
fn every_scenario_is_valid_on_the_clean_system_with_its_evidence() {
    let mut failures = Vec::new();
    for s in SCENARIOS {
        for seed in 1..=3 {
            let mut cfg = RunConfig::new(s.name, seed);
            cfg.duration = Duration::from_secs(40);
            let out = run(&cfg).expect("known scenario");
            let r = &out.results;
            if r.verdict != Verdict::Valid {
                let bad: Vec<String> = r
                    .checkers
                    .iter()
                    .filter(|(_, c)| c.verdict != Verdict::Valid)
                    .map(|(n, c)| format!("{n}: {}", c.detail))
                    .collect();
                failures.push(format!("{} seed {seed}: {bad:?}", s.name));
            }
            for (fact, held) in &r.evidence {
                if !held {
                    failures.push(format!("{} seed {seed}: no evidence that {fact}", s.name));
                }
            }
            assert!(!r.evidence.is_empty(), "{} names its evidence", s.name);
            assert!(
                r.stats.ok > 50,
                "{} seed {seed}: the workload ran ({:?})",
                s.name,
                r.stats
            );
            assert!(
                r.stats.snapshots_taken > 0,
                "{} seed {seed}: snapshots were taken",
                s.name
            );
        }
    }
    assert!(failures.is_empty(), "failures:\n{}", failures.join("\n"));
}

#[test]
fn the_same_seed_gives_the_same_history_and_trace() {
    let cfg = RunConfig::new("swarm", 11);
    let a = run(&cfg).unwrap();
    let b = run(&cfg).unwrap();
    assert_eq!(a.history, b.history);
    assert_eq!(a.trace, b.trace);
    assert_eq!(a.nemesis, b.nemesis);
    let c = run(&RunConfig::new("swarm", 12)).unwrap();
    assert_ne!(a.history, c.history, "another seed gives another run");
}

#[test]
fn a_hundred_swarm_seeds_each_repeat_byte_for_byte() {
    let mut differing = Vec::new();
    for seed in 1..=100 {
        let mut cfg = RunConfig::new("swarm", seed);
        cfg.duration = Duration::from_secs(15);
        let a = run(&cfg).unwrap().results;
        let b = run(&cfg).unwrap().results;
        if a.hashes != b.hashes {
            differing.push(format!("seed {seed}: {:?} vs {:?}", a.hashes, b.hashes));
        }
        assert!(!a.hashes.history.is_empty() && !a.hashes.trace.is_empty());
    }
    assert!(
        differing.is_empty(),
        "nondeterministic:\n{}",
        differing.join("\n")
    );
}

#[test]
fn an_unknown_scenario_is_an_error_listing_the_valid_ones() {
    let err = run(&RunConfig::new("no-such", 1)).err().expect("rejected");
    assert!(
        err.contains("lagging-follower") && err.contains("swarm"),
        "{err}"
    );
}
