//! The harness: simulation driver, nemesis, scenarios and the command line.
pub mod cli;
pub mod cluster;
