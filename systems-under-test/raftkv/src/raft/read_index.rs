//! ReadIndex bookkeeping (Raft §6.4): every read is tied to a heartbeat round; it is
//! safe to serve at its recorded commit index once a quorum of voters answered a
//! heartbeat of that round or a later one (so we were still leader when it arrived).
use super::types::{Index, NodeId};
use std::collections::{BTreeMap, VecDeque};

#[derive(Debug, Default)]
pub struct ReadRounds {
    round: u64,
    /// Round -> leader tick it was sent at (recent rounds only), for the lease.
    sent: BTreeMap<u64, u64>,
    /// (request, read index, round), oldest first.
    pending: VecDeque<(u64, Index, u64)>,
    /// Highest round each peer acknowledged.
    acked: BTreeMap<NodeId, u64>,
    /// Requests waiting until an entry of the leader's term commits.
    waiting: Vec<u64>,
}

const ROUNDS_REMEMBERED: usize = 256;

impl ReadRounds {
    pub fn next_round(&mut self) -> u64 {
        self.round += 1;
        self.round
    }

    /// Registers a read at `index`; returns the round whose heartbeat confirms it.
    pub fn add(&mut self, request: u64, index: Index) -> u64 {
        let round = self.next_round();
        self.pending.push_back((request, index, round));
        round
    }

    pub fn sent_round(&mut self, round: u64, tick: u64) {
        self.sent.insert(round, tick);
        while self.sent.len() > ROUNDS_REMEMBERED {
            self.sent.pop_first();
        }
    }

    pub fn sent_at(&self, round: u64) -> Option<u64> {
        self.sent.get(&round).copied()
    }

    /// Records that `from` answered `round`; returns the reads now confirmed.
    pub fn ack(
        &mut self,
        from: NodeId,
        round: u64,
        leader: NodeId,
        voters: &[NodeId],
        quorum: usize,
    ) -> Vec<(u64, Index)> {
        let best = self.acked.entry(from).or_insert(0);
        *best = (*best).max(round);
        let mut ready = Vec::new();
        while let Some(&(request, index, r)) = self.pending.front() {
            let acks = voters
                .iter()
                .filter(|v| **v == leader || self.acked.get(v).is_some_and(|a| *a >= r))
                .count();
            if acks < quorum {
                break;
            }
            self.pending.pop_front();
            ready.push((request, index));
        }
        ready
    }

    pub fn wait_for_commit(&mut self, request: u64) {
        self.waiting.push(request);
    }

    pub fn has_waiting(&self) -> bool {
        !self.waiting.is_empty()
    }

    pub fn take_waiting(&mut self) -> Vec<u64> {
        std::mem::take(&mut self.waiting)
    }

    /// Leadership ended: every unanswered read is dropped.
    pub fn drain(&mut self) -> Vec<u64> {
        self.acked.clear();
        let mut out: Vec<u64> = self.pending.drain(..).map(|(r, _, _)| r).collect();
        out.append(&mut self.waiting);
        out
    }
}
