//! A standard Jepsen `history.edn`, as Jepsen's store writes it (a vector of
//! operation maps, or one map per line), in either of the shapes its
//! linearizable workloads record:
//! - Knossos registers: `:f :read / :write / :cas` with plain values, or
//!   with `jepsen.independent` tuples `[key value]` for many registers;
//!   `:write nil` empties the register;
//! - single-operation `:txn`s, as Elle's list-append and rw-register write
//!   them: `[[:append k v]]`, `[[:w k v]]`, `[[:r k v]]`, the read's value a
//!   list (list-append) or a scalar (rw-register).
//!
//! Both are read into the kv model: a register is a key; an appended
//! element `v` is the piece `<v>` of its key's value, so a read of `[1 2]`
//! is `<1><2>`. Jepsen's semantics: `:fail` did not happen (a failed cas
//! constrains nothing), `:info` may have. Fields other than the ones read
//! here (`:time`, `:error`, `:node`, ...) are allowed, as Jepsen adds its
//! own; `:process :nemesis` operations are skipped. A transaction of more
//! than one micro-operation is an input error: it is Elle's to check, not a
//! single-object linearizability question.
use super::edn::{parse_history, Edn};
use super::jepsen_op::{get, header};
use super::pairing::{Completion, Pairing};
use super::{error, InputError, Numbered};
use crate::model::{KvInput, KvOp, KvOutput};

/// Reads `bytes` as a Jepsen history; each operation is numbered by its
/// invocation's `:index`, else its line.
pub fn parse_jepsen_numbered(bytes: &[u8]) -> Result<Numbered<KvInput, KvOutput>, InputError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        error(line, "not valid UTF-8")
    })?;
    if text.trim().is_empty() {
        return Err(InputError {
            line: None,
            message: "empty file: no operations".to_string(),
        });
    }
    let maps = parse_history(text).map_err(|(line, e)| error(line, e))?;
    let independent = maps.iter().any(|(_, m)| is_tuple_register_op(m));
    let mut pairing = Pairing::new();
    for (n, map) in maps {
        let h = header(&map, n)?;
        let Some(process) = h.process else { continue }; // the nemesis
        let (kind, f) = (h.kind, h.f);
        let value = get(&map, "value").unwrap_or(&Edn::Nil);
        let op = operation(f, value, independent).map_err(|e| error(n, e))?;
        let time = n as u64;
        if kind == "invoke" {
            pairing.invoke(n, process, op.input, time, h.number)?;
            continue;
        }
        let input = pairing.pending(n, process)?;
        if input.key != op.input.key || !same_function(&input.op, &op.input.op) {
            return Err(error(
                n,
                format!(
                    "completion :{f} {} does not match the operation in flight for process {process}",
                    value.show()
                ),
            ));
        }
        let is_read = input.op == KvOp::Get;
        let completion = match kind {
            "ok" if is_read => Completion::Returned(KvOutput::Value(op.read)),
            "ok" => Completion::Returned(KvOutput::Ok),
            "fail" => Completion::Dropped,
            "info" => Completion::Unknown { keep: !is_read },
            other => return Err(error(n, format!("unknown :type :{other}"))),
        };
        pairing.complete(n, process, completion, time)?;
    }
    pairing.finish()
}

/// A Knossos register operation whose value is a `[key value]` tuple.
fn is_tuple_register_op(map: &[(String, Edn)]) -> bool {
    match (get(map, "f"), get(map, "value")) {
        (Some(Edn::Keyword(f)), Some(Edn::Vector(v))) if v.len() == 2 => match f.as_str() {
            "read" | "write" => true,
            "cas" => matches!(&v[1], Edn::Vector(ft) if ft.len() == 2),
            _ => false,
        },
        _ => false,
    }
}

/// One event's operation: its input, and on a read the value it shows.
struct Event {
    input: KvInput,
    read: Option<String>,
}

/// The register every plain (not independent) Knossos operation is on.
const REGISTER: &str = "register";

fn operation(f: &str, value: &Edn, independent: bool) -> Result<Event, String> {
    let event = |key: String, op, read| Event {
        input: KvInput { key, op },
        read,
    };
    match f {
        "read" | "write" | "cas" => {
            let (key, v) = match (independent, value) {
                (false, v) => (REGISTER.to_string(), v),
                (true, Edn::Vector(kv)) if kv.len() == 2 => (key(&kv[0]), &kv[1]),
                (true, other) => {
                    return Err(format!(
                        "{} is not a [key value] tuple, as the other operations of this independent history are",
                        other.show()
                    ))
                }
            };
            Ok(match (f, v) {
                ("read", v) => event(key, KvOp::Get, register_value(v)),
                ("write", Edn::Nil) => event(key, KvOp::Delete, None),
                ("write", v) => event(key, KvOp::Put(scalar(v)), None),
                ("cas", Edn::Vector(ft)) if ft.len() == 2 => event(
                    key,
                    KvOp::Cas {
                        from: register_value(&ft[0]),
                        to: scalar(&ft[1]),
                    },
                    None,
                ),
                _ => return Err(format!("cas needs [from to], got {}", v.show())),
            })
        }
        "txn" => {
            let Edn::Vector(mops) = value else {
                return Err(format!(
                    "a :txn's value must be a vector, got {}",
                    value.show()
                ));
            };
            let [Edn::Vector(mop)] = &mops[..] else {
                return Err(format!(
                    "a transaction of {} micro-operations: only single-operation :txns are single-object histories (check transactions with Elle)",
                    mops.len()
                ));
            };
            match &mop[..] {
                [Edn::Keyword(m), k, v] => match m.as_str() {
                    "append" => Ok(event(key(k), KvOp::Append(element(v)), None)),
                    "w" => Ok(event(key(k), KvOp::Put(scalar(v)), None)),
                    "r" => Ok(event(key(k), KvOp::Get, txn_read(v))),
                    other => Err(format!("unknown micro-operation :{other}")),
                },
                _ => Err(format!(
                    "a micro-operation is [:f key value], got {}",
                    Edn::Vector(mop.clone()).show()
                )),
            }
        }
        other => Err(format!(
            "unknown operation :{other} (a Jepsen history here has :read, :write, :cas or :txn)"
        )),
    }
}

/// A key's name: a string's text, any other value as written (`3`, `:k`).
fn key(v: &Edn) -> String {
    match v {
        Edn::Str(s) => s.clone(),
        v => v.show(),
    }
}

/// How a value is written into the kv model: `3`, `"a"` (quoted), `:k`.
fn scalar(v: &Edn) -> String {
    v.show()
}

fn register_value(v: &Edn) -> Option<String> {
    (*v != Edn::Nil).then(|| scalar(v))
}

/// An appended element as its piece of the list's value.
fn element(v: &Edn) -> String {
    format!("<{}>", v.show())
}

/// A read in a `:txn`: a list (its elements' pieces, `nil` and `[]` both
/// absent) or an rw-register's scalar.
fn txn_read(v: &Edn) -> Option<String> {
    match v {
        Edn::Nil => None,
        Edn::Vector(items) if items.is_empty() => None,
        Edn::Vector(items) => Some(items.iter().map(element).collect()),
        v => Some(scalar(v)),
    }
}

fn same_function(a: &KvOp, b: &KvOp) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}
