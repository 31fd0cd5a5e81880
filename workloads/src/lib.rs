//! Simulated clients that drive the Raft + KV cluster and record what they saw.
pub mod client;
