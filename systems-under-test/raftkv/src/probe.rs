//! Code probes (FoundationDB's `CODE_PROBE`, TigerBeetle's coverage marks): a
//! named counter at every decision worth reaching, so a run can say which
//! paths it exercised and a campaign which paths it never reached.
//!
//! - A probe only counts. It never changes behaviour, never allocates and
//!   reads nothing the simulation depends on, so a run's bytes are the same
//!   with probes counting or switched off (tested in `harness/tests/probes.rs`).
//! - Counts are per thread: a simulation runs on one thread, and the harness
//!   resets them before a run and takes them after it.
//! - Every probe is declared once below, with what reaching it means. A probe
//!   that no scenario can reach says why next to its declaration (`unhit:`).
use std::cell::Cell;

macro_rules! probes {
    ($( $(#[doc = $doc:literal])+ $variant:ident = $name:literal $(, unhit = $why:literal)? ;)*) => {
        /// One decision point of the system under test.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Probe { $( $(#[doc = $doc])+ $variant ),* }

        impl Probe {
            /// Every probe, in declaration order.
            pub const ALL: &'static [Probe] = &[$(Probe::$variant),*];

            /// The stable name recorded in `results.json` (`area.decision`).
            pub fn name(self) -> &'static str {
                match self { $(Probe::$variant => $name),* }
            }

            /// What reaching the probe means.
            pub fn doc(self) -> &'static str {
                match self { $(Probe::$variant => concat!($($doc),+).trim_ascii()),* }
            }

            /// Why no scenario reaches the probe, for the few that none can.
            pub fn unhit_reason(self) -> Option<&'static str> {
                match self { $(Probe::$variant => None $(.or(Some($why)))?),* }
            }
        }
    };
}

probes! {
    // ----- follower: AppendEntries -------------------------------------------
    /// A follower accepted an append: its log matched at prev and now holds the entries.
    AppendAccepted = "append.accepted";
    /// A follower found a conflicting entry and truncated its log from there.
    AppendTruncatedConflict = "append.truncated_conflict";
    /// A follower rejected an append: it has no entry at prev (its log is shorter).
    AppendRejectedMissingPrev = "append.rejected_missing_prev";
    /// A follower rejected an append: its entry at prev has another term.
    AppendRejectedPrevTerm = "append.rejected_prev_term";
    /// An append from a leader of an older term was answered with our term.
    AppendRejectedStaleTerm = "append.rejected_stale_term";
    /// An append whose prev is below our commit was answered with our commit.
    AppendBelowCommit = "append.below_commit";
    /// A leader's reject made it back off the follower's next index.
    AppendLeaderBackoff = "append.leader_backoff";
    /// A probing follower matched: the leader pipelines entries to it again.
    AppendFollowerReplicating = "append.follower_replicating";

    // ----- elections ---------------------------------------------------------
    /// An election timeout fired and the node campaigned.
    ElectionTimeout = "election.timeout";
    /// A candidate won its election by a quorum of votes.
    ElectionWon = "election.won";
    /// A candidate lost: a quorum refused its votes.
    ElectionLost = "election.lost";
    /// A single-voter cluster elected itself at once.
    ElectionSingleVoter = "election.single_voter", unhit = "no scenario runs a single voter: clusters have 3, 5 or 7 nodes and removals keep a majority of them";
    /// A vote was granted.
    VoteGranted = "vote.granted";
    /// A vote was refused: this node voted for another candidate or follows a leader.
    VoteRefusedAlreadyVoted = "vote.refused_already_voted";
    /// A vote was refused: the candidate's log is behind ours.
    VoteRefusedLogBehind = "vote.refused_log_behind";
    /// A vote was refused: this node is recovering from a lost disk.
    VoteRefusedRecovering = "vote.refused_recovering";
    /// A (pre-)vote request of a higher term was ignored within a leader lease.
    VoteIgnoredInLease = "vote.ignored_in_lease";
    /// A pre-vote was granted.
    PreVoteGranted = "prevote.granted";
    /// A pre-vote was refused (log behind, a leader known, recovering or stale term).
    PreVoteRefused = "prevote.refused";
    /// A pre-candidate won its pre-vote and started a real election.
    PreVoteWon = "prevote.won";
    /// A node learned of a higher term and stepped down or caught up to it.
    TermBumped = "term.bumped";

    // ----- leader ------------------------------------------------------------
    /// check-quorum: a leader that heard from no quorum for an election timeout stepped down.
    CheckQuorumStepDown = "leader.check_quorum_step_down";
    /// A leader advanced its commit index.
    CommitAdvanced = "commit.advanced";
    /// A quorum held an entry of an earlier term, which the own-term rule kept uncommitted.
    CommitBlockedOwnTerm = "commit.blocked_own_term";
    /// A follower advanced its commit index from the leader's commit.
    CommitFollowerAdvanced = "commit.follower_advanced";
    /// A proposal was refused: this node is not the leader.
    ProposeNotLeader = "propose.not_leader";

    // ----- reads -------------------------------------------------------------
    /// A read was served by the leader lease (no round trip).
    ReadLease = "read.lease";
    /// A read started a ReadIndex heartbeat round.
    ReadIndexRound = "read.index_round";
    /// A ReadIndex round was confirmed by a quorum.
    ReadIndexConfirmed = "read.index_confirmed";
    /// A read waited for the new leader's first entry of its term to commit.
    ReadWaitedForTermCommit = "read.waited_for_term_commit";
    /// Pending reads were dropped because the node stopped leading.
    ReadDropped = "read.dropped";
    /// A confirmed read was answered from the state machine.
    ReadServed = "read.served";

    // ----- snapshots ---------------------------------------------------------
    /// A node took a snapshot of its state machine.
    SnapshotCreated = "snapshot.created";
    /// A node's own snapshot file became durable.
    SnapshotPersisted = "snapshot.persisted";
    /// A leader started sending a snapshot (the follower's next entry was compacted).
    SnapshotSent = "snapshot.sent";
    /// A leader re-sent a snapshot chunk after no acknowledgement.
    SnapshotChunkResent = "snapshot.chunk_resent";
    /// A chunk was refused: the snapshot is at or below our commit.
    SnapshotChunkStale = "snapshot.chunk_rejected.stale";
    /// A chunk was refused: no transfer was in progress.
    SnapshotChunkNoTransfer = "snapshot.chunk_rejected.no_transfer";
    /// A chunk was refused: it belongs to another snapshot than the transfer's.
    SnapshotChunkOtherSnapshot = "snapshot.chunk_rejected.other_snapshot";
    /// A chunk was refused: its size or checksum differ from the transfer's.
    SnapshotChunkSizeOrCrc = "snapshot.chunk_rejected.size_or_crc", unhit = "unreachable in a correct cluster: the bytes of the snapshot at (term, index) are fixed by the committed log";
    /// A chunk was refused: it runs past the transfer's total size.
    SnapshotChunkOverlong = "snapshot.chunk_rejected.overlong", unhit = "unreachable in a correct cluster: only a leader that sends past its own total size gets here";
    /// A chunk was refused: the last chunk ends before the total size.
    SnapshotChunkShort = "snapshot.chunk_rejected.short", unhit = "unreachable in a correct cluster: a correct leader's last chunk ends at the total size (the accept-short-snapshot mutant is what this check stops)";
    /// A chunk came at an unexpected offset (duplicate or reordered).
    SnapshotChunkUnexpectedOffset = "snapshot.chunk_rejected.unexpected_offset";
    /// A complete transfer failed its checksum.
    SnapshotChecksumMismatch = "snapshot.checksum_mismatch", unhit = "the simulated network never corrupts a datagram's payload (no fault does), so every complete transfer is intact";
    /// A complete snapshot was installed and the log replaced.
    SnapshotInstalled = "snapshot.installed";
    /// An install kept the follower's matching log suffix past the snapshot.
    SnapshotInstalledKeptSuffix = "snapshot.installed_kept_suffix", unhit = "unreachable in the clean system: a follower whose log matches the snapshot's last entry fast-forwards instead (etcd's restore); only the install-keeps-conflicting-suffix and install-stale-snapshot mutants keep a suffix";
    /// An install discarded a suffix whose entry at the snapshot index had another term.
    SnapshotInstalledDroppedConflict = "snapshot.installed_dropped_conflict";
    /// A complete snapshot was refused as stale (at or below our commit).
    SnapshotRefusedStale = "snapshot.refused_stale", unhit = "unreachable in the clean system: it backs up the chunk-level check (snapshot.chunk_stale), and a follower's commit cannot pass a snapshot while its chunks arrive: the leader sends it no entries during the transfer, heartbeats carry at most its match index, and chunks of an older term are refused";
    /// The follower's log already held the snapshot's last entry: commit moved only.
    SnapshotFastForward = "snapshot.fast_forward";
    /// A node restored its state machine from a snapshot on boot.
    SnapshotRestoredOnBoot = "snapshot.restored_on_boot";
    /// A leader ignored an acknowledgement about an older transfer.
    SnapshotAckOfOldTransfer = "snapshot.ack_of_old_transfer";

    // ----- compaction --------------------------------------------------------
    /// A compaction kept trailing entries behind the snapshot.
    CompactWithTrailing = "compact.with_trailing";
    /// A compaction kept no entry behind the snapshot.
    CompactWithoutTrailing = "compact.without_trailing";

    // ----- storage: boot -----------------------------------------------------
    /// WAL replay found a later entry overwriting an earlier suffix (a truncating append).
    WalReplayTruncatingAppend = "wal.replay_truncating_append";
    /// WAL replay cut off a torn tail.
    WalTornTail = "wal.torn_tail";
    /// WAL replay refused a corrupt record (the node halts rather than lose acknowledged state).
    WalCorruptRecord = "wal.corrupt_record";
    /// Boot found no WAL and started the first segment.
    WalCreatedFirstSegment = "wal.created_first_segment";
    /// Boot skipped a snapshot marker whose file was missing or unreadable.
    WalMarkerSkipped = "wal.marker_skipped";
    /// Boot ignored a snapshot file that no WAL marker names.
    WalUnmarkedSnapshotIgnored = "wal.unmarked_snapshot_ignored";
    /// Boot removed a stale temporary file (a snapshot write cut short).
    WalStaleTmpRemoved = "wal.stale_tmp_removed", unhit = "rare on turmoil's disk: a temp file's directory entry is synced with its rename (tmp, fsync, rename, fsync dir), so a crash before the rename usually loses it too; it survives only if another fsync of the directory (a new WAL segment's, say) made its entry durable first: hit 3 times over 15,184 swarm seeds, none in another 10,000 (not traced to its seed yet)";
    /// Boot found entries before the newest marker (segments whose removal was not durable).
    WalEntriesBeforeMarker = "wal.entries_before_marker";
    /// A full WAL segment was closed and the next one started.
    WalSegmentCut = "wal.segment_cut";

    // ----- membership --------------------------------------------------------
    /// A learner was added.
    ConfLearnerAdded = "conf.learner_added";
    /// A learner was promoted to voter.
    ConfLearnerPromoted = "conf.learner_promoted";
    /// A voter was added directly (not from a learner).
    ConfVoterAdded = "conf.voter_added";
    /// A voter was removed.
    ConfVoterRemoved = "conf.voter_removed";
    /// A learner was removed.
    ConfLearnerRemoved = "conf.learner_removed";
    /// A leader removed from the voters stepped down.
    ConfLeaderRemoved = "conf.leader_removed";
    /// A membership change was refused: another one is pending.
    ConfChangePending = "conf.change_pending";
    /// A membership change that changed nothing (already applied) was skipped.
    ConfChangeNoop = "conf.change_noop";

    // ----- a node back on an empty disk ---------------------------------------
    /// A node booted on a lost (empty) disk and must catch up before it votes.
    RecoveringBootedEmpty = "recovering.booted_empty";
    /// A node rebooted while still recovering (the marker file kept it recovering).
    RecoveringRebootedStillRecovering = "recovering.rebooted_still_recovering";
    /// A leader appended a no-op marking how far a recovering follower must catch up.
    RecoveringLeaderNoop = "recovering.leader_noop";
    /// A leader told a recovering follower it has caught up (`Recovered`).
    RecoveringToldRecovered = "recovering.told_recovered";
    /// A recovering node caught up and may vote again.
    RecoveringFinished = "recovering.finished";
    /// A leader ignored an answer from an earlier incarnation of a follower.
    RecoveringOldIncarnationIgnored = "recovering.old_incarnation_ignored", unhit = "beyond the nightly mix: an answer of an earlier incarnation must arrive after the node is back on an empty disk, and a crash with disk loss lasts at least 0.5 s, longer than the transport's reorder delay (at most 0.2 s) or a latency fault (at most 0.4 s) alone: only both at once, around such a crash, can do it";
    /// A leader restarted a follower's progress for its new incarnation.
    RecoveringNewIncarnation = "recovering.new_incarnation";

    // ----- key-value state machine --------------------------------------------
    /// A put was applied.
    KvPut = "kv.put";
    /// An append was applied.
    KvAppend = "kv.append";
    /// An append created its key.
    KvAppendCreated = "kv.append_created";
    /// A cas matched and wrote.
    KvCasOk = "kv.cas_ok";
    /// A cas did not match.
    KvCasMismatch = "kv.cas_mismatch";
    /// A cas expected the key absent.
    KvCasFromAbsent = "kv.cas_from_absent";
    /// A delete was applied to a present key.
    KvDeletePresent = "kv.delete_present";
    /// A delete was applied to an absent key.
    KvDeleteAbsent = "kv.delete_absent";
    /// A retried command was recognised by the session table and answered from it.
    KvDuplicateAnswered = "kv.duplicate_answered";
    /// A retry older than the client's latest command was answered stale.
    KvDuplicateStale = "kv.duplicate_stale";
    /// A read of an absent key.
    KvReadAbsent = "kv.read_absent";

    // ----- node runtime --------------------------------------------------------
    /// Another command was applied at a write's index: the write stays unanswered.
    NodeWriteOverwritten = "node.write_overwritten";
    /// A node halted on storage it cannot trust.
    NodeHalted = "node.halted";
    /// A node reached its armed crash point.
    NodeCrashPoint = "node.crash_point";
    /// The transport fault sent a message twice (the harness's fault injection).
    FaultDuplicated = "fault.duplicated";
    /// The transport fault held a message back for a random delay, reordering it.
    FaultDelayed = "fault.delayed";
    /// The transport fault dropped an outgoing message (the harness's loss fault).
    FaultLost = "fault.lost";
}

thread_local! {
    static COUNTS: [Cell<u64>; Probe::ALL.len()] = const { [const { Cell::new(0) }; Probe::ALL.len()] };
    static ENABLED: Cell<bool> = const { Cell::new(true) };
}

/// Counts one pass through `probe`'s decision.
#[inline]
pub fn hit(probe: Probe) {
    if ENABLED.with(Cell::get) {
        COUNTS.with(|c| {
            let cell = &c[probe as usize];
            cell.set(cell.get().saturating_add(1));
        });
    }
}

/// Counts `probe` when `cond` holds; returns `cond` (for use inside conditions).
#[inline]
pub fn hit_if(cond: bool, probe: Probe) -> bool {
    if cond {
        hit(probe);
    }
    cond
}

/// Starts counting from zero on this thread.
pub fn reset() {
    COUNTS.with(|c| c.iter().for_each(|cell| cell.set(0)));
}

/// Switches counting on or off on this thread (for the test that probes do
/// not change a run).
pub fn set_enabled(on: bool) {
    ENABLED.with(|e| e.set(on));
}

/// This thread's counts since the last reset, every probe that was hit.
pub fn counts() -> Vec<(Probe, u64)> {
    COUNTS.with(|c| {
        Probe::ALL
            .iter()
            .map(|p| (*p, c[*p as usize].get()))
            .filter(|(_, n)| *n > 0)
            .collect()
    })
}

/// The probe of a recorded name.
pub fn find(name: &str) -> Option<Probe> {
    Probe::ALL.iter().copied().find(|p| p.name() == name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn names_are_unique_and_documented() {
        let names: BTreeSet<&str> = Probe::ALL.iter().map(|p| p.name()).collect();
        assert_eq!(names.len(), Probe::ALL.len(), "two probes share a name");
        for p in Probe::ALL {
            assert!(!p.doc().is_empty(), "{} has no description", p.name());
            assert_eq!(find(p.name()), Some(*p));
        }
    }

    #[test]
    fn counts_are_per_thread_and_reset() {
        reset();
        hit(Probe::KvPut);
        hit(Probe::KvPut);
        assert!(hit_if(true, Probe::KvAppend));
        assert!(!hit_if(false, Probe::KvCasOk));
        assert_eq!(counts(), vec![(Probe::KvPut, 2), (Probe::KvAppend, 1)]);
        let other = std::thread::spawn(counts).join().expect("thread runs"); // determinism-ok: a test of per-thread counts
        assert!(other.is_empty(), "another thread counts on its own");
        set_enabled(false);
        hit(Probe::KvPut);
        set_enabled(true);
        assert_eq!(
            counts()[0],
            (Probe::KvPut, 2),
            "a disabled probe does not count"
        );
        reset();
        assert!(counts().is_empty());
    }

    #[test]
    fn every_probe_is_placed_in_the_code() {
        // A declared probe that no code hits would be reported as a blind spot
        // of the scenarios when it is a gap in the instrumentation.
        let src = concat!(
            include_str!("raft/core.rs"),
            include_str!("raft/log.rs"),
            include_str!("raft/types.rs"),
            include_str!("node/mod.rs"),
            include_str!("storage/recovery.rs"),
            include_str!("storage/mod.rs"),
            include_str!("kv.rs"),
        );
        let placed = |variant: &str| {
            src.match_indices(variant).any(|(at, _)| {
                let next = src[at + variant.len()..].chars().next();
                !next.is_some_and(|c| c.is_alphanumeric() || c == '_')
            })
        };
        for p in Probe::ALL {
            let variant = format!("Probe::{p:?}");
            assert!(placed(&variant), "{} ({variant}) is hit nowhere", p.name());
        }
    }
}
