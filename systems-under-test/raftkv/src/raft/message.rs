//! Messages between Raft peers. Every message carries the sender's term.
use super::types::{Entry, Index, NodeId, SnapshotMeta, Term};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub from: NodeId,
    pub to: NodeId,
    pub term: Term,
    /// The sender's incarnation: the number of the disk it runs on, which grows
    /// each time the node comes back without its disk (etcd gives a replaced
    /// member a new ID for the same reason). A leader drops answers from an
    /// earlier incarnation: they vouch for entries that disk no longer holds.
    #[serde(default)]
    pub incarnation: u64,
    /// The sender lost its disk and has not caught up yet: its answers do not
    /// count toward any quorum (commit, ReadIndex, lease, check-quorum).
    #[serde(default)]
    pub recovering: bool,
    pub body: Body,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Body {
    /// Pre-vote (Raft thesis §9.6): asks "would you vote for me in `term`?" without
    /// anyone changing term, so a partitioned node cannot disrupt a healthy leader.
    PreVote {
        last_index: Index,
        last_term: Term,
    },
    PreVoteResp {
        reject: bool,
    },
    Vote {
        last_index: Index,
        last_term: Term,
    },
    VoteResp {
        reject: bool,
    },
    Append {
        prev_index: Index,
        prev_term: Term,
        entries: Vec<Entry>,
        commit: Index,
    },
    /// On success `index` is the follower's last matching index. On reject `index` is
    /// the rejected `prev_index` and (`hint_index`, `hint_term`) is the follower's
    /// best guess of where the logs agree (conflict back-off by term).
    AppendResp {
        reject: bool,
        index: Index,
        hint_index: Index,
        hint_term: Term,
    },
    /// `commit` is min(leader commit, follower match): a follower never commits past
    /// what it is known to hold. `ctx` is the leader's ReadIndex round.
    Heartbeat {
        commit: Index,
        ctx: u64,
    },
    HeartbeatResp {
        ctx: u64,
    },
    /// One chunk of a snapshot transfer. (`meta.term`, `meta.index`) identifies the
    /// snapshot; `total` and `crc` describe the whole payload so the follower can
    /// reject short, over-long and mixed transfers. `last` is the sender's claim
    /// that this chunk ends the payload.
    SnapshotChunk {
        meta: SnapshotMeta,
        offset: u64,
        total: u64,
        crc: u32,
        data: Vec<u8>,
        last: bool,
    },
    /// The follower's answer to a chunk: the offset it expects next for snapshot
    /// (`snap_term`, `snap_index`); `restart` asks the leader to begin again at 0.
    SnapshotAck {
        snap_term: Term,
        snap_index: Index,
        next_offset: u64,
        restart: bool,
    },
    /// To a recovering follower: an entry the leader appended after it first
    /// heard from the follower's new incarnation is committed at `index` (by a
    /// quorum without the follower). Once the follower has applied that far it
    /// holds everything committed before it lost its disk, and may vote again.
    Recovered {
        index: Index,
    },
}

impl Body {
    pub fn name(&self) -> &'static str {
        match self {
            Body::PreVote { .. } => "pre_vote",
            Body::PreVoteResp { .. } => "pre_vote_resp",
            Body::Vote { .. } => "vote",
            Body::VoteResp { .. } => "vote_resp",
            Body::Append { .. } => "append",
            Body::AppendResp { .. } => "append_resp",
            Body::Heartbeat { .. } => "heartbeat",
            Body::HeartbeatResp { .. } => "heartbeat_resp",
            Body::SnapshotChunk { .. } => "snapshot_chunk",
            Body::SnapshotAck { .. } => "snapshot_ack",
            Body::Recovered { .. } => "recovered",
        }
    }
}
