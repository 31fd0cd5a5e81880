//! Plain data that the protocol core, storage and the state machine share.
use serde::{Deserialize, Serialize};

pub type NodeId = u64;
pub type Term = u64;
pub type Index = u64;

/// One log entry. `index` is 1-based; index 0 is the empty log's sentinel.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub term: Term,
    pub index: Index,
    pub payload: Payload,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Payload {
    /// Appended by every new leader so that it can commit entries of its own term
    /// (Raft §5.4.2) and serve ReadIndex reads.
    Noop,
    /// An opaque state-machine command (the KV layer's encoding).
    Command(Vec<u8>),
    /// A single-server membership change; takes effect when applied (etcd style).
    ConfChange(ConfChange),
}

pub use sut::trace::{ConfChange, ConfChangeKind};

/// What must be durable before a node answers a vote or an append.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HardState {
    pub term: Term,
    pub vote: Option<NodeId>,
    pub commit: Index,
}

/// The membership configuration (etcd's ConfState), carried in every snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfState {
    /// Sorted, no duplicates.
    pub voters: Vec<NodeId>,
    /// Sorted, no duplicates, disjoint from `voters`.
    pub learners: Vec<NodeId>,
}

impl ConfState {
    pub fn new(voters: impl IntoIterator<Item = NodeId>) -> Self {
        let mut voters: Vec<NodeId> = voters.into_iter().collect();
        voters.sort_unstable();
        voters.dedup();
        ConfState {
            voters,
            learners: Vec::new(),
        }
    }

    pub fn is_voter(&self, id: NodeId) -> bool {
        self.voters.binary_search(&id).is_ok()
    }

    pub fn is_learner(&self, id: NodeId) -> bool {
        self.learners.binary_search(&id).is_ok()
    }

    pub fn contains(&self, id: NodeId) -> bool {
        self.is_voter(id) || self.is_learner(id)
    }

    /// Every member, voters first.
    pub fn members(&self) -> impl Iterator<Item = NodeId> + '_ {
        self.voters.iter().chain(self.learners.iter()).copied()
    }

    /// The membership as the trace reports it.
    pub fn membership(&self) -> sut::trace::Membership {
        sut::trace::Membership {
            voters: self.voters.clone(),
            learners: self.learners.clone(),
        }
    }

    pub fn quorum(&self) -> usize {
        self.voters.len() / 2 + 1
    }

    /// Apply a single-server change. Returns false (and changes nothing) when it is a no-op.
    pub fn apply(&mut self, cc: ConfChange) -> bool {
        let remove = |v: &mut Vec<NodeId>, id| match v.binary_search(&id) {
            Ok(pos) => {
                v.remove(pos);
                true
            }
            Err(_) => false,
        };
        let insert = |v: &mut Vec<NodeId>, id| match v.binary_search(&id) {
            Ok(_) => false,
            Err(pos) => {
                v.insert(pos, id);
                true
            }
        };
        match cc.kind {
            ConfChangeKind::AddLearner => {
                if self.is_voter(cc.node) {
                    return false;
                }
                insert(&mut self.learners, cc.node)
            }
            ConfChangeKind::AddVoter => {
                remove(&mut self.learners, cc.node);
                insert(&mut self.voters, cc.node)
            }
            ConfChangeKind::Remove => {
                let a = remove(&mut self.voters, cc.node);
                let b = remove(&mut self.learners, cc.node);
                a || b
            }
        }
    }
}

/// Identifies a snapshot: the last log entry it covers, and the membership at that point.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotMeta {
    pub index: Index,
    pub term: Term,
    pub conf: ConfState,
}

/// A state-machine snapshot: opaque data produced by the KV layer, plus its metadata.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    pub meta: SnapshotMeta,
    pub data: Vec<u8>,
}
