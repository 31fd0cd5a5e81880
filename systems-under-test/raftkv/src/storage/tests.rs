//! Storage tests on [`MemDisk`] (crash modelling) and [`DirDisk`] (a real directory).
use super::wal::{self, WalRecord};
use super::*;
use crate::raft::{ConfState, Payload, Term};

fn entry(term: Term, index: Index) -> Entry {
    Entry {
        term,
        index,
        payload: Payload::Command(format!("set k{index}").into_bytes()),
    }
}

fn entries(term: Term, indexes: std::ops::RangeInclusive<Index>) -> Vec<Entry> {
    indexes.map(|i| entry(term, i)).collect()
}

fn hs(term: Term, commit: Index) -> HardState {
    HardState {
        term,
        vote: Some(1),
        commit,
    }
}

fn meta(term: Term, index: Index) -> SnapshotMeta {
    SnapshotMeta {
        index,
        term,
        conf: ConfState::new([1, 2, 3]),
    }
}

fn snap(term: Term, index: Index) -> Snapshot {
    Snapshot {
        meta: meta(term, index),
        data: format!("state machine at {index}").into_bytes(),
    }
}

fn open(disk: &MemDisk) -> (Storage<MemDisk>, Recovered) {
    Storage::open(disk.clone()).unwrap_or_else(|e| panic!("open failed: {e}"))
}

fn open_err(disk: &MemDisk) -> StorageError {
    match Storage::open(disk.clone()) {
        Ok((_, rec)) => panic!("open should fail, recovered {:?}", rec.report),
        Err(e) => e,
    }
}

fn framed_len(record: WalRecord) -> usize {
    let mut buf = Vec::new();
    wal::encode_record(&record, &mut buf).unwrap();
    buf.len()
}

fn segments(disk: &MemDisk) -> Vec<String> {
    let names = disk.list().unwrap();
    names
        .into_iter()
        .filter(|n| n.starts_with("wal-"))
        .collect()
}

fn snap_files(disk: &MemDisk) -> Vec<String> {
    let names = disk.list().unwrap();
    names.into_iter().filter(|n| n.ends_with(".snap")).collect()
}

/// A log of entries 1..=50 (term 1) with the hard state committed to 50.
fn synced_log(disk: &MemDisk) -> Storage<MemDisk> {
    let (mut st, _) = open(disk);
    st.append(&entries(1, 1..=50)).unwrap();
    st.set_hard_state(hs(1, 50)).unwrap();
    st.sync().unwrap();
    st
}

/// `synced_log`, compacted to a snapshot at 20 keeping entries 16..=50.
fn compacted_at_20(disk: &MemDisk) -> Storage<MemDisk> {
    let mut st = synced_log(disk);
    st.save_snapshot(&snap(1, 20)).unwrap();
    st.compact(&meta(1, 20), hs(1, 50), &entries(1, 16..=50))
        .unwrap();
    st
}

#[test]
fn empty_disk_gets_a_durable_first_segment() {
    let disk = MemDisk::new();
    let (_, rec) = open(&disk);
    assert_eq!(
        rec.report.created_segment.as_deref(),
        Some("wal-0000000000000000.log")
    );
    assert_eq!(rec.hard_state, HardState::default());
    assert!(rec.entries.is_empty() && rec.snapshot.is_none());
    disk.crash();
    let (_, rec) = open(&disk);
    assert_eq!(
        rec.report.created_segment, None,
        "first segment lost in crash"
    );
    assert_eq!(rec.report.segments_read, vec![segment_name(0)]);
}

#[test]
fn round_trip_after_sync() {
    let disk = MemDisk::new();
    let (mut st, _) = open(&disk);
    st.append(&entries(1, 1..=5)).unwrap();
    st.set_hard_state(hs(1, 3)).unwrap();
    st.append(&entries(2, 6..=7)).unwrap();
    st.set_hard_state(hs(2, 6)).unwrap();
    st.sync().unwrap();
    drop(st);

    let (_, rec) = open(&disk);
    let mut expected = entries(1, 1..=5);
    expected.extend(entries(2, 6..=7));
    assert_eq!(rec.entries, expected);
    assert_eq!(rec.hard_state, hs(2, 6));
    assert!(rec.snapshot.is_none());
    assert_eq!(rec.report.records_replayed, 9);
    assert_eq!(rec.report.torn_tail, None);
}

#[test]
fn unsynced_writes_are_lost_in_a_crash_synced_ones_survive() {
    let disk = MemDisk::new();
    let (mut st, _) = open(&disk);
    st.append(&entries(1, 1..=3)).unwrap();
    st.set_hard_state(hs(1, 2)).unwrap();
    st.sync().unwrap();
    st.append(&entries(1, 4..=5)).unwrap();
    st.set_hard_state(hs(2, 5)).unwrap();
    disk.crash();

    let (_, rec) = open(&disk);
    assert_eq!(rec.entries, entries(1, 1..=3));
    assert_eq!(rec.hard_state, hs(1, 2));
}

#[test]
fn torn_tail_is_truncated_and_reported_then_appending_continues() {
    let disk = MemDisk::new();
    let (mut st, _) = open(&disk);
    st.append(&entries(1, 1..=3)).unwrap();
    st.sync().unwrap();
    let synced_len = disk.file_len(&segment_name(0)).unwrap();
    // The next batch is written, but the crash comes during its fsync and only a
    // prefix of the write reaches the disk: record 4 whole, 10 bytes of record 5.
    st.append(&entries(1, 4..=6)).unwrap();
    disk.fail_next(MemOp::Sync);
    assert!(st.sync().is_err());
    let rec4 = framed_len(WalRecord::Entry(entry(1, 4)));
    disk.crash_torn(&segment_name(0), rec4 + 10);

    let (mut st, rec) = open(&disk);
    assert_eq!(rec.entries, entries(1, 1..=4));
    let torn = rec.report.torn_tail.expect("torn tail reported");
    assert_eq!(torn.file, segment_name(0));
    assert_eq!(torn.offset, (synced_len + rec4) as u64);
    assert_eq!(torn.bytes_truncated, 10);
    assert!(torn.reason.contains("past end of file"), "{}", torn.reason);
    assert_eq!(disk.file_len(&segment_name(0)), Some(synced_len + rec4));

    st.append(&entries(2, 5..=6)).unwrap();
    st.sync().unwrap();
    disk.crash();
    let (_, rec) = open(&disk);
    let mut expected = entries(1, 1..=4);
    expected.extend(entries(2, 5..=6));
    assert_eq!(rec.entries, expected);
    assert_eq!(rec.report.torn_tail, None);
}

#[test]
fn torn_header_is_truncated() {
    let disk = MemDisk::new();
    let (mut st, _) = open(&disk);
    st.append(&entries(1, 1..=2)).unwrap();
    st.sync().unwrap();
    st.append(&entries(1, 3..=3)).unwrap();
    disk.fail_next(MemOp::Sync);
    assert!(st.sync().is_err());
    disk.crash_torn(&segment_name(0), 5);

    let (_, rec) = open(&disk);
    assert_eq!(rec.entries, entries(1, 1..=2));
    let torn = rec.report.torn_tail.expect("torn tail reported");
    assert!(torn.reason.contains("header cut short"), "{}", torn.reason);
}

#[test]
fn corrupt_complete_last_record_is_a_loud_error_not_a_torn_tail() {
    let disk = MemDisk::new();
    let (mut st, _) = open(&disk);
    st.append(&entries(1, 1..=3)).unwrap();
    st.sync().unwrap();
    let len = disk.file_len(&segment_name(0)).unwrap();
    // Record 3 is all there, but a bit flipped after it was synced: it may have
    // been acknowledged, so boot must not cut it off as if it were torn.
    disk.corrupt_byte(&segment_name(0), len - 1);

    match open_err(&disk) {
        StorageError::CorruptRecord { file, problem, .. } => {
            assert_eq!(file, segment_name(0));
            assert!(problem.contains("not a torn write"), "{problem}");
        }
        other => panic!("expected CorruptRecord, got {other}"),
    }
}

#[test]
fn corrupt_record_in_the_middle_is_a_loud_error() {
    let disk = MemDisk::new();
    let (mut st, _) = open(&disk);
    st.append(&entries(1, 1..=5)).unwrap();
    st.sync().unwrap();
    let rec_len = framed_len(WalRecord::Entry(entry(1, 1)));
    // A byte in the payload of record 2.
    disk.corrupt_byte(&segment_name(0), rec_len + wal::HEADER_LEN + 2);

    let err = open_err(&disk);
    match &err {
        StorageError::CorruptRecord { file, offset, .. } => {
            assert_eq!(file, &segment_name(0));
            assert_eq!(*offset, rec_len as u64);
        }
        other => panic!("expected CorruptRecord, got {other}"),
    }
    let msg = err.to_string();
    assert!(
        msg.contains(&segment_name(0)) && msg.contains(&format!("offset {rec_len}")),
        "{msg}"
    );
    // Boot must not have "repaired" anything.
    assert_eq!(disk.file_len(&segment_name(0)), Some(5 * rec_len));
}

#[test]
fn corrupt_length_in_the_middle_is_not_mistaken_for_a_torn_tail() {
    let disk = MemDisk::new();
    let (mut st, _) = open(&disk);
    st.append(&entries(1, 1..=5)).unwrap();
    st.sync().unwrap();
    let rec_len = framed_len(WalRecord::Entry(entry(1, 1)));
    // The second byte of record 3's length: it now runs past end of file
    // (and stays short enough that a torn write could have left it).
    disk.corrupt_byte(&segment_name(0), 2 * rec_len + 1);

    match open_err(&disk) {
        StorageError::CorruptRecord {
            offset, problem, ..
        } => {
            assert_eq!(offset, 2 * rec_len as u64);
            assert!(problem.contains("valid record follows"), "{problem}");
        }
        other => panic!("expected CorruptRecord, got {other}"),
    }
}

#[test]
fn an_implausible_length_in_the_last_record_is_damage_not_a_torn_tail() {
    let disk = MemDisk::new();
    let (mut st, _) = open(&disk);
    st.append(&entries(1, 1..=3)).unwrap();
    st.sync().unwrap();
    let rec_len = framed_len(WalRecord::Entry(entry(1, 1)));
    // The high byte of the last record's length: longer than any record is,
    // so no torn write left it, and nothing valid follows to say so.
    disk.corrupt_byte(&segment_name(0), 2 * rec_len + 3);

    match open_err(&disk) {
        StorageError::CorruptRecord {
            offset, problem, ..
        } => {
            assert_eq!(offset, 2 * rec_len as u64);
            assert!(problem.contains("a damaged header"), "{problem}");
        }
        other => panic!("expected CorruptRecord, got {other}"),
    }
    assert_eq!(disk.file_len(&segment_name(0)), Some(3 * rec_len));
}

#[test]
fn damage_in_a_segment_that_is_not_the_last_is_a_loud_error() {
    let disk = MemDisk::new();
    let (mut st, _) = open(&disk);
    st.set_segment_limit(200);
    for i in 1..=30 {
        st.append(&[entry(1, i)]).unwrap();
        st.sync().unwrap();
    }
    let segs = segments(&disk);
    assert!(segs.len() >= 3, "{segs:?}");
    let first_len = disk.file_len(&segs[0]).unwrap();
    disk.corrupt_byte(&segs[0], first_len - 1);

    match open_err(&disk) {
        StorageError::CorruptRecord { file, problem, .. } => {
            assert_eq!(file, segs[0]);
            assert!(problem.contains("not the last"), "{problem}");
        }
        other => panic!("expected CorruptRecord, got {other}"),
    }
}

#[test]
fn a_missing_middle_segment_is_a_loud_error() {
    let disk = MemDisk::new();
    let (mut st, _) = open(&disk);
    st.set_segment_limit(200);
    for i in 1..=30 {
        st.append(&[entry(1, i)]).unwrap();
        st.sync().unwrap();
    }
    let segs = segments(&disk);
    let mut d = disk.clone();
    d.remove(&segs[1]).unwrap();
    d.sync_dir().unwrap();
    match open_err(&disk) {
        StorageError::MissingSegment { expected, .. } => assert_eq!(expected, segs[1]),
        other => panic!("expected MissingSegment, got {other}"),
    }
}

#[test]
fn segments_rotate_and_replay_in_order() {
    let disk = MemDisk::new();
    let (mut st, _) = open(&disk);
    st.set_segment_limit(256);
    for batch in 0..20 {
        st.append(&entries(1, batch * 5 + 1..=batch * 5 + 5))
            .unwrap();
        st.set_hard_state(hs(1, batch * 5)).unwrap();
        st.sync().unwrap();
    }
    assert!(segments(&disk).len() > 5);
    disk.crash();
    let (_, rec) = open(&disk);
    assert_eq!(rec.entries, entries(1, 1..=100));
    assert_eq!(rec.hard_state, hs(1, 95));
    assert_eq!(rec.report.segments_read, segments(&disk));
}

#[test]
fn a_later_entry_overwrites_the_suffix_on_replay() {
    let disk = MemDisk::new();
    let (mut st, _) = open(&disk);
    st.set_segment_limit(300);
    st.append(&entries(1, 1..=5)).unwrap();
    st.sync().unwrap();
    st.append(&entries(2, 4..=6)).unwrap();
    st.sync().unwrap();
    st.append(&entries(3, 3..=3)).unwrap();
    st.sync().unwrap();
    st.append(&entries(3, 4..=4)).unwrap();
    st.sync().unwrap();

    let (_, rec) = open(&disk);
    let mut expected = entries(1, 1..=2);
    expected.extend(entries(3, 3..=4));
    assert_eq!(rec.entries, expected);
}

#[test]
fn append_that_would_leave_a_gap_is_refused_without_poisoning() {
    let disk = MemDisk::new();
    let (mut st, _) = open(&disk);
    st.append(&entries(1, 1..=3)).unwrap();
    let err = st.append(&entries(1, 5..=6)).unwrap_err();
    assert!(
        matches!(err, StorageError::InvalidArgument { op: "append", .. }),
        "{err}"
    );
    let err = st.append(&[entry(1, 4), entry(1, 6)]).unwrap_err();
    assert!(matches!(err, StorageError::InvalidArgument { .. }), "{err}");
    st.append(&entries(1, 4..=4)).unwrap();
    st.sync().unwrap();
    assert_eq!(open(&disk).1.entries, entries(1, 1..=4));
}

#[test]
fn a_failed_operation_poisons_the_handle() {
    let disk = MemDisk::new();
    let (mut st, _) = open(&disk);
    st.append(&entries(1, 1..=3)).unwrap();
    disk.fail_next(MemOp::Append);
    assert!(matches!(
        st.sync(),
        Err(StorageError::Io {
            op: "append to WAL",
            ..
        })
    ));
    assert!(matches!(
        st.sync(),
        Err(StorageError::Poisoned { op: "sync", .. })
    ));
    assert!(matches!(
        st.append(&entries(1, 4..=4)),
        Err(StorageError::Poisoned { .. })
    ));
}

#[test]
fn compaction_loads_snapshot_and_retained_entries_and_removes_old_files() {
    let disk = MemDisk::new();
    let (mut st, _) = open(&disk);
    st.set_segment_limit(512);
    st.append(&entries(1, 1..=50)).unwrap();
    st.set_hard_state(hs(1, 50)).unwrap();
    st.sync().unwrap();
    assert!(segments(&disk).len() > 1);
    st.save_snapshot(&snap(1, 20)).unwrap();
    st.compact(&meta(1, 20), hs(1, 50), &entries(1, 16..=50))
        .unwrap();
    assert_eq!(segments(&disk).len(), 1, "older segments removed");
    st.append(&entries(2, 51..=55)).unwrap();
    st.set_hard_state(hs(2, 53)).unwrap();
    st.sync().unwrap();
    disk.crash();

    let (mut st, rec) = open(&disk);
    assert_eq!(rec.snapshot, Some(snap(1, 20)));
    assert_eq!(rec.report.snapshot_loaded, Some(snap_name(1, 20)));
    let mut expected = entries(1, 16..=50);
    expected.extend(entries(2, 51..=55));
    assert_eq!(rec.entries, expected);
    assert_eq!(rec.hard_state, hs(2, 53));
    assert!(rec.report.markers_skipped.is_empty());

    // Two more compactions: only the newest two snapshot files stay.
    st.save_snapshot(&snap(2, 52)).unwrap();
    st.compact(&meta(2, 52), hs(2, 53), &entries(2, 51..=55))
        .unwrap();
    st.save_snapshot(&snap(2, 55)).unwrap();
    st.compact(&meta(2, 55), hs(2, 55), &[]).unwrap();
    assert_eq!(snap_files(&disk), vec![snap_name(2, 52), snap_name(2, 55)]);
    disk.crash();
    let (_, rec) = open(&disk);
    assert_eq!(rec.snapshot, Some(snap(2, 55)));
    assert!(rec.entries.is_empty());
    assert_eq!(rec.hard_state, hs(2, 55));
    assert_eq!(segments(&disk).len(), 1);
}

#[test]
fn snapshot_file_without_marker_is_ignored() {
    // Also: a crash after save_snapshot but before compact boots from the
    // previous snapshot and log, losing nothing.
    let disk = MemDisk::new();
    let mut st = compacted_at_20(&disk);
    st.save_snapshot(&snap(1, 40)).unwrap();
    disk.crash();

    let (_, rec) = open(&disk);
    assert_eq!(rec.snapshot, Some(snap(1, 20)));
    assert_eq!(rec.entries, entries(1, 16..=50));
    assert_eq!(
        rec.report.unmarked_snapshots_ignored,
        vec![snap_name(1, 40)]
    );

    // With no marker at all, the file is ignored entirely.
    let disk = MemDisk::new();
    let mut st = synced_log(&disk);
    st.save_snapshot(&snap(1, 10)).unwrap();
    let (_, rec) = open(&disk);
    assert_eq!(rec.snapshot, None);
    assert_eq!(rec.entries, entries(1, 1..=50));
    assert_eq!(
        rec.report.unmarked_snapshots_ignored,
        vec![snap_name(1, 10)]
    );
}

/// Compacts to 40 on top of `compacted_at_20`, crashing once the new segment is
/// durable but before the old segments' removal is: the WAL then holds both
/// markers.
fn compact_at_40_with_crash_before_removals(disk: &MemDisk) {
    let mut st = compacted_at_20(disk);
    st.save_snapshot(&snap(1, 40)).unwrap();
    disk.fail_next(MemOp::Remove);
    assert!(st
        .compact(&meta(1, 40), hs(1, 50), &entries(1, 36..=50))
        .is_err());
    disk.crash();
}

#[test]
fn crash_before_old_segments_are_removed_boots_from_the_new_marker() {
    let disk = MemDisk::new();
    compact_at_40_with_crash_before_removals(&disk);
    assert_eq!(segments(&disk).len(), 2);

    let (_, rec) = open(&disk);
    assert_eq!(rec.snapshot, Some(snap(1, 40)));
    assert_eq!(rec.entries, entries(1, 36..=50));
    assert_eq!(
        rec.report.entries_before_marker, 35,
        "entries 16..=50 of segment 1"
    );
}

#[test]
fn marker_with_missing_file_falls_back_to_the_older_one() {
    let disk = MemDisk::new();
    compact_at_40_with_crash_before_removals(&disk);
    let mut d = disk.clone();
    d.remove(&snap_name(1, 40)).unwrap();
    d.sync_dir().unwrap();

    let (_, rec) = open(&disk);
    assert_eq!(rec.snapshot, Some(snap(1, 20)));
    assert_eq!(rec.entries, entries(1, 16..=50));
    let skipped = &rec.report.markers_skipped;
    assert_eq!(skipped.len(), 1);
    assert_eq!((skipped[0].term, skipped[0].index), (1, 40));
    assert!(
        skipped[0].reason.contains("missing"),
        "{}",
        skipped[0].reason
    );
}

#[test]
fn marker_with_corrupt_file_falls_back_to_the_older_one() {
    let disk = MemDisk::new();
    compact_at_40_with_crash_before_removals(&disk);
    disk.corrupt_byte(&snap_name(1, 40), 10);

    let (_, rec) = open(&disk);
    assert_eq!(rec.snapshot, Some(snap(1, 20)));
    assert_eq!(rec.entries, entries(1, 16..=50));
    let skipped = &rec.report.markers_skipped;
    assert_eq!(skipped.len(), 1);
    assert!(
        skipped[0].reason.contains("checksum mismatch"),
        "{}",
        skipped[0].reason
    );
}

#[test]
fn corrupt_snapshot_with_no_older_marker_is_a_loud_error() {
    let disk = MemDisk::new();
    compacted_at_20(&disk);
    disk.corrupt_byte(&snap_name(1, 20), 10);
    // Without the snapshot, entries 16..=50 cannot be a log from index 1.
    match open_err(&disk) {
        StorageError::InconsistentLog { problem } => {
            assert!(problem.contains("no snapshot"), "{problem}")
        }
        other => panic!("expected InconsistentLog, got {other}"),
    }
}

#[test]
fn crash_in_the_middle_of_compact_boots_from_the_old_segments() {
    for (fail, what) in [
        (MemOp::Sync, "new segment not synced"),
        (MemOp::Rename, "new segment not renamed"),
        (MemOp::SyncDir, "rename not durable"),
    ] {
        let disk = MemDisk::new();
        let mut st = compacted_at_20(&disk);
        st.save_snapshot(&snap(1, 40)).unwrap();
        let before = segments(&disk);
        disk.fail_next(fail);
        assert!(st
            .compact(&meta(1, 40), hs(1, 50), &entries(1, 36..=50))
            .is_err());
        assert!(
            matches!(st.sync(), Err(StorageError::Poisoned { .. })),
            "{what}"
        );
        disk.crash();

        let (_, rec) = open(&disk);
        assert_eq!(segments(&disk), before, "{what}");
        assert_eq!(rec.snapshot, Some(snap(1, 20)), "{what}");
        assert_eq!(rec.entries, entries(1, 16..=50), "{what}");
        assert_eq!(rec.hard_state, hs(1, 50), "{what}");
        assert_eq!(
            rec.report.unmarked_snapshots_ignored,
            vec![snap_name(1, 40)]
        );
    }
}

#[test]
fn stale_tmp_files_are_removed_at_boot() {
    let disk = MemDisk::new();
    let mut st = compacted_at_20(&disk);
    st.save_snapshot(&snap(1, 40)).unwrap();
    disk.fail_next(MemOp::Rename);
    assert!(st
        .compact(&meta(1, 40), hs(1, 50), &entries(1, 36..=50))
        .is_err());
    let mut d = disk.clone();
    d.create("00-junk.snap.tmp", b"half a snapshot").unwrap();
    // A process restart without power loss: the temp files are still there.
    let (_, rec) = open(&disk);
    assert_eq!(
        rec.report.stale_tmp_removed,
        vec![
            "00-junk.snap.tmp".to_string(),
            format!("{}.tmp", segment_name(2))
        ]
    );
    assert!(disk.list().unwrap().iter().all(|n| !n.ends_with(".tmp")));
    assert_eq!(rec.snapshot, Some(snap(1, 20)));
}

#[test]
fn compact_refuses_bad_arguments_without_writing() {
    let disk = MemDisk::new();
    let mut st = synced_log(&disk);
    st.save_snapshot(&snap(1, 40)).unwrap();
    let err = st
        .compact(&meta(1, 30), hs(1, 50), &entries(1, 26..=50))
        .unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    let err = st
        .compact(&meta(1, 40), hs(1, 50), &entries(1, 42..=50))
        .unwrap_err();
    assert!(err.to_string().contains("do not reach"), "{err}");
    let err = st
        .compact(&meta(1, 40), hs(1, 50), &entries(2, 36..=50))
        .unwrap_err();
    assert!(err.to_string().contains("different term"), "{err}");
    // Refusals write nothing and do not poison.
    st.compact(&meta(1, 40), hs(1, 50), &entries(1, 36..=50))
        .unwrap();
    let (_, rec) = open(&disk);
    assert_eq!(rec.snapshot, Some(snap(1, 40)));
    assert_eq!(rec.entries, entries(1, 36..=50));
}

#[test]
fn compaction_supersedes_unsynced_appends() {
    let disk = MemDisk::new();
    let mut st = synced_log(&disk);
    st.append(&entries(2, 51..=52)).unwrap();
    st.set_hard_state(hs(2, 51)).unwrap();
    st.save_snapshot(&snap(1, 40)).unwrap();
    let mut retained = entries(1, 38..=50);
    retained.extend(entries(2, 51..=52));
    st.compact(&meta(1, 40), hs(2, 51), &retained).unwrap();
    disk.crash();
    let (_, rec) = open(&disk);
    assert_eq!(rec.entries, retained);
    assert_eq!(rec.hard_state, hs(2, 51));
}

#[test]
fn mem_disk_models_directory_and_file_durability() {
    let mut d = MemDisk::new();
    d.create("a", b"hello").unwrap();
    d.sync("a").unwrap();
    d.crash();
    assert!(d.list().unwrap().is_empty(), "a's name was never synced");

    d.create("b", b"data").unwrap();
    d.sync_dir().unwrap();
    d.crash();
    assert_eq!(d.read("b").unwrap(), b"", "b's content was never synced");

    d.create("b", b"data").unwrap();
    d.sync("b").unwrap();
    d.rename("b", "c").unwrap();
    d.crash();
    assert_eq!(
        d.list().unwrap(),
        vec!["b".to_string()],
        "rename never synced"
    );
    assert_eq!(d.read("b").unwrap(), b"data");

    d.append("b", b"abcdef").unwrap();
    d.crash_torn("b", 3);
    assert_eq!(d.read("b").unwrap(), b"dataabc");
    d.remove("b").unwrap();
    d.crash();
    assert!(d.read("b").is_ok(), "removal was never synced");
}

#[test]
fn wal_scan_finds_no_record_in_zeros() {
    let mut buf = Vec::new();
    wal::encode_record(&WalRecord::HardState(hs(3, 7)), &mut buf).unwrap();
    let scan = wal::scan_segment(&buf);
    assert_eq!(scan.records, vec![WalRecord::HardState(hs(3, 7))]);
    assert!(scan.damage.is_none());
    buf.extend_from_slice(&[0; 64]);
    let scan = wal::scan_segment(&buf);
    assert_eq!(scan.records.len(), 1);
    assert!(matches!(
        scan.damage,
        Some((_, wal::Damage::Undecodable(_)))
    ));
    assert_eq!(wal::find_valid_record_after(&buf, 1), None);
    assert_eq!(wal::parse_segment_name(&segment_name(0xabc)), Some(0xabc));
    assert_eq!(wal::parse_segment_name("wal-ABC.log"), None);
}

#[test]
fn dir_disk_round_trip_on_a_real_directory() {
    let base = std::env::temp_dir().join(format!("raftkv-storage-test-{}", std::process::id()));
    let root = base.join("node-1").join("gen-1");
    let result = std::panic::catch_unwind(|| {
        let (mut st, rec) = Storage::open(DirDisk::new(&root).unwrap()).unwrap();
        assert!(rec.report.created_segment.is_some());
        st.append(&entries(1, 1..=30)).unwrap();
        st.set_hard_state(hs(1, 30)).unwrap();
        st.sync().unwrap();
        st.save_snapshot(&snap(1, 25)).unwrap();
        st.compact(&meta(1, 25), hs(1, 30), &entries(1, 21..=30))
            .unwrap();
        st.append(&entries(1, 31..=32)).unwrap();
        st.sync().unwrap();
        drop(st);

        let (_, rec) = Storage::open(DirDisk::new(&root).unwrap()).unwrap();
        assert_eq!(rec.snapshot, Some(snap(1, 25)));
        assert_eq!(rec.entries, entries(1, 21..=32));
        assert_eq!(rec.hard_state, hs(1, 30));
        let names = DirDisk::new(&root).unwrap().list().unwrap();
        assert_eq!(names, vec![snap_name(1, 25), segment_name(1)]);
    });
    std::fs::remove_dir_all(&base).unwrap();
    if let Err(panic) = result {
        std::panic::resume_unwind(panic);
    }
}

#[test]
fn compaction_can_drop_a_conflicting_suffix_for_good() {
    // A follower with entries 1..=50 of term 1 installs a leader's snapshot at 40
    // of term 2: its whole log conflicts and is discarded.
    let disk = MemDisk::new();
    let mut st = synced_log(&disk);
    st.save_snapshot(&snap(2, 40)).unwrap();
    disk.fail_next(MemOp::Remove);
    assert!(st.compact(&meta(2, 40), hs(2, 40), &[]).is_err());
    disk.crash();
    // The old segment came back, but what it holds was replaced by the marker.
    assert_eq!(segments(&disk).len(), 2);
    let (mut st, rec) = open(&disk);
    assert_eq!(rec.snapshot, Some(snap(2, 40)));
    assert!(rec.entries.is_empty(), "{:?}", rec.entries);
    assert_eq!(rec.hard_state, hs(2, 40));
    assert_eq!(rec.report.entries_before_marker, 50);

    st.append(&entries(2, 41..=42)).unwrap();
    st.sync().unwrap();
    let (_, rec) = open(&disk);
    assert_eq!(rec.entries, entries(2, 41..=42));
}

#[test]
fn a_garbled_read_never_costs_a_synced_record() {
    use super::faulty_disk::{FaultyDisk, SharedDiskFaults};
    let disk = MemDisk::new();
    let (mut st, _) = open(&disk);
    st.append(&entries(1, 1..=3)).unwrap();
    st.sync().unwrap();
    let len = disk.file_len(&segment_name(0));
    let (mut halted, mut booted) = (0, 0);
    for seed in 0..300 {
        // Every read garbles a bit or a run of bytes somewhere (the file on
        // disk stays whole): boot must refuse, or read it all, never cut it.
        let faults = SharedDiskFaults::default();
        faults.borrow_mut().read_corruption = 1.0;
        match Storage::open(FaultyDisk::new(disk.clone(), faults, seed)) {
            Ok((_, rec)) => {
                booted += 1;
                assert_eq!(rec.entries, entries(1, 1..=3), "seed {seed}");
            }
            Err(_) => halted += 1,
        }
        assert_eq!(
            disk.file_len(&segment_name(0)),
            len,
            "seed {seed} cut the WAL"
        );
    }
    assert!(halted > 0, "the reads were garbled ({booted} boots)");
}

#[test]
fn a_garbled_read_of_a_marked_snapshot_never_costs_the_snapshot() {
    use super::faulty_disk::{FaultyDisk, SharedDiskFaults};
    // Everything is in the snapshot: the WAL keeps no entry after its marker.
    let disk = MemDisk::new();
    let mut st = synced_log(&disk);
    st.save_snapshot(&snap(1, 50)).unwrap();
    st.compact(&meta(1, 50), hs(1, 50), &[]).unwrap();
    drop(st);
    let (mut halted, mut booted) = (0, 0);
    for seed in 0..300 {
        // Some reads garble (the files on disk stay whole): boot must refuse,
        // or find the snapshot its WAL marker names, never boot without it
        // (clean swarm seed 403082 booted with commit 77 and an empty log).
        let faults = SharedDiskFaults::default();
        faults.borrow_mut().read_corruption = 0.3;
        match Storage::open(FaultyDisk::new(disk.clone(), faults, seed)) {
            Ok((_, rec)) => {
                booted += 1;
                assert_eq!(rec.snapshot, Some(snap(1, 50)), "seed {seed}");
                assert!(rec.report.markers_skipped.is_empty(), "seed {seed}");
            }
            Err(_) => halted += 1,
        }
    }
    assert!(
        halted > 0 && booted > 0,
        "{halted} refused, {booted} booted"
    );
}
