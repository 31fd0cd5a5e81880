//! The key-value state machine with a client session table (6.824 / Raft thesis
//! §6.3): each command carries (client, seq); a retried command whose seq was
//! already applied returns the recorded outcome instead of applying twice. The
//! session table is part of every snapshot, so exactly-once survives restore.
use crate::bugs::{Bug, Bugs};
use crate::probe::{hit, hit_if, Probe};
use crate::trace::{fnv64, SessionState, StateContents};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use sut::ops::{Op, Outcome};

/// A client command as proposed to Raft.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Command {
    pub client: u64,
    pub seq: u64,
    pub op: Op,
}

impl Command {
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("commands always encode")
    }

    pub fn decode(bytes: &[u8]) -> Result<Command, postcard::Error> {
        postcard::from_bytes(bytes)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    pub last_seq: u64,
    pub outcome: Outcome,
}

/// What `apply` did: the outcome, and whether the command changed anything or was
/// recognised as a duplicate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub outcome: Outcome,
    pub duplicate: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Kv {
    data: BTreeMap<String, String>,
    sessions: BTreeMap<u64, Session>,
    /// The mutants switched on (not part of the state: never encoded).
    #[serde(skip)]
    bugs: Bugs,
}

impl Kv {
    /// An empty state machine that carries `bugs` across restores.
    pub fn with_bugs(bugs: Bugs) -> Kv {
        Kv {
            bugs,
            ..Kv::default()
        }
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.data.get(key)
    }

    pub fn len(&self) -> usize {
        self.data.len()
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn sessions(&self) -> &BTreeMap<u64, Session> {
        &self.sessions
    }

    pub fn data(&self) -> &BTreeMap<String, String> {
        &self.data
    }

    pub fn apply(&mut self, cmd: &Command) -> Applied {
        if let Some(s) = self.sessions.get(&cmd.client) {
            if cmd.seq <= s.last_seq {
                let outcome = if cmd.seq == s.last_seq {
                    hit(Probe::KvDuplicateAnswered);
                    s.outcome.clone()
                } else {
                    hit(Probe::KvDuplicateStale);
                    Outcome::Stale
                };
                return Applied {
                    outcome,
                    duplicate: true,
                };
            }
        }
        let outcome = self.apply_op(&cmd.op);
        // Bug mutant `session-drops-outcome`: the seq is kept, the answer lost.
        let recorded = if self.bugs.has(Bug::SessionDropsOutcome) {
            Outcome::Done
        } else {
            outcome.clone()
        };
        self.sessions.insert(
            cmd.client,
            Session {
                last_seq: cmd.seq,
                outcome: recorded,
            },
        );
        Applied {
            outcome,
            duplicate: false,
        }
    }

    fn apply_op(&mut self, op: &Op) -> Outcome {
        match op {
            Op::Put { key, value } => {
                hit(Probe::KvPut);
                self.data.insert(key.clone(), value.clone());
                Outcome::Done
            }
            Op::Append { key, value } => {
                hit(Probe::KvAppend);
                hit_if(!self.data.contains_key(key), Probe::KvAppendCreated);
                self.data.entry(key.clone()).or_default().push_str(value);
                Outcome::Done
            }
            Op::Cas { key, from, to } => {
                let current = self.data.get(key);
                hit_if(from.is_none(), Probe::KvCasFromAbsent);
                if current == from.as_ref() {
                    hit(Probe::KvCasOk);
                    self.data.insert(key.clone(), to.clone());
                    Outcome::Done
                } else {
                    hit(Probe::KvCasMismatch);
                    Outcome::CasMismatch {
                        current: current.cloned(),
                    }
                }
            }
            Op::Delete { key } => {
                let present = self.data.remove(key).is_some();
                hit(if present {
                    Probe::KvDeletePresent
                } else {
                    Probe::KvDeleteAbsent
                });
                Outcome::Done
            }
        }
    }

    /// The same data with an empty session table (what a snapshot that forgot the
    /// sessions would restore to).
    pub fn without_sessions(&self) -> Kv {
        Kv {
            data: self.data.clone(),
            sessions: BTreeMap::new(),
            bugs: self.bugs,
        }
    }

    /// The whole state — data and sessions — as snapshot bytes.
    pub fn snapshot(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("state always encodes")
    }

    /// The state a snapshot holds.
    pub fn from_snapshot(bytes: &[u8]) -> Result<Kv, postcard::Error> {
        postcard::from_bytes(bytes)
    }

    /// Replaces all state with a snapshot's (hashicorp's FSM.Restore contract:
    /// nothing from before survives).
    pub fn restore(&mut self, bytes: &[u8]) -> Result<(), postcard::Error> {
        let bugs = self.bugs;
        *self = postcard::from_bytes(bytes)?;
        self.bugs = bugs;
        Ok(())
    }

    /// The whole state as plain data, for the trace.
    pub fn contents(&self) -> StateContents {
        StateContents {
            data: self.data.clone(),
            sessions: self
                .sessions
                .iter()
                .map(|(c, s)| {
                    let state = SessionState {
                        last_seq: s.last_seq,
                        outcome: s.outcome.clone(),
                    };
                    (*c, state)
                })
                .collect(),
        }
    }

    /// Bug mutant `restore-merges`: writes a snapshot's keys and sessions over the
    /// current state instead of replacing it (keys the snapshot lacks survive).
    pub fn restore_merging(&mut self, bytes: &[u8]) -> Result<(), postcard::Error> {
        let snap: Kv = postcard::from_bytes(bytes)?;
        self.data.extend(snap.data);
        self.sessions.extend(snap.sessions);
        Ok(())
    }

    /// Digest of data and sessions; equal states have equal digests on every run.
    pub fn digest(&self) -> u64 {
        fnv64(&self.snapshot())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(client: u64, seq: u64, op: Op) -> Command {
        Command { client, seq, op }
    }

    fn append(key: &str, value: &str) -> Op {
        Op::Append {
            key: key.into(),
            value: value.into(),
        }
    }

    #[test]
    fn operations() {
        let mut kv = Kv::default();
        kv.apply(&cmd(
            1,
            1,
            Op::Put {
                key: "a".into(),
                value: "1".into(),
            },
        ));
        kv.apply(&cmd(1, 2, append("a", "2")));
        assert_eq!(kv.get("a").map(String::as_str), Some("12"));
        let r = kv.apply(&cmd(
            1,
            3,
            Op::Cas {
                key: "a".into(),
                from: Some("x".into()),
                to: "y".into(),
            },
        ));
        assert_eq!(
            r.outcome,
            Outcome::CasMismatch {
                current: Some("12".into())
            }
        );
        let r = kv.apply(&cmd(
            1,
            4,
            Op::Cas {
                key: "a".into(),
                from: Some("12".into()),
                to: "y".into(),
            },
        ));
        assert_eq!(r.outcome, Outcome::Done);
        let r = kv.apply(&cmd(
            1,
            5,
            Op::Cas {
                key: "b".into(),
                from: None,
                to: "new".into(),
            },
        ));
        assert_eq!(r.outcome, Outcome::Done);
        kv.apply(&cmd(1, 6, Op::Delete { key: "a".into() }));
        assert_eq!(kv.get("a"), None);
        assert_eq!(kv.get("b").map(String::as_str), Some("new"));
    }

    #[test]
    fn retried_command_applies_once() {
        let mut kv = Kv::default();
        let c = cmd(7, 1, append("k", "x"));
        assert!(!kv.apply(&c).duplicate);
        let again = kv.apply(&c);
        assert!(again.duplicate);
        assert_eq!(again.outcome, Outcome::Done);
        assert_eq!(kv.get("k").map(String::as_str), Some("x"));
    }

    #[test]
    fn session_table_survives_snapshot_and_restore() {
        let mut kv = Kv::default();
        kv.apply(&cmd(7, 1, append("k", "x")));
        kv.apply(&cmd(
            8,
            1,
            Op::Cas {
                key: "k".into(),
                from: None,
                to: "z".into(),
            },
        ));
        let snap = kv.snapshot();
        let mut restored = Kv::default();
        restored.apply(&cmd(99, 1, append("junk", "j"))); // must vanish on restore
        restored.restore(&snap).unwrap();
        assert_eq!(restored, kv);
        assert_eq!(restored.digest(), kv.digest());
        assert_eq!(
            restored.get("junk"),
            None,
            "restore replaces all prior state"
        );
        // The retry after restore is recognised, with the original outcome.
        let retry = restored.apply(&cmd(7, 1, append("k", "x")));
        assert!(retry.duplicate);
        assert_eq!(restored.get("k").map(String::as_str), Some("x"));
        let retry = restored.apply(&cmd(
            8,
            1,
            Op::Cas {
                key: "k".into(),
                from: None,
                to: "z".into(),
            },
        ));
        assert_eq!(
            retry.outcome,
            Outcome::CasMismatch {
                current: Some("x".into())
            }
        );
    }

    #[test]
    fn digest_tells_states_apart() {
        let mut a = Kv::default();
        let mut b = Kv::default();
        a.apply(&cmd(1, 1, append("k", "x")));
        b.apply(&cmd(1, 1, append("k", "y")));
        assert_ne!(a.digest(), b.digest());
        let mut c = Kv::default();
        c.apply(&cmd(2, 1, append("k", "x")));
        assert_ne!(a.digest(), c.digest(), "sessions are part of the state");
    }

    #[test]
    fn corrupt_snapshot_is_an_error_not_a_panic() {
        let mut kv = Kv::default();
        assert!(kv.restore(&[0xff, 0xff, 0xff]).is_err());
    }
}
