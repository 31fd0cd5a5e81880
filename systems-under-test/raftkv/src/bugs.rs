//! Switchable bug mutants: each a faithful copy of a class of bug that shipped in
//! a real Raft system, guarded by one named flag and off by default. The harness
//! must catch every one. A clean build without flags never takes a mutant branch:
//! every branch is `if bugs.has(Bug::X)` on a set that is empty unless asked for.
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Bug {
    SnapshotOmitsSessions,
    RestoreMerges,
    SnapshotLabelledAhead,
    WrongSnapshotTerm,
    ForgetSnapshotOnBoot,
    InstallStaleSnapshot,
    InstallKeepsConflictingSuffix,
    AppliedNotResetOnInstall,
    AcceptShortSnapshot,
    AckBeforeFsync,
    NoFsyncSnapshot,
    CompactBeforeSnapshotDurable,
    StateAndSnapshotNotAtomic,
    RestoreErrorAdvancesIndex,
    EmptyDiskVotes,
    StaleLeaseRead,
    VoteNotPersisted,
    CommitOldTerm,
    OverwriteNotPersisted,
    LeaderIgnoresLostQuorum,
    SnapshotDropsMembership,
    EmptyValueReadAsAbsent,
    DeposedLeaderReads,
    SessionDropsOutcome,
    CommitQuorumOfTwo,
    NewLeaderDropsReads,
    CorruptionTakenForTornTail,
    ConfChangesOverlap,
}

/// What a mutant is, for `snapstorm bugs`.
#[derive(Clone, Copy, Debug, Serialize)]
pub struct BugInfo {
    pub bug: Bug,
    /// The flag name (`--bug NAME`).
    pub name: &'static str,
    /// What the mutant does differently.
    pub mechanism: &'static str,
    /// The real bug(s) it models.
    pub models: &'static str,
    /// The scenario that exposes it.
    pub scenario: &'static str,
    /// The checker expected to flag it.
    pub checker: &'static str,
    /// The first seed at which the scenario's run (default knobs, so the
    /// node count drawn from the seed) is flagged by the checker: `snapstorm
    /// bugs` prints it in the command that exposes the mutant, and the mutant
    /// test holds it to that. (The regression corpus keeps each mutant at the
    /// seed that caught it when it was added, most on 3 nodes, pinned.)
    pub seed: u64,
}

pub const BUGS: &[BugInfo] = &[
    BugInfo {
        bug: Bug::SnapshotOmitsSessions,
        name: "snapshot-omits-sessions",
        mechanism: "the snapshot holds the KV data but not the client session table",
        models: "Consul #4535 class; 6.824 UnreliableRecover",
        scenario: "lagging-follower",
        checker: "snapshot-fidelity",
        seed: 1,
    },
    BugInfo {
        bug: Bug::RestoreMerges,
        name: "restore-merges",
        mechanism: "restore writes the snapshot's keys over the existing state instead of replacing it",
        models: "hashicorp FSM Restore contract; Nomad #24412",
        scenario: "lagging-follower",
        checker: "restore-fidelity",
        seed: 2,
    },
    BugInfo {
        bug: Bug::SnapshotLabelledAhead,
        name: "snapshot-labelled-ahead",
        mechanism: "the snapshot is labelled with the last log index instead of the applied index",
        models: "etcd #8091",
        scenario: "lagging-follower",
        checker: "snapshot-fidelity",
        seed: 1,
    },
    BugInfo {
        bug: Bug::WrongSnapshotTerm,
        name: "wrong-snapshot-term",
        mechanism: "the snapshot's last-included term is recorded as the current term",
        models: "tikv #10225; raft-rs #213",
        scenario: "all-crash",
        checker: "snapshot-fidelity",
        seed: 3,
    },
    BugInfo {
        bug: Bug::ForgetSnapshotOnBoot,
        name: "forget-snapshot-on-boot",
        mechanism: "on restart the snapshot is not loaded into the state machine, so applying resumes on an empty state",
        models: "6.824 TestSnapshotInit",
        scenario: "all-crash",
        checker: "restore-fidelity",
        seed: 1,
    },
    BugInfo {
        bug: Bug::InstallStaleSnapshot,
        name: "install-stale-snapshot",
        mechanism: "a follower installs a snapshot at or below its commit index, rolling its state back",
        models: "openraft #543; etcd #1763, #1837",
        scenario: "install-snapshot-unreliable",
        checker: "monotonicity",
        seed: 1,
    },
    BugInfo {
        bug: Bug::InstallKeepsConflictingSuffix,
        name: "install-keeps-conflicting-suffix",
        mechanism: "after installing a snapshot the follower keeps the entries past the snapshot index without checking the term of its entry at that index",
        models: "hashicorp/raft PR #704; openraft #559, #753",
        scenario: "stale-leader-rejoin",
        checker: "state-machine-safety",
        seed: 1,
    },
    BugInfo {
        bug: Bug::AppliedNotResetOnInstall,
        name: "applied-not-reset-on-install",
        mechanism: "the applied index is not moved to the snapshot index when a snapshot is installed",
        models: "hashicorp/raft #85; 6.824 apply out of order",
        scenario: "lagging-follower",
        checker: "restore-fidelity",
        seed: 1,
    },
    BugInfo {
        bug: Bug::AcceptShortSnapshot,
        name: "accept-short-snapshot",
        mechanism: "a chunked transfer is accepted without checking total size, snapshot id, offset or checksum",
        models: "hashicorp/raft short read; databend #1035 / openraft #1113",
        scenario: "install-snapshot-unreliable",
        checker: "halts",
        seed: 1,
    },
    BugInfo {
        bug: Bug::AckBeforeFsync,
        name: "ack-before-fsync",
        mechanism: "a follower acknowledges AppendEntries before the entries are durable",
        models: "etcd #10166",
        scenario: "all-crash",
        checker: "state-machine-safety",
        seed: 8,
    },
    BugInfo {
        bug: Bug::NoFsyncSnapshot,
        name: "no-fsync-snapshot",
        mechanism: "the snapshot file is renamed into place without an fsync of the file or the directory",
        models: "hashicorp/raft #229 / Consul #3362; etcd #3498",
        scenario: "all-crash",
        checker: "halts",
        seed: 1,
    },
    BugInfo {
        bug: Bug::CompactBeforeSnapshotDurable,
        name: "compact-before-snapshot-durable",
        mechanism: "the WAL marker is written and the log compacted before the snapshot file is written",
        models: "etcd #10219, #12691; tikv #11746",
        scenario: "crash-mid-snapshot",
        checker: "halts",
        seed: 1,
    },
    BugInfo {
        bug: Bug::StateAndSnapshotNotAtomic,
        name: "state-and-snapshot-not-atomic",
        mechanism: "raft state and snapshot are two separate writes, and boot loads the newest snapshot file whatever the raft state says",
        models: "6.5840 Persister.Save contract; TestSnapshotAllCrash",
        scenario: "crash-mid-snapshot",
        checker: "restore-fidelity",
        seed: 1,
    },
    BugInfo {
        bug: Bug::RestoreErrorAdvancesIndex,
        name: "restore-error-advances-index",
        mechanism: "a snapshot that fails to load or persist (I/O error, corruption) still moves the applied index to it",
        models: "rqlite #2759, #2747",
        scenario: "disk-faults",
        checker: "restore-fidelity",
        seed: 2,
    },
    BugInfo {
        bug: Bug::EmptyDiskVotes,
        name: "empty-disk-votes",
        mechanism: "a node that lost its disk rejoins as a full voter with an empty log",
        models: "Raft's stable-storage assumption; etcd's member-replace procedure exists to avoid it",
        scenario: "disk-loss",
        checker: "linearizability",
        seed: 3,
    },
    BugInfo {
        bug: Bug::StaleLeaseRead,
        name: "stale-lease-read",
        mechanism: "lease reads are served for a whole election timeout of the leader's own clock, with no allowance for clock drift",
        models: "Raft thesis §6.4.1 clock-drift caveat; etcd/tikv lease-read drift bounds",
        scenario: "clock-drift",
        checker: "linearizability",
        seed: 1,
    },
    BugInfo {
        bug: Bug::VoteNotPersisted,
        name: "vote-not-persisted",
        mechanism: "a vote is answered before it is fsynced, so a voter that crashes right after forgets it and can vote again in the same term",
        models: "hashicorp/raft #661; cornerstone #65; the Raft rule that votedFor is stable storage",
        scenario: "election-crash",
        checker: "election-safety",
        seed: 1,
    },
    BugInfo {
        bug: Bug::CommitOldTerm,
        name: "commit-old-term",
        mechanism: "the leader commits an earlier term's entry once a majority holds it, and appends no no-op on election (as the implementations that shipped this lacked one)",
        models: "Raft §5.4.2 Figure 8; canonical/raft #220, #336; async-raft #108; goraft #27",
        scenario: "leader-isolation",
        checker: "commit-rule",
        seed: 1,
    },
    BugInfo {
        bug: Bug::OverwriteNotPersisted,
        name: "overwrite-not-persisted",
        mechanism: "a follower that overwrites a conflicting suffix keeps the overwritten indexes marked durable, so the new entries there never reach the WAL and a crash brings the old ones back",
        models: "etcd raft's unstable.stableTo term check (an entry overwritten at an index already persisted must be persisted again); found by cargo-mutants in RaftLog::append",
        scenario: "divergent-tail-crash",
        checker: "state-machine-safety",
        seed: 1,
    },
    BugInfo {
        bug: Bug::LeaderIgnoresLostQuorum,
        name: "leader-ignores-lost-quorum",
        mechanism: "the leader's check-quorum finds no majority active but it goes on leading, so clients on the minority side wait on it instead of finding the real leader",
        models: "etcd raft before CheckQuorum was on by default (etcd #3866 class); raft-rs check_quorum off",
        scenario: "leader-isolation",
        checker: "availability",
        seed: 1,
    },
    BugInfo {
        bug: Bug::SnapshotDropsMembership,
        name: "snapshot-drops-membership",
        mechanism: "a snapshot records the bootstrap membership instead of the one at its index, so nodes that boot from it or install it forget every change before it",
        models: "raftexample / etcd raft: the ConfState must be saved in the snapshot metadata (etcd #7625 class); hashicorp/raft snapshots carry the configuration for the same reason",
        scenario: "membership-churn",
        checker: "membership",
        seed: 1,
    },
    BugInfo {
        bug: Bug::EmptyValueReadAsAbsent,
        name: "empty-value-read-as-absent",
        mechanism: "the read path uses the empty string as its \"no such key\" answer, so a key holding the empty value reads back as absent",
        models: "Go's zero-value map lookup (`v := m[k]; if v == \"\" { return ErrNoKey }`) in KV servers; the empty-value edge the workload now writes",
        scenario: "baseline",
        checker: "linearizability",
        seed: 1,
    },
    BugInfo {
        bug: Bug::DeposedLeaderReads,
        name: "deposed-leader-reads",
        mechanism: "the node caches \"I lead\" and clears it only when the term changes, so a leader that steps down in its own term (check quorum lost, cut off) keeps answering reads from its local state, with no ReadIndex round or lease, in either read mode",
        models: "application-level leadership flags that miss a step-down (reads gated on a cached is-leader instead of ReadIndex / VerifyLeader); Raft thesis §6.4: a deposed leader must not serve reads",
        scenario: "leader-isolation",
        checker: "linearizability",
        seed: 1,
    },
    BugInfo {
        bug: Bug::CommitQuorumOfTwo,
        name: "commit-quorum-of-two",
        mechanism: "the leader commits an entry once it and one follower hold it: a majority of 3 voters, a minority of 5 or 7 (invisible on 3 nodes)",
        models: "a quorum size fixed at 2 (a replication factor of 3 written into the commit rule); MongoDB's w:2 write concern taken for w:majority (Jepsen's MongoDB analyses); semi-synchronous replication taken for consensus",
        scenario: "quorum-boundary",
        checker: "leader-completeness",
        seed: 1,
    },
    BugInfo {
        bug: Bug::SessionDropsOutcome,
        name: "session-drops-outcome",
        mechanism: "the session table keeps each client's last seq but records every outcome as done, so a retried cas that failed would answer success, and every snapshot carries the lost answers",
        models: "6.824 KVServers whose duplicate table stores only the last seq; invisible to a checker that replays the log with the system's own state machine (it makes the same mistake)",
        scenario: "lagging-follower",
        checker: "snapshot-fidelity",
        seed: 1,
    },
    BugInfo {
        bug: Bug::NewLeaderDropsReads,
        name: "new-leader-drops-reads",
        mechanism: "a new leader takes the reads it gets before its term's first commit and forgets them: no read point, no answer, no refusal (each client times out and retries elsewhere)",
        models: "read queues lost on a leadership change or before the leader's no-op commits (etcd's pending ReadIndex requests before the leader commits in its term, raft-rs #187); invisible to linearizability and to durability: only the missing answer shows",
        scenario: "election-crash",
        checker: "reads-answered",
        seed: 2,
    },
    BugInfo {
        bug: Bug::CorruptionTakenForTornTail,
        name: "corruption-taken-for-torn-tail",
        mechanism: "boot takes any record that does not fit at the end of the WAL (a length past the end, however implausible) for a torn write and truncates from there, on the strength of one read and without looking for valid records after it: a damaged length field in the middle of the log cuts away every durable entry behind it",
        models: "write-ahead-log repair that truncates at the first unreadable record whatever follows it (a torn tail and a damaged record look alike to a length check; etcd's WAL decoder tells them apart by the zeroed sector a torn write leaves); invisible unless a boot's log is compared with what the node had made durable",
        scenario: "disk-faults",
        checker: "recovery",
        seed: 1,
    },
    BugInfo {
        bug: Bug::ConfChangesOverlap,
        name: "conf-changes-overlap",
        mechanism: "the leader takes a membership change while the previous one is not yet applied: two single-server changes are in flight at once, so two configurations whose majorities need not overlap can both be in use",
        models: "Raft thesis §4.1, one change at a time (the single-server change bug Ongaro reported on raft-dev in 2015, fixed by committing an entry of the leader's term first); eBay/NuRaft #67; AxonIQ axon-server-se #120",
        scenario: "membership-churn",
        checker: "membership",
        seed: 2,
    },
];

impl Bug {
    pub fn info(self) -> &'static BugInfo {
        BUGS.iter()
            .find(|b| b.bug == self)
            .expect("every bug is listed")
    }

    pub fn name(self) -> &'static str {
        self.info().name
    }

    pub fn parse(name: &str) -> Option<Bug> {
        BUGS.iter().find(|b| b.name == name).map(|b| b.bug)
    }

    pub fn names() -> Vec<&'static str> {
        BUGS.iter().map(|b| b.name).collect()
    }
}

/// The mutants switched on in one run (empty: the clean system).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bugs(u64);

impl Bugs {
    pub const NONE: Bugs = Bugs(0);

    pub fn with(self, bug: Bug) -> Bugs {
        Bugs(self.0 | 1 << bug as u32)
    }

    pub fn has(self, bug: Bug) -> bool {
        self.0 & (1 << bug as u32) != 0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn list(self) -> Vec<Bug> {
        BUGS.iter()
            .map(|b| b.bug)
            .filter(|b| self.has(*b))
            .collect()
    }
}

impl FromIterator<Bug> for Bugs {
    fn from_iter<I: IntoIterator<Item = Bug>>(iter: I) -> Self {
        iter.into_iter().fold(Bugs::NONE, Bugs::with)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bug_is_listed_once_and_parses_by_name() {
        for b in BUGS {
            assert_eq!(Bug::parse(b.name), Some(b.bug));
            assert_eq!(BUGS.iter().filter(|o| o.bug == b.bug).count(), 1);
        }
        let set: Bugs = [Bug::RestoreMerges].into_iter().collect();
        assert!(set.has(Bug::RestoreMerges) && !set.has(Bug::SnapshotOmitsSessions));
        assert!(Bugs::NONE.is_empty() && Bugs::NONE.list().is_empty());
    }
}
