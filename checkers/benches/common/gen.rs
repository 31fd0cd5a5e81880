//! A generated history of the project's KV: a linearizable system simulated
//! event by event, with indeterminate (timed-out) operations that take effect
//! later or never. Shared by the benchmark and the tests (`#[path]`).
#![allow(dead_code)]
use checkers::history::{Event, EventKind, Function, Value};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

/// splitmix64, so the generator needs no dependency and is reproducible.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

pub struct Spec {
    pub ops: usize,
    pub keys: usize,
    pub clients: usize,
    /// Fraction of operations that time out (indeterminate).
    pub info: f64,
    pub seed: u64,
    /// Relative weights of get, put, append, cas, delete.
    pub mix: [u64; 5],
    /// One get, past the middle, returns the value its key held 20 writes
    /// earlier (a stale read) instead of the current one.
    pub stale_read: bool,
}

enum Ev {
    Invoke { client: usize },
    Apply { op: usize },
    Return { op: usize },
}

struct Pending {
    process: u64,
    f: Function,
    key: String,
    arg: Option<Value>,
    result: Option<Option<String>>, // get's value
    cas_ok: bool,
    info: bool,
}

/// Simulates `spec.clients` clients against one linearizable store and
/// returns the history as snapstorm events (time in ns).
pub fn generate(spec: &Spec) -> Vec<Event> {
    let mut rng = Rng::new(spec.seed);
    let mut store: HashMap<String, String> = HashMap::new();
    let mut queue: BinaryHeap<Reverse<(u64, u64, usize)>> = BinaryHeap::new();
    let mut evs: Vec<Ev> = Vec::new();
    let mut seq = 0u64;
    let mut push = |q: &mut BinaryHeap<_>, evs: &mut Vec<Ev>, t: u64, e: Ev| {
        evs.push(e);
        seq += 1;
        q.push(Reverse((t, seq, evs.len() - 1)));
    };
    let mut process_of: Vec<u64> = (0..spec.clients as u64).collect();
    let mut next_process = spec.clients as u64;
    for c in 0..spec.clients {
        push(
            &mut queue,
            &mut evs,
            rng.below(1_000_000),
            Ev::Invoke { client: c },
        );
    }
    let mut ops: Vec<Pending> = Vec::new();
    let mut out = Vec::new();
    let mut invoked = 0;
    let mut fresh = 0u64;
    // Each key's earlier values, for the stale read.
    let mut earlier: HashMap<String, Vec<Option<String>>> = HashMap::new();
    let mut stale_pending = spec.stale_read;
    while let Some(Reverse((t, _, e))) = queue.pop() {
        let ev = std::mem::replace(&mut evs[e], Ev::Return { op: usize::MAX });
        match ev {
            Ev::Invoke { client } => {
                if invoked == spec.ops {
                    continue;
                }
                invoked += 1;
                let key = format!("k{}", rng.below(spec.keys as u64));
                let process = process_of[client];
                fresh += 1;
                // Every value starts with `+` and holds no other, so a read
                // of appends shows which ones it holds, as the harness's do.
                let value = format!("+{process}.{fresh}");
                let total: u64 = spec.mix.iter().sum();
                let mut pick = rng.below(total);
                let f = (0..5)
                    .find(|&i| {
                        let hit = pick < spec.mix[i];
                        pick = pick.saturating_sub(spec.mix[i]);
                        hit
                    })
                    .unwrap_or(0);
                let (f, arg) = match f {
                    0 => (Function::Get, None),
                    1 => (Function::Put, Some(Value::String(value))),
                    2 => (Function::Append, Some(Value::String(format!("+{fresh}")))),
                    3 => {
                        // Compare against the current value most of the time.
                        let from = if rng.chance(0.7) {
                            store.get(&key).cloned()
                        } else {
                            Some(format!(
                                "+{}.{}",
                                rng.below(50),
                                fresh.saturating_sub(rng.below(50))
                            ))
                        };
                        (Function::Cas, Some(Value::Cas(from, value)))
                    }
                    _ => (Function::Delete, None),
                };
                let info = rng.chance(spec.info);
                out.push(event(process, EventKind::Invoke, f, &key, arg.clone(), t));
                ops.push(Pending {
                    process,
                    f,
                    key,
                    arg,
                    result: None,
                    cas_ok: false,
                    info,
                });
                let op = ops.len() - 1;
                let latency = 100_000 + rng.below(2_000_000);
                if info {
                    // Takes effect now, much later, or never; the client gives up.
                    match rng.below(3) {
                        0 => push(
                            &mut queue,
                            &mut evs,
                            t + rng.below(latency),
                            Ev::Apply { op },
                        ),
                        1 => push(
                            &mut queue,
                            &mut evs,
                            t + latency + rng.below(50_000_000),
                            Ev::Apply { op },
                        ),
                        _ => {}
                    }
                    push(&mut queue, &mut evs, t + latency, Ev::Return { op });
                } else {
                    push(
                        &mut queue,
                        &mut evs,
                        t + rng.below(latency),
                        Ev::Apply { op },
                    );
                    push(&mut queue, &mut evs, t + latency, Ev::Return { op });
                }
            }
            Ev::Apply { op } => {
                let p = &mut ops[op];
                let cur = store.get(&p.key).cloned();
                let before = earlier.entry(p.key.clone()).or_default();
                if p.f != Function::Get && !(p.f == Function::Cas && cur != arg_from(&p.arg)) {
                    before.push(cur.clone());
                }
                match (&p.f, &p.arg) {
                    (Function::Get, _) if stale_pending && op > spec.ops / 2 && !p.info => {
                        let old = before.len().checked_sub(20).map(|i| before[i].clone());
                        match old {
                            Some(old) if old != cur => {
                                p.result = Some(old);
                                stale_pending = false;
                            }
                            _ => p.result = Some(cur),
                        }
                    }
                    (Function::Get, _) => p.result = Some(cur),
                    (Function::Put, Some(Value::String(v))) => {
                        store.insert(p.key.clone(), v.clone());
                    }
                    (Function::Append, Some(Value::String(v))) => {
                        store.insert(p.key.clone(), cur.unwrap_or_default() + v);
                    }
                    (Function::Cas, Some(Value::Cas(from, to))) => {
                        p.cas_ok = cur == *from;
                        if p.cas_ok {
                            store.insert(p.key.clone(), to.clone());
                        }
                    }
                    (Function::Delete, _) => {
                        store.remove(&p.key);
                    }
                    _ => {}
                }
            }
            Ev::Return { op } => {
                let p = &ops[op];
                let (kind, value) = if p.info {
                    (EventKind::Info, p.arg.clone())
                } else {
                    match p.f {
                        Function::Get => {
                            (EventKind::Ok, p.result.clone().flatten().map(Value::String))
                        }
                        Function::Cas if !p.cas_ok => (EventKind::Fail, p.arg.clone()),
                        _ => (EventKind::Ok, p.arg.clone()),
                    }
                };
                out.push(event(p.process, kind, p.f, &p.key, value, t));
                let client = process_of.iter().position(|&x| x == p.process).unwrap_or(0);
                if p.info {
                    // Jepsen rule: a process never continues after :info.
                    process_of[client] = next_process;
                    next_process += 1;
                }
                push(
                    &mut queue,
                    &mut evs,
                    t + rng.below(500_000),
                    Ev::Invoke { client },
                );
            }
        }
    }
    for (i, e) in out.iter_mut().enumerate() {
        e.index = i as u64;
    }
    out
}

/// A cas's expected value.
fn arg_from(arg: &Option<Value>) -> Option<String> {
    match arg {
        Some(Value::Cas(from, _)) => from.clone(),
        _ => None,
    }
}

fn event(
    process: u64,
    kind: EventKind,
    f: Function,
    key: &str,
    value: Option<Value>,
    time: u64,
) -> Event {
    Event {
        index: 0,
        process,
        kind,
        f,
        key: key.to_string(),
        value,
        time,
        node: None,
        error: None,
    }
}

/// The history as `history.jsonl` text.
pub fn to_jsonl(events: &[Event]) -> String {
    let mut s = String::new();
    for e in events {
        s += &serde_json::to_string(e).expect("events serialise");
        s.push('\n');
    }
    s
}
