//! Simulated clients that drive the Raft + KV cluster and record what they saw.
//! - [`client`]: one connection: leader discovery, retries with the same session seq.
//! - [`generator`]: the operation mixes (register, kv, list-append).
//! - [`runner`]: client processes in the simulation, Jepsen's process model.
//! - [`history`]: the recorded history, JSON lines and Jepsen EDN.
//! - [`export`]: the history in the shape Knossos, Elle or Porcupine reads.
pub mod client;
pub mod export;
pub mod generator;
pub mod history;
pub mod runner;

pub use generator::Generator;
pub use history::{Recorder, SharedRecorder};
pub use runner::{spawn_clients, spawn_final_reads, StopFlag, WorkloadSpec};
