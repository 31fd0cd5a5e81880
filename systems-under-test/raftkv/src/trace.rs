//! The node trace the checkers read. Its schema lives in the `sut` boundary
//! crate, so checkers never link this system's code; raftkv re-exports it here.
pub use sut::fnv64;
pub use sut::trace::*;
