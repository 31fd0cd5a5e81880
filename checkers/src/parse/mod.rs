//! Readers for the history formats `snapstorm check` accepts. Each returns
//! operations or an [`InputError`] naming the line and the problem.
pub mod edn;
mod etcd;
mod jepsen;
mod jepsen_kv;
mod jepsen_op;
mod pairing;
mod snapstorm;

pub use etcd::{parse_etcd, parse_etcd_numbered};
pub use jepsen::parse_jepsen_numbered;
pub use jepsen_kv::{parse_jepsen_kv, parse_jepsen_kv_numbered};
pub use snapstorm::{parse_snapstorm, parse_snapstorm_numbered};

use crate::linearizability::Operation;

/// Operations as read, and the number each is known by in the input: the
/// `index` of its invocation where the format records one (snapstorm's
/// history.jsonl, Jepsen's `:index`), else the invocation's line. Reports
/// name operations by these numbers
/// ([`crate::linearizability::Counterexample::renumbered`]).
pub struct Numbered<I, O> {
    pub ops: Vec<Operation<I, O>>,
    pub numbers: Vec<u64>,
}

/// Bad input: the 1-based line (when there is one) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    pub line: Option<usize>,
    pub message: String,
}

impl std::fmt::Display for InputError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for InputError {}

pub(crate) fn error(line: usize, message: impl Into<String>) -> InputError {
    InputError {
        line: Some(line),
        message: message.into(),
    }
}

/// Splits into numbered, UTF-8 checked lines (a trailing `\r` removed).
pub(crate) fn lines(bytes: &[u8]) -> Result<Vec<(usize, &str)>, InputError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(InputError {
            line: None,
            message: "empty file: no operations".to_string(),
        });
    }
    let mut out = Vec::new();
    for (i, raw) in bytes.split(|&b| b == b'\n').enumerate() {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = std::str::from_utf8(raw).map_err(|e| {
            error(
                i + 1,
                format!("not valid UTF-8 (byte {} of the line)", e.valid_up_to() + 1),
            )
        })?;
        out.push((i + 1, line));
    }
    Ok(out)
}
