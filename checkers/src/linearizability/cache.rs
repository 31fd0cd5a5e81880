//! The set of explored configurations: (linearized set, state id).
//!
//! Keys are looked up by a precomputed 64-bit hash (Zobrist hash of the set
//! mixed with the state id) and compared exactly, so a hash collision can
//! never prune a configuration that was not explored. Sets are stored in the
//! compact form of [`Bits::encode`], in one arena.
use super::budget::{map_bytes, vec_bytes};
use rustc_hash::FxHashMap;

/// The linearized set of a partition's operations: completed ones in words
/// `0..completed_words` (padding bits set), indeterminate ones after
/// (padding bits clear).
///
/// Completed operations are numbered in call order and are placed roughly in
/// that order, so their set is "every word below a frontier is full" plus a
/// few words; indeterminate ones are few. `encode` keeps only what is not
/// implied, so a key is a handful of words however long the history.
pub(crate) struct Bits {
    words: Vec<u64>,
    completed_words: usize,
    completed: usize,
    /// First completed word that is not full.
    first_open: usize,
    /// One past the last non-zero completed word (at least `first_open`).
    end: usize,
}

impl Bits {
    pub(crate) fn new(completed: usize, indeterminate: usize) -> Self {
        let completed_words = completed.div_ceil(64);
        let mut words = vec![0; completed_words + indeterminate.div_ceil(64)];
        if !completed.is_multiple_of(64) {
            words[completed_words - 1] = !0 << (completed % 64);
        }
        let mut bits = Bits {
            words,
            completed_words,
            completed,
            first_open: 0,
            end: 0,
        };
        bits.advance();
        bits
    }

    fn locate(&self, op: u32) -> (usize, u64) {
        let i = op as usize;
        let pos = if i < self.completed {
            i
        } else {
            self.completed_words * 64 + (i - self.completed)
        };
        (pos / 64, 1 << (pos % 64))
    }

    fn advance(&mut self) {
        while self.first_open < self.completed_words && self.words[self.first_open] == !0 {
            self.first_open += 1;
        }
        self.end = self.end.max(self.first_open);
    }

    pub(crate) fn contains(&self, op: u32) -> bool {
        let (w, b) = self.locate(op);
        self.words[w] & b != 0
    }

    pub(crate) fn insert(&mut self, op: u32) {
        let (w, b) = self.locate(op);
        self.words[w] |= b;
        if w < self.completed_words {
            self.end = self.end.max(w + 1);
            self.advance();
        }
    }

    pub(crate) fn remove(&mut self, op: u32) {
        let (w, b) = self.locate(op);
        self.words[w] &= !b;
        if w < self.completed_words {
            self.first_open = self.first_open.min(w);
            while self.end > self.first_open && self.words[self.end - 1] == 0 {
                self.end -= 1;
            }
        }
    }

    /// Writes the compact form: two header words, then the completed words
    /// from the first open one to the last non-zero one, then the non-zero
    /// span of the indeterminate words.
    pub(crate) fn encode(&self, out: &mut Vec<u64>) {
        out.clear();
        let info = &self.words[self.completed_words..];
        let lo = info.iter().position(|&w| w != 0).unwrap_or(0);
        let hi = info.iter().rposition(|&w| w != 0).map_or(0, |i| i + 1);
        out.push(self.first_open as u64 | (self.end as u64) << 32);
        out.push(lo as u64 | (hi as u64) << 32);
        out.extend_from_slice(&self.words[self.first_open..self.end]);
        out.extend_from_slice(&info[lo..hi]);
    }

    pub(crate) fn bytes(&self) -> usize {
        vec_bytes(&self.words)
    }
}

/// Length of an encoded key, from its header.
fn encoded_len(key: &[u64]) -> usize {
    let span = |h: u64| ((h >> 32) - (h & 0xFFFF_FFFF)) as usize;
    2 + span(key[0]) + span(key[1])
}

pub(crate) struct Cache {
    /// Hash to the newest entry with that hash; entries chain by `next`.
    heads: FxHashMap<u64, u32>,
    entries: Vec<Entry>,
    arena: Vec<u64>,
}

struct Entry {
    sid: u32,
    next: u32,
    start: usize,
}

const NONE: u32 = u32::MAX;

impl Cache {
    pub(crate) fn new() -> Self {
        Cache {
            heads: FxHashMap::default(),
            entries: Vec::new(),
            arena: Vec::new(),
        }
    }

    fn find(&self, hash: u64, sid: u32, key: &[u64]) -> bool {
        let Some(&head) = self.heads.get(&hash) else {
            return false;
        };
        let mut e = head;
        while e != NONE {
            let entry = &self.entries[e as usize];
            let stored = &self.arena[entry.start..];
            if entry.sid == sid && stored[..2] == key[..2] && stored[..encoded_len(stored)] == *key
            {
                return true;
            }
            e = entry.next;
        }
        false
    }

    /// Whether the configuration (encoded set `key`, state `sid`) is there.
    pub(crate) fn contains(&self, hash: u64, sid: u32, key: &[u64]) -> bool {
        self.find(hash, sid, key)
    }

    /// Inserts the configuration; false if it was already there.
    pub(crate) fn insert(&mut self, hash: u64, sid: u32, key: &[u64]) -> bool {
        if self.find(hash, sid, key) {
            return false;
        }
        let id = self.entries.len() as u32;
        let next = self.heads.insert(hash, id).unwrap_or(NONE);
        self.entries.push(Entry {
            sid,
            next,
            start: self.arena.len(),
        });
        self.arena.extend_from_slice(key);
        true
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// At capacity (see `budget`): the entries, their key words and the
    /// hash table.
    pub(crate) fn bytes(&self) -> usize {
        vec_bytes(&self.arena) + vec_bytes(&self.entries) + map_bytes(&self.heads)
    }
}
