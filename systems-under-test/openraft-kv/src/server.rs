//! The node's inbound side: one UDP socket on [`PORT`], each request handled
//! in its own task (a client write waits for its commit; a Raft RPC must not
//! queue behind it) and answered to the address it came from.
use crate::state_machine::StateMachine;
use crate::trace::TraceSink;
use crate::types::{NodeId, Raft};
use crate::wire::{ClientRequest, ClientResponse, Request, Response, Wire, MAX_DATAGRAM, PORT};
use openraft::error::{CheckIsLeaderError, ClientWriteError, RaftError};
use std::net::SocketAddr;
use std::sync::Arc;
use sut::trace::TraceEvent;
use turmoil::net::UdpSocket;

#[derive(Clone)]
pub struct Server {
    pub node: NodeId,
    pub raft: Raft,
    pub sm: StateMachine,
    pub trace: TraceSink,
    pub socket: Arc<UdpSocket>,
}

impl Server {
    pub async fn bind() -> std::io::Result<UdpSocket> {
        UdpSocket::bind(("0.0.0.0", PORT)).await
    }

    /// Serves until the host crashes.
    pub async fn serve(self) -> std::io::Result<()> {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            let (n, from) = self.socket.recv_from(&mut buf).await?;
            // Anything that is not a whole request (an answer arriving late on
            // this port, a cut datagram) is dropped, as a real server would.
            if let Some(Wire::Request { id, body }) = Wire::decode(&buf[..n]) {
                let this = self.clone();
                tokio::spawn(async move { this.handle(id, body, from).await });
            }
        }
    }

    async fn handle(self, id: u64, body: Request, from: SocketAddr) {
        let body = match body {
            Request::AppendEntries(rpc) => {
                Response::AppendEntries(self.raft.append_entries(rpc).await)
            }
            Request::Vote(rpc) => Response::Vote(self.raft.vote(rpc).await),
            Request::InstallSnapshot(rpc) => {
                let sender = rpc.vote.leader_id().voted_for().unwrap_or(0);
                let meta = rpc.meta.last_log_id;
                let (offset, len, done) = (rpc.offset, rpc.data.len() as u64, rpc.done);
                if done {
                    self.sm.set_snapshot_sender(sender);
                }
                let res = self.raft.install_snapshot(rpc).await;
                let received = TraceEvent::SnapshotChunkReceived {
                    from: sender,
                    index: meta.map_or(0, |l| l.index),
                    term: meta.map_or(0, |l| l.leader_id.term),
                    offset,
                    len,
                    accepted: res.is_ok(),
                    reason: match &res {
                        Ok(_) => String::new(),
                        Err(e) => e.to_string(),
                    },
                };
                self.trace.push(self.node, received);
                Response::InstallSnapshot(res)
            }
            Request::Client(req) => Response::Client(self.client(req).await),
        };
        let bytes = Wire::Response { id, body }.encode();
        // A lost answer is the same as a lost request to the caller: it times
        // out and retries. Nothing to do on a send error.
        let _ = self.socket.send_to(&bytes, from).await;
    }

    async fn client(&self, req: ClientRequest) -> ClientResponse {
        match req {
            ClientRequest::Write(cmd) => match self.raft.client_write(cmd).await {
                Ok(resp) => ClientResponse::Applied(resp.data),
                Err(RaftError::APIError(ClientWriteError::ForwardToLeader(f))) => {
                    ClientResponse::NotLeader {
                        leader: f.leader_id,
                    }
                }
                Err(e) => ClientResponse::Refused(e.to_string()),
            },
            ClientRequest::Read { key } => match self.raft.ensure_linearizable().await {
                // The state machine has applied at least up to the read point.
                Ok(_) => ClientResponse::Value(self.sm.get(&key)),
                Err(RaftError::APIError(CheckIsLeaderError::ForwardToLeader(f))) => {
                    ClientResponse::NotLeader {
                        leader: f.leader_id,
                    }
                }
                Err(e) => ClientResponse::Refused(e.to_string()),
            },
        }
    }
}
