//! The project's JSON-lines history ([`crate::history::Event`]).
use super::pairing::{Completion, Pairing};
use super::{error, lines, InputError, Numbered};
use crate::history::{Event, EventKind, Function, Value};
use crate::linearizability::Operation;
use crate::model::{KvInput, KvOp, KvOutput};

/// Reads the history; operation times are the events' `time`. Blank lines
/// are skipped.
pub fn parse_snapstorm(bytes: &[u8]) -> Result<Vec<Operation<KvInput, KvOutput>>, InputError> {
    parse_snapstorm_numbered(bytes).map(|n| n.ops)
}

/// [`parse_snapstorm`], each operation numbered by its invocation's `index`.
pub fn parse_snapstorm_numbered(bytes: &[u8]) -> Result<Numbered<KvInput, KvOutput>, InputError> {
    let mut pairing = Pairing::new();
    for (n, line) in lines(bytes)? {
        if line.trim().is_empty() {
            continue;
        }
        let e: Event = serde_json::from_str(line).map_err(|e| error(n, bad_event(line, &e)))?;
        let shape = |what: &str| {
            error(
                n,
                format!(
                    "{:?} {:?} needs {what} as value, got {}",
                    e.kind,
                    e.f,
                    show(&e.value)
                ),
            )
        };
        if e.kind == EventKind::Invoke {
            let op = match (e.f, &e.value) {
                (Function::Get, None) => KvOp::Get,
                (Function::Put, Some(Value::String(v))) => KvOp::Put(v.clone()),
                (Function::Append, Some(Value::String(v))) => KvOp::Append(v.clone()),
                (Function::Cas, Some(Value::Cas(from, to))) => KvOp::Cas {
                    from: from.clone(),
                    to: to.clone(),
                },
                (Function::Delete, None) => KvOp::Delete,
                (Function::Get | Function::Delete, _) => return Err(shape("null")),
                (Function::Put | Function::Append, _) => return Err(shape("a string")),
                (Function::Cas, _) => return Err(shape("[from, to]")),
            };
            pairing.invoke(n, e.process, KvInput { key: e.key, op }, e.time, e.index)?;
            continue;
        }
        let input = pairing.pending(n, e.process)?;
        let f = match input.op {
            KvOp::Get => Function::Get,
            KvOp::Put(_) => Function::Put,
            KvOp::Append(_) => Function::Append,
            KvOp::Cas { .. } => Function::Cas,
            KvOp::Delete => Function::Delete,
        };
        if e.f != f || e.key != input.key {
            return Err(error(
                n,
                format!(
                    "completion {:?} {:?} does not match the in-flight {f:?} {:?}",
                    e.f, e.key, input.key
                ),
            ));
        }
        let completion = match (e.kind, e.f) {
            (EventKind::Ok, Function::Get) => match e.value {
                None => Completion::Returned(KvOutput::Value(None)),
                Some(Value::String(v)) => Completion::Returned(KvOutput::Value(Some(v))),
                Some(_) => return Err(shape("a string or null")),
            },
            (EventKind::Ok, _) => Completion::Returned(KvOutput::Ok),
            // A failed cas saw another value, unless it failed before it
            // reached the state machine; other failures did nothing.
            (EventKind::Fail, Function::Cas) if e.error.is_none() => {
                Completion::Returned(KvOutput::Failed)
            }
            (EventKind::Fail, _) => Completion::Dropped,
            (EventKind::Info, f) => Completion::Unknown {
                keep: f != Function::Get,
            },
            // Handled above; kept total rather than panicking.
            (EventKind::Invoke, _) => return Err(error(n, "unexpected invoke")),
        };
        pairing.complete(n, e.process, completion, e.time)?;
    }
    pairing.finish()
}

/// serde's message, or for an integer too big for its field (which serde
/// reads as a float) one that says so.
fn bad_event(line: &str, e: &serde_json::Error) -> String {
    let bytes = line.as_bytes();
    let number = |b: &u8| b.is_ascii_digit() || *b == b'-';
    // serde's column is the number's last character.
    let at = e.column().saturating_sub(1).min(bytes.len());
    let end = at + bytes[at..].iter().take_while(|b| number(b)).count();
    let start = at - bytes[..at].iter().rev().take_while(|b| number(b)).count();
    let text = &line[start..end];
    let digits = text.strip_prefix('-').unwrap_or(text);
    if e.is_data()
        && digits.len() > 18
        && digits.bytes().all(|b| b.is_ascii_digit())
        && text.parse::<i64>().is_err()
        && text.parse::<u64>().is_err()
    {
        return format!(
            "bad event: integer {text} at column {} does not fit in 64 bits",
            start + 1
        );
    }
    format!("bad event: {e}")
}

fn show(v: &Option<Value>) -> String {
    match v {
        None => "null".to_string(),
        Some(v) => serde_json::to_string(v).unwrap_or_default(),
    }
}
