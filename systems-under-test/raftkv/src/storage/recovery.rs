//! Boot: replay the WAL, repair a torn tail, pick the snapshot to load, and check
//! that what comes back is a log the protocol core can trust.
use super::error::gap;
use super::wal::{self, WalRecord};
use super::{snapfile, Disk, StorageError};
use crate::bugs::{Bug, Bugs};
use crate::probe::{hit, hit_if, Probe};
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
    /// Entry records written before the loaded snapshot's marker, and so
    /// replaced by that compaction (present only if a crash undid the removal of
    /// their segments).
    pub entries_before_marker: u64,
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

/// Applies entry records in WAL order. A later entry at index i supersedes
/// everything from i on: the node overwrote a conflicting suffix.
fn replay_entries<'a>(records: impl Iterator<Item = &'a WalRecord>) -> BTreeMap<Index, Entry> {
    let mut entries = BTreeMap::new();
    for record in records {
        if let WalRecord::Entry(entry) = record {
            let overwritten = entries.split_off(&entry.index);
            hit_if(!overwritten.is_empty(), Probe::WalReplayTruncatingAppend);
            entries.insert(entry.index, entry.clone());
        }
    }
    entries
}

pub(crate) fn recover<D: Disk>(
    disk: &mut D,
    bugs: Bugs,
) -> Result<(Recovered, WalPosition), StorageError> {
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

    let (records, tail) = if segments.is_empty() {
        create_first_segment(disk, &mut report)?;
        (Vec::new(), (0, 0))
    } else {
        read_wal(disk, &segments, &mut report, bugs)?
    };
    report.records_replayed = records.len() as u64;

    let hard_state = records
        .iter()
        .rev()
        .find_map(|r| match r {
            WalRecord::HardState(hs) => Some(*hs),
            _ => None,
        })
        .unwrap_or_default();
    // The log that goes with a snapshot is what was written after its marker:
    // compaction re-writes every entry it keeps right after the marker, so
    // entries before it are exactly what that compaction replaced (they are
    // still here only if their segments' removal had not become durable).
    let (snapshot, marker_pos) = if bugs.has(Bug::StateAndSnapshotNotAtomic) {
        newest_marker_newest_file(disk, &records, &snap_files)
    } else {
        choose_snapshot(disk, &records, &snap_files, bugs, &mut report)?
    };
    let (before, after) = records.split_at(marker_pos.map_or(0, |pos| pos + 1));
    report.entries_before_marker = before
        .iter()
        .filter(|r| matches!(r, WalRecord::Entry(_)))
        .count() as u64;
    hit_if(
        report.entries_before_marker > 0 && marker_pos.is_some(),
        Probe::WalEntriesBeforeMarker,
    );
    let entries: Vec<Entry> = replay_entries(after.iter()).into_values().collect();
    check_log(&entries, snapshot.as_ref().map(|s| &s.meta))?;

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
        hard_state,
        snapshot,
        entries,
        report,
    };
    Ok((recovered, position))
}

/// Reads all segments in order, cutting off a torn tail of the last one.
/// Returns the records and the (seq, valid length) of the last segment.
fn read_wal<D: Disk>(
    disk: &mut D,
    segments: &[(u64, &String)],
    report: &mut RecoveryReport,
    bugs: Bugs,
) -> Result<(Vec<WalRecord>, (u64, u64)), StorageError> {
    let mut records = Vec::new();
    let mut tail = (0, 0);
    for (i, (seq, file)) in segments.iter().enumerate() {
        let is_last = i + 1 == segments.len();
        let bytes = disk
            .read(file)
            .map_err(StorageError::io("read WAL", file))?;
        let scan = wal::scan_segment(&bytes);
        if let Some((offset, damage)) = &scan.damage {
            check_tail_damage(file, &bytes, *offset, damage, is_last, bugs)?;
            // Truncating destroys what is on disk: cut only a tail that a second
            // read shows again. A read that garbled a durable record (a fault of
            // the read, not of the disk) must not cost the record.
            let again = disk
                .read(file)
                .map_err(StorageError::io("read WAL again", file))?;
            // (Bug mutant: the naive repair trusts its one read.)
            if again != bytes && !bugs.has(Bug::CorruptionTakenForTornTail) {
                hit(Probe::WalCorruptRecord);
                return Err(StorageError::CorruptRecord {
                    file: file.to_string(),
                    offset: *offset,
                    problem: format!("{damage}, but a second read of the segment differs: a read fault, not a torn write"),
                });
            }
            // A torn write: the tail was never acknowledged as durable. Cut it off
            // (and make the cut durable) so appends continue from valid records.
            hit(Probe::WalTornTail);
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
        records.extend(scan.records);
        report.segments_read.push(file.to_string());
    }
    Ok((records, tail))
}

/// An empty disk: start the WAL durably, so that the next boot finds a WAL (and
/// the directory is known to work before anything is acknowledged).
fn create_first_segment<D: Disk>(
    disk: &mut D,
    report: &mut RecoveryReport,
) -> Result<(), StorageError> {
    let first = wal::segment_name(0);
    hit(Probe::WalCreatedFirstSegment);
    disk.create(&first, &[])
        .map_err(StorageError::io("create WAL", &first))?;
    disk.sync(&first)
        .map_err(StorageError::io("sync WAL", &first))?;
    disk.sync_dir()
        .map_err(StorageError::io("sync directory after creating", &first))?;
    report.created_segment = Some(first);
    Ok(())
}

fn remove_stale_tmp<D: Disk>(
    disk: &mut D,
    names: &[String],
    report: &mut RecoveryReport,
) -> Result<(), StorageError> {
    for name in names.iter().filter(|n| n.ends_with(".tmp")) {
        disk.remove(name)
            .map_err(StorageError::io("remove stale temp file", name))?;
        hit(Probe::WalStaleTmpRemoved);
        report.stale_tmp_removed.push(name.clone());
    }
    if !report.stale_tmp_removed.is_empty() {
        // Not needed for safety (a .tmp is never read), only so they stay gone.
        disk.sync_dir()
            .map_err(StorageError::io("sync directory after removing", "*.tmp"))?;
    }
    Ok(())
}

/// Damage is only forgivable as a torn tail: a record cut short at the end of the
/// last segment with nothing valid after it. Anything else could be acknowledged
/// state.
fn check_tail_damage(
    file: &str,
    bytes: &[u8],
    offset: u64,
    damage: &wal::Damage,
    is_last: bool,
    bugs: Bugs,
) -> Result<(), StorageError> {
    // A crash tears a write short (a cut header or payload); a record that is
    // all there but fails its checksum was corrupted after it was written, and
    // may have been acknowledged: never drop it silently.
    let whole = matches!(
        damage,
        wal::Damage::ChecksumMismatch { .. } | wal::Damage::Undecodable(_)
    );
    let problem = if !is_last {
        format!("{damage}, in a segment that is not the last")
    } else if whole {
        format!("{damage} in a complete record at the end of the log: corruption, not a torn write")
    } else if bugs.has(Bug::CorruptionTakenForTornTail) {
        // Bug mutant: whatever does not fit at the end is taken for a tear.
        return Ok(());
    } else if let wal::Damage::Implausible { .. } = damage {
        // No write ever made this header: its length field was damaged.
        format!("{damage}: a damaged header, not a torn write")
    } else if let Some(next) = wal::find_valid_record_after(bytes, offset as usize + 1) {
        format!("{damage}, and a valid record follows at offset {next}")
    } else {
        return Ok(());
    };
    hit(Probe::WalCorruptRecord);
    Err(StorageError::CorruptRecord {
        file: file.to_string(),
        offset,
        problem,
    })
}

/// Picks the newest marker whose snapshot file is present and intact (etcd
/// #10219/#12691: the file is written before its marker, so a marker is trusted
/// only together with a readable file). Returns the snapshot and the marker's
/// position in `records`.
fn choose_snapshot<D: Disk>(
    disk: &D,
    records: &[WalRecord],
    snap_files: &BTreeSet<&String>,
    bugs: Bugs,
    report: &mut RecoveryReport,
) -> Result<(Option<Snapshot>, Option<usize>), StorageError> {
    let markers: Vec<(usize, &SnapshotMeta)> = records
        .iter()
        .enumerate()
        .filter_map(|(pos, r)| match r {
            WalRecord::Snapshot(meta) => Some((pos, meta)),
            _ => None,
        })
        .collect();
    let marked: BTreeSet<String> = markers
        .iter()
        .map(|(_, m)| snapfile::snap_name(m.term, m.index))
        .collect();
    report.unmarked_snapshots_ignored = snap_files
        .iter()
        .filter(|f| !marked.contains(**f))
        .map(|f| f.to_string())
        .collect();
    hit_if(
        !report.unmarked_snapshots_ignored.is_empty(),
        Probe::WalUnmarkedSnapshotIgnored,
    );

    let mut tried = BTreeSet::new();
    for (pos, meta) in markers.into_iter().rev() {
        let file = snapfile::snap_name(meta.term, meta.index);
        if !tried.insert(file.clone()) {
            continue;
        }
        let reason = if !snap_files.contains(&file) {
            "snapshot file missing".to_string()
        } else {
            // (Bug mutant `restore-error-advances-index` takes its one read.)
            let loaded = if bugs.has(Bug::RestoreErrorAdvancesIndex) {
                snapfile::load(disk, meta)
            } else {
                load_marked(disk, meta, &file)
            };
            match loaded {
                Ok(snap) => {
                    report.snapshot_loaded = Some(file);
                    return Ok((Some(snap), Some(pos)));
                }
                // A read fault: not a reason to give up a durable snapshot.
                Err(e @ StorageError::CorruptRecord { .. }) => return Err(e),
                Err(_) if bugs.has(Bug::RestoreErrorAdvancesIndex) => {
                    // Bug mutant: the unreadable snapshot is still taken, with
                    // no data; the restore will fail and boot carry on anyway.
                    let meta = meta.clone();
                    return Ok((
                        Some(Snapshot {
                            meta,
                            data: Vec::new(),
                        }),
                        Some(pos),
                    ));
                }
                Err(e) => e.to_string(),
            }
        };
        hit(Probe::WalMarkerSkipped);
        report.markers_skipped.push(SkippedMarker {
            term: meta.term,
            index: meta.index,
            reason,
        });
    }
    Ok((None, None))
}

/// Loads the snapshot a WAL marker names. The marker is written only after
/// the file is durable, so a file that does not decode is damaged or was
/// misread: a second read tells which. One that decodes is taken (the first
/// read was garbled); one that differs from the first is a read fault, an
/// error (the node stops and boots again) rather than a reason to give up
/// the snapshot and every entry it holds (clean swarm seed 403082 booted
/// with commit 77 and an empty log); the same bytes twice are damage.
fn load_marked<D: Disk>(
    disk: &D,
    meta: &SnapshotMeta,
    file: &str,
) -> Result<Snapshot, StorageError> {
    let first = match snapfile::load(disk, meta) {
        Err(StorageError::BadSnapshot { problem, .. }) => problem,
        other => return other,
    };
    let bytes = |d: &D| {
        d.read(file)
            .map_err(StorageError::io("read snapshot again", file))
    };
    let (again, third) = (bytes(disk)?, bytes(disk)?);
    if again != third {
        return Err(StorageError::CorruptRecord {
            file: file.to_string(),
            offset: 0,
            problem: format!("{first}, and two more reads differ: a read fault, not damage"),
        });
    }
    match snapfile::decode(&again) {
        Ok(snap) if snap.meta == *meta => Ok(snap),
        _ => Err(StorageError::BadSnapshot {
            file: file.to_string(),
            problem: first,
        }),
    }
}

/// Bug mutant `state-and-snapshot-not-atomic`: the raft state (the newest
/// marker and the log after it) comes from the WAL and the state machine from
/// the newest intact snapshot file, whichever it is — two writes that a crash
/// can leave disagreeing, and nothing checks that they agree.
fn newest_marker_newest_file<D: Disk>(
    disk: &D,
    records: &[WalRecord],
    snap_files: &BTreeSet<&String>,
) -> (Option<Snapshot>, Option<usize>) {
    let Some((pos, meta)) = records
        .iter()
        .enumerate()
        .rev()
        .find_map(|(pos, r)| match r {
            WalRecord::Snapshot(meta) => Some((pos, meta.clone())),
            _ => None,
        })
    else {
        return (None, None);
    };
    let mut files: Vec<((Index, Term), &String)> = snap_files
        .iter()
        .filter_map(|f| snapfile::parse_snap_name(f).map(|(t, i)| ((i, t), *f)))
        .collect();
    files.sort();
    let data = files
        .iter()
        .rev()
        .find_map(|(_, f)| {
            let bytes = disk.read(f).ok()?;
            snapfile::decode(&bytes).ok()
        })
        .map(|s| s.data)
        .unwrap_or_default();
    (Some(Snapshot { meta, data }), Some(pos))
}

/// The log returned at boot must be contiguous, start at 1 or connect to the
/// snapshot, reach the snapshot's index, and agree with it there.
fn check_log(entries: &[Entry], snapshot: Option<&SnapshotMeta>) -> Result<(), StorageError> {
    let Some(first) = entries.first() else {
        return Ok(());
    };
    let (latest_start, what) = match snapshot {
        Some(meta) => (
            meta.index + 1,
            format!("log after snapshot {}/{}", meta.term, meta.index),
        ),
        None => (1, "log with no snapshot".to_string()),
    };
    if first.index > latest_start {
        return Err(gap(&what, latest_start - 1, first.index));
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
