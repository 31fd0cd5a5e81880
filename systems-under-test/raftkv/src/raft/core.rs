//! The Raft state machine: `step`, `tick`, `propose`, `read_index` in; `ready` out.
//!
//! Nothing here does I/O. The runtime's contract for each `Ready` is, in order:
//! 1. persist `snapshot` (if any), `entries` and `hard_state`, and fsync;
//! 2. only then send `messages` (a vote or an append acknowledgement must never
//!    leave before the state it promises is durable);
//! 3. restore the state machine from `snapshot`, then apply `committed` in order;
//! 4. answer `read_states` once the state machine has applied their index.
use super::config::{Config, ReadMode};
use super::log::{RaftLog, SuffixRule};
use super::message::{Body, Message};
use super::progress::{Progress, ProgressState, Transfer};
use super::read_index::ReadRounds;
use super::types::*;
use crate::bugs::Bug;
use crate::probe::{hit, hit_if, Probe};
use crate::trace::{ConfSource, Role, TraceEvent};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::rc::Rc;

/// What a node recovered from disk (or a fresh node's bootstrap state).
#[derive(Clone, Debug, Default)]
pub struct Bootstrap {
    pub hard_state: HardState,
    pub snapshot: Option<Snapshot>,
    pub entries: Vec<Entry>,
    /// The initial cluster (etcd's initial-cluster). The log starts from it when no
    /// snapshot says otherwise.
    pub initial_conf: ConfState,
    /// The node lost its disk: it must not vote or campaign until it has caught up
    /// with a leader (a voter with an empty log could elect a leader that lacks
    /// committed entries, and has forgotten whom it voted for).
    pub recovering: bool,
    /// The number of the disk this node runs on (see `Message::incarnation`).
    pub incarnation: u64,
}

#[derive(Debug, Default)]
pub struct Ready {
    pub hard_state: Option<HardState>,
    pub entries: Vec<Entry>,
    pub snapshot: Option<Snapshot>,
    pub committed: Vec<Entry>,
    pub messages: Vec<Message>,
    pub read_states: Vec<ReadState>,
    /// Read requests this node can no longer answer (it stopped leading).
    pub dropped_reads: Vec<u64>,
    pub events: Vec<TraceEvent>,
}

impl Ready {
    pub fn is_empty(&self) -> bool {
        self.hard_state.is_none()
            && self.entries.is_empty()
            && self.snapshot.is_none()
            && self.committed.is_empty()
            && self.messages.is_empty()
            && self.read_states.is_empty()
            && self.dropped_reads.is_empty()
            && self.events.is_empty()
    }
}

/// A read request that may be served once the state machine applied `index`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadState {
    pub request: u64,
    pub index: Index,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProposeError {
    NotLeader {
        leader: Option<NodeId>,
    },
    /// Single-server membership changes go one at a time.
    ConfChangePending,
}

/// A snapshot being received from the leader.
#[derive(Debug)]
struct Incoming {
    meta: SnapshotMeta,
    total: u64,
    crc: u32,
    buf: Vec<u8>,
}

pub struct Raft {
    pub id: NodeId,
    cfg: Config,
    term: Term,
    vote: Option<NodeId>,
    leader: Option<NodeId>,
    role: Role,
    pub log: RaftLog,
    conf: ConfState,
    prs: BTreeMap<NodeId, Progress>,
    votes: BTreeMap<NodeId, bool>,
    election_elapsed: u32,
    heartbeat_elapsed: u32,
    randomized_timeout: u32,
    /// Ticks since this node started: the leader's lease clock.
    ticks: u64,
    rng: ChaCha8Rng,
    msgs: Vec<Message>,
    reads: ReadRounds,
    read_states: Vec<ReadState>,
    dropped_reads: Vec<u64>,
    /// No new membership change until the one at this index is applied.
    pending_conf_index: Index,
    incoming: Option<Incoming>,
    /// A snapshot installed from the leader that the runtime must persist and restore.
    installed: Option<Snapshot>,
    prev_hard_state: HardState,
    reported_commit: Index,
    events: Vec<TraceEvent>,
    /// Some while recovering from a lost disk; holds the index a leader said
    /// is committed past everything from before the loss (`Body::Recovered`).
    recovering: Option<Option<Index>>,
    incarnation: u64,
}

impl Raft {
    pub fn new(cfg: Config, boot: Bootstrap) -> Self {
        let conf = boot
            .snapshot
            .as_ref()
            .map_or_else(|| boot.initial_conf.clone(), |s| s.meta.conf.clone());
        let log = RaftLog::recovered(boot.snapshot, boot.entries, boot.hard_state.commit);
        let mut r = Raft {
            id: cfg.id,
            rng: ChaCha8Rng::seed_from_u64(cfg.seed),
            cfg,
            term: boot.hard_state.term,
            vote: boot.hard_state.vote,
            leader: None,
            role: Role::Follower,
            prev_hard_state: HardState::default(),
            reported_commit: log.committed,
            log,
            conf,
            prs: BTreeMap::new(),
            votes: BTreeMap::new(),
            election_elapsed: 0,
            heartbeat_elapsed: 0,
            randomized_timeout: 0,
            ticks: 0,
            msgs: Vec::new(),
            reads: ReadRounds::default(),
            read_states: Vec::new(),
            dropped_reads: Vec::new(),
            pending_conf_index: 0,
            incoming: None,
            installed: None,
            events: Vec::new(),
            recovering: boot.recovering.then_some(None),
            incarnation: boot.incarnation,
        };
        r.prev_hard_state = r.hard_state();
        r.reset_randomized_timeout();
        r.events.push(TraceEvent::ConfChanged {
            index: r.log.snapshot_index(),
            conf: r.conf.membership(),
            source: ConfSource::Boot,
        });
        r
    }

    // ----- accessors -------------------------------------------------------------

    pub fn term(&self) -> Term {
        self.term
    }
    pub fn role(&self) -> Role {
        self.role
    }
    pub fn leader(&self) -> Option<NodeId> {
        self.leader
    }
    pub fn conf(&self) -> &ConfState {
        &self.conf
    }
    pub fn is_recovering(&self) -> bool {
        self.recovering.is_some()
    }
    pub fn hard_state(&self) -> HardState {
        HardState {
            term: self.term,
            vote: self.vote,
            commit: self.log.committed,
        }
    }
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// The metadata a snapshot of the state machine at `applied` must carry.
    pub fn snapshot_meta_at_applied(&self) -> SnapshotMeta {
        let index = self.log.applied;
        SnapshotMeta {
            index,
            term: self.log.term(index).unwrap_or(0),
            conf: self.conf.clone(),
        }
    }

    /// Records a snapshot the runtime took at `snap.meta.index` (and made durable)
    /// and compacts the in-memory log, keeping `trailing` entries before it.
    pub fn compact(&mut self, snap: Snapshot, trailing: u64) {
        self.log.compact(snap, trailing);
    }

    // ----- inputs ----------------------------------------------------------------

    pub fn tick(&mut self) {
        self.ticks += 1;
        if self.role == Role::Leader {
            self.tick_leader();
        } else {
            self.election_elapsed += 1;
            if self.promotable() && self.election_elapsed >= self.randomized_timeout {
                self.election_elapsed = 0;
                hit(Probe::ElectionTimeout);
                self.campaign(self.cfg.pre_vote);
            }
        }
    }

    fn tick_leader(&mut self) {
        self.heartbeat_elapsed += 1;
        self.election_elapsed += 1;
        if self.election_elapsed >= self.cfg.election_tick {
            self.election_elapsed = 0;
            if self.cfg.check_quorum {
                // Bug mutant `leader-ignores-lost-quorum`: the check runs, the
                // step-down does not.
                let ignores = self.cfg.bugs.has(Bug::LeaderIgnoresLostQuorum);
                if !self.quorum_recently_active() && !ignores {
                    // We may be on the minority side of a partition: stop leading
                    // so clients go find the real leader.
                    hit(Probe::CheckQuorumStepDown);
                    self.become_follower(self.term, None);
                    return;
                }
                for (id, pr) in self.prs.iter_mut() {
                    pr.recent_active = *id == self.id;
                }
            }
        }
        if self.heartbeat_elapsed >= self.cfg.heartbeat_tick {
            self.heartbeat_elapsed = 0;
            self.bcast_heartbeat();
        }
        self.tick_snapshot_transfers();
    }

    /// Starts an election now (etcd's MsgHup): for tests and leadership hand-off.
    pub fn campaign_now(&mut self) {
        if self.promotable() && self.role != Role::Leader {
            self.campaign(self.cfg.pre_vote);
        }
    }

    /// Proposes a payload; on success returns the index it was appended at. The
    /// entry is not committed yet: the caller must wait until it is applied.
    pub fn propose(&mut self, payload: Payload) -> Result<Index, ProposeError> {
        if self.role != Role::Leader {
            hit(Probe::ProposeNotLeader);
            return Err(ProposeError::NotLeader {
                leader: self.leader,
            });
        }
        if let Payload::ConfChange(_) = payload {
            // Bug mutant: the guard is skipped, so a change can be appended
            // while the previous one is still uncommitted.
            let overlap = self.cfg.bugs.has(Bug::ConfChangesOverlap);
            if self.pending_conf_index > self.log.applied && !overlap {
                hit(Probe::ConfChangePending);
                return Err(ProposeError::ConfChangePending);
            }
            self.pending_conf_index = self.log.last_index() + 1;
        }
        let index = self.append_entry(payload);
        self.bcast_append();
        Ok(index)
    }

    /// Asks for a linearizable read point for `request`; a `ReadState` comes out of
    /// a later `ready` (or `dropped_reads` if leadership is lost first).
    pub fn read_index(&mut self, request: u64) -> Result<(), ProposeError> {
        if self.role != Role::Leader {
            return Err(ProposeError::NotLeader {
                leader: self.leader,
            });
        }
        // Until an entry of this term commits, our commit index may lag the
        // cluster's (Raft §6.4): the read waits for the no-op to commit.
        if !self.committed_in_current_term() {
            hit(Probe::ReadWaitedForTermCommit);
            if self.cfg.bugs.has(Bug::NewLeaderDropsReads) {
                // Bug mutant: the read is taken and never queued.
                return Ok(());
            }
            self.reads.wait_for_commit(request);
            return Ok(());
        }
        self.start_read(request);
        Ok(())
    }

    fn start_read(&mut self, request: u64) {
        let index = self.log.committed;
        if self.cfg.read_mode == ReadMode::Lease && self.lease_valid() {
            hit(Probe::ReadLease);
            self.read_states.push(ReadState { request, index });
            return;
        }
        let round = self.reads.add(request, index);
        hit(Probe::ReadIndexRound);
        if self.conf.quorum() <= 1 {
            self.confirm_reads(self.id, round);
        } else {
            self.bcast_heartbeat_round(round);
        }
    }

    /// The runtime applied a membership change committed at `index`.
    pub fn apply_conf_change(&mut self, index: Index, cc: ConfChange) {
        let was_learner = self.conf.learners.contains(&cc.node);
        let was_voter = self.conf.is_voter(cc.node);
        if !self.conf.apply(cc) {
            hit(Probe::ConfChangeNoop);
            return;
        }
        hit(match cc.kind {
            ConfChangeKind::AddLearner => Probe::ConfLearnerAdded,
            ConfChangeKind::AddVoter if was_learner => Probe::ConfLearnerPromoted,
            ConfChangeKind::AddVoter => Probe::ConfVoterAdded,
            ConfChangeKind::Remove if was_voter => Probe::ConfVoterRemoved,
            ConfChangeKind::Remove => Probe::ConfLearnerRemoved,
        });
        self.events.push(TraceEvent::ConfChanged {
            index,
            conf: self.conf.membership(),
            source: ConfSource::Applied,
        });
        if self.role == Role::Leader {
            let next = self.log.last_index() + 1;
            let members: Vec<NodeId> = self.conf.members().collect();
            self.prs.retain(|id, _| members.contains(id));
            for id in members {
                self.prs.entry(id).or_insert_with(|| Progress::new(next));
            }
            if !self.conf.is_voter(self.id) {
                // A leader removed from the voters steps down once the change applies.
                hit(Probe::ConfLeaderRemoved);
                self.become_follower(self.term, None);
                return;
            }
            // A smaller quorum may commit more now.
            if self.maybe_commit() {
                self.bcast_append();
            }
        }
    }

    pub fn step(&mut self, m: Message) {
        if m.term > self.term {
            let is_vote = matches!(m.body, Body::Vote { .. } | Body::PreVote { .. });
            if is_vote && self.in_leader_lease() {
                // check-quorum: we heard from a live leader within an election
                // timeout, so this candidate is disruptive; ignore it.
                hit(Probe::VoteIgnoredInLease);
                return;
            }
            match m.body {
                Body::PreVote { .. } => {}
                Body::PreVoteResp { reject: false } => {}
                Body::Append { .. } | Body::Heartbeat { .. } | Body::SnapshotChunk { .. } => {
                    hit(Probe::TermBumped);
                    self.become_follower(m.term, Some(m.from))
                }
                _ => {
                    hit(Probe::TermBumped);
                    self.become_follower(m.term, None)
                }
            }
        } else if m.term < self.term {
            match m.body {
                // A stale leader: tell it about the newer term so it steps down.
                Body::Append { .. } | Body::Heartbeat { .. } | Body::SnapshotChunk { .. } => {
                    hit(Probe::AppendRejectedStaleTerm);
                    self.send(
                        m.from,
                        Body::AppendResp {
                            reject: true,
                            index: 0,
                            hint_index: 0,
                            hint_term: 0,
                        },
                    );
                }
                Body::PreVote { .. } => {
                    hit(Probe::PreVoteRefused);
                    self.send(m.from, Body::PreVoteResp { reject: true })
                }
                _ => {}
            }
            return;
        }

        let is_answer = matches!(
            m.body,
            Body::AppendResp { .. } | Body::HeartbeatResp { .. } | Body::SnapshotAck { .. }
        );
        if is_answer && self.role == Role::Leader && !self.observe_incarnation(&m) {
            return;
        }
        match m.body {
            Body::PreVote {
                last_index,
                last_term,
            }
            | Body::Vote {
                last_index,
                last_term,
            } => self.handle_vote_request(&m, last_index, last_term),
            Body::PreVoteResp { reject } if self.role == Role::PreCandidate => {
                self.handle_vote_response(m.from, !reject);
            }
            Body::VoteResp { reject } if self.role == Role::Candidate => {
                self.handle_vote_response(m.from, !reject);
            }
            Body::PreVoteResp { .. } | Body::VoteResp { .. } => {}
            Body::Append { .. } | Body::Heartbeat { .. } | Body::SnapshotChunk { .. } => {
                if self.role != Role::Follower || self.leader != Some(m.from) {
                    self.become_follower(self.term, Some(m.from));
                }
                self.election_elapsed = 0;
                match m.body {
                    Body::Append {
                        prev_index,
                        prev_term,
                        entries,
                        commit,
                    } => self.handle_append(m.from, prev_index, prev_term, entries, commit),
                    Body::Heartbeat { commit, ctx } => self.handle_heartbeat(m.from, commit, ctx),
                    Body::SnapshotChunk {
                        meta,
                        offset,
                        total,
                        crc,
                        data,
                        last,
                    } => self.handle_snapshot_chunk(m.from, meta, offset, total, crc, data, last),
                    _ => unreachable!(),
                }
            }
            Body::AppendResp {
                reject,
                index,
                hint_index,
                hint_term,
            } if self.role == Role::Leader => {
                self.handle_append_response(m.from, reject, index, hint_index, hint_term)
            }
            Body::HeartbeatResp { ctx } if self.role == Role::Leader => {
                self.handle_heartbeat_response(m.from, ctx)
            }
            Body::SnapshotAck {
                snap_term,
                snap_index,
                next_offset,
                restart,
            } if self.role == Role::Leader => {
                self.handle_snapshot_ack(m.from, snap_term, snap_index, next_offset, restart)
            }
            Body::Recovered { index } if self.leader == Some(m.from) => {
                if let Some(target) = &mut self.recovering {
                    *target = Some(index);
                }
            }
            Body::AppendResp { .. }
            | Body::HeartbeatResp { .. }
            | Body::SnapshotAck { .. }
            | Body::Recovered { .. } => {}
        }
    }

    /// Tracks a follower's incarnation and recovery from its answers. Returns
    /// false for an answer from an earlier incarnation, which must be ignored.
    fn observe_incarnation(&mut self, m: &Message) -> bool {
        let next = self.log.last_index() + 1;
        let Some(pr) = self.prs.get_mut(&m.from) else {
            return true;
        };
        if m.incarnation < pr.incarnation {
            hit(Probe::RecoveringOldIncarnationIgnored);
            return false;
        }
        if m.incarnation > pr.incarnation {
            hit(Probe::RecoveringNewIncarnation);
            pr.reset_for_incarnation(m.incarnation, m.recovering, next);
        } else if pr.recovering && !m.recovering {
            // Within one incarnation recovery only ends; a late answer sent
            // while still recovering cannot undo that.
            pr.recovering = false;
            pr.recover_at = None;
        }
        if pr.recovering && pr.recover_at.is_none() {
            // An entry of this term appended now lands after everything
            // committed before the follower lost its disk; its commit (by a
            // quorum without the follower) marks how far it must catch up.
            hit(Probe::RecoveringLeaderNoop);
            let index = self.append_entry(Payload::Noop);
            if let Some(pr) = self.prs.get_mut(&m.from) {
                pr.recover_at = Some(index);
            }
            self.bcast_append();
        }
        true
    }

    /// Whether `id`'s acknowledgements count toward a quorum: not while it is
    /// recovering from a lost disk.
    fn counts_for_quorum(&self, id: NodeId) -> bool {
        id == self.id || self.prs.get(&id).is_some_and(|p| !p.recovering)
    }

    /// Collects everything the runtime must do next (see the module docs).
    pub fn ready(&mut self) -> Ready {
        let snapshot = self.installed.take();
        let entries = self.log.unstable().to_vec();
        self.log.stable = self.log.last_index();
        let hs = self.hard_state();
        let hard_state = (hs != self.prev_hard_state).then_some(hs);
        self.prev_hard_state = hs;
        if self.log.committed > self.reported_commit {
            self.reported_commit = self.log.committed;
            let term = self.log.term(self.log.committed).unwrap_or(0);
            self.events.push(TraceEvent::Commit {
                index: self.log.committed,
                term,
            });
        }
        // A Ready that installs a snapshot applies nothing else: the runtime
        // restores first, and reads `applied` as the snapshot left it.
        let committed = if snapshot.is_some() {
            Vec::new()
        } else {
            self.log.next_committed(256)
        };
        if let Some(last) = committed.last() {
            self.log.applied = last.index;
        }
        self.check_recovered();
        Ready {
            hard_state,
            entries,
            snapshot,
            committed,
            messages: std::mem::take(&mut self.msgs),
            read_states: std::mem::take(&mut self.read_states),
            dropped_reads: std::mem::take(&mut self.dropped_reads),
            events: std::mem::take(&mut self.events),
        }
    }

    pub fn has_ready(&self) -> bool {
        self.installed.is_some()
            || self.log.stable < self.log.last_index()
            || self.hard_state() != self.prev_hard_state
            || self.log.applied < self.log.committed
            || !self.msgs.is_empty()
            || !self.read_states.is_empty()
            || !self.dropped_reads.is_empty()
            || !self.events.is_empty()
    }

    // ----- roles -----------------------------------------------------------------

    fn promotable(&self) -> bool {
        self.conf.is_voter(self.id) && self.recovering.is_none()
    }

    fn reset_randomized_timeout(&mut self) {
        let e = self.cfg.election_tick;
        self.randomized_timeout = self.rng.random_range(e..2 * e);
    }

    fn reset(&mut self, term: Term) {
        if term != self.term {
            self.term = term;
            self.vote = None;
        }
        self.leader = None;
        self.election_elapsed = 0;
        self.heartbeat_elapsed = 0;
        self.reset_randomized_timeout();
        self.votes.clear();
        self.prs.clear();
        let before = self.dropped_reads.len();
        self.dropped_reads.extend(self.reads.drain());
        hit_if(self.dropped_reads.len() > before, Probe::ReadDropped);
    }

    fn set_role(&mut self, role: Role) {
        self.role = role;
        self.events.push(TraceEvent::Role {
            role,
            term: self.term,
            leader: self.leader,
            last_index: self.log.last_index(),
            last_term: self.log.last_term(),
        });
    }

    fn become_follower(&mut self, term: Term, leader: Option<NodeId>) {
        self.reset(term);
        self.leader = leader;
        self.set_role(Role::Follower);
    }

    fn become_pre_candidate(&mut self) {
        // Pre-vote changes neither term nor vote.
        self.votes.clear();
        self.leader = None;
        self.set_role(Role::PreCandidate);
    }

    fn become_candidate(&mut self) {
        self.reset(self.term + 1);
        self.vote = Some(self.id);
        self.set_role(Role::Candidate);
    }

    fn become_leader(&mut self) {
        self.reset(self.term);
        self.leader = Some(self.id);
        let next = self.log.last_index() + 1;
        for id in self.conf.members() {
            let mut pr = Progress::new(next);
            pr.recent_active = true;
            self.prs.insert(id, pr);
        }
        self.set_role(Role::Leader);
        // Conservatively assume an uncommitted membership change may be in the log.
        self.pending_conf_index = self.log.last_index();
        if self.cfg.bugs.has(Bug::CommitOldTerm) {
            // Bug mutant: no no-op (earlier terms' entries wait for a client
            // entry of this term, or for the mutant's commit rule); the leader's
            // own log still counts toward a quorum.
            let last = self.log.last_index();
            if let Some(pr) = self.prs.get_mut(&self.id) {
                pr.maybe_update(last);
            }
        } else {
            self.append_entry(Payload::Noop);
        }
        self.bcast_append();
    }

    fn campaign(&mut self, pre: bool) {
        let term = if pre {
            self.become_pre_candidate();
            self.term + 1
        } else {
            self.become_candidate();
            self.term
        };
        if self.handle_vote_response(self.id, true) {
            hit(Probe::ElectionSingleVoter);
            return; // a single-voter cluster wins at once
        }
        let (last_index, last_term) = (self.log.last_index(), self.log.last_term());
        let voters: Vec<NodeId> = self.conf.voters.clone();
        for to in voters.into_iter().filter(|&v| v != self.id) {
            let body = if pre {
                Body::PreVote {
                    last_index,
                    last_term,
                }
            } else {
                Body::Vote {
                    last_index,
                    last_term,
                }
            };
            let m = self.message(to, term, body);
            self.msgs.push(m);
        }
    }

    /// Counts a (pre-)vote; returns true when the election was decided by it.
    fn handle_vote_response(&mut self, from: NodeId, granted: bool) -> bool {
        if !self.conf.is_voter(from) {
            return false;
        }
        self.votes.entry(from).or_insert(granted);
        let yes = self.votes.values().filter(|g| **g).count();
        let no = self.votes.len() - yes;
        let q = self.conf.quorum();
        if yes >= q {
            if self.role == Role::PreCandidate {
                hit(Probe::PreVoteWon);
                self.campaign(false);
            } else {
                hit(Probe::ElectionWon);
                self.become_leader();
            }
            true
        } else if no >= q {
            hit(Probe::ElectionLost);
            self.become_follower(self.term, None);
            true
        } else {
            false
        }
    }

    fn handle_vote_request(&mut self, m: &Message, last_index: Index, last_term: Term) {
        let pre = matches!(m.body, Body::PreVote { .. });
        let can_vote = self.vote == Some(m.from)
            || (self.vote.is_none() && self.leader.is_none())
            || (pre && m.term > self.term);
        let up_to_date = self.log.is_up_to_date(last_index, last_term);
        let grant = can_vote && self.recovering.is_none() && up_to_date;
        hit(match (pre, grant) {
            (true, true) => Probe::PreVoteGranted,
            (true, false) => Probe::PreVoteRefused,
            (false, true) => Probe::VoteGranted,
            (false, false) if !can_vote => Probe::VoteRefusedAlreadyVoted,
            (false, false) if self.recovering.is_some() => Probe::VoteRefusedRecovering,
            (false, false) => Probe::VoteRefusedLogBehind,
        });
        let term = if grant { m.term } else { self.term };
        let body = if pre {
            Body::PreVoteResp { reject: !grant }
        } else {
            Body::VoteResp { reject: !grant }
        };
        if grant && !pre {
            self.election_elapsed = 0;
            self.vote = Some(m.from);
            self.events.push(TraceEvent::VoteGranted {
                term: self.term,
                candidate: m.from,
            });
        }
        let reply = self.message(m.from, term, body);
        self.msgs.push(reply);
    }

    fn in_leader_lease(&self) -> bool {
        self.cfg.check_quorum
            && self.leader.is_some()
            && self.election_elapsed < self.cfg.election_tick
    }

    // ----- leader: replication ------------------------------------------------------

    fn append_entry(&mut self, payload: Payload) -> Index {
        let index = self.log.last_index() + 1;
        self.log.append(&[Entry {
            term: self.term,
            index,
            payload,
        }]);
        // The leader's own entry counts toward the quorum at once: nothing that
        // reveals the commit leaves this node before the entry is persisted.
        if let Some(pr) = self.prs.get_mut(&self.id) {
            pr.maybe_update(index);
        }
        // A single voter commits at once.
        self.maybe_commit();
        index
    }

    fn bcast_append(&mut self) {
        let peers: Vec<NodeId> = self.prs.keys().copied().filter(|&p| p != self.id).collect();
        for to in peers {
            self.send_append(to, true);
        }
    }

    /// Sends entries (or an empty probe) to `to`, or starts a snapshot transfer when
    /// the entries it needs were compacted away (etcd's MsgSnap path).
    fn send_append(&mut self, to: NodeId, allow_empty: bool) {
        let Some(pr) = self.prs.get(&to) else { return };
        if pr.is_paused() {
            return;
        }
        let next = pr.next;
        let prev = next - 1;
        let prev_term = self.log.term(prev);
        let Some(prev_term) = prev_term.filter(|_| next >= self.log.first_index()) else {
            self.start_snapshot_transfer(to);
            return;
        };
        let max = self.cfg.max_entries_per_msg as Index;
        let entries = self.log.slice(next, next + max - 1).to_vec();
        if entries.is_empty() && !allow_empty {
            return;
        }
        let last_sent = entries.last().map(|e| e.index);
        let pr = self.prs.get_mut(&to).expect("checked above");
        match pr.state {
            ProgressState::Replicate => {
                if let Some(l) = last_sent {
                    pr.next = l + 1;
                }
            }
            ProgressState::Probe => pr.probe_sent = true,
            ProgressState::Snapshot(_) => unreachable!("paused"),
        }
        let commit = self.log.committed;
        self.send(
            to,
            Body::Append {
                prev_index: prev,
                prev_term,
                entries,
                commit,
            },
        );
    }

    fn bcast_heartbeat(&mut self) {
        let round = self.reads.next_round();
        self.bcast_heartbeat_round(round);
    }

    fn bcast_heartbeat_round(&mut self, round: u64) {
        self.reads.sent_round(round, self.ticks);
        let peers: Vec<(NodeId, Index)> = self
            .prs
            .iter()
            .filter(|(id, _)| **id != self.id)
            .map(|(id, pr)| (*id, pr.matched.min(self.log.committed)))
            .collect();
        for (to, commit) in peers {
            self.send(to, Body::Heartbeat { commit, ctx: round });
        }
        let recovered: Vec<(NodeId, Index)> = self
            .prs
            .iter()
            .filter(|(_, pr)| pr.recovering)
            .filter_map(|(id, pr)| pr.recover_at.map(|at| (*id, at)))
            .filter(|(_, at)| *at <= self.log.committed)
            .collect();
        for (to, index) in recovered {
            hit(Probe::RecoveringToldRecovered);
            self.send(to, Body::Recovered { index });
        }
    }

    fn handle_append_response(
        &mut self,
        from: NodeId,
        reject: bool,
        index: Index,
        hint_index: Index,
        hint_term: Term,
    ) {
        let probe = if reject && hint_term > 0 {
            self.log.find_conflict_by_term(hint_index, hint_term)
        } else {
            hint_index
        };
        let Some(pr) = self.prs.get_mut(&from) else {
            return;
        };
        pr.recent_active = true;
        if reject {
            if pr.maybe_decr_to(index, probe) {
                hit(Probe::AppendLeaderBackoff);
                pr.fall_back_to_probe();
                self.send_append(from, true);
            }
            return;
        }
        let updated = pr.maybe_update(index);
        match &pr.state {
            ProgressState::Probe if updated => {
                hit(Probe::AppendFollowerReplicating);
                pr.become_replicate()
            }
            ProgressState::Snapshot(t) if pr.matched >= t.meta.index => pr.become_probe(),
            _ => {}
        }
        if !updated {
            return;
        }
        if self.maybe_commit() {
            self.bcast_append();
        } else {
            // Keep the follower's pipeline full.
            self.send_append(from, false);
        }
    }

    fn handle_heartbeat_response(&mut self, from: NodeId, round: u64) {
        let Some(pr) = self.prs.get_mut(&from) else {
            return;
        };
        pr.recent_active = true;
        if let Some(sent) = self.reads.sent_at(round) {
            pr.last_ack_sent_at = Some(pr.last_ack_sent_at.map_or(sent, |t| t.max(sent)));
        }
        pr.probe_sent = false;
        if pr.matched < self.log.last_index() {
            self.send_append(from, true);
        }
        self.confirm_reads(from, round);
    }

    fn confirm_reads(&mut self, from: NodeId, round: u64) {
        if !self.conf.is_voter(from) || !self.counts_for_quorum(from) {
            return;
        }
        let quorum = self.conf.quorum();
        let ready = self
            .reads
            .ack(from, round, self.id, &self.conf.voters, quorum);
        for (request, index) in ready {
            hit(Probe::ReadIndexConfirmed);
            self.read_states.push(ReadState { request, index });
        }
    }

    /// Leader lease: the quorum-th most recent heartbeat send time that a voter
    /// acknowledged must be within `lease_ticks` of now.
    fn lease_valid(&self) -> bool {
        let mut sent: Vec<u64> = self
            .conf
            .voters
            .iter()
            .map(|id| {
                if *id == self.id {
                    Some(self.ticks)
                } else {
                    self.prs
                        .get(id)
                        .filter(|_| self.counts_for_quorum(*id))
                        .and_then(|p| p.last_ack_sent_at)
                }
            })
            .map(|t| t.unwrap_or(0))
            .collect();
        sent.sort_unstable_by(|a, b| b.cmp(a));
        let Some(&start) = sent.get(self.conf.quorum() - 1) else {
            return false;
        };
        start > 0 && self.ticks - start < self.cfg.lease_ticks()
    }

    fn quorum_recently_active(&self) -> bool {
        let active = self
            .conf
            .voters
            .iter()
            .filter(|id| self.counts_for_quorum(**id))
            .filter(|id| **id == self.id || self.prs.get(id).is_some_and(|p| p.recent_active))
            .count();
        active >= self.conf.quorum()
    }

    /// Advances commit to the highest index a quorum of voters holds — but only
    /// through an entry of the current term (Raft §5.4.2, Figure 8: an old-term
    /// entry replicated on a majority can still be overwritten).
    fn maybe_commit(&mut self) -> bool {
        let mut matched: Vec<Index> = self
            .conf
            .voters
            .iter()
            // A recovering voter holds nothing that counts: it stays in the
            // vector as 0, so the quorum is still taken over all voters.
            .map(|id| match self.prs.get(id) {
                Some(p) if self.counts_for_quorum(*id) => p.matched,
                _ => 0,
            })
            .collect();
        if matched.is_empty() {
            return false;
        }
        matched.sort_unstable_by(|a, b| b.cmp(a));
        // Bug mutant: the leader and one follower make a "quorum" (a majority
        // of 3 voters only).
        let quorum = if self.cfg.bugs.has(Bug::CommitQuorumOfTwo) {
            self.conf.quorum().min(2)
        } else {
            self.conf.quorum()
        };
        let candidate = matched[quorum - 1];
        // Bug mutant: any entry a quorum holds is taken as committed.
        let current_term =
            self.log.term(candidate) == Some(self.term) || self.cfg.bugs.has(Bug::CommitOldTerm);
        hit_if(
            candidate > self.log.committed && !current_term,
            Probe::CommitBlockedOwnTerm,
        );
        if candidate > self.log.committed && current_term {
            hit(Probe::CommitAdvanced);
            self.log.commit_to(candidate);
            if self.reads.has_waiting() {
                for request in self.reads.take_waiting() {
                    self.start_read(request);
                }
            }
            return true;
        }
        false
    }

    fn committed_in_current_term(&self) -> bool {
        self.log.term(self.log.committed) == Some(self.term)
    }

    // ----- leader: snapshot transfer -----------------------------------------------

    fn start_snapshot_transfer(&mut self, to: NodeId) {
        let Some(snap) = self.log.snapshot.as_ref() else {
            return; // nothing was ever compacted, so the log has everything
        };
        let data = Rc::new(snap.data.clone());
        let transfer = Transfer {
            meta: snap.meta.clone(),
            crc: crc32fast::hash(&data),
            data,
            acked: 0,
            ticks_since_ack: 0,
        };
        hit(Probe::SnapshotSent);
        self.events.push(TraceEvent::SnapshotSendStart {
            to,
            index: transfer.meta.index,
            term: transfer.meta.term,
            size: transfer.data.len() as u64,
        });
        if let Some(pr) = self.prs.get_mut(&to) {
            pr.state = ProgressState::Snapshot(transfer);
        }
        self.send_chunk(to);
    }

    fn send_chunk(&mut self, to: NodeId) {
        let chunk = self.cfg.snapshot_chunk_size.max(1);
        let Some(ProgressState::Snapshot(t)) = self.prs.get(&to).map(|p| &p.state) else {
            return;
        };
        let total = t.data.len() as u64;
        let offset = t.acked.min(total);
        let end = (offset as usize + chunk).min(t.data.len());
        let body = Body::SnapshotChunk {
            meta: t.meta.clone(),
            offset,
            total,
            crc: t.crc,
            data: t.data[offset as usize..end].to_vec(),
            last: end == t.data.len(),
        };
        self.events.push(TraceEvent::SnapshotChunkSent {
            to,
            index: t.meta.index,
            offset,
            len: (end - offset as usize) as u64,
        });
        self.send(to, body);
    }

    fn tick_snapshot_transfers(&mut self) {
        let limit = self.cfg.snapshot_retransmit_ticks;
        let mut resend = Vec::new();
        for (id, pr) in self.prs.iter_mut() {
            if let ProgressState::Snapshot(t) = &mut pr.state {
                t.ticks_since_ack += 1;
                if t.ticks_since_ack >= limit {
                    t.ticks_since_ack = 0;
                    resend.push(*id);
                }
            }
        }
        for id in resend {
            hit(Probe::SnapshotChunkResent);
            self.send_chunk(id);
        }
    }

    fn handle_snapshot_ack(
        &mut self,
        from: NodeId,
        snap_term: Term,
        snap_index: Index,
        next_offset: u64,
        restart: bool,
    ) {
        let Some(pr) = self.prs.get_mut(&from) else {
            return;
        };
        pr.recent_active = true;
        let ProgressState::Snapshot(t) = &mut pr.state else {
            return;
        };
        if (t.meta.term, t.meta.index) != (snap_term, snap_index) {
            hit(Probe::SnapshotAckOfOldTransfer);
            return; // an answer about an older transfer
        }
        t.ticks_since_ack = 0;
        let total = t.data.len() as u64;
        t.acked = if restart { 0 } else { next_offset.min(total) };
        if t.acked < total || total == 0 {
            self.send_chunk(from);
        }
    }

    // ----- follower ------------------------------------------------------------------

    fn handle_append(
        &mut self,
        from: NodeId,
        prev_index: Index,
        prev_term: Term,
        entries: Vec<Entry>,
        commit: Index,
    ) {
        if prev_index < self.log.committed {
            // Everything up to our commit matches the leader already.
            hit(Probe::AppendBelowCommit);
            let index = self.log.committed;
            self.send(
                from,
                Body::AppendResp {
                    reject: false,
                    index,
                    hint_index: 0,
                    hint_term: 0,
                },
            );
            return;
        }
        let stable_before = self.log.stable;
        let appended = self
            .log
            .maybe_append(prev_index, prev_term, commit, &entries);
        if self.cfg.bugs.has(Bug::OverwriteNotPersisted) {
            // Bug mutant: indexes persisted before stay marked durable even
            // when the append overwrote them.
            self.log.stable = self
                .log
                .stable
                .max(stable_before.min(self.log.last_index()));
        }
        match appended {
            Some(last) => self.send(
                from,
                Body::AppendResp {
                    reject: false,
                    index: last,
                    hint_index: 0,
                    hint_term: 0,
                },
            ),
            None => {
                hit(if prev_index > self.log.last_index() {
                    Probe::AppendRejectedMissingPrev
                } else {
                    Probe::AppendRejectedPrevTerm
                });
                let hint = self
                    .log
                    .find_conflict_by_term(prev_index.min(self.log.last_index()), prev_term);
                let hint_term = self.log.term(hint).unwrap_or(0);
                self.send(
                    from,
                    Body::AppendResp {
                        reject: true,
                        index: prev_index,
                        hint_index: hint,
                        hint_term,
                    },
                );
            }
        }
    }

    fn handle_heartbeat(&mut self, from: NodeId, commit: Index, ctx: u64) {
        hit_if(self.log.commit_to(commit), Probe::CommitFollowerAdvanced);
        self.send(from, Body::HeartbeatResp { ctx });
    }

    #[allow(clippy::too_many_arguments)]
    fn handle_snapshot_chunk(
        &mut self,
        from: NodeId,
        meta: SnapshotMeta,
        offset: u64,
        total: u64,
        crc: u32,
        data: Vec<u8>,
        last: bool,
    ) {
        let (index, term) = (meta.index, meta.term);
        let len = data.len() as u64;
        let chunk_event = |r: &mut Raft, accepted: bool, reason: &str| {
            r.events.push(TraceEvent::SnapshotChunkReceived {
                from,
                index,
                term,
                offset,
                len,
                accepted,
                reason: reason.to_string(),
            })
        };
        if self.cfg.bugs.has(Bug::AcceptShortSnapshot) {
            self.accept_chunk_unchecked(from, meta, data, last);
            return;
        }
        if index <= self.log.committed && !self.cfg.bugs.has(Bug::InstallStaleSnapshot) {
            // A snapshot older than what we have committed would roll us back.
            hit(Probe::SnapshotChunkStale);
            chunk_event(self, false, "stale: index <= commit");
            if offset == 0 {
                self.events.push(TraceEvent::SnapshotRejected {
                    from,
                    index,
                    term,
                    reason: format!("stale: index {index} <= commit {}", self.log.committed),
                });
            }
            let committed = self.log.committed;
            self.ack_append(from, committed);
            return;
        }
        if offset == 0 {
            // A new transfer (or the leader restarting one) starts cleanly.
            self.incoming = Some(Incoming {
                meta: meta.clone(),
                total,
                crc,
                buf: Vec::with_capacity(total.min(1 << 24) as usize),
            });
        }
        let verdict = match &self.incoming {
            None => Err((Probe::SnapshotChunkNoTransfer, "no transfer in progress")),
            Some(inc) if (inc.meta.term, inc.meta.index) != (term, index) => Err((
                Probe::SnapshotChunkOtherSnapshot,
                "chunk of a different snapshot",
            )),
            Some(inc) if inc.total != total || inc.crc != crc => Err((
                Probe::SnapshotChunkSizeOrCrc,
                "size or checksum differs from the transfer's",
            )),
            Some(inc) if offset != inc.buf.len() as u64 => Ok(false),
            Some(inc) if offset + len > total => {
                Err((Probe::SnapshotChunkOverlong, "over-long transfer"))
            }
            Some(_) if last && offset + len < total => Err((
                Probe::SnapshotChunkShort,
                "short transfer: last chunk before total size",
            )),
            Some(_) => Ok(true),
        };
        match verdict {
            Err((probe, reason)) => {
                hit(probe);
                chunk_event(self, false, reason);
                self.incoming = None;
                self.ack_chunk(from, term, index, 0, true);
            }
            Ok(false) => {
                // Duplicate or out of order: say where we are.
                hit(Probe::SnapshotChunkUnexpectedOffset);
                chunk_event(self, false, "unexpected offset");
                let next = self.incoming.as_ref().map_or(0, |i| i.buf.len() as u64);
                self.ack_chunk(from, term, index, next, false);
            }
            Ok(true) => {
                chunk_event(self, true, "");
                let inc = self.incoming.as_mut().expect("checked");
                inc.buf.extend_from_slice(&data);
                let have = inc.buf.len() as u64;
                if have < total {
                    self.ack_chunk(from, term, index, have, false);
                    return;
                }
                let inc = self.incoming.take().expect("checked");
                if crc32fast::hash(&inc.buf) != inc.crc {
                    hit(Probe::SnapshotChecksumMismatch);
                    self.events.push(TraceEvent::SnapshotRejected {
                        from,
                        index,
                        term,
                        reason: "checksum mismatch".into(),
                    });
                    self.ack_chunk(from, term, index, 0, true);
                    return;
                }
                self.finish_transfer(from, inc.meta, inc.buf);
            }
        }
    }

    /// etcd's `restore`: refuse a snapshot at or below our commit; if our log
    /// already holds the snapshot's last entry, just move commit forward;
    /// otherwise replace the log and hand the snapshot to the runtime.
    fn install_snapshot(&mut self, from: NodeId, snap: Snapshot) {
        let (index, term) = (snap.meta.index, snap.meta.term);
        let stale_ok = self.cfg.bugs.has(Bug::InstallStaleSnapshot);
        if index <= self.log.committed && !stale_ok {
            hit(Probe::SnapshotRefusedStale);
            self.events.push(TraceEvent::SnapshotRejected {
                from,
                index,
                term,
                reason: format!("stale: index {index} <= commit {}", self.log.committed),
            });
            return;
        }
        let had_entry = self
            .log
            .term(index)
            .filter(|_| index > self.log.snapshot_index());
        let prior_last_index = self.log.last_index();
        if self.log.match_term(index, term) && !(stale_ok && index < self.log.committed) {
            hit(Probe::SnapshotFastForward);
            self.log.commit_to(index);
            self.events
                .push(TraceEvent::SnapshotFastForward { index, term });
            return;
        }
        let size = snap.data.len() as u64;
        self.conf = snap.meta.conf.clone();
        let applied_before = self.log.applied;
        let suffix = if self.cfg.bugs.has(Bug::InstallKeepsConflictingSuffix) {
            SuffixRule::KeepUnchecked
        } else {
            SuffixRule::KeepMatching
        };
        let kept = self.log.install(snap.clone(), suffix);
        hit(Probe::SnapshotInstalled);
        hit_if(kept > 0, Probe::SnapshotInstalledKeptSuffix);
        hit_if(
            had_entry.is_some_and(|t| t != term),
            Probe::SnapshotInstalledDroppedConflict,
        );
        if stale_ok && index < self.log.committed {
            // The stale snapshot rolls commit back with it.
            self.log.committed = index;
        }
        if self.cfg.bugs.has(Bug::AppliedNotResetOnInstall) {
            self.log.applied = applied_before;
        }
        self.events.push(TraceEvent::ConfChanged {
            index,
            conf: self.conf.membership(),
            source: ConfSource::Snapshot,
        });
        self.installed = Some(snap);
        self.events.push(TraceEvent::SnapshotInstalled {
            from,
            index,
            term,
            size,
            kept_suffix: kept,
            prior_last_index,
            prior_term_at_index: had_entry,
        });
    }

    /// Bug mutant `accept-short-snapshot`: appends every chunk whatever its
    /// snapshot, offset or size, and installs what it has when a chunk says
    /// `last` — no total-size, offset, id or checksum check.
    fn accept_chunk_unchecked(
        &mut self,
        from: NodeId,
        meta: SnapshotMeta,
        data: Vec<u8>,
        last: bool,
    ) {
        let (index, term) = (meta.index, meta.term);
        let inc = self.incoming.get_or_insert_with(|| Incoming {
            meta: meta.clone(),
            total: 0,
            crc: 0,
            buf: Vec::new(),
        });
        inc.meta = meta;
        inc.buf.extend_from_slice(&data);
        let have = inc.buf.len() as u64;
        if !last {
            self.ack_chunk(from, term, index, have, false);
            return;
        }
        let inc = self.incoming.take().expect("just inserted");
        self.finish_transfer(from, inc.meta, inc.buf);
    }

    /// A transfer is complete: install (or refuse) it and tell the leader where
    /// our log now ends.
    fn finish_transfer(&mut self, from: NodeId, meta: SnapshotMeta, data: Vec<u8>) {
        self.install_snapshot(from, Snapshot { meta, data });
        let last = self.log.last_index();
        self.ack_append(from, last);
    }

    /// Answers a snapshot chunk: the offset wanted next, or a restart from 0.
    fn ack_chunk(&mut self, to: NodeId, term: Term, index: Index, next_offset: u64, restart: bool) {
        self.send(
            to,
            Body::SnapshotAck {
                snap_term: term,
                snap_index: index,
                next_offset,
                restart,
            },
        );
    }

    fn ack_append(&mut self, to: NodeId, index: Index) {
        self.send(
            to,
            Body::AppendResp {
                reject: false,
                index,
                hint_index: 0,
                hint_term: 0,
            },
        );
    }

    fn check_recovered(&mut self) {
        if let Some(Some(target)) = self.recovering {
            if self.log.committed >= target && self.log.applied >= target {
                hit(Probe::RecoveringFinished);
                self.recovering = None;
            }
        }
    }

    fn send(&mut self, to: NodeId, body: Body) {
        let m = self.message(to, self.term, body);
        self.msgs.push(m);
    }

    fn message(&self, to: NodeId, term: Term, body: Body) -> Message {
        Message {
            from: self.id,
            to,
            term,
            incarnation: self.incarnation,
            recovering: self.recovering.is_some(),
            body,
        }
    }
}
