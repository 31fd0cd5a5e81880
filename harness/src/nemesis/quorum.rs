//! The quorum-boundary fault: the leader and a bare majority are cut off from
//! the rest; the moment the leader commits an entry appended after the cut
//! (so held by that bare majority and no other node), the leader is crashed or
//! isolated and the cut healed. The next leader must come from the bare
//! majority: the others lack the entry, and without one of the majority's
//! votes they are too few to win (with 2m+1 nodes, the leader's m followers
//! and the other m nodes). All but one of the majority's followers are on
//! slow links to the leader while the cut lasts, so the commit waits for the
//! slowest member of the bare majority: a leader that counted fewer than a
//! majority commits without the laggards, and a laggard can then win the
//! election with the other side's votes.
use super::{Nemesis, Undo};
use crate::cluster::Cluster;
use raftkv::node::host_name;
use rand::seq::SliceRandom;
use std::time::Duration;
use sut::trace::Role;
use sut::NodeId;

/// How many times the usual worst latency the laggards' links take.
const LAG: u32 = 5;

/// One quorum-boundary fault in progress.
pub(super) struct Boundary {
    pub leader: NodeId,
    /// The cut between the two sides (undone when the fault strikes).
    pub cut: Vec<(NodeId, NodeId)>,
    /// The leader's last index when the cut began: an entry past it is on the
    /// majority side only.
    pub mark: u64,
    pub crash: bool,
    /// Followers on slow links to the leader until the fault strikes.
    pub laggards: Vec<NodeId>,
    /// Once struck: the links cutting the leader off (isolation), if any.
    pub struck: Option<Vec<(NodeId, NodeId)>>,
}

impl Nemesis {
    /// Cuts the leader and a bare majority (drawn from the running followers)
    /// off from the rest. None without a leader or enough running followers.
    pub(super) fn start_boundary(
        &mut self,
        c: &mut Cluster,
        crash: bool,
    ) -> Option<(Undo, Vec<NodeId>, String)> {
        let leader = c.leader()?;
        let all = c.spec.node_ids();
        let quorum = all.len() / 2 + 1;
        let mut followers: Vec<NodeId> = all
            .iter()
            .copied()
            .filter(|n| *n != leader && !c.is_crashed(*n))
            .collect();
        if followers.len() + 1 < quorum {
            return None;
        }
        followers.shuffle(&mut self.rng);
        let mut majority = vec![leader];
        majority.extend(&followers[..quorum - 1]);
        let minority: Vec<NodeId> = all
            .iter()
            .copied()
            .filter(|n| !majority.contains(n))
            .collect();
        let cut = Self::between(&majority, &minority);
        self.cut(c, &cut);
        let laggards = majority[2..].to_vec();
        self.slow(c, leader, &laggards, self.base_max_latency * LAG);
        let mark = c.status(leader).last_index;
        let detail = format!(
            "bare majority {majority:?} | {minority:?} from index {mark}, slow links to {laggards:?}; waiting for a commit past it"
        );
        let b = Boundary {
            leader,
            cut,
            mark,
            crash,
            laggards,
            struck: None,
        };
        Some((Undo::Quorum(b), majority, detail))
    }

    /// Sets the most a message between the leader and each laggard may take
    /// (both ways). (Once set, those links keep their own latency setting: a
    /// later `latency` fault would not reach them, so no scenario mixes the two.)
    fn slow(&self, c: &Cluster, leader: NodeId, laggards: &[NodeId], max: Duration) {
        for l in laggards {
            c.sim
                .set_link_max_message_latency(host_name(leader), host_name(*l), max);
        }
    }

    /// Strikes every armed quorum-boundary fault whose leader has committed
    /// past its mark: crash or isolate the leader, heal the cut.
    pub(super) fn strike_boundaries(&mut self, c: &mut Cluster) {
        for i in 0..self.active.len() {
            let Undo::Quorum(b) = &self.active[i].undo else {
                continue;
            };
            if b.struck.is_some() || c.is_crashed(b.leader) {
                continue;
            }
            let s = c.status(b.leader);
            if !(s.running && s.role == Some(Role::Leader) && s.commit > b.mark) {
                continue;
            }
            let (leader, crash, commit) = (b.leader, b.crash, s.commit);
            let (cut, laggards) = (b.cut.clone(), b.laggards.clone());
            self.slow(c, leader, &laggards, self.base_max_latency);
            let isolation = if crash {
                c.crash(leader);
                self.crashes += 1;
                Vec::new()
            } else {
                let others: Vec<NodeId> = c
                    .spec
                    .node_ids()
                    .into_iter()
                    .filter(|n| *n != leader)
                    .collect();
                let links = Self::between(&[leader], &others);
                self.cut(c, &links);
                links
            };
            self.uncut(c, &cut);
            let record = self.active[i].record;
            if let Undo::Quorum(b) = &mut self.active[i].undo {
                b.struck = Some(isolation);
            }
            let detail = &mut self.log[record].detail;
            let verb = if crash { "crashed" } else { "isolated" };
            *detail = detail.replace(
                "waiting for a commit past it",
                &format!(
                    "struck: commit {commit} reached only the bare majority; leader n{leader} {verb} at {} ns, cut healed",
                    c.elapsed().as_nanos()
                ),
            );
        }
    }

    /// Ends a quorum-boundary fault: heal the cut (if it never struck), or
    /// restart or reconnect the fallen leader.
    pub(super) fn end_boundary(&mut self, c: &mut Cluster, b: Boundary) {
        match b.struck {
            None => {
                self.slow(c, b.leader, &b.laggards, self.base_max_latency);
                self.uncut(c, &b.cut)
            }
            Some(_) if b.crash => c.restart(b.leader),
            Some(links) => self.uncut(c, &links),
        }
    }
}

/// The time (ns) a quorum-boundary record says it struck, if it did.
pub fn struck_at(detail: &str) -> Option<u64> {
    let rest = detail.split(" at ").nth(1)?;
    rest.split(' ').next()?.parse().ok()
}
