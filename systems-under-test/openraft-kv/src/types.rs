//! The openraft type configuration and the commands it replicates.
use crate::runtime::SimRuntime;
use openraft::{BasicNode, StoredMembership};
use serde::{Deserialize, Serialize};
use std::io::Cursor;
use sut::ops::{Op, Outcome};
use sut::trace::Membership;

pub type NodeId = u64;

openraft::declare_raft_types!(
    /// openraft's types for this system: u64 node ids, [`BasicNode`] whose
    /// `addr` is the node's turmoil host name, snapshots as in-memory bytes.
    pub TypeConfig:
        D = Command,
        R = Outcome,
        NodeId = NodeId,
        Node = BasicNode,
        Entry = openraft::Entry<TypeConfig>,
        SnapshotData = Cursor<Vec<u8>>,
        AsyncRuntime = SimRuntime,
);

pub type Raft = openraft::Raft<TypeConfig>;
pub type Entry = openraft::Entry<TypeConfig>;
pub type LogId = openraft::LogId<NodeId>;
pub type Vote = openraft::Vote<NodeId>;
pub type SnapshotMeta = openraft::SnapshotMeta<NodeId, BasicNode>;
pub type StorageError = openraft::StorageError<NodeId>;

/// A client's write: `op`, the `seq`-th command of session `client`. The
/// state machine applies each (client, seq) at most once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    pub client: u64,
    pub seq: u64,
    pub op: Op,
}

impl Command {
    /// The bytes the trace's `Apply::digest` hashes (the postcard encoding).
    pub fn digest(&self) -> u64 {
        sut::fnv64(&postcard::to_stdvec(self).expect("commands always encode"))
    }
}

/// The turmoil host name of node `id` (also its `BasicNode::addr`).
pub fn host_name(id: NodeId) -> String {
    format!("n{id}")
}

/// The term of a log id (0 for none).
pub fn term_of(log_id: Option<&LogId>) -> u64 {
    log_id.map_or(0, |l| l.leader_id.term)
}

/// The index of a log id (0 for none: openraft's log starts at index 0 with
/// the initial membership, the trace schema's 0 means "nothing").
pub fn index_of(log_id: Option<&LogId>) -> u64 {
    log_id.map_or(0, |l| l.index)
}

/// A stored membership in the trace's vocabulary (joint configs are flattened
/// to the union of their voters).
pub fn membership_of(m: &StoredMembership<NodeId, BasicNode>) -> Membership {
    let voters: Vec<NodeId> = m.membership().voter_ids().collect();
    let learners: Vec<NodeId> = m.membership().learner_ids().collect();
    Membership { voters, learners }
}
