//! Operations of the history as the failure story needs them: an operation
//! by its invocation's index, with its completion; and, for a read, the write
//! it missed.
use workloads::history::{Event, EventKind, Function, Value};

/// One operation: its invocation and, if it has one, its completion.
#[derive(Clone, Copy, Debug)]
pub struct Op<'a> {
    pub invoke: &'a Event,
    pub done: Option<&'a Event>,
}

impl<'a> Op<'a> {
    /// The operation whose invocation has history index `index` (the
    /// numbering counterexamples use). None if there is no such invocation.
    pub fn find(history: &'a [Event], index: u64) -> Option<Op<'a>> {
        let at = (history.iter()).position(|e| e.index == index && e.kind == EventKind::Invoke)?;
        let invoke = &history[at];
        let done = history[at + 1..]
            .iter()
            .find(|e| e.process == invoke.process && e.kind != EventKind::Invoke);
        Some(Op { invoke, done })
    }

    pub fn ok(&self) -> bool {
        self.done.is_some_and(|d| d.kind == EventKind::Ok)
    }

    pub fn is_read(&self) -> bool {
        self.invoke.f == Function::Get
    }

    /// What a completed read returned (None: absent).
    pub fn read_value(&self) -> Option<&'a str> {
        match self.done.and_then(|d| d.value.as_ref()) {
            Some(Value::String(s)) => Some(s),
            _ => None,
        }
    }

    /// The value a write puts (a cas's new value); None for a delete or read.
    pub fn written(&self) -> Option<&'a str> {
        match self.invoke.value.as_ref() {
            Some(Value::String(s)) if self.invoke.f != Function::Get => Some(s),
            Some(Value::Cas(_, to)) => Some(to),
            _ => None,
        }
    }

    /// "get k3 → "x 0 2 y…x 7 13 y" (64 chars)", "put k3 "x 0 18 y"".
    pub fn text(&self) -> String {
        let f = format!("{:?}", self.invoke.f).to_lowercase();
        let key = &self.invoke.key;
        match self.invoke.f {
            Function::Get if self.ok() => match self.read_value() {
                Some(v) => format!("{f} {key} → {}", short(v)),
                None => format!("{f} {key} → absent"),
            },
            Function::Get | Function::Delete => format!("{f} {key}"),
            Function::Cas => match self.invoke.value.as_ref() {
                Some(Value::Cas(from, to)) => format!(
                    "{f} {key} {} → {}",
                    from.as_deref().map_or("absent".to_string(), short),
                    short(to)
                ),
                _ => format!("{f} {key}"),
            },
            Function::Put | Function::Append => {
                format!("{f} {key} {}", self.written().map_or(String::new(), short))
            }
        }
    }
}

/// A value quoted, shortened in the middle past 40 characters.
pub fn short(v: &str) -> String {
    let chars: Vec<char> = v.chars().collect();
    if chars.len() <= 40 {
        return format!("{v:?}");
    }
    let head: String = chars[..16].iter().collect();
    let tail: String = chars[chars.len() - 16..].iter().collect();
    format!("\"{head}…{tail}\" ({} chars)", chars.len())
}

/// The write a stale read missed: of the writes to the read's key
/// acknowledged (ok) before the read was invoked, the latest whose effect
/// the read does not show. Where the key is appended to, a write shows when
/// its value is in what the read returned, and a put, cas or delete that
/// shows ends the search (it replaced what came before); on a register key
/// (never appended to) only the last such write counts, and it is missed
/// when the read returned anything else. None when no write was missed.
pub fn missed_write<'a>(history: &'a [Event], read: &Op<'a>) -> Option<Op<'a>> {
    let key = &read.invoke.key;
    let seen = read.read_value();
    let appended = (history.iter()).any(|e| &e.key == key && e.f == Function::Append);
    let mut writes: Vec<Op<'a>> = (pairs(history).into_iter())
        .filter(|w| &w.invoke.key == key && w.invoke.f != Function::Get)
        .filter(|w| w.ok() && w.done.is_some_and(|d| d.time < read.invoke.time))
        .filter(|w| w.invoke.f != Function::Cas || w.written().is_some())
        .collect();
    writes.sort_by_key(|w| w.done.map(|d| (d.time, d.index)));
    for w in writes.iter().rev() {
        let shows = match (w.invoke.f, seen) {
            (Function::Delete, seen) => seen.is_none(),
            (_, None) => false,
            (_, Some(v)) if appended => w.written().is_some_and(|x| v.contains(x)),
            (_, Some(v)) => w.written() == Some(v),
        };
        if !shows {
            return Some(*w);
        }
        if !appended || w.invoke.f != Function::Append {
            return None;
        }
    }
    None
}

/// Every completed operation, paired in one pass (a process has one
/// operation in flight at a time).
fn pairs(history: &[Event]) -> Vec<Op<'_>> {
    let mut open = std::collections::BTreeMap::new();
    let mut ops = Vec::new();
    for e in history {
        if e.kind == EventKind::Invoke {
            open.insert(e.process, e);
        } else if let Some(invoke) = open.remove(&e.process) {
            ops.push(Op {
                invoke,
                done: Some(e),
            });
        }
    }
    ops
}
