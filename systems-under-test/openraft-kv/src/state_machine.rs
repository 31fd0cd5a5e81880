//! openraft's state machine (`RaftStateMachine`, storage v2): the session KV
//! in memory, its snapshots on the simulated disk.
//!
//! The applied state is not written per entry: a restart restores the last
//! durable snapshot and openraft re-applies the committed log after it (the
//! log store keeps `committed`). A snapshot file is written whole and durably
//! (tmp, fsync, rename, fsync dir) before openraft learns it exists, so the
//! log it covers is purged only once the snapshot survives a crash.
use crate::disk::{frame, read_frames, Dir};
use crate::kv::Kv;
use crate::log_store::LogStore;
use crate::trace::TraceSink;
use crate::types::{
    index_of, membership_of, term_of, Command, Entry, LogId, NodeId, SnapshotMeta, StorageError,
    TypeConfig,
};
use openraft::storage::{RaftSnapshotBuilder, RaftStateMachine, Snapshot};
use openraft::{BasicNode, EntryPayload, ErrorSubject, ErrorVerb, OptionalSend, StoredMembership};
use serde::{Deserialize, Serialize};
use std::io::{self, Cursor};
use std::sync::{Arc, Mutex, MutexGuard};
use sut::ops::Outcome;
use sut::trace::{ApplyKind, ConfSource, TraceEvent};

const SNAPSHOT_FILE: &str = "snapshot";

type Membership = StoredMembership<NodeId, BasicNode>;

/// The snapshot file's content (framed with a checksum on disk).
#[derive(Serialize, Deserialize)]
struct SnapshotFile {
    meta: SnapshotMeta,
    /// [`Kv::encode`]: also exactly the bytes openraft streams to followers.
    state: Vec<u8>,
}

#[derive(Clone)]
struct StoredSnapshot {
    meta: SnapshotMeta,
    state: Vec<u8>,
}

impl StoredSnapshot {
    fn to_snapshot(&self) -> Snapshot<TypeConfig> {
        Snapshot {
            meta: self.meta.clone(),
            snapshot: Box::new(Cursor::new(self.state.clone())),
        }
    }

    /// Makes the snapshot durable in `dir`, replacing the previous one.
    fn persist(&self, dir: &Dir) -> io::Result<()> {
        let file = SnapshotFile {
            meta: self.meta.clone(),
            state: self.state.clone(),
        };
        let mut bytes = Vec::new();
        frame(
            &postcard::to_stdvec(&file).expect("snapshots encode"),
            &mut bytes,
        );
        dir.write_durable(SNAPSHOT_FILE, &bytes)
    }
}

/// State shared by the machine, its snapshot builders and the read path.
struct Shared {
    kv: Kv,
    last_applied: Option<LogId>,
    membership: Membership,
    snapshot: Option<StoredSnapshot>,
    /// Snapshots built in this boot (makes snapshot ids unique).
    built: u64,
}

/// The state machine openraft owns. Cloning shares the state.
#[derive(Clone)]
pub struct StateMachine {
    shared: Arc<Mutex<Shared>>,
    dir: Dir,
    node: NodeId,
    boot: u64,
    trace: TraceSink,
    log: LogStore,
    /// The node that sent the last complete snapshot (set by the server).
    snapshot_from: Arc<Mutex<Option<NodeId>>>,
}

/// What boot restored from the snapshot file.
#[derive(Clone, Debug, Default)]
pub struct SmRecovery {
    pub snapshot_index: u64,
    pub snapshot_term: u64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn sm_err(verb: ErrorVerb, e: impl std::fmt::Display) -> StorageError {
    StorageError::from_io_error(
        ErrorSubject::StateMachine,
        verb,
        io::Error::other(e.to_string()),
    )
}

impl StateMachine {
    /// Restores the state from the snapshot file in `dir`, if there is one.
    /// `log` is only read (for the trace's view of the log around an install).
    pub fn open(
        dir: Dir,
        node: NodeId,
        boot: u64,
        trace: TraceSink,
        log: LogStore,
    ) -> Result<(StateMachine, SmRecovery), String> {
        let mut shared = Shared {
            kv: Kv::default(),
            last_applied: None,
            membership: Membership::default(),
            snapshot: None,
            built: 0,
        };
        let mut recovery = SmRecovery::default();
        if let Some(bytes) = dir.read(SNAPSHOT_FILE).map_err(|e| e.to_string())? {
            let frames = read_frames(&bytes)?;
            // Written by rename only: anything but one whole frame is damage.
            let [payload] = frames.payloads[..] else {
                return Err("snapshot file is not one whole record".into());
            };
            let file: SnapshotFile =
                postcard::from_bytes(payload).map_err(|e| format!("snapshot undecodable: {e}"))?;
            shared.kv = Kv::decode(&file.state).map_err(|e| format!("snapshot state: {e}"))?;
            shared.last_applied = file.meta.last_log_id;
            shared.membership = file.meta.last_membership.clone();
            recovery.snapshot_index = index_of(file.meta.last_log_id.as_ref());
            recovery.snapshot_term = term_of(file.meta.last_log_id.as_ref());
            let restored = TraceEvent::Restored {
                index: recovery.snapshot_index,
                term: recovery.snapshot_term,
                state_digest: shared.kv.digest(),
                applied: recovery.snapshot_index,
                on_boot: true,
                contents: shared.kv.contents().clone(),
            };
            trace.push(node, restored);
            let conf = TraceEvent::ConfChanged {
                index: index_of(file.meta.last_membership.log_id().as_ref()),
                conf: membership_of(&file.meta.last_membership),
                source: ConfSource::Boot,
            };
            trace.push(node, conf);
            shared.snapshot = Some(StoredSnapshot {
                meta: file.meta,
                state: file.state,
            });
        }
        log.snapshot_durable(shared.last_applied)
            .map_err(|e| e.to_string())?;
        let sm = StateMachine {
            shared: Arc::new(Mutex::new(shared)),
            dir,
            node,
            boot,
            trace,
            log,
            snapshot_from: Arc::default(),
        };
        Ok((sm, recovery))
    }

    /// The value of `key` in the applied state (the caller establishes that
    /// the state is recent enough, e.g. with `Raft::ensure_linearizable`).
    pub fn get(&self, key: &str) -> Option<String> {
        lock(&self.shared).kv.get(key).cloned()
    }

    pub fn last_applied(&self) -> Option<LogId> {
        lock(&self.shared).last_applied
    }

    /// Where the snapshot being received comes from (for the trace).
    pub fn set_snapshot_sender(&self, from: NodeId) {
        *lock(&self.snapshot_from) = Some(from);
    }

    fn apply_one(&self, shared: &mut Shared, entry: Entry) -> Outcome {
        let log_id = entry.log_id;
        shared.last_applied = Some(log_id);
        let (kind, outcome, digest, cmd, effective) = match entry.payload {
            EntryPayload::Blank => (ApplyKind::Noop, Outcome::Done, 0, None, true),
            EntryPayload::Normal(cmd) => {
                let applied = shared.kv.apply(&cmd);
                let digest = cmd.digest();
                (
                    ApplyKind::Command,
                    applied.outcome,
                    digest,
                    Some(cmd),
                    applied.effective,
                )
            }
            EntryPayload::Membership(m) => {
                shared.membership = Membership::new(Some(log_id), m);
                let changed = TraceEvent::ConfChanged {
                    index: log_id.index,
                    conf: membership_of(&shared.membership),
                    source: ConfSource::Applied,
                };
                self.trace.push(self.node, changed);
                (ApplyKind::ConfChange, Outcome::Done, 0, None, true)
            }
        };
        let (client, seq, op) = match cmd {
            Some(Command { client, seq, op }) => (Some(client), Some(seq), Some(op)),
            None => (None, None, None),
        };
        let event = TraceEvent::Apply {
            index: log_id.index,
            term: log_id.leader_id.term,
            kind,
            digest,
            client,
            seq,
            op,
            // openraft changes membership by joint consensus, not by the
            // single-server changes this field describes: see ConfChanged.
            conf_change: None,
            effective,
        };
        self.trace.push(self.node, event);
        outcome
    }
}

impl RaftStateMachine<TypeConfig> for StateMachine {
    type SnapshotBuilder = SnapshotBuilder;

    async fn applied_state(&mut self) -> Result<(Option<LogId>, Membership), StorageError> {
        let shared = lock(&self.shared);
        Ok((shared.last_applied, shared.membership.clone()))
    }

    async fn apply<I>(&mut self, entries: I) -> Result<Vec<Outcome>, StorageError>
    where
        I: IntoIterator<Item = Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let mut shared = lock(&self.shared);
        let outcomes = entries
            .into_iter()
            .map(|e| self.apply_one(&mut shared, e))
            .collect();
        Ok(outcomes)
    }

    /// A builder over a copy of the state as of now: openraft runs it in its
    /// own task while applies continue, so it must not read the live state.
    async fn get_snapshot_builder(&mut self) -> SnapshotBuilder {
        let mut shared = lock(&self.shared);
        shared.built += 1;
        let last = shared.last_applied;
        let id = format!(
            "{}-{}-n{}-b{}-{}",
            term_of(last.as_ref()),
            index_of(last.as_ref()),
            self.node,
            self.boot,
            shared.built
        );
        SnapshotBuilder {
            sm: self.clone(),
            meta: SnapshotMeta {
                last_log_id: last,
                last_membership: shared.membership.clone(),
                snapshot_id: id,
            },
            kv: shared.kv.clone(),
        }
    }

    async fn begin_receiving_snapshot(&mut self) -> Result<Box<Cursor<Vec<u8>>>, StorageError> {
        Ok(Box::new(Cursor::new(Vec::new())))
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMeta,
        snapshot: Box<Cursor<Vec<u8>>>,
    ) -> Result<(), StorageError> {
        let state = snapshot.into_inner();
        let kv = Kv::decode(&state).map_err(|e| sm_err(ErrorVerb::Read, e))?;
        let stored = StoredSnapshot {
            meta: meta.clone(),
            state,
        };
        let index = index_of(meta.last_log_id.as_ref());
        let term = term_of(meta.last_log_id.as_ref());
        // The log as openraft left it before replacing its prefix.
        let (prior_last_index, prior_term_at_index) = self.log.view_at(index);
        let mut shared = lock(&self.shared);
        stored
            .persist(&self.dir)
            .map_err(|e| sm_err(ErrorVerb::Write, e))?;
        self.log
            .snapshot_durable(meta.last_log_id)
            .map_err(|e| sm_err(ErrorVerb::Write, e))?;
        let size = stored.state.len() as u64;
        shared.kv = kv;
        shared.last_applied = meta.last_log_id;
        shared.membership = meta.last_membership.clone();
        shared.snapshot = Some(stored);
        let from = lock(&self.snapshot_from).take().unwrap_or(0);
        // openraft keeps the entries after the snapshot when the log agrees
        // with it at its last index, and drops them all otherwise.
        let kept_suffix = match prior_term_at_index {
            Some(t) if t == term => prior_last_index.saturating_sub(index),
            _ => 0,
        };
        let events = [
            TraceEvent::SnapshotInstalled {
                from,
                index,
                term,
                size,
                kept_suffix,
                prior_last_index,
                prior_term_at_index,
            },
            TraceEvent::Restored {
                index,
                term,
                state_digest: shared.kv.digest(),
                applied: index,
                on_boot: false,
                contents: shared.kv.contents().clone(),
            },
            TraceEvent::ConfChanged {
                index: index_of(meta.last_membership.log_id().as_ref()),
                conf: membership_of(&meta.last_membership),
                source: ConfSource::Snapshot,
            },
        ];
        drop(shared);
        for e in events {
            self.trace.push(self.node, e);
        }
        Ok(())
    }

    async fn get_current_snapshot(&mut self) -> Result<Option<Snapshot<TypeConfig>>, StorageError> {
        let shared = lock(&self.shared);
        Ok(shared.snapshot.as_ref().map(StoredSnapshot::to_snapshot))
    }
}

/// Builds one snapshot from the copy taken by `get_snapshot_builder`.
pub struct SnapshotBuilder {
    sm: StateMachine,
    meta: SnapshotMeta,
    kv: Kv,
}

impl RaftSnapshotBuilder<TypeConfig> for SnapshotBuilder {
    async fn build_snapshot(&mut self) -> Result<Snapshot<TypeConfig>, StorageError> {
        let sm = &self.sm;
        let mut shared = lock(&sm.shared);
        // An install may have overtaken this build: never go back to an older
        // snapshot, hand out the newer one instead.
        if let Some(current) = &shared.snapshot {
            if current.meta.last_log_id >= self.meta.last_log_id {
                return Ok(current.to_snapshot());
            }
        }
        let stored = StoredSnapshot {
            meta: self.meta.clone(),
            state: self.kv.encode(),
        };
        stored
            .persist(&sm.dir)
            .map_err(|e| sm_err(ErrorVerb::Write, e))?;
        shared.snapshot = Some(stored.clone());
        drop(shared);
        sm.log
            .snapshot_durable(self.meta.last_log_id)
            .map_err(|e| sm_err(ErrorVerb::Write, e))?;
        let index = index_of(self.meta.last_log_id.as_ref());
        let term = term_of(self.meta.last_log_id.as_ref());
        let contents = self.kv.contents();
        let created = TraceEvent::SnapshotCreated {
            index,
            term,
            size: stored.state.len() as u64,
            state_digest: self.kv.digest(),
            keys: contents.data.len() as u64,
            sessions: contents.sessions.len() as u64,
            contents: contents.clone(),
        };
        sm.trace.push(sm.node, created);
        sm.trace
            .push(sm.node, TraceEvent::SnapshotPersisted { index, term });
        Ok(stored.to_snapshot())
    }
}
