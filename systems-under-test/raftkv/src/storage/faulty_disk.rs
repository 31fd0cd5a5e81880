//! A [`Disk`] wrapper that injects the faults a harness asks for: I/O errors,
//! corrupted reads and a full disk. Every random choice comes from its own seeded
//! generator; the knobs are shared with the harness, which turns them at run time.
use super::Disk;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cell::RefCell;
use std::io;
use std::rc::Rc;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiskFaults {
    /// Probability that an operation fails with an I/O error.
    pub io_error: f64,
    /// Probability that a read returns the file damaged: one bit flipped, or
    /// a run of up to 16 bytes replaced by garbage.
    pub read_corruption: f64,
    /// Writes that add data fail with "no space left on device".
    pub full: bool,
    /// How many faults actually fired (tells injected failures from bugs).
    pub fired: u64,
}

pub type SharedDiskFaults = Rc<RefCell<DiskFaults>>;

pub struct FaultyDisk<D> {
    inner: D,
    faults: SharedDiskFaults,
    rng: RefCell<ChaCha8Rng>,
}

impl<D: Disk> FaultyDisk<D> {
    pub fn new(inner: D, faults: SharedDiskFaults, seed: u64) -> Self {
        FaultyDisk {
            inner,
            faults,
            rng: RefCell::new(ChaCha8Rng::seed_from_u64(seed)),
        }
    }

    fn fire(&self, what: &str, p: f64) -> io::Result<()> {
        if p > 0.0 && self.rng.borrow_mut().random_bool(p.min(1.0)) {
            self.faults.borrow_mut().fired += 1;
            return Err(io::Error::other(format!("injected I/O error ({what})")));
        }
        Ok(())
    }

    fn write_side(&self, what: &str, adds_data: bool) -> io::Result<()> {
        let (p, full) = {
            let f = self.faults.borrow();
            (f.io_error, f.full)
        };
        if full && adds_data {
            self.faults.borrow_mut().fired += 1;
            return Err(io::Error::new(
                io::ErrorKind::StorageFull,
                format!("injected: no space left on device ({what})"),
            ));
        }
        self.fire(what, p)
    }
}

impl<D: Disk> Disk for FaultyDisk<D> {
    fn list(&self) -> io::Result<Vec<String>> {
        self.inner.list()
    }

    fn read(&self, name: &str) -> io::Result<Vec<u8>> {
        let (p, corrupt) = {
            let f = self.faults.borrow();
            (f.io_error, f.read_corruption)
        };
        self.fire("read", p)?;
        let mut bytes = self.inner.read(name)?;
        if !bytes.is_empty() && corrupt > 0.0 {
            let mut rng = self.rng.borrow_mut();
            if rng.random_bool(corrupt.min(1.0)) {
                let at = rng.random_range(0..bytes.len());
                if rng.random_bool(0.5) {
                    bytes[at] ^= 1 << rng.random_range(0..8);
                } else {
                    // A damaged block: up to 16 bytes of garbage. Over a
                    // record's header it makes a length that runs past the
                    // end, which recovery must not take for a torn tail.
                    let end = (at + 16).min(bytes.len());
                    for b in &mut bytes[at..end] {
                        *b ^= rng.random_range(1..=u8::MAX);
                    }
                }
                self.faults.borrow_mut().fired += 1;
            }
        }
        Ok(bytes)
    }

    fn create(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        self.write_side("create", !data.is_empty())?;
        self.inner.create(name, data)
    }

    fn append(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        self.write_side("append", !data.is_empty())?;
        self.inner.append(name, data)
    }

    fn truncate(&mut self, name: &str, len: u64) -> io::Result<()> {
        self.write_side("truncate", false)?;
        self.inner.truncate(name, len)
    }

    fn sync(&mut self, name: &str) -> io::Result<()> {
        self.write_side("fsync", false)?;
        self.inner.sync(name)
    }

    fn sync_dir(&mut self) -> io::Result<()> {
        self.write_side("fsync directory", false)?;
        self.inner.sync_dir()
    }

    fn rename(&mut self, from: &str, to: &str) -> io::Result<()> {
        self.write_side("rename", false)?;
        self.inner.rename(from, to)
    }

    fn remove(&mut self, name: &str) -> io::Result<()> {
        self.write_side("remove", false)?;
        self.inner.remove(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemDisk;

    #[test]
    fn injected_faults_fire_and_are_counted() {
        let faults = SharedDiskFaults::default();
        let mut d = FaultyDisk::new(MemDisk::new(), faults.clone(), 1);
        d.create("f", b"hello").unwrap();
        faults.borrow_mut().full = true;
        let e = d.append("f", b"more").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::StorageFull);
        d.sync("f").unwrap(); // adds no data: still works on a full disk
        faults.borrow_mut().full = false;
        faults.borrow_mut().read_corruption = 1.0;
        let read = d.read("f").unwrap();
        assert_eq!(read.len(), 5, "damage keeps the length");
        assert_ne!(read, b"hello", "a bit flipped or a run of bytes garbled");
        faults.borrow_mut().read_corruption = 0.0;
        faults.borrow_mut().io_error = 1.0;
        assert!(d.sync_dir().is_err());
        assert_eq!(faults.borrow().fired, 3);
    }
}
