//! The set of explored configurations: (linearized set as a bitset, state id).
//!
//! Keys are looked up by a precomputed 64-bit hash (Zobrist hash of the set
//! mixed with the state id) and compared exactly, so a hash collision can
//! never prune a configuration that was not explored. Bitsets live in one
//! arena to avoid an allocation per entry.
use rustc_hash::FxHashMap;

pub(crate) struct Cache {
    words: usize,
    /// Hash to the newest entry with that hash; entries chain by `next`.
    heads: FxHashMap<u64, u32>,
    entries: Vec<(u32, u32)>, // (state id, next entry or NONE)
    arena: Vec<u64>,
}

const NONE: u32 = u32::MAX;

impl Cache {
    pub(crate) fn new(bits: usize) -> Self {
        Cache {
            words: bits.div_ceil(64),
            heads: FxHashMap::default(),
            entries: Vec::new(),
            arena: Vec::new(),
        }
    }

    fn find(&self, hash: u64, sid: u32, bits: &[u64]) -> Option<u32> {
        let mut e = *self.heads.get(&hash)?;
        while e != NONE {
            let (s, next) = self.entries[e as usize];
            let start = e as usize * self.words;
            if s == sid && self.arena[start..start + self.words] == *bits {
                return Some(e);
            }
            e = next;
        }
        None
    }

    pub(crate) fn contains(&self, hash: u64, sid: u32, bits: &[u64]) -> bool {
        self.find(hash, sid, bits).is_some()
    }

    /// Inserts the configuration; false if it was already there.
    pub(crate) fn insert(&mut self, hash: u64, sid: u32, bits: &[u64]) -> bool {
        if self.find(hash, sid, bits).is_some() {
            return false;
        }
        let id = self.entries.len() as u32;
        let next = self.heads.insert(hash, id).unwrap_or(NONE);
        self.entries.push((sid, next));
        self.arena.extend_from_slice(bits);
        true
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn bytes(&self) -> usize {
        self.arena.capacity() * 8 + self.entries.capacity() * 8 + self.heads.capacity() * 13
    }
}
