//! The node trace: one event enum for everything a node does that a checker or a
//! report needs. Events are plain data, serialised as JSON lines by the harness.
//! A state a node claims (a snapshot it took, a state it restored) is reported
//! as its contents, so a checker compares values with its own replay instead
//! of trusting the system's encoding or digest.
use crate::ops::{Op, Outcome};
use crate::{Index, NodeId, Term};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One trace event with when and where it happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceRecord {
    /// Simulated time since the start of the run, in nanoseconds.
    pub time: u64,
    pub node: NodeId,
    #[serde(flatten)]
    pub event: TraceEvent,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TraceEvent {
    /// A node process started and recovered its durable state.
    Boot {
        generation: u64,
        term: Term,
        vote: Option<NodeId>,
        commit: Index,
        snapshot_index: Index,
        snapshot_term: Term,
        first_index: Index,
        last_index: Index,
        torn_tail_bytes: u64,
        /// Booted on an empty disk after the first boot: must catch up before voting.
        recovering: bool,
        /// Disk faults the harness injected while this boot read the disk.
        #[serde(default, skip_serializing_if = "is_zero")]
        injected_faults: u64,
    },
    /// The node could not continue (storage error, failed restore) and halted.
    Halt {
        reason: String,
        /// Disk faults the harness injected into this node since it booted: a halt
        /// with none is a bug, one with some is the node refusing bad storage.
        injected_faults: u64,
    },
    Role {
        role: Role,
        term: Term,
        leader: Option<NodeId>,
        /// The node's last log entry when it took the role (leader completeness).
        last_index: Index,
        last_term: Term,
    },
    VoteGranted {
        term: Term,
        candidate: NodeId,
    },
    /// Entries first..=last are durable on this node.
    Persisted {
        first: Index,
        last: Index,
        last_term: Term,
    },
    Commit {
        index: Index,
        term: Term,
    },
    Apply {
        index: Index,
        term: Term,
        kind: ApplyKind,
        /// Digest of the command bytes (state-machine safety compares these).
        digest: u64,
        client: Option<u64>,
        seq: Option<u64>,
        /// The KV operation (commands) so checkers can replay the committed log.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        op: Option<Op>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conf_change: Option<ConfChange>,
        /// False when the session table recognised a duplicate and skipped it.
        effective: bool,
    },
    /// The node's membership is now `conf`, the configuration as of log
    /// index `index`: after applying a change there, on boot from the
    /// snapshot (or the bootstrap configuration at 0), or on installing a
    /// snapshot.
    ConfChanged {
        index: Index,
        conf: Membership,
        #[serde(default, skip_serializing_if = "ConfSource::is_applied")]
        source: ConfSource,
    },
    SnapshotCreated {
        index: Index,
        term: Term,
        size: u64,
        state_digest: u64,
        keys: u64,
        sessions: u64,
        /// What the snapshot holds, decoded from its bytes by the system.
        contents: StateContents,
    },
    /// The snapshot file is durable (tmp, fsync, rename, fsync dir done).
    SnapshotPersisted {
        index: Index,
        term: Term,
    },
    /// The WAL now starts at the snapshot marker; entries before `first_index` are gone.
    Compacted {
        snapshot_index: Index,
        first_index: Index,
        last_index: Index,
    },
    SnapshotSendStart {
        to: NodeId,
        index: Index,
        term: Term,
        size: u64,
    },
    SnapshotChunkSent {
        to: NodeId,
        index: Index,
        offset: u64,
        len: u64,
    },
    SnapshotChunkReceived {
        from: NodeId,
        index: Index,
        term: Term,
        offset: u64,
        len: u64,
        accepted: bool,
        reason: String,
    },
    /// A complete snapshot was accepted from the leader and replaces the log prefix.
    SnapshotInstalled {
        from: NodeId,
        index: Index,
        term: Term,
        size: u64,
        kept_suffix: u64,
        /// The follower's last log index before the install.
        #[serde(default)]
        prior_last_index: Index,
        /// The term of the follower's own entry at `index` before the install,
        /// if it had one (not counting a snapshot it already had there).
        #[serde(default)]
        prior_term_at_index: Option<Term>,
    },
    /// A complete snapshot was refused (stale, checksum, size).
    SnapshotRejected {
        from: NodeId,
        index: Index,
        term: Term,
        reason: String,
    },
    /// The follower's log already matched the snapshot: commit moved forward instead.
    SnapshotFastForward {
        index: Index,
        term: Term,
    },
    /// The state machine was replaced by a snapshot (on boot or after install).
    Restored {
        index: Index,
        term: Term,
        state_digest: u64,
        applied: Index,
        on_boot: bool,
        /// The state machine after the restore, as the system reports it.
        contents: StateContents,
    },
    /// A state digest checkpoint (after final catch-up, or on request).
    StateDigest {
        applied: Index,
        state_digest: u64,
    },
    /// As leader, the node took a client's linearizable read (ReadIndex or
    /// lease) as `request`, a number of its own for this boot. It owes an
    /// answer: [`TraceEvent::ReadAnswered`].
    ReadAccepted {
        request: u64,
    },
    /// The node answered read `request`: `served` with a value, or refused
    /// (it lost the leadership before the read point was confirmed).
    ReadAnswered {
        request: u64,
        served: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Follower,
    PreCandidate,
    Candidate,
    Leader,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApplyKind {
    Noop,
    Command,
    ConfChange,
}

/// A single-server membership change, as proposed and applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfChange {
    pub kind: ConfChangeKind,
    pub node: NodeId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConfChangeKind {
    /// Add a non-voting member that receives the log (or a snapshot).
    AddLearner,
    /// Add a voter, or promote a learner to voter.
    AddVoter,
    /// Remove a voter or learner.
    Remove,
}

/// Why a node's membership changed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConfSource {
    /// It applied a membership change at `index`.
    #[default]
    Applied,
    /// It booted with the membership its snapshot (or the bootstrap) holds.
    Boot,
    /// It installed a snapshot from the leader.
    Snapshot,
}

impl ConfSource {
    pub fn is_applied(&self) -> bool {
        *self == ConfSource::Applied
    }
}

/// A node's view of the membership: who votes and who only learns.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub voters: Vec<NodeId>,
    pub learners: Vec<NodeId>,
}

/// A key-value state machine's whole state: data and client sessions.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateContents {
    pub data: BTreeMap<String, String>,
    pub sessions: BTreeMap<u64, SessionState>,
}

/// The last command a client had applied, and what it returned.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionState {
    pub last_seq: u64,
    pub outcome: Outcome,
}
