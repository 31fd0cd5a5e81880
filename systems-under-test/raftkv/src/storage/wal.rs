//! WAL segment files: naming, record framing and scanning.
//!
//! A segment `wal-<seq as 16 hex digits>.log` is a sequence of records
//! `[len: u32 LE][crc32(payload): u32 LE][payload = postcard(WalRecord)]`
//! with no file header, so an empty file is a valid empty segment.
use super::StorageError;
use crate::raft::{Entry, HardState, SnapshotMeta};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum WalRecord {
    Entry(Entry),
    HardState(HardState),
    /// Marker: the snapshot file for `(term, index)` is durable and the log may be
    /// read from it.
    Snapshot(SnapshotMeta),
}

pub const HEADER_LEN: usize = 8;

/// No record the WAL writes is longer (client values fit a datagram). A
/// length field past this was damaged, not torn: a torn write leaves a real
/// record's header whose payload is cut short.
pub const MAX_RECORD_LEN: usize = 1 << 20;

pub fn segment_name(seq: u64) -> String {
    format!("wal-{seq:016x}.log")
}

/// The sequence number of a segment file name; `None` for any other name.
pub fn parse_segment_name(name: &str) -> Option<u64> {
    let hex = name.strip_prefix("wal-")?.strip_suffix(".log")?;
    parse_hex16(hex)
}

/// Exactly 16 lowercase hex digits (what we write), nothing looser.
pub fn parse_hex16(hex: &str) -> Option<u64> {
    let ok = hex.len() == 16 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    ok.then(|| u64::from_str_radix(hex, 16).ok()).flatten()
}

/// Appends one framed record to `out`.
pub fn encode_record(record: &WalRecord, out: &mut Vec<u8>) -> Result<(), StorageError> {
    let payload = postcard::to_stdvec(record).map_err(|e| StorageError::Encode {
        what: "WAL record",
        problem: e.to_string(),
    })?;
    if payload.len() > MAX_RECORD_LEN {
        return Err(StorageError::Encode {
            what: "WAL record",
            problem: format!(
                "{} bytes are more than a record may hold ({MAX_RECORD_LEN})",
                payload.len()
            ),
        });
    }
    let len = payload.len() as u32;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    out.extend_from_slice(&payload);
    Ok(())
}

/// Why the record at some offset could not be read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Damage {
    /// Fewer than [`HEADER_LEN`] bytes left.
    ShortHeader {
        available: usize,
    },
    /// The length field is longer than any record the WAL writes.
    Implausible {
        len: u32,
    },
    /// The length field points past the end of the file.
    PastEnd {
        len: u32,
        available: usize,
    },
    ChecksumMismatch {
        stored: u32,
        computed: u32,
    },
    Undecodable(String),
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Damage::ShortHeader { available } => {
                write!(
                    f,
                    "record header cut short ({available} of {HEADER_LEN} bytes)"
                )
            }
            Damage::Implausible { len } => write!(
                f,
                "record length {len} is more than any record holds ({MAX_RECORD_LEN})"
            ),
            Damage::PastEnd { len, available } => write!(
                f,
                "record length {len} runs past end of file ({available} payload bytes present)"
            ),
            Damage::ChecksumMismatch { stored, computed } => write!(
                f,
                "checksum mismatch (stored {stored:#010x}, computed {computed:#010x})"
            ),
            Damage::Undecodable(e) => write!(f, "checksum ok but payload undecodable: {e}"),
        }
    }
}

/// The result of reading one segment front to back.
#[derive(Debug)]
pub struct SegmentScan {
    pub records: Vec<WalRecord>,
    /// Where the first damaged record starts, and what is wrong with it. Records
    /// after it are not read.
    pub damage: Option<(u64, Damage)>,
}

impl SegmentScan {
    /// The length of the undamaged prefix.
    pub fn valid_len(&self, file_len: usize) -> u64 {
        self.damage
            .as_ref()
            .map_or(file_len as u64, |(off, _)| *off)
    }
}

pub fn scan_segment(bytes: &[u8]) -> SegmentScan {
    let mut records = Vec::new();
    let mut offset = 0;
    while offset < bytes.len() {
        match read_record(&bytes[offset..]) {
            Ok((record, size)) => {
                records.push(record);
                offset += size;
            }
            Err(damage) => {
                return SegmentScan {
                    records,
                    damage: Some((offset as u64, damage)),
                }
            }
        }
    }
    SegmentScan {
        records,
        damage: None,
    }
}

/// Decodes the record at the start of `bytes`, returning it and its framed size.
fn read_record(bytes: &[u8]) -> Result<(WalRecord, usize), Damage> {
    if bytes.len() < HEADER_LEN {
        return Err(Damage::ShortHeader {
            available: bytes.len(),
        });
    }
    let len = u32::from_le_bytes(bytes[0..4].try_into().expect("4 bytes"));
    let stored = u32::from_le_bytes(bytes[4..8].try_into().expect("4 bytes"));
    let available = bytes.len() - HEADER_LEN;
    if len as usize > MAX_RECORD_LEN {
        return Err(Damage::Implausible { len });
    }
    if len as usize > available {
        return Err(Damage::PastEnd { len, available });
    }
    let payload = &bytes[HEADER_LEN..HEADER_LEN + len as usize];
    let computed = crc32fast::hash(payload);
    if computed != stored {
        return Err(Damage::ChecksumMismatch { stored, computed });
    }
    match postcard::take_from_bytes::<WalRecord>(payload) {
        Ok((record, [])) => Ok((record, HEADER_LEN + len as usize)),
        Ok((_, rest)) => Err(Damage::Undecodable(format!(
            "{} trailing bytes after the record",
            rest.len()
        ))),
        Err(e) => Err(Damage::Undecodable(e.to_string())),
    }
}

/// The offset of the first position after `from` where a whole valid record
/// (plausible length, matching checksum, decodable) starts, if any.
///
/// This is what separates a torn tail from mid-log corruption: a torn write only
/// ever leaves garbage at the very end, so if anything valid follows the damage,
/// the damage is not a tear and must not be truncated away.
pub fn find_valid_record_after(bytes: &[u8], from: usize) -> Option<usize> {
    (from..bytes.len().saturating_sub(HEADER_LEN)).find(|&pos| {
        let len = u32::from_le_bytes(bytes[pos..pos + 4].try_into().expect("4 bytes")) as usize;
        // A zero length is never a real record (and zero-filled space would
        // otherwise "match" the checksum of the empty payload).
        len > 0 && len <= bytes.len() - pos - HEADER_LEN && read_record(&bytes[pos..]).is_ok()
    })
}
