//! A node-bound client against scripted nodes: it never follows a redirect,
//! and records "not leader" from its node as a fail only when no attempt of
//! the operation went unanswered (then nothing was proposed anywhere), as
//! unknown otherwise. A leader-following client follows the same redirect.
//! The nodes speak a protocol of this test's own (JSON datagrams): the client
//! knows no system, only the boundary's requests and replies.
use std::cell::RefCell;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::Duration;
use sut::client::{ClientProtocol, Reply as Response, Request};
use sut::ops::{Op, Outcome};
use turmoil::net::UdpSocket;
use workloads::client::{CallResult, Client, ClientConfig};

const PORT: u16 = 7000;

fn host_name(node: u64) -> String {
    format!("n{node}")
}

/// `(id, request)` and `(id, reply)` as JSON, to port [`PORT`] of `n{id}`.
struct Json;

impl ClientProtocol for Json {
    fn address(&self, node: u64) -> SocketAddr {
        SocketAddr::new(turmoil::lookup(host_name(node)), PORT)
    }
    fn encode(&self, id: u64, request: &Request) -> Vec<u8> {
        serde_json::to_vec(&(id, request)).unwrap()
    }
    fn decode(&self, datagram: &[u8]) -> Option<(u64, Response)> {
        serde_json::from_slice(datagram).ok()
    }
}

fn config(nodes: Vec<u64>) -> ClientConfig {
    ClientConfig::new(nodes, Rc::new(Json))
}

/// A node that answers each request as `script` says (None: no answer).
async fn scripted(script: fn(&Request, u32) -> Option<Response>) -> turmoil::Result {
    let socket = UdpSocket::bind(("0.0.0.0", PORT)).await?;
    let mut buf = vec![0; 1 << 16];
    // Attempts seen per write (client, seq): retries reuse the pair.
    let mut attempts: Vec<((u64, u64), u32)> = Vec::new();
    loop {
        let (n, from) = socket.recv_from(&mut buf).await?;
        let Ok((id, body)) = serde_json::from_slice::<(u64, Request)>(&buf[..n]) else {
            continue;
        };
        let attempt = match &body {
            Request::Write { client, seq, .. } => {
                let key = (*client, *seq);
                match attempts.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, a)) => {
                        *a += 1;
                        *a
                    }
                    None => {
                        attempts.push((key, 1));
                        1
                    }
                }
            }
            _ => 1,
        };
        if let Some(answer) = script(&body, attempt) {
            socket
                .send_to(&serde_json::to_vec(&(id, answer)).unwrap(), from)
                .await?;
        }
    }
}

/// n1 was the leader and is deposed: reads are redirected to n2; the first
/// write's first attempt goes unanswered (it was proposed, then n1 stepped
/// down), later attempts and other writes are redirected.
fn deposed(req: &Request, attempt: u32) -> Option<Response> {
    let redirect = Some(Response::NotLeader { leader: Some(2) });
    match req {
        Request::Write { seq: 1, .. } if attempt == 1 => None,
        _ => redirect,
    }
}

/// n2 leads.
fn leader(req: &Request, _: u32) -> Option<Response> {
    Some(match req {
        Request::Read { .. } => Response::Value(Some("v".into())),
        _ => Response::Applied(Outcome::Done),
    })
}

fn put() -> Op {
    Op::Put {
        key: "k".into(),
        value: "x".into(),
    }
}

#[test]
fn a_bound_client_records_redirects_as_fail_or_unknown_and_never_follows_them() {
    let mut sim = turmoil::Builder::new()
        .simulation_duration(Duration::from_secs(120))
        .build();
    sim.host(host_name(1), || scripted(deposed));
    sim.host(host_name(2), || scripted(leader));
    let seen: Rc<RefCell<Vec<(&str, CallResult)>>> = Rc::default();
    let out = seen.clone();
    sim.client("clients", async move {
        let bound_cfg = ClientConfig {
            bound: Some(1),
            ..config(vec![1, 2])
        };
        let mut bound = Client::connect(bound_cfg, 1, 1).await?;
        let r = bound.read("k").await;
        out.borrow_mut().push(("bound read", r));
        let r = bound.write(put()).await;
        out.borrow_mut()
            .push(("bound write, first attempt unanswered", r));
        let r = bound.write(put()).await;
        out.borrow_mut()
            .push(("bound write, redirected at once", r));
        let follow_cfg = ClientConfig {
            port: 9001,
            ..config(vec![1, 2])
        };
        let mut follower = Client::connect(follow_cfg, 2, 2).await?;
        let r = follower.read("k").await;
        out.borrow_mut().push(("following read", r));
        let r = follower.write(put()).await;
        out.borrow_mut().push(("following write", r));
        Ok(())
    });
    sim.run().unwrap();
    let seen = seen.borrow();
    let got: Vec<&str> = seen.iter().map(|(what, _)| *what).collect();
    assert_eq!(got.len(), 5, "{got:?}");
    let reason = "not leader (bound to n1)".to_string();
    assert_eq!(
        seen[0].1,
        CallResult::Fail {
            reason: reason.clone(),
            node: Some(1)
        },
        "a refused read did not happen"
    );
    assert_eq!(
        seen[1].1,
        CallResult::Unknown {
            reason: reason.clone(),
            node: Some(1)
        },
        "the unanswered attempt may still commit: unknown, not fail"
    );
    assert_eq!(
        seen[2].1,
        CallResult::Fail {
            reason,
            node: Some(1)
        },
        "redirected before anything was proposed: certainly not applied"
    );
    assert!(
        matches!(&seen[3].1, CallResult::Ok { response: Response::Value(Some(v)), node: 2 } if v == "v"),
        "the following client goes where the redirect points: {:?}",
        seen[3].1
    );
    assert!(
        matches!(
            &seen[4].1,
            CallResult::Ok {
                response: Response::Applied(Outcome::Done),
                node: 2
            }
        ),
        "{:?}",
        seen[4].1
    );
}
