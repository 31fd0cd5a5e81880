//! Named scenarios: each turns (seed, knobs) into a cluster spec, a workload and a
//! nemesis plan, and says what evidence in the run proves its fault happened.
use crate::cluster::ClusterSpec;
use crate::nemesis::{Fault, Nemesis, Planned, Readd, Target};
use raftkv::node::CrashPoint;
use raftkv::raft::ReadMode;
use rand::seq::IndexedRandom;
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use std::time::Duration;
use sut::trace::{ConfSource, Role, TraceEvent};
use workloads::WorkloadSpec;

mod evidence;
mod quorum;
mod swarm;
pub use evidence::Evidence;

/// What a scenario builds from.
pub struct Setup<'a> {
    pub rng: &'a mut ChaCha8Rng,
    /// Length of the main (faulty) phase.
    pub duration: Duration,
    /// The node count was given explicitly (swarm must not change it).
    pub nodes_given: bool,
    pub spec: &'a mut ClusterSpec,
    pub workload: &'a mut WorkloadSpec,
    pub plan: Vec<Planned>,
}

impl Setup<'_> {
    /// The largest minority of the cluster: (n - 1) / 2 (1 on 3 nodes).
    fn minority(&self) -> u64 {
        (self.spec.nodes - 1) / 2
    }

    /// Faults at regular intervals across the main phase, first after `warmup`.
    fn every(
        &mut self,
        warmup: Duration,
        period: Duration,
        hold: Duration,
        fault: impl Fn(&mut ChaCha8Rng) -> Fault,
    ) {
        let mut at = warmup;
        while at + hold / 2 < self.duration {
            let f = fault(self.rng);
            self.plan.push(Planned { at, hold, fault: f });
            at += period;
        }
    }
}

pub struct Scenario {
    pub name: &'static str,
    pub summary: &'static str,
    /// The cluster sizes a run draws its node count from (uniformly, with its
    /// own stream of the seed: see [`Scenario::nodes`]) unless `--nodes` fixes
    /// it. Empty: the build draws it itself (swarm, whose seeds keep their runs).
    sizes: &'static [u64],
    build: fn(&mut Setup),
    /// Named facts that must hold in the run's trace and nemesis log.
    evidence: fn(&Evidence) -> Vec<(&'static str, bool)>,
}

/// Most scenarios run on any of the sizes a cluster may have.
const ANY_SIZE: &[u64] = &[3, 5, 7];

/// Salt of the node-count draw's own random stream, so drawing the size
/// leaves every other draw of the seed as it was.
const NODES_SALT: u64 = 0x6e6f_6465_7321;

impl Scenario {
    /// The node count of a run of this scenario: `given` (`--nodes`) if set,
    /// else drawn from the seed out of the scenario's sizes (3 for a scenario
    /// whose build draws it itself). The draw has its own random stream, so
    /// the scenario's other draws do not depend on it.
    pub fn nodes(&self, seed: u64, given: Option<u64>) -> u64 {
        if let Some(n) = given {
            return n;
        }
        let mut rng = <ChaCha8Rng as rand::SeedableRng>::seed_from_u64(seed ^ NODES_SALT);
        self.sizes.choose(&mut rng).copied().unwrap_or(3)
    }

    /// The sizes the scenario draws from (empty: its build draws).
    pub fn sizes(&self) -> &'static [u64] {
        self.sizes
    }

    pub fn build(&self, setup: &mut Setup) {
        (self.build)(setup)
    }

    pub fn evidence(&self, e: &Evidence) -> Vec<(&'static str, bool)> {
        (self.evidence)(e)
    }
}

/// Fault windows below were tuned against a cluster ticking every 10 ms
/// (heartbeat 30 ms, election 150 ms). The cluster now runs etcd's timing (see
/// `ClusterSpec::new`) with latencies, client pacing and the simulation step all
/// five times longer, so every window is written as before and stretched here:
/// each run does as much work as it did, in five times the simulated time.
pub const TIME_SCALE: u64 = 5;
const MS: fn(u64) -> Duration = |ms| Duration::from_millis(ms * TIME_SCALE);

/// Busy writers that wait long for a cut-off leader, so it gathers a long
/// suffix of its term while the new leader gets few entries before the heal.
fn busy_writers(s: &mut Setup) {
    s.workload.clients = 8;
    s.workload.read_ratio = 0.0;
    s.workload.rate *= 4.0;
    s.workload.request_timeout = MS(1000);
}

pub const SCENARIOS: &[Scenario] = &[
    Scenario {
        name: "baseline",
        summary: "no faults: the workload alone on a healthy cluster (snapshots still every few entries)",
        sizes: ANY_SIZE,
        build: |_| {},
        evidence: |e| {
            vec![("snapshots were taken", e.count(|ev| matches!(ev, TraceEvent::SnapshotCreated { .. })) > 0)]
        },
    },
    Scenario {
        name: "lagging-follower",
        summary: "cut a follower off until the leader compacts past its log, then heal: it must catch up by InstallSnapshot",
        sizes: ANY_SIZE,
        build: |s| {
            s.every(MS(800), MS(3000), MS(2500), |_| Fault::BlackholeUntilSnapshot { target: Target::Follower });
        },
        evidence: |e| {
            let lagged: Vec<(u64, u64)> = e
                .faults
                .iter()
                .filter(|f| f.fault.name() == "blackhole-until-snapshot")
                .flat_map(|f| f.nodes.iter().map(move |n| (*n, f.start)))
                .collect();
            let installed = lagged.iter().any(|(n, start)| {
                e.trace.iter().any(|r| {
                    r.node == *n && r.time >= *start && matches!(r.event, TraceEvent::SnapshotInstalled { .. })
                })
            });
            vec![("a blackholed follower installed a snapshot from the leader", installed)]
        },
    },
    Scenario {
        name: "crash-mid-snapshot",
        summary: "crash nodes at named points on the snapshot path (before/after the file, after the WAL marker, mid-install, boot restore)",
        sizes: ANY_SIZE,
        build: |s| {
            s.every(MS(600), MS(1200), MS(900), |rng| Fault::CrashAt {
                target: Target::Random,
                point: *CrashPoint::ALL.choose(rng).expect("points"),
                lose_disk: false,
            });
            // Keep a follower behind now and then so install points are reached too.
            s.every(MS(1500), MS(4000), MS(2000), |_| Fault::BlackholeUntilSnapshot { target: Target::Follower });
        },
        evidence: |e| {
            let fired: Vec<&crate::nemesis::FaultRecord> = e
                .faults
                .iter()
                .filter(|f| f.fault.name() == "crash-at" && f.detail.starts_with("crash point reached"))
                .collect();
            let rebooted = fired.iter().any(|f| f.nodes.iter().any(|n| e.rebooted_after(*n, f.start)));
            vec![
                ("a crash point on the snapshot path was reached", !fired.is_empty()),
                ("the crashed node booted again", rebooted),
            ]
        },
    },
    Scenario {
        name: "snapshot-transfer-crash",
        summary: "snapshots sent in many small chunks over a reordering network while the receiving follower crashes mid-transfer: it must refuse the stray chunks and install a whole snapshot",
        sizes: ANY_SIZE,
        build: |s| {
            // 64-byte chunks make every transfer many datagrams (the code
            // probes showed no crash ever met a transfer of more than one).
            s.spec.snapshot_chunk_size = 64;
            s.every(MS(600), MS(2500), MS(1500), |_| Fault::BlackholeUntilSnapshot { target: Target::Follower });
            // One follower armed per follower of a bare majority (1 of 2 on
            // 3 nodes, 3 of 6 on 7), so the one receiving a transfer is
            // as likely to be armed on any size.
            for _ in 0..s.minority() {
                s.every(MS(500), MS(900), MS(700), |_| Fault::CrashAt {
                    target: Target::Follower,
                    point: CrashPoint::MidInstallTransfer,
                    lose_disk: false,
                });
            }
            s.every(MS(600), MS(2500), MS(2400), |_| Fault::Unreliable { duplicate: 0.2, reorder: 0.4, max_delay_ms: 40 * TIME_SCALE });
        },
        evidence: |e| {
            let fired = e
                .faults
                .iter()
                .any(|f| f.fault.name() == "crash-at" && f.detail.starts_with("crash point reached"));
            vec![
                ("a follower crashed in the middle of a snapshot transfer", fired),
                ("messages were delayed out of order", e.probed(raftkv::probe::Probe::FaultDelayed) > 0),
                ("snapshots were installed", e.count(|ev| matches!(ev, TraceEvent::SnapshotInstalled { .. })) > 0),
            ]
        },
    },
    Scenario {
        name: "disk-loss-mid-snapshot",
        summary: "crash a node while it takes or installs a snapshot and give it an empty disk; it must rejoin without voting until caught up",
        sizes: ANY_SIZE,
        build: |s| {
            // (n-1)/2 nodes armed at a time (2 on 3 nodes), each at its own
            // point: an install point is reached only by the follower
            // catching up, one of n (with one armed node, 5% of 3-node seeds
            // drew only install points and lost no disk).
            for _ in 0..s.minority().max(2) {
                s.every(MS(700), MS(2500), MS(1500), |rng| Fault::CrashAt {
                    target: Target::Random,
                    point: *[CrashPoint::BeforeSnapshotWrite, CrashPoint::AfterSnapshotFile, CrashPoint::AfterWalMarker, CrashPoint::MidInstallTransfer, CrashPoint::AfterInstallFile]
                        .choose(rng)
                        .expect("points"),
                    lose_disk: true,
                });
            }
            s.every(MS(1500), MS(5000), MS(2000), |_| Fault::BlackholeUntilSnapshot { target: Target::Follower });
        },
        evidence: |e| {
            let lost = e
                .faults
                .iter()
                .any(|f| f.fault.name() == "crash-at" && f.detail.contains("disk lost"));
            let came_back = e.count(|ev| matches!(ev, TraceEvent::Boot { recovering: true, .. })) > 0;
            vec![
                ("a disk was lost at a snapshot crash point", lost),
                ("the node came back on an empty disk, recovering", came_back),
            ]
        },
    },
    Scenario {
        name: "disk-loss",
        summary: "a follower falls behind, another loses its whole disk and comes back empty just as the leader is cut off: the empty node must not help elect the stale one",
        sizes: ANY_SIZE,
        build: |s| {
            let mut at = MS(600);
            while at + MS(1800) < s.duration {
                // The lagging follower misses entries the leader commits with the other.
                s.plan.push(Planned { at, hold: MS(1100), fault: Fault::Isolate { target: Target::Follower } });
                // The other follower, holding those entries, loses its disk...
                s.plan.push(Planned { at: at + MS(700), hold: MS(100), fault: Fault::Crash { target: Target::ConnectedFollower, lose_disk: true } });
                // ...and boots empty while the leader (the only other copy) is cut off.
                s.plan.push(Planned { at: at + MS(790), hold: MS(1000), fault: Fault::Isolate { target: Target::Leader } });
                at += MS(3000);
            }
        },
        evidence: |e| {
            let lost = e.faults.iter().any(|f| matches!(f.fault, Fault::Crash { lose_disk: true, .. }));
            let came_back = e.count(|ev| matches!(ev, TraceEvent::Boot { recovering: true, .. })) > 0;
            vec![("a follower lost its disk", lost), ("it came back on an empty disk, recovering", came_back)]
        },
    },
    Scenario {
        name: "install-snapshot-unreliable",
        summary: "a lagging follower catches up by InstallSnapshot over a lossy, duplicating, reordering network",
        sizes: ANY_SIZE,
        build: |s| {
            // Small chunks (a transfer of many datagrams can arrive short or mixed)
            // or large ones (a whole snapshot in one datagram can arrive late).
            s.spec.snapshot_chunk_size = if s.rng.random_bool(0.5) { 64 } else { 1024 };
            s.every(MS(600), MS(2500), MS(1500), |_| Fault::BlackholeUntilSnapshot { target: Target::Follower });
            // The unreliable network covers the catch-up after every blackhole.
            s.every(MS(600), MS(2500), MS(2400), |_| Fault::Unreliable { duplicate: 0.3, reorder: 0.3, max_delay_ms: 40 * TIME_SCALE });
            s.every(MS(600), MS(2500), MS(2400), |_| Fault::Loss { rate: 0.15 });
        },
        evidence: |e| {
            let in_window = |t: u64| {
                e.faults.iter().any(|f| f.fault.name() == "unreliable" && f.start <= t && f.end.is_none_or(|end| t <= end))
            };
            let installed = e.trace.iter().any(|r| matches!(r.event, TraceEvent::SnapshotInstalled { .. }) && in_window(r.time));
            let disorder = e.count(|ev| matches!(ev, TraceEvent::SnapshotChunkReceived { accepted: false, .. })) > 0;
            vec![
                ("a snapshot was installed while the network was unreliable", installed),
                ("chunks arrived duplicated or out of order and were refused", disorder),
                // (A reorder fault that silently stopped delaying went unseen:
                // a cargo-mutants survivor.)
                ("messages were delayed out of order", e.probed(raftkv::probe::Probe::FaultDelayed) > 0),
                ("messages were duplicated", e.probed(raftkv::probe::Probe::FaultDuplicated) > 0),
            ]
        },
    },
    Scenario {
        name: "torn-wal",
        summary: "crash nodes between a WAL write and its fsync on a disk with torn writes: boot must cut the torn tail",
        sizes: ANY_SIZE,
        build: |s| {
            s.spec.fs_block_size = Some(16);
            s.every(MS(400), MS(700), MS(300), |_| Fault::CrashAt {
                target: Target::Random,
                point: CrashPoint::WalWriteBeforeFsync,
                lose_disk: false,
            });
        },
        evidence: |e| {
            let torn = e.count(|ev| matches!(ev, TraceEvent::Boot { torn_tail_bytes, .. } if *torn_tail_bytes > 0));
            vec![
                ("nodes crashed between a WAL write and its fsync", e.fired("crash-at") > 0),
                ("a node booted and cut off a torn WAL tail", torn > 0),
            ]
        },
    },
    Scenario {
        name: "membership-churn",
        summary: "remove a member (sometimes the leader), then add it back as a learner, catch it up and promote it",
        sizes: ANY_SIZE,
        build: |s| {
            s.every(MS(700), MS(2500), MS(1200), |_| Fault::RemoveMember { target: Target::Random, readd: Readd::Varied });
        },
        evidence: |e| {
            use sut::trace::ConfChangeKind::*;
            let changes = |k| {
                e.count(|ev| matches!(ev, TraceEvent::Apply { conf_change: Some(cc), .. } if cc.kind == k))
            };
            vec![
                ("a member was removed", changes(Remove) > 0),
                ("a removed node was added back as a learner", changes(AddLearner) > 0),
                ("a learner was promoted to voter", changes(AddVoter) > 0),
            ]
        },
    },
    Scenario {
        name: "membership-faults",
        summary: "membership changes meet crashes and isolations: members removed (sometimes the leader) and added back while the leader crashes or is cut off mid-change, learners present at failovers, nodes rebooting from snapshots taken after a change",
        sizes: ANY_SIZE,
        build: |s| {
            // Removed members come back as learners: the isolations below are
            // timed to their catch-up window.
            s.every(MS(700), MS(2500), MS(1200), |_| Fault::RemoveMember { target: Target::Random, readd: Readd::AsLearner });
            s.every(MS(1000), MS(3100), MS(600), |rng| {
                let target = if rng.random_bool(0.6) { Target::Leader } else { Target::Random };
                Fault::Crash { target, lose_disk: false }
            });
            // Every other re-add (a removal ends at 1.9 s + 2.5 k and the
            // learner catches up for 2.5 s) sees its leader cut off 0.4 s in,
            // so a new leader is elected while the learner is there.
            s.every(MS(2300), MS(5000), MS(1500), |_| Fault::Isolate { target: Target::Leader });
        },
        evidence: |e| {
            use sut::trace::ConfChangeKind::*;
            let changes = |k| {
                e.count(|ev| matches!(ev, TraceEvent::Apply { conf_change: Some(cc), .. } if cc.kind == k))
            };
            // A node's view of the membership, and leaders elected while some
            // view had a learner in it.
            let mut learners: std::collections::BTreeMap<u64, bool> = Default::default();
            let (mut failover_with_learner, mut boot_after_change) = (false, false);
            let first_change = e.trace.iter().find_map(|r| match r.event {
                TraceEvent::Apply { index, conf_change: Some(_), .. } => Some(index),
                _ => None,
            });
            for r in e.trace {
                match &r.event {
                    TraceEvent::ConfChanged { index, conf, source } => {
                        learners.insert(r.node, !conf.learners.is_empty());
                        let booted = *source == ConfSource::Boot;
                        boot_after_change |= booted && first_change.is_some_and(|c| *index >= c);
                    }
                    TraceEvent::Role { role: Role::Leader, .. } => {
                        failover_with_learner |= learners.values().any(|l| *l);
                    }
                    _ => {}
                }
            }
            vec![
                ("a member was removed", changes(Remove) > 0),
                ("a removed node was added back and promoted", changes(AddLearner) > 0 && changes(AddVoter) > 0),
                ("the leader crashed", e.faults.iter().any(|f| f.fault.name() == "crash")),
                ("a leader was elected while a learner was present", failover_with_learner),
                ("a node booted from a snapshot taken after a membership change", boot_after_change),
            ]
        },
    },
    Scenario {
        name: "disk-faults",
        summary: "disks return I/O errors and corrupted reads or fill up; nodes must halt rather than trust bad storage, and recover when restarted",
        sizes: ANY_SIZE,
        build: |s| {
            s.every(MS(500), MS(1500), MS(800), |rng| match rng.random_range(0..3) {
                0 => Fault::Disk { target: Target::Random, io_error: 0.05, read_corruption: 0.0, full: false },
                1 => Fault::Disk { target: Target::Random, io_error: 0.0, read_corruption: 0.0, full: true },
                _ => Fault::Disk { target: Target::Random, io_error: 0.0, read_corruption: 0.5, full: false },
            });
            // Boots read the disk: crash nodes now and then so corrupted reads bite.
            s.every(MS(900), MS(1500), MS(300), |_| Fault::Crash { target: Target::Random, lose_disk: false });
            // And a node that boots while its reads are corrupted: the leader's
            // disk starts flipping bytes, it crashes 100 ms later and restarts
            // inside the window, so recovery must tell damage from a torn tail.
            s.every(MS(1200), MS(3000), MS(900), |_| Fault::Disk { target: Target::Leader, io_error: 0.0, read_corruption: 0.5, full: false });
            s.every(MS(1300), MS(3000), MS(300), |_| Fault::Crash { target: Target::Leader, lose_disk: false });
        },
        evidence: |e| {
            let fired = e.faults.iter().any(|f| f.fault.name() == "disk" && !f.detail.starts_with("0 faults"));
            let halted = e.count(|ev| matches!(ev, TraceEvent::Halt { injected_faults, .. } if *injected_faults > 0));
            let corrupted_boot = e.count(|ev| match ev {
                TraceEvent::Boot { injected_faults, .. } => *injected_faults > 0,
                TraceEvent::Halt { reason, injected_faults } => *injected_faults > 0 && reason.starts_with("recovering storage"),
                _ => false,
            });
            vec![
                ("injected disk faults fired", fired),
                ("a node halted on a disk fault and was restarted", halted > 0),
                ("a node booted while its reads were corrupted", corrupted_boot > 0),
            ]
        },
    },
    Scenario {
        name: "leader-isolation",
        summary: "isolate the current leader again and again; the majority must elect a new one",
        sizes: ANY_SIZE,
        build: |s| {
            s.every(MS(800), MS(2000), MS(1200), |_| Fault::Isolate { target: Target::Leader });
        },
        evidence: |e| {
            let terms = e.count(|ev| matches!(ev, TraceEvent::Role { role: sut::trace::Role::Leader, .. }));
            vec![
                ("the leader was isolated", e.fired("isolate") > 0),
                ("new leaders were elected", terms >= 2),
            ]
        },
    },
    Scenario {
        name: "stale-leader-rejoin",
        summary: "cut the leader off from the other nodes (not from clients) just long enough for a new election, then heal: it comes back with a suffix of its old term and must drop it when the new leader's snapshot arrives",
        sizes: ANY_SIZE,
        build: |s| {
            // A snapshot after every entry, none kept: the new leader's snapshot
            // soon lands inside the old leader's uncommitted suffix.
            s.spec.snapshot_threshold = 1;
            s.spec.trailing_logs = 0;
            busy_writers(s);
            s.every(MS(600), MS(1500), MS(450), |_| Fault::Isolate { target: Target::Leader });
        },
        evidence: |e| {
            let conflicting = e.count(|ev| {
                matches!(ev, TraceEvent::SnapshotInstalled { index, term, prior_last_index, prior_term_at_index, .. }
                    if prior_last_index > index && *prior_term_at_index != Some(*term))
            });
            vec![
                ("the leader was isolated", e.fired("isolate") > 0),
                ("a node with a conflicting suffix installed a snapshot", conflicting > 0),
            ]
        },
    },
    Scenario {
        name: "divergent-tail-crash",
        summary: "the leader is cut off and gathers a suffix of its old term, the new leader's entries overwrite it, and nodes crash before any compaction: the WAL must replay the overwrite, not the old suffix (Raft's Figure 7 shapes surviving a crash)",
        sizes: ANY_SIZE,
        build: |s| {
            // Snapshots far apart, so the overwritten suffix stays in the WAL
            // across the crash (with one every few entries, compaction erased
            // it first and no run replayed an overwrite).
            s.spec.snapshot_threshold = 400;
            busy_writers(s);
            s.every(MS(600), MS(1500), MS(450), |_| Fault::Isolate { target: Target::Leader });
            // As many crashes per node on any size: the node holding the
            // overwritten suffix is one of them.
            let period = MS(1100) * 3 / s.spec.nodes as u32;
            s.every(MS(1000), period, MS(300), |_| Fault::Crash { target: Target::Random, lose_disk: false });
        },
        evidence: |e| {
            use raftkv::probe::Probe;
            vec![
                ("a follower truncated a conflicting suffix", e.probed(Probe::AppendTruncatedConflict) > 0),
                ("a node replayed an overwritten suffix from its WAL on boot", e.probed(Probe::WalReplayTruncatingAppend) > 0),
            ]
        },
    },
    Scenario {
        name: "deposed-leaders",
        summary: "two leaders in a row are cut off while clients keep writing to them, then both rejoin at once and the newest leader crashes: two divergent tails of different terms meet, and a longer log of an older term campaigns against a shorter log of a newer one (Raft's Figure 7 and 8 shapes), with nodes crashing before compaction",
        sizes: ANY_SIZE,
        build: |s| {
            // The WAL keeps the divergent suffixes across crashes.
            s.spec.snapshot_threshold = 400;
            busy_writers(s);
            let mut at = MS(800);
            while at + MS(2400) < s.duration {
                // The first leader is cut off (with its node-bound clients still
                // writing to it) for 8 s; the moment its successor is elected,
                // holding a short log of the newer term, that one is cut off
                // too (a fixed delay missed the election on 7 nodes, or let the
                // successor's log outgrow its predecessor's): both rejoin at the
                // same moment...
                s.plan.push(Planned { at, hold: MS(1600), fault: Fault::Isolate { target: Target::Leader } });
                s.plan.push(Planned { at: at + MS(10), hold: MS(1590), fault: Fault::Isolate { target: Target::NewLeader } });
                // ...and the leader of the rest crashes right then, so the
                // deposed ones, with longer logs of older terms, campaign.
                s.plan.push(Planned { at: at + MS(1600), hold: MS(400), fault: Fault::Crash { target: Target::Leader, lose_disk: false } });
                at += MS(2400);
            }
        },
        evidence: |e| {
            use raftkv::probe::Probe;
            // Two isolations ending together on different nodes.
            let isolations: Vec<_> = e.faults.iter().filter(|f| f.fault.name() == "isolate").collect();
            let together = isolations.iter().any(|a| {
                isolations.iter().any(|b| a.id < b.id && a.end == b.end && a.nodes != b.nodes)
            });
            // A candidate whose log was longer but of an older term than a
            // voter's. Each node's log end is known from its role changes and
            // from every persist since (a follower that took the newer
            // leader's entries changes no role).
            let mut last: std::collections::BTreeMap<u64, (u64, u64)> = Default::default();
            let mut older_longer = false;
            for r in e.trace {
                match r.event {
                    TraceEvent::Role { role, last_index, last_term, .. } => {
                        if matches!(role, Role::PreCandidate | Role::Candidate) {
                            older_longer |= last.iter().any(|(n, (i, t))| {
                                *n != r.node && *i < last_index && *t > last_term
                            });
                        }
                        last.insert(r.node, (last_index, last_term));
                    }
                    TraceEvent::Persisted { last: index, last_term, .. } => {
                        last.insert(r.node, (index, last_term));
                    }
                    // A reboot's log end is unknown until its next persist
                    // or role (Boot gives no last term).
                    TraceEvent::Boot { .. } => {
                        last.remove(&r.node);
                    }
                    _ => {}
                }
            }
            vec![
                ("two deposed leaders rejoined at once", together),
                ("a longer log of an older term campaigned against a newer, shorter one", older_longer),
                ("a follower truncated a conflicting suffix", e.probed(Probe::AppendTruncatedConflict) > 0),
            ]
        },
    },
    Scenario {
        name: "election-crash",
        summary: "isolate the leader and crash the first node that grants a vote the moment its answer is sent; then cut off the new leader while the restarted voter meets the old one: the vote must survive the crash",
        sizes: ANY_SIZE,
        build: |s| {
            let nodes = s.spec.node_ids();
            let mut at = MS(600);
            while at + MS(1200) < s.duration {
                // The old leader is cut off: the others elect a new one...
                s.plan.push(Planned { at, hold: MS(600), fault: Fault::Isolate { target: Target::Leader } });
                // ...and whoever votes in that election crashes right after (the
                // candidate and the cut-off leader grant no vote, so never fire).
                for n in &nodes {
                    s.plan.push(Planned { at, hold: MS(500), fault: Fault::CrashAt { target: Target::Node(*n), point: CrashPoint::AfterVote, lose_disk: false } });
                }
                // The voter restarts as the new leader is cut off, and meets the
                // old leader once its isolation ends: a voter that forgot its vote
                // can now elect a second leader in the same term.
                s.plan.push(Planned { at: at + MS(500), hold: MS(600), fault: Fault::Isolate { target: Target::Leader } });
                at += MS(2000);
            }
        },
        evidence: |e| {
            let fired: Vec<&crate::nemesis::FaultRecord> = e
                .faults
                .iter()
                .filter(|f| matches!(f.fault, Fault::CrashAt { point: CrashPoint::AfterVote, .. }) && f.detail.starts_with("crash point reached"))
                .collect();
            let rebooted = fired.iter().any(|f| f.nodes.iter().any(|n| e.rebooted_after(*n, f.start)));
            vec![
                ("a node crashed right after granting a vote", !fired.is_empty()),
                ("the voter booted again", rebooted),
            ]
        },
    },
    Scenario {
        name: "all-crash",
        summary: "every node crashes and restarts, over and over (6.824 SnapshotAllCrash)",
        sizes: ANY_SIZE,
        build: |s| {
            let nodes = s.spec.node_ids();
            let mut at = MS(700);
            while at < s.duration {
                for n in &nodes {
                    let jitter = MS(s.rng.random_range(0..50));
                    s.plan.push(Planned { at: at + jitter, hold: MS(200), fault: Fault::Crash { target: Target::Node(*n), lose_disk: false } });
                }
                at += MS(1500);
            }
        },
        evidence: |e| {
            let boots = e.count(|ev| matches!(ev, TraceEvent::Boot { .. }));
            let restored = e.count(|ev| matches!(ev, TraceEvent::Restored { on_boot: true, .. }));
            vec![
                ("every node crashed at least once", e.crashed_nodes() >= e.nodes as usize),
                ("nodes restored a snapshot on boot", restored > 0 && boots > 3),
            ]
        },
    },
    Scenario {
        name: "restart-storm",
        summary: "nodes crash and restart in quick succession, sometimes several at once",
        sizes: ANY_SIZE,
        build: |s| {
            let plan = Nemesis::random_plan(
                s.rng,
                &[Fault::Crash { target: Target::Random, lose_disk: false }, Fault::Crash { target: Target::Leader, lose_disk: false }],
                (s.duration.as_millis() / u128::from(250 * TIME_SCALE)) as usize,
                MS(500),
                s.duration,
                (MS(50), MS(400)),
            );
            s.plan.extend(plan);
        },
        evidence: |e| vec![("many crashes and restarts", e.fired("crash") >= 5)],
    },
    Scenario {
        name: "majorities-ring",
        summary: "every node sees a majority but no two see the same one (Jepsen's majorities ring)",
        sizes: ANY_SIZE,
        build: |s| {
            s.every(MS(700), MS(2500), MS(1800), |_| Fault::MajoritiesRing);
        },
        evidence: |e| vec![("a majorities ring was in place", e.fired("majorities-ring") > 0)],
    },
    Scenario {
        name: "clock-drift",
        summary: "node clocks drift within the lease bound while leaders serve lease reads, with leader isolation",
        sizes: ANY_SIZE,
        build: |s| {
            s.spec.read_mode = ReadMode::Lease;
            // Rates stay within the configured bound (1 ± 0.65, as a stalled VM
            // or a throttled clock might), so the clean system's lease,
            // shortened for that bound, is safe. A slow leader clock is the
            // dangerous case: its lease outlives the followers' patience.
            // (The bound was 0.7, which with a 10-tick election timeout left
            // the clean lease at 0 ticks: no read was ever served by it, as
            // the read.lease probe showed; 0.65 gives it one tick.)
            s.spec.max_clock_drift = 0.65;
            // Impatient clients on few keys, half of them reading: writers find
            // a new leader quickly while readers may still ask the old one.
            s.workload.clients = 6;
            s.workload.keys = s.workload.keys.min(2);
            s.workload.read_ratio = 0.5;
            s.workload.request_timeout = MS(100);
            s.every(MS(300), MS(1000), MS(900), |rng| {
                if rng.random_bool(0.5) {
                    Fault::ClockDrift { target: Target::Leader, rate: 0.35 }
                } else {
                    Fault::ClockDrift { target: Target::Random, rate: 1.5 }
                }
            });
            s.every(MS(900), MS(2000), MS(1000), |_| Fault::Isolate { target: Target::Leader });
        },
        evidence: |e| {
            vec![
                ("clocks drifted", e.fired("clock-drift") > 0),
                ("the leader was isolated", e.fired("isolate") > 0),
                ("leaders served reads by their lease", e.probed(raftkv::probe::Probe::ReadLease) > 0),
            ]
        },
    },
    Scenario {
        name: "quorum-boundary",
        summary: "on 5 or 7 nodes, cut the leader and a bare majority off from the rest, and crash or isolate the leader the moment it commits an entry only they hold: the next leader must come from that majority",
        sizes: quorum::SIZES,
        build: quorum::build,
        evidence: quorum::evidence,
    },
    Scenario {
        name: "swarm",
        summary: "every knob drawn from the seed: node count, thresholds, fault mix and rates, workload (swarm testing)",
        sizes: &[],
        build: swarm::build,
        evidence: |e| vec![("faults were injected", !e.faults.is_empty())],
    },
];

pub fn find(name: &str) -> Option<&'static Scenario> {
    SCENARIOS.iter().find(|s| s.name == name)
}

pub fn names() -> Vec<&'static str> {
    SCENARIOS.iter().map(|s| s.name).collect()
}
