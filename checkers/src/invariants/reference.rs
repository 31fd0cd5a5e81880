//! The checkers' own reference state machine, written from the specification of
//! the operations and not from any system's code (a checker that replayed the
//! log with the system's state machine would inherit its bugs).
//!
//! The specification (Raft thesis §6.3, 6.824's KVServer):
//! - every command carries (client, seq); a client's seqs only grow;
//! - a command whose seq is at most the client's last applied seq changes
//!   nothing: with the same seq it returns the recorded outcome, with an older
//!   one it is stale;
//! - otherwise the operation applies and becomes the client's last command:
//!   put sets the value; append concatenates (an absent key reads as empty);
//!   cas sets `to` when the current value (absent = `None`) equals `from`, and
//!   otherwise reports the current value and changes nothing; delete removes
//!   the key, present or not.
use std::collections::BTreeMap;
use sut::ops::{Op, Outcome};
use sut::trace::{ConfChange, ConfChangeKind, Membership, SessionState, StateContents};

/// The membership by the specification of single-server changes: add-learner
/// makes a node that is not a voter a learner; add-voter makes a node a voter
/// (promoting it if it was a learner); remove takes a node out of both.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReferenceMembership {
    voters: std::collections::BTreeSet<u64>,
    learners: std::collections::BTreeSet<u64>,
}

impl ReferenceMembership {
    pub fn new(voters: &[u64]) -> Self {
        ReferenceMembership {
            voters: voters.iter().copied().collect(),
            learners: Default::default(),
        }
    }

    pub fn apply(&mut self, cc: ConfChange) {
        match cc.kind {
            ConfChangeKind::AddLearner => {
                if !self.voters.contains(&cc.node) {
                    self.learners.insert(cc.node);
                }
            }
            ConfChangeKind::AddVoter => {
                self.learners.remove(&cc.node);
                self.voters.insert(cc.node);
            }
            ConfChangeKind::Remove => {
                self.voters.remove(&cc.node);
                self.learners.remove(&cc.node);
            }
        }
    }

    /// Whether a node's reported view (in any order) is this membership.
    pub fn matches(&self, m: &Membership) -> bool {
        let voters: std::collections::BTreeSet<u64> = m.voters.iter().copied().collect();
        let learners: std::collections::BTreeSet<u64> = m.learners.iter().copied().collect();
        voters == self.voters && learners == self.learners && voters.len() == m.voters.len()
    }

    pub fn describe(&self) -> String {
        format!("voters {:?}, learners {:?}", self.voters, self.learners)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReferenceKv {
    data: BTreeMap<String, String>,
    /// client -> (last applied seq, its outcome)
    sessions: BTreeMap<u64, (u64, Outcome)>,
}

/// What one command did on the reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Effect {
    pub outcome: Outcome,
    /// False when the session table recognised a retry and nothing changed.
    pub effective: bool,
}

impl ReferenceKv {
    pub fn apply(&mut self, client: u64, seq: u64, op: &Op) -> Effect {
        if let Some((last, outcome)) = self.sessions.get(&client) {
            if seq <= *last {
                let outcome = if seq == *last {
                    outcome.clone()
                } else {
                    Outcome::Stale
                };
                return Effect {
                    outcome,
                    effective: false,
                };
            }
        }
        let outcome = match op {
            Op::Put { key, value } => {
                self.data.insert(key.clone(), value.clone());
                Outcome::Done
            }
            Op::Append { key, value } => {
                let mut joined = self.data.get(key).cloned().unwrap_or_default();
                joined.push_str(value);
                self.data.insert(key.clone(), joined);
                Outcome::Done
            }
            Op::Cas { key, from, to } => {
                let current = self.data.get(key).cloned();
                if current == *from {
                    self.data.insert(key.clone(), to.clone());
                    Outcome::Done
                } else {
                    Outcome::CasMismatch { current }
                }
            }
            Op::Delete { key } => {
                self.data.remove(key);
                Outcome::Done
            }
        };
        self.sessions.insert(client, (seq, outcome.clone()));
        Effect {
            outcome,
            effective: true,
        }
    }

    /// The state in the trace's vocabulary, to compare with what a node claims.
    pub fn contents(&self) -> StateContents {
        StateContents {
            data: self.data.clone(),
            sessions: self
                .sessions
                .iter()
                .map(|(c, (seq, outcome))| {
                    let state = SessionState {
                        last_seq: *seq,
                        outcome: outcome.clone(),
                    };
                    (*c, state)
                })
                .collect(),
        }
    }

    /// Bytes of state the specification says a snapshot must hold: every key
    /// and value, and per session two integers and the recorded outcome. An
    /// encoding may add framing but must not grow with the history.
    pub fn size(&self) -> u64 {
        let data: usize = self.data.iter().map(|(k, v)| k.len() + v.len()).sum();
        let outcomes: usize = self
            .sessions
            .values()
            .map(|(_, o)| match o {
                Outcome::CasMismatch { current: Some(v) } => v.len(),
                _ => 0,
            })
            .sum();
        (data + outcomes + 16 * self.sessions.len()) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(k: &str, v: &str) -> Op {
        Op::Put {
            key: k.into(),
            value: v.into(),
        }
    }

    #[test]
    fn operations_follow_the_specification() {
        let mut kv = ReferenceKv::default();
        let append = |v: &str| Op::Append {
            key: "a".into(),
            value: v.into(),
        };
        assert!(kv.apply(1, 1, &append("x")).effective);
        kv.apply(1, 2, &append(""));
        kv.apply(1, 3, &append("y"));
        assert_eq!(kv.contents().data["a"], "xy");
        let cas = |from: Option<&str>, to: &str| Op::Cas {
            key: "b".into(),
            from: from.map(String::from),
            to: to.into(),
        };
        assert_eq!(kv.apply(2, 1, &cas(None, "")).outcome, Outcome::Done);
        assert_eq!(kv.contents().data["b"], "", "an empty value is a value");
        assert_eq!(
            kv.apply(2, 2, &cas(None, "z")).outcome,
            Outcome::CasMismatch {
                current: Some(String::new())
            }
        );
        assert_eq!(kv.apply(2, 3, &cas(Some(""), "z")).outcome, Outcome::Done);
        kv.apply(3, 1, &Op::Delete { key: "nope".into() });
        kv.apply(3, 2, &Op::Delete { key: "b".into() });
        assert_eq!(kv.contents().data.len(), 1);
        assert_eq!(kv.contents().sessions.len(), 3);
    }

    #[test]
    fn retries_change_nothing_and_answer_from_the_session() {
        let mut kv = ReferenceKv::default();
        let cas = Op::Cas {
            key: "k".into(),
            from: None,
            to: "v".into(),
        };
        assert_eq!(kv.apply(7, 5, &cas).outcome, Outcome::Done);
        let before = kv.clone();
        let again = kv.apply(7, 5, &cas);
        assert_eq!((again.outcome, again.effective), (Outcome::Done, false));
        let older = kv.apply(7, 4, &put("k", "old"));
        assert_eq!((older.outcome, older.effective), (Outcome::Stale, false));
        assert_eq!(kv, before);
        assert!(kv.apply(7, 6, &put("k", "new")).effective);
        assert_eq!(kv.contents().data["k"], "new");
        assert_eq!(kv.contents().sessions[&7].last_seq, 6);
    }
}
