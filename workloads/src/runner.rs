//! Client processes in the simulation (Jepsen's process model): each client slot
//! runs one operation at a time and records invoke, then exactly one of ok / fail /
//! info. After an info the process never issues another operation; a new process
//! number (old + number of slots) takes over the slot with a fresh KV session.
use crate::client::{CallResult, Client, ClientConfig};
use crate::generator::{Generator, OpSource, Planned};
use crate::history::{EventKind, Function, SharedRecorder, Value};
use raftkv::kv::{Op, Outcome};
use raftkv::node::Response;
use raftkv::raft::NodeId;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkloadSpec {
    pub generator: Generator,
    pub clients: u32,
    pub keys: u32,
    /// Fraction of operations that are reads.
    pub read_ratio: f64,
    /// Fraction of kv writes that are deletes (Jepsen's kv format has none: 0
    /// makes the history exportable to it).
    pub delete_ratio: f64,
    /// Operations per second per client; pauses between operations are drawn
    /// uniformly from [0, 2/rate].
    pub rate: f64,
    pub request_timeout: Duration,
    pub op_timeout: Duration,
}

impl WorkloadSpec {
    pub fn new(generator: Generator) -> Self {
        WorkloadSpec {
            generator,
            clients: 4,
            keys: match generator {
                Generator::Register => 1,
                _ => 5,
            },
            read_ratio: 0.3,
            delete_ratio: 0.05,
            rate: 4.0,
            request_timeout: Duration::from_millis(1500),
            op_timeout: Duration::from_millis(7500),
        }
    }

    pub fn keys(&self) -> Vec<String> {
        self.generator.keys(self.keys, self.clients)
    }
}

/// Tells the clients to finish: each completes its operation in flight and exits.
pub type StopFlag = Rc<Cell<bool>>;

/// Runs every client slot as a task of one simulated host (`clients`), each on
/// its own port: turmoil steps every host's runtime on every tick, so one host
/// for all clients costs far less than one per client. Partitions only cut links
/// between nodes, so nothing the clients see changes by sharing the host.
pub fn spawn_clients(
    sim: &mut turmoil::Sim<'_>,
    nodes: &[NodeId],
    spec: &WorkloadSpec,
    seed: u64,
    recorder: SharedRecorder,
    stop: StopFlag,
) {
    let slots = spec.clients.max(1);
    let (nodes, spec) = (nodes.to_vec(), spec.clone());
    sim.client("clients", async move {
        let tasks: Vec<_> = (0..slots)
            .map(|slot| {
                let (nodes, spec) = (nodes.clone(), spec.clone());
                tokio::task::spawn_local(client_slot(
                    slot,
                    nodes,
                    spec,
                    seed,
                    recorder.clone(),
                    stop.clone(),
                ))
            })
            .collect();
        for task in tasks {
            task.await??;
        }
        Ok(())
    });
}

/// One client slot: operations until told to stop, a new process after an info.
async fn client_slot(
    slot: u32,
    nodes: Vec<NodeId>,
    spec: WorkloadSpec,
    seed: u64,
    recorder: SharedRecorder,
    stop: StopFlag,
) -> turmoil::Result {
    let slots = spec.clients.max(1);
    let cfg = ClientConfig {
        request_timeout: spec.request_timeout,
        op_timeout: spec.op_timeout,
        port: 9000 + slot as u16,
        ..ClientConfig::new(nodes)
    };
    let slot_seed = seed ^ (u64::from(slot) + 1).wrapping_mul(0x2545_f491_4f6c_dd1d);
    let mut rng = ChaCha8Rng::seed_from_u64(slot_seed);
    let mut process = u64::from(slot);
    let mut client = Client::connect(cfg, process + 1, slot_seed).await?;
    let mut ops = OpSource::new(
        spec.generator,
        slot,
        spec.keys,
        spec.read_ratio,
        spec.delete_ratio,
    );
    while !stop.get() {
        let planned = ops.next(process, &mut rng);
        let kind = perform(&mut client, process, &planned, &recorder).await;
        if kind == EventKind::Info {
            process += u64::from(slots);
            client.new_session(process + 1);
        }
        let pause = rng.random_range(0.0..2.0 / spec.rate.max(0.001));
        tokio::time::sleep(Duration::from_secs_f64(pause)).await;
    }
    Ok(())
}

/// One client reading every key once after the cluster healed (the "final reads"
/// phase); each read is recorded like any other operation. Sets `done` at the end.
pub fn spawn_final_reads(
    sim: &mut turmoil::Sim<'_>,
    nodes: &[NodeId],
    keys: Vec<String>,
    process: u64,
    recorder: SharedRecorder,
    done: StopFlag,
) {
    let cfg = ClientConfig {
        op_timeout: Duration::from_secs(25),
        ..ClientConfig::new(nodes.to_vec())
    };
    sim.client(format!("final{process}"), async move {
        let mut client = Client::connect(cfg, process + 1, process).await?;
        for key in keys {
            let planned = Planned {
                f: Function::Get,
                key,
                value: None,
            };
            perform(&mut client, process, &planned, &recorder).await;
        }
        done.set(true);
        Ok(())
    });
}

/// Invokes, performs and completes one operation; returns the completion type.
async fn perform(
    client: &mut Client,
    process: u64,
    planned: &Planned,
    recorder: &SharedRecorder,
) -> EventKind {
    let Planned { f, key, value } = planned;
    recorder
        .borrow_mut()
        .invoke(process, *f, key, value.clone());
    let (kind, result_value, node, error) = match f {
        Function::Get => match client.read(key).await {
            CallResult::Ok {
                response: Response::Value(v),
                node,
            } => (EventKind::Ok, v.map(Value::String), Some(node), None),
            // A read that got no answer did not happen: it is safe to call it failed.
            CallResult::Ok { node, .. } => (EventKind::Fail, None, Some(node), None),
            CallResult::Fail { node, reason } | CallResult::Unknown { node, reason } => {
                (EventKind::Fail, None, node, Some(reason))
            }
        },
        _ => {
            let op = to_op(*f, key, value);
            let result = client.write(op).await;
            let (kind, node, error) = match result {
                CallResult::Ok {
                    response: Response::Applied(Outcome::Done),
                    node,
                } => (EventKind::Ok, Some(node), None),
                CallResult::Ok {
                    response: Response::Applied(Outcome::CasMismatch { .. }),
                    node,
                } => (EventKind::Fail, Some(node), None),
                // Anything else from a node that applied *something* is not a
                // definite answer about this operation.
                CallResult::Ok { node, .. } => (EventKind::Info, Some(node), None),
                CallResult::Unknown { node, .. } => (EventKind::Info, node, None),
                // Never reached the state machine: the reason tells a failed
                // cas from one that saw another value.
                CallResult::Fail { node, reason } => (EventKind::Fail, node, Some(reason)),
            };
            (kind, value.clone(), node, error)
        }
    };
    recorder
        .borrow_mut()
        .complete(process, kind, *f, key, result_value, node, error);
    kind
}

fn to_op(f: Function, key: &str, value: &Option<Value>) -> Op {
    let key = key.to_string();
    let string = || match value {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    match f {
        Function::Put => Op::Put {
            key,
            value: string(),
        },
        Function::Append => Op::Append {
            key,
            value: string(),
        },
        Function::Cas => {
            let (from, to) = match value {
                Some(Value::Cas(from, to)) => (from.clone(), to.clone()),
                _ => (None, String::new()),
            };
            Op::Cas { key, from, to }
        }
        Function::Delete => Op::Delete { key },
        Function::Get => unreachable!("reads are not commands"),
    }
}
