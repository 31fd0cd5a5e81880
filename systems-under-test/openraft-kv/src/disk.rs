//! A node's directory on turmoil's simulated disk, with the fsync discipline
//! the stores rely on, and the checksummed record framing they write.
//!
//! Durability (POSIX, as turmoil models it): file contents are durable only
//! after `sync_all`; a creation, rename or removal only after the directory is
//! synced. A crash (`Sim::crash`) drops everything else. No API wipes a disk,
//! so callers pass a root (the harness counts generations in it).
use std::io::{self, ErrorKind, Write};
use std::path::{Path, PathBuf};
use turmoil::fs::shim::std::fs::{self as simfs, File, OpenOptions};

/// A flat directory of files on the current host's simulated disk.
#[derive(Clone, Debug)]
pub struct Dir {
    root: PathBuf,
}

impl Dir {
    /// Opens `root` (absolute, e.g. `/data/n1/gen-0`), creating it durably.
    pub fn open(root: impl Into<PathBuf>) -> io::Result<Dir> {
        let root = root.into();
        simfs::create_dir_all(&root)?;
        // A directory's own entry lives in its parent: sync every level, every
        // time, so a root half-created before a crash is never trusted.
        for dir in root.ancestors().filter(|p| !p.as_os_str().is_empty()) {
            simfs::sync_dir(dir)?;
        }
        Ok(Dir { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The whole file, or `None` if it does not exist.
    pub fn read(&self, name: &str) -> io::Result<Option<Vec<u8>>> {
        match simfs::read(self.path(name)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Replaces `name` with `bytes` atomically and durably: write a temporary
    /// file, fsync it, rename it over `name`, fsync the directory. A crash at
    /// any point leaves either the old file or the new one, whole.
    pub fn write_durable(&self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let tmp = format!("{name}.tmp");
        let mut file = File::create(self.path(&tmp))?;
        file.write_all(bytes)?;
        file.sync_all()?;
        drop(file);
        simfs::rename(self.path(&tmp), self.path(name))?;
        simfs::sync_dir(&self.root)
    }

    /// Opens `name` for appending, creating it durably (file and directory
    /// entry) if missing.
    pub fn open_append(&self, name: &str) -> io::Result<AppendFile> {
        let path = self.path(name);
        let existed = simfs::exists(&path);
        let file = OpenOptions::new().create(true).append(true).open(&path)?;
        if !existed {
            file.sync_all()?;
            simfs::sync_dir(&self.root)?;
        }
        let len = simfs::metadata(&path)?.len();
        Ok(AppendFile { file, len })
    }

    /// Cuts `name` to `len` bytes, durably.
    pub fn truncate(&self, name: &str, len: u64) -> io::Result<()> {
        let file = OpenOptions::new().write(true).open(self.path(name))?;
        file.set_len(len)?;
        file.sync_all()
    }
}

/// An open append-only file that knows its length.
#[derive(Debug)]
pub struct AppendFile {
    file: File,
    len: u64,
}

impl AppendFile {
    /// Appends `bytes` and fsyncs: when this returns `Ok` they are durable.
    pub fn append_synced(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.file.write_all(bytes)?;
        self.file.sync_all()?;
        self.len += bytes.len() as u64;
        Ok(())
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

const HEADER: usize = 8;

/// `[len: u32 LE][crc32(payload): u32 LE][payload]`.
pub fn frame(payload: &[u8], out: &mut Vec<u8>) {
    let len = u32::try_from(payload.len()).expect("records are far below 4 GiB");
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// The payload of the frame at the start of `bytes` and the frame's size, if
/// a whole frame with a matching checksum is there.
fn frame_at(bytes: &[u8]) -> Option<(&[u8], usize)> {
    let header = bytes.get(..HEADER)?;
    let len = u32::from_le_bytes(header[..4].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(header[4..].try_into().ok()?);
    let payload = bytes.get(HEADER..HEADER + len)?;
    (len > 0 && crc32fast::hash(payload) == crc).then_some((payload, HEADER + len))
}

/// The frames of a file read front to back.
#[derive(Debug)]
pub struct Frames<'a> {
    pub payloads: Vec<&'a [u8]>,
    /// Bytes of whole, valid frames; anything after is a torn tail.
    pub valid_len: u64,
}

/// Splits a file into frames. A damaged frame with nothing valid after it is
/// a torn final write (a crash mid-append) and is reported as the tail; a
/// damaged frame followed by a valid one is corruption, an error: cutting it
/// away would silently drop acknowledged records.
pub fn read_frames(bytes: &[u8]) -> Result<Frames<'_>, String> {
    let mut payloads = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        match frame_at(&bytes[at..]) {
            Some((payload, size)) => {
                payloads.push(payload);
                at += size;
            }
            None => {
                if (at + 1..bytes.len()).any(|p| frame_at(&bytes[p..]).is_some()) {
                    return Err(format!(
                        "damaged record at byte {at} with valid data after it"
                    ));
                }
                break;
            }
        }
    }
    Ok(Frames {
        payloads,
        valid_len: at as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in payloads {
            frame(p, &mut out);
        }
        out
    }

    #[test]
    fn a_torn_tail_is_cut_off() {
        let mut bytes = framed(&[b"one", b"two"]);
        let whole = bytes.len() as u64;
        frame(b"three", &mut bytes);
        bytes.truncate(bytes.len() - 2);
        let frames = read_frames(&bytes).expect("a torn tail is not an error");
        assert_eq!(frames.payloads, [b"one".as_slice(), b"two".as_slice()]);
        assert_eq!(frames.valid_len, whole);
    }

    #[test]
    fn damage_before_valid_records_is_refused() {
        let mut bytes = framed(&[b"one", b"two", b"three"]);
        bytes[9] ^= 0xff; // inside the first payload
        assert!(read_frames(&bytes).is_err());
    }

    #[test]
    fn zero_fill_is_not_a_record() {
        let mut bytes = framed(&[b"one"]);
        bytes.extend_from_slice(&[0; 32]);
        let frames = read_frames(&bytes).expect("zeros at the end are a torn tail");
        assert_eq!(frames.payloads.len(), 1);
    }
}
