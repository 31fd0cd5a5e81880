//! A simulated Raft + KV cluster in turmoil, and the driver's hands on it: step the
//! simulation, crash and restart nodes, lose disks, cut links, wait for convergence.
//! Everything random comes from `ClusterSpec::seed`.
use raftkv::bugs::Bugs;
use raftkv::node::{self, host_name, Control, NodeConfig, NodeControl, NodeStatus, TraceSink};
use raftkv::raft::{self, NodeId, ReadMode};
use raftkv::trace::Role;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::rc::Rc;
use std::time::{Duration, SystemTime};

#[derive(Clone, Debug)]
pub struct ClusterSpec {
    pub nodes: u64,
    pub seed: u64,
    pub snapshot_threshold: u64,
    pub trailing_logs: u64,
    /// One protocol tick on a node clock at rate 1.0.
    pub tick: Duration,
    pub election_tick: u32,
    pub heartbeat_tick: u32,
    pub read_mode: ReadMode,
    /// The clock-rate error lease reads must tolerate (raft `max_clock_drift`).
    pub max_clock_drift: f64,
    pub min_latency: Duration,
    pub max_latency: Duration,
    /// Simulated time per `Sim::step` (turmoil's tick).
    pub step: Duration,
    /// Torn-write granularity of the simulated disks (None: writes are atomic).
    pub fs_block_size: Option<u64>,
    /// Bug mutants switched on in every node.
    pub bugs: Bugs,
    /// Payload bytes per InstallSnapshot chunk.
    pub snapshot_chunk_size: usize,
}

impl ClusterSpec {
    /// etcd's default timing: a 100 ms tick, a heartbeat every tick and an
    /// election timeout of 10 ticks (1 s, randomised to [1 s, 2 s)). Messages
    /// take 5-75 ms and the simulation steps 25 ms at a time: turmoil delivers
    /// messages and polls every host once per step, so the step is the
    /// resolution of network time, and its fixed cost per host is what bounds
    /// simulated seconds per wall second (see the README's benchmarks).
    pub fn new(nodes: u64, seed: u64) -> Self {
        ClusterSpec {
            nodes,
            seed,
            snapshot_threshold: 4,
            trailing_logs: 1,
            tick: Duration::from_millis(100),
            election_tick: 10,
            heartbeat_tick: 1,
            read_mode: ReadMode::ReadIndex,
            max_clock_drift: 0.2,
            min_latency: Duration::from_millis(5),
            max_latency: Duration::from_millis(75),
            step: Duration::from_millis(25),
            fs_block_size: None,
            bugs: Bugs::NONE,
            snapshot_chunk_size: 1024,
        }
    }

    pub fn node_ids(&self) -> Vec<NodeId> {
        (1..=self.nodes).collect()
    }

    fn node_config(&self, id: NodeId) -> NodeConfig {
        let mut r = raft::Config::new(id, self.seed ^ id.wrapping_mul(0x51_7cc1_b727_220a));
        r.election_tick = self.election_tick;
        r.heartbeat_tick = self.heartbeat_tick;
        r.read_mode = self.read_mode;
        r.max_clock_drift = self.max_clock_drift;
        r.snapshot_chunk_size = self.snapshot_chunk_size;
        // About two worst-case round trips before a lost chunk is sent again.
        r.snapshot_retransmit_ticks = 2;
        NodeConfig {
            id,
            initial_cluster: self.node_ids(),
            raft: r,
            snapshot_threshold: self.snapshot_threshold,
            trailing_logs: self.trailing_logs,
            tick: self.tick,
            bugs: self.bugs,
        }
    }
}

pub struct Cluster<'a> {
    pub sim: turmoil::Sim<'a>,
    pub spec: ClusterSpec,
    controls: BTreeMap<NodeId, NodeControl>,
    pub trace: TraceSink,
    crashed: BTreeSet<NodeId>,
}

/// A fixed simulated wall-clock start, so nothing depends on the real date.
fn epoch() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

impl<'a> Cluster<'a> {
    pub fn new(spec: ClusterSpec) -> Self {
        let mut b = turmoil::Builder::new();
        b.epoch(epoch())
            .rng_seed(spec.seed)
            .tick_duration(spec.step)
            .simulation_duration(Duration::from_secs(100_000))
            .min_message_latency(spec.min_latency)
            .max_message_latency(spec.max_latency)
            .udp_capacity(4096);
        if let Some(bs) = spec.fs_block_size {
            b.fs().block_size(bs);
        }
        let mut sim = b.build();
        let trace: TraceSink = Rc::new(RefCell::new(Vec::new()));
        let mut controls = BTreeMap::new();
        for id in spec.node_ids() {
            let control: NodeControl = Rc::new(RefCell::new(Control::default()));
            let cfg = spec.node_config(id);
            let (c, t) = (control.clone(), trace.clone());
            sim.host(host_name(id), move || {
                node::run(cfg.clone(), c.clone(), t.clone())
            });
            controls.insert(id, control);
        }
        Cluster {
            sim,
            spec,
            controls,
            trace,
            crashed: BTreeSet::new(),
        }
    }

    pub fn client<F>(&mut self, name: &str, f: F)
    where
        F: Future<Output = turmoil::Result> + 'static,
    {
        self.sim.client(name, f);
    }

    pub fn elapsed(&self) -> Duration {
        self.sim.elapsed()
    }

    /// One simulation step. Nodes that reached an armed crash point are crashed
    /// right after it (they stopped themselves at that point). Returns whether
    /// every client has finished.
    pub fn step(&mut self) -> Result<bool, String> {
        let done = self.sim.step().map_err(|e| e.to_string())?;
        let hit: Vec<NodeId> = self
            .controls
            .iter()
            .filter(|(id, c)| c.borrow().crashed_at.is_some() && !self.crashed.contains(id))
            .map(|(id, _)| *id)
            .collect();
        for id in hit {
            self.crash(id);
        }
        Ok(done)
    }

    pub fn control(&self, id: NodeId) -> &NodeControl {
        &self.controls[&id]
    }

    pub fn status(&self, id: NodeId) -> NodeStatus {
        self.controls[&id].borrow().status.clone()
    }

    pub fn is_crashed(&self, id: NodeId) -> bool {
        self.crashed.contains(&id)
    }

    /// Stops the node's software; its unsynced disk writes are lost.
    pub fn crash(&mut self, id: NodeId) {
        if self.crashed.insert(id) {
            self.sim.crash(host_name(id));
            self.controls[&id].borrow_mut().status.running = false;
        }
    }

    /// Starts a crashed (or halted) node again from what its disk holds.
    pub fn restart(&mut self, id: NodeId) {
        self.crashed.remove(&id);
        self.sim.bounce(host_name(id));
    }

    /// An operator's restart of a node that halted on an unrecoverable error.
    pub fn restart_if_halted(&mut self, id: NodeId) -> bool {
        if self.controls[&id].borrow().halted.is_none() {
            return false;
        }
        self.crash(id);
        self.restart(id);
        true
    }

    /// Crash the node and give it a fresh, empty disk for its next boot (turmoil
    /// has no way to wipe a disk, so each boot's disk root is named by a
    /// generation counter).
    pub fn lose_disk(&mut self, id: NodeId) {
        self.crash(id);
        let mut c = self.controls[&id].borrow_mut();
        c.generation += 1;
        // Without its disk the node is not a safe voter until it has caught up;
        // its next incarnation publishes the real flag.
        c.status.recovering = true;
    }

    /// Some node is (or is about to be) rejoining on an empty disk.
    pub fn any_recovering(&self) -> bool {
        self.controls.values().any(|c| c.borrow().status.recovering)
    }

    /// Whether `id` may lose its disk now: the nodes still holding their disks
    /// must remain a majority, both of the whole cluster (a removal may not be
    /// applied yet), of the members not removed (`out`), and of the voters in
    /// every node's own view of the membership (a re-add may have happened
    /// before the nemesis counts the node back, or a change may not have
    /// happened at all). Raft tolerates losing the state of a minority; past
    /// that, no protocol can tell what was committed, and a correct node
    /// refuses to elect anyone (an operator must restore from a backup).
    pub fn may_lose_disk(&self, id: NodeId, out: &BTreeSet<NodeId>) -> bool {
        let intact = |n: &NodeId| *n != id && !self.controls[n].borrow().status.recovering;
        let all = self.spec.node_ids();
        let members: Vec<NodeId> = all.iter().copied().filter(|n| !out.contains(n)).collect();
        let intact_all = all.iter().filter(|n| intact(n)).count();
        let intact_members = members.iter().filter(|n| intact(n)).count();
        let views_keep_a_majority = self.controls.values().all(|c| {
            let voters = &c.borrow().status.voters;
            voters.is_empty() || voters.iter().filter(|n| intact(n)).count() > voters.len() / 2
        });
        intact_all > all.len() / 2 && intact_members > members.len() / 2 && views_keep_a_majority
    }

    /// Cuts `id` off from every other node.
    pub fn isolate(&mut self, id: NodeId) {
        for other in self.spec.node_ids() {
            if other != id {
                self.sim.partition(host_name(id), host_name(other));
            }
        }
    }

    /// Restores every link between nodes.
    pub fn heal(&mut self) {
        let ids = self.spec.node_ids();
        for a in &ids {
            for b in &ids {
                if a < b {
                    self.sim.repair(host_name(*a), host_name(*b));
                }
            }
        }
    }

    /// The leader with the highest term among running nodes, if any.
    pub fn leader(&self) -> Option<NodeId> {
        self.controls
            .iter()
            .filter(|(id, _)| !self.crashed.contains(id))
            .map(|(id, c)| (*id, c.borrow().status.clone()))
            .filter(|(_, s)| s.running && s.role == Some(Role::Leader))
            .max_by_key(|(_, s)| s.term)
            .map(|(id, _)| id)
    }

    pub fn run_for(&mut self, d: Duration) -> Result<(), String> {
        let until = self.elapsed() + d;
        while self.elapsed() < until {
            self.step()?;
        }
        Ok(())
    }

    /// Steps until `done` holds or `limit` of simulated time passes.
    pub fn run_until(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&Cluster) -> bool,
    ) -> Result<bool, String> {
        let until = self.elapsed() + limit;
        while self.elapsed() < until {
            if done(self) {
                return Ok(true);
            }
            self.step()?;
        }
        Ok(done(self))
    }

    /// After healing: every running node has applied the leader's commit index and
    /// all report the same state digest. Returns that digest, or what differs.
    pub fn converge(&mut self, limit: Duration) -> Result<u64, String> {
        for c in self.controls.values() {
            c.borrow_mut().report_digest = true;
        }
        let ok = self.run_until(limit, |c| c.converged().is_ok())?;
        match self.converged() {
            Ok(d) if ok => Ok(d),
            Ok(_) => Err("did not converge".into()),
            Err(e) => Err(e),
        }
    }

    fn converged(&self) -> Result<u64, String> {
        let leader = self.leader().ok_or("no leader")?;
        let commit = self.status(leader).commit;
        let mut digests = BTreeMap::new();
        for id in self.spec.node_ids() {
            let s = self.status(id);
            if !s.running {
                return Err(format!("n{id} is not running"));
            }
            if !s.voter {
                return Err(format!("n{id} is not a voter"));
            }
            if s.applied < commit {
                return Err(format!(
                    "n{id} applied {} < leader commit {commit}",
                    s.applied
                ));
            }
            digests.insert(id, (s.applied, s.state_digest));
        }
        let first = digests.values().next().copied();
        if digests.values().any(|d| Some(*d) != first) {
            return Err(format!("nodes differ: {digests:?}"));
        }
        first
            .and_then(|(_, d)| d)
            .ok_or_else(|| "no digest reported yet".to_string())
    }
}
