//! Deterministic unit tests of the protocol core, driven by an in-memory network
//! (no simulator, no I/O): messages are delivered in FIFO order unless a link is cut.
use super::types::ConfChangeKind;
use super::*;
use crate::trace::{Role, TraceEvent};
use std::collections::{BTreeMap, BTreeSet, VecDeque};

/// A node plus the toy runtime around it: "persisting" is taking the Ready, the state
/// machine is the list of applied command payloads.
struct TestNode {
    raft: Raft,
    applied: Vec<Vec<u8>>,
    events: Vec<TraceEvent>,
    reads: Vec<ReadState>,
    dropped_reads: Vec<u64>,
    /// Snapshot every `threshold` applied entries, keeping `trailing` entries.
    policy: Option<(u64, u64)>,
}

struct Net {
    nodes: BTreeMap<NodeId, TestNode>,
    cut: BTreeSet<(NodeId, NodeId)>,
    queue: VecDeque<Message>,
    /// Every (term, leader) ever seen, for election safety.
    leaders: BTreeMap<Term, BTreeSet<NodeId>>,
}

fn config(id: NodeId) -> Config {
    let mut c = Config::new(id, 1000 + id);
    c.snapshot_chunk_size = 16;
    c
}

impl Net {
    fn new(n: u64) -> Net {
        Self::with(n, |id| {
            (
                config(id),
                Bootstrap {
                    initial_conf: ConfState::new(1..=n),
                    ..Default::default()
                },
            )
        })
    }

    fn with(n: u64, mut make: impl FnMut(NodeId) -> (Config, Bootstrap)) -> Net {
        let nodes = (1..=n)
            .map(|id| {
                let (cfg, boot) = make(id);
                let node = TestNode {
                    raft: Raft::new(cfg, boot),
                    applied: Vec::new(),
                    events: Vec::new(),
                    reads: Vec::new(),
                    dropped_reads: Vec::new(),
                    policy: None,
                };
                (id, node)
            })
            .collect();
        Net {
            nodes,
            cut: BTreeSet::new(),
            queue: VecDeque::new(),
            leaders: BTreeMap::new(),
        }
    }

    fn node(&mut self, id: NodeId) -> &mut Raft {
        &mut self.nodes.get_mut(&id).unwrap().raft
    }

    fn isolate(&mut self, id: NodeId) {
        for other in self.nodes.keys().copied().collect::<Vec<_>>() {
            if other != id {
                self.cut.insert((id, other));
                self.cut.insert((other, id));
            }
        }
    }

    fn heal(&mut self) {
        self.cut.clear();
    }

    /// Handles every node's Ready, then delivers messages until the network is quiet.
    fn settle(&mut self) {
        for _ in 0..100_000 {
            self.collect_ready();
            let Some(m) = self.queue.pop_front() else {
                return;
            };
            if self.cut.contains(&(m.from, m.to)) {
                continue;
            }
            if let Some(n) = self.nodes.get_mut(&m.to) {
                n.raft.step(m);
            }
        }
        panic!("network never settled");
    }

    fn collect_ready(&mut self) {
        for (id, n) in self.nodes.iter_mut() {
            while n.raft.has_ready() {
                let rd = n.raft.ready();
                if let Some(snap) = &rd.snapshot {
                    n.applied = postcard::from_bytes(&snap.data).unwrap();
                }
                for e in &rd.committed {
                    match &e.payload {
                        Payload::Command(c) => n.applied.push(c.clone()),
                        Payload::ConfChange(cc) => n.raft.apply_conf_change(e.index, *cc),
                        Payload::Noop => {}
                    }
                }
                self.queue.extend(rd.messages);
                n.events.extend(rd.events);
                n.reads.extend(rd.read_states);
                n.dropped_reads.extend(rd.dropped_reads);
                if let Some((threshold, trailing)) = n.policy {
                    let snap_index = n.raft.log.snapshot_index();
                    if n.raft.log.applied >= snap_index + threshold {
                        let meta = n.raft.snapshot_meta_at_applied();
                        let data = postcard::to_stdvec(&n.applied).unwrap();
                        n.raft.compact(Snapshot { meta, data }, trailing);
                    }
                }
            }
            if n.raft.role() == Role::Leader {
                self.leaders.entry(n.raft.term()).or_default().insert(*id);
            }
        }
    }

    fn tick_all(&mut self, ticks: u32) {
        for _ in 0..ticks {
            for n in self.nodes.values_mut() {
                n.raft.tick();
            }
            self.settle();
        }
    }

    fn leader(&self) -> Option<NodeId> {
        let mut leaders = self
            .nodes
            .iter()
            .filter(|(_, n)| n.raft.role() == Role::Leader)
            .map(|(id, n)| (n.raft.term(), *id));
        leaders
            .clone()
            .max()
            .map(|(_, id)| id)
            .filter(|_| leaders.next().is_some())
    }

    fn wait_leader(&mut self) -> NodeId {
        for _ in 0..200 {
            self.tick_all(1);
            if let Some(l) = self.leader() {
                return l;
            }
        }
        panic!("no leader elected");
    }

    fn propose(&mut self, leader: NodeId, data: &[u8]) -> Index {
        let i = self
            .node(leader)
            .propose(Payload::Command(data.to_vec()))
            .unwrap();
        self.settle();
        i
    }

    fn assert_election_safety(&self) {
        for (term, leaders) in &self.leaders {
            assert!(leaders.len() <= 1, "two leaders {leaders:?} in term {term}");
        }
    }

    fn events(&self, id: NodeId) -> &[TraceEvent] {
        &self.nodes[&id].events
    }
}

fn entry(index: Index, term: Term) -> Entry {
    Entry {
        term,
        index,
        payload: Payload::Command(vec![index as u8, term as u8]),
    }
}

#[test]
fn elects_one_leader_and_replicates() {
    let mut net = Net::new(3);
    let l = net.wait_leader();
    for i in 0..5u8 {
        net.propose(l, &[i]);
    }
    net.tick_all(3);
    for n in net.nodes.values() {
        assert_eq!(n.applied, (0..5u8).map(|i| vec![i]).collect::<Vec<_>>());
        n.raft.log.debug_assert_invariants();
    }
    net.assert_election_safety();
}

#[test]
fn split_vote_resolves_in_a_later_term() {
    let mut net = Net::with(4, |id| {
        let mut c = config(id);
        c.pre_vote = false;
        (
            c,
            Bootstrap {
                initial_conf: ConfState::new(1..=4),
                ..Default::default()
            },
        )
    });
    // 1 and 3 campaign at once; 2 hears 1 first, 4 hears 3 first: two votes each,
    // and three are needed.
    net.cut.insert((1, 4));
    net.cut.insert((3, 2));
    net.node(1).campaign_now();
    net.node(3).campaign_now();
    net.settle();
    assert_eq!(net.node(1).role(), Role::Candidate);
    assert_eq!(net.node(3).role(), Role::Candidate);
    assert_eq!(net.node(1).term(), 1);
    assert_eq!(net.leader(), None, "a split vote elects nobody");
    net.heal();
    let l = net.wait_leader();
    assert!(net.node(l).term() >= 2, "resolved in a later term");
    net.assert_election_safety();
}

#[test]
fn pre_vote_keeps_a_rejoining_node_from_disrupting_the_leader() {
    let mut net = Net::new(3);
    let l = net.wait_leader();
    let term = net.node(l).term();
    let f = (1..=3).find(|&i| i != l).unwrap();
    net.isolate(f);
    net.tick_all(100); // f times out over and over, but pre-vote never succeeds
    assert_eq!(net.node(f).term(), term, "pre-vote must not bump the term");
    net.heal();
    net.tick_all(10);
    assert_eq!(net.leader(), Some(l));
    assert_eq!(net.node(l).term(), term);
}

#[test]
fn check_quorum_makes_an_isolated_leader_step_down() {
    let mut net = Net::new(3);
    let l = net.wait_leader();
    net.isolate(l);
    net.tick_all(25);
    assert_ne!(
        net.node(l).role(),
        Role::Leader,
        "isolated leader kept leading"
    );
    let others: Vec<NodeId> = (1..=3).filter(|&i| i != l).collect();
    assert!(others
        .iter()
        .any(|&i| net.nodes[&i].raft.role() == Role::Leader));
    net.assert_election_safety();
}

/// Figure 8's setup: node 1 has [1:t1, 2:t2] (index 2 from an old term, never
/// committed; nodes 2 and 3 hold it too, 4 and 5 do not) and becomes leader of
/// term 4 with its appends to the others cut.
fn figure8_leader(bugs: crate::bugs::Bugs) -> Net {
    let mut net = Net::with(5, |id| {
        let entries = if id <= 3 {
            vec![entry(1, 1), entry(2, 2)]
        } else {
            vec![entry(1, 1)]
        };
        let mut cfg = config(id);
        cfg.bugs = bugs;
        (
            cfg,
            Bootstrap {
                hard_state: HardState {
                    term: 3,
                    vote: None,
                    commit: 1,
                },
                entries,
                initial_conf: ConfState::new(1..=5),
                ..Default::default()
            },
        )
    });
    net.node(1).campaign_now();
    // Let only the votes through: cut every append from 1.
    for to in 2..=5 {
        net.cut.insert((1, to));
    }
    let votes: Vec<Message> = net.node(1).ready().messages;
    for m in votes {
        let to = m.to;
        net.node(to).step(m);
        let replies = net.node(to).ready().messages;
        for r in replies {
            net.node(1).step(r);
            let more = net.node(1).ready().messages;
            for v in more
                .into_iter()
                .filter(|v| matches!(v.body, Body::Vote { .. }))
            {
                let to = v.to;
                net.node(to).step(v);
                for r in net.node(to).ready().messages {
                    net.node(1).step(r);
                }
            }
        }
    }
    assert_eq!(net.node(1).role(), Role::Leader);
    assert_eq!(net.node(1).term(), 4);
    net
}

/// A successful AppendEntries answer to node 1 in term 4.
fn figure8_ack(from: NodeId, index: Index) -> Message {
    Message {
        from,
        to: 1,
        term: 4,
        incarnation: 0,
        recovering: false,
        body: Body::AppendResp {
            reject: false,
            index,
            hint_index: 0,
            hint_term: 0,
        },
    }
}

#[test]
fn figure8_leader_commits_only_entries_of_its_own_term() {
    let mut net = figure8_leader(crate::bugs::Bugs::NONE);
    // The new leader appended a no-op of its term at 3.
    assert_eq!(net.node(1).log.last_index(), 3);
    let ack = figure8_ack;
    // Index 2 (term 2) is now on nodes 1, 2, 3: a majority of 5. It must not commit.
    net.node(1).step(ack(2, 2));
    net.node(1).step(ack(3, 2));
    assert_eq!(
        net.node(1).log.committed,
        1,
        "an old-term entry on a majority is not committed by counting replicas"
    );
    // Once the term-4 no-op is on a majority, everything up to it commits.
    net.node(1).step(ack(2, 3));
    net.node(1).step(ack(3, 3));
    assert_eq!(net.node(1).log.committed, 3);
}

#[test]
fn commit_old_term_mutant_commits_an_earlier_terms_entry_by_counting_replicas() {
    let bugs = crate::bugs::Bugs::NONE.with(crate::bugs::Bug::CommitOldTerm);
    let mut net = figure8_leader(bugs);
    assert_eq!(net.node(1).log.last_index(), 2, "no election no-op");
    net.node(1).step(figure8_ack(2, 2));
    assert_eq!(net.node(1).log.committed, 1, "not yet on a majority");
    net.node(1).step(figure8_ack(3, 2));
    assert_eq!(net.node(1).log.committed, 2);
    assert_eq!(
        net.node(1).log.term(2),
        Some(2),
        "an entry of term 2, under term 4"
    );
}

#[test]
fn conflicting_follower_suffix_is_replaced_by_the_leaders_log() {
    // Figure 7 (f)-like: node 2 holds uncommitted entries of terms 2 and 3 that
    // the leader of term 5 never had.
    let mut net = Net::with(3, |id| {
        let entries = match id {
            1 => vec![entry(1, 1), entry(2, 1), entry(3, 4), entry(4, 4)],
            2 => vec![
                entry(1, 1),
                entry(2, 1),
                entry(3, 2),
                entry(4, 2),
                entry(5, 2),
                entry(6, 3),
                entry(7, 3),
            ],
            _ => vec![entry(1, 1)],
        };
        (
            config(id),
            Bootstrap {
                hard_state: HardState {
                    term: 4,
                    vote: None,
                    commit: 1,
                },
                entries,
                initial_conf: ConfState::new(1..=3),
                ..Default::default()
            },
        )
    });
    net.node(1).campaign_now();
    net.settle();
    assert_eq!(net.leader(), Some(1));
    net.tick_all(5);
    let leader_log: Vec<(Index, Term)> = net.nodes[&1]
        .raft
        .log
        .all_entries()
        .iter()
        .map(|e| (e.index, e.term))
        .collect();
    assert_eq!(leader_log, vec![(1, 1), (2, 1), (3, 4), (4, 4), (5, 5)]);
    for id in 2..=3 {
        let log: Vec<(Index, Term)> = net.nodes[&id]
            .raft
            .log
            .all_entries()
            .iter()
            .map(|e| (e.index, e.term))
            .collect();
        assert_eq!(log, leader_log, "node {id} converged");
    }
    assert_eq!(net.nodes[&2].raft.log.committed, 5);
}

#[test]
fn lagging_follower_catches_up_by_chunked_snapshot_at_threshold_1_trailing_0() {
    let mut net = Net::new(3);
    for n in net.nodes.values_mut() {
        n.policy = Some((1, 0));
    }
    let l = net.wait_leader();
    let f = (1..=3).find(|&i| i != l).unwrap();
    net.isolate(f);
    for i in 0..20u8 {
        net.propose(l, &[i; 8]);
    }
    net.tick_all(2);
    // threshold 1 / trailing 0: the leader keeps no log behind its snapshot.
    let lr = &net.nodes[&l].raft.log;
    assert_eq!(lr.snapshot_index(), lr.applied);
    assert_eq!(lr.first_index(), lr.snapshot_index() + 1);
    net.heal();
    net.tick_all(30);
    let expected: Vec<Vec<u8>> = (0..20u8).map(|i| vec![i; 8]).collect();
    assert_eq!(
        net.nodes[&f].applied, expected,
        "follower state after install"
    );
    let installed = net
        .events(f)
        .iter()
        .filter(|e| matches!(e, TraceEvent::SnapshotInstalled { .. }))
        .count();
    let chunks = net
        .events(f)
        .iter()
        .filter(|e| matches!(e, TraceEvent::SnapshotChunkReceived { accepted: true, .. }))
        .count();
    assert_eq!(installed, 1);
    assert!(chunks > 1, "the snapshot went in several chunks ({chunks})");
    // And it keeps replicating normally afterwards.
    net.propose(l, b"after");
    net.tick_all(2);
    assert_eq!(net.nodes[&f].applied.last().unwrap(), b"after");
    for n in net.nodes.values() {
        n.raft.log.debug_assert_invariants();
    }
}

fn follower_with_commit(commit_upto: Index) -> Raft {
    let entries: Vec<Entry> = (1..=commit_upto).map(|i| entry(i, 1)).collect();
    Raft::new(
        config(2),
        Bootstrap {
            hard_state: HardState {
                term: 1,
                vote: None,
                commit: commit_upto,
            },
            entries,
            initial_conf: ConfState::new(1..=3),
            ..Default::default()
        },
    )
}

fn chunk(
    meta: &SnapshotMeta,
    data: &[u8],
    offset: usize,
    len: usize,
    total: Option<u64>,
) -> Message {
    let end = (offset + len).min(data.len());
    let total = total.unwrap_or(data.len() as u64);
    Message {
        from: 1,
        to: 2,
        term: 1,
        incarnation: 0,
        recovering: false,
        body: Body::SnapshotChunk {
            meta: meta.clone(),
            offset: offset as u64,
            total,
            crc: crc32fast::hash(data),
            data: data[offset..end].to_vec(),
            last: end as u64 >= total || end == data.len(),
        },
    }
}

fn snap_meta(index: Index) -> SnapshotMeta {
    SnapshotMeta {
        index,
        term: 1,
        conf: ConfState::new(1..=3),
    }
}

fn installed(r: &mut Raft) -> Option<Snapshot> {
    r.ready().snapshot
}

#[test]
fn chunked_install_accepts_a_whole_transfer() {
    let mut r = follower_with_commit(2);
    let data: Vec<u8> = (0..100).collect();
    let meta = snap_meta(10);
    for off in (0..100).step_by(30) {
        r.step(chunk(&meta, &data, off, 30, None));
    }
    let snap = installed(&mut r).expect("installed");
    assert_eq!(snap.data, data);
    assert_eq!(r.log.applied, 10);
    assert_eq!(r.log.committed, 10);
    assert_eq!(r.log.first_index(), 11);
}

#[test]
fn chunk_of_a_different_snapshot_restarts_the_transfer() {
    let mut r = follower_with_commit(2);
    let data: Vec<u8> = (0..100).collect();
    r.step(chunk(&snap_meta(10), &data, 0, 40, None));
    // The leader switched to another snapshot but we only see its second chunk.
    r.step(chunk(&snap_meta(12), &data, 40, 60, None));
    let rd = r.ready();
    assert!(rd.snapshot.is_none(), "mixed chunks must not install");
    assert!(rd.messages.iter().any(|m| matches!(
        m.body,
        Body::SnapshotAck {
            restart: true,
            snap_index: 12,
            ..
        }
    )));
    assert!(rd.events.iter().any(|e| matches!(e,
        TraceEvent::SnapshotChunkReceived { accepted: false, reason, .. } if reason.contains("different"))));
    // A clean restart of snapshot 12 then succeeds.
    r.step(chunk(&snap_meta(12), &data, 0, 100, None));
    assert_eq!(installed(&mut r).unwrap().meta.index, 12);
}

#[test]
fn short_transfer_is_rejected() {
    let mut r = follower_with_commit(2);
    let data: Vec<u8> = (0..100).collect();
    let meta = snap_meta(10);
    r.step(chunk(&meta, &data, 0, 40, None));
    // The sender claims the transfer ends at 80 bytes of 100.
    let mut m = chunk(&meta, &data, 40, 40, None);
    if let Body::SnapshotChunk { last, .. } = &mut m.body {
        *last = true;
    }
    r.step(m);
    let rd = r.ready();
    assert!(rd.snapshot.is_none(), "a short transfer must not install");
    assert!(rd.events.iter().any(|e| matches!(e,
        TraceEvent::SnapshotChunkReceived { accepted: false, reason, .. } if reason.contains("short"))));
    assert_eq!(r.log.committed, 2);
}

#[test]
fn over_long_and_corrupt_transfers_are_rejected() {
    let mut r = follower_with_commit(2);
    let data: Vec<u8> = (0..100).collect();
    let meta = snap_meta(10);
    // Claims 50 bytes in total but sends 100.
    r.step(chunk(&meta, &data, 0, 100, Some(50)));
    assert!(installed(&mut r).is_none());
    // Right size, wrong checksum.
    let mut m = chunk(&meta, &data, 0, 100, None);
    if let Body::SnapshotChunk { crc, .. } = &mut m.body {
        *crc ^= 1;
    }
    r.step(m);
    let rd = r.ready();
    assert!(rd.snapshot.is_none());
    assert!(rd.events.iter().any(|e| matches!(e,
        TraceEvent::SnapshotRejected { reason, .. } if reason.contains("checksum"))));
}

#[test]
fn stale_snapshot_is_refused() {
    let mut r = follower_with_commit(5);
    let data: Vec<u8> = (0..10).collect();
    r.step(chunk(&snap_meta(3), &data, 0, 10, None));
    let rd = r.ready();
    assert!(
        rd.snapshot.is_none(),
        "a snapshot below commit would roll back"
    );
    assert!(rd.events.iter().any(|e| matches!(e,
        TraceEvent::SnapshotRejected { reason, .. } if reason.contains("stale"))));
    assert_eq!(r.log.last_index(), 5);
    assert_eq!(r.log.committed, 5);
    // The leader learns our commit index instead.
    assert!(rd.messages.iter().any(|m| matches!(
        m.body,
        Body::AppendResp {
            reject: false,
            index: 5,
            ..
        }
    )));
}

#[test]
fn snapshot_matching_our_log_only_fast_forwards_commit() {
    // Entries 1..=6 of term 1, committed to 2: a snapshot at (5, 1) matches.
    let mut r = follower_with_commit(6);
    r.log = RaftLog::recovered(None, (1..=6).map(|i| entry(i, 1)).collect(), 2);
    let data: Vec<u8> = (0..10).collect();
    r.step(chunk(&snap_meta(5), &data, 0, 10, None));
    let rd = r.ready();
    assert!(rd.snapshot.is_none());
    assert_eq!(r.log.committed, 5);
    assert_eq!(r.log.last_index(), 6, "the matching suffix stays");
    // Nothing was applied yet on this fresh log: entries 1..=5 now apply.
    assert_eq!(
        rd.committed.iter().map(|e| e.index).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5]
    );
}

#[test]
fn install_replaces_a_conflicting_log() {
    // Our entry 5 has term 1; the snapshot's last entry is (5, 2).
    let mut r = follower_with_commit(2);
    r.log = RaftLog::recovered(None, (1..=7).map(|i| entry(i, 1)).collect(), 2);
    let data: Vec<u8> = (0..10).collect();
    let mut meta = snap_meta(5);
    meta.term = 2;
    r.step(Message {
        term: 2,
        ..chunk(&meta, &data, 0, 10, None)
    });
    let snap = installed(&mut r).expect("installed");
    assert_eq!(snap.meta.index, 5);
    assert_eq!(
        r.log.last_index(),
        5,
        "entries after a conflicting point are dropped"
    );
    assert_eq!(r.log.term(5), Some(2));
}

#[test]
fn recovering_node_neither_votes_nor_campaigns_until_caught_up() {
    let mut net = Net::new(3);
    for n in net.nodes.values_mut() {
        n.policy = Some((2, 0));
    }
    let l = net.wait_leader();
    for i in 0..6u8 {
        net.propose(l, &[i]);
    }
    let f = (1..=3).find(|&i| i != l).unwrap();
    // f loses its disk and comes back empty.
    net.nodes.get_mut(&f).unwrap().raft = Raft::new(
        config(f),
        Bootstrap {
            initial_conf: ConfState::new(1..=3),
            recovering: true,
            incarnation: 1,
            ..Default::default()
        },
    );
    net.nodes.get_mut(&f).unwrap().applied.clear();
    let vote = Message {
        from: l,
        to: f,
        term: 99,
        incarnation: 0,
        recovering: false,
        body: Body::Vote {
            last_index: 0,
            last_term: 0,
        },
    };
    net.node(f).step(vote);
    let rd = net.node(f).ready();
    assert!(rd
        .messages
        .iter()
        .all(|m| matches!(m.body, Body::VoteResp { reject: true })));
    assert!(net.node(f).is_recovering());
    net.tick_all(20);
    assert!(!net.node(f).is_recovering(), "caught up by snapshot");
    assert_eq!(net.nodes[&f].applied.len(), 6);
}

#[test]
fn read_index_waits_for_a_heartbeat_quorum() {
    let mut net = Net::new(3);
    let l = net.wait_leader();
    let index = net.propose(l, b"x");
    net.node(l).read_index(77).unwrap();
    // Before any heartbeat answer, nothing is ready.
    let rd = net.node(l).ready();
    assert!(rd.read_states.is_empty());
    net.queue.extend(rd.messages);
    net.settle();
    let confirmed: Vec<&ReadState> = net.nodes[&l]
        .reads
        .iter()
        .filter(|s| s.request == 77)
        .collect();
    assert_eq!(confirmed.len(), 1);
    assert!(
        confirmed[0].index >= index,
        "read index covers the acknowledged write"
    );
    // An isolated leader never confirms a read, and drops it when it steps down.
    net.isolate(l);
    net.node(l).read_index(78).unwrap();
    net.tick_all(25);
    assert!(net.nodes[&l].reads.iter().all(|s| s.request != 78));
    assert!(net.nodes[&l].dropped_reads.contains(&78));
    let f = (1..=3).find(|&i| i != l).unwrap();
    let f = if net.node(f).role() == Role::Leader {
        (1..=3).find(|&i| i != l && i != f).unwrap()
    } else {
        f
    };
    assert!(matches!(
        net.node(f).read_index(1),
        Err(ProposeError::NotLeader { .. })
    ));
}

fn conf_change(kind: ConfChangeKind, node: NodeId) -> Payload {
    Payload::ConfChange(ConfChange { kind, node })
}

/// Proposes a membership change at the leader and waits until it is applied.
fn change_membership(net: &mut Net, kind: ConfChangeKind, node: NodeId) {
    let l = net.leader().expect("a leader");
    let index = net.node(l).propose(conf_change(kind, node)).unwrap();
    net.settle();
    net.tick_all(3);
    assert!(
        net.nodes[&l].raft.log.applied >= index,
        "change applied on the leader"
    );
}

#[test]
fn learner_is_added_caught_up_promoted_and_a_voter_removed() {
    // Node 4 runs but is not a member: it neither campaigns nor counts.
    let mut net = Net::with(4, |id| {
        (
            config(id),
            Bootstrap {
                initial_conf: ConfState::new(1..=3),
                ..Default::default()
            },
        )
    });
    let l = net.wait_leader();
    for i in 0..5u8 {
        net.propose(l, &[i]);
    }
    assert!(net.nodes[&4].applied.is_empty());

    change_membership(&mut net, ConfChangeKind::AddLearner, 4);
    net.tick_all(5);
    assert_eq!(
        net.nodes[&4].applied.len(),
        5,
        "the learner receives the log"
    );
    assert!(net.node(l).conf().is_learner(4));
    // A learner never campaigns, however long it waits.
    net.isolate(4);
    net.tick_all(60);
    assert_eq!(net.node(4).role(), Role::Follower);
    net.heal();
    net.tick_all(5);

    change_membership(&mut net, ConfChangeKind::AddVoter, 4);
    assert_eq!(net.node(l).conf().voters, vec![1, 2, 3, 4]);
    // With four voters, two nodes down means no quorum: nothing commits.
    let down: Vec<NodeId> = (1..=4).filter(|&n| n != l).take(2).collect();
    for &d in &down {
        net.isolate(d);
    }
    let before = net.node(l).log.committed;
    let _ = net.node(l).propose(Payload::Command(b"stuck".to_vec()));
    net.settle();
    assert_eq!(net.node(l).log.committed, before, "3 of 4 voters needed");
    net.heal();
    net.tick_all(10);

    // Remove the leader itself: it steps down once the change applies.
    let l = net.leader().unwrap();
    change_membership(&mut net, ConfChangeKind::Remove, l);
    net.tick_all(60);
    let nl = net.leader().expect("the others elect a leader");
    assert_ne!(nl, l);
    assert!(!net.node(nl).conf().contains(l));
    net.propose(nl, b"after removal");
    net.tick_all(3);
    for id in (1..=4).filter(|&n| n != l) {
        assert_eq!(net.nodes[&id].applied.last().unwrap(), b"after removal");
    }
    net.assert_election_safety();
}

#[test]
fn membership_travels_in_snapshots() {
    let mut net = Net::with(4, |id| {
        (
            config(id),
            Bootstrap {
                initial_conf: ConfState::new(1..=3),
                ..Default::default()
            },
        )
    });
    for n in net.nodes.values_mut() {
        n.policy = Some((1, 0));
    }
    let l = net.wait_leader();
    net.isolate(4);
    change_membership(&mut net, ConfChangeKind::AddLearner, 4);
    for i in 0..5u8 {
        net.propose(l, &[i]);
    }
    // The change is compacted away: node 4 can only learn it from a snapshot.
    assert!(net.node(l).log.first_index() > 2);
    net.heal();
    net.tick_all(10);
    assert!(net
        .events(4)
        .iter()
        .any(|e| matches!(e, TraceEvent::SnapshotInstalled { .. })));
    assert!(
        net.node(4).conf().is_learner(4),
        "conf state restored from the snapshot"
    );
    assert_eq!(net.node(4).conf().voters, vec![1, 2, 3]);
}

#[test]
fn only_one_membership_change_at_a_time() {
    let mut net = Net::new(3);
    let l = net.wait_leader();
    net.isolate(l); // nothing commits, so the first change stays pending
    net.node(l)
        .propose(conf_change(ConfChangeKind::AddLearner, 9))
        .unwrap();
    assert_eq!(
        net.node(l)
            .propose(conf_change(ConfChangeKind::AddLearner, 8)),
        Err(ProposeError::ConfChangePending)
    );
}

#[test]
fn lease_reads_skip_the_heartbeat_round_only_while_the_lease_holds() {
    let mut net = Net::with(3, |id| {
        let mut c = config(id);
        c.read_mode = ReadMode::Lease;
        c.check_quorum = true;
        (
            c,
            Bootstrap {
                initial_conf: ConfState::new(1..=3),
                ..Default::default()
            },
        )
    });
    let l = net.wait_leader();
    net.propose(l, b"x");
    net.tick_all(3); // heartbeats acknowledged: the lease is fresh
    net.node(l).read_index(1).unwrap();
    let rd = net.node(l).ready();
    assert_eq!(rd.read_states.len(), 1, "served at once from the lease");
    assert!(
        !rd.messages
            .iter()
            .any(|m| matches!(m.body, Body::Heartbeat { .. })),
        "no heartbeat round was needed"
    );
    net.queue.extend(rd.messages);
    net.settle();
    // Cut off, the lease runs out well before check-quorum deposes the leader.
    net.isolate(l);
    let lease = net.node(l).config().lease_ticks();
    assert!(lease < u64::from(net.node(l).config().election_tick));
    for _ in 0..=lease {
        net.node(l).tick();
        let rd = net.node(l).ready();
        net.queue.extend(rd.messages);
    }
    net.settle();
    assert_eq!(
        net.node(l).role(),
        Role::Leader,
        "still leader by its own count"
    );
    net.node(l).read_index(2).unwrap();
    let rd = net.node(l).ready();
    assert!(
        rd.read_states.is_empty(),
        "an expired lease falls back to ReadIndex"
    );
}

/// Swarm seed 75: a leader paused through a newer term reaches a follower that
/// has since lost its disk. The follower no longer remembers the newer term and
/// answers the stale leader, but a recovering follower counts toward no quorum:
/// the stale leader must neither confirm a read nor commit.
#[test]
fn a_recovering_follower_does_not_make_a_stale_leader_a_quorum() {
    let mut net = Net::new(3);
    let stale = net.wait_leader();
    let stale_term = net.node(stale).term();
    net.isolate(stale);
    let mut fresh = None;
    for _ in 0..200 {
        net.tick_all(1);
        fresh = (1..=3).find(|&i| {
            i != stale
                && net.nodes[&i].raft.role() == Role::Leader
                && net.nodes[&i].raft.term() > stale_term
        });
        if fresh.is_some() {
            break;
        }
    }
    let fresh = fresh.expect("the others elect a new leader");
    let lost = (1..=3).find(|&i| i != stale && i != fresh).unwrap();
    let acked = net.propose(fresh, b"acknowledged in the new term");
    assert!(net.nodes[&lost].raft.log.committed >= acked);
    // `lost` loses its disk; only the stale leader can reach it.
    net.nodes.get_mut(&lost).unwrap().raft = Raft::new(
        config(lost),
        Bootstrap {
            initial_conf: ConfState::new(1..=3),
            recovering: true,
            incarnation: 1,
            ..Default::default()
        },
    );
    net.heal();
    for (a, b) in [(stale, fresh), (lost, fresh)] {
        net.cut.insert((a, b));
        net.cut.insert((b, a));
    }
    let commit_before = net.nodes[&stale].raft.log.committed;
    net.node(stale).read_index(77).unwrap();
    let _ = net.node(stale).propose(Payload::Command(b"stale".to_vec()));
    for _ in 0..30 {
        net.tick_all(1);
    }
    assert!(
        net.nodes[&stale].reads.iter().all(|r| r.request != 77),
        "a stale leader confirmed a read with a recovering follower's help"
    );
    assert_eq!(
        net.nodes[&stale].raft.log.committed, commit_before,
        "a stale leader committed with a recovering follower's help"
    );
    assert!(
        net.nodes[&lost].raft.is_recovering(),
        "only a real quorum ends recovery"
    );
    // Healed, the new leader's quorum catches `lost` up and ends its recovery.
    net.heal();
    net.tick_all(40);
    assert!(!net.nodes[&lost].raft.is_recovering());
    assert!(net.nodes[&lost].raft.log.committed >= acked);
    net.assert_election_safety();
}
