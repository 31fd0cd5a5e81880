//! The key-value operations clients send and the outcomes a state machine
//! reports, with sessions keyed by (client, seq) as in the Raft thesis §6.3.
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    Put {
        key: String,
        value: String,
    },
    Append {
        key: String,
        value: String,
    },
    /// Set `key` to `to` if it currently holds `from` (`None` = absent).
    Cas {
        key: String,
        from: Option<String>,
        to: String,
    },
    Delete {
        key: String,
    },
}

impl Op {
    pub fn key(&self) -> &str {
        match self {
            Op::Put { key, .. }
            | Op::Append { key, .. }
            | Op::Cas { key, .. }
            | Op::Delete { key } => key,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    Done,
    /// The cas precondition did not hold; nothing changed. Carries what was there.
    CasMismatch {
        current: Option<String>,
    },
    /// A retry older than the client's latest applied command (the client has
    /// moved on; its reply was already delivered or abandoned).
    Stale,
}
