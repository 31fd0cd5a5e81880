//! What travels in one UDP datagram: openraft's RPCs between nodes and the
//! client protocol, request/response matched by a sender-chosen id, encoded
//! with postcard (a binary codec: snapshot chunks are raw bytes, not the
//! number arrays a JSON codec would make of them).
use crate::types::{Command, NodeId, TypeConfig};
use openraft::error::{InstallSnapshotError, RaftError};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use serde::{Deserialize, Serialize};
use sut::ops::Outcome;

/// The port every node serves on (Raft peers and clients alike).
pub const PORT: u16 = 7100;

/// The largest datagram anyone sends. turmoil itself has no limit; this keeps
/// the system honest about UDP (a larger AppendEntries is refused as
/// `PayloadTooLarge`, which makes openraft send fewer entries; snapshot chunks
/// are configured well below it).
pub const MAX_DATAGRAM: usize = 16 * 1024;

#[derive(Debug, Serialize, Deserialize)]
pub enum Wire {
    Request { id: u64, body: Request },
    Response { id: u64, body: Response },
}

#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    AppendEntries(AppendEntriesRequest<TypeConfig>),
    Vote(VoteRequest<NodeId>),
    InstallSnapshot(InstallSnapshotRequest<TypeConfig>),
    Client(ClientRequest),
}

/// An RPC's answer; `Err` is the receiving Raft's own error, returned to the
/// sender's openraft as a `RemoteError`.
#[derive(Debug, Serialize, Deserialize)]
pub enum Response {
    AppendEntries(Result<AppendEntriesResponse<NodeId>, RaftError<NodeId>>),
    Vote(Result<VoteResponse<NodeId>, RaftError<NodeId>>),
    InstallSnapshot(
        Result<InstallSnapshotResponse<NodeId>, RaftError<NodeId, InstallSnapshotError>>,
    ),
    Client(ClientResponse),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientRequest {
    /// A write, answered once applied.
    Write(Command),
    /// A linearizable read (openraft's `ensure_linearizable`, ReadIndex-style).
    Read { key: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientResponse {
    Applied(Outcome),
    Value(Option<String>),
    /// Not performed: this node is not the leader (`leader` is a hint). For a
    /// write this is also what openraft answers when its entry was cut from
    /// the log by a new leader, so it was never committed either.
    NotLeader {
        leader: Option<NodeId>,
    },
    /// Not performed, for another reason (the node is shutting down, ...).
    Refused(String),
}

impl Wire {
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("wire messages always encode")
    }

    /// `None` for anything that is not a whole message (a stray or cut datagram).
    pub fn decode(bytes: &[u8]) -> Option<Wire> {
        postcard::from_bytes(bytes).ok()
    }
}
