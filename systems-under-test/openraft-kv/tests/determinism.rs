//! The same seed gives a byte-identical trace; different seeds give different
//! traces. The scenario exercises elections, a partition, snapshot installs,
//! a leader crash and restart, so every source of nondeterminism is in play.
mod common;

use common::{write_keys, Cluster};
use openraft_kv::{host_name, Knobs};
use std::time::Duration;
use sut::trace::TraceEvent;

fn scenario(seed: u64) -> String {
    let mut c = Cluster::new(seed, Knobs::default());
    c.client(|mut client| async move { write_keys(&mut client, 0..6).await });
    c.sim.partition("n3", "n1");
    c.sim.partition("n3", "n2");
    c.client(|mut client| async move { write_keys(&mut client, 6..30).await });
    let leader = c.leader().expect("a leader");
    c.sim.crash(host_name(leader));
    c.sim.repair("n3", "n1");
    c.sim.repair("n3", "n2");
    // Long enough for the survivors to elect a new leader (seeded timeouts).
    c.run_for(Duration::from_millis(1200));
    c.sim.bounce(host_name(leader));
    c.client(|mut client| async move { write_keys(&mut client, 30..36).await });
    c.run_for(Duration::from_millis(300));
    let records = c.trace.records();
    let installs = records
        .iter()
        .filter(|r| matches!(r.event, TraceEvent::SnapshotInstalled { .. }))
        .count();
    assert!(
        installs > 0,
        "seed {seed}: the scenario installs a snapshot"
    );
    c.trace.to_json_lines()
}

#[test]
fn same_seed_same_trace_different_seed_different_trace() {
    let a = scenario(21);
    let b = scenario(21);
    let other = scenario(22);
    // For comparing across processes: `OPENRAFT_KV_TRACE=/tmp/a.jsonl cargo test ...`.
    if let Some(path) = std::env::var_os("OPENRAFT_KV_TRACE") {
        std::fs::write(path, &a).expect("write the trace");
    }
    assert!(
        a.lines().count() > 300,
        "a substantial trace ({} lines)",
        a.lines().count()
    );
    if a != b {
        let (n, (x, y)) = a
            .lines()
            .zip(b.lines())
            .enumerate()
            .find(|(_, (x, y))| x != y)
            .expect("a difference");
        panic!("seed 21 diverged at line {n}:\n{x}\n{y}");
    }
    assert_ne!(a, other, "seeds 21 and 22 gave the same trace");
    eprintln!(
        "seed 21: {} lines, {} bytes, twice identical; seed 22: {} lines",
        a.lines().count(),
        a.len(),
        other.lines().count()
    );
}
