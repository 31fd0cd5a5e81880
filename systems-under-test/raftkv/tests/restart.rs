//! Restart from WAL + snapshot, end to end through the core, storage and the KV:
//! a single-voter node snapshots at threshold 1 with no trailing log, crashes with
//! a torn WAL tail, and comes back with exactly the state its durable log implies.
use raftkv::kv::{Command, Kv, Op};
use raftkv::raft::{Bootstrap, ConfState, Config, Payload, Raft, Snapshot};
use raftkv::storage::{Disk, MemDisk, MemOp, Storage};

/// A minimal synchronous runtime around one node (the real one is `node::run`).
struct Mini {
    raft: Raft,
    kv: Kv,
    storage: Storage<MemDisk>,
    threshold: u64,
}

impl Mini {
    fn boot(disk: &MemDisk, threshold: u64) -> (Mini, raftkv::storage::Recovered) {
        let (storage, rec) = Storage::open(disk.clone()).expect("storage opens");
        let mut kv = Kv::default();
        if let Some(s) = &rec.snapshot {
            kv.restore(&s.data).expect("snapshot restores");
        }
        let raft = Raft::new(
            Config::new(1, 9),
            Bootstrap {
                hard_state: rec.hard_state,
                snapshot: rec.snapshot.clone(),
                entries: rec.entries.clone(),
                initial_conf: ConfState::new([1]),
                recovering: false,
                incarnation: 0,
            },
        );
        let mut m = Mini {
            raft,
            kv,
            storage,
            threshold,
        };
        m.drive();
        (m, rec)
    }

    /// Handles Ready until quiet: persist + sync, apply, snapshot when due.
    fn drive(&mut self) {
        while self.raft.has_ready() {
            let rd = self.raft.ready();
            self.storage.append(&rd.entries).unwrap();
            if let Some(hs) = rd.hard_state {
                self.storage.set_hard_state(hs).unwrap();
            }
            self.storage.sync().unwrap();
            for e in rd.committed {
                if let Payload::Command(b) = e.payload {
                    self.kv.apply(&Command::decode(&b).unwrap());
                }
            }
            let applied = self.raft.log.applied;
            if applied >= self.raft.log.snapshot_index() + self.threshold {
                let meta = self.raft.snapshot_meta_at_applied();
                let snap = Snapshot {
                    meta: meta.clone(),
                    data: self.kv.snapshot(),
                };
                self.storage.save_snapshot(&snap).unwrap();
                let hs = self.raft.hard_state();
                self.raft.compact(snap, 0);
                let retained = self.raft.log.all_entries().to_vec();
                self.storage.compact(&meta, hs, &retained).unwrap();
            }
        }
    }

    fn elect(&mut self) {
        for _ in 0..100 {
            self.raft.tick();
            self.drive();
            if self.raft.leader() == Some(1) {
                return;
            }
        }
        panic!("single voter never elected itself");
    }

    fn put(&mut self, seq: u64, value: &str) {
        let cmd = Command {
            client: 5,
            seq,
            op: Op::Append {
                key: "k".into(),
                value: value.into(),
            },
        };
        self.raft.propose(Payload::Command(cmd.encode())).unwrap();
        self.drive();
    }
}

#[test]
fn restart_from_snapshot_and_wal_with_a_torn_tail() {
    let disk = MemDisk::new();
    let (mut node, _) = Mini::boot(&disk, 1);
    node.elect();
    for i in 1..=5 {
        node.put(i, &format!("<{i}>"));
    }
    assert_eq!(node.kv.get("k").unwrap(), "<1><2><3><4><5>");
    let snap_index = node.raft.log.snapshot_index();
    assert_eq!(
        snap_index, node.raft.log.applied,
        "threshold 1: snapshot at every entry"
    );

    // Snapshots stop (threshold 100 from here on) so that two more entries land in
    // the WAL; the crash tears the second while its fsync is under way.
    node.threshold = 100;
    node.put(6, "<6>");
    let seg = disk
        .list()
        .unwrap()
        .into_iter()
        .filter(|n| n.starts_with("wal-"))
        .max()
        .unwrap();
    let durable_len = disk.file_len(&seg).unwrap();
    disk.fail_next(MemOp::Sync);
    let cmd = Command {
        client: 5,
        seq: 7,
        op: Op::Append {
            key: "k".into(),
            value: "<7>".into(),
        },
    };
    node.raft.propose(Payload::Command(cmd.encode())).unwrap();
    let rd = node.raft.ready();
    node.storage.append(&rd.entries).unwrap();
    assert!(
        node.storage.sync().is_err(),
        "the fsync fails: power is going"
    );
    disk.crash_torn(&seg, 7);
    drop(node);

    let (node, rec) = Mini::boot(&disk, 100);
    let torn = rec
        .report
        .torn_tail
        .expect("the torn record is cut off and reported");
    assert_eq!(torn.file, seg);
    assert_eq!(torn.offset, durable_len as u64);
    assert_eq!(
        rec.snapshot.as_ref().map(|s| s.meta.index),
        Some(snap_index)
    );
    // Entry 6 was durable and committed (single voter): it is replayed on top of
    // the snapshot. Entry 7 never became durable, so it is gone.
    assert_eq!(node.kv.get("k").unwrap(), "<1><2><3><4><5><6>");
    assert_eq!(node.raft.log.last_index(), snap_index + 1);
    assert_eq!(node.raft.log.applied, snap_index + 1);
}

#[test]
fn restart_after_snapshot_with_no_trailing_log_restores_state_and_sessions() {
    let disk = MemDisk::new();
    let (mut node, _) = Mini::boot(&disk, 1);
    node.elect();
    for i in 1..=4 {
        node.put(i, "x");
    }
    let before = node.kv.clone();
    disk.crash();
    drop(node);
    let (mut node, rec) = Mini::boot(&disk, 1);
    assert!(rec.snapshot.is_some());
    assert_eq!(node.kv, before, "data and session table restored");
    // A retry of the last command after the restart is recognised as a duplicate.
    node.elect();
    node.put(4, "x");
    assert_eq!(node.kv.get("k").unwrap(), "xxxx");
}
