//! `Storage<SimDisk>` inside a real turmoil simulation, across a host crash.
use super::*;
use crate::raft::{ConfState, Payload};
use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, SystemTime};
use turmoil::fs::shim::std::fs as simfs;

const NODE_ROOT: &str = "/data/node-1/gen-1";
const PROBE_ROOT: &str = "/data/node-1/probe";
const FRESH_ROOT: &str = "/data/node-2/gen-1";
const BARE_ROOT: &str = "/data/node-3/gen-1";

fn entry(index: Index) -> Entry {
    Entry {
        term: 1,
        index,
        payload: Payload::Command(vec![index as u8; 10]),
    }
}

fn snap(index: Index) -> Snapshot {
    Snapshot {
        meta: SnapshotMeta {
            index,
            term: 1,
            conf: ConfState::new([1, 2, 3]),
        },
        data: b"kv state".to_vec(),
    }
}

fn hs(commit: Index) -> HardState {
    HardState {
        term: 1,
        vote: Some(1),
        commit,
    }
}

/// What the hosts observed after the crash.
#[derive(Default)]
struct Observed {
    node: Option<Recovered>,
    durable_probe: Option<Vec<u8>>,
    orphan_probe_exists: Option<bool>,
    fresh_root_exists: Option<bool>,
    bare_root_exists: Option<bool>,
    fresh: Option<Recovered>,
    unsynced_dir_exists: Option<bool>,
}

/// Before the crash: writes a WAL with a compaction, a synced tail and an
/// unsynced one, plus raw-disk probes of the durability rules.
fn node_before_crash() -> Result<(), Box<dyn std::error::Error>> {
    let (mut st, rec) = Storage::open(SimDisk::new(NODE_ROOT)?)?;
    assert!(rec.report.created_segment.is_some());
    st.set_segment_limit(128);
    st.append(&(1..=10).map(entry).collect::<Vec<_>>())?;
    st.set_hard_state(hs(10))?;
    st.sync()?;
    st.save_snapshot(&snap(5))?;
    st.compact(
        &snap(5).meta,
        hs(10),
        &(3..=10).map(entry).collect::<Vec<_>>(),
    )?;
    st.append(&(11..=12).map(entry).collect::<Vec<_>>())?;
    st.set_hard_state(hs(12))?;
    st.sync()?;
    st.append(&[entry(13)])?;
    st.set_hard_state(hs(13))?;
    // Not synced: lost. A later snapshot saved but not compacted: ignored.
    st.save_snapshot(&snap(12))?;

    let mut probe = SimDisk::new(PROBE_ROOT)?;
    probe.create("durable", b"abc")?;
    probe.sync("durable")?;
    probe.sync_dir()?;
    probe.append("durable", b"def")?; // unsynced append: lost
    probe.create("orphan", b"xyz")?;
    probe.sync("orphan")?; // content synced, directory entry not: lost
    Ok(())
}

fn fresh_before_crash() -> Result<(), Box<dyn std::error::Error>> {
    // Opening alone must leave a root that survives the crash.
    Storage::open(SimDisk::new(FRESH_ROOT)?)?;
    // So must creating the disk alone, before any file is written in it.
    SimDisk::new(BARE_ROOT)?;
    // Control: a directory created without syncing its parent does not.
    simfs::create_dir_all("/data/unsynced/dir")?;
    Ok(())
}

async fn wait_for_hosts(done: Rc<RefCell<u32>>) -> turmoil::Result {
    while *done.borrow() < 2 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok(())
}

#[test]
fn sim_disk_storage_survives_a_host_crash() -> turmoil::Result {
    let mut builder = turmoil::Builder::new();
    builder
        .epoch(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000))
        .rng_seed(7);
    builder.fs().block_size(16);
    let mut sim = builder.build();

    let crashed = Rc::new(RefCell::new(false));
    let observed = Rc::new(RefCell::new(Observed::default()));
    // How many hosts have finished the current phase.
    let done = Rc::new(RefCell::new(0));

    let (c, o, n) = (crashed.clone(), observed.clone(), done.clone());
    sim.host("node", move || {
        let (crashed, observed, done) = (c.clone(), o.clone(), n.clone());
        async move {
            if !*crashed.borrow() {
                node_before_crash()?;
            } else {
                let (_, rec) = Storage::open(SimDisk::new(NODE_ROOT)?)?;
                let probe = SimDisk::new(PROBE_ROOT)?;
                let mut obs = observed.borrow_mut();
                obs.node = Some(rec);
                obs.durable_probe = Some(probe.read("durable")?);
                obs.orphan_probe_exists = Some(probe.list()?.contains(&"orphan".to_string()));
            }
            *done.borrow_mut() += 1;
            std::future::pending::<()>().await;
            Ok(())
        }
    });
    let (c, o, n) = (crashed.clone(), observed.clone(), done.clone());
    sim.host("fresh", move || {
        let (crashed, observed, done) = (c.clone(), o.clone(), n.clone());
        async move {
            if !*crashed.borrow() {
                fresh_before_crash()?;
            } else {
                let mut obs = observed.borrow_mut();
                obs.fresh_root_exists = Some(simfs::exists(FRESH_ROOT));
                obs.bare_root_exists = Some(simfs::exists(BARE_ROOT));
                obs.unsynced_dir_exists = Some(simfs::exists("/data/unsynced"));
                obs.fresh = Some(Storage::open(SimDisk::new(FRESH_ROOT)?)?.1);
            }
            *done.borrow_mut() += 1;
            std::future::pending::<()>().await;
            Ok(())
        }
    });

    let n = done.clone();
    sim.client("before-crash", wait_for_hosts(n));
    sim.run()?;

    sim.crash("node");
    sim.crash("fresh");
    *crashed.borrow_mut() = true;
    *done.borrow_mut() = 0;
    sim.bounce("node");
    sim.bounce("fresh");
    let n = done.clone();
    sim.client("after-crash", wait_for_hosts(n));
    sim.run()?;

    let obs = observed.borrow();
    let node = obs.node.as_ref().expect("node rebooted");
    assert_eq!(node.snapshot, Some(snap(5)));
    assert_eq!(node.entries, (3..=12).map(entry).collect::<Vec<_>>());
    assert_eq!(node.hard_state, hs(12));
    assert_eq!(node.report.torn_tail, None);
    assert_eq!(node.report.created_segment, None);
    assert_eq!(
        node.report.unmarked_snapshots_ignored,
        vec![snap_name(1, 12)]
    );
    assert_eq!(obs.durable_probe.as_deref(), Some(&b"abc"[..]));
    assert_eq!(obs.orphan_probe_exists, Some(false));

    assert_eq!(
        obs.unsynced_dir_exists,
        Some(false),
        "control: unsynced dir lost"
    );
    assert_eq!(obs.fresh_root_exists, Some(true));
    assert_eq!(obs.bare_root_exists, Some(true));
    let fresh = obs.fresh.as_ref().expect("fresh rebooted");
    assert_eq!(fresh.report.created_segment, None, "first segment survived");
    assert_eq!(fresh.report.segments_read, vec![segment_name(0)]);
    Ok(())
}
