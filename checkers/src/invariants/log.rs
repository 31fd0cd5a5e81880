//! The committed log as the trace shows it: every entry some node applied, by
//! index. Applied implies committed, and every committed index up to the highest
//! applied one was applied by some node (each snapshot was first made by a node
//! that applied the entries it covers), so this is the whole committed prefix.
use super::reference::{Effect, ReferenceKv};
use std::collections::BTreeMap;
use sut::ops::Op;
use sut::trace::{ApplyKind, ConfChange, TraceEvent, TraceRecord};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogEntry {
    pub term: u64,
    pub kind: ApplyKind,
    pub digest: u64,
    pub client: Option<u64>,
    pub seq: Option<u64>,
    pub op: Option<Op>,
    pub conf_change: Option<ConfChange>,
    /// Who applied it first, and when.
    pub node: u64,
    pub time: u64,
}

/// One apply that disagrees with the first apply of the same index.
#[derive(Clone, Debug)]
pub struct Conflict {
    pub index: u64,
    pub first: LogEntry,
    pub other: LogEntry,
}

pub struct CommittedLog {
    pub entries: BTreeMap<u64, LogEntry>,
    pub conflicts: Vec<Conflict>,
    pub applies: usize,
}

impl CommittedLog {
    pub fn from_trace(trace: &[TraceRecord]) -> Self {
        let mut entries: BTreeMap<u64, LogEntry> = BTreeMap::new();
        let mut conflicts = Vec::new();
        let mut applies = 0;
        for r in trace {
            let TraceEvent::Apply {
                index,
                term,
                kind,
                digest,
                client,
                seq,
                op,
                conf_change,
                ..
            } = &r.event
            else {
                continue;
            };
            applies += 1;
            let e = LogEntry {
                term: *term,
                kind: *kind,
                digest: *digest,
                client: *client,
                seq: *seq,
                op: op.clone(),
                conf_change: *conf_change,
                node: r.node,
                time: r.time,
            };
            match entries.get(index) {
                None => {
                    entries.insert(*index, e);
                }
                Some(first) if first.term != e.term || first.digest != e.digest => {
                    conflicts.push(Conflict {
                        index: *index,
                        first: first.clone(),
                        other: e,
                    });
                }
                Some(_) => {}
            }
        }
        CommittedLog {
            entries,
            conflicts,
            applies,
        }
    }

    pub fn last_index(&self) -> u64 {
        self.entries.keys().next_back().copied().unwrap_or(0)
    }

    /// Replays the log on a fresh reference KV, calling `at(index, &kv)` after each
    /// index in `checkpoints` (sorted). Returns an error naming the first index
    /// that no node applied, if a checkpoint lies beyond such a gap.
    pub fn replay(
        &self,
        checkpoints: &[u64],
        mut at: impl FnMut(u64, &ReferenceKv),
    ) -> Result<(), u64> {
        let mut kv = ReferenceKv::default();
        let mut next = 1u64;
        for &cp in checkpoints {
            while next <= cp {
                let e = self.entries.get(&next).ok_or(next)?;
                if let Some((client, seq, op)) = e.command() {
                    kv.apply(client, seq, op);
                }
                next += 1;
            }
            at(cp, &kv);
        }
        Ok(())
    }

    /// What every command of the gap-free committed prefix does on the
    /// reference, by index.
    pub fn effects(&self) -> BTreeMap<u64, Effect> {
        let mut kv = ReferenceKv::default();
        let mut out = BTreeMap::new();
        for (i, e) in self
            .entries
            .iter()
            .zip(1u64..)
            .take_while(|((i, _), n)| *i == n)
            .map(|((i, e), _)| (i, e))
        {
            if let Some((client, seq, op)) = e.command() {
                out.insert(*i, kv.apply(client, seq, op));
            }
        }
        out
    }
}

impl LogEntry {
    /// (client, seq, op) when the entry is a client command.
    pub fn command(&self) -> Option<(u64, u64, &Op)> {
        match (self.kind, &self.op, self.client, self.seq) {
            (ApplyKind::Command, Some(op), Some(client), Some(seq)) => Some((client, seq, op)),
            _ => None,
        }
    }
}
