//! Pairs history events into operations: one interval per invocation.
use crate::error::ReportError;
use crate::load::{Event, EventKind};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    Fail,
    /// Indeterminate: the client gave up at `ret`.
    Info,
    /// Never completed.
    Pending,
}

impl Outcome {
    pub fn class(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Fail => "fail",
            Outcome::Info => "info",
            Outcome::Pending => "pending",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Op {
    /// The invocation's `index` in the history.
    pub index: u64,
    pub process: u64,
    pub f: String,
    pub key: String,
    pub input: Value,
    pub output: Value,
    pub call: u64,
    /// Completion time (ok, fail or info); `None` while pending.
    pub ret: Option<u64>,
    pub outcome: Outcome,
    pub node: Option<u64>,
}

impl Op {
    pub fn latency(&self) -> Option<u64> {
        self.ret.map(|r| r.saturating_sub(self.call))
    }

    /// One line of text, e.g. `append k1 "x 0 1 y" → ok`.
    pub fn text(&self) -> String {
        let mut t = format!("{} {}", self.f, self.key);
        if !self.input.is_null() {
            t.push(' ');
            t.push_str(&short_json(&self.input));
        }
        t.push_str(" → ");
        match self.outcome {
            Outcome::Ok if self.f == "get" => t.push_str(&short_json(&self.output)),
            Outcome::Pending => t.push_str("pending"),
            o => t.push_str(o.class()),
        }
        t
    }
}

/// JSON text cut to 80 characters.
pub fn short_json(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() <= 80 {
        s
    } else {
        let mut cut: String = s.chars().take(77).collect();
        cut.push('…');
        cut
    }
}

/// Pairs events per process, in history order. Operations come out ordered
/// by invocation.
pub fn pair(path: &Path, events: &[(usize, Event)]) -> Result<Vec<Op>, ReportError> {
    let mut ops: Vec<Op> = Vec::new();
    let mut in_flight: BTreeMap<u64, usize> = BTreeMap::new();
    for (line, e) in events {
        let line = *line;
        if e.kind == EventKind::Invoke {
            if in_flight.contains_key(&e.process) {
                return Err(ReportError::at(
                    path,
                    line,
                    format!(
                        "process {} invokes while its previous operation is in flight",
                        e.process
                    ),
                ));
            }
            in_flight.insert(e.process, ops.len());
            ops.push(Op {
                index: e.index,
                process: e.process,
                f: e.f.clone(),
                key: e.key.clone(),
                input: e.value.clone(),
                output: Value::Null,
                call: e.time,
                ret: None,
                outcome: Outcome::Pending,
                node: e.node,
            });
            continue;
        }
        let Some(i) = in_flight.remove(&e.process) else {
            return Err(ReportError::at(
                path,
                line,
                format!(
                    "completion for process {}, which has no operation in flight",
                    e.process
                ),
            ));
        };
        let op = &mut ops[i];
        if e.f != op.f || e.key != op.key {
            return Err(ReportError::at(
                path,
                line,
                format!(
                    "completion {} {:?} does not match the in-flight {} {:?}",
                    e.f, e.key, op.f, op.key
                ),
            ));
        }
        if e.time < op.call {
            return Err(ReportError::at(
                path,
                line,
                "completion is earlier than its invocation",
            ));
        }
        op.ret = Some(e.time);
        op.output = e.value.clone();
        op.node = e.node.or(op.node);
        op.outcome = match e.kind {
            EventKind::Ok => Outcome::Ok,
            EventKind::Fail => Outcome::Fail,
            _ => Outcome::Info,
        };
    }
    Ok(ops)
}

/// The keys of the operations, sorted, each with its number: the per-key
/// filter of the page refers to keys by number (`data-k`).
pub struct Keys {
    pub names: Vec<String>,
    index: BTreeMap<String, usize>,
}

/// Beyond this many keys the plots are not split per key (the timeline's
/// operations still are): each key's series would make the page too big.
pub const KEYS_PLOTTED: usize = 32;

impl Keys {
    pub fn of(ops: &[Op]) -> Self {
        let index: BTreeMap<String, usize> = ops
            .iter()
            .map(|o| (o.key.clone(), 0))
            .collect::<BTreeMap<_, _>>()
            .into_keys()
            .enumerate()
            .map(|(i, k)| (k, i))
            .collect();
        let names = index.keys().cloned().collect();
        Keys { names, index }
    }

    pub fn of_op(&self, op: &Op) -> usize {
        self.index.get(&op.key).copied().unwrap_or(0)
    }

    /// Whether the plots carry one series per key.
    pub fn plotted(&self) -> bool {
        self.names.len() > 1 && self.names.len() <= KEYS_PLOTTED
    }
}
