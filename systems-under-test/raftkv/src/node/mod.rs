//! The node runtime: runs the protocol core inside a turmoil host. Network over
//! turmoil UDP (its TCP never retransmits a lost segment), disk over turmoil's
//! simulated file system (via [`SimDisk`]), timers from tokio's paused clock scaled
//! by a skewable node clock.
mod clients;
mod control;
mod reads;
mod wire;

pub use clients::KvClients;
pub use control::{
    Control, CrashPoint, NodeControl, NodeStatus, TraceRecord, TraceSink, TransportFaults,
};
pub use wire::{host_name, Request, Response, Wire, PORT};

use crate::bugs::{Bug, Bugs};
use crate::kv::{Command, Kv};
use crate::probe::{hit, hit_if, Probe};
use crate::raft::{
    self, Bootstrap, ConfState, Entry, Index, NodeId, Payload, ProposeError, Raft, Ready, Snapshot,
};
use crate::storage::{Disk, FaultyDisk, SimDisk, Storage};
use crate::trace::{fnv64, ApplyKind, TraceEvent};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;
use tokio::time::Instant;
use turmoil::net::UdpSocket;

/// Ready batches handled per event-loop turn before yielding to the network and
/// the clock.
const MAX_READY_PER_TURN: usize = 64;

/// File whose presence says "this disk was lost; do not vote until caught up".
const RECOVERING_MARKER: &str = "RECOVERING";

#[derive(Clone, Debug)]
pub struct NodeConfig {
    pub id: NodeId,
    pub initial_cluster: Vec<NodeId>,
    /// Protocol tunables; `seed` is mixed with the boot count on every boot.
    pub raft: raft::Config,
    /// Take a snapshot once this many entries were applied since the last one.
    pub snapshot_threshold: u64,
    /// Entries kept in the log behind a snapshot for slow followers.
    pub trailing_logs: u64,
    /// Length of one protocol tick on a node clock running at rate 1.0.
    pub tick: Duration,
    /// Bug mutants switched on (empty for the clean system).
    pub bugs: Bugs,
    /// A WAL segment is closed and the next one started past this many bytes
    /// (small values make runs cut segments between compactions).
    pub wal_segment_bytes: u64,
}

/// Why the event loop stopped.
enum Stop {
    /// The armed crash point was reached: wait for the driver to crash the host.
    CrashPoint,
    /// An unrecoverable error: halt (an operator restarts the node).
    Halt(String),
}

struct PendingWrite {
    from: SocketAddr,
    id: u64,
    client: u64,
    seq: u64,
}

struct PendingAdmin {
    from: SocketAddr,
    id: u64,
}

struct PendingRead {
    from: SocketAddr,
    id: u64,
    key: String,
}

/// Runs node `cfg.id` until the simulation crashes it. Use as a turmoil host:
/// `sim.host("n1", move || raftkv::node::run(cfg.clone(), control.clone(), sink.clone()))`.
pub async fn run(cfg: NodeConfig, control: NodeControl, trace: TraceSink) -> turmoil::Result {
    let socket = UdpSocket::bind(("0.0.0.0", PORT)).await?;
    let id = cfg.id;
    let stop = match Node::boot(cfg, control.clone(), trace.clone(), socket) {
        Ok(mut node) => node.event_loop().await,
        Err(stop) => stop,
    };
    if let Stop::Halt(reason) = stop {
        hit(Probe::NodeHalted);
        let injected_faults = control.borrow().disk.borrow().fired;
        push_trace(
            &trace,
            id,
            TraceEvent::Halt {
                reason: reason.clone(),
                injected_faults,
            },
        );
        control.borrow_mut().halted = Some(reason);
    }
    control.borrow_mut().status.running = false;
    // Stay "up" but inert: only the driver's crash or bounce ends this host.
    std::future::pending::<()>().await;
    Ok(())
}

struct Node {
    cfg: NodeConfig,
    control: NodeControl,
    trace: TraceSink,
    raft: Raft,
    kv: Kv,
    storage: Storage<FaultyDisk<SimDisk>>,
    socket: Rc<UdpSocket>,
    /// Seeded per node and boot: drives transport faults.
    rng: ChaCha8Rng,
    peers: BTreeMap<NodeId, SocketAddr>,
    writes: BTreeMap<Index, PendingWrite>,
    admin: BTreeMap<Index, PendingAdmin>,
    reads: BTreeMap<u64, PendingRead>,
    /// Confirmed reads waiting for the state machine to reach their index.
    ready_reads: Vec<(Index, u64)>,
    next_read: u64,
    digest_applied: Option<Index>,
    /// Bug mutant `deposed-leader-reads` only: the term this node last saw
    /// itself lead (its leadership cache, cleared on a term change only).
    led_term: Option<raft::Term>,
}

impl Node {
    fn boot(
        cfg: NodeConfig,
        control: NodeControl,
        trace: TraceSink,
        socket: UdpSocket,
    ) -> Result<Node, Stop> {
        let (generation, boots) = {
            let mut c = control.borrow_mut();
            c.boots += 1;
            c.crashed_at = None;
            c.halted = None;
            // Until the node publishes what its disk holds, keep what the
            // harness judges safety by (a node back on an empty disk stays
            // recovering, even if this boot halts before it can say so).
            let previous = std::mem::take(&mut c.status);
            c.status = NodeStatus {
                running: true,
                recovering: previous.recovering,
                voters: previous.voters,
                ..NodeStatus::default()
            };
            (c.generation, c.boots)
        };
        let root = format!("/data/{}/gen-{generation}", host_name(cfg.id));
        let halt = |what: &str, e: &dyn std::fmt::Display| Stop::Halt(format!("{what}: {e}"));
        let disk_faults = control.borrow().disk.clone();
        disk_faults.borrow_mut().fired = 0;
        let disk_seed = cfg.raft.seed ^ boots.wrapping_mul(0xd15c_0000_0000_0001);
        let sim_disk = SimDisk::new(root).map_err(|e| halt("opening disk", &e))?;
        let mut disk = FaultyDisk::new(sim_disk, disk_faults, disk_seed);
        let files = disk.list().map_err(|e| halt("listing disk", &e))?;
        // An empty disk after the first boot was lost: rejoin without voting until
        // caught up. The marker keeps that true across crashes while recovering.
        let recovering = ((generation > 0 && files.is_empty())
            || files.iter().any(|f| f == RECOVERING_MARKER))
            // Bug mutant: an empty disk is taken for a fresh node that may vote.
            && !cfg.bugs.has(Bug::EmptyDiskVotes);
        if recovering {
            hit(if files.is_empty() {
                Probe::RecoveringBootedEmpty
            } else {
                Probe::RecoveringRebootedStillRecovering
            });
        }
        if recovering && files.is_empty() {
            disk.create(RECOVERING_MARKER, b"")
                .and_then(|_| disk.sync(RECOVERING_MARKER))
                .and_then(|_| disk.sync_dir())
                .map_err(|e| halt("writing recovery marker", &e))?;
        }
        let (mut storage, rec) =
            Storage::open_with_bugs(disk, cfg.bugs).map_err(|e| halt("recovering storage", &e))?;
        storage.set_segment_limit(cfg.wal_segment_bytes);
        // Faults that fired while recovery read the disk (a corrupted read of
        // the last record looks like a torn tail and may cost that record).
        let boot_faults = control.borrow().disk.borrow().fired;
        let node_trace = |event| push_trace(&trace, cfg.id, event);
        let (snapshot_index, snapshot_term) = rec
            .snapshot
            .as_ref()
            .map_or((0, 0), |s| (s.meta.index, s.meta.term));
        node_trace(TraceEvent::Boot {
            generation,
            term: rec.hard_state.term,
            vote: rec.hard_state.vote,
            commit: rec.hard_state.commit,
            snapshot_index,
            snapshot_term,
            first_index: rec.entries.first().map_or(snapshot_index + 1, |e| e.index),
            last_index: rec.entries.last().map_or(snapshot_index, |e| e.index),
            torn_tail_bytes: rec
                .report
                .torn_tail
                .as_ref()
                .map_or(0, |t| t.bytes_truncated),
            recovering,
            injected_faults: boot_faults,
        });
        let mut kv = Kv::with_bugs(cfg.bugs);
        if let Some(snap) = &rec.snapshot {
            if reached(&control, CrashPoint::DuringBootRestore) {
                return Err(Stop::CrashPoint);
            }
            if !cfg.bugs.has(Bug::ForgetSnapshotOnBoot) {
                let restored = kv.restore(&snap.data);
                // Bug mutant: a failed restore is ignored; the node carries on
                // from the snapshot's index with whatever state it has.
                if !cfg.bugs.has(Bug::RestoreErrorAdvancesIndex) {
                    restored.map_err(|e| halt("restoring snapshot on boot", &e))?;
                }
            }
            hit(Probe::SnapshotRestoredOnBoot);
            node_trace(TraceEvent::Restored {
                index: snap.meta.index,
                term: snap.meta.term,
                state_digest: kv.digest(),
                applied: snap.meta.index,
                on_boot: true,
                contents: kv.contents(),
            });
        }
        let mut raft_cfg = cfg.raft.clone();
        raft_cfg.id = cfg.id;
        raft_cfg.seed = cfg.raft.seed ^ boots.wrapping_mul(0x9e37_79b9_7f4a_7c15);
        raft_cfg.bugs = cfg.bugs;
        let raft_seed = raft_cfg.seed;
        let raft = Raft::new(
            raft_cfg,
            Bootstrap {
                hard_state: rec.hard_state,
                snapshot: rec.snapshot,
                entries: rec.entries,
                initial_conf: ConfState::new(cfg.initial_cluster.iter().copied()),
                recovering,
                incarnation: generation,
            },
        );
        Ok(Node {
            cfg,
            control,
            trace,
            raft,
            kv,
            storage,
            socket: Rc::new(socket),
            rng: ChaCha8Rng::seed_from_u64(raft_seed ^ 0x7472_616e_7370_6f72),
            peers: BTreeMap::new(),
            writes: BTreeMap::new(),
            admin: BTreeMap::new(),
            reads: BTreeMap::new(),
            ready_reads: Vec::new(),
            next_read: 0,
            digest_applied: None,
            led_term: None,
        })
    }

    async fn event_loop(&mut self) -> Stop {
        // Publish what the disk held before the first wait, not after the
        // first message or tick: the harness decides which disks it may take
        // by this status (clean swarm seed 5841: a second disk was taken in
        // that window).
        self.publish_status();
        let mut buf = vec![0u8; 1 << 16];
        let mut next_tick = Instant::now() + self.tick_period(); // determinism-ok: tokio's paused clock is simulated time
        loop {
            if self.control.borrow().paused {
                tokio::time::sleep(Duration::from_millis(5)).await;
                next_tick = Instant::now() + self.tick_period(); // determinism-ok: simulated time
                continue;
            }
            tokio::select! {
                received = self.socket.recv_from(&mut buf) => {
                    if let Ok((n, from)) = received {
                        self.on_datagram(&buf[..n], from);
                    }
                }
                _ = tokio::time::sleep_until(next_tick) => {
                    self.raft.tick();
                    next_tick += self.tick_period();
                }
            }
            if let Err(stop) = self.drain_ready() {
                return stop;
            }
            self.publish_status();
        }
    }

    /// The tick length on this node's clock (a fast clock ticks more often).
    fn tick_period(&self) -> Duration {
        let rate = self.control.borrow().clock_rate.clamp(0.05, 20.0);
        self.cfg.tick.div_f64(rate)
    }

    fn on_datagram(&mut self, bytes: &[u8], from: SocketAddr) {
        let Some(wire) = Wire::decode(bytes) else {
            return; // garbage on the wire is dropped, as a real node would
        };
        match wire {
            Wire::Raft(m) if m.to == self.cfg.id => {
                self.peers.entry(m.from).or_insert(from);
                self.raft.step(m);
            }
            Wire::Raft(_) | Wire::Response { .. } => {}
            Wire::Request { id, body } => self.on_request(id, body, from),
        }
    }

    fn on_request(&mut self, id: u64, body: Request, from: SocketAddr) {
        let result = match body {
            Request::Command(cmd) => {
                let (client, seq) = (cmd.client, cmd.seq);
                self.raft
                    .propose(Payload::Command(cmd.encode()))
                    .map(|index| {
                        let w = PendingWrite {
                            from,
                            id,
                            client,
                            seq,
                        };
                        self.writes.insert(index, w);
                    })
            }
            Request::Read { key } if self.deposed_in_led_term() => {
                // Bug mutant: the leadership cache still says "leader", so the
                // read is answered from local state, unconfirmed.
                let value = self.read_value(&key);
                self.respond(from, id, Response::Value(value));
                return;
            }
            Request::Read { key } => {
                self.next_read += 1;
                let rid = self.next_read;
                self.raft.read_index(rid).map(|()| {
                    self.reads.insert(rid, PendingRead { from, id, key });
                    self.trace(TraceEvent::ReadAccepted { request: rid });
                })
            }
            Request::Admin(cc) => self.raft.propose(Payload::ConfChange(cc)).map(|index| {
                self.admin.insert(index, PendingAdmin { from, id });
            }),
        };
        let refusal = match result {
            Ok(()) => return,
            Err(ProposeError::NotLeader { leader }) => Response::NotLeader { leader },
            Err(ProposeError::ConfChangePending) => {
                Response::Refused("a membership change is in progress".into())
            }
        };
        self.respond(from, id, refusal);
    }

    fn respond(&mut self, to: SocketAddr, id: u64, body: Response) {
        if self.lost() {
            return;
        }
        let _ = self
            .socket
            .try_send_to(&Wire::Response { id, body }.encode(), to);
    }

    /// Whether the transport drops the message about to be sent (the draw
    /// is made only while a loss fault is on, so clean runs are unchanged).
    fn lost(&mut self) -> bool {
        let loss = self.control.borrow().transport.loss;
        let lost = loss > 0.0 && self.rng.random_bool(loss.clamp(0.0, 1.0));
        hit_if(lost, Probe::FaultLost);
        lost
    }

    fn send_raft(&mut self, m: raft::Message) {
        let to = *self
            .peers
            .entry(m.to)
            .or_insert_with(|| SocketAddr::new(turmoil::lookup(host_name(m.to)), PORT));
        let bytes = Wire::Raft(m).encode();
        if self.lost() {
            return;
        }
        let faults = self.control.borrow().transport;
        let copies = if self.rng.random_bool(faults.duplicate.clamp(0.0, 1.0)) {
            hit(Probe::FaultDuplicated);
            2
        } else {
            1
        };
        for _ in 0..copies {
            if faults.max_delay > Duration::ZERO
                && self.rng.random_bool(faults.reorder.clamp(0.0, 1.0))
            {
                hit(Probe::FaultDelayed);
                let delay = faults.max_delay.mul_f64(self.rng.random::<f64>());
                let (socket, bytes) = (self.socket.clone(), bytes.clone());
                tokio::task::spawn_local(async move {
                    tokio::time::sleep(delay).await;
                    let _ = socket.try_send_to(&bytes, to);
                });
            } else {
                // Loss is the network's business; a full buffer is just another loss.
                let _ = self.socket.try_send_to(&bytes, to);
            }
        }
    }

    fn drain_ready(&mut self) -> Result<(), Stop> {
        // Bounded, so a core that never runs out of work (a livelock) still lets
        // simulated time pass; the liveness check then reports it.
        for _ in 0..MAX_READY_PER_TURN {
            if !self.raft.has_ready() {
                break;
            }
            let rd = self.raft.ready();
            self.handle_ready(rd)?;
            self.maybe_snapshot()?;
        }
        if self.raft.is_recovering() != self.control.borrow().status.recovering {
            self.finish_recovery()?;
        }
        Ok(())
    }

    fn handle_ready(&mut self, rd: Ready) -> Result<(), Stop> {
        let Ready {
            hard_state,
            entries,
            snapshot,
            committed,
            messages,
            read_states,
            dropped_reads,
            events,
        } = rd;
        let mut mid_transfer = false;
        // A commit is traced once this node's copy of the entries is durable: a
        // single voter commits the moment it appends, and if that append then
        // fails to persist, nothing was committed (the node halts, applies
        // nothing and tells no one).
        let (commits, events): (Vec<_>, Vec<_>) = events
            .into_iter()
            .partition(|e| matches!(e, TraceEvent::Commit { .. }));
        for event in events {
            if let TraceEvent::SnapshotChunkReceived {
                accepted: true,
                offset,
                len,
                ..
            } = &event
            {
                mid_transfer |= *offset > 0 || *len > 0;
            }
            self.trace(event);
        }
        if let Some(snap) = snapshot {
            self.install(snap)?;
        } else if mid_transfer && reached(&self.control, CrashPoint::MidInstallTransfer) {
            return Err(Stop::CrashPoint);
        }
        // 1. Persist, then 2. send: nothing leaves before what it promises is durable.
        let grants_vote = messages
            .iter()
            .any(|m| matches!(m.body, raft::Body::VoteResp { reject: false }));
        self.persist(&entries, hard_state, grants_vote)?;
        for event in commits {
            self.trace(event);
        }
        for m in messages {
            self.send_raft(m);
        }
        if grants_vote && reached(&self.control, CrashPoint::AfterVote) {
            return Err(Stop::CrashPoint);
        }
        // 3. Apply.
        for e in committed {
            self.apply(e);
        }
        // 4. Reads.
        for rs in read_states {
            self.ready_reads.push((rs.index, rs.request));
        }
        for rid in dropped_reads {
            if let Some(r) = self.reads.remove(&rid) {
                self.trace(TraceEvent::ReadAnswered {
                    request: rid,
                    served: false,
                });
                let leader = self.raft.leader();
                self.respond(r.from, r.id, Response::NotLeader { leader });
            }
        }
        self.serve_reads();
        Ok(())
    }

    /// Makes `entries` and `hard_state` durable; `grants_vote` says the Ready
    /// answers a vote with a grant (the hard state then carries the vote).
    fn persist(
        &mut self,
        entries: &[Entry],
        hard_state: Option<raft::HardState>,
        grants_vote: bool,
    ) -> Result<(), Stop> {
        if entries.is_empty() && hard_state.is_none() {
            return Ok(());
        }
        let res = (|| {
            self.storage.append(entries)?;
            if let Some(hs) = hard_state {
                self.storage.set_hard_state(hs)?;
            }
            let bugs = self.cfg.bugs;
            let follower = self.raft.role() != crate::trace::Role::Leader;
            if bugs.has(Bug::AckBeforeFsync) && follower && !entries.is_empty() {
                // Bug mutant: acknowledge appended entries before they are durable.
                return Ok(true);
            }
            if bugs.has(Bug::VoteNotPersisted) && grants_vote && entries.is_empty() {
                // Bug mutant: the vote is recorded but not fsynced before its
                // answer is sent; a crash now forgets it.
                return Ok(true);
            }
            // Only a write of entries: a hard-state record alone (a commit or
            // vote update, the most frequent persist) fits one block, which a
            // crash never tears, so torn-wal missed its target on 5% of seeds.
            let armed = self.control.borrow().crash_point == Some(CrashPoint::WalWriteBeforeFsync);
            if armed && !entries.is_empty() {
                self.storage.write_unsynced()?;
                if reached(&self.control, CrashPoint::WalWriteBeforeFsync) {
                    return Ok(false);
                }
            }
            self.storage.sync().map(|()| true)
        })();
        if !res.map_err(|e| Stop::Halt(format!("persisting log: {e}")))? {
            return Err(Stop::CrashPoint);
        }
        if let (Some(first), Some(last)) = (entries.first(), entries.last()) {
            self.trace(TraceEvent::Persisted {
                first: first.index,
                last: last.index,
                last_term: last.term,
            });
        }
        Ok(())
    }

    /// A snapshot from the leader: file first, then the WAL marker, then the state
    /// machine (etcd's order: a WAL marker never names a file that is not durable).
    fn install(&mut self, snap: Snapshot) -> Result<(), Stop> {
        let (index, term) = (snap.meta.index, snap.meta.term);
        let saved = self.storage.save_snapshot(&snap);
        // Bug mutant: a snapshot that could not be persisted is not restored
        // either, but the core has already moved applied to it.
        if !(saved.is_err() && self.cfg.bugs.has(Bug::RestoreErrorAdvancesIndex)) {
            saved.map_err(|e| Stop::Halt(format!("saving installed snapshot: {e}")))?;
            self.compact_and_restore(&snap)?;
        }
        self.trace(TraceEvent::Restored {
            index,
            term,
            state_digest: self.kv.digest(),
            applied: self.raft.log.applied,
            on_boot: false,
            contents: self.kv.contents(),
        });
        // Requests proposed at indexes the snapshot covers can no longer be matched.
        self.writes = self.writes.split_off(&(index + 1));
        self.admin = self.admin.split_off(&(index + 1));
        Ok(())
    }

    /// The rest of an install once the snapshot file is durable: the WAL
    /// marker with the retained log, then the state machine.
    fn compact_and_restore(&mut self, snap: &Snapshot) -> Result<(), Stop> {
        let (index, term) = (snap.meta.index, snap.meta.term);
        self.trace(TraceEvent::SnapshotPersisted { index, term });
        if reached(&self.control, CrashPoint::AfterInstallFile) {
            return Err(Stop::CrashPoint);
        }
        let hs = self.raft.hard_state();
        let retained = self.raft.log.all_entries().to_vec();
        self.storage
            .compact(&snap.meta, hs, &retained)
            .map_err(|e| Stop::Halt(format!("cutting the WAL after install: {e}")))?;
        self.trace(TraceEvent::Compacted {
            snapshot_index: index,
            first_index: self.raft.log.first_index(),
            last_index: self.raft.log.last_index(),
        });
        let restored = if self.cfg.bugs.has(Bug::RestoreMerges) {
            self.kv.restore_merging(&snap.data)
        } else {
            self.kv.restore(&snap.data)
        };
        restored.map_err(|e| Stop::Halt(format!("restoring installed snapshot: {e}")))
    }

    fn apply(&mut self, e: Entry) {
        let mut op = None;
        let mut conf_change = None;
        let (kind, digest, client, seq, effective) = match &e.payload {
            Payload::Noop => (ApplyKind::Noop, 0, None, None, true),
            Payload::ConfChange(cc) => {
                self.raft.apply_conf_change(e.index, *cc);
                conf_change = Some(*cc);
                if let Some(p) = self.admin.remove(&e.index) {
                    self.respond(p.from, p.id, Response::AdminDone);
                }
                let bytes = postcard::to_stdvec(cc).expect("conf changes encode");
                (ApplyKind::ConfChange, fnv64(&bytes), None, None, true)
            }
            Payload::Command(bytes) => {
                let digest = fnv64(bytes);
                match Command::decode(bytes) {
                    Ok(cmd) => {
                        let applied = self.kv.apply(&cmd);
                        if let Some(p) = self.writes.remove(&e.index) {
                            // Only the request that proposed this very command gets
                            // the answer; a different command at this index means
                            // ours was overwritten and stays unanswered (unknown).
                            if (p.client, p.seq) == (cmd.client, cmd.seq) {
                                self.respond(p.from, p.id, Response::Applied(applied.outcome));
                            } else {
                                hit(Probe::NodeWriteOverwritten);
                            }
                        }
                        let effective = !applied.duplicate;
                        op = Some(cmd.op);
                        (
                            ApplyKind::Command,
                            digest,
                            Some(cmd.client),
                            Some(cmd.seq),
                            effective,
                        )
                    }
                    Err(_) => (ApplyKind::Command, digest, None, None, false),
                }
            }
        };
        self.trace(TraceEvent::Apply {
            index: e.index,
            term: e.term,
            kind,
            digest,
            client,
            seq,
            op,
            conf_change,
            effective,
        });
    }

    fn serve_reads(&mut self) {
        let applied = self.raft.log.applied;
        let mut waiting = Vec::new();
        for (index, rid) in std::mem::take(&mut self.ready_reads) {
            if index > applied {
                waiting.push((index, rid));
                continue;
            }
            if let Some(r) = self.reads.remove(&rid) {
                self.trace(TraceEvent::ReadAnswered {
                    request: rid,
                    served: true,
                });
                let value = self.read_value(&r.key);
                hit(Probe::ReadServed);
                hit_if(value.is_none(), Probe::KvReadAbsent);
                self.respond(r.from, r.id, Response::Value(value));
            }
        }
        self.ready_reads = waiting;
    }

    /// hashicorp SnapshotThreshold / etcd snapCount: snapshot once enough entries
    /// were applied since the last snapshot, then cut the WAL and the log.
    fn maybe_snapshot(&mut self) -> Result<(), Stop> {
        let applied = self.raft.log.applied;
        if applied < self.raft.log.snapshot_index() + self.cfg.snapshot_threshold.max(1) {
            return Ok(());
        }
        if reached(&self.control, CrashPoint::BeforeSnapshotWrite) {
            return Err(Stop::CrashPoint);
        }
        let mut meta = self.raft.snapshot_meta_at_applied();
        let bugs = self.cfg.bugs;
        if bugs.has(Bug::SnapshotLabelledAhead) {
            // Labels the snapshot with the last index, past what it holds.
            meta.index = self.raft.log.last_index();
            meta.term = self.raft.log.last_term();
        }
        if bugs.has(Bug::SnapshotDropsMembership) {
            meta.conf = ConfState::new(self.cfg.initial_cluster.iter().copied());
        }
        if bugs.has(Bug::WrongSnapshotTerm) {
            meta.term = self.raft.term();
        }
        let data = if bugs.has(Bug::SnapshotOmitsSessions) {
            self.kv.without_sessions().snapshot()
        } else {
            self.kv.snapshot()
        };
        let snap = Snapshot {
            meta: meta.clone(),
            data,
        };
        // The trace describes what the snapshot holds (its bytes), not the live
        // state: a snapshot that loses something must show it.
        let held = Kv::from_snapshot(&snap.data).unwrap_or_default();
        hit(Probe::SnapshotCreated);
        self.trace(TraceEvent::SnapshotCreated {
            index: meta.index,
            term: meta.term,
            size: snap.data.len() as u64,
            state_digest: fnv64(&snap.data),
            keys: held.len() as u64,
            sessions: held.sessions().len() as u64,
            contents: held.contents(),
        });
        let reorder =
            bugs.has(Bug::CompactBeforeSnapshotDurable) || bugs.has(Bug::StateAndSnapshotNotAtomic);
        if reorder {
            // Bug mutants: the WAL marker and the compacted log go first, the
            // snapshot file after (a crash in between splits them).
            self.compact_log(snap.clone())?;
            if reached(&self.control, CrashPoint::AfterWalMarker) {
                return Err(Stop::CrashPoint);
            }
            self.save_snapshot_file(&snap)?;
        } else {
            // Never compact past a snapshot that is not durable yet.
            self.save_snapshot_file(&snap)?;
            if reached(&self.control, CrashPoint::AfterSnapshotFile) {
                return Err(Stop::CrashPoint);
            }
            self.compact_log(snap)?;
            if reached(&self.control, CrashPoint::AfterWalMarker) {
                return Err(Stop::CrashPoint);
            }
        }
        self.trace(TraceEvent::Compacted {
            snapshot_index: meta.index,
            first_index: self.raft.log.first_index(),
            last_index: self.raft.log.last_index(),
        });
        Ok(())
    }

    fn save_snapshot_file(&mut self, snap: &Snapshot) -> Result<(), Stop> {
        self.storage
            .save_snapshot(snap)
            .map_err(|e| Stop::Halt(format!("saving snapshot: {e}")))?;
        hit(Probe::SnapshotPersisted);
        self.trace(TraceEvent::SnapshotPersisted {
            index: snap.meta.index,
            term: snap.meta.term,
        });
        Ok(())
    }

    /// Cuts the in-memory log and writes the WAL marker with the retained log.
    fn compact_log(&mut self, snap: Snapshot) -> Result<(), Stop> {
        let meta = snap.meta.clone();
        let hs = self.raft.hard_state();
        self.raft.compact(snap, self.cfg.trailing_logs);
        let retained = self.raft.log.all_entries().to_vec();
        self.storage
            .compact(&meta, hs, &retained)
            .map_err(|e| Stop::Halt(format!("cutting the WAL: {e}")))
    }

    fn finish_recovery(&mut self) -> Result<(), Stop> {
        if !self.raft.is_recovering() {
            let disk = self.storage.disk();
            let _ = disk.remove(RECOVERING_MARKER);
            disk.sync_dir()
                .map_err(|e| Stop::Halt(format!("clearing recovery marker: {e}")))?;
        }
        Ok(())
    }

    fn publish_status(&mut self) {
        let leading = self.raft.role() == crate::trace::Role::Leader;
        if self.cfg.bugs.has(Bug::DeposedLeaderReads) && leading {
            self.led_term = Some(self.raft.term());
        }
        let want_digest = self.control.borrow().report_digest;
        let applied = self.raft.log.applied;
        let mut digest = None;
        if want_digest && self.digest_applied != Some(applied) {
            self.digest_applied = Some(applied);
            let d = self.kv.digest();
            digest = Some(d);
            self.trace(TraceEvent::StateDigest {
                applied,
                state_digest: d,
            });
        }
        let mut c = self.control.borrow_mut();
        let s = &mut c.status;
        s.running = true;
        s.role = Some(self.raft.role());
        s.term = self.raft.term();
        s.leader = self.raft.leader();
        s.commit = self.raft.log.committed;
        s.applied = applied;
        s.last_index = self.raft.log.last_index();
        s.snapshot_index = self.raft.log.snapshot_index();
        s.recovering = self.raft.is_recovering();
        s.voter = self.raft.conf().is_voter(self.cfg.id);
        s.voters.clone_from(&self.raft.conf().voters);
        if digest.is_some() {
            s.state_digest = digest;
        }
    }

    fn trace(&self, event: TraceEvent) {
        push_trace(&self.trace, self.cfg.id, event);
    }
}

/// True (and recorded) when `point` is the armed crash point.
fn reached(control: &NodeControl, point: CrashPoint) -> bool {
    let mut c = control.borrow_mut();
    if c.crash_point == Some(point) {
        hit(Probe::NodeCrashPoint);
        c.crash_point = None;
        c.crashed_at = Some(point);
        true
    } else {
        false
    }
}

fn push_trace(sink: &TraceSink, node: NodeId, event: TraceEvent) {
    let time = turmoil::sim_elapsed().map_or(0, |d| d.as_nanos() as u64);
    sink.borrow_mut().push(TraceRecord { time, node, event });
}
