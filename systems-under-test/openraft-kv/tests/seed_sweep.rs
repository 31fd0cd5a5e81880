//! Many seeds of lossy links and crashes long enough for failovers (ignored by
//! default: a few seconds; `cargo test -p openraft-kv --release -- --ignored`).
mod common;

use common::{append, put, Cluster};
use openraft_kv::{host_name, Knobs};
use std::collections::BTreeMap;
use std::time::Duration;
use sut::ops::Outcome;
use sut::trace::{Role, TraceEvent, TraceRecord};

const WRITES: u32 = 40;

/// The value `put` writes at step `i`: long enough that snapshots take chunks.
fn value(i: u32) -> String {
    format!("{i:04}-{}", "v".repeat(40))
}

#[test]
#[ignore]
fn random_crashes_on_lossy_links_lose_and_duplicate_nothing() {
    let (mut installs, mut sent, mut received, mut failovers) = (0, 0, 0, 0);
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
        c.sim.set_fail_rate(0.03);
        let slot = c.start_client(|mut client| async move {
            for i in 0..WRITES {
                let op = if i % 2 == 0 {
                    put(&format!("key-{}", i % 10), &value(i))
                } else {
                    append("log", &format!("{i},"))
                };
                assert_eq!(client.write(op).await, Ok(Outcome::Done), "write {i}");
            }
            let mut read = BTreeMap::new();
            for k in ["key-0", "key-2", "key-4", "key-6", "key-8", "log"] {
                read.insert(k.to_string(), client.read(k).await.expect("read"));
            }
            read
        });
        for _ in 0..3 {
            c.run_for(Duration::from_millis(50 + next() % 200));
            let victim = host_name(1 + next() % 3);
            c.sim.crash(victim.clone());
            c.run_for(Duration::from_millis(next() % 1500));
            c.sim.bounce(victim);
        }
        let read = c.finish(slot);
        let mut want = BTreeMap::new();
        for i in (0..WRITES).filter(|i| i % 2 == 0) {
            want.insert(format!("key-{}", i % 10), Some(value(i)));
        }
        let log: String = (0..WRITES)
            .filter(|i| i % 2 == 1)
            .map(|i| format!("{i},"))
            .collect();
        want.insert("log".to_string(), Some(log));
        assert_eq!(read, want, "seed {seed}");

        let records = c.trace.records();
        let count = |f: &dyn Fn(&TraceRecord) -> bool| records.iter().filter(|r| f(r)).count();
        let halts = count(&|r| matches!(r.event, TraceEvent::Halt { .. }));
        assert_eq!(halts, 0, "seed {seed} halted");
        installs += count(&|r| matches!(r.event, TraceEvent::SnapshotInstalled { .. }));
        sent += count(&|r| matches!(r.event, TraceEvent::SnapshotChunkSent { .. }));
        received += count(&|r| matches!(r.event, TraceEvent::SnapshotChunkReceived { .. }));
        failovers += count(
            &|r| matches!(r.event, TraceEvent::Role { role: Role::Leader, term, .. } if term > 1),
        );
    }
    eprintln!(
        "60 seeds: {failovers} leaders elected after the first term, {installs} snapshot \
         installs, {sent} chunks sent, {received} received"
    );
}
