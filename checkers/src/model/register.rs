//! One integer register with read, write and compare-and-set (Jepsen etcd).
use super::{Model, OpText};

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum RegisterInput {
    Read,
    Write(i64),
    Cas { from: i64, to: i64 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RegisterOutput {
    /// A read's result; `None` when the register was never written.
    Read(Option<i64>),
    /// A write, or a compare-and-set that matched.
    Ok,
    /// A compare-and-set that did not match.
    Failed,
}

/// The register starts absent (`nil`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Register;

impl Model for Register {
    type Input = RegisterInput;
    type Output = RegisterOutput;
    type State = Option<i64>;

    fn init(&self) -> Option<i64> {
        None
    }

    fn step(
        &self,
        state: &Option<i64>,
        input: &RegisterInput,
        output: Option<&RegisterOutput>,
    ) -> Option<Option<i64>> {
        use RegisterInput as I;
        use RegisterOutput as O;
        match (input, output) {
            (I::Read, None) => Some(*state),
            (I::Read, Some(O::Read(v))) => (v == state).then_some(*state),
            (I::Write(v), None | Some(O::Ok)) => Some(Some(*v)),
            (I::Cas { from, to }, Some(O::Ok)) => (*state == Some(*from)).then_some(Some(*to)),
            (I::Cas { from, .. }, Some(O::Failed)) => (*state != Some(*from)).then_some(*state),
            (I::Cas { from, to }, None) => Some(if *state == Some(*from) {
                Some(*to)
            } else {
                *state
            }),
            _ => None,
        }
    }

    fn read_state(&self, input: &RegisterInput, output: &RegisterOutput) -> Option<Option<i64>> {
        match (input, output) {
            (RegisterInput::Read, RegisterOutput::Read(v)) => Some(*v),
            _ => None,
        }
    }

    fn read_only(&self, input: &RegisterInput, output: &RegisterOutput) -> bool {
        matches!(
            (input, output),
            (RegisterInput::Read, RegisterOutput::Read(_))
                | (RegisterInput::Cas { .. }, RegisterOutput::Failed)
        )
    }

    fn describe_op(&self, input: &RegisterInput, output: Option<&RegisterOutput>) -> OpText {
        let num = |v: &Option<i64>| v.map_or("nil".to_string(), |v| v.to_string());
        let (f, value_in) = match input {
            RegisterInput::Read => ("read", "nil".to_string()),
            RegisterInput::Write(v) => ("write", v.to_string()),
            RegisterInput::Cas { from, to } => ("cas", format!("[{from} {to}]")),
        };
        let value_out = output.map(|o| match o {
            RegisterOutput::Read(v) => num(v),
            RegisterOutput::Ok => "ok".to_string(),
            RegisterOutput::Failed => "fail".to_string(),
        });
        OpText {
            f: f.to_string(),
            value_in,
            value_out,
        }
    }

    fn describe_state(&self, state: &Option<i64>) -> String {
        state.map_or("nil".to_string(), |v| v.to_string())
    }
}
