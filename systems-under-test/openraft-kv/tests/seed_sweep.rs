//! Many seeds of partitions, lossy links and crashes (ignored by default: a
//! couple of seconds; run with `cargo test -p openraft-kv --release -- --ignored`).
mod common;

use common::{append, Cluster};
use openraft_kv::{host_name, Knobs};
use std::time::Duration;
use sut::ops::Outcome;
use sut::trace::TraceEvent;

#[test]
#[ignore]
fn random_crashes_on_lossy_links_lose_and_duplicate_nothing() {
    let (mut installs, mut chunks) = (0, 0);
    for seed in 100..160u64 {
        // The test's own choices (whom to crash, when) come from the seed too.
        let mut x = seed;
        let mut next = move || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            x >> 33
        };
        let mut c = Cluster::new(seed, Knobs::default());
        c.sim.set_fail_rate(0.02);
        let slot = c.start_client(|mut client| async move {
            for i in 0..60 {
                let out = client.write(append("log", &format!("{i},"))).await;
                assert_eq!(out, Ok(Outcome::Done), "append {i}");
            }
            client.read("log").await
        });
        for _ in 0..4 {
            c.run_for(Duration::from_millis(50 + next() % 200));
            let victim = host_name(1 + next() % 3);
            c.sim.crash(victim.clone());
            c.run_for(Duration::from_millis(next() % 400));
            c.sim.bounce(victim);
        }
        let log = c.finish(slot);
        let want: String = (0..60).map(|i| format!("{i},")).collect();
        assert_eq!(log, Ok(Some(want)), "seed {seed}");
        let records = c.trace.records();
        let halts: Vec<_> = records
            .iter()
            .filter(|r| matches!(r.event, TraceEvent::Halt { .. }))
            .collect();
        assert!(halts.is_empty(), "seed {seed}: {halts:?}");
        let is =
            |r: &&sut::trace::TraceRecord| matches!(r.event, TraceEvent::SnapshotInstalled { .. });
        installs += records.iter().filter(is).count();
        let is = |r: &&sut::trace::TraceRecord| {
            matches!(r.event, TraceEvent::SnapshotChunkReceived { .. })
        };
        chunks += records.iter().filter(is).count();
    }
    eprintln!("60 seeds: {installs} snapshot installs, {chunks} chunks received");
}
