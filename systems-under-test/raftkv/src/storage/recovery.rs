//! Boot: replay the WAL, repair a torn tail, pick the snapshot to load, and check
//! that what comes back is a log the protocol core can trust.
use super::error::gap;
use super::wal::{self, WalRecord};
use super::{snapfile, Disk, StorageError};
use crate::raft::{Entry, HardState, Index, Snapshot, SnapshotMeta, Term};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// The durable state found at boot.
#[derive(Clone, Debug)]
pub struct Recovered {
    pub hard_state: HardState,
    pub snapshot: Option<Snapshot>,
    /// Contiguous. May start at or below the snapshot's index (trailing entries
    /// kept for slow followers); if a snapshot is loaded, it connects to it.
    pub entries: Vec<Entry>,
    pub report: RecoveryReport,
}

/// What boot found and did, for the node trace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RecoveryReport {
    /// WAL segments replayed, in order.
    pub segments_read: Vec<String>,
    pub records_replayed: u64,
    /// The damaged end of the last segment that was cut off, if any.
    pub torn_tail: Option<TornTail>,
    /// The snapshot file loaded, if any.
    pub snapshot_loaded: Option<String>,
    /// WAL snapshot markers not used, newest first, and why.
    pub markers_skipped: Vec<SkippedMarker>,
    /// Snapshot files with no WAL marker (saved, but the crash came before
    /// `compact` recorded them); never loaded.
    pub unmarked_snapshots_ignored: Vec<String>,
    /// Leftovers of interrupted temp-file writes, deleted.
    pub stale_tmp_removed: Vec<String>,
    /// Set when the disk had no WAL and a first, empty segment was created.
    pub created_segment: Option<String>,
    /// Replayed entries older than the log's start after the chosen snapshot
    /// (left over from segments whose removal had not become durable).
    pub entries_below_log_start: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TornTail {
    pub file: String,
    pub offset: u64,
    pub bytes_truncated: u64,
    pub reason: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SkippedMarker {
    pub term: Term,
    pub index: Index,
    pub reason: String,
}

/// Where appending continues after boot.
#[derive(Debug)]
pub(crate) struct WalPosition {
    pub segment_seq: u64,
    pub segment_len: u64,
    pub last_index: Index,
    pub snapshot_index: Index,
}

/// A snapshot marker seen during replay.
struct Marker {
    meta: SnapshotMeta,
    /// The lowest entry index written after this marker: where the log that goes
    /// with this snapshot starts (compaction re-writes the entries it retains
    /// right after the marker).
    lowest_entry_after: Option<Index>,
}

#[derive(Default)]
struct Replay {
    entries: BTreeMap<Index, Entry>,
    hard_state: HardState,
    markers: Vec<Marker>,
}

impl Replay {
    fn apply(&mut self, record: WalRecord) {
        match record {
            WalRecord::Entry(entry) => {
                // A later entry at index i supersedes everything from i on: the
                // node overwrote a conflicting suffix.
                drop(self.entries.split_off(&entry.index));
                for marker in &mut self.markers {
                    let low = marker.lowest_entry_after.get_or_insert(entry.index);
                    *low = (*low).min(entry.index);
                }
                self.entries.insert(entry.index, entry);
            }
            WalRecord::HardState(hs) => self.hard_state = hs,
            WalRecord::Snapshot(meta) => self.markers.push(Marker {
                meta,
                lowest_entry_after: None,
            }),
        }
    }
}

pub(crate) fn recover<D: Disk>(disk: &mut D) -> Result<(Recovered, WalPosition), StorageError> {
    let mut report = RecoveryReport::default();
    let names = disk.list().map_err(StorageError::io("list", "."))?;

    remove_stale_tmp(disk, &names, &mut report)?;
    let mut segments: Vec<(u64, &String)> = names
        .iter()
        .filter_map(|n| wal::parse_segment_name(n).map(|seq| (seq, n)))
        .collect();
    segments.sort();
    let snap_files: BTreeSet<&String> = names
        .iter()
        .filter(|n| snapfile::parse_snap_name(n).is_some())
        .collect();
    for pair in segments.windows(2) {
        if pair[1].0 != pair[0].0 + 1 {
            return Err(StorageError::MissingSegment {
                expected: wal::segment_name(pair[0].0 + 1),
                found: pair[1].1.clone(),
            });
        }
    }

    let mut replay = Replay::default();
    let mut records_replayed = 0;
    let mut tail = (0, 0); // (seq, valid length) of the last segment
    for (i, (seq, file)) in segments.iter().enumerate() {
        let is_last = i + 1 == segments.len();
        let bytes = disk
            .read(file)
            .map_err(StorageError::io("read WAL", file))?;
        let scan = wal::scan_segment(&bytes);
        if let Some((offset, damage)) = &scan.damage {
            check_tail_damage(file, &bytes, *offset, damage, is_last)?;
            // A torn write: the tail was never acknowledged as durable. Cut it off
            // (and make the cut durable) so appends continue from valid records.
            disk.truncate(file, *offset)
                .map_err(StorageError::io("truncate torn WAL tail", file))?;
            disk.sync(file)
                .map_err(StorageError::io("sync truncated WAL", file))?;
            report.torn_tail = Some(TornTail {
                file: file.to_string(),
                offset: *offset,
                bytes_truncated: bytes.len() as u64 - offset,
                reason: damage.to_string(),
            });
        }
        tail = (*seq, scan.valid_len(bytes.len()));
        records_replayed += scan.records.len() as u64;
        for record in scan.records {
            replay.apply(record);
        }
        report.segments_read.push(file.to_string());
    }
    report.records_replayed = records_replayed;

    if segments.is_empty() {
        // An empty disk: start the WAL, durably, so that the next boot sees a WAL
        // (and so that the directory itself is known to work).
        let first = wal::segment_name(0);
        disk.create(&first, &[])
            .map_err(StorageError::io("create WAL", &first))?;
        disk.sync(&first)
            .map_err(StorageError::io("sync WAL", &first))?;
        disk.sync_dir()
            .map_err(StorageError::io("sync directory after creating", &first))?;
        report.created_segment = Some(first);
    }

    let (snapshot, log_start) = choose_snapshot(disk, &replay.markers, &snap_files, &mut report);
    let entries = replay.entries.split_off(&log_start);
    report.entries_below_log_start = replay.entries.len() as u64;
    let entries: Vec<Entry> = entries.into_values().collect();
    check_log(&entries, log_start, snapshot.as_ref().map(|s| &s.meta))?;

    let snapshot_index = snapshot.as_ref().map_or(0, |s| s.meta.index);
    let position = WalPosition {
        segment_seq: tail.0,
        segment_len: tail.1,
        last_index: entries
            .last()
            .map_or(snapshot_index, |e| e.index.max(snapshot_index)),
        snapshot_index,
    };
    let recovered = Recovered {
        hard_state: replay.hard_state,
        snapshot,
        entries,
        report,
    };
    Ok((recovered, position))
}

fn remove_stale_tmp<D: Disk>(
    disk: &mut D,
    names: &[String],
    report: &mut RecoveryReport,
) -> Result<(), StorageError> {
    for name in names.iter().filter(|n| n.ends_with(".tmp")) {
        disk.remove(name)
            .map_err(StorageError::io("remove stale temp file", name))?;
        report.stale_tmp_removed.push(name.clone());
    }
    if !report.stale_tmp_removed.is_empty() {
        // Not needed for safety (a .tmp is never read), only so they stay gone.
        disk.sync_dir()
            .map_err(StorageError::io("sync directory after removing", "*.tmp"))?;
    }
    Ok(())
}

/// Damage is only forgivable as a torn tail: at the end of the last segment with
/// nothing valid after it. Anything else could be acknowledged state.
fn check_tail_damage(
    file: &str,
    bytes: &[u8],
    offset: u64,
    damage: &wal::Damage,
    is_last: bool,
) -> Result<(), StorageError> {
    let problem = if !is_last {
        format!("{damage}, in a segment that is not the last")
    } else if let Some(next) = wal::find_valid_record_after(bytes, offset as usize + 1) {
        format!("{damage}, and a valid record follows at offset {next}")
    } else {
        return Ok(());
    };
    Err(StorageError::CorruptRecord {
        file: file.to_string(),
        offset,
        problem,
    })
}

/// Picks the newest marker whose snapshot file is present and intact (etcd
/// #10219/#12691: the file is written before its marker, so a marker is trusted
/// only together with a readable file). Returns it and the index the log starts
/// at with it.
fn choose_snapshot<D: Disk>(
    disk: &D,
    markers: &[Marker],
    snap_files: &BTreeSet<&String>,
    report: &mut RecoveryReport,
) -> (Option<Snapshot>, Index) {
    let mut tried = BTreeSet::new();
    let mut chosen = None;
    for marker in markers.iter().rev() {
        let (term, index) = (marker.meta.term, marker.meta.index);
        let file = snapfile::snap_name(term, index);
        if !tried.insert(file.clone()) {
            continue;
        }
        let reason = if !snap_files.contains(&file) {
            "snapshot file missing".to_string()
        } else {
            match snapfile::load(disk, &marker.meta) {
                Ok(snap) => {
                    let start = marker
                        .lowest_entry_after
                        .map_or(index + 1, |low| low.min(index + 1));
                    report.snapshot_loaded = Some(file);
                    chosen = Some((snap, start));
                    break;
                }
                Err(e) => e.to_string(),
            }
        };
        report.markers_skipped.push(SkippedMarker {
            term,
            index,
            reason,
        });
    }
    let marked: BTreeSet<String> = markers
        .iter()
        .map(|m| snapfile::snap_name(m.meta.term, m.meta.index))
        .collect();
    report.unmarked_snapshots_ignored = snap_files
        .iter()
        .filter(|f| !marked.contains(**f))
        .map(|f| f.to_string())
        .collect();
    match chosen {
        Some((snap, start)) => (Some(snap), start),
        None => (None, 1),
    }
}

/// The log returned at boot must be contiguous from `log_start`, reach the
/// snapshot if there is one, and agree with it.
fn check_log(
    entries: &[Entry],
    log_start: Index,
    snapshot: Option<&SnapshotMeta>,
) -> Result<(), StorageError> {
    let Some(first) = entries.first() else {
        return Ok(());
    };
    if first.index != log_start {
        let what = match snapshot {
            Some(meta) => format!("log after snapshot {}/{}", meta.term, meta.index),
            None => "log with no snapshot".to_string(),
        };
        return Err(gap(&what, log_start - 1, first.index));
    }
    for pair in entries.windows(2) {
        if pair[1].index != pair[0].index + 1 {
            return Err(gap("log", pair[0].index, pair[1].index));
        }
    }
    if let Some(meta) = snapshot {
        let last = entries.last().expect("non-empty").index;
        if last < meta.index {
            return Err(StorageError::InconsistentLog {
                problem: format!(
                    "entries {}..={last} stop short of snapshot index {}",
                    first.index, meta.index
                ),
            });
        }
        if let Some(at_snapshot) = meta
            .index
            .checked_sub(first.index)
            .map(|offset| &entries[offset as usize])
        {
            if at_snapshot.term != meta.term {
                return Err(StorageError::InconsistentLog {
                    problem: format!(
                        "entry {} has term {}, snapshot says term {}",
                        meta.index, at_snapshot.term, meta.term
                    ),
                });
            }
        }
    }
    Ok(())
}
