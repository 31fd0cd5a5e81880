//! The boundary between the harness and a system under test, as plain data.
//!
//! A system reports what it did as [`trace::TraceRecord`]s and speaks the
//! operation vocabulary of [`ops`]; its clients speak [`client`] through the
//! system's [`client::ClientProtocol`]. Checkers read only these types: they never
//! link a system's code, so a bug in the system cannot leak into the reference
//! it is judged against. Nothing here has behaviour beyond naming and hashing.
pub mod client;
pub mod ops;
pub mod trace;

pub type NodeId = u64;
pub type Term = u64;
pub type Index = u64;

/// 64-bit FNV-1a: a fixed, seedless hash so digests are identical across runs.
pub fn fnv64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}
