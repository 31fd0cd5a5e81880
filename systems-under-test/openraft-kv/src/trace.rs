//! Where nodes report what they did, in the harness's trace schema
//! ([`sut::trace`]). openraft's tasks must be `Send`, so unlike raftkv's
//! `Rc<RefCell<..>>` sink this one is behind an `Arc<Mutex<..>>`; it is still
//! filled in simulation order because every turmoil host runs on one thread.
use crate::types::NodeId;
use std::sync::{Arc, Mutex};
use sut::trace::{TraceEvent, TraceRecord};

/// One sink per run, shared by every node.
#[derive(Clone, Debug, Default)]
pub struct TraceSink(Arc<Mutex<Vec<TraceRecord>>>);

impl TraceSink {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `event` from `node`, stamped with the simulated time.
    pub fn push(&self, node: NodeId, event: TraceEvent) {
        let time = turmoil::sim_elapsed().map_or(0, |d| d.as_nanos() as u64);
        self.lock().push(TraceRecord { time, node, event });
    }

    /// A copy of everything recorded so far.
    pub fn records(&self) -> Vec<TraceRecord> {
        self.lock().clone()
    }

    /// The trace as JSON lines, the form the harness writes and compares.
    pub fn to_json_lines(&self) -> String {
        let mut out = String::new();
        for r in self.lock().iter() {
            out.push_str(&serde_json::to_string(r).expect("trace records always encode"));
            out.push('\n');
        }
        out
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<TraceRecord>> {
        // A panicking node poisons nothing we rely on: the records are plain data.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}
