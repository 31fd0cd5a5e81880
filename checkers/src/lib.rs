//! Checkers that judge a recorded run.
pub mod cli;
