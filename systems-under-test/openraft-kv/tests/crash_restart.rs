//! Nodes that crash (losing everything not fsynced) come back with their
//! state from the simulated disk.
mod common;

use common::{append, write_keys, Cluster, NODES};
use openraft_kv::{host_name, Knobs};
use std::collections::BTreeMap;
use std::time::Duration;
use sut::ops::Outcome;
use sut::trace::{Role, TraceEvent};

#[test]
fn whole_cluster_restarts_from_disk() {
    let mut c = Cluster::new(5, Knobs::default());
    c.client(|mut client| async move { write_keys(&mut client, 0..20).await });
    // Nobody keeps anything in memory: what comes back came off the disks.
    for n in NODES {
        c.sim.crash(host_name(n));
    }
    c.run_for(Duration::from_millis(50));
    for n in NODES {
        c.sim.bounce(host_name(n));
    }
    let values = c.client(|mut client| async move {
        let mut values = Vec::new();
        for i in 0..20 {
            values.push(
                client
                    .read(&format!("key-{i}"))
                    .await
                    .expect("read answered"),
            );
        }
        write_keys(&mut client, 20..22).await;
        values
    });
    let want: Vec<Option<String>> = (0..20).map(|i| Some(format!("value-{i}"))).collect();
    assert_eq!(values, want);
    for n in NODES {
        let events = c.events(n);
        let second_boot = events
            .iter()
            .find_map(|e| match e {
                TraceEvent::Boot {
                    generation: 1,
                    snapshot_index,
                    last_index,
                    commit,
                    ..
                } => Some((*snapshot_index, *last_index, *commit)),
                _ => None,
            })
            .expect("booted twice");
        let (snapshot_index, last_index, commit) = second_boot;
        // 22 entries were written (membership, blank, 20 puts) and snapshots
        // taken every 8; a follower may have missed the last one.
        assert!(
            snapshot_index >= 15,
            "n{n} booted from snapshot {snapshot_index}"
        );
        assert!(
            last_index >= 20 && commit >= 15,
            "n{n} booted with {second_boot:?}"
        );
        let restored = events.iter().any(|e| {
            matches!(e, TraceEvent::Restored { on_boot: true, index, .. } if *index == snapshot_index)
        });
        assert!(restored, "n{n} restored its snapshot on boot");
    }
}

#[test]
fn leader_crash_mid_stream_applies_every_append_once() {
    let mut c = Cluster::new(9, Knobs::default());
    let slot = c.start_client(|mut client| async move {
        for i in 0..30 {
            let out = client.write(append("log", &format!("{i},"))).await;
            assert_eq!(out, Ok(Outcome::Done), "append {i}");
        }
        client.read("log").await.expect("read answered")
    });
    c.run_until(
        Duration::from_secs(5),
        "a dozen appends on the leader",
        |rs| {
            let leader = rs.iter().rev().find_map(|r| match r.event {
                TraceEvent::Role {
                    role: Role::Leader, ..
                } => Some(r.node),
                _ => None,
            });
            let on_leader = |r: &&sut::trace::TraceRecord| {
                Some(r.node) == leader
                    && matches!(
                        r.event,
                        TraceEvent::Apply {
                            client: Some(_),
                            ..
                        }
                    )
            };
            rs.iter().filter(on_leader).count() >= 12
        },
    );
    let leader = c.leader().expect("a leader");
    c.sim.crash(host_name(leader));
    // openraft 0.9 followers wait out a leader lease (election_timeout_max)
    // on top of their election timeout, so failover takes over 450 ms here.
    c.run_until(Duration::from_secs(3), "a new leader", |rs| {
        rs.iter().any(|r| {
            r.node != leader
                && matches!(
                    r.event,
                    TraceEvent::Role {
                        role: Role::Leader,
                        ..
                    }
                )
        })
    });
    c.sim.bounce(host_name(leader));
    let log = c.finish(slot);
    let want: String = (0..30).map(|i| format!("{i},")).collect();
    assert_eq!(
        log.as_deref(),
        Some(want.as_str()),
        "each append exactly once, in order"
    );

    // No node applied a (client, seq) twice within one boot (a reboot
    // rebuilds the state: snapshot, then the committed log again).
    c.run_for(Duration::from_millis(300));
    for n in NODES {
        let mut effective = BTreeMap::new();
        for e in c.events(n) {
            match e {
                TraceEvent::Boot { .. } => effective.clear(),
                TraceEvent::Apply {
                    client: Some(cl),
                    seq: Some(s),
                    effective: true,
                    ..
                } => {
                    *effective.entry((cl, s)).or_insert(0) += 1;
                }
                _ => {}
            }
        }
        assert!(
            effective.values().all(|&k| k == 1),
            "n{n} applied a command twice"
        );
    }
    // The crashed leader came back with its log (a dozen appends were applied
    // before the crash, so at least those entries were durable).
    let reboot = c.events(leader).into_iter().find_map(|e| match e {
        TraceEvent::Boot {
            generation: 1,
            last_index,
            snapshot_index,
            ..
        } => Some(last_index.max(snapshot_index)),
        _ => None,
    });
    let recovered = reboot.expect("the leader rebooted");
    assert!(
        recovered >= 13,
        "n{leader} rebooted with its log up to {recovered}"
    );
}
