//! What the clients ask for: the operation mixes, all drawn from the run's seed.
use crate::history::{Function, Value};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Generator {
    /// Read / write / cas of small integers on few keys (Jepsen's etcd register):
    /// the hardest shape for the linearizability checker.
    Register,
    /// get / put / append of unique values over many keys (Porcupine's kv shape),
    /// with an occasional delete.
    Kv,
    /// Each client appends its own increasing sequence to its own key; the final
    /// reads must show every acknowledged append exactly once and in order.
    ListAppend,
}

impl Generator {
    pub const ALL: [Generator; 3] = [Generator::Register, Generator::Kv, Generator::ListAppend];

    pub fn name(self) -> &'static str {
        match self {
            Generator::Register => "register",
            Generator::Kv => "kv",
            Generator::ListAppend => "list-append",
        }
    }

    pub fn parse(s: &str) -> Option<Generator> {
        Self::ALL.into_iter().find(|g| g.name() == s)
    }

    /// Every key this generator may touch with `keys` keys and `slots` clients.
    pub fn keys(self, keys: u32, slots: u32) -> Vec<String> {
        match self {
            Generator::Register => (0..keys.max(1)).map(|k| format!("r{k}")).collect(),
            Generator::Kv => (0..keys.max(1)).map(|k| format!("k{k}")).collect(),
            Generator::ListAppend => (0..slots).map(list_key).collect(),
        }
    }
}

/// The key client slot `slot` appends to in the list-append workload.
pub fn list_key(slot: u32) -> String {
    format!("list{slot}")
}

/// The token a list-append client writes for its `n`-th append: `<n>`.
pub fn list_token(n: u64) -> String {
    format!("<{n}>")
}

/// One planned operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub f: Function,
    pub key: String,
    /// The argument (None for get and delete).
    pub value: Option<Value>,
}

/// Per-client-slot generator state.
pub struct OpSource {
    generator: Generator,
    slot: u32,
    keys: u32,
    read_ratio: f64,
    delete_ratio: f64,
    /// Operations generated so far by this slot (makes values unique).
    n: u64,
}

impl OpSource {
    pub fn new(
        generator: Generator,
        slot: u32,
        keys: u32,
        read_ratio: f64,
        delete_ratio: f64,
    ) -> Self {
        OpSource {
            generator,
            slot,
            keys: keys.max(1),
            read_ratio: read_ratio.clamp(0.0, 1.0),
            delete_ratio: delete_ratio.clamp(0.0, 1.0),
            n: 0,
        }
    }

    pub fn next(&mut self, process: u64, rng: &mut ChaCha8Rng) -> Planned {
        self.n += 1;
        let read = rng.random_bool(self.read_ratio);
        match self.generator {
            Generator::Register => {
                let key = format!("r{}", rng.random_range(0..self.keys));
                let small = |rng: &mut ChaCha8Rng| rng.random_range(0..5u32).to_string();
                if read {
                    return Planned {
                        f: Function::Get,
                        key,
                        value: None,
                    };
                }
                if rng.random_bool(0.5) {
                    Planned {
                        f: Function::Put,
                        key,
                        value: Some(Value::String(small(rng))),
                    }
                } else {
                    // cas from "absent" now and then, so the first write can be a cas.
                    let from = (!rng.random_bool(0.1)).then(|| small(rng));
                    Planned {
                        f: Function::Cas,
                        key,
                        value: Some(Value::Cas(from, small(rng))),
                    }
                }
            }
            Generator::Kv => {
                let key = format!("k{}", rng.random_range(0..self.keys));
                if read {
                    return Planned {
                        f: Function::Get,
                        key,
                        value: None,
                    };
                }
                // Now and then a delete: a key that disappears is what tells a
                // restore that replaces state from one that merges into it.
                if rng.random_bool(self.delete_ratio) {
                    return Planned {
                        f: Function::Delete,
                        key,
                        value: None,
                    };
                }
                let value = format!("x {process} {} y", self.n);
                let f = if rng.random_bool(0.2) {
                    Function::Put
                } else {
                    Function::Append
                };
                Planned {
                    f,
                    key,
                    value: Some(Value::String(value)),
                }
            }
            Generator::ListAppend => {
                let key = list_key(self.slot);
                if read {
                    return Planned {
                        f: Function::Get,
                        key,
                        value: None,
                    };
                }
                Planned {
                    f: Function::Append,
                    key,
                    value: Some(Value::String(list_token(self.n))),
                }
            }
        }
    }
}
