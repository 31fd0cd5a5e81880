//! Reads a run directory into lenient structs: fields the report does not
//! use are ignored, so newer files still render. Every error names the file
//! and line.
use crate::error::ReportError;
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The fields of `results.json` the report shows (a copy of the harness's
/// `Results`, which `reports` must not depend on).
#[derive(Clone, Debug, Deserialize)]
pub struct Results {
    pub scenario: String,
    pub seed: u64,
    pub verdict: String,
    #[serde(default)]
    pub checkers: BTreeMap<String, CheckerResult>,
    /// Kept generic: any stat the harness adds is shown.
    #[serde(default)]
    pub stats: BTreeMap<String, Value>,
    #[serde(default)]
    pub evidence: BTreeMap<String, bool>,
    #[serde(default)]
    pub repro: String,
    /// Under an INVALID verdict, the harness's failure story (older files have none).
    #[serde(default)]
    pub story: Option<Story>,
    /// The process of the final reads, whose lane is named "final reads".
    #[serde(default)]
    pub final_reads_process: Option<u64>,
}

/// The failure story: one paragraph, then the commands to shrink and replay the run.
#[derive(Clone, Debug, Deserialize)]
pub struct Story {
    pub text: String,
    #[serde(default)]
    pub commands: Vec<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct CheckerResult {
    pub verdict: String,
    #[serde(default)]
    pub detail: String,
    #[serde(default)]
    pub data: Option<Value>,
}

/// One line of `history.jsonl`.
#[derive(Clone, Debug, Deserialize)]
pub struct Event {
    #[serde(default)]
    pub index: u64,
    pub process: u64,
    #[serde(rename = "type")]
    pub kind: EventKind,
    pub f: String,
    #[serde(default)]
    pub key: String,
    #[serde(default)]
    pub value: Value,
    pub time: u64,
    #[serde(default)]
    pub node: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventKind {
    Invoke,
    Ok,
    Fail,
    Info,
}

/// One line of `trace.jsonl`.
#[derive(Clone, Debug, Deserialize)]
pub struct TraceLine {
    pub time: u64,
    pub node: u64,
    #[serde(flatten)]
    pub event: TraceEvent,
}

/// The trace events the report draws; others parse as [`TraceEvent::Other`].
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TraceEvent {
    Boot {
        generation: u64,
        #[serde(default)]
        recovering: bool,
        snapshot_index: u64,
        first_index: u64,
        last_index: u64,
    },
    Halt {
        reason: String,
    },
    Role {
        role: String,
        term: u64,
    },
    Persisted {
        last: u64,
    },
    Compacted {
        snapshot_index: u64,
        first_index: u64,
        last_index: u64,
    },
    Apply {
        index: u64,
    },
    SnapshotCreated {
        index: u64,
        term: u64,
        size: u64,
    },
    SnapshotSendStart {
        to: u64,
        index: u64,
        size: u64,
    },
    SnapshotChunkSent {
        to: u64,
        index: u64,
        offset: u64,
        len: u64,
    },
    SnapshotChunkReceived {
        from: u64,
        index: u64,
        offset: u64,
        len: u64,
        accepted: bool,
        #[serde(default)]
        reason: String,
    },
    SnapshotInstalled {
        from: u64,
        index: u64,
        size: u64,
    },
    SnapshotRejected {
        from: u64,
        index: u64,
        #[serde(default)]
        reason: String,
    },
    SnapshotFastForward {
        index: u64,
    },
    Restored {
        index: u64,
        on_boot: bool,
    },
    #[serde(other)]
    Other,
}

/// One line of `nemesis.jsonl`.
#[derive(Clone, Debug, Deserialize)]
pub struct Fault {
    #[serde(default)]
    pub id: u64,
    /// The fault's kind, e.g. `crash`.
    pub fault: String,
    #[serde(default)]
    pub nodes: Vec<u64>,
    pub start: u64,
    pub end: Option<u64>,
    #[serde(default)]
    pub detail: String,
    /// The kind's own fields (target, lose_disk, rate, ...).
    #[serde(flatten)]
    pub params: BTreeMap<String, Value>,
}

/// Everything in a run directory.
pub struct RunDir {
    pub results: Results,
    pub history: Vec<(usize, Event)>,
    pub trace: Vec<TraceLine>,
    pub faults: Vec<Fault>,
    /// Files that were absent (the report says so instead of failing).
    pub missing: Vec<&'static str>,
}

/// The files a report renders without (saying so on the page).
pub const OPTIONAL_FILES: [&str; 2] = ["trace.jsonl", "nemesis.jsonl"];

pub fn load(dir: &Path) -> Result<RunDir, ReportError> {
    if !dir.is_dir() {
        return Err(ReportError::new(dir, "not a run directory"));
    }
    let mut missing = Vec::new();
    let results_path = dir.join("results.json");
    let bytes = read(&results_path)?;
    let results: Results = serde_json::from_slice(&bytes)
        .map_err(|e| ReportError::at(&results_path, e.line(), format!("bad results: {e}")))?;
    let history = jsonl(&dir.join("history.jsonl"))?;
    let trace_path = dir.join(OPTIONAL_FILES[0]);
    let trace = if trace_path.exists() {
        jsonl(&trace_path)?.into_iter().map(|(_, t)| t).collect()
    } else {
        missing.push(OPTIONAL_FILES[0]);
        Vec::new()
    };
    let nemesis_path = dir.join(OPTIONAL_FILES[1]);
    let faults = if nemesis_path.exists() {
        jsonl(&nemesis_path)?.into_iter().map(|(_, f)| f).collect()
    } else {
        missing.push(OPTIONAL_FILES[1]);
        Vec::new()
    };
    Ok(RunDir {
        results,
        history,
        trace,
        faults,
        missing,
    })
}

fn read(path: &Path) -> Result<Vec<u8>, ReportError> {
    std::fs::read(path).map_err(|e| ReportError::new(path, format!("cannot read: {e}")))
}

/// Parses a JSON-lines file, skipping blank lines; returns (line, item).
fn jsonl<T: DeserializeOwned>(path: &Path) -> Result<Vec<(usize, T)>, ReportError> {
    let bytes = read(path)?;
    let mut out = Vec::new();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = i + 1;
        let text = std::str::from_utf8(raw).map_err(|e| {
            ReportError::at(
                path,
                line,
                format!("not valid UTF-8 (byte {})", e.valid_up_to() + 1),
            )
        })?;
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let item = serde_json::from_str(text)
            .map_err(|e| ReportError::at(path, line, format!("bad record: {e}")))?;
        out.push((line, item));
    }
    Ok(out)
}
