//! Jepsen EDN-map lines over many keys (Porcupine's kv histories):
//! `{:process 9, :type :ok, :f :get, :key "9", :value "x 2 0 y"}`.
use super::edn::{parse_map, Edn};
use super::jepsen_op::{get, header};
use super::pairing::{Completion, Pairing};
use super::{error, lines, InputError, Numbered};
use crate::linearizability::Operation;
use crate::model::{KvInput, KvOp, KvOutput};

/// The fields an operation map may have: `process`, `type`, `f` and `key`
/// always, `value` on invocations of put and append and on every `:ok`
/// (Jepsen writes `:value nil` for a get's invocation), then Jepsen's
/// optional ones (and `node`, which snapstorm's own EDN export writes).
const FIELDS: [&str; 9] = [
    "process", "type", "f", "key", "value", "time", "index", "error", "node",
];

/// Reads the history; an operation's times are its line numbers. Blank
/// lines are skipped; every other line must be an operation map.
pub fn parse_jepsen_kv(bytes: &[u8]) -> Result<Vec<Operation<KvInput, KvOutput>>, InputError> {
    parse_jepsen_kv_numbered(bytes).map(|n| n.ops)
}

/// [`parse_jepsen_kv`], each operation numbered by its invocation's
/// `:index`, or its line where there is none.
pub fn parse_jepsen_kv_numbered(bytes: &[u8]) -> Result<Numbered<KvInput, KvOutput>, InputError> {
    let mut pairing = Pairing::new();
    for (n, line) in lines(bytes)? {
        if line.trim().is_empty() {
            continue;
        }
        let map = parse_map(line).map_err(|e| error(n, format!("not an operation map: {e}")))?;
        if let Some((k, _)) = map.iter().find(|(k, _)| !FIELDS.contains(&k.as_str())) {
            return Err(error(
                n,
                format!(
                    "unknown field :{k} (an operation has :{})",
                    FIELDS.join(", :")
                ),
            ));
        }
        for (i, (k, _)) in map.iter().enumerate() {
            if map[..i].iter().any(|(earlier, _)| earlier == k) {
                return Err(error(n, format!("field :{k} appears twice")));
            }
        }
        let get = |k: &str| get(&map, k);
        let h = header(&map, n)?;
        let Some(process) = h.process else { continue }; // the nemesis
        let (kind, f) = (h.kind, h.f);
        // Jepsen's own register and txn histories have no :key.
        let key = get("key").ok_or_else(|| {
            error(
                n,
                "missing :key (a standard Jepsen history.edn, Knossos registers or Elle :txns, is read with --format jepsen)",
            )
        });
        let key = match key? {
            Edn::Str(k) => k.clone(),
            Edn::Int(k) => k.to_string(),
            other => return Err(error(n, format!("bad :key {}", other.show()))),
        };
        let value = match get("value").unwrap_or(&Edn::Nil) {
            Edn::Nil => None,
            Edn::Str(s) => Some(s.clone()),
            other => return Err(error(n, format!("bad :value {}", other.show()))),
        };
        let time = n as u64;
        if kind == "invoke" {
            let op = match (f, value) {
                ("get", _) => KvOp::Get,
                ("put", Some(v)) => KvOp::Put(v),
                ("append", Some(v)) => KvOp::Append(v),
                ("put" | "append", None) => {
                    return Err(error(n, format!(":{f} needs a string :value")))
                }
                (other, _) => return Err(error(n, format!("unknown operation :{other}"))),
            };
            pairing.invoke(n, process, KvInput { key, op }, time, h.number)?;
            continue;
        }
        let input = pairing.pending(n, process)?;
        let name = match input.op {
            KvOp::Get => "get",
            KvOp::Put(_) => "put",
            _ => "append",
        };
        if f != name || key != input.key {
            return Err(error(
                n,
                format!(
                    "completion :{f} {key:?} does not match the in-flight :{name} {:?}",
                    input.key
                ),
            ));
        }
        let is_get = input.op == KvOp::Get;
        if kind == "ok" && get("value").is_none() {
            // Read as "" it would make a false violation.
            return Err(error(n, format!("missing :value on the :ok of :{f}")));
        }
        let completion = match kind {
            // A get of a missing key returns "" here; nil is read the same way.
            "ok" if is_get => {
                Completion::Returned(KvOutput::Value(Some(value.unwrap_or_default())))
            }
            "ok" => Completion::Returned(KvOutput::Ok),
            "fail" => Completion::Dropped,
            "info" => Completion::Unknown { keep: !is_get },
            other => return Err(error(n, format!("unknown :type :{other}"))),
        };
        pairing.complete(n, process, completion, time)?;
    }
    pairing.finish()
}
