//! The project's own history format (`history.jsonl`): one [`Event`] per
//! line, as JSON. Workloads write it with these types; `snapstorm check
//! --format snapstorm` reads it.
//!
//! ```text
//! {"index":0,"process":3,"type":"invoke","f":"put","key":"k1","value":"5","time":123456,"node":2}
//! {"index":1,"process":3,"type":"ok","f":"put","key":"k1","value":"5","time":223456,"node":2}
//! ```
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Event {
    /// Position in the history.
    pub index: u64,
    pub process: u64,
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub f: Function,
    pub key: String,
    /// get: `null` on invoke; the value read, or `null` when absent, on ok.
    /// put/append: the argument. cas: `[from, to]`, `from` `null` meaning
    /// absent. delete: `null`.
    pub value: Option<Value>,
    /// Simulated time in nanoseconds.
    pub time: u64,
    /// The node the client talked to, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node: Option<u64>,
    /// On a `fail`: why the operation never reached the state machine (the
    /// cluster refused it, or no node took it before the client's deadline).
    /// A cas `fail` without it is a cas that saw another value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Invoke,
    /// Completed and took effect (a cas that matched).
    Ok,
    /// Definitely did not take effect (for cas without an `error`: the key
    /// did not hold `from`).
    Fail,
    /// Unknown outcome: may take effect at any time after the invocation, or
    /// never. The process issues no further operation.
    Info,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Function {
    Get,
    Put,
    Append,
    Cas,
    Delete,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Value {
    String(String),
    /// Compare-and-set arguments: `[from, to]`.
    Cas(Option<String>, String),
}
