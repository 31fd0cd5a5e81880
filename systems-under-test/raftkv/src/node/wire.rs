//! What travels in one UDP datagram: Raft traffic between nodes, and the client
//! protocol (request/response matched by a client-chosen id).
use crate::kv::{Command, Outcome};
use crate::raft::{ConfChange, Message, NodeId};
use serde::{Deserialize, Serialize};

/// The port every node listens on.
pub const PORT: u16 = 7000;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Wire {
    Raft(Message),
    Request { id: u64, body: Request },
    Response { id: u64, body: Response },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// A write, answered once the command is applied.
    Command(Command),
    /// A linearizable read (ReadIndex, or a lease read when configured).
    Read { key: String },
    /// A membership change, answered once applied.
    Admin(ConfChange),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Response {
    Applied(Outcome),
    Value(Option<String>),
    AdminDone,
    /// Definitely not performed: this node is not the leader (`leader` is a hint).
    NotLeader {
        leader: Option<NodeId>,
    },
    /// Definitely not performed, for another reason.
    Refused(String),
}

impl Wire {
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("wire messages always encode")
    }

    pub fn decode(bytes: &[u8]) -> Option<Wire> {
        postcard::from_bytes(bytes).ok()
    }
}

/// The simulated host name of node `id`.
pub fn host_name(id: NodeId) -> String {
    format!("n{id}")
}
