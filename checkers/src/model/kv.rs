//! The project's key-value store: get/put/append/cas/delete on keys that
//! start absent. Also defines the operation types shared with [`StringKv`].
//!
//! [`StringKv`]: super::StringKv
use super::{show, Model, OpText};

/// An operation on one key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KvInput {
    pub key: String,
    pub op: KvOp,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KvOp {
    Get,
    Put(String),
    Append(String),
    /// Set to `to` if the key holds `from` (`None`: the key is absent).
    Cas {
        from: Option<String>,
        to: String,
    },
    Delete,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvOutput {
    /// A get's result; `None` when the key is absent.
    Value(Option<String>),
    /// A put, append, delete, or a cas that matched.
    Ok,
    /// A cas that did not match.
    Failed,
}

/// One `Option<String>` per key, checked per key.
#[derive(Clone, Copy, Debug, Default)]
pub struct Kv;

impl Model for Kv {
    type Input = KvInput;
    type Output = KvOutput;
    type State = Option<String>;

    fn unobservable(&self, ops: &[(&KvInput, Option<&KvOutput>)]) -> Vec<usize> {
        super::writes::unobservable_writes(ops)
    }

    fn implied_order(&self, ops: &[(&KvInput, Option<&KvOutput>)]) -> Vec<(usize, usize)> {
        super::writes::revealed_order(ops)
    }

    fn reads_from(&self, ops: &[(&KvInput, Option<&KvOutput>)]) -> Vec<(usize, usize)> {
        super::writes::reads_from(ops)
    }

    fn epochs(&self, ops: &[(&KvInput, Option<&KvOutput>)]) -> Vec<(usize, usize)> {
        super::writes::epochs(ops)
    }

    fn late_writes(&self, ops: &[(&KvInput, Option<&KvOutput>)]) -> (Vec<usize>, Vec<usize>) {
        super::writes::late_writes(ops)
    }

    fn init(&self) -> Option<String> {
        None
    }

    fn step(
        &self,
        state: &Option<String>,
        input: &KvInput,
        output: Option<&KvOutput>,
    ) -> Option<Option<String>> {
        use KvOp as I;
        use KvOutput as O;
        match (&input.op, output) {
            (I::Get, None) => Some(state.clone()),
            (I::Get, Some(O::Value(v))) => (v == state).then(|| state.clone()),
            (I::Put(v), None | Some(O::Ok)) => Some(Some(v.clone())),
            (I::Append(a), None | Some(O::Ok)) => {
                Some(Some(state.as_deref().unwrap_or("").to_string() + a))
            }
            (I::Delete, None | Some(O::Ok)) => Some(None),
            (I::Cas { from, to }, Some(O::Ok)) => (state == from).then(|| Some(to.clone())),
            (I::Cas { from, .. }, Some(O::Failed)) => (state != from).then(|| state.clone()),
            (I::Cas { from, to }, None) => Some(if state == from {
                Some(to.clone())
            } else {
                state.clone()
            }),
            _ => None,
        }
    }

    fn partition<'a>(&self, input: &'a KvInput) -> Option<&'a str> {
        Some(&input.key)
    }

    fn read_only(&self, input: &KvInput, output: &KvOutput) -> bool {
        read_only(input, output)
    }

    fn read_state(&self, input: &KvInput, output: &KvOutput) -> Option<Option<String>> {
        match (&input.op, output) {
            (KvOp::Get, KvOutput::Value(v)) => Some(v.clone()),
            _ => None,
        }
    }

    fn state_bytes(&self, state: &Option<String>) -> usize {
        state.as_ref().map_or(0, String::capacity)
    }

    fn describe_op(&self, input: &KvInput, output: Option<&KvOutput>) -> OpText {
        describe(input, output, |v| show(v.as_deref()))
    }

    fn describe_state(&self, state: &Option<String>) -> String {
        show(state.as_deref())
    }
}

/// A get, or a cas that did not match: shared by both kv models.
pub(super) fn read_only(input: &KvInput, output: &KvOutput) -> bool {
    matches!(
        (&input.op, output),
        (KvOp::Get, KvOutput::Value(_)) | (KvOp::Cas { .. }, KvOutput::Failed)
    )
}

/// Shared by both kv models; `value` shows a get's result.
pub(super) fn describe(
    input: &KvInput,
    output: Option<&KvOutput>,
    value: impl Fn(&Option<String>) -> String,
) -> OpText {
    let (f, arg) = match &input.op {
        KvOp::Get => ("get", "nil".to_string()),
        KvOp::Put(v) => ("put", format!("{v:?}")),
        KvOp::Append(v) => ("append", format!("{v:?}")),
        KvOp::Cas { from, to } => ("cas", format!("[{} {to:?}]", show(from.as_deref()))),
        KvOp::Delete => ("delete", "nil".to_string()),
    };
    let value_out = output.map(|o| match o {
        KvOutput::Value(v) => value(v),
        KvOutput::Ok => "ok".to_string(),
        KvOutput::Failed => "fail".to_string(),
    });
    OpText {
        f: f.to_string(),
        value_in: format!("{:?} {arg}", input.key),
        value_out,
    }
}
