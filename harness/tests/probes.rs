//! Code probes only count: the same seed gives the same counts, and a run's
//! bytes are the same whether the probes count or not.
use harness::run::{run, RunConfig};
use std::time::Duration;

fn config(scenario: &str, seed: u64) -> RunConfig {
    let mut cfg = RunConfig::new(scenario, seed);
    cfg.duration = Duration::from_secs(20);
    cfg
}

#[test]
fn the_same_seed_hits_the_same_probes_the_same_number_of_times() {
    for (scenario, seed) in [("swarm", 7), ("all-crash", 2)] {
        let a = run(&config(scenario, seed)).expect("runs").results;
        let b = run(&config(scenario, seed)).expect("runs").results;
        assert!(
            a.probes.len() > 20,
            "{scenario} seed {seed} hit only {} probes: {:?}",
            a.probes.len(),
            a.probes
        );
        assert_eq!(
            a.probes, b.probes,
            "{scenario} seed {seed}: probe counts differ"
        );
        assert!(
            a.probes.keys().all(|n| raftkv::probe::find(n).is_some()),
            "every recorded name is a declared probe"
        );
    }
}

#[test]
fn probes_do_not_change_a_run() {
    for (scenario, seed) in [("swarm", 11), ("lagging-follower", 1)] {
        let counting = run(&config(scenario, seed)).expect("runs").results;
        raftkv::probe::set_enabled(false);
        let silent = run(&config(scenario, seed));
        raftkv::probe::set_enabled(true);
        let silent = silent.expect("runs").results;
        assert!(silent.probes.is_empty(), "switched off, nothing is counted");
        assert!(!counting.probes.is_empty());
        assert_eq!(
            counting.hashes, silent.hashes,
            "{scenario} seed {seed}: the probes changed the run's bytes"
        );
        assert_eq!(counting.verdict, silent.verdict);
    }
}
