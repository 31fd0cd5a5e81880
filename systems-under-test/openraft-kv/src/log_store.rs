//! openraft's log storage (`RaftLogStorage`, storage v2) as one append-only
//! file of checksummed records on the simulated disk.
//!
//! Every record is fsynced before the call that wrote it returns, and `append`
//! reports the entries flushed (`LogFlushed::log_io_completed`) only after
//! that fsync: a crash loses exactly what was never acknowledged. Boot replays
//! the file in order; a torn final record is cut off, damage with valid
//! records after it is refused. When the file outgrows `compact_bytes` at a
//! purge it is rewritten whole (tmp, fsync, rename, fsync dir).
use crate::disk::{frame, read_frames, AppendFile, Dir};
use crate::trace::TraceSink;
use crate::types::{Entry, LogId, NodeId, StorageError, TypeConfig, Vote};
use openraft::storage::{LogFlushed, LogState, RaftLogReader, RaftLogStorage};
use openraft::{ErrorSubject, ErrorVerb, OptionalSend, RaftLogId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Debug;
use std::io;
use std::ops::RangeBounds;
use std::sync::{Arc, Mutex, MutexGuard};
use sut::trace::TraceEvent;

const LOG_FILE: &str = "raft-log";

#[derive(Debug, Serialize, Deserialize)]
enum Record {
    Vote(Vote),
    Committed(Option<LogId>),
    /// One `append` call's entries, consecutive.
    Entries(Vec<Entry>),
    /// Entries from this index on were removed (a conflicting suffix).
    Truncate(u64),
    /// Entries up to and including this id were removed (covered by a snapshot).
    Purge(LogId),
}

/// What the log file says, replayed.
#[derive(Debug, Default)]
struct LogData {
    vote: Option<Vote>,
    committed: Option<LogId>,
    last_purged: Option<LogId>,
    entries: BTreeMap<u64, Entry>,
}

impl LogData {
    fn apply(&mut self, record: Record) {
        match record {
            Record::Vote(v) => self.vote = Some(v),
            Record::Committed(c) => self.committed = c,
            Record::Entries(es) => {
                for e in es {
                    // An entry at i replaces what was there from i on.
                    let i = e.get_log_id().index;
                    self.entries.split_off(&i);
                    self.entries.insert(i, e);
                }
            }
            Record::Truncate(since) => {
                self.entries.split_off(&since);
            }
            Record::Purge(upto) => {
                self.entries = self.entries.split_off(&(upto.index + 1));
                self.last_purged = Some(upto);
            }
        }
    }

    fn last_log_id(&self) -> Option<LogId> {
        let last = self.entries.values().next_back();
        last.map(|e| *e.get_log_id()).or(self.last_purged)
    }

    /// The file's whole content, were it rewritten from this state.
    fn encode_all(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let mut put = |r: &Record| frame(&encode(r), &mut out);
        if let Some(v) = &self.vote {
            put(&Record::Vote(*v));
        }
        if let Some(p) = &self.last_purged {
            put(&Record::Purge(*p));
        }
        if !self.entries.is_empty() {
            put(&Record::Entries(self.entries.values().cloned().collect()));
        }
        put(&Record::Committed(self.committed));
        out
    }
}

fn encode(record: &Record) -> Vec<u8> {
    postcard::to_stdvec(record).expect("log records always encode")
}

struct Inner {
    data: LogData,
    dir: Dir,
    /// `None` only while the file is being rewritten (or after that failed).
    file: Option<AppendFile>,
    compact_bytes: u64,
    /// Set by the first failed disk operation: the file may then differ from
    /// `data`, so nothing more is written until a reboot replays it.
    poisoned: Option<String>,
    /// The last log id covered by a durable snapshot (see [`LogStore::purge`]).
    durable_snapshot: Option<LogId>,
    /// A purge done in memory but not yet on disk: no durable snapshot covered it.
    unrecorded_purge: Option<LogId>,
    /// The log just before the last purge: (purged up to, last index, term at
    /// the purge point). openraft purges before a snapshot install reaches the
    /// state machine, whose trace event reports the log it replaced.
    before_purge: Option<(u64, u64, Option<u64>)>,
}

impl Inner {
    fn write(&mut self, record: &Record) -> io::Result<()> {
        if let Some(why) = &self.poisoned {
            return Err(io::Error::other(format!("log store poisoned: {why}")));
        }
        let mut bytes = Vec::new();
        frame(&encode(record), &mut bytes);
        let res = match self.file.as_mut() {
            Some(f) => f.append_synced(&bytes),
            None => Err(io::Error::other("log file not open")),
        };
        if let Err(e) = &res {
            self.poisoned = Some(e.to_string());
        }
        res
    }

    /// Writes the purge to disk once a durable snapshot covers it, and then
    /// rewrites the file if it has grown past `compact_bytes`.
    fn record_purge(&mut self) -> io::Result<Option<TraceEvent>> {
        let Some(upto) = self.unrecorded_purge else {
            return Ok(None);
        };
        if self.durable_snapshot < Some(upto) {
            return Ok(None);
        }
        self.write(&Record::Purge(upto))?;
        self.unrecorded_purge = None;
        self.maybe_compact()?;
        Ok(Some(TraceEvent::Compacted {
            snapshot_index: upto.index,
            first_index: self
                .data
                .entries
                .keys()
                .next()
                .copied()
                .unwrap_or(upto.index + 1),
            last_index: self.data.last_log_id().map_or(0, |l| l.index),
        }))
    }

    /// Rewrites the file from `data` if it has grown past `compact_bytes`.
    /// Only called with no unrecorded purge: `data` is then what the file says.
    fn maybe_compact(&mut self) -> io::Result<()> {
        if self
            .file
            .as_ref()
            .is_none_or(|f| f.len() <= self.compact_bytes)
        {
            return Ok(());
        }
        // Close the handle before renaming over its path.
        self.file = None;
        let res = self
            .dir
            .write_durable(LOG_FILE, &self.data.encode_all())
            .and_then(|()| self.dir.open_append(LOG_FILE));
        match res {
            Ok(f) => {
                self.file = Some(f);
                Ok(())
            }
            Err(e) => {
                self.poisoned = Some(e.to_string());
                Err(e)
            }
        }
    }
}

/// What boot found in the log file.
#[derive(Clone, Debug, Default)]
pub struct LogRecovery {
    pub vote: Option<Vote>,
    pub committed: Option<LogId>,
    pub first_index: u64,
    pub last_index: u64,
    /// Bytes of a torn final record cut off.
    pub torn_tail_bytes: u64,
}

/// The log store openraft owns; [`LogReader`]s share its entries.
#[derive(Clone)]
pub struct LogStore {
    inner: Arc<Mutex<Inner>>,
    node: NodeId,
    trace: TraceSink,
}

impl LogStore {
    /// Replays (or creates) the log file in `dir`.
    pub fn open(
        dir: Dir,
        node: NodeId,
        trace: TraceSink,
        compact_bytes: u64,
    ) -> Result<(LogStore, LogRecovery), String> {
        let bytes = dir.read(LOG_FILE).map_err(|e| e.to_string())?;
        let bytes = bytes.unwrap_or_default();
        let frames = read_frames(&bytes)?;
        let mut data = LogData::default();
        for payload in &frames.payloads {
            let record: Record = postcard::from_bytes(payload)
                .map_err(|e| format!("log record with a valid checksum does not decode: {e}"))?;
            data.apply(record);
        }
        let torn_tail_bytes = bytes.len() as u64 - frames.valid_len;
        if torn_tail_bytes > 0 {
            dir.truncate(LOG_FILE, frames.valid_len)
                .map_err(|e| e.to_string())?;
        }
        let file = dir.open_append(LOG_FILE).map_err(|e| e.to_string())?;
        let recovery = LogRecovery {
            vote: data.vote,
            committed: data.committed,
            first_index: data.entries.keys().next().copied().unwrap_or(0),
            last_index: data.last_log_id().map_or(0, |l| l.index),
            torn_tail_bytes,
        };
        let inner = Inner {
            data,
            dir,
            file: Some(file),
            compact_bytes,
            poisoned: None,
            durable_snapshot: None,
            unrecorded_purge: None,
            before_purge: None,
        };
        let store = LogStore {
            inner: Arc::new(Mutex::new(inner)),
            node,
            trace,
        };
        Ok((store, recovery))
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The log's last index and the term of its entry at `index`, as they were
    /// before a purge up to `index` if that was the last purge.
    pub fn view_at(&self, index: u64) -> (u64, Option<u64>) {
        let inner = self.lock();
        match inner.before_purge {
            Some((upto, last, term)) if upto == index => (last, term),
            _ => {
                let last = inner.data.last_log_id().map_or(0, |l| l.index);
                let entry = inner.data.entries.get(&index);
                (last, entry.map(|e| e.get_log_id().leader_id.term))
            }
        }
    }

    /// The state machine made a snapshot up to `last` durable: a purge it
    /// covers may now be written to disk.
    pub fn snapshot_durable(&self, last: Option<LogId>) -> io::Result<()> {
        let mut inner = self.lock();
        inner.durable_snapshot = inner.durable_snapshot.max(last);
        let event = inner.record_purge()?;
        drop(inner);
        if let Some(e) = event {
            self.trace.push(self.node, e);
        }
        Ok(())
    }

    /// The last log id (of an entry, or of the purged prefix).
    pub fn last_log_id(&self) -> Option<LogId> {
        self.lock().data.last_log_id()
    }
}

fn write_err(e: io::Error) -> StorageError {
    StorageError::from_io_error(ErrorSubject::Logs, ErrorVerb::Write, e)
}

fn read_entries<RB: RangeBounds<u64>>(inner: &Mutex<Inner>, range: RB) -> Vec<Entry> {
    let inner = inner.lock().unwrap_or_else(|e| e.into_inner());
    inner
        .data
        .entries
        .range(range)
        .map(|(_, e)| e.clone())
        .collect()
}

impl RaftLogReader<TypeConfig> for LogStore {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        Ok(read_entries(&self.inner, range))
    }
}

/// A read-only view of the log for openraft's replication tasks.
pub struct LogReader {
    inner: Arc<Mutex<Inner>>,
}

impl RaftLogReader<TypeConfig> for LogReader {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<Entry>, StorageError> {
        Ok(read_entries(&self.inner, range))
    }
}

impl RaftLogStorage<TypeConfig> for LogStore {
    type LogReader = LogReader;

    async fn get_log_state(&mut self) -> Result<LogState<TypeConfig>, StorageError> {
        let inner = self.lock();
        Ok(LogState {
            last_purged_log_id: inner.data.last_purged,
            last_log_id: inner.data.last_log_id(),
        })
    }

    async fn get_log_reader(&mut self) -> LogReader {
        LogReader {
            inner: self.inner.clone(),
        }
    }

    async fn save_vote(&mut self, vote: &Vote) -> Result<(), StorageError> {
        let mut inner = self.lock();
        inner
            .write(&Record::Vote(*vote))
            .map_err(|e| StorageError::from_io_error(ErrorSubject::Vote, ErrorVerb::Write, e))?;
        inner.data.vote = Some(*vote);
        Ok(())
    }

    async fn read_vote(&mut self) -> Result<Option<Vote>, StorageError> {
        Ok(self.lock().data.vote)
    }

    /// Saved (and fsynced) so a restarted node re-applies its committed log
    /// from disk before hearing from a leader. Emits `Commit`.
    async fn save_committed(&mut self, committed: Option<LogId>) -> Result<(), StorageError> {
        let mut inner = self.lock();
        if committed <= inner.data.committed {
            return Ok(());
        }
        inner
            .write(&Record::Committed(committed))
            .map_err(write_err)?;
        inner.data.committed = committed;
        drop(inner);
        if let Some(c) = committed {
            let event = TraceEvent::Commit {
                index: c.index,
                term: c.leader_id.term,
            };
            self.trace.push(self.node, event);
        }
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogId>, StorageError> {
        Ok(self.lock().data.committed)
    }

    async fn append<I>(
        &mut self,
        entries: I,
        callback: LogFlushed<TypeConfig>,
    ) -> Result<(), StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<Entry> = entries.into_iter().collect();
        let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
            callback.log_io_completed(Ok(()));
            return Ok(());
        };
        let (first, last) = (first.get_log_id().index, *last.get_log_id());
        let mut inner = self.lock();
        let record = Record::Entries(entries);
        if let Err(e) = inner.write(&record) {
            // Report the failure both ways: the callback unblocks openraft's
            // flush wait, the error stops the core.
            callback.log_io_completed(Err(io::Error::new(e.kind(), e.to_string())));
            return Err(write_err(e));
        }
        inner.data.apply(record);
        drop(inner);
        // Durable now: only from here may openraft count these entries.
        let event = TraceEvent::Persisted {
            first,
            last: last.index,
            last_term: last.leader_id.term,
        };
        self.trace.push(self.node, event);
        callback.log_io_completed(Ok(()));
        Ok(())
    }

    async fn truncate(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let mut inner = self.lock();
        let record = Record::Truncate(log_id.index);
        inner.write(&record).map_err(write_err)?;
        inner.data.apply(record);
        Ok(())
    }

    /// Drops the entries up to `log_id` from memory at once, but records the
    /// purge on disk only when a durable snapshot covers it. openraft 0.9.25
    /// purges a follower's log right after *queueing* a received snapshot for
    /// the state machine, before the snapshot is installed and durable: a crash
    /// in between would otherwise leave a purged log and no snapshot for it.
    async fn purge(&mut self, log_id: LogId) -> Result<(), StorageError> {
        let mut inner = self.lock();
        if let Some(why) = &inner.poisoned {
            let e = io::Error::other(format!("log store poisoned: {why}"));
            return Err(write_err(e));
        }
        let last = inner.data.last_log_id().map_or(0, |l| l.index);
        let term = inner
            .data
            .entries
            .get(&log_id.index)
            .map(|e| e.get_log_id().leader_id.term);
        inner.before_purge = Some((log_id.index, last, term));
        inner.data.apply(Record::Purge(log_id));
        inner.unrecorded_purge = Some(log_id);
        let event = inner.record_purge().map_err(write_err)?;
        drop(inner);
        if let Some(e) = event {
            self.trace.push(self.node, e);
        }
        Ok(())
    }
}
