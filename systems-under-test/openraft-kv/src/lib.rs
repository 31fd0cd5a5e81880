//! openraft-kv — a second system under test: the stock `openraft` crate
//! (0.9.25, unmodified) driving a session key-value store inside turmoil.
//!
//! - [`runtime`]: openraft's `AsyncRuntime` on the host's tokio runtime, with
//!   randomness seeded per (run seed, node, boot) and keyed per host runtime.
//! - [`log_store`], [`state_machine`]: storage v2 on turmoil's simulated disk
//!   ([`disk`]), fsync before anything is reported durable.
//! - [`network`], [`server`], [`wire`]: RPCs over turmoil UDP, postcard-encoded.
//! - [`kv`]: the state machine proper (put, append, cas, delete; sessions).
//! - [`node`]: [`boot`], the entry point a turmoil host runs.
//! - [`client`]: a client session that finds the leader and retries.
//! - [`trace`]: the sink of [`sut::trace`] events.
pub mod client;
pub mod disk;
pub mod kv;
pub mod log_store;
pub mod network;
pub mod node;
pub mod runtime;
pub mod server;
pub mod state_machine;
pub mod trace;
pub mod types;
pub mod wire;

pub use client::{Client, ClientError};
pub use node::{boot, Knobs, NodeConfig};
pub use trace::TraceSink;
pub use types::{host_name, NodeId};
