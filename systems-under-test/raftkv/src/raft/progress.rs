//! The leader's view of each follower (etcd's Progress).
use super::types::{Index, SnapshotMeta};
use std::rc::Rc;

#[derive(Debug)]
pub struct Progress {
    /// Highest index known to be replicated on the follower.
    pub matched: Index,
    /// Next index to send.
    pub next: Index,
    pub state: ProgressState,
    /// Heard from since the last check-quorum round.
    pub recent_active: bool,
    /// Probe state: an append is outstanding; wait for its answer (or a heartbeat
    /// response) before sending another.
    pub probe_sent: bool,
    /// Tick (leader's clock) at which the last heartbeat this follower acknowledged
    /// was sent: the basis of the leader lease.
    pub last_ack_sent_at: Option<u64>,
    /// The follower's incarnation as last heard (see `Message::incarnation`).
    pub incarnation: u64,
    /// The follower lost its disk and has not caught up: it counts toward no quorum.
    pub recovering: bool,
    /// The no-op appended for the follower's recovery; once it is committed the
    /// follower is told so (`Body::Recovered`).
    pub recover_at: Option<Index>,
}

#[derive(Debug)]
pub enum ProgressState {
    /// Find the match point one append at a time.
    Probe,
    /// Stream appends optimistically.
    Replicate,
    /// The follower needs entries we compacted: stream a snapshot to it.
    Snapshot(Transfer),
}

/// An outgoing snapshot transfer: stop-and-wait by chunk, resent when no
/// acknowledgement arrives within a few ticks (the network may drop, duplicate or
/// reorder chunks).
#[derive(Debug)]
pub struct Transfer {
    pub meta: SnapshotMeta,
    pub data: Rc<Vec<u8>>,
    pub crc: u32,
    /// The offset the follower asked for last.
    pub acked: u64,
    pub ticks_since_ack: u32,
}

impl Progress {
    pub fn new(next: Index) -> Self {
        Progress {
            matched: 0,
            next,
            state: ProgressState::Probe,
            recent_active: false,
            probe_sent: false,
            last_ack_sent_at: None,
            incarnation: 0,
            recovering: false,
            recover_at: None,
        }
    }

    /// The follower came back as a new incarnation (it lost its disk): nothing it
    /// acknowledged before is on its disk any more. Start over from `next`.
    pub fn reset_for_incarnation(&mut self, incarnation: u64, recovering: bool, next: Index) {
        self.matched = 0;
        self.next = next;
        self.state = ProgressState::Probe;
        self.probe_sent = false;
        self.last_ack_sent_at = None;
        self.incarnation = incarnation;
        self.recovering = recovering;
        self.recover_at = None;
    }

    pub fn become_probe(&mut self) {
        // After a snapshot, continue right after it.
        if let ProgressState::Snapshot(t) = &self.state {
            self.next = (self.matched + 1).max(t.meta.index + 1);
        } else {
            self.next = self.matched + 1;
        }
        self.state = ProgressState::Probe;
        self.probe_sent = false;
    }

    /// After a rejection in Replicate state: stop streaming, keep the `next` that
    /// `maybe_decr_to` chose, and probe from there.
    pub fn fall_back_to_probe(&mut self) {
        if let ProgressState::Replicate = self.state {
            self.state = ProgressState::Probe;
        }
        self.probe_sent = false;
    }

    pub fn become_replicate(&mut self) {
        self.next = self.matched + 1;
        self.state = ProgressState::Replicate;
        self.probe_sent = false;
    }

    /// A successful append response: returns true if it told us something new.
    pub fn maybe_update(&mut self, n: Index) -> bool {
        let updated = n > self.matched;
        if updated {
            self.matched = n;
            self.probe_sent = false;
        }
        self.next = self.next.max(n + 1);
        updated
    }

    /// A rejected append for `rejected` (the prev index we sent). `probe` is where
    /// the follower's hint says to try next. Returns false for a stale rejection.
    pub fn maybe_decr_to(&mut self, rejected: Index, probe: Index) -> bool {
        if let ProgressState::Replicate = self.state {
            // A rejection of something already matched is stale.
            if rejected <= self.matched {
                return false;
            }
            self.next = (self.matched + 1).max(probe + 1).min(rejected);
            return true;
        }
        // Probe: only the answer to the append we sent (prev = next-1) counts.
        if self.next == 0 || self.next - 1 != rejected {
            return false;
        }
        self.next = (probe + 1).min(rejected).max(self.matched + 1).max(1);
        self.probe_sent = false;
        true
    }

    pub fn is_paused(&self) -> bool {
        match self.state {
            ProgressState::Probe => self.probe_sent,
            ProgressState::Replicate => false,
            ProgressState::Snapshot(_) => true,
        }
    }
}
