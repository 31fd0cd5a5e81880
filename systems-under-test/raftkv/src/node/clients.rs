//! raftkv's adapter for the harness's clients ([`sut::client`]): the boundary's
//! requests and replies in raftkv's own wire format, unchanged on the wire.
use super::wire::{host_name, Request, Response, Wire, PORT};
use crate::kv::Command;
use crate::raft::NodeId;
use std::net::SocketAddr;
use sut::client::{self, ClientProtocol, Reply};

/// raftkv's client protocol: [`Wire::Request`] and [`Wire::Response`] on UDP
/// port [`PORT`] of host `n{id}`.
pub struct KvClients;

impl ClientProtocol for KvClients {
    fn address(&self, node: NodeId) -> SocketAddr {
        SocketAddr::new(turmoil::lookup(host_name(node)), PORT)
    }

    fn encode(&self, id: u64, request: &client::Request) -> Vec<u8> {
        let body = match request {
            client::Request::Write { client, seq, op } => Request::Command(Command {
                client: *client,
                seq: *seq,
                op: op.clone(),
            }),
            client::Request::Read { key } => Request::Read { key: key.clone() },
            client::Request::Admin(cc) => Request::Admin(*cc),
        };
        Wire::Request { id, body }.encode()
    }

    fn decode(&self, datagram: &[u8]) -> Option<(u64, Reply)> {
        let Wire::Response { id, body } = Wire::decode(datagram)? else {
            return None;
        };
        let reply = match body {
            Response::Applied(outcome) => Reply::Applied(outcome),
            Response::Value(v) => Reply::Value(v),
            Response::AdminDone => Reply::AdminDone,
            Response::NotLeader { leader } => Reply::NotLeader { leader },
            Response::Refused(reason) => Reply::Refused(reason),
        };
        Some((id, reply))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kv::{Op, Outcome};

    #[test]
    fn requests_and_replies_keep_raftkvs_bytes() {
        let op = Op::Put {
            key: "k".into(),
            value: "v".into(),
        };
        let request = client::Request::Write {
            client: 3,
            seq: 9,
            op: op.clone(),
        };
        let wire = Wire::Request {
            id: 7,
            body: Request::Command(Command {
                client: 3,
                seq: 9,
                op,
            }),
        };
        assert_eq!(KvClients.encode(7, &request), wire.encode());
        let answer = Wire::Response {
            id: 7,
            body: Response::NotLeader { leader: Some(2) },
        };
        assert_eq!(
            KvClients.decode(&answer.encode()),
            Some((7, Reply::NotLeader { leader: Some(2) }))
        );
        let applied = Wire::Response {
            id: 8,
            body: Response::Applied(Outcome::Done),
        };
        assert_eq!(
            KvClients.decode(&applied.encode()),
            Some((8, Reply::Applied(Outcome::Done)))
        );
        // Raft traffic is not a reply.
        assert_eq!(KvClients.decode(&wire.encode()), None);
    }
}
