//! Durability: every write a client saw succeed is in the committed log, and — on
//! keys only ever appended to, where nothing can legitimately remove it — visible
//! to the final reads. Disk loss included: a lost acknowledged write is a bug.
use super::log::CommittedLog;
use super::{Finding, RunData, Violation};
use crate::history::{EventKind, Function, Value};
use std::collections::{BTreeMap, BTreeSet};
use sut::ops::Op;

/// (function, key, value) of a write, as comparable text.
type WriteKey = (&'static str, String, String);

fn op_key(op: &Op) -> WriteKey {
    match op {
        Op::Put { key, value } => ("put", key.clone(), value.clone()),
        Op::Append { key, value } => ("append", key.clone(), value.clone()),
        Op::Cas { key, from, to } => ("cas", key.clone(), format!("{from:?}->{to}")),
        Op::Delete { key } => ("delete", key.clone(), String::new()),
    }
}

fn event_key(f: Function, key: &str, value: &Option<Value>) -> Option<WriteKey> {
    let s = |v: &Option<Value>| match v {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    Some(match f {
        Function::Get => return None,
        Function::Put => ("put", key.to_string(), s(value)),
        Function::Append => ("append", key.to_string(), s(value)),
        Function::Cas => match value {
            Some(Value::Cas(from, to)) => ("cas", key.to_string(), format!("{from:?}->{to}")),
            _ => return None,
        },
        Function::Delete => ("delete", key.to_string(), String::new()),
    })
}

pub fn durability(run: &RunData, log: &CommittedLog) -> Finding {
    let in_log: BTreeSet<WriteKey> = log
        .entries
        .values()
        .filter_map(|e| e.op.as_ref().map(op_key))
        .collect();
    let mut violations = Vec::new();
    let mut acked = 0;
    // Keys that only ever saw appends (attempted, whatever the outcome).
    let mut append_only: BTreeMap<&str, bool> = BTreeMap::new();
    for e in run
        .history
        .iter()
        .filter(|e| e.kind == EventKind::Invoke && e.f != Function::Get)
    {
        let only = append_only.entry(e.key.as_str()).or_insert(true);
        *only &= e.f == Function::Append;
    }
    let mut final_reads: BTreeMap<&str, Option<&str>> = BTreeMap::new();
    if let Some(p) = run.final_reads_process {
        for e in run
            .history
            .iter()
            .filter(|e| e.process == p && e.kind == EventKind::Ok)
        {
            let v = match &e.value {
                Some(Value::String(s)) => Some(s.as_str()),
                _ => None,
            };
            final_reads.insert(e.key.as_str(), v);
        }
    }
    for e in run.history.iter().filter(|e| e.kind == EventKind::Ok) {
        let Some(w) = event_key(e.f, &e.key, &e.value) else {
            continue;
        };
        acked += 1;
        let violation = |message: String| Violation::for_event(e, message);
        if !in_log.contains(&w) {
            violations.push(violation(format!(
                "acknowledged {} {}={:?} (process {}, history index {}) is not in the committed log",
                w.0, w.1, w.2, e.process, e.index
            )));
            continue;
        }
        if e.f == Function::Append && append_only.get(e.key.as_str()) == Some(&true) {
            if let Some(read) = final_reads.get(e.key.as_str()) {
                if !read.unwrap_or("").contains(w.2.as_str()) {
                    violations.push(violation(format!(
                        "acknowledged append {:?} to {} (process {}) is missing from the final read",
                        w.2, w.1, e.process
                    )));
                }
            }
        }
    }
    Finding::new(
        "durability",
        format!(
            "{acked} acknowledged writes are in the committed log ({} keys checked against final reads)",
            final_reads.len()
        ),
        violations,
    )
}
