//! openraft's outbound RPCs (`RaftNetworkFactory`, `RaftNetwork`) over turmoil
//! UDP. turmoil's TCP never retransmits a lost segment, so a dropped packet
//! would stall a stream forever; over UDP a lost request or answer is simply a
//! timed-out RPC, and openraft retries.
//!
//! Each client openraft makes gets its own ephemeral socket, so the single
//! request it has in flight (`&mut self`) is matched by id and stale answers
//! to earlier, timed-out requests are dropped. An RPC waits at most the
//! option's *soft* TTL: openraft wraps the call in its hard TTL and, for a
//! snapshot chunk, a hard-TTL expiry aborts the whole transfer while an error
//! returned by us is retried chunk by chunk.
use crate::trace::TraceSink;
use crate::types::{NodeId, TypeConfig};
use crate::wire::{Request, Response, Wire, MAX_DATAGRAM, PORT};
use openraft::error::{
    InstallSnapshotError, NetworkError, PayloadTooLarge, RPCError, RaftError, RemoteError, Timeout,
};
use openraft::network::{RPCOption, RaftNetwork, RaftNetworkFactory};
use openraft::raft::{
    AppendEntriesRequest, AppendEntriesResponse, InstallSnapshotRequest, InstallSnapshotResponse,
    VoteRequest, VoteResponse,
};
use openraft::{BasicNode, RPCTypes};
use std::io;
use std::time::Duration;
use sut::trace::TraceEvent;
use turmoil::net::UdpSocket;

/// Makes one [`Peer`] per target openraft wants to talk to.
#[derive(Clone)]
pub struct Network {
    pub node: NodeId,
    pub trace: TraceSink,
}

impl RaftNetworkFactory<TypeConfig> for Network {
    type Network = Peer;

    async fn new_client(&mut self, target: NodeId, node: &BasicNode) -> Peer {
        Peer {
            node: self.node,
            target,
            addr: node.addr.clone(),
            socket: None,
            next_id: 0,
            trace: self.trace.clone(),
        }
    }
}

/// Why an RPC got no answer.
#[derive(Debug)]
enum Failure {
    Timeout(Duration),
    TooLarge,
    Io(io::Error),
}

/// The RPC client for one target.
pub struct Peer {
    node: NodeId,
    target: NodeId,
    addr: String,
    /// Bound on first use (`new_client` cannot fail).
    socket: Option<UdpSocket>,
    next_id: u64,
    trace: TraceSink,
}

impl Peer {
    async fn call(&mut self, body: Request, wait: Duration) -> Result<Response, Failure> {
        if self.socket.is_none() {
            let socket = UdpSocket::bind(("0.0.0.0", 0)).await.map_err(Failure::Io)?;
            self.socket = Some(socket);
        }
        let socket = self.socket.as_ref().expect("bound above");
        self.next_id += 1;
        let id = self.next_id;
        let bytes = Wire::Request { id, body }.encode();
        if bytes.len() > MAX_DATAGRAM {
            return Err(Failure::TooLarge);
        }
        socket
            .send_to(&bytes, (self.addr.as_str(), PORT))
            .await
            .map_err(Failure::Io)?;
        let deadline = tokio::time::Instant::now() + wait; // determinism-ok: tokio's paused clock is simulated time
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            let recv = tokio::time::timeout_at(deadline, socket.recv_from(&mut buf)).await;
            let (n, _) = recv
                .map_err(|_| Failure::Timeout(wait))?
                .map_err(Failure::Io)?;
            match Wire::decode(&buf[..n]) {
                Some(Wire::Response { id: got, body }) if got == id => return Ok(body),
                // An answer to an earlier request that timed out: drop it.
                _ => continue,
            }
        }
    }

    /// openraft's error for a failed call of kind `action`.
    fn rpc_error<E: std::error::Error>(
        &self,
        f: Failure,
        action: RPCTypes,
        entries: usize,
    ) -> RPCError<NodeId, BasicNode, E> {
        match f {
            Failure::Timeout(timeout) => RPCError::Timeout(Timeout {
                action,
                id: self.node,
                target: self.target,
                timeout,
            }),
            // Ask for half as many entries; a chunk or vote never gets here
            // with the configured sizes.
            Failure::TooLarge if entries > 1 => {
                RPCError::PayloadTooLarge(PayloadTooLarge::new_entries_hint((entries / 2) as u64))
            }
            Failure::TooLarge => RPCError::Network(NetworkError::new(&io::Error::other(
                "a single message exceeds the datagram budget",
            ))),
            Failure::Io(e) => RPCError::Network(NetworkError::new(&e)),
        }
    }

    fn remote<E: std::error::Error>(&self, e: E) -> RPCError<NodeId, BasicNode, E> {
        RPCError::RemoteError(RemoteError::new(self.target, e))
    }
}

/// The answer did not match the request: treat it as lost.
fn mismatch<E: std::error::Error>() -> RPCError<NodeId, BasicNode, E> {
    RPCError::Network(NetworkError::new(&io::Error::other("mismatched response")))
}

impl RaftNetwork<TypeConfig> for Peer {
    async fn append_entries(
        &mut self,
        rpc: AppendEntriesRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        let entries = rpc.entries.len();
        let res = self
            .call(Request::AppendEntries(rpc), option.soft_ttl())
            .await;
        match res {
            Ok(Response::AppendEntries(Ok(r))) => Ok(r),
            Ok(Response::AppendEntries(Err(e))) => Err(self.remote(e)),
            Ok(_) => Err(mismatch()),
            Err(f) => Err(self.rpc_error(f, RPCTypes::AppendEntries, entries)),
        }
    }

    async fn vote(
        &mut self,
        rpc: VoteRequest<NodeId>,
        option: RPCOption,
    ) -> Result<VoteResponse<NodeId>, RPCError<NodeId, BasicNode, RaftError<NodeId>>> {
        match self.call(Request::Vote(rpc), option.soft_ttl()).await {
            Ok(Response::Vote(Ok(r))) => Ok(r),
            Ok(Response::Vote(Err(e))) => Err(self.remote(e)),
            Ok(_) => Err(mismatch()),
            Err(f) => Err(self.rpc_error(f, RPCTypes::Vote, 0)),
        }
    }

    /// One chunk of openraft's chunked snapshot transfer.
    async fn install_snapshot(
        &mut self,
        rpc: InstallSnapshotRequest<TypeConfig>,
        option: RPCOption,
    ) -> Result<
        InstallSnapshotResponse<NodeId>,
        RPCError<NodeId, BasicNode, RaftError<NodeId, InstallSnapshotError>>,
    > {
        let sent = TraceEvent::SnapshotChunkSent {
            to: self.target,
            index: rpc.meta.last_log_id.map_or(0, |l| l.index),
            offset: rpc.offset,
            len: rpc.data.len() as u64,
        };
        self.trace.push(self.node, sent);
        let res = self
            .call(Request::InstallSnapshot(rpc), option.soft_ttl())
            .await;
        match res {
            Ok(Response::InstallSnapshot(Ok(r))) => Ok(r),
            Ok(Response::InstallSnapshot(Err(e))) => Err(self.remote(e)),
            Ok(_) => Err(mismatch()),
            Err(f) => Err(self.rpc_error(f, RPCTypes::InstallSnapshot, 0)),
        }
    }
}
