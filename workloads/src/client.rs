//! One simulated client connection (a Jepsen "process"): one operation in flight,
//! leader discovery by redirect, and retries that reuse the operation's session
//! sequence number so the KV applies it at most once. A client bound to one node
//! (Jepsen's node-bound clients) never follows a redirect: "not leader" from its
//! node is a fail when no attempt of the operation went unanswered (nothing was
//! proposed anywhere), and of unknown outcome otherwise.
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;
use sut::client::{ClientProtocol, Reply, Request};
use sut::ops::Op;
use sut::trace::ConfChange;
use sut::NodeId;
use tokio::time::Instant;
use turmoil::net::UdpSocket;

#[derive(Clone)]
pub struct ClientConfig {
    pub nodes: Vec<NodeId>,
    /// The system's client protocol: where a node listens, and its wire
    /// format.
    pub protocol: Rc<dyn ClientProtocol>,
    /// How long to wait for one node's answer before trying another.
    pub request_timeout: Duration,
    /// How long one operation may take in all before it is given up.
    pub op_timeout: Duration,
    /// Pause before retrying when no node knows a leader.
    pub backoff: Duration,
    /// Local UDP port (clients sharing a simulated host need different ones).
    pub port: u16,
    /// Talk to this node only, leader or not (None: follow the leader).
    pub bound: Option<NodeId>,
}

impl ClientConfig {
    pub fn new(nodes: Vec<NodeId>, protocol: Rc<dyn ClientProtocol>) -> Self {
        ClientConfig {
            nodes,
            protocol,
            request_timeout: Duration::from_millis(1500),
            op_timeout: Duration::from_secs(10),
            backoff: Duration::from_millis(250),
            port: 9000,
            bound: None,
        }
    }
}

/// What a client learned about one operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallResult {
    /// Known to have taken effect (or, for a read, a linearizable value).
    Ok { response: Reply, node: NodeId },
    /// Known not to have taken effect.
    Fail {
        reason: String,
        node: Option<NodeId>,
    },
    /// May or may not have taken effect.
    Unknown {
        reason: String,
        node: Option<NodeId>,
    },
}

pub struct Client {
    cfg: ClientConfig,
    socket: UdpSocket,
    client_id: u64,
    seq: u64,
    next_request: u64,
    leader: Option<NodeId>,
    rng: ChaCha8Rng,
    buf: Vec<u8>,
}

impl Client {
    /// Binds a socket on the current simulated host. `client_id` names the session
    /// in the KV's de-duplication table, so it must be unique per client process.
    pub async fn connect(cfg: ClientConfig, client_id: u64, seed: u64) -> std::io::Result<Self> {
        let socket = UdpSocket::bind(("0.0.0.0", cfg.port)).await?;
        Ok(Client {
            cfg,
            socket,
            client_id,
            seq: 0,
            next_request: 0,
            leader: None,
            rng: ChaCha8Rng::seed_from_u64(seed),
            buf: vec![0; 1 << 16],
        })
    }

    /// Starts a new KV session on the same socket (a new Jepsen process takes over
    /// after an operation of unknown outcome).
    pub fn new_session(&mut self, client_id: u64) {
        self.client_id = client_id;
        self.seq = 0;
    }

    pub fn client_id(&self) -> u64 {
        self.client_id
    }

    /// A write (put/append/cas/delete). Retries carry the same (client, seq).
    pub async fn write(&mut self, op: Op) -> CallResult {
        self.seq += 1;
        let request = Request::Write {
            client: self.client_id,
            seq: self.seq,
            op,
        };
        self.call(request, true).await
    }

    pub async fn read(&mut self, key: &str) -> CallResult {
        self.call(
            Request::Read {
                key: key.to_string(),
            },
            false,
        )
        .await
    }

    pub async fn admin(&mut self, cc: ConfChange) -> CallResult {
        self.call(Request::Admin(cc), true).await
    }

    fn pick_node(&mut self) -> NodeId {
        if let Some(b) = self.cfg.bound {
            return b;
        }
        match self.leader {
            Some(l) if self.cfg.nodes.contains(&l) => l,
            _ => self.cfg.nodes[self.rng.random_range(0..self.cfg.nodes.len())],
        }
    }

    fn other_node(&mut self, not: NodeId) -> NodeId {
        let others: Vec<NodeId> = self
            .cfg
            .nodes
            .iter()
            .copied()
            .filter(|n| *n != not)
            .collect();
        if others.is_empty() {
            return not;
        }
        others[self.rng.random_range(0..others.len())]
    }

    /// Sends `req` until a node answers definitely or the operation times out.
    /// `mutating`: a lost request may still take effect (unknown), while a read
    /// that got no answer simply did not happen (fail).
    async fn call(&mut self, req: Request, mutating: bool) -> CallResult {
        let deadline = Instant::now() + self.cfg.op_timeout; // determinism-ok: tokio's paused clock is simulated time
        let mut attempts: BTreeSet<u64> = BTreeSet::new();
        let mut maybe_applied = false;
        let mut last_node = None;
        let mut target = self.pick_node();
        loop {
            let now = Instant::now(); // determinism-ok: simulated time
            if now >= deadline {
                let reason = "timed out".to_string();
                return if maybe_applied {
                    CallResult::Unknown {
                        reason,
                        node: last_node,
                    }
                } else {
                    CallResult::Fail {
                        reason,
                        node: last_node,
                    }
                };
            }
            self.next_request += 1;
            let id = self.next_request;
            attempts.insert(id);
            last_node = Some(target);
            let addr = self.cfg.protocol.address(target);
            let bytes = self.cfg.protocol.encode(id, &req);
            let _ = self.socket.send_to(&bytes, addr).await;
            let wait_until = (now + self.cfg.request_timeout).min(deadline);
            match self.await_response(&attempts, wait_until).await {
                Some((response, from)) => match response {
                    Reply::NotLeader { .. } if self.cfg.bound.is_some() => {
                        let reason = format!("not leader (bound to n{from})");
                        return if maybe_applied {
                            CallResult::Unknown {
                                reason,
                                node: Some(from),
                            }
                        } else {
                            CallResult::Fail {
                                reason,
                                node: Some(from),
                            }
                        };
                    }
                    Reply::NotLeader { leader } => {
                        self.leader = None;
                        match leader.filter(|l| *l != target) {
                            Some(l) => target = l,
                            None => {
                                tokio::time::sleep(self.cfg.backoff).await;
                                target = self.other_node(target);
                            }
                        }
                    }
                    Reply::Refused(reason) if !maybe_applied => {
                        return CallResult::Fail {
                            reason,
                            node: Some(from),
                        };
                    }
                    Reply::Refused(_) => {
                        tokio::time::sleep(self.cfg.backoff).await;
                    }
                    response => {
                        self.leader = Some(from);
                        return CallResult::Ok {
                            response,
                            node: from,
                        };
                    }
                },
                None => {
                    // No answer: the request may have been proposed (and may still
                    // commit), so a write is now of unknown outcome unless a later
                    // attempt gets a definite answer.
                    maybe_applied |= mutating;
                    self.leader = None;
                    if self.cfg.bound.is_none() {
                        target = self.other_node(target);
                    }
                }
            }
        }
    }

    /// Waits for the answer to any attempt of the current operation. Answers to
    /// earlier operations are stale and ignored.
    async fn await_response(
        &mut self,
        attempts: &BTreeSet<u64>,
        until: Instant,
    ) -> Option<(Reply, NodeId)> {
        loop {
            let recv = tokio::time::timeout_at(until, self.socket.recv_from(&mut self.buf)).await;
            let Ok(Ok((n, from))) = recv else {
                return None;
            };
            if let Some((id, body)) = self.cfg.protocol.decode(&self.buf[..n]) {
                if attempts.contains(&id) {
                    let node = self.node_of(from);
                    return Some((body, node));
                }
            }
        }
    }

    fn node_of(&self, addr: SocketAddr) -> NodeId {
        self.cfg
            .nodes
            .iter()
            .copied()
            .find(|n| self.cfg.protocol.address(*n).ip() == addr.ip())
            .unwrap_or(0)
    }
}
