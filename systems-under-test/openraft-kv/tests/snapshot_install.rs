//! A partitioned follower misses more than the leader keeps behind its
//! snapshots, so on rejoining it is caught up by a chunked InstallSnapshot.
mod common;

use common::{count, write_keys, Cluster};
use openraft_kv::Knobs;
use std::time::Duration;
use sut::ops::Op;
use sut::trace::TraceEvent;

#[test]
fn partitioned_follower_catches_up_by_chunked_snapshot() {
    let mut c = Cluster::new(11, Knobs::default());
    c.client(|mut client| async move { write_keys(&mut client, 0..5).await });
    c.sim.partition("n3", "n1");
    c.sim.partition("n3", "n2");
    // Far more than `snapshot_logs_since_last` (8) + `logs_to_keep` (1).
    c.client(|mut client| async move { write_keys(&mut client, 5..45).await });
    c.sim.repair("n3", "n1");
    c.sim.repair("n3", "n2");
    c.run_until(Duration::from_secs(10), "n3 has the last write", |rs| {
        rs.iter()
            .any(|r| r.node == 3 && has_key(&r.event, "key-44"))
    });
    let events = c.events(3);
    // The last install brought key-44 (an earlier one may have been under way).
    let (from, index, size) = events
        .iter()
        .rev()
        .find_map(|e| match e {
            TraceEvent::SnapshotInstalled {
                from, index, size, ..
            } => Some((*from, *index, *size)),
            _ => None,
        })
        .expect("installed");
    assert!(
        index > 8,
        "the snapshot covers the writes n3 missed (index {index})"
    );
    let installs = count(&c.trace.records(), |r| {
        r.node == 3 && matches!(r.event, TraceEvent::SnapshotInstalled { .. })
    });
    let chunk = Knobs::default().snapshot_chunk_bytes;
    assert!(
        size > 2 * chunk,
        "a snapshot of {size} bytes needs several chunks"
    );
    // Every chunk of that snapshot arrived and was accepted, offsets in order.
    let offsets: Vec<u64> = events
        .iter()
        .filter_map(|e| match e {
            TraceEvent::SnapshotChunkReceived {
                index: i,
                offset,
                accepted: true,
                from: f,
                ..
            } if *i == index && *f == from => Some(*offset),
            _ => None,
        })
        .collect();
    assert!(
        offsets.len() as u64 >= size.div_ceil(chunk),
        "chunks {offsets:?}"
    );
    assert_eq!(offsets.first(), Some(&0));
    let records = c.trace.records();
    let sent = count(&records, |r| {
        r.node == from
            && matches!(r.event, TraceEvent::SnapshotChunkSent { to: 3, index: i, .. } if i == index)
    });
    assert!(
        sent >= offsets.len(),
        "{sent} chunks sent, {} received",
        offsets.len()
    );
    // n3's restored state is the sender's snapshot, key for key.
    let restored = events.iter().rev().find_map(|e| match e {
        TraceEvent::Restored {
            index: i,
            contents,
            on_boot: false,
            ..
        } if *i == index => Some(contents.clone()),
        _ => None,
    });
    let created = c.events(from).into_iter().find_map(|e| match e {
        TraceEvent::SnapshotCreated {
            index: i, contents, ..
        } if i == index => Some(contents),
        _ => None,
    });
    assert_eq!(restored, created, "n3 restored what n{from} snapshotted");
    let restored = restored.expect("restored");
    assert_eq!(
        restored.data.get("key-5").map(String::as_str),
        Some("value-5"),
        "a missed write"
    );

    // From there on n3 follows the log again.
    c.client(|mut client| async move { write_keys(&mut client, 45..48).await });
    c.run_for(Duration::from_millis(200));
    let later = c
        .events(3)
        .into_iter()
        .filter(|e| matches!(e, TraceEvent::Apply { index: i, client: Some(_), .. } if *i > index))
        .count();
    assert!(later >= 3, "n3 applied {later} commands after the install");
    eprintln!(
        "n3: {installs} snapshot installs, the last at index {index}: {size} bytes in {} chunks",
        offsets.len()
    );
}

/// Whether `event` gives its node `key`: by applying a put, or in a restored state.
fn has_key(event: &TraceEvent, key: &str) -> bool {
    match event {
        TraceEvent::Apply {
            op: Some(Op::Put { key: k, .. }),
            ..
        } => k == key,
        TraceEvent::Restored { contents, .. } => contents.data.contains_key(key),
        _ => false,
    }
}
