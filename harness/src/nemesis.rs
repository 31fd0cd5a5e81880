//! The nemesis: a seeded schedule of faults, started and ended at simulated times,
//! each undone exactly (overlapping link cuts are reference-counted) and each
//! recorded with its start and end in `nemesis.jsonl`.
use crate::admin::{AdminQueue, AdminStep};
use crate::cluster::Cluster;
use raftkv::node::{host_name, CrashPoint, TransportFaults};
use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;
use sut::trace::Role;
use sut::trace::{ConfChange, ConfChangeKind};
use sut::NodeId;

mod quorum;
pub use quorum::struck_at;

/// Which node a fault hits, resolved when the fault starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Target {
    Node(NodeId),
    Leader,
    /// A random node that is not the leader.
    Follower,
    /// A random follower that no nemesis cut separates from the leader.
    ConnectedFollower,
    Random,
    /// The leader of the majority side: a running leader that reaches a
    /// majority through the active cuts. A fault aimed at it waits, step by step, until
    /// one is elected (skipped if none is by its planned end), and ends when
    /// planned: "the moment the next leader is elected, cut it off too".
    NewLeader,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "fault", rename_all = "kebab-case")]
pub enum Fault {
    /// Cut one node off from all others.
    Isolate { target: Target },
    /// Two random halves (the smaller one a minority).
    RandomHalves,
    /// Two minorities joined by one bridge node that sees both sides.
    Bridge,
    /// Every node sees a majority, but no two nodes see the same one.
    MajoritiesRing,
    /// Messages from `from` to `to` are dropped; the other direction works.
    OneWay { from: Target, to: Target },
    /// Each message is lost with this probability.
    Loss { rate: f64 },
    /// Message latency up to `max_ms`.
    Latency { max_ms: u64 },
    /// Every node's transport duplicates and reorders its Raft messages.
    Unreliable {
        duplicate: f64,
        reorder: f64,
        max_delay_ms: u64,
    },
    /// Crash the node (losing unsynced writes); restart it when the fault ends.
    Crash { target: Target, lose_disk: bool },
    /// The node stops processing but keeps its state.
    Pause { target: Target },
    /// The node clock runs at `rate` × true time.
    ClockDrift { target: Target, rate: f64 },
    /// Crash the node the moment it reaches `point` (if it does while armed);
    /// restart it when the fault ends.
    CrashAt {
        target: Target,
        point: CrashPoint,
        lose_disk: bool,
    },
    /// The node's disk returns I/O errors and corrupted reads, or is full. A node
    /// that halts on them is restarted when the fault ends (as an operator would).
    Disk {
        target: Target,
        io_error: f64,
        read_corruption: f64,
        full: bool,
    },
    /// Remove the node from the cluster's membership; when the fault ends, add it
    /// back as a learner and, once it has caught up, promote it to voter.
    RemoveMember {
        target: Target,
        #[serde(default, skip_serializing_if = "Readd::is_varied")]
        readd: Readd,
    },
    /// Cut a follower off until the leader has compacted past its log (etcd's
    /// BlackholeUntilSnapshot), or until the fault's window ends.
    BlackholeUntilSnapshot { target: Target },
    /// Cut the leader and a bare majority off from the rest; the moment the
    /// leader commits an entry only they hold, crash (or isolate) it and heal
    /// the cut: the next leader must come from the bare majority.
    QuorumBoundary { crash: bool },
}

/// How a removed member comes back when its `remove-member` fault ends.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Readd {
    /// Drawn per re-add: mostly as a learner promoted once caught up, and
    /// sometimes as a voter at once, as a learner removed again first, or
    /// with each change submitted twice at once.
    #[default]
    Varied,
    /// Always as a learner promoted once caught up (a scenario that times
    /// other faults to the learner's catch-up window).
    AsLearner,
}

impl Readd {
    fn is_varied(&self) -> bool {
        *self == Readd::Varied
    }
}

impl Fault {
    /// The node target it is aimed at, if it has one.
    pub fn target(&self) -> Option<Target> {
        match self {
            Fault::Isolate { target }
            | Fault::BlackholeUntilSnapshot { target }
            | Fault::Crash { target, .. }
            | Fault::Pause { target }
            | Fault::ClockDrift { target, .. }
            | Fault::Disk { target, .. }
            | Fault::RemoveMember { target, .. }
            | Fault::CrashAt { target, .. } => Some(*target),
            _ => None,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Fault::Isolate { .. } => "isolate",
            Fault::RandomHalves => "random-halves",
            Fault::Bridge => "bridge",
            Fault::MajoritiesRing => "majorities-ring",
            Fault::OneWay { .. } => "one-way",
            Fault::Loss { .. } => "loss",
            Fault::Latency { .. } => "latency",
            Fault::Unreliable { .. } => "unreliable",
            Fault::Crash { .. } => "crash",
            Fault::Pause { .. } => "pause",
            Fault::ClockDrift { .. } => "clock-drift",
            Fault::CrashAt { .. } => "crash-at",
            Fault::BlackholeUntilSnapshot { .. } => "blackhole-until-snapshot",
            Fault::RemoveMember { .. } => "remove-member",
            Fault::Disk { .. } => "disk",
            Fault::QuorumBoundary { .. } => "quorum-boundary",
        }
    }
}

/// A fault planned for `[at, at + hold)` of simulated time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Planned {
    pub at: Duration,
    pub hold: Duration,
    pub fault: Fault,
}

/// One line of `nemesis.jsonl`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FaultRecord {
    pub id: usize,
    #[serde(flatten)]
    pub fault: Fault,
    /// The nodes it hit (resolved targets; the cut pairs' nodes for partitions).
    pub nodes: Vec<NodeId>,
    /// Simulated nanoseconds.
    pub start: u64,
    pub end: Option<u64>,
    /// What happened (e.g. whether a crash point was reached).
    pub detail: String,
    /// The index of the planned fault it started from (in start-time order); not
    /// written, as the plan itself is not part of `nemesis.jsonl`.
    #[serde(skip)]
    pub planned: usize,
}

struct Active {
    record: usize,
    ends: Duration,
    undo: Undo,
}

enum Undo {
    Disk {
        node: NodeId,
    },
    Readd {
        node: NodeId,
        readd: Readd,
    },
    Links(Vec<(NodeId, NodeId)>),
    Loss,
    Latency,
    Transport,
    Restart {
        node: NodeId,
    },
    Unpause {
        node: NodeId,
    },
    Clock {
        node: NodeId,
    },
    CrashAt {
        node: NodeId,
        lose_disk: bool,
    },
    Blackhole {
        node: NodeId,
        links: Vec<(NodeId, NodeId)>,
    },
    Quorum(quorum::Boundary),
}

impl Undo {
    /// The setting this undo puts back, for faults that set a value on a node
    /// (or on the whole network) rather than add a cut: overlapping faults of
    /// one kind share it, and only the last of them to end puts it back.
    fn setting(&self) -> Option<(std::mem::Discriminant<Undo>, Option<NodeId>)> {
        let node = match *self {
            Undo::Disk { node } | Undo::Unpause { node } | Undo::Clock { node } => Some(node),
            Undo::Loss | Undo::Latency | Undo::Transport => None,
            _ => return None,
        };
        Some((std::mem::discriminant(self), node))
    }
}

pub struct Nemesis {
    plan: Vec<Planned>,
    next: usize,
    /// Planned faults aimed at [`Target::NewLeader`] that found none yet.
    waiting: Vec<usize>,
    active: Vec<Active>,
    /// How many active faults cut each directed link.
    cuts: BTreeMap<(NodeId, NodeId), u32>,
    pub log: Vec<FaultRecord>,
    rng: ChaCha8Rng,
    base_max_latency: Duration,
    pub crashes: u64,
    pub disk_losses: u64,
    /// Where membership changes go (the admin client performs them).
    admin: Option<AdminQueue>,
    /// Members removed by the nemesis and not yet back as voters.
    out_members: BTreeSet<NodeId>,
    /// Of those, the ones whose re-add is queued: they count as back once the
    /// admin client's queue is empty.
    readding: BTreeSet<NodeId>,
    /// How each re-add goes (its own stream: drawing it moves no other choice).
    readd_variants: ChaCha8Rng,
}

fn ns(d: Duration) -> u64 {
    d.as_nanos() as u64
}

impl Nemesis {
    pub fn new(mut plan: Vec<Planned>, rng: ChaCha8Rng, base_max_latency: Duration) -> Self {
        plan.sort_by_key(|p| p.at);
        let mut readd_variants = rng.clone();
        readd_variants.set_stream(0x5245_4144);
        Nemesis {
            plan,
            next: 0,
            waiting: Vec::new(),
            active: Vec::new(),
            cuts: BTreeMap::new(),
            log: Vec::new(),
            rng,
            base_max_latency,
            crashes: 0,
            disk_losses: 0,
            admin: None,
            out_members: BTreeSet::new(),
            readding: BTreeSet::new(),
            readd_variants,
        }
    }

    /// Whether any planned fault needs the admin client.
    pub fn needs_admin(&self) -> bool {
        self.plan
            .iter()
            .any(|p| matches!(p.fault, Fault::RemoveMember { .. }))
    }

    pub fn set_admin(&mut self, queue: AdminQueue) {
        self.admin = Some(queue);
    }

    fn admin(&self, steps: &[AdminStep]) {
        if let Some(q) = &self.admin {
            q.borrow_mut().extend(steps.iter().copied());
        }
    }

    /// The directed links every active fault together cuts, in order.
    pub fn cut_links(&self) -> Vec<(NodeId, NodeId)> {
        self.cuts.keys().copied().collect()
    }

    pub fn plan(&self) -> &[Planned] {
        &self.plan
    }

    /// Starts and ends faults due at the cluster's current time.
    pub fn on_step(&mut self, c: &mut Cluster) {
        let now = c.elapsed();
        if self.admin.as_ref().is_some_and(|q| q.borrow().is_empty()) {
            for n in std::mem::take(&mut self.readding) {
                self.out_members.remove(&n);
            }
        }
        let mut i = 0;
        while i < self.active.len() {
            let done = now >= self.active[i].ends || self.condition_met(c, i);
            if done {
                let a = self.active.remove(i);
                self.undo(c, a);
            } else {
                i += 1;
            }
        }
        // Faults waiting for their target, in plan order, until their end.
        let mut waiting = std::mem::take(&mut self.waiting);
        waiting.retain(|&i| {
            let p = self.plan[i].clone();
            now < p.at + p.hold && !self.start(c, p, i)
        });
        while self.next < self.plan.len() && self.plan[self.next].at <= now {
            let p = self.plan[self.next].clone();
            self.next += 1;
            let waits = matches!(p.fault.target(), Some(Target::NewLeader));
            if !self.start(c, p, self.next - 1) && waits {
                waiting.push(self.next - 1);
            }
        }
        self.waiting = waiting;
        self.strike_boundaries(c);
        // A crash point that fired crashes the node at once (Cluster::step does
        // that); remember it in the record.
        for a in &self.active {
            if let Undo::CrashAt { node, .. } = a.undo {
                if c.is_crashed(node) && self.log[a.record].detail.is_empty() {
                    self.log[a.record].detail = "crash point reached; node crashed".into();
                    self.crashes += 1;
                }
            }
        }
    }

    /// Ends every active fault (the final heal).
    pub fn heal_all(&mut self, c: &mut Cluster) {
        for a in std::mem::take(&mut self.active) {
            self.undo(c, a);
        }
        // Whatever halted is restarted for the recovery phase.
        for n in c.spec.node_ids() {
            c.restart_if_halted(n);
        }
        self.next = self.plan.len();
        self.waiting.clear();
    }

    fn condition_met(&self, c: &Cluster, i: usize) -> bool {
        let Undo::Blackhole { node, .. } = self.active[i].undo else {
            return false;
        };
        // The leader has compacted past everything the follower holds: the
        // follower can only catch up by InstallSnapshot now.
        c.leader().is_some_and(|l| {
            l != node && c.status(l).snapshot_index > c.status(node).last_index + 1
        })
    }

    fn resolve(&mut self, c: &Cluster, t: Target) -> Option<NodeId> {
        let up: Vec<NodeId> = c
            .spec
            .node_ids()
            .into_iter()
            .filter(|n| !c.is_crashed(*n))
            .collect();
        let leader = c.leader();
        let pick = |rng: &mut ChaCha8Rng, v: Vec<NodeId>| v.choose(rng).copied();
        match t {
            Target::Node(n) => Some(n),
            Target::Leader => leader.or_else(|| pick(&mut self.rng, up.clone())),
            Target::Follower => {
                let followers: Vec<NodeId> =
                    up.iter().copied().filter(|n| Some(*n) != leader).collect();
                pick(&mut self.rng, followers)
            }
            Target::ConnectedFollower => {
                let reaches_leader = |n: NodeId| {
                    leader.is_some_and(|l| {
                        !self.cuts.contains_key(&(l, n)) && !self.cuts.contains_key(&(n, l))
                    })
                };
                let followers: Vec<NodeId> = up
                    .iter()
                    .copied()
                    .filter(|n| Some(*n) != leader && reaches_leader(*n))
                    .collect();
                pick(&mut self.rng, followers)
            }
            Target::Random => pick(&mut self.rng, up),
            Target::NewLeader => {
                let all = c.spec.node_ids();
                let linked = |a: NodeId, b: NodeId| {
                    !self.cuts.contains_key(&(a, b)) && !self.cuts.contains_key(&(b, a))
                };
                // It and the nodes it reaches both ways are a majority.
                let majority_side = |n: NodeId| {
                    let reached = all.iter().filter(|&&m| m == n || linked(n, m)).count();
                    reached > all.len() / 2
                };
                (all.iter().copied())
                    .filter(|&n| !c.is_crashed(n) && majority_side(n))
                    .map(|n| (n, c.status(n)))
                    .filter(|(_, s)| s.running && s.role == Some(Role::Leader))
                    .max_by_key(|(_, s)| s.term)
                    .map(|(n, _)| n)
            }
        }
    }

    fn cut(&mut self, c: &mut Cluster, links: &[(NodeId, NodeId)]) {
        for &(a, b) in links {
            let n = self.cuts.entry((a, b)).or_insert(0);
            if *n == 0 {
                c.sim.partition_oneway(host_name(a), host_name(b));
            }
            *n += 1;
        }
    }

    fn uncut(&mut self, c: &mut Cluster, links: &[(NodeId, NodeId)]) {
        for &(a, b) in links {
            if let Some(n) = self.cuts.get_mut(&(a, b)) {
                *n -= 1;
                if *n == 0 {
                    self.cuts.remove(&(a, b));
                    c.sim.repair_oneway(host_name(a), host_name(b));
                }
            }
        }
    }

    /// Both directions between every node of `a` and every node of `b`.
    fn between(a: &[NodeId], b: &[NodeId]) -> Vec<(NodeId, NodeId)> {
        let mut out = Vec::new();
        for &x in a {
            for &y in b {
                if x != y {
                    out.push((x, y));
                    out.push((y, x));
                }
            }
        }
        out
    }

    /// Starts planned fault `p`; false if it could not start now (no target).
    fn start(&mut self, c: &mut Cluster, p: Planned, planned: usize) -> bool {
        let now = c.elapsed();
        let all = c.spec.node_ids();
        let mut nodes = Vec::new();
        let mut detail = String::new();
        let undo = match &p.fault {
            Fault::Isolate { target } | Fault::BlackholeUntilSnapshot { target } => {
                let Some(n) = self.resolve(c, *target) else {
                    return false;
                };
                let others: Vec<NodeId> = all.iter().copied().filter(|x| *x != n).collect();
                let links = Self::between(&[n], &others);
                self.cut(c, &links);
                nodes.push(n);
                if matches!(p.fault, Fault::Isolate { .. }) {
                    Undo::Links(links)
                } else {
                    Undo::Blackhole { node: n, links }
                }
            }
            Fault::RandomHalves => {
                let mut shuffled = all.clone();
                shuffled.shuffle(&mut self.rng);
                let (a, b) = shuffled.split_at(all.len() / 2);
                let links = Self::between(a, b);
                self.cut(c, &links);
                nodes = a.to_vec();
                detail = format!("{a:?} | {b:?}");
                Undo::Links(links)
            }
            Fault::Bridge => {
                let mut shuffled = all.clone();
                shuffled.shuffle(&mut self.rng);
                let bridge = shuffled[0];
                let rest = &shuffled[1..];
                let (a, b) = rest.split_at(rest.len() / 2);
                let links = Self::between(a, b);
                self.cut(c, &links);
                nodes = vec![bridge];
                detail = format!("{a:?} | bridge n{bridge} | {b:?}");
                Undo::Links(links)
            }
            Fault::MajoritiesRing => {
                // Node i sees the q-1 nodes after it on a shuffled ring (and they
                // see it): everyone has a majority, no two share the same one.
                let mut ring = all.clone();
                ring.shuffle(&mut self.rng);
                let n = ring.len();
                // Each side's neighbours so that node + neighbours is a majority.
                let reach = (n / 2).div_ceil(2);
                let mut links = Vec::new();
                for i in 0..n {
                    for j in 0..n {
                        let d = (j + n - i) % n;
                        let near = d <= reach || n - d <= reach;
                        if i != j && !near {
                            links.push((ring[i], ring[j]));
                        }
                    }
                }
                self.cut(c, &links);
                detail = format!("ring {ring:?}");
                Undo::Links(links)
            }
            Fault::OneWay { from, to } => {
                let (Some(a), Some(b)) = (self.resolve(c, *from), self.resolve(c, *to)) else {
                    return false;
                };
                if a == b {
                    return false;
                }
                let links = vec![(a, b)];
                self.cut(c, &links);
                nodes = vec![a, b];
                Undo::Links(links)
            }
            Fault::Loss { rate } => {
                for n in &all {
                    c.control(*n).borrow_mut().transport.loss = *rate;
                }
                Undo::Loss
            }
            Fault::Latency { max_ms } => {
                c.sim.set_max_message_latency(
                    Duration::from_millis(*max_ms).max(self.base_max_latency),
                );
                Undo::Latency
            }
            Fault::Unreliable {
                duplicate,
                reorder,
                max_delay_ms,
            } => {
                for n in &all {
                    let mut ctl = c.control(*n).borrow_mut();
                    ctl.transport = TransportFaults {
                        loss: ctl.transport.loss,
                        duplicate: *duplicate,
                        reorder: *reorder,
                        max_delay: Duration::from_millis(*max_delay_ms),
                    };
                }
                Undo::Transport
            }
            Fault::Crash { target, lose_disk } => {
                let Some(n) = self.resolve(c, *target) else {
                    return false;
                };
                if c.is_crashed(n) {
                    return false;
                }
                if *lose_disk && c.may_lose_disk(n, &self.out_members, &self.readding) {
                    c.lose_disk(n);
                    self.disk_losses += 1;
                    detail = "disk lost".into();
                } else {
                    if *lose_disk {
                        detail = "disk kept: a majority must keep its disks".into();
                    }
                    c.crash(n);
                }
                self.crashes += 1;
                nodes.push(n);
                Undo::Restart { node: n }
            }
            Fault::Pause { target } => {
                let Some(n) = self.resolve(c, *target) else {
                    return false;
                };
                c.control(n).borrow_mut().paused = true;
                nodes.push(n);
                Undo::Unpause { node: n }
            }
            Fault::ClockDrift { target, rate } => {
                let Some(n) = self.resolve(c, *target) else {
                    return false;
                };
                c.control(n).borrow_mut().clock_rate = *rate;
                nodes.push(n);
                Undo::Clock { node: n }
            }
            Fault::Disk {
                target,
                io_error,
                read_corruption,
                full,
            } => {
                let Some(n) = self.resolve(c, *target) else {
                    return false;
                };
                let disk = c.control(n).borrow().disk.clone();
                let mut d = disk.borrow_mut();
                d.io_error = *io_error;
                d.read_corruption = *read_corruption;
                d.full = *full;
                nodes.push(n);
                Undo::Disk { node: n }
            }
            Fault::RemoveMember { target, readd } => {
                let Some(n) = self.resolve(c, *target) else {
                    return false;
                };
                if self.admin.is_none() {
                    return false;
                }
                // An operator does not shrink the membership while a member is
                // still recovering its disk (the rest could lose their quorum),
                // nor below a majority of the original cluster: a 3-node cluster
                // shrunk to one voter that then loses its disk has lost
                // everything, which no protocol survives.
                let left = c.spec.nodes - self.out_members.len() as u64 - 1;
                if c.any_recovering()
                    || self.out_members.contains(&n)
                    || left < c.spec.nodes / 2 + 1
                {
                    return false;
                }
                self.out_members.insert(n);
                self.admin(&[AdminStep::Change(ConfChange {
                    kind: ConfChangeKind::Remove,
                    node: n,
                })]);
                nodes.push(n);
                Undo::Readd {
                    node: n,
                    readd: *readd,
                }
            }
            Fault::QuorumBoundary { crash } => {
                let Some((undo, hit, text)) = self.start_boundary(c, *crash) else {
                    return false;
                };
                (nodes, detail) = (hit, text);
                undo
            }
            Fault::CrashAt {
                target,
                point,
                lose_disk,
            } => {
                let Some(n) = self.resolve(c, *target) else {
                    return false;
                };
                c.control(n).borrow_mut().crash_point = Some(*point);
                nodes.push(n);
                Undo::CrashAt {
                    node: n,
                    lose_disk: *lose_disk,
                }
            }
        };
        let record = self.log.len();
        self.log.push(FaultRecord {
            id: record,
            fault: p.fault.clone(),
            nodes,
            start: ns(now),
            end: None,
            detail,
            planned,
        });
        // A fault that waited for its target still ends when planned.
        let waited = matches!(p.fault.target(), Some(Target::NewLeader));
        self.active.push(Active {
            record,
            ends: if waited { p.at + p.hold } else { now + p.hold },
            undo,
        });
        true
    }

    fn undo(&mut self, c: &mut Cluster, a: Active) {
        let setting = a.undo.setting();
        if let Some(other) =
            (self.active.iter()).find(|o| setting.is_some() && o.undo.setting() == setting)
        {
            // Ending this one would end the other early too (two pauses of one
            // node: the first to end would wake it).
            self.log[a.record].detail = format!(
                "in effect until fault {} of the same kind ends",
                self.log[other.record].id
            );
            self.log[a.record].end = Some(ns(c.elapsed()));
            return;
        }
        match a.undo {
            Undo::Links(links) | Undo::Blackhole { links, .. } => self.uncut(c, &links),
            Undo::Loss => {
                for n in c.spec.node_ids() {
                    c.control(n).borrow_mut().transport.loss = 0.0;
                }
            }
            Undo::Latency => c.sim.set_max_message_latency(self.base_max_latency),
            Undo::Transport => {
                for n in c.spec.node_ids() {
                    let mut ctl = c.control(n).borrow_mut();
                    // Loss is its own fault and stays until that one ends.
                    let loss = ctl.transport.loss;
                    ctl.transport = TransportFaults {
                        loss,
                        ..TransportFaults::default()
                    };
                }
            }
            Undo::Restart { node } => c.restart(node),
            Undo::Disk { node } => {
                let disk = c.control(node).borrow().disk.clone();
                let fired = {
                    let mut d = disk.borrow_mut();
                    (d.io_error, d.read_corruption, d.full) = (0.0, 0.0, false);
                    d.fired
                };
                let restarted = c.restart_if_halted(node);
                self.log[a.record].detail = format!(
                    "{fired} faults fired{}",
                    if restarted {
                        "; the node halted and was restarted"
                    } else {
                        ""
                    }
                );
            }
            Undo::Readd { node, readd } => {
                self.readding.insert(node);
                let variant = match readd {
                    Readd::Varied => self.readd_variants.random_range(0..8),
                    Readd::AsLearner => USUAL_READD,
                };
                let steps = readd_steps(node, variant);
                self.admin(&steps);
            }
            Undo::Quorum(b) => self.end_boundary(c, b),
            Undo::Unpause { node } => c.control(node).borrow_mut().paused = false,
            Undo::Clock { node } => c.control(node).borrow_mut().clock_rate = 1.0,
            Undo::CrashAt { node, lose_disk } => {
                let fired = c.control(node).borrow().crashed_at.is_some() && c.is_crashed(node);
                c.control(node).borrow_mut().crash_point = None;
                if fired {
                    if lose_disk && c.may_lose_disk(node, &self.out_members, &self.readding) {
                        c.lose_disk(node);
                        self.disk_losses += 1;
                        self.log[a.record].detail.push_str("; disk lost");
                    } else if lose_disk {
                        self.log[a.record]
                            .detail
                            .push_str("; disk kept: a majority must keep its disks");
                    }
                    c.restart(node);
                } else {
                    self.log[a.record].detail = "crash point not reached".into();
                }
            }
        }
        self.log[a.record].end = Some(ns(c.elapsed()));
    }

    /// Draws `count` faults of the given kinds at random times in `[from, to)`,
    /// each held for a random time in `hold`.
    pub fn random_plan(
        rng: &mut ChaCha8Rng,
        kinds: &[Fault],
        count: usize,
        from: Duration,
        to: Duration,
        hold: (Duration, Duration),
    ) -> Vec<Planned> {
        if kinds.is_empty() || to <= from {
            return Vec::new();
        }
        (0..count)
            .map(|_| Planned {
                at: Duration::from_nanos(rng.random_range(ns(from)..ns(to))),
                hold: Duration::from_nanos(rng.random_range(ns(hold.0)..=ns(hold.1))),
                fault: kinds[rng.random_range(0..kinds.len())].clone(),
            })
            .collect()
    }
}

/// How a removed member comes back. Mostly as a learner that is promoted once
/// it has caught up; sometimes as a voter at once, as a learner that is
/// removed again before it is promoted (and then re-added), or with each change
/// submitted twice at once (the system must take them one at a time).
fn readd_steps(node: NodeId, variant: u32) -> Vec<AdminStep> {
    let cc = |kind| ConfChange { kind, node };
    let catch_up = AdminStep::Wait(Duration::from_millis(2500));
    let usual = [
        AdminStep::Change(cc(ConfChangeKind::AddLearner)),
        catch_up,
        AdminStep::Change(cc(ConfChangeKind::AddVoter)),
    ];
    match variant {
        0 => vec![AdminStep::Change(cc(ConfChangeKind::AddVoter))],
        1 => [
            AdminStep::Change(cc(ConfChangeKind::AddLearner)),
            AdminStep::Wait(Duration::from_millis(500)),
            AdminStep::Change(cc(ConfChangeKind::Remove)),
        ]
        .into_iter()
        .chain(usual)
        .collect(),
        2 | 3 => vec![
            AdminStep::Twice(cc(ConfChangeKind::AddLearner)),
            catch_up,
            AdminStep::Twice(cc(ConfChangeKind::AddVoter)),
        ],
        _ => usual.to_vec(),
    }
}

/// The `readd_steps` variant of a learner promoted once caught up.
const USUAL_READD: u32 = 7;
