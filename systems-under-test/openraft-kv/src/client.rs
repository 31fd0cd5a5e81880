//! A client session over UDP: finds the leader, retries a write with the same
//! (client, seq) until it is answered, so the state machine applies it once.
use crate::types::{host_name, Command, NodeId};
use crate::wire::{ClientRequest, ClientResponse, Request, Response, Wire, MAX_DATAGRAM, PORT};
use std::io;
use std::time::Duration;
use sut::ops::{Op, Outcome};
use tokio::time::Instant;
use turmoil::net::UdpSocket;

/// Why a call gave up.
#[derive(Debug, PartialEq, Eq)]
pub enum ClientError {
    /// No answer before the deadline: a write may or may not have happened.
    Timeout,
}

pub struct Client {
    id: u64,
    seq: u64,
    nodes: Vec<NodeId>,
    /// Where to send next: the last leader hint, else the next node in turn.
    target: usize,
    socket: UdpSocket,
    next_request: u64,
    /// How long one attempt waits for its answer.
    pub attempt: Duration,
    /// How long a call keeps trying before [`ClientError::Timeout`].
    pub patience: Duration,
}

impl Client {
    /// Session `id` (unique per run) against `nodes`. Call from a turmoil host
    /// or client.
    pub async fn new(id: u64, nodes: Vec<NodeId>) -> io::Result<Client> {
        assert!(!nodes.is_empty(), "a client needs a node to talk to");
        Ok(Client {
            id,
            seq: 0,
            nodes,
            target: 0,
            socket: UdpSocket::bind(("0.0.0.0", 0)).await?,
            next_request: 0,
            attempt: Duration::from_millis(400),
            patience: Duration::from_secs(10),
        })
    }

    /// Applies `op` exactly once (unless it times out: then at most once).
    pub async fn write(&mut self, op: Op) -> Result<Outcome, ClientError> {
        self.seq += 1;
        let cmd = Command {
            client: self.id,
            seq: self.seq,
            op,
        };
        match self.call(ClientRequest::Write(cmd)).await? {
            ClientResponse::Applied(outcome) => Ok(outcome),
            other => unreachable!("call returns only answers: {other:?}"),
        }
    }

    /// A linearizable read of `key`.
    pub async fn read(&mut self, key: &str) -> Result<Option<String>, ClientError> {
        let req = ClientRequest::Read { key: key.into() };
        match self.call(req).await? {
            ClientResponse::Value(v) => Ok(v),
            other => unreachable!("call returns only answers: {other:?}"),
        }
    }

    /// Sends `req` until some node answers it (not "not leader"/"refused").
    async fn call(&mut self, req: ClientRequest) -> Result<ClientResponse, ClientError> {
        let give_up = Instant::now() + self.patience; // determinism-ok: tokio's paused clock is simulated time
        let expired = || Instant::now() >= give_up; // determinism-ok: tokio's paused clock is simulated time
        while !expired() {
            let node = self.nodes[self.target];
            match self.attempt_once(node, req.clone()).await {
                Some(r @ (ClientResponse::Applied(_) | ClientResponse::Value(_))) => return Ok(r),
                Some(ClientResponse::NotLeader {
                    leader: Some(leader),
                }) if leader != node => {
                    self.target = self.nodes.iter().position(|&n| n == leader).unwrap_or(0);
                }
                // No leader known, refused, or no answer: try the next node
                // after a pause (an election takes a few hundred ms).
                _ => {
                    self.target = (self.target + 1) % self.nodes.len();
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        Err(ClientError::Timeout)
    }

    async fn attempt_once(&mut self, node: NodeId, req: ClientRequest) -> Option<ClientResponse> {
        self.next_request += 1;
        let id = self.next_request;
        let bytes = Wire::Request {
            id,
            body: Request::Client(req),
        }
        .encode();
        let addr = (host_name(node), PORT);
        self.socket.send_to(&bytes, addr).await.ok()?;
        let deadline = Instant::now() + self.attempt; // determinism-ok: tokio's paused clock is simulated time
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            let recv = tokio::time::timeout_at(deadline, self.socket.recv_from(&mut buf));
            let (n, _) = recv.await.ok()?.ok()?;
            if let Some(Wire::Response {
                id: got,
                body: Response::Client(r),
            }) = Wire::decode(&buf[..n])
            {
                if got == id {
                    return Some(r);
                }
            }
        }
    }
}
