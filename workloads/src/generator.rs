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

    /// Every key this generator may touch with `keys` keys and `slots` clients
    /// (the late key last).
    pub fn keys(self, keys: u32, slots: u32) -> Vec<String> {
        let hot: Vec<String> = match self {
            Generator::Register => (0..keys.max(1)).map(|k| format!("r{k}")).collect(),
            Generator::Kv => (0..keys.max(1)).map(|k| format!("k{k}")).collect(),
            Generator::ListAppend => (0..slots).map(list_key).collect(),
        };
        hot.into_iter().chain(late_key(self)).collect()
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

/// Edge values, drawn from the seed at these rates (`register` and `kv`;
/// `list-append` keeps its tokens, whose order its checker reads):
///
/// - [`EMPTY_VALUE_RATE`] of kv writes other than deletes put the empty value,
///   and that share of register values (put, cas from, cas to) is empty;
/// - [`BIG_VALUE_RATE`] of kv writes other than deletes put a value of exactly
///   one snapshot chunk (half of them) or of two and a half chunks (the other
///   half), so a single value fills or straddles chunk boundaries;
/// - [`LATE_KEY_RATE`] of operations go to the generator's late key
///   ([`late_key`]), which no one writes before the late phase (the last
///   [`LATE_PHASE`] of the main phase): until then those operations are reads,
///   deletes and cas from a value, all on an absent key, a third each; from then
///   on the key is like any other, and a kv write to it is a cas from absent
///   [`LATE_CAS_FROM_ABSENT`] of the time. A kv workload without deletes
///   (delete ratio 0, Jepsen's kv format: get, put, append only) has no cas
///   either: its late key is only read until the late phase.
pub const EMPTY_VALUE_RATE: f64 = 0.04;
pub const BIG_VALUE_RATE: f64 = 0.02;
pub const LATE_KEY_RATE: f64 = 0.08;
/// The fraction of the main phase, at its end, in which the late key is written.
pub const LATE_PHASE: f64 = 0.4;
pub const LATE_CAS_FROM_ABSENT: f64 = 0.25;
/// Big values never exceed this (a datagram carries whole entries).
pub const MAX_BIG_VALUE: usize = 8 * 1024;

/// The key that appears only late in the run (None for list-append).
pub fn late_key(generator: Generator) -> Option<String> {
    match generator {
        Generator::Register => Some("rlate".into()),
        Generator::Kv => Some("klate".into()),
        Generator::ListAppend => None,
    }
}

/// The sizes of the big values for snapshot chunks of `chunk` bytes: one
/// chunk, and two and a half.
pub fn big_value_sizes(chunk: usize) -> [usize; 2] {
    let chunk = chunk.max(1);
    [chunk.min(MAX_BIG_VALUE), (chunk * 5 / 2).min(MAX_BIG_VALUE)]
}

/// One planned operation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Planned {
    pub f: Function,
    pub key: String,
    /// The argument (None for get and delete).
    pub value: Option<Value>,
}

impl Planned {
    fn get(key: String) -> Planned {
        Planned {
            f: Function::Get,
            key,
            value: None,
        }
    }

    fn delete(key: String) -> Planned {
        Planned {
            f: Function::Delete,
            key,
            value: None,
        }
    }

    fn write(f: Function, key: String, value: String) -> Planned {
        Planned {
            f,
            key,
            value: Some(Value::String(value)),
        }
    }

    fn cas(key: String, from: Option<String>, to: String) -> Planned {
        Planned {
            f: Function::Cas,
            key,
            value: Some(Value::Cas(from, to)),
        }
    }
}

/// What shapes one slot's operations.
#[derive(Clone, Debug)]
pub struct Shape {
    pub generator: Generator,
    pub slot: u32,
    pub keys: u32,
    pub read_ratio: f64,
    pub delete_ratio: f64,
    /// Snapshot chunk size of the cluster (sizes the big values).
    pub chunk_size: usize,
}

/// Per-client-slot generator state.
pub struct OpSource {
    shape: Shape,
    /// Operations generated so far by this slot (makes values unique).
    n: u64,
}

impl OpSource {
    pub fn new(shape: Shape) -> Self {
        let shape = Shape {
            keys: shape.keys.max(1),
            read_ratio: shape.read_ratio.clamp(0.0, 1.0),
            delete_ratio: shape.delete_ratio.clamp(0.0, 1.0),
            ..shape
        };
        OpSource { shape, n: 0 }
    }

    /// The next operation; `late` says the late phase has begun (the late key
    /// may be written).
    pub fn next(&mut self, process: u64, late: bool, rng: &mut ChaCha8Rng) -> Planned {
        self.n += 1;
        let generator = self.shape.generator;
        let late_key = late_key(generator).filter(|_| rng.random_bool(LATE_KEY_RATE));
        if let (Some(key), false) = (&late_key, late) {
            return self.on_absent_key(key.clone(), process, rng);
        }
        let read = rng.random_bool(self.shape.read_ratio);
        match generator {
            Generator::Register => {
                let key = late_key
                    .unwrap_or_else(|| format!("r{}", rng.random_range(0..self.shape.keys)));
                if read {
                    return Planned::get(key);
                }
                if rng.random_bool(0.5) {
                    Planned::write(Function::Put, key, register_value(rng))
                } else {
                    // cas from "absent" now and then, so the first write can be a cas.
                    let from = (!rng.random_bool(0.1)).then(|| register_value(rng));
                    Planned::cas(key, from, register_value(rng))
                }
            }
            Generator::Kv => {
                let on_late = late_key.is_some();
                let key = late_key
                    .unwrap_or_else(|| format!("k{}", rng.random_range(0..self.shape.keys)));
                if read {
                    return Planned::get(key);
                }
                // Now and then a delete: a key that disappears is what tells a
                // restore that replaces state from one that merges into it.
                if rng.random_bool(self.shape.delete_ratio) {
                    return Planned::delete(key);
                }
                let value = self.unique(process);
                if on_late && self.writes_cas() && rng.random_bool(LATE_CAS_FROM_ABSENT) {
                    return Planned::cas(key, None, value);
                }
                let edge: f64 = rng.random();
                if edge < EMPTY_VALUE_RATE {
                    return Planned::write(Function::Put, key, String::new());
                }
                if edge < EMPTY_VALUE_RATE + BIG_VALUE_RATE {
                    let sizes = big_value_sizes(self.shape.chunk_size);
                    let size = sizes[usize::from(rng.random_bool(0.5))];
                    return Planned::write(Function::Put, key, padded(value, size));
                }
                let f = if rng.random_bool(0.2) {
                    Function::Put
                } else {
                    Function::Append
                };
                Planned::write(f, key, value)
            }
            Generator::ListAppend => {
                let key = list_key(self.shape.slot);
                if read {
                    return Planned::get(key);
                }
                Planned::write(Function::Append, key, list_token(self.n))
            }
        }
    }

    /// An operation on a key no one has written yet: a read, a delete or a cas
    /// from a value (each must see it absent).
    fn on_absent_key(&self, key: String, process: u64, rng: &mut ChaCha8Rng) -> Planned {
        if !self.writes_cas() {
            return Planned::get(key);
        }
        match rng.random_range(0..3u32) {
            0 => Planned::get(key),
            1 => Planned::delete(key),
            _ => {
                let (from, to) = match self.shape.generator {
                    Generator::Register => (register_value(rng), register_value(rng)),
                    _ => (self.unique(process), format!("{} z", self.unique(process))),
                };
                Planned::cas(key, Some(from), to)
            }
        }
    }

    /// Deletes and cas besides get, put and append (all but Jepsen's kv format).
    fn writes_cas(&self) -> bool {
        self.shape.generator == Generator::Register || self.shape.delete_ratio > 0.0
    }

    /// A value no other operation writes: `x <process> <n> y`.
    fn unique(&self, process: u64) -> String {
        format!("x {process} {} y", self.n)
    }
}

/// A register value: a small integer, or now and then the empty value.
fn register_value(rng: &mut ChaCha8Rng) -> String {
    if rng.random_bool(EMPTY_VALUE_RATE) {
        return String::new();
    }
    rng.random_range(0..5u32).to_string()
}

/// `value` padded with `.` to `size` bytes (still unique: the prefix is).
fn padded(mut value: String, size: usize) -> String {
    while value.len() < size {
        value.push('.');
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn source(generator: Generator, chunk_size: usize) -> OpSource {
        OpSource::new(Shape {
            generator,
            slot: 0,
            keys: 5,
            read_ratio: 0.3,
            delete_ratio: 0.05,
            chunk_size,
        })
    }

    /// `n` operations, the first `early` of them before the late phase.
    fn draw(generator: Generator, chunk: usize, n: usize, early: usize) -> Vec<Planned> {
        let mut ops = source(generator, chunk);
        let mut rng = ChaCha8Rng::seed_from_u64(42);
        (0..n).map(|i| ops.next(7, i >= early, &mut rng)).collect()
    }

    fn put_value(p: &Planned) -> Option<&str> {
        match (&p.f, &p.value) {
            (Function::Put, Some(Value::String(v))) => Some(v),
            _ => None,
        }
    }

    fn near(what: &str, got: usize, of: usize, rate: f64) {
        let share = got as f64 / of as f64;
        assert!(
            (share - rate).abs() < rate * 0.25,
            "{what}: {got} of {of} is {share:.4}, documented {rate}"
        );
    }

    #[test]
    fn the_same_seed_draws_the_same_operations() {
        for g in Generator::ALL {
            assert_eq!(draw(g, 64, 2_000, 1_000), draw(g, 64, 2_000, 1_000));
        }
    }

    #[test]
    fn kv_edge_values_come_at_their_documented_rates() {
        let chunk = 1024;
        let ops = draw(Generator::Kv, chunk, 200_000, 0);
        let hot: Vec<&Planned> = ops.iter().filter(|p| p.key != "klate").collect();
        let late = ops.len() - hot.len();
        near("ops on the late key", late, ops.len(), LATE_KEY_RATE);
        // Writes other than deletes on the hot keys carry the value edges.
        let writes: Vec<&&Planned> = hot
            .iter()
            .filter(|p| matches!(p.f, Function::Put | Function::Append))
            .collect();
        let empty = writes.iter().filter(|p| put_value(p) == Some("")).count();
        near("empty puts", empty, writes.len(), EMPTY_VALUE_RATE);
        let [one, more] = big_value_sizes(chunk);
        assert_eq!((one, more), (1024, 2560));
        let sizes: Vec<usize> = writes
            .iter()
            .filter_map(|p| put_value(p))
            .map(str::len)
            .filter(|l| *l >= one)
            .collect();
        near("big puts", sizes.len(), writes.len(), BIG_VALUE_RATE);
        assert!(sizes.iter().all(|l| *l == one || *l == more), "{sizes:?}");
        let exactly_one = sizes.iter().filter(|l| **l == one).count();
        near(
            "one-chunk values among big ones",
            exactly_one,
            sizes.len(),
            0.5,
        );
        // Big values are still unique (the checker keeps kv values apart).
        let mut big: Vec<&str> = writes
            .iter()
            .filter_map(|p| put_value(p))
            .filter(|v| v.len() >= one)
            .collect();
        let n = big.len();
        big.sort_unstable();
        big.dedup();
        assert_eq!(big.len(), n, "big values are unique");
        // In the late phase a write to the late key is a cas from absent at its rate.
        let late_writes: Vec<&Planned> = ops
            .iter()
            .filter(|p| p.key == "klate" && !matches!(p.f, Function::Get | Function::Delete))
            .collect();
        let from_absent = late_writes
            .iter()
            .filter(|p| matches!(&p.value, Some(Value::Cas(None, _))))
            .count();
        near(
            "cas from absent on the late key",
            from_absent,
            late_writes.len(),
            LATE_CAS_FROM_ABSENT,
        );
    }

    #[test]
    fn small_chunks_give_small_big_values_and_huge_ones_are_capped() {
        assert_eq!(big_value_sizes(64), [64, 160]);
        assert_eq!(big_value_sizes(1 << 20), [MAX_BIG_VALUE, MAX_BIG_VALUE]);
        assert_eq!(big_value_sizes(0), [1, 2]);
        let ops = draw(Generator::Kv, 64, 20_000, 0);
        assert!(ops
            .iter()
            .any(|p| put_value(p).is_some_and(|v| v.len() == 160)));
    }

    #[test]
    fn the_late_key_is_never_written_before_the_late_phase() {
        for g in [Generator::Kv, Generator::Register] {
            let key = late_key(g).unwrap();
            let ops = draw(g, 1024, 40_000, 20_000);
            let (early, later) = ops.split_at(20_000);
            let on_key: Vec<&Planned> = early.iter().filter(|p| p.key == key).collect();
            near(
                "early ops on the late key",
                on_key.len(),
                early.len(),
                LATE_KEY_RATE,
            );
            // Reads, deletes and cas from a value, a third each: all of an absent key.
            let count = |f: Function| on_key.iter().filter(|p| p.f == f).count();
            for f in [Function::Get, Function::Delete, Function::Cas] {
                near(&format!("{g:?} {f:?}"), count(f), on_key.len(), 1.0 / 3.0);
            }
            assert!(on_key
                .iter()
                .all(|p| p.f != Function::Cas || matches!(p.value, Some(Value::Cas(Some(_), _)))));
            assert_eq!(count(Function::Put) + count(Function::Append), 0);
            // Later it is written like any key.
            assert!(later
                .iter()
                .any(|p| p.key == key && matches!(p.f, Function::Put | Function::Append)));
        }
        assert_eq!(late_key(Generator::ListAppend), None);
        assert!(draw(Generator::ListAppend, 64, 5_000, 0)
            .iter()
            .all(|p| p.key == "list0"));
    }

    #[test]
    fn a_kv_workload_without_deletes_stays_in_jepsens_kv_format() {
        let mut ops = OpSource::new(Shape {
            delete_ratio: 0.0,
            ..source(Generator::Kv, 1024).shape
        });
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let drawn: Vec<Planned> = (0..20_000)
            .map(|i| ops.next(1, i >= 10_000, &mut rng))
            .collect();
        assert!(drawn
            .iter()
            .all(|p| matches!(p.f, Function::Get | Function::Put | Function::Append)));
        assert!(drawn
            .iter()
            .any(|p| p.key == "klate" && p.f != Function::Get));
        assert!(drawn.iter().any(|p| put_value(p) == Some("")));
    }

    #[test]
    fn register_values_are_empty_at_the_documented_rate() {
        let ops = draw(Generator::Register, 1024, 100_000, 0);
        let values: Vec<&str> = ops
            .iter()
            .flat_map(|p| match &p.value {
                Some(Value::String(v)) => vec![v.as_str()],
                Some(Value::Cas(from, to)) => from
                    .iter()
                    .map(String::as_str)
                    .chain([to.as_str()])
                    .collect(),
                None => vec![],
            })
            .collect();
        let empty = values.iter().filter(|v| v.is_empty()).count();
        near(
            "empty register values",
            empty,
            values.len(),
            EMPTY_VALUE_RATE,
        );
        assert!(values
            .iter()
            .all(|v| v.is_empty() || v.parse::<u32>().is_ok_and(|n| n < 5)));
    }
}
