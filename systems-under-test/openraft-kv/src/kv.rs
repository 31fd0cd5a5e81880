//! The key-value state machine with client sessions (Raft thesis §6.3): each
//! client's commands carry increasing sequence numbers; a command at or below
//! the session's last seq is a retry and is not applied again. Plain data, no
//! I/O: the whole state is a [`StateContents`], the trace's own type.
use crate::types::Command;
use sut::ops::{Op, Outcome};
use sut::trace::{SessionState, StateContents};

/// What applying one command did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Applied {
    pub outcome: Outcome,
    /// False when the session recognised a retry and nothing changed.
    pub effective: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Kv {
    state: StateContents,
}

impl Kv {
    pub fn from_contents(state: StateContents) -> Kv {
        Kv { state }
    }

    pub fn contents(&self) -> &StateContents {
        &self.state
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.state.data.get(key)
    }

    /// Applies `cmd` at most once per (client, seq).
    pub fn apply(&mut self, cmd: &Command) -> Applied {
        if let Some(s) = self.state.sessions.get(&cmd.client) {
            if cmd.seq <= s.last_seq {
                // The latest command's retry gets its recorded answer; an older
                // one was already answered (or abandoned) by the client.
                let outcome = if cmd.seq == s.last_seq {
                    s.outcome.clone()
                } else {
                    Outcome::Stale
                };
                return Applied {
                    outcome,
                    effective: false,
                };
            }
        }
        let outcome = self.apply_op(&cmd.op);
        let session = SessionState {
            last_seq: cmd.seq,
            outcome: outcome.clone(),
        };
        self.state.sessions.insert(cmd.client, session);
        Applied {
            outcome,
            effective: true,
        }
    }

    fn apply_op(&mut self, op: &Op) -> Outcome {
        let data = &mut self.state.data;
        match op {
            Op::Put { key, value } => {
                data.insert(key.clone(), value.clone());
                Outcome::Done
            }
            Op::Append { key, value } => {
                data.entry(key.clone()).or_default().push_str(value);
                Outcome::Done
            }
            Op::Cas { key, from, to } => {
                let current = data.get(key);
                if current == from.as_ref() {
                    data.insert(key.clone(), to.clone());
                    Outcome::Done
                } else {
                    Outcome::CasMismatch {
                        current: current.cloned(),
                    }
                }
            }
            Op::Delete { key } => {
                data.remove(key);
                Outcome::Done
            }
        }
    }

    /// The snapshot encoding of the state (postcard of [`StateContents`]).
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(&self.state).expect("state always encodes")
    }

    pub fn decode(bytes: &[u8]) -> Result<Kv, postcard::Error> {
        postcard::from_bytes(bytes).map(Kv::from_contents)
    }

    /// A seedless digest of the whole state, sessions included.
    pub fn digest(&self) -> u64 {
        sut::fnv64(&self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(client: u64, seq: u64, op: Op) -> Command {
        Command { client, seq, op }
    }

    fn put(k: &str, v: &str) -> Op {
        Op::Put {
            key: k.into(),
            value: v.into(),
        }
    }

    #[test]
    fn retries_apply_once() {
        let mut kv = Kv::default();
        let append = Op::Append {
            key: "k".into(),
            value: "x".into(),
        };
        assert!(kv.apply(&cmd(1, 1, append.clone())).effective);
        let again = kv.apply(&cmd(1, 1, append));
        assert_eq!((again.effective, again.outcome), (false, Outcome::Done));
        assert_eq!(kv.get("k").map(String::as_str), Some("x"));
        assert!(kv.apply(&cmd(1, 2, put("k", "y"))).effective);
        assert_eq!(kv.apply(&cmd(1, 1, put("k", "z"))).outcome, Outcome::Stale);
        assert_eq!(kv.get("k").map(String::as_str), Some("y"));
    }

    #[test]
    fn cas_and_delete() {
        let mut kv = Kv::default();
        let cas = |from: Option<&str>, to: &str| Op::Cas {
            key: "k".into(),
            from: from.map(Into::into),
            to: to.into(),
        };
        assert_eq!(kv.apply(&cmd(1, 1, cas(None, "a"))).outcome, Outcome::Done);
        let miss = kv.apply(&cmd(1, 2, cas(Some("b"), "c"))).outcome;
        let current = Some("a".to_string());
        assert_eq!(miss, Outcome::CasMismatch { current });
        kv.apply(&cmd(2, 1, Op::Delete { key: "k".into() }));
        assert_eq!(kv.get("k"), None);
        let round = Kv::decode(&kv.encode()).expect("decodes");
        assert_eq!(round.digest(), kv.digest());
    }
}
