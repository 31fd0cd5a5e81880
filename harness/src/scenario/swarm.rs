//! `swarm`: every knob drawn from the seed (swarm testing). Its draws are its
//! own (the node count among them, from [3, 3, 5, 5, 7]), so its seeds keep
//! their runs.
use super::{Setup, MS, TIME_SCALE};
use crate::nemesis::{Fault, Nemesis, Readd, Target};
use raftkv::node::CrashPoint;
use rand::seq::{IndexedRandom, SliceRandom};
use rand::Rng;
use workloads::Generator;

pub(super) fn build(s: &mut Setup) {
    let rng = &mut *s.rng;
    if !s.nodes_given {
        s.spec.nodes = *[3, 3, 5, 5, 7].choose(rng).expect("sizes");
    }
    s.spec.snapshot_threshold = rng.random_range(1..=8);
    s.spec.trailing_logs = rng.random_range(0..=3);
    s.workload.generator = *Generator::ALL.choose(rng).expect("generators");
    s.workload.clients = rng.random_range(2..=6);
    s.workload.read_ratio = rng.random_range(0.0..0.6);
    s.workload.rate = rng.random_range(5.0..40.0) / TIME_SCALE as f64;
    s.workload.keys = match s.workload.generator {
        Generator::Register => rng.random_range(1..=3),
        _ => rng.random_range(1..=8),
    };
    let menu = [
        Fault::Isolate {
            target: Target::Random,
        },
        Fault::Isolate {
            target: Target::Leader,
        },
        Fault::RandomHalves,
        Fault::Bridge,
        Fault::MajoritiesRing,
        Fault::OneWay {
            from: Target::Leader,
            to: Target::Random,
        },
        Fault::Loss { rate: 0.1 },
        Fault::Latency {
            max_ms: 80 * TIME_SCALE,
        },
        Fault::Unreliable {
            duplicate: 0.2,
            reorder: 0.2,
            max_delay_ms: 30 * TIME_SCALE,
        },
        Fault::Crash {
            target: Target::Random,
            lose_disk: false,
        },
        Fault::Crash {
            target: Target::Follower,
            lose_disk: true,
        },
        Fault::Pause {
            target: Target::Random,
        },
        Fault::ClockDrift {
            target: Target::Random,
            rate: 1.1,
        },
        Fault::CrashAt {
            target: Target::Random,
            point: CrashPoint::AfterSnapshotFile,
            lose_disk: false,
        },
        Fault::CrashAt {
            target: Target::Random,
            point: CrashPoint::MidInstallTransfer,
            lose_disk: false,
        },
        Fault::BlackholeUntilSnapshot {
            target: Target::Follower,
        },
        Fault::RemoveMember {
            target: Target::Random,
            readd: Readd::Varied,
        },
        Fault::Disk {
            target: Target::Random,
            io_error: 0.02,
            read_corruption: 0.2,
            full: false,
        },
        Fault::Disk {
            target: Target::Random,
            io_error: 0.0,
            read_corruption: 0.0,
            full: true,
        },
    ];
    let mut kinds: Vec<Fault> = menu.to_vec();
    kinds.shuffle(rng);
    kinds.truncate(rng.random_range(2..=6));
    let count = rng.random_range(3..=(3 + (s.duration.as_secs() * 2 / TIME_SCALE) as usize));
    let plan = Nemesis::random_plan(rng, &kinds, count, MS(300), s.duration, (MS(100), MS(2500)));
    s.plan.extend(plan);
}
