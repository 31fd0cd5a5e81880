//! raftkv — the system under test: a Raft + KV store with real snapshot mechanics.
//!
//! - [`raft`]: the protocol core. It does no I/O: messages, ticks and proposals go
//!   in; a [`raft::Ready`] with messages to send, state to persist and entries to
//!   apply comes out (etcd raft's Ready loop).
//! - [`storage`]: the write-ahead log and snapshot files over a small `Disk`
//!   trait, so the same code runs on a real directory or turmoil's simulated disk.
//! - [`trace`]: the structured node trace the checkers read.
//! - [`probe`]: named code probes at the decisions worth reaching.
pub mod bugs;
pub mod kv;
pub mod node;
pub mod probe;
pub mod raft;
pub mod storage;
pub mod trace;
