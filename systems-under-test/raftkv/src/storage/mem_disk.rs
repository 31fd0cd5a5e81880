//! An in-memory [`Disk`] that models crash durability like turmoil's simulated
//! disk, for tests that do not run a simulation.
//!
//! Files are inodes; the directory maps names to inodes. Each inode has a durable
//! and a current content, and the directory has a durable and a current mapping:
//! - `sync(name)` makes the file's current content durable;
//! - `sync_dir()` makes the current name → inode mapping durable (creations,
//!   renames and removals);
//! - `crash()` throws away everything not durable; inodes no durable name
//!   reaches are gone;
//! - `crash_torn(name, keep)` is a crash in which the last unsynced write to
//!   `name` reached the platter only partially: its first `keep` bytes survive
//!   (turmoil tears writes the same way, in whole blocks). Like turmoil, if that
//!   write lies beyond the durable end of the file, the gap reads as zeros.
//!
//! Clones share the disk, so a test can hand one clone to `Storage::open`, crash
//! the other, and reopen on it as a rebooted node would.
use super::Disk;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;
use std::rc::Rc;

/// Disk operations that [`MemDisk::fail_next`] can make fail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemOp {
    Create,
    Append,
    Truncate,
    Sync,
    SyncDir,
    Rename,
    Remove,
}

#[derive(Clone, Default)]
pub struct MemDisk {
    state: Rc<RefCell<MemState>>,
}

#[derive(Default)]
struct MemState {
    inodes: BTreeMap<u64, Inode>,
    next_inode: u64,
    /// What `list`/`read` see now.
    names: BTreeMap<String, u64>,
    /// What survives a crash.
    durable_names: BTreeMap<String, u64>,
    /// One-shot injected failures: the next call of this kind fails.
    fail_next: Vec<MemOp>,
}

#[derive(Default)]
struct Inode {
    durable: Vec<u8>,
    current: Vec<u8>,
    /// The most recent write since the last sync: (offset, bytes). Only this one
    /// can be torn by `crash_torn`; earlier unsynced writes are simply lost.
    last_write: Option<(usize, Vec<u8>)>,
}

fn not_found(name: &str) -> io::Error {
    io::Error::new(io::ErrorKind::NotFound, format!("no such file: {name}"))
}

impl MemDisk {
    pub fn new() -> Self {
        Self::default()
    }

    /// Power loss: everything unsynced is lost.
    pub fn crash(&self) {
        self.crash_keeping(None);
    }

    /// Power loss during which the first `keep` bytes of the last unsynced write to
    /// `name` made it to disk (a torn write).
    pub fn crash_torn(&self, name: &str, keep: usize) {
        self.crash_keeping(Some((name, keep)));
    }

    fn crash_keeping(&self, torn: Option<(&str, usize)>) {
        let mut st = self.state.borrow_mut();
        let st = &mut *st;
        st.fail_next.clear();
        if let Some((name, keep)) = torn {
            // The torn write survives only if the file's name does.
            if let Some(inode) = st
                .durable_names
                .get(name)
                .and_then(|i| st.inodes.get_mut(i))
            {
                if let Some((offset, data)) = inode.last_write.take() {
                    let kept = &data[..keep.min(data.len())];
                    let end = offset + kept.len();
                    if inode.durable.len() < end {
                        inode.durable.resize(end, 0);
                    }
                    inode.durable[offset..end].copy_from_slice(kept);
                }
            }
        }
        st.names = st.durable_names.clone();
        let live: Vec<u64> = st.names.values().copied().collect();
        st.inodes.retain(|id, _| live.contains(id));
        for inode in st.inodes.values_mut() {
            inode.current = inode.durable.clone();
            inode.last_write = None;
        }
    }

    /// Makes the next `op` call fail with an I/O error (to stop a multi-step
    /// operation at a chosen point before crashing).
    pub fn fail_next(&self, op: MemOp) {
        self.state.borrow_mut().fail_next.push(op);
    }

    /// Flips bits of one byte of a file, in both its durable and current content
    /// (bit rot on the platter).
    pub fn corrupt_byte(&self, name: &str, offset: usize) {
        let mut st = self.state.borrow_mut();
        let id = *st.names.get(name).expect("corrupt_byte: no such file");
        let inode = st.inodes.get_mut(&id).expect("inode");
        inode.durable[offset] ^= 0x5a;
        inode.current[offset] ^= 0x5a;
    }

    /// The length of a file as currently visible.
    pub fn file_len(&self, name: &str) -> Option<usize> {
        let st = self.state.borrow();
        st.names.get(name).map(|id| st.inodes[id].current.len())
    }

    fn check_fail(&self, op: MemOp) -> io::Result<()> {
        let mut st = self.state.borrow_mut();
        match st.fail_next.iter().position(|o| *o == op) {
            Some(pos) => {
                st.fail_next.remove(pos);
                Err(io::Error::other(format!("injected failure of {op:?}")))
            }
            None => Ok(()),
        }
    }

    fn with_inode<T>(&self, name: &str, f: impl FnOnce(&mut Inode) -> T) -> io::Result<T> {
        let mut st = self.state.borrow_mut();
        let id = *st.names.get(name).ok_or_else(|| not_found(name))?;
        Ok(f(st.inodes.get_mut(&id).expect("named inode exists")))
    }
}

impl Inode {
    fn write_at(&mut self, offset: usize, data: &[u8]) {
        let end = offset + data.len();
        if self.current.len() < end {
            self.current.resize(end, 0);
        }
        self.current[offset..end].copy_from_slice(data);
        self.last_write = Some((offset, data.to_vec()));
    }
}

impl Disk for MemDisk {
    fn list(&self) -> io::Result<Vec<String>> {
        Ok(self.state.borrow().names.keys().cloned().collect())
    }

    fn read(&self, name: &str) -> io::Result<Vec<u8>> {
        self.with_inode(name, |inode| inode.current.clone())
    }

    fn create(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        self.check_fail(MemOp::Create)?;
        let mut st = self.state.borrow_mut();
        let id = match st.names.get(name) {
            Some(id) => *id,
            None => {
                let id = st.next_inode;
                st.next_inode += 1;
                st.inodes.insert(id, Inode::default());
                st.names.insert(name.to_string(), id);
                id
            }
        };
        let inode = st.inodes.get_mut(&id).expect("inode");
        inode.current.clear();
        inode.last_write = None;
        if !data.is_empty() {
            inode.write_at(0, data);
        }
        Ok(())
    }

    fn append(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        self.check_fail(MemOp::Append)?;
        self.with_inode(name, |inode| {
            if !data.is_empty() {
                inode.write_at(inode.current.len(), data);
            }
        })
    }

    fn truncate(&mut self, name: &str, len: u64) -> io::Result<()> {
        self.check_fail(MemOp::Truncate)?;
        self.with_inode(name, |inode| {
            inode.current.resize(len as usize, 0);
            inode.last_write = None;
        })
    }

    fn sync(&mut self, name: &str) -> io::Result<()> {
        self.check_fail(MemOp::Sync)?;
        self.with_inode(name, |inode| {
            inode.durable = inode.current.clone();
            inode.last_write = None;
        })
    }

    fn sync_dir(&mut self) -> io::Result<()> {
        self.check_fail(MemOp::SyncDir)?;
        let mut st = self.state.borrow_mut();
        st.durable_names = st.names.clone();
        Ok(())
    }

    fn rename(&mut self, from: &str, to: &str) -> io::Result<()> {
        self.check_fail(MemOp::Rename)?;
        let mut st = self.state.borrow_mut();
        let id = st.names.remove(from).ok_or_else(|| not_found(from))?;
        st.names.insert(to.to_string(), id);
        Ok(())
    }

    fn remove(&mut self, name: &str) -> io::Result<()> {
        self.check_fail(MemOp::Remove)?;
        let mut st = self.state.borrow_mut();
        st.names.remove(name).ok_or_else(|| not_found(name))?;
        Ok(())
    }
}
