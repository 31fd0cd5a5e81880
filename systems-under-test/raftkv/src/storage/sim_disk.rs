//! [`Disk`] on turmoil's simulated per-host filesystem. Only usable from inside a
//! turmoil host (the shim panics elsewhere).
use super::Disk;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use turmoil::fs::shim::std::fs::{self as simfs, File, OpenOptions};

#[derive(Debug)]
pub struct SimDisk {
    root: PathBuf,
    /// The file last appended to, kept open: the WAL gets an append and an fsync
    /// per Raft ready, and opening a file by path is the costly part of both on
    /// turmoil's disk. Dropped by every operation that creates, cuts, renames or
    /// removes a file, so it never outlives its path.
    appending: Option<(String, File)>,
}

impl SimDisk {
    /// Opens `root` (an absolute path such as `/data/node-3/gen-2`) on the current
    /// host's simulated disk, creating it if missing.
    pub fn new(root: impl Into<PathBuf>) -> io::Result<Self> {
        let root = root.into();
        simfs::create_dir_all(&root)?;
        // turmoil (like POSIX) keeps a new directory only once its parent is synced.
        // Sync every level on every open, not just when we created it now: a root
        // that vanished in a crash would boot as an empty node, a silent data loss.
        for dir in root.ancestors().filter(|p| !p.as_os_str().is_empty()) {
            simfs::sync_dir(dir)?;
        }
        Ok(SimDisk {
            root,
            appending: None,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    fn path(&self, name: &str) -> PathBuf {
        debug_assert!(!name.contains('/'), "flat directory names only: {name:?}");
        self.root.join(name)
    }
}

impl Disk for SimDisk {
    fn list(&self) -> io::Result<Vec<String>> {
        let mut names = Vec::new();
        for entry in simfs::read_dir(&self.root)? {
            // No file-type check: the root only ever holds the flat files created
            // through this type (see `path`), and turmoil's `file_type` costs as
            // much as a full metadata lookup per entry.
            names.push(entry?.file_name().to_string_lossy().into_owned());
        }
        // turmoil lists a directory in hash order; sorting keeps runs deterministic.
        names.sort();
        Ok(names)
    }

    fn read(&self, name: &str) -> io::Result<Vec<u8>> {
        simfs::read(self.path(name))
    }

    fn create(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        self.appending = None;
        File::create(self.path(name))?.write_all(data)
    }

    fn append(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        let mut file = match self.appending.take() {
            Some((open, file)) if open == name => file,
            _ => OpenOptions::new().append(true).open(self.path(name))?,
        };
        let written = file.write_all(data);
        self.appending = Some((name.to_string(), file));
        written
    }

    fn truncate(&mut self, name: &str, len: u64) -> io::Result<()> {
        self.appending = None;
        OpenOptions::new()
            .write(true)
            .open(self.path(name))?
            .set_len(len)
    }

    fn sync(&mut self, name: &str) -> io::Result<()> {
        match &self.appending {
            Some((open, file)) if open == name => file.sync_all(),
            _ => File::open(self.path(name))?.sync_all(),
        }
    }

    fn sync_dir(&mut self) -> io::Result<()> {
        simfs::sync_dir(&self.root)
    }

    fn rename(&mut self, from: &str, to: &str) -> io::Result<()> {
        self.appending = None;
        simfs::rename(self.path(from), self.path(to))
    }

    fn remove(&mut self, name: &str) -> io::Result<()> {
        self.appending = None;
        simfs::remove_file(self.path(name))
    }
}
