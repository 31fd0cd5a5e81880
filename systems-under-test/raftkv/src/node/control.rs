//! The knobs a harness turns on a running node, and what the node reports back.
//! Shared by `Rc<RefCell<..>>` between the simulation driver and the node's host
//! software: both run on the simulation's single thread.
use crate::raft::{Index, NodeId, Term};
use crate::storage::SharedDiskFaults;
use crate::trace::Role;
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::rc::Rc;

/// Named points where the harness can crash a node: on the snapshot path
/// ([`CrashPoint::ALL`]) and in an election.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CrashPoint {
    /// WAL records holding entries are written but not yet fsynced (with torn
    /// writes on, the crash keeps only some blocks of them).
    WalWriteBeforeFsync,
    /// A snapshot is due; nothing of it is written yet.
    BeforeSnapshotWrite,
    /// The snapshot file is durable; the WAL has no marker for it yet.
    AfterSnapshotFile,
    /// The WAL marker and new segment are durable; the state machine and the
    /// in-memory log do not know yet.
    AfterWalMarker,
    /// Part of an InstallSnapshot transfer has arrived.
    MidInstallTransfer,
    /// An installed snapshot's file is durable; the WAL is not cut yet.
    AfterInstallFile,
    /// Booting: the snapshot is loaded but the state machine not yet restored.
    DuringBootRestore,
    /// A vote was granted and its answer sent (not on the snapshot path, so not
    /// in `ALL`: scenarios that draw from `ALL` keep their draws).
    AfterVote,
}

impl CrashPoint {
    /// The crash points on the snapshot path.
    pub const ALL: [CrashPoint; 7] = [
        CrashPoint::WalWriteBeforeFsync,
        CrashPoint::BeforeSnapshotWrite,
        CrashPoint::AfterSnapshotFile,
        CrashPoint::AfterWalMarker,
        CrashPoint::MidInstallTransfer,
        CrashPoint::AfterInstallFile,
        CrashPoint::DuringBootRestore,
    ];
}

/// A snapshot of the node's progress, refreshed after every event loop turn.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeStatus {
    pub running: bool,
    pub role: Option<Role>,
    pub term: Term,
    pub leader: Option<NodeId>,
    pub commit: Index,
    pub applied: Index,
    pub last_index: Index,
    pub snapshot_index: Index,
    pub recovering: bool,
    /// The node is a voter in its own view of the membership.
    pub voter: bool,
    /// The voters in the node's own view of the membership.
    pub voters: Vec<NodeId>,
    /// Digest of the state machine at `applied`, when `report_digest` is on.
    pub state_digest: Option<u64>,
}

#[derive(Debug)]
pub struct Control {
    /// Names the disk root; bumping it between crash and restart loses the disk.
    pub generation: u64,
    /// How many times the node has booted.
    pub boots: u64,
    /// The node clock's rate relative to true time (1.0 = exact).
    pub clock_rate: f64,
    /// A paused node keeps its state but processes nothing.
    pub paused: bool,
    /// Faults of this node's outgoing Raft traffic (turmoil only loses messages).
    pub transport: TransportFaults,
    /// Faults of this node's disk (shared with the disk wrapper of every boot).
    pub disk: SharedDiskFaults,
    pub crash_point: Option<CrashPoint>,
    /// Set when the node reached the armed crash point; the driver must crash it.
    pub crashed_at: Option<CrashPoint>,
    /// Set when the node hit an unrecoverable error and stopped.
    pub halted: Option<String>,
    /// Compute the state digest whenever `applied` changes (costly; final phase).
    pub report_digest: bool,
    pub status: NodeStatus,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            generation: 0,
            boots: 0,
            clock_rate: 1.0,
            paused: false,
            transport: TransportFaults::default(),
            disk: SharedDiskFaults::default(),
            crash_point: None,
            crashed_at: None,
            halted: None,
            report_digest: false,
            status: NodeStatus::default(),
        }
    }
}

/// Loss, duplication and reordering applied by the node's own transport layer.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct TransportFaults {
    /// Probability that an outgoing message (to a peer or a client) is dropped.
    /// Loss lives here, not in turmoil's link model: turmoil's random loss
    /// heals explicitly partitioned one-way links (its link state machine
    /// turns a half-partitioned link into a random partition, then repairs
    /// both directions), so faults combined with it silently did not apply.
    pub loss: f64,
    /// Probability that a message is sent twice.
    pub duplicate: f64,
    /// Probability that a message is held back by a random delay of up to
    /// `max_delay` (so later messages overtake it).
    pub reorder: f64,
    pub max_delay: std::time::Duration,
}

pub type NodeControl = Rc<RefCell<Control>>;

pub use sut::trace::TraceRecord;

/// Where every node's trace goes (one sink per run, in simulation order).
pub type TraceSink = Rc<RefCell<Vec<TraceRecord>>>;
