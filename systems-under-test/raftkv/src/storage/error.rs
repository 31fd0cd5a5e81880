//! Everything that can go wrong in storage, each variant naming what was being done
//! and where, so a failed boot in a trace says which file and byte to look at.
use crate::raft::Index;
use std::fmt;
use std::io;

#[derive(Debug)]
pub enum StorageError {
    /// The disk refused an operation.
    Io {
        op: &'static str,
        file: String,
        source: io::Error,
    },
    /// A damaged WAL record that is not a torn tail: valid records follow it, or it
    /// sits in a segment that is not the last one. Skipping it could silently drop
    /// acknowledged state, so boot stops here.
    CorruptRecord {
        file: String,
        offset: u64,
        problem: String,
    },
    /// WAL segment sequence numbers must be consecutive; one is missing.
    MissingSegment { expected: String, found: String },
    /// The recovered log has a hole, does not connect to the snapshot, or
    /// contradicts it.
    InconsistentLog { problem: String },
    /// A snapshot file that was asked for cannot be used.
    BadSnapshot { file: String, problem: String },
    /// postcard could not encode a value (a bug, not a disk problem).
    Encode { what: &'static str, problem: String },
    /// The caller broke an API precondition; nothing was written.
    InvalidArgument { op: &'static str, problem: String },
    /// An earlier operation failed part-way, so the files may not match what this
    /// handle believes; reopen the storage (as after a crash) to continue.
    Poisoned { op: &'static str, cause: String },
}

impl StorageError {
    /// An adapter for `map_err` on disk calls.
    pub(crate) fn io(op: &'static str, file: &str) -> impl FnOnce(io::Error) -> StorageError {
        let file = file.to_string();
        move |source| StorageError::Io { op, file, source }
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::Io { op, file, source } => {
                write!(f, "{op} {file:?}: I/O error: {source}")
            }
            StorageError::CorruptRecord {
                file,
                offset,
                problem,
            } => write!(
                f,
                "WAL {file:?} is corrupt at offset {offset} (not a torn tail): {problem}"
            ),
            StorageError::MissingSegment { expected, found } => write!(
                f,
                "WAL segment {expected:?} is missing (next present segment is {found:?})"
            ),
            StorageError::InconsistentLog { problem } => {
                write!(f, "recovered log is inconsistent: {problem}")
            }
            StorageError::BadSnapshot { file, problem } => {
                write!(f, "snapshot {file:?} unusable: {problem}")
            }
            StorageError::Encode { what, problem } => {
                write!(f, "encoding {what} failed: {problem}")
            }
            StorageError::InvalidArgument { op, problem } => {
                write!(f, "{op}: invalid argument: {problem}")
            }
            StorageError::Poisoned { op, cause } => write!(
                f,
                "{op}: storage unusable after an earlier failure ({cause}); reopen it"
            ),
        }
    }
}

impl std::error::Error for StorageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StorageError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Describes a contiguity violation between two consecutive indexes.
pub(crate) fn gap(what: &str, prev: Index, next: Index) -> StorageError {
    StorageError::InconsistentLog {
        problem: format!("{what}: gap, index {next} follows index {prev}"),
    }
}
