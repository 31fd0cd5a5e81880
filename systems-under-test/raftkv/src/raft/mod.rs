//! The Raft protocol core. It does no I/O: see [`Raft`] for the Ready contract.
mod config;
mod core;
mod log;
mod message;
mod progress;
mod read_index;
mod types;

pub use self::config::{Config, ReadMode};
pub use self::core::{Bootstrap, ProposeError, Raft, ReadState, Ready};
pub use self::log::RaftLog;
pub use self::message::{Body, Message};
pub use self::types::*;

#[cfg(test)]
mod tests;
