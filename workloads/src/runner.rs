//! Client processes in the simulation (Jepsen's process model): each client slot
//! runs one operation at a time and records invoke, then exactly one of ok / fail /
//! info. After an info the process never issues another operation; a new process
//! number (old + number of slots) takes over the slot with a fresh KV session.
//!
//! The scenario's `clients` slots follow the leader (they go wherever a
//! redirect points). As in Jepsen, there are also node-bound slots: each node
//! gets one with probability [`BOUND_CLIENT_RATE`] (drawn from the seed, see
//! [`WorkloadSpec::draw_bound`]). A bound slot sends every operation to its
//! node, leader or not, cut off or deposed, with the same operation mix, and
//! records a redirect or refusal as a fail when the operation certainly did not
//! happen, as info when an earlier attempt of it went unanswered.
use crate::client::{CallResult, Client, ClientConfig};
use crate::generator::{Generator, OpSource, Planned, Shape};
use crate::history::{EventKind, Function, SharedRecorder, Value};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;
use sut::client::{ClientProtocol, Reply};
use sut::ops::{Op, Outcome};
use sut::NodeId;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkloadSpec {
    pub generator: Generator,
    pub clients: u32,
    pub keys: u32,
    /// Fraction of operations that are reads.
    pub read_ratio: f64,
    /// Fraction of kv writes that are deletes (Jepsen's kv format has none: 0
    /// makes the history exportable to it, and turns off the late key's
    /// deletes and cas too).
    pub delete_ratio: f64,
    /// Operations per second per client; pauses between operations are drawn
    /// uniformly from [0, 2/rate].
    pub rate: f64,
    pub request_timeout: Duration,
    pub op_timeout: Duration,
    /// Probability that a node gets a bound client slot (see the module doc).
    #[serde(default = "default_bound_rate")]
    pub bound_rate: f64,
    /// The nodes of the bound slots, after the `clients` leader-following ones
    /// (filled by [`WorkloadSpec::draw_bound`]).
    #[serde(default)]
    pub bound: Vec<NodeId>,
    /// The cluster's snapshot chunk size: big values are sized by it.
    #[serde(default = "default_chunk_size")]
    pub chunk_size: usize,
    /// When the late phase begins (simulated time since the clients started):
    /// the late key is written only from then on. The run sets it to the last
    /// [`crate::generator::LATE_PHASE`] of its main phase.
    #[serde(default = "default_late_after")]
    pub late_after: Duration,
}

/// The probability that a node gets a client slot bound to it.
pub const BOUND_CLIENT_RATE: f64 = 0.5;

fn default_bound_rate() -> f64 {
    BOUND_CLIENT_RATE
}

fn default_chunk_size() -> usize {
    1024
}

fn default_late_after() -> Duration {
    Duration::from_secs(30)
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
            bound_rate: BOUND_CLIENT_RATE,
            bound: Vec::new(),
            chunk_size: default_chunk_size(),
            late_after: default_late_after(),
        }
    }

    /// Draws the bound slots: each of `nodes`, in order, gets one with
    /// probability `bound_rate`. A stream of its own, so turning bound clients
    /// off (rate 0) changes no other draw of the seed.
    pub fn draw_bound(&mut self, nodes: &[NodeId], seed: u64) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x626f_756e_6463_6c69);
        let rate = self.bound_rate.clamp(0.0, 1.0);
        self.bound = nodes
            .iter()
            .copied()
            .filter(|_| rng.random_bool(rate))
            .collect();
    }

    /// Client slots in all: the leader-following ones, then the bound ones.
    pub fn slots(&self) -> u32 {
        self.clients.max(1) + self.bound.len() as u32
    }

    pub fn keys(&self) -> Vec<String> {
        self.generator.keys(self.keys, self.slots())
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
    protocol: &Rc<dyn ClientProtocol>,
    spec: &WorkloadSpec,
    seed: u64,
    recorder: SharedRecorder,
    stop: StopFlag,
) {
    let slots = spec.slots();
    let (nodes, spec, protocol) = (nodes.to_vec(), spec.clone(), protocol.clone());
    sim.client("clients", async move {
        let tasks: Vec<_> = (0..slots)
            .map(|slot| {
                let following = spec.clients.max(1);
                let bound = slot.checked_sub(following).map(|b| spec.bound[b as usize]);
                let (nodes, spec, protocol) = (nodes.clone(), spec.clone(), protocol.clone());
                tokio::task::spawn_local(client_slot(
                    slot,
                    Slot {
                        nodes,
                        protocol,
                        bound,
                    },
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

/// Where a slot sends its operations.
struct Slot {
    nodes: Vec<NodeId>,
    protocol: Rc<dyn ClientProtocol>,
    bound: Option<NodeId>,
}

/// One client slot: operations until told to stop, a new process after an info.
async fn client_slot(
    slot: u32,
    Slot {
        nodes,
        protocol,
        bound,
    }: Slot,
    spec: WorkloadSpec,
    seed: u64,
    recorder: SharedRecorder,
    stop: StopFlag,
) -> turmoil::Result {
    let slots = spec.slots();
    let cfg = ClientConfig {
        request_timeout: spec.request_timeout,
        op_timeout: spec.op_timeout,
        port: 9000 + slot as u16,
        bound,
        ..ClientConfig::new(nodes, protocol)
    };
    let slot_seed = seed ^ (u64::from(slot) + 1).wrapping_mul(0x2545_f491_4f6c_dd1d);
    let mut rng = ChaCha8Rng::seed_from_u64(slot_seed);
    let mut process = u64::from(slot);
    let mut client = Client::connect(cfg, process + 1, slot_seed).await?;
    let mut ops = OpSource::new(Shape {
        generator: spec.generator,
        slot,
        keys: spec.keys,
        read_ratio: spec.read_ratio,
        delete_ratio: spec.delete_ratio,
        chunk_size: spec.chunk_size,
    });
    let start = tokio::time::Instant::now(); // determinism-ok: tokio's paused clock is simulated time
    while !stop.get() {
        let late = start.elapsed() >= spec.late_after;
        let planned = ops.next(process, late, &mut rng);
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
    protocol: &Rc<dyn ClientProtocol>,
    keys: Vec<String>,
    process: u64,
    recorder: SharedRecorder,
    done: StopFlag,
) {
    let cfg = ClientConfig {
        op_timeout: Duration::from_secs(25),
        ..ClientConfig::new(nodes.to_vec(), protocol.clone())
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
                response: Reply::Value(v),
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
                    response: Reply::Applied(Outcome::Done),
                    node,
                } => (EventKind::Ok, Some(node), None),
                CallResult::Ok {
                    response: Reply::Applied(Outcome::CasMismatch { .. }),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nodes_get_bound_clients_at_the_documented_rate_from_the_seed() {
        let nodes = [1, 2, 3, 4, 5];
        let mut bound = 0;
        for seed in 0..2_000 {
            let mut w = WorkloadSpec::new(Generator::Kv);
            w.draw_bound(&nodes, seed);
            let again = w.bound.clone();
            w.draw_bound(&nodes, seed);
            assert_eq!(w.bound, again, "the same seed binds the same nodes");
            assert!(
                w.bound.windows(2).all(|p| p[0] < p[1]),
                "one per node at most"
            );
            assert_eq!(w.slots(), w.clients + w.bound.len() as u32);
            bound += w.bound.len();
        }
        let share = bound as f64 / (2_000.0 * nodes.len() as f64);
        assert!((share - BOUND_CLIENT_RATE).abs() < 0.02, "{share}");
        let mut off = WorkloadSpec {
            bound_rate: 0.0,
            ..WorkloadSpec::new(Generator::ListAppend)
        };
        off.draw_bound(&nodes, 3);
        assert!(off.bound.is_empty());
        let mut all = WorkloadSpec {
            bound_rate: 1.0,
            ..WorkloadSpec::new(Generator::ListAppend)
        };
        all.draw_bound(&nodes, 3);
        assert_eq!(all.bound, nodes);
        // Bound slots append to lists of their own, and the final reads read them.
        assert_eq!(all.keys().len(), (4 + nodes.len()));
    }
}
