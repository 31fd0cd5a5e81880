//! The Raft protocol core (no I/O).
mod types;
pub use types::*;
