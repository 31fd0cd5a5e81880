//! A 3-node openraft-kv cluster in a turmoil simulation, driven step by step
//! so tests can crash, bounce and partition nodes between client phases.
#![allow(dead_code)] // each test binary uses a different part

use openraft_kv::{boot, host_name, Client, Knobs, NodeConfig, NodeId, TraceSink};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;
use sut::ops::Op;
use sut::trace::{TraceEvent, TraceRecord};
use turmoil::Sim;

pub const NODES: [NodeId; 3] = [1, 2, 3];

pub struct Cluster {
    pub sim: Sim<'static>,
    pub trace: TraceSink,
    clients: u64,
}

impl Cluster {
    pub fn new(seed: u64, knobs: Knobs) -> Cluster {
        let mut sim = turmoil::Builder::new()
            .rng_seed(seed)
            .simulation_duration(Duration::from_secs(120))
            .min_message_latency(Duration::from_millis(1))
            .max_message_latency(Duration::from_millis(5))
            .udp_capacity(1024)
            .build();
        let trace = TraceSink::new();
        for id in NODES {
            let (trace, knobs) = (trace.clone(), knobs.clone());
            // Counts this host's boots: turmoil calls the closure again on bounce.
            let boots = Rc::new(Cell::new(0u64));
            sim.host(host_name(id), move || {
                let boot_no = boots.get();
                boots.set(boot_no + 1);
                let cfg = NodeConfig {
                    id,
                    peers: NODES.to_vec(),
                    disk_root: format!("/data/n{id}/gen-0").into(),
                    seed,
                    boot: boot_no,
                    knobs: knobs.clone(),
                };
                boot(cfg, trace.clone())
            });
        }
        Cluster {
            sim,
            trace,
            clients: 0,
        }
    }

    /// Runs `work` as a new client session to completion (stepping the
    /// simulation) and returns what it produced.
    pub fn client<T, F, Fut>(&mut self, work: F) -> T
    where
        T: 'static,
        F: FnOnce(Client) -> Fut + 'static,
        Fut: std::future::Future<Output = T> + 'static,
    {
        let slot = self.start_client(work);
        self.finish(slot)
    }

    /// Starts `work` as a new client session; [`Cluster::finish`] awaits it.
    pub fn start_client<T, F, Fut>(&mut self, work: F) -> Rc<RefCell<Option<T>>>
    where
        T: 'static,
        F: FnOnce(Client) -> Fut + 'static,
        Fut: std::future::Future<Output = T> + 'static,
    {
        self.clients += 1;
        let id = self.clients;
        let out = Rc::new(RefCell::new(None));
        let slot = out.clone();
        self.sim.client(format!("c{id}"), async move {
            let client = Client::new(id, NODES.to_vec()).await?;
            *slot.borrow_mut() = Some(work(client).await);
            Ok(())
        });
        out
    }

    /// Steps until every client finished; returns what `slot`'s produced.
    pub fn finish<T>(&mut self, slot: Rc<RefCell<Option<T>>>) -> T {
        while !self.sim.step().expect("simulation step") {}
        let produced = slot.borrow_mut().take();
        produced.expect("client finished")
    }

    /// The node that most recently reported itself leader.
    pub fn leader(&self) -> Option<NodeId> {
        self.trace
            .records()
            .iter()
            .rev()
            .find_map(|r| match r.event {
                TraceEvent::Role {
                    role: sut::trace::Role::Leader,
                    ..
                } => Some(r.node),
                _ => None,
            })
    }

    /// Steps for `d` of simulated time.
    pub fn run_for(&mut self, d: Duration) {
        let until = self.sim.elapsed() + d;
        while self.sim.elapsed() < until {
            self.sim.step().expect("simulation step");
        }
    }

    /// Steps until `pred` holds on the trace (or panics after `limit`).
    pub fn run_until(
        &mut self,
        limit: Duration,
        what: &str,
        pred: impl Fn(&[TraceRecord]) -> bool,
    ) {
        let until = self.sim.elapsed() + limit;
        while !pred(&self.trace.records()) {
            if self.sim.elapsed() >= until {
                std::fs::write("/tmp/oraft-timeout.jsonl", self.trace.to_json_lines()).ok();
                panic!("timed out waiting for {what}");
            }
            self.sim.step().expect("simulation step");
        }
    }

    pub fn events(&self, node: NodeId) -> Vec<TraceEvent> {
        let records = self.trace.records();
        records
            .into_iter()
            .filter(|r| r.node == node)
            .map(|r| r.event)
            .collect()
    }
}

pub fn put(key: &str, value: &str) -> Op {
    Op::Put {
        key: key.into(),
        value: value.into(),
    }
}

pub fn append(key: &str, value: &str) -> Op {
    Op::Append {
        key: key.into(),
        value: value.into(),
    }
}

/// Writes `key-i = value-i` for i in `range`, asserting each is applied.
pub async fn write_keys(client: &mut Client, range: std::ops::Range<u32>) {
    for i in range {
        let out = client
            .write(put(&format!("key-{i}"), &format!("value-{i}")))
            .await;
        assert_eq!(out, Ok(sut::ops::Outcome::Done), "write {i}");
    }
}

/// How many records satisfy `pred`.
pub fn count(records: &[TraceRecord], pred: impl Fn(&TraceRecord) -> bool) -> usize {
    records.iter().filter(|r| pred(r)).count()
}
