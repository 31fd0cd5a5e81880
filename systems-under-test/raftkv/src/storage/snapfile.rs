//! Snapshot files: `<term as 16 hex>-<index as 16 hex>.snap` holding
//! `[crc32(body): u32 LE][body = postcard(Snapshot)]`.
use super::wal::parse_hex16;
use super::{Disk, StorageError};
use crate::raft::{Index, Snapshot, SnapshotMeta, Term};

pub fn snap_name(term: Term, index: Index) -> String {
    format!("{term:016x}-{index:016x}.snap")
}

/// `(term, index)` of a snapshot file name; `None` for any other name.
pub fn parse_snap_name(name: &str) -> Option<(Term, Index)> {
    let stem = name.strip_suffix(".snap")?;
    let (term, index) = stem.split_once('-')?;
    Some((parse_hex16(term)?, parse_hex16(index)?))
}

pub fn encode(snap: &Snapshot) -> Result<Vec<u8>, StorageError> {
    let body = postcard::to_stdvec(snap).map_err(|e| StorageError::Encode {
        what: "snapshot",
        problem: e.to_string(),
    })?;
    let mut out = Vec::with_capacity(4 + body.len());
    out.extend_from_slice(&crc32fast::hash(&body).to_le_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Decodes a snapshot file's content; the error says what is wrong with it.
pub fn decode(bytes: &[u8]) -> Result<Snapshot, String> {
    if bytes.len() < 4 {
        return Err(format!("{} bytes, shorter than the checksum", bytes.len()));
    }
    let (crc, body) = bytes.split_at(4);
    let stored = u32::from_le_bytes(crc.try_into().expect("4 bytes"));
    let computed = crc32fast::hash(body);
    if stored != computed {
        return Err(format!(
            "checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
        ));
    }
    match postcard::take_from_bytes::<Snapshot>(body) {
        Ok((snap, [])) => Ok(snap),
        Ok((_, rest)) => Err(format!("{} trailing bytes after the snapshot", rest.len())),
        Err(e) => Err(format!("undecodable: {e}")),
    }
}

/// Loads the snapshot a WAL marker points to, checking that the file is intact
/// and really holds that snapshot.
pub fn load<D: Disk>(disk: &D, meta: &SnapshotMeta) -> Result<Snapshot, StorageError> {
    let file = snap_name(meta.term, meta.index);
    let bytes = disk
        .read(&file)
        .map_err(StorageError::io("read snapshot", &file))?;
    let snap = decode(&bytes).map_err(|problem| StorageError::BadSnapshot {
        file: file.clone(),
        problem,
    })?;
    if snap.meta != *meta {
        return Err(StorageError::BadSnapshot {
            file,
            problem: format!("holds {:?}, but the WAL marker says {:?}", snap.meta, meta),
        });
    }
    Ok(snap)
}

/// Writes a snapshot file durably; see the ordering notes inline.
pub fn save<D: Disk>(disk: &mut D, snap: &Snapshot) -> Result<(), StorageError> {
    let name = snap_name(snap.meta.term, snap.meta.index);
    let tmp = format!("{name}.tmp");
    let bytes = encode(snap)?;
    // 1. Write under a temporary name: a crash mid-write must never leave a
    //    half-written file under the real name (boot removes stale .tmp files).
    disk.create(&tmp, &bytes)
        .map_err(StorageError::io("write snapshot", &tmp))?;
    // 2. fsync the content before the rename, or the rename could become durable
    //    first and expose a file whose content is lost in a crash.
    disk.sync(&tmp)
        .map_err(StorageError::io("sync snapshot", &tmp))?;
    // 3. Atomic rename, then 4. fsync the directory so the new name is durable
    //    before the caller writes a WAL marker that refers to it.
    disk.rename(&tmp, &name)
        .map_err(StorageError::io("rename snapshot", &tmp))?;
    disk.sync_dir()
        .map_err(StorageError::io("sync directory after snapshot", &name))
}

/// Bug mutant `no-fsync-snapshot`: the same file and rename as [`save`], but
/// neither the content nor the directory entry is fsynced, so a crash can leave
/// the name with no content behind it.
pub fn save_unsynced<D: Disk>(disk: &mut D, snap: &Snapshot) -> Result<(), StorageError> {
    let name = snap_name(snap.meta.term, snap.meta.index);
    let tmp = format!("{name}.tmp");
    let bytes = encode(snap)?;
    disk.create(&tmp, &bytes)
        .map_err(StorageError::io("write snapshot", &tmp))?;
    disk.rename(&tmp, &name)
        .map_err(StorageError::io("rename snapshot", &tmp))
}
