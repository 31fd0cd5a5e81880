//! Checkers that judge a recorded run.
pub mod cli;
pub mod history;
pub mod linearizability;
pub mod model;
pub mod parse;
