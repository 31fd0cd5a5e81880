//! A history in the EDN Jepsen's own checkers read, in the shape of the
//! workload that recorded it:
//! - the register workload (and any history without appends) as Knossos's
//!   cas-register history: `:read`, `:write` (a delete is `:write nil`) and
//!   `:cas [from to]`, values as integers where they are (`"3"` is `3`)
//!   and strings otherwise (the empty value is `""`, not `nil`), each value
//!   a `jepsen.independent` tuple `[key value]` when the history has several
//!   keys, as Jepsen's independent tests record them;
//! - the list-append workload as Elle's list-append: `:f :txn` with one
//!   `[:append key element]` or `[:r key [elements]]` each;
//! - the kv workload as the Jepsen kv maps Porcupine reads
//!   ([`crate::history::to_edn`]).
//!
//! Every map keeps the event's `:process`, `:time` (simulated ns), `:index`
//! (the event's index in history.jsonl, so an operation has the same number
//! everywhere) and `:error`. A completion repeats its invocation's value
//! where Jepsen does (a `:fail` or `:info`), and carries what was read on a
//! read's `:ok`.
use crate::history::{edn_str, to_edn, Event, EventKind, Function, Value};
use std::fmt::Write as _;

/// What the history was exported as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    KnossosRegister,
    ElleListAppend,
    JepsenKv,
}

impl Shape {
    pub fn describe(self) -> &'static str {
        match self {
            Shape::KnossosRegister => "Knossos cas-register history (:read/:write/:cas)",
            Shape::ElleListAppend => "Elle list-append history (:txn with :append and :r)",
            Shape::JepsenKv => "Jepsen kv maps (:get/:put/:append with :key; Porcupine reads them)",
        }
    }
}

/// The shape the events were recorded in: only appends and reads of
/// `<n>` elements is list-append; no appends at all is a set of registers
/// (a get/put/cas/delete kv history is exactly that); anything else is kv.
pub fn shape_of(events: &[Event]) -> Shape {
    let strings = || {
        events.iter().flat_map(|e| match &e.value {
            None => vec![],
            Some(Value::String(s)) => vec![s.as_str()],
            Some(Value::Cas(from, to)) => from
                .iter()
                .map(String::as_str)
                .chain([to.as_str()])
                .collect(),
        })
    };
    let only = |fs: &[Function]| events.iter().all(|e| fs.contains(&e.f));
    if only(&[Function::Append, Function::Get]) && strings().all(|s| elements(s).is_some()) {
        Shape::ElleListAppend
    } else if !events.iter().any(|e| e.f == Function::Append) {
        Shape::KnossosRegister
    } else {
        Shape::JepsenKv
    }
}

/// The list elements of a value of `<n>` pieces, e.g. `<4><5>` is [4, 5].
fn elements(s: &str) -> Option<Vec<i64>> {
    let inner = s.strip_prefix('<')?.strip_suffix('>')?;
    inner.split("><").map(|n| n.parse().ok()).collect()
}

/// The events as Jepsen EDN, one map per line, in their own shape. With
/// `key`, only that key's operations (a register history then has plain
/// values, for Knossos's single-register command line). An error names the
/// event.
pub fn to_jepsen(events: &[Event], key: Option<&str>) -> Result<(Shape, String), String> {
    let events: Vec<Event> = match key {
        Some(k) => events.iter().filter(|e| e.key == k).cloned().collect(),
        None => events.to_vec(),
    };
    if events.is_empty() {
        return Err(match key {
            Some(k) => format!("no operations on key {k:?}"),
            None => "no operations".to_string(),
        });
    }
    let shape = shape_of(&events);
    let text = match shape {
        Shape::JepsenKv => to_edn(&events),
        Shape::KnossosRegister => {
            let mut keys: Vec<&str> = events.iter().map(|e| e.key.as_str()).collect();
            keys.sort_unstable();
            keys.dedup();
            let tuples = keys.len() > 1;
            lines(&events, |e, value| register(e, value, tuples))?
        }
        Shape::ElleListAppend => lines(&events, list_append)?,
    };
    Ok((shape, text))
}

/// One map per event: `value` renders its `:f` and `:value`, given the
/// value of the operation's invocation.
fn lines(
    events: &[Event],
    value: impl Fn(&Event, &Option<Value>) -> Result<(String, String), String>,
) -> Result<String, String> {
    let mut invoked: std::collections::BTreeMap<u64, &Option<Value>> = Default::default();
    let mut out = String::new();
    for e in events {
        let input = match e.kind {
            EventKind::Invoke => {
                invoked.insert(e.process, &e.value);
                &e.value
            }
            _ => invoked.remove(&e.process).unwrap_or(&e.value),
        };
        let (f, v) = value(e, input).map_err(|m| format!("event {}: {m}", e.index))?;
        let kind = match e.kind {
            EventKind::Invoke => "invoke",
            EventKind::Ok => "ok",
            EventKind::Fail => "fail",
            EventKind::Info => "info",
        };
        let _ = write!(
            out,
            "{{:type :{kind}, :f :{f}, :value {v}, :process {}, :time {}, :index {}",
            e.process, e.time, e.index
        );
        if let Some(error) = &e.error {
            let _ = write!(out, ", :error {}", edn_str(error));
        }
        out.push_str("}\n");
    }
    Ok(out)
}

fn register(e: &Event, input: &Option<Value>, tuples: bool) -> Result<(String, String), String> {
    // Knossos compares register values with `=`: any EDN value will do, so
    // integers are written as integers and anything else as a string.
    let value = |s: &str| match s.parse::<i64>() {
        Ok(i) if i.to_string() == s => i.to_string(),
        _ => edn_str(s),
    };
    let opt = |s: &Option<String>| s.as_deref().map_or("nil".to_string(), value);
    let (f, v) = match (e.f, input) {
        // A read shows its result on `:ok`; Jepsen's invocation says nil.
        (Function::Get, _) => match (&e.kind, &e.value) {
            (EventKind::Ok, Some(Value::String(s))) => ("read", value(s)),
            _ => ("read", "nil".to_string()),
        },
        (Function::Put, Some(Value::String(s))) => ("write", value(s)),
        (Function::Delete, _) => ("write", "nil".to_string()),
        (Function::Cas, Some(Value::Cas(from, to))) => {
            ("cas", format!("[{} {}]", opt(from), value(to)))
        }
        (f, v) => {
            return Err(format!(
                "{f:?} with value {v:?} has no Knossos register form"
            ))
        }
    };
    let v = if tuples {
        format!("[{} {v}]", edn_str(&e.key))
    } else {
        v
    };
    Ok((f.to_string(), v))
}

fn list_append(e: &Event, input: &Option<Value>) -> Result<(String, String), String> {
    let key = edn_str(&e.key);
    let mop = match (e.f, input) {
        (Function::Append, Some(Value::String(s))) => match elements(s).as_deref() {
            Some([x]) => format!("[:append {key} {x}]"),
            _ => return Err(format!("append of {s:?} is not one <n> element")),
        },
        (Function::Get, _) => match (&e.kind, &e.value) {
            (EventKind::Ok, Some(Value::String(s))) => {
                let xs = elements(s)
                    .ok_or_else(|| format!("read {s:?} is not a list of <n> elements"))?;
                let xs: Vec<String> = xs.iter().map(i64::to_string).collect();
                format!("[:r {key} [{}]]", xs.join(" "))
            }
            (EventKind::Ok, None) => format!("[:r {key} []]"),
            _ => format!("[:r {key} nil]"),
        },
        (f, v) => return Err(format!("{f:?} with value {v:?} has no list-append form")),
    };
    Ok(("txn".to_string(), format!("[{mop}]")))
}
