//! The flat-directory file API that storage is written against, and its
//! implementation on a real directory.
//!
//! Durability contract (POSIX, and what turmoil's simulated disk and [`MemDisk`]
//! model): file contents written by `create`/`append`/`truncate` are durable only
//! after `sync(name)`; a creation, rename or removal is durable only after
//! `sync_dir()`. Anything not durable may vanish in a crash.
//!
//! [`MemDisk`]: super::MemDisk
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// A single flat directory of files, addressed by name.
pub trait Disk {
    /// The names of the files in the directory, sorted.
    fn list(&self) -> io::Result<Vec<String>>;
    /// The whole content of a file.
    fn read(&self, name: &str) -> io::Result<Vec<u8>>;
    /// Create the file (or truncate an existing one) and write `data` into it.
    fn create(&mut self, name: &str, data: &[u8]) -> io::Result<()>;
    /// Append `data` to an existing file (an error if it does not exist).
    fn append(&mut self, name: &str, data: &[u8]) -> io::Result<()>;
    /// Cut (or extend with zeros) a file to `len` bytes.
    fn truncate(&mut self, name: &str, len: u64) -> io::Result<()>;
    /// fsync the file's content.
    fn sync(&mut self, name: &str) -> io::Result<()>;
    /// fsync the directory: makes creations, renames and removals durable.
    fn sync_dir(&mut self) -> io::Result<()>;
    /// Atomically replace `to` with `from`.
    fn rename(&mut self, from: &str, to: &str) -> io::Result<()>;
    fn remove(&mut self, name: &str) -> io::Result<()>;
}

/// [`Disk`] over a real directory with `std::fs`.
#[derive(Debug, Clone)]
pub struct DirDisk {
    root: PathBuf,
}

impl DirDisk {
    /// Opens `root`, creating it (durably: each directory level is synced in its
    /// parent) if it is missing.
    pub fn new(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        fs::create_dir_all(&root)?;
        // A directory's own entry lives in its parent, so make every level durable.
        for dir in root.ancestors().filter(|p| !p.as_os_str().is_empty()) {
            fsync_dir(dir)?;
        }
        Ok(DirDisk { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, name: &str) -> PathBuf {
        debug_assert!(!name.contains('/'), "flat directory names only: {name:?}");
        self.root.join(name)
    }
}

fn fsync_dir(dir: &Path) -> io::Result<()> {
    // Opening a directory read-only and fsyncing it is how POSIX syncs its entries.
    fs::File::open(dir)?.sync_all()
}

impl Disk for DirDisk {
    fn list(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.root)? {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                names.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
        names.sort();
        Ok(names)
    }

    fn read(&self, name: &str) -> io::Result<Vec<u8>> {
        fs::read(self.path(name))
    }

    fn create(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        fs::File::create(self.path(name))?.write_all(data)
    }

    fn append(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        fs::OpenOptions::new()
            .append(true)
            .open(self.path(name))?
            .write_all(data)
    }

    fn truncate(&mut self, name: &str, len: u64) -> io::Result<()> {
        fs::OpenOptions::new()
            .write(true)
            .open(self.path(name))?
            .set_len(len)
    }

    fn sync(&mut self, name: &str) -> io::Result<()> {
        fs::File::open(self.path(name))?.sync_all()
    }

    fn sync_dir(&mut self) -> io::Result<()> {
        fsync_dir(&self.root)
    }

    fn rename(&mut self, from: &str, to: &str) -> io::Result<()> {
        fs::rename(self.path(from), self.path(to))
    }

    fn remove(&mut self, name: &str) -> io::Result<()> {
        fs::remove_file(self.path(name))
    }
}
