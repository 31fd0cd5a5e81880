//! Tunables of the protocol core. Times are in ticks of the node's own clock.
use super::types::NodeId;
use crate::bugs::Bugs;

#[derive(Clone, Debug)]
pub struct Config {
    pub id: NodeId,
    /// Base election timeout; each round picks a random timeout in [e, 2e).
    pub election_tick: u32,
    pub heartbeat_tick: u32,
    pub pre_vote: bool,
    /// A leader steps down when it has not heard from a quorum for an election
    /// timeout, and followers that heard from a leader recently ignore vote requests.
    pub check_quorum: bool,
    pub max_entries_per_msg: usize,
    /// Payload bytes per snapshot chunk (chunks must fit one datagram).
    pub snapshot_chunk_size: usize,
    /// Resend the current chunk after this many ticks without an acknowledgement.
    pub snapshot_retransmit_ticks: u32,
    pub read_mode: ReadMode,
    /// The largest relative clock-rate error between two nodes that lease reads
    /// must tolerate (0.1 = clocks may run 10% fast or slow).
    pub max_clock_drift: f64,
    /// Seeds the randomised election timeouts.
    pub seed: u64,
    /// Bug mutants switched on (empty for the clean system).
    pub bugs: Bugs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadMode {
    /// The leader confirms it still leads with a heartbeat quorum (Raft §6.4).
    ReadIndex,
    /// The leader serves reads while its lease holds, by its own clock.
    Lease,
}

impl Config {
    pub fn new(id: NodeId, seed: u64) -> Self {
        Config {
            id,
            election_tick: 10,
            heartbeat_tick: 2,
            pre_vote: true,
            check_quorum: true,
            max_entries_per_msg: 64,
            snapshot_chunk_size: 1024,
            snapshot_retransmit_ticks: 4,
            read_mode: ReadMode::ReadIndex,
            max_clock_drift: 0.2,
            seed,
            bugs: Bugs::NONE,
        }
    }

    /// How long a lease lasts in the leader's ticks. Followers refuse votes for
    /// `election_tick` of *their* ticks after hearing from the leader; with clock
    /// rates within 1±d the leader may only count on e·(1-d)/(1+d) of its own, less
    /// one tick for granularity.
    pub fn lease_ticks(&self) -> u64 {
        if self.bugs.has(crate::bugs::Bug::StaleLeaseRead) {
            // Bug mutant: the lease is the followers' whole election timeout, as
            // if every clock ran at the leader's rate.
            return u64::from(self.election_tick);
        }
        let d = self.max_clock_drift.clamp(0.0, 0.9);
        let safe = f64::from(self.election_tick) * (1.0 - d) / (1.0 + d);
        (safe.floor() as u64).saturating_sub(1)
    }
}
