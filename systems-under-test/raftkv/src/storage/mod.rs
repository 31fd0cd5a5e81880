//! Durable state: WAL segments and snapshot files over the [`Disk`] trait.
//!
//! # On-disk format (one flat directory)
//! - `wal-<seq:016x>.log`: WAL segments, replayed in `seq` order; sequence numbers
//!   are consecutive. Records are `[len: u32 LE][crc32(payload): u32 LE][payload]`
//!   with `payload = postcard(WalRecord)`; see [`WalRecord`].
//! - `<term:016x>-<index:016x>.snap`: `[crc32(body): u32 LE][body = postcard(Snapshot)]`.
//! - `*.tmp`: a write that had not been renamed into place yet; deleted at boot.
//!
//! # Boot
//! Segments are replayed in order; the last `HardState` wins. The snapshot loaded
//! is the one named by the newest `Snapshot` marker whose file is intact (older
//! markers are fallbacks; a file with no marker is ignored). The log returned is
//! what was written after that marker (all of the WAL if there is none), an
//! entry at index i replacing those from i on. It must be contiguous and connect
//! to the snapshot (or start at 1). A damaged tail of the last segment with no
//! valid record after it (a torn write) is cut off; any other damage is an error.
//!
//! # Durability ordering, in brief (each rule is spelled out where it is kept)
//! - A snapshot file is made durable (tmp → fsync → rename → fsync dir) before any
//!   WAL marker refers to it; boot trusts a marker only if its file is intact.
//! - A compaction segment becomes visible only whole (tmp → fsync → rename →
//!   fsync dir), and older segments and snapshot files are deleted only after.
//! - A segment is fully fsynced before records go to the next one.
//! - Records are handed to the disk in one write per `sync` (or segment cut), so
//!   a crash can tear only the end of the last segment, which boot cuts off.
//!
//! A failed disk operation poisons the [`Storage`]: the files may then differ
//! from what it believes, so it refuses further work until reopened (as after a
//! crash). A refused argument ([`StorageError::InvalidArgument`]) writes nothing
//! and does not poison.
mod disk;
mod error;
mod faulty_disk;
mod mem_disk;
mod recovery;
mod sim_disk;
mod snapfile;
mod wal;

#[cfg(test)]
mod sim_tests;
#[cfg(test)]
mod tests;

pub use disk::{DirDisk, Disk};
pub use error::StorageError;
pub use faulty_disk::{DiskFaults, FaultyDisk, SharedDiskFaults};
pub use mem_disk::{MemDisk, MemOp};
pub use recovery::{Recovered, RecoveryReport, SkippedMarker, TornTail};
pub use sim_disk::SimDisk;
pub use snapfile::snap_name;
pub use wal::{segment_name, WalRecord};

use crate::bugs::{Bug, Bugs};
use crate::probe::{hit, Probe};
use crate::raft::{Entry, HardState, Index, Snapshot, SnapshotMeta};

/// A segment is closed and a new one started once it grows past this.
pub const DEFAULT_SEGMENT_LIMIT: u64 = 256 * 1024;

/// The node's WAL and snapshot files.
pub struct Storage<D: Disk> {
    disk: D,
    /// The segment records are appended to.
    segment_seq: u64,
    /// Bytes already handed to the disk in that segment.
    segment_len: u64,
    /// Encoded records not yet handed to the disk (see `sync`).
    unwritten: Vec<u8>,
    /// Records were handed to the disk since the last fsync of the segment.
    written_unsynced: bool,
    /// A segment was created whose directory entry is not yet synced.
    dir_unsynced: bool,
    /// The last index in the log (or of the snapshot if the log is empty).
    last_index: Index,
    snapshot_index: Index,
    segment_limit: u64,
    /// Set by the first failed operation.
    poisoned: Option<String>,
    /// Bug mutants in storage (empty: the clean system).
    bugs: Bugs,
}

impl<D: Disk> Storage<D> {
    /// Replays the WAL, repairs a torn tail, loads the snapshot and returns what
    /// survived. On an empty disk, creates the first segment (durably).
    pub fn open(disk: D) -> Result<(Self, Recovered), StorageError> {
        Self::open_with_bugs(disk, Bugs::NONE)
    }

    /// [`open`](Self::open) with bug mutants switched on.
    pub fn open_with_bugs(mut disk: D, bugs: Bugs) -> Result<(Self, Recovered), StorageError> {
        let (recovered, position) = recovery::recover(&mut disk, bugs)?;
        let storage = Storage {
            disk,
            segment_seq: position.segment_seq,
            segment_len: position.segment_len,
            unwritten: Vec::new(),
            written_unsynced: false,
            dir_unsynced: false,
            last_index: position.last_index,
            snapshot_index: position.snapshot_index,
            segment_limit: DEFAULT_SEGMENT_LIMIT,
            poisoned: None,
            bugs,
        };
        Ok((storage, recovered))
    }

    /// Segments are closed once they exceed `bytes` (default
    /// [`DEFAULT_SEGMENT_LIMIT`]).
    pub fn set_segment_limit(&mut self, bytes: u64) {
        self.segment_limit = bytes;
    }

    /// Appends entries; an entry at index i replaces any entries from i on (a
    /// conflicting suffix). Not durable until [`sync`](Self::sync).
    ///
    /// The entries must be contiguous and must not leave a gap after the log.
    pub fn append(&mut self, entries: &[Entry]) -> Result<(), StorageError> {
        self.usable("append")?;
        let (Some(first), Some(last)) = (entries.first(), entries.last()) else {
            return Ok(());
        };
        if first.index == 0 || first.index > self.last_index + 1 {
            return Err(invalid(
                "append",
                format!(
                    "entry {} would leave a gap after last index {}",
                    first.index, self.last_index
                ),
            ));
        }
        check_contiguous("append", entries)?;
        self.poison_on_err(|s| {
            for entry in entries {
                wal::encode_record(&WalRecord::Entry(entry.clone()), &mut s.unwritten)?;
            }
            s.last_index = last.index;
            if s.segment_len + s.unwritten.len() as u64 > s.segment_limit {
                s.cut_segment()?;
            }
            Ok(())
        })
    }

    /// Records the hard state. Not durable until [`sync`](Self::sync).
    pub fn set_hard_state(&mut self, hs: HardState) -> Result<(), StorageError> {
        self.usable("set_hard_state")?;
        self.poison_on_err(|s| wal::encode_record(&WalRecord::HardState(hs), &mut s.unwritten))
    }

    /// Makes everything appended and set so far durable.
    /// Writes the buffered records to the WAL without an fsync: the window in
    /// which a crash tears the tail. [`sync`](Self::sync) completes it. (For crash
    /// testing; `sync` alone does both.)
    pub fn write_unsynced(&mut self) -> Result<(), StorageError> {
        self.usable("write")?;
        self.poison_on_err(|s| s.write_segment())
    }

    pub fn sync(&mut self) -> Result<(), StorageError> {
        self.usable("sync")?;
        self.poison_on_err(|s| {
            s.write_and_sync_segment()?;
            if s.dir_unsynced {
                // A segment created by a cut is reachable after a crash only
                // once its directory entry is durable.
                s.disk
                    .sync_dir()
                    .map_err(StorageError::io("sync directory", &s.segment()))?;
                s.dir_unsynced = false;
            }
            Ok(())
        })
    }

    /// Writes the snapshot file durably. Does not touch the WAL: until
    /// [`compact`](Self::compact) records it, boot ignores the file.
    pub fn save_snapshot(&mut self, snap: &Snapshot) -> Result<(), StorageError> {
        self.usable("save_snapshot")?;
        if self.bugs.has(Bug::NoFsyncSnapshot) {
            // Bug mutant: rename into place with no fsync of file or directory.
            return self.poison_on_err(|s| snapfile::save_unsynced(&mut s.disk, snap));
        }
        self.poison_on_err(|s| snapfile::save(&mut s.disk, snap))
    }

    /// Records that the snapshot for `meta` is durable and cuts the log: starts a
    /// new segment holding `[Snapshot(meta), HardState(hs), retained...]`, then
    /// deletes older segments and all but the previous older snapshot file.
    ///
    /// `save_snapshot` for `meta` must have succeeded first. `hs` is the node's
    /// current hard state and `retained` is the whole log from now on: trailing
    /// entries up to `meta.index` plus every entry after it that the node keeps.
    /// Entries not in `retained` are dropped (e.g. a conflicting suffix when a
    /// leader's snapshot is installed), and so is anything appended or set but
    /// not synced. `retained` must be contiguous and, if not empty, include
    /// `meta.index` (or start right after it).
    pub fn compact(
        &mut self,
        meta: &SnapshotMeta,
        hs: HardState,
        retained: &[Entry],
    ) -> Result<(), StorageError> {
        self.usable("compact")?;
        let names = self.check_compaction(meta, retained)?;
        self.poison_on_err(|s| s.write_compaction(meta, hs, retained, &names))
    }

    /// The underlying disk. Names of the forms `wal-*.log`, `*.snap` and `*.tmp`
    /// belong to storage (boot deletes every `*.tmp`); other files are ignored.
    pub fn disk(&mut self) -> &mut D {
        &mut self.disk
    }

    fn segment(&self) -> String {
        wal::segment_name(self.segment_seq)
    }

    fn usable(&self, op: &'static str) -> Result<(), StorageError> {
        match &self.poisoned {
            Some(cause) => Err(StorageError::Poisoned {
                op,
                cause: cause.clone(),
            }),
            None => Ok(()),
        }
    }

    fn poison_on_err<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, StorageError>,
    ) -> Result<T, StorageError> {
        let result = f(self);
        if let Err(e) = &result {
            self.poisoned = Some(e.to_string());
        }
        result
    }

    /// Hands the buffered records to the disk and fsyncs the current segment.
    ///
    /// Buffering until here means one write per sync, so a crash tears at most
    /// that write, leaving a damaged *tail* that boot can cut off. Several
    /// unsynced writes could each be torn independently (turmoil does this),
    /// leaving a hole before valid records, which boot must treat as corruption.
    fn write_and_sync_segment(&mut self) -> Result<(), StorageError> {
        self.write_segment()?;
        if !self.written_unsynced {
            return Ok(());
        }
        let segment = self.segment();
        self.disk
            .sync(&segment)
            .map_err(StorageError::io("sync WAL", &segment))?;
        self.written_unsynced = false;
        Ok(())
    }

    /// Hands the buffered records to the disk in one write, without an fsync.
    fn write_segment(&mut self) -> Result<(), StorageError> {
        if self.unwritten.is_empty() {
            return Ok(());
        }
        let segment = self.segment();
        self.disk
            .append(&segment, &self.unwritten)
            .map_err(StorageError::io("append to WAL", &segment))?;
        self.segment_len += self.unwritten.len() as u64;
        self.unwritten.clear();
        self.written_unsynced = true;
        Ok(())
    }

    /// Closes the current segment and starts the next one.
    fn cut_segment(&mut self) -> Result<(), StorageError> {
        // The closed segment must be wholly durable before any record can land in
        // the next one: a lost record followed by a durable one is a hole, and
        // boot treats damage in any segment but the last as corruption.
        self.write_and_sync_segment()?;
        hit(Probe::WalSegmentCut);
        let next = wal::segment_name(self.segment_seq + 1);
        self.disk
            .create(&next, &[])
            .map_err(StorageError::io("create WAL segment", &next))?;
        // Its directory entry is synced by the next `sync`, which is the first
        // point anything in it has to survive a crash.
        self.dir_unsynced = true;
        self.segment_seq += 1;
        self.segment_len = 0;
        Ok(())
    }

    /// Returns the files on disk before the compaction (listing is costly on the
    /// simulated disk, so `write_compaction` reuses them).
    fn check_compaction(
        &self,
        meta: &SnapshotMeta,
        retained: &[Entry],
    ) -> Result<Vec<String>, StorageError> {
        let problem = if meta.index < self.snapshot_index {
            Some(format!(
                "snapshot index {} is older than the current snapshot {}",
                meta.index, self.snapshot_index
            ))
        } else if let (Some(first), Some(last)) = (retained.first(), retained.last()) {
            check_contiguous("compact", retained)?;
            let at_snapshot = meta
                .index
                .checked_sub(first.index)
                .and_then(|offset| retained.get(offset as usize));
            if first.index > meta.index + 1 || last.index < meta.index {
                Some(format!(
                    "retained entries {}..={} do not reach snapshot index {}",
                    first.index, last.index, meta.index
                ))
            } else if at_snapshot.is_some_and(|e| e.term != meta.term) {
                Some(format!(
                    "retained entry {} has a different term than snapshot term {}",
                    meta.index, meta.term
                ))
            } else {
                None
            }
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(invalid("compact", problem));
        }
        let names = self.disk.list().map_err(StorageError::io("list", "."))?;
        // Bug mutants: the marker may name a file that is not written yet.
        let marker_may_lead_file = self.bugs.has(Bug::CompactBeforeSnapshotDurable)
            || self.bugs.has(Bug::StateAndSnapshotNotAtomic);
        let file = snap_name(meta.term, meta.index);
        if !marker_may_lead_file && !names.contains(&file) {
            return Err(invalid(
                "compact",
                format!("snapshot file {file} does not exist; save_snapshot must come first"),
            ));
        }
        Ok(names)
    }

    fn write_compaction(
        &mut self,
        meta: &SnapshotMeta,
        hs: HardState,
        retained: &[Entry],
        names: &[String],
    ) -> Result<(), StorageError> {
        let mut records = Vec::new();
        // The marker may refer to the snapshot file only because save_snapshot
        // already made that file durable (and check_compaction saw it exists).
        wal::encode_record(&WalRecord::Snapshot(meta.clone()), &mut records)?;
        wal::encode_record(&WalRecord::HardState(hs), &mut records)?;
        for entry in retained {
            wal::encode_record(&WalRecord::Entry(entry.clone()), &mut records)?;
        }

        // The new segment must appear whole or not at all: boot takes the log
        // that follows the newest usable marker, so a copy holding the marker but
        // only some of the retained entries would come back as a log cut short.
        // Hence tmp → fsync → rename → fsync dir.
        let seq = self.segment_seq + 1;
        let name = wal::segment_name(seq);
        let tmp = format!("{name}.tmp");
        let d = &mut self.disk;
        d.create(&tmp, &records)
            .map_err(StorageError::io("write compaction segment", &tmp))?;
        d.sync(&tmp)
            .map_err(StorageError::io("sync compaction segment", &tmp))?;
        d.rename(&tmp, &name)
            .map_err(StorageError::io("rename compaction segment", &tmp))?;
        d.sync_dir()
            .map_err(StorageError::io("sync directory after creating", &name))?;

        // From here the new segment durably replaces the old ones.
        self.unwritten.clear();
        self.segment_seq = seq;
        self.segment_len = records.len() as u64;
        self.dir_unsynced = false;
        self.snapshot_index = meta.index;
        self.last_index = retained
            .last()
            .map_or(meta.index, |e| e.index.max(meta.index));

        // Only now delete what it replaces. Oldest segment first: if a crash makes
        // only some removals durable, the survivors are still a consecutive run
        // of segments, and boot ignores the entries in them as they precede the
        // new marker. `names` (listed before the new segment was written) holds
        // every older segment and snapshot file: nothing else was created since.
        for old in names
            .iter()
            .filter(|n| wal::parse_segment_name(n).is_some_and(|s| s < seq))
        {
            self.disk
                .remove(old)
                .map_err(StorageError::io("remove old WAL segment", old))?;
        }
        for old in stale_snapshots(names, meta) {
            self.disk
                .remove(old)
                .map_err(StorageError::io("remove old snapshot", old))?;
        }
        // Not needed for safety: removals lost in a crash only bring back files
        // that boot replays harmlessly or ignores.
        self.disk.sync_dir().map_err(StorageError::io(
            "sync directory after removing old files",
            ".",
        ))
    }
}

/// Snapshot files compaction to `meta` may delete: those older than `meta`,
/// except the newest of them (the newest two are kept). Never `meta`'s own file,
/// nor newer ones (saved for a compaction still to come).
fn stale_snapshots<'a>(names: &'a [String], meta: &SnapshotMeta) -> Vec<&'a String> {
    let mut older: Vec<((u64, u64), &String)> = names
        .iter()
        .filter_map(|n| snapfile::parse_snap_name(n).map(|(term, index)| ((index, term), n)))
        .filter(|((index, term), _)| (*index, *term) < (meta.index, meta.term))
        .collect();
    older.sort();
    older.pop();
    older.into_iter().map(|(_, n)| n).collect()
}

fn check_contiguous(op: &'static str, entries: &[Entry]) -> Result<(), StorageError> {
    match entries.windows(2).find(|w| w[1].index != w[0].index + 1) {
        Some(w) => Err(invalid(
            op,
            format!(
                "entries not contiguous: {} follows {}",
                w[1].index, w[0].index
            ),
        )),
        None => Ok(()),
    }
}

fn invalid(op: &'static str, problem: String) -> StorageError {
    StorageError::InvalidArgument { op, problem }
}
