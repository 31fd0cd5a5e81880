//! The recorded history: every operation's invocation and completion, in the
//! order the simulation saw them, as `checkers::history::Event`s. Serialised as JSON
//! lines (`history.jsonl`, read back by `snapstorm check --format snapstorm`) and
//! exportable as Jepsen EDN lines so other tools can read it.
pub use checkers::history::{Event, EventKind, Function, Value};
use hdrhistogram::Histogram;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::rc::Rc;

pub struct Recorder {
    events: Vec<Event>,
    /// Invocation time of each process's operation in flight.
    in_flight: BTreeMap<u64, u64>,
    /// Completed-operation latency in simulated nanoseconds.
    latency: Histogram<u64>,
}

pub type SharedRecorder = Rc<RefCell<Recorder>>;

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            events: Vec::new(),
            in_flight: BTreeMap::new(),
            latency: Histogram::new_with_bounds(1_000, 3_600_000_000_000, 3)
                .expect("valid histogram bounds"),
        }
    }
}

/// Simulated time now, in nanoseconds (0 outside a simulation).
fn now_ns() -> u64 {
    turmoil::sim_elapsed().map_or(0, |d| d.as_nanos() as u64)
}

impl Recorder {
    pub fn shared() -> SharedRecorder {
        Rc::new(RefCell::new(Recorder::default()))
    }

    /// Records an invocation. A process has at most one operation in flight.
    pub fn invoke(&mut self, process: u64, f: Function, key: &str, value: Option<Value>) {
        let time = now_ns();
        let prev = self.in_flight.insert(process, time);
        debug_assert!(
            prev.is_none(),
            "process {process} has two operations in flight"
        );
        self.push(process, EventKind::Invoke, f, key, value, time, None, None);
    }

    /// Records the completion of `process`'s operation in flight.
    #[allow(clippy::too_many_arguments)]
    pub fn complete(
        &mut self,
        process: u64,
        kind: EventKind,
        f: Function,
        key: &str,
        value: Option<Value>,
        node: Option<u64>,
        error: Option<String>,
    ) {
        let time = now_ns();
        if let Some(start) = self.in_flight.remove(&process) {
            if kind != EventKind::Info {
                let _ = self.latency.record(time.saturating_sub(start).max(1));
            }
        }
        self.push(process, kind, f, key, value, time, node, error);
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        process: u64,
        kind: EventKind,
        f: Function,
        key: &str,
        value: Option<Value>,
        time: u64,
        node: Option<u64>,
        error: Option<String>,
    ) {
        self.events.push(Event {
            index: self.events.len() as u64,
            process,
            kind,
            f,
            key: key.to_string(),
            value,
            time,
            node,
            error,
        });
    }

    pub fn events(&self) -> &[Event] {
        &self.events
    }

    pub fn latency(&self) -> &Histogram<u64> {
        &self.latency
    }

    /// Processes with an operation still in flight (indeterminate at the end).
    pub fn pending(&self) -> impl Iterator<Item = u64> + '_ {
        self.in_flight.keys().copied()
    }
}

/// One JSON object per line.
pub fn to_jsonl(events: &[Event]) -> String {
    let mut out = String::new();
    for e in events {
        out.push_str(&serde_json::to_string(e).expect("events always serialise"));
        out.push('\n');
    }
    out
}

/// Parses `history.jsonl`; an error names the 1-based line.
pub fn from_jsonl(text: &str) -> Result<Vec<Event>, String> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect()
}

pub(crate) fn edn_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn edn_opt(s: &Option<String>) -> String {
    s.as_deref().map_or_else(|| "nil".to_string(), edn_str)
}

/// Jepsen EDN lines, one map per event, in the shape of Jepsen's kv histories:
/// `{:process 9, :type :ok, :f :append, :key "0", :value "x 9 0 y", :time 12, :node 2}`.
/// cas values are `[from to]` vectors.
pub fn to_edn(events: &[Event]) -> String {
    let mut out = String::new();
    for e in events {
        let kind = match e.kind {
            EventKind::Invoke => "invoke",
            EventKind::Ok => "ok",
            EventKind::Fail => "fail",
            EventKind::Info => "info",
        };
        let f = match e.f {
            Function::Get => "get",
            Function::Put => "put",
            Function::Append => "append",
            Function::Cas => "cas",
            Function::Delete => "delete",
        };
        let value = match &e.value {
            None => "nil".to_string(),
            Some(Value::String(s)) => edn_str(s),
            Some(Value::Cas(from, to)) => format!("[{} {}]", edn_opt(from), edn_str(to)),
        };
        let _ = write!(
            out,
            "{{:process {}, :type :{kind}, :f :{f}, :key {}, :value {value}, :time {}, :index {}",
            e.process,
            edn_str(&e.key),
            e.time,
            e.index
        );
        if let Some(n) = e.node {
            let _ = write!(out, ", :node {n}");
        }
        if let Some(error) = &e.error {
            let _ = write!(out, ", :error {}", edn_str(error));
        }
        out.push_str("}\n");
    }
    out
}

/// Reads back what [`to_edn`] wrote; an error names the 1-based line.
pub fn from_edn(text: &str) -> Result<Vec<Event>, String> {
    use checkers::parse::edn::{parse_map, Edn};
    let mut out = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let at = |m: String| format!("line {}: {m}", i + 1);
        let map = parse_map(line).map_err(at)?;
        let get = |k: &str| map.iter().find(|(key, _)| key == k).map(|(_, v)| v);
        let int = |k: &str| match get(k) {
            Some(Edn::Int(n)) if *n >= 0 => Ok(*n as u64),
            other => Err(at(format!(
                ":{k} must be a non-negative integer, not {other:?}"
            ))),
        };
        let keyword = |k: &str| match get(k) {
            Some(Edn::Keyword(w)) => Ok(w.as_str()),
            other => Err(at(format!(":{k} must be a keyword, not {other:?}"))),
        };
        let kind = match keyword("type")? {
            "invoke" => EventKind::Invoke,
            "ok" => EventKind::Ok,
            "fail" => EventKind::Fail,
            "info" => EventKind::Info,
            other => return Err(at(format!("unknown :type :{other}"))),
        };
        let f = match keyword("f")? {
            "get" => Function::Get,
            "put" => Function::Put,
            "append" => Function::Append,
            "cas" => Function::Cas,
            "delete" => Function::Delete,
            other => return Err(at(format!("unknown :f :{other}"))),
        };
        let key = match get("key") {
            Some(Edn::Str(s)) => s.clone(),
            other => return Err(at(format!(":key must be a string, not {other:?}"))),
        };
        let opt = |v: &Edn| match v {
            Edn::Nil => Ok(None),
            Edn::Str(s) => Ok(Some(s.clone())),
            other => Err(at(format!("expected a string or nil, not {other:?}"))),
        };
        let value = match get("value") {
            None | Some(Edn::Nil) => None,
            Some(Edn::Str(s)) => Some(Value::String(s.clone())),
            Some(Edn::Vector(v)) if v.len() == 2 => {
                let to = opt(&v[1])?.ok_or_else(|| at("cas target must be a string".into()))?;
                Some(Value::Cas(opt(&v[0])?, to))
            }
            other => return Err(at(format!("unexpected :value {other:?}"))),
        };
        out.push(Event {
            index: int("index")?,
            process: int("process")?,
            kind,
            f,
            key,
            value,
            time: int("time")?,
            node: get("node").map(|_| int("node")).transpose()?,
            error: match get("error") {
                None => None,
                Some(Edn::Str(s)) => Some(s.clone()),
                Some(other) => return Err(at(format!(":error must be a string, not {other:?}"))),
            },
        });
    }
    Ok(out)
}
