//! A simulated Raft + KV cluster in turmoil, and the driver's hands on it: step the
//! simulation, crash and restart nodes, lose disks, cut links, wait for convergence.
//! Everything random comes from `ClusterSpec::seed`.
use raftkv::bugs::Bugs;
use raftkv::node::{self, host_name, Control, NodeConfig, NodeControl, NodeStatus, TraceSink};
use raftkv::raft::{self, NodeId, ReadMode};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::rc::Rc;
use std::time::{Duration, SystemTime};
use sut::trace::Role;

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
    /// WAL segment size limit of every node (raftkv's default, or a small one
    /// drawn from the seed so runs cut segments).
    pub wal_segment_bytes: u64,
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
            wal_segment_bytes: raftkv::storage::DEFAULT_SEGMENT_LIMIT,
        }
    }

    /// Half the runs close WAL segments at 256 B–2 KiB, so segments are cut
    /// between compactions (a snapshot every few entries would otherwise
    /// always come first); the other half keep raftkv's default. The draw has
    /// its own stream, so it moves no other choice of the seed, and the layout
    /// of files on the simulated disk takes no simulated time.
    pub fn draw_wal_segment_bytes(&mut self, seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x5e9_3e47_0000_0001);
        self.wal_segment_bytes = if rng.random_bool(0.5) {
            rng.random_range(256..=2048)
        } else {
            raftkv::storage::DEFAULT_SEGMENT_LIMIT
        };
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
            wal_segment_bytes: self.wal_segment_bytes,
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
    /// `promoting` are the nodes whose promotion to voter is still queued: each
    /// view must keep its majority with them as voters (swarm seed 51152: a
    /// learner down on an empty disk was promoted after another voter lost its
    /// disk, leaving 2 of 4 voters with their data) and without them.
    pub fn may_lose_disk(
        &self,
        id: NodeId,
        out: &BTreeSet<NodeId>,
        promoting: &BTreeSet<NodeId>,
    ) -> bool {
        let intact = |n: &NodeId| *n != id && !self.controls[n].borrow().status.recovering;
        let all = self.spec.node_ids();
        let members: Vec<NodeId> = all.iter().copied().filter(|n| !out.contains(n)).collect();
        let intact_all = all.iter().filter(|n| intact(n)).count();
        let intact_members = members.iter().filter(|n| intact(n)).count();
        let views_keep_a_majority = self.controls.values().all(|c| {
            let control = c.borrow();
            if control.status.voters.is_empty() {
                return true;
            }
            // A queued promotion may happen or not (the admin may never get
            // to it): the view must keep a majority either way (swarm seed
            // 205738: counting an intact learner as promoted let a second
            // voter lose its disk, and the promotion never came).
            let now: BTreeSet<NodeId> = control.status.voters.iter().copied().collect();
            let promoted: BTreeSet<NodeId> = now.iter().chain(promoting).copied().collect();
            [now, promoted]
                .iter()
                .all(|voters| voters.iter().filter(|n| intact(n)).count() > voters.len() / 2)
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
    /// How the workload's clients talk to this cluster's nodes.
    pub fn client_protocol(&self) -> std::rc::Rc<dyn sut::client::ClientProtocol> {
        std::rc::Rc::new(raftkv::node::KvClients)
    }

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
    pub fn converge(&mut self, limit: Duration) -> Result<u64, Unconverged> {
        for c in self.controls.values() {
            c.borrow_mut().report_digest = true;
        }
        let ok = self
            .run_until(limit, |c| c.converged().is_ok())
            .map_err(Unconverged::Pending)?;
        match self.converged() {
            Ok(d) if ok => Ok(d),
            Ok(_) => Err(Unconverged::Pending("did not converge".into())),
            Err(e) => Err(e),
        }
    }

    fn converged(&self) -> Result<u64, Unconverged> {
        let leader = self
            .leader()
            .ok_or_else(|| Unconverged::Pending("no leader".into()))?;
        let commit = self.status(leader).commit;
        let nodes: Vec<NodeState> = self
            .spec
            .node_ids()
            .into_iter()
            .map(|id| {
                let s = self.status(id);
                NodeState {
                    id,
                    running: s.running,
                    voter: s.voter,
                    applied: s.applied,
                    digest: s.state_digest,
                }
            })
            .collect();
        convergence(commit, &nodes)
    }
}

/// Why the cluster has not converged.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unconverged {
    /// Not there (yet): no leader, a node down, not a voter, behind or silent.
    Pending(String),
    /// Nodes that applied the same index hold different states: no amount of
    /// waiting brings them together.
    Diverged(String),
}

impl std::fmt::Display for Unconverged {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unconverged::Pending(s) | Unconverged::Diverged(s) => f.write_str(s),
        }
    }
}

/// What a node reports for the convergence check.
#[derive(Clone, Copy, Debug)]
pub struct NodeState {
    pub id: u64,
    pub running: bool,
    pub voter: bool,
    pub applied: u64,
    pub digest: Option<u64>,
}

/// Whether every node has applied the leader's `commit` with one state
/// digest (returned); else the first reason, digests in hex.
pub fn convergence(commit: u64, nodes: &[NodeState]) -> Result<u64, Unconverged> {
    use Unconverged::{Diverged, Pending};
    for n in nodes {
        let id = n.id;
        if !n.running {
            return Err(Pending(format!("n{id} is not running")));
        }
        if !n.voter {
            return Err(Pending(format!("n{id} is not a voter")));
        }
        if n.applied < commit {
            return Err(Pending(format!(
                "n{id} applied {} < leader commit {commit}",
                n.applied
            )));
        }
        if n.digest.is_none() {
            return Err(Pending(format!(
                "n{id} has not reported a state digest yet"
            )));
        }
    }
    let show = |n: &NodeState| format!("n{} digest {:016x}", n.id, n.digest.unwrap_or(0));
    for a in nodes {
        let same_index: Vec<&NodeState> = nodes.iter().filter(|b| b.applied == a.applied).collect();
        if same_index.iter().any(|b| b.digest != a.digest) {
            let states: Vec<String> = same_index.iter().map(|n| show(n)).collect();
            return Err(Diverged(format!(
                "the states diverged at the same applied index {}: {}",
                a.applied,
                states.join(", ")
            )));
        }
    }
    let first = nodes.first().ok_or_else(|| Pending("no nodes".into()))?;
    if nodes.iter().any(|n| n.applied != first.applied) {
        let at: Vec<String> = nodes
            .iter()
            .map(|n| format!("n{} applied {} ({})", n.id, n.applied, show(n)))
            .collect();
        return Err(Pending(format!(
            "nodes at different applied indexes: {}",
            at.join(", ")
        )));
    }
    Ok(first.digest.unwrap_or(0))
}

#[cfg(test)]
mod convergence_tests {
    use super::*;

    fn node(id: u64, applied: u64, digest: u64) -> NodeState {
        NodeState {
            id,
            running: true,
            voter: true,
            applied,
            digest: Some(digest),
        }
    }

    #[test]
    fn one_state_everywhere_converges() {
        let n = [node(1, 9, 0xab), node(2, 9, 0xab), node(3, 9, 0xab)];
        assert_eq!(convergence(9, &n), Ok(0xab));
    }

    #[test]
    fn different_states_at_one_index_diverged_in_hex() {
        let n = [
            node(1, 120, 0xe355_4d4b_1c2e_709c),
            node(2, 120, 0x1),
            node(3, 120, 0x1),
        ];
        let Err(Unconverged::Diverged(why)) = convergence(120, &n) else {
            panic!("not a divergence: {:?}", convergence(120, &n));
        };
        assert_eq!(
            why,
            "the states diverged at the same applied index 120: n1 digest e3554d4b1c2e709c, \
             n2 digest 0000000000000001, n3 digest 0000000000000001"
        );
        assert!(!why.contains("Some("), "{why}");
    }

    #[test]
    fn a_node_behind_or_silent_is_pending() {
        let n = [node(1, 9, 1), node(2, 8, 1), node(3, 9, 1)];
        assert!(
            matches!(convergence(9, &n), Err(Unconverged::Pending(w)) if w == "n2 applied 8 < leader commit 9")
        );
        let n = [node(1, 10, 1), node(2, 9, 2), node(3, 10, 1)];
        let Err(Unconverged::Pending(w)) = convergence(9, &n) else {
            panic!("{:?}", convergence(9, &n));
        };
        assert!(
            w.starts_with(
                "nodes at different applied indexes: n1 applied 10 (n1 digest 0000000000000001)"
            ),
            "{w}"
        );
        let mut silent = n;
        silent[1].digest = None;
        assert!(
            matches!(convergence(9, &silent), Err(Unconverged::Pending(w)) if w.contains("n2 has not reported"))
        );
    }
}
