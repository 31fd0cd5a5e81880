//! The client protocol as the harness's clients see it: what they ask, what a
//! node may answer, and a system's adapter that puts both on the wire. A
//! workload speaks only these types, so one workload drives every system; a
//! system supplies one [`ClientProtocol`].
use crate::ops::{Op, Outcome};
use crate::trace::ConfChange;
use crate::NodeId;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;

/// One request of a client, as sent to one node.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Request {
    /// A write under the client's session: retries carry the same
    /// `(client, seq)`, so the system applies it at most once.
    Write { client: u64, seq: u64, op: Op },
    /// A linearizable read.
    Read { key: String },
    /// A membership change, answered once applied.
    Admin(ConfChange),
}

/// A node's answer to one request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Reply {
    /// The write was applied, with what it did.
    Applied(Outcome),
    /// The read's value (`None`: the key is absent).
    Value(Option<String>),
    /// The membership change was applied.
    AdminDone,
    /// Definitely not performed: this node is not the leader (`leader` is a
    /// hint, if it knows one).
    NotLeader { leader: Option<NodeId> },
    /// Definitely not performed, for another reason.
    Refused(String),
}

/// How a system's clients reach a node and read its answers: one datagram
/// per request and per reply, matched by the client-chosen `id`. The
/// adapter holds no state; the client does the retrying.
pub trait ClientProtocol {
    /// Where node `node` listens for clients, in the simulation.
    fn address(&self, node: NodeId) -> SocketAddr;
    /// One request as one datagram.
    fn encode(&self, id: u64, request: &Request) -> Vec<u8>;
    /// A datagram from a node: the id of the request it answers and the
    /// reply, or None if it is not a reply.
    fn decode(&self, datagram: &[u8]) -> Option<(u64, Reply)>;
}
