//! The harness: simulation driver, nemesis, scenarios, runs and the command line.
//! Data flows one way: workload + nemesis -> simulated cluster -> history + node
//! trace -> checkers -> results.
pub mod admin;
pub mod cli;
pub mod cluster;
pub mod export;
pub mod fuzz;
pub mod interrupt;
pub mod knobs;
pub mod merge;
pub mod nemesis;
pub mod network;
pub mod overrides;
pub mod probes;
pub mod progress;
pub mod promote;
pub mod regressions;
pub mod replay;
pub mod results;
pub mod run;
pub mod scenario;
pub mod shrink;
pub mod story;
pub mod table;
