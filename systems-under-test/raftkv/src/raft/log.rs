//! The in-memory Raft log: a compacted prefix (described by `offset`), the retained
//! entries, and the commit/apply/stable cursors.
//!
//! Invariants (checked by `debug_assert_invariants` in tests):
//! - `entries[k].index == offset + 1 + k` (contiguous).
//! - `offset <= snapshot.index` once a snapshot exists: entries between `offset` and
//!   the snapshot index are "trailing" entries kept for slow followers.
//! - `applied <= committed <= last_index()`; `snapshot.index <= applied`.
//! - `stable <= last_index()`: entries above `stable` still have to be persisted.
use super::types::{Entry, Index, Snapshot, SnapshotMeta, Term};
use crate::probe::{hit, hit_if, Probe};

#[derive(Debug)]
pub struct RaftLog {
    /// The newest snapshot this node holds (taken locally or installed): the data is
    /// kept in memory so the leader can stream it to followers.
    pub snapshot: Option<Snapshot>,
    offset: Index,
    offset_term: Term,
    entries: Vec<Entry>,
    pub stable: Index,
    pub committed: Index,
    pub applied: Index,
}

impl RaftLog {
    /// A log recovered from storage: `entries` must be contiguous and, when a
    /// snapshot exists, start at or before `snapshot.index + 1`.
    pub fn recovered(snapshot: Option<Snapshot>, entries: Vec<Entry>, commit: Index) -> Self {
        let (snap_index, snap_term) = snapshot
            .as_ref()
            .map_or((0, 0), |s| (s.meta.index, s.meta.term));
        // Keep only entries that connect to the snapshot.
        let entries: Vec<Entry> = match entries.first() {
            Some(first) if first.index <= snap_index + 1 => entries,
            _ => Vec::new(),
        };
        let (offset, offset_term) = match entries.first() {
            Some(first) if first.index <= snap_index => {
                // The entry before the first retained one: its term is unknown unless
                // it is the snapshot itself, so drop one entry to learn it.
                let mut entries = entries;
                let head = entries.remove(0);
                let log = RaftLog {
                    snapshot,
                    offset: head.index,
                    offset_term: head.term,
                    stable: 0,
                    committed: 0,
                    applied: 0,
                    entries,
                };
                return log.finish_recovery(commit, snap_index);
            }
            _ => (snap_index, snap_term),
        };
        RaftLog {
            snapshot,
            offset,
            offset_term,
            entries,
            stable: 0,
            committed: 0,
            applied: 0,
        }
        .finish_recovery(commit, snap_index)
    }

    fn finish_recovery(mut self, commit: Index, snap_index: Index) -> Self {
        self.stable = self.last_index();
        self.committed = commit.clamp(snap_index, self.last_index());
        self.applied = snap_index;
        self
    }

    pub fn snapshot_meta(&self) -> Option<&SnapshotMeta> {
        self.snapshot.as_ref().map(|s| &s.meta)
    }

    pub fn snapshot_index(&self) -> Index {
        self.snapshot.as_ref().map_or(0, |s| s.meta.index)
    }

    /// Index of the first entry held in memory (entries before it are compacted).
    pub fn first_index(&self) -> Index {
        self.offset + 1
    }

    pub fn last_index(&self) -> Index {
        self.offset + self.entries.len() as Index
    }

    pub fn last_term(&self) -> Term {
        self.term(self.last_index()).unwrap_or(0)
    }

    /// The term of entry `i`, or None when it is compacted away or beyond the log.
    pub fn term(&self, i: Index) -> Option<Term> {
        if i == self.offset {
            return Some(self.offset_term);
        }
        if let Some(meta) = self.snapshot_meta() {
            if i == meta.index {
                return Some(meta.term);
            }
        }
        if i < self.offset || i > self.last_index() {
            return None;
        }
        Some(self.entries[(i - self.offset - 1) as usize].term)
    }

    pub fn match_term(&self, i: Index, t: Term) -> bool {
        self.term(i) == Some(t)
    }

    /// Entries in [lo, hi], clipped to what is held. `lo` must be >= first_index().
    pub fn slice(&self, lo: Index, hi: Index) -> &[Entry] {
        let hi = hi.min(self.last_index());
        if lo > hi || lo <= self.offset {
            return &[];
        }
        &self.entries[(lo - self.offset - 1) as usize..(hi - self.offset) as usize]
    }

    /// Raft §5.4.1: is a candidate's log at least as up to date as ours?
    pub fn is_up_to_date(&self, last_index: Index, last_term: Term) -> bool {
        last_term > self.last_term()
            || (last_term == self.last_term() && last_index >= self.last_index())
    }

    /// Appends entries, truncating a conflicting suffix first. Entries must start
    /// at or before last_index()+1 and never rewrite a committed entry.
    pub fn append(&mut self, ents: &[Entry]) {
        let Some(first) = ents.first() else { return };
        debug_assert!(first.index > self.committed, "rewriting committed entries");
        debug_assert!(first.index <= self.last_index() + 1, "gap in the log");
        let keep = (first.index - self.offset - 1) as usize;
        self.entries.truncate(keep);
        self.entries.extend_from_slice(ents);
        self.stable = self.stable.min(first.index - 1);
    }

    /// The index of the first entry in `ents` that is missing or differs in term.
    pub fn find_conflict(&self, ents: &[Entry]) -> Option<Index> {
        ents.iter()
            .find(|e| !self.match_term(e.index, e.term))
            .map(|e| e.index)
    }

    /// The largest index <= `index` whose term is <= `term` (etcd's
    /// findConflictByTerm): lets a rejected append skip a whole term at a time.
    pub fn find_conflict_by_term(&self, index: Index, term: Term) -> Index {
        let mut i = index.min(self.last_index());
        while i > self.offset {
            match self.term(i) {
                Some(t) if t <= term => return i,
                _ => i -= 1,
            }
        }
        self.offset
    }

    /// Follower side of AppendEntries. Returns the last index now known to match the
    /// leader, or None when `prev` does not match.
    pub fn maybe_append(
        &mut self,
        prev_index: Index,
        prev_term: Term,
        commit: Index,
        ents: &[Entry],
    ) -> Option<Index> {
        if !self.match_term(prev_index, prev_term) {
            return None;
        }
        let last_new = prev_index + ents.len() as Index;
        if let Some(conflict) = self.find_conflict(ents) {
            if conflict <= self.committed {
                // Only a leader that broke Raft's rules asks for this; keep our log.
                return None;
            }
            hit_if(
                conflict <= self.last_index(),
                Probe::AppendTruncatedConflict,
            );
            let start = (conflict - ents[0].index) as usize;
            self.append(&ents[start..]);
        }
        hit(Probe::AppendAccepted);
        if self.commit_to(commit.min(last_new)) {
            hit(Probe::CommitFollowerAdvanced);
        }
        Some(last_new)
    }

    /// Moves commit forward (never backwards).
    pub fn commit_to(&mut self, i: Index) -> bool {
        let i = i.min(self.last_index());
        if i > self.committed {
            self.committed = i;
            true
        } else {
            false
        }
    }

    /// Entries committed but not yet handed out for applying.
    pub fn next_committed(&self, max: usize) -> Vec<Entry> {
        let lo = (self.applied + 1).max(self.first_index());
        let hi = self.committed.min(lo + max as Index - 1);
        self.slice(lo, hi).to_vec()
    }

    pub fn unstable(&self) -> &[Entry] {
        self.slice(self.stable + 1, self.last_index())
    }

    /// Records a local snapshot at `snap.meta.index` (<= applied) and drops entries
    /// up to `snap.meta.index - trailing`, so slow followers can still catch up from
    /// the log (hashicorp TrailingLogs, etcd SnapshotCatchUpEntries).
    pub fn compact(&mut self, snap: Snapshot, trailing: u64) {
        // Contract: the snapshot covers only applied entries (index <= applied).
        // Not asserted: breaking it is a bug mutant the checkers must catch.
        let index = snap.meta.index;
        let new_offset = index.saturating_sub(trailing).max(self.offset);
        hit(if new_offset < index {
            Probe::CompactWithTrailing
        } else {
            Probe::CompactWithoutTrailing
        });
        self.truncate_prefix(new_offset);
        self.snapshot = Some(snap);
    }

    fn truncate_prefix(&mut self, new_offset: Index) {
        if new_offset <= self.offset {
            return;
        }
        let t = self.term(new_offset).expect("compacting within the log");
        let drop = (new_offset - self.offset) as usize;
        self.entries.drain(..drop.min(self.entries.len()));
        self.offset = new_offset;
        self.offset_term = t;
    }

    /// Installs a snapshot received from the leader. The entries after the snapshot
    /// are kept only when our entry at the snapshot index has the snapshot's term
    /// (then they continue the same history); otherwise the whole log is replaced.
    /// Returns how many entries were kept.
    pub fn install(&mut self, snap: Snapshot, suffix: SuffixRule) -> u64 {
        let (index, term) = (snap.meta.index, snap.meta.term);
        let keep = match suffix {
            SuffixRule::KeepMatching => self.match_term(index, term),
            // Bug mutant install-keeps-conflicting-suffix: whatever our term at
            // `index`, the entries after it stay.
            SuffixRule::KeepUnchecked => self.last_index() > index && self.term(index).is_some(),
        };
        if keep {
            self.truncate_prefix(index);
            self.offset_term = term;
        } else {
            self.entries.clear();
            self.offset = index;
            self.offset_term = term;
        }
        self.snapshot = Some(snap);
        self.committed = self.committed.max(index);
        self.applied = index;
        self.stable = self.stable.clamp(index, self.last_index());
        if !keep {
            self.stable = index;
        }
        self.entries.len() as u64
    }

    pub fn all_entries(&self) -> &[Entry] {
        &self.entries
    }

    #[cfg(test)]
    pub fn debug_assert_invariants(&self) {
        for (k, e) in self.entries.iter().enumerate() {
            assert_eq!(e.index, self.offset + 1 + k as Index, "log not contiguous");
        }
        assert!(self.applied <= self.committed, "applied > committed");
        assert!(self.committed <= self.last_index(), "committed > last");
        assert!(self.snapshot_index() <= self.applied.max(self.snapshot_index()));
        assert!(self.offset <= self.snapshot_index() || self.snapshot.is_none());
        assert!(self.stable <= self.last_index());
    }
}

/// What `install` does with the entries after the snapshot index.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SuffixRule {
    /// Raft §7: keep them when our entry at the index has the snapshot's term.
    KeepMatching,
    /// Bug mutant: keep them without checking that term.
    KeepUnchecked,
}
