//! The node trace: one event enum for everything a node does that a checker or a
//! report needs. Events are plain data, serialised as JSON lines by the harness.
use crate::kv::{Fingerprint, Op};
use crate::raft::{ConfChange, ConfState, Index, NodeId, Term};
use serde::{Deserialize, Serialize};

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
    ConfChanged {
        index: Index,
        conf: ConfState,
    },
    SnapshotCreated {
        index: Index,
        term: Term,
        size: u64,
        state_digest: u64,
        keys: u64,
        sessions: u64,
        /// Per-key value digests and session table, for a readable diff.
        fingerprint: Fingerprint,
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
        fingerprint: Fingerprint,
    },
    /// A state digest checkpoint (after final catch-up, or on request).
    StateDigest {
        applied: Index,
        state_digest: u64,
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

/// 64-bit FNV-1a: a fixed, seedless hash so digests are identical across runs.
pub fn fnv64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
