//! Porcupine's key-value model: get/put/append on string values, where every
//! key starts as `""` and a get of an absent key returns `""`.
use super::kv::describe;
use super::{KvInput, KvOp, KvOutput, Model, OpText};

/// One `String` per key, checked per key.
#[derive(Clone, Copy, Debug, Default)]
pub struct StringKv;

impl Model for StringKv {
    type Input = KvInput;
    type Output = KvOutput;
    type State = String;

    fn init(&self) -> String {
        String::new()
    }

    fn step(&self, state: &String, input: &KvInput, output: Option<&KvOutput>) -> Option<String> {
        match (&input.op, output) {
            (KvOp::Get, None) => Some(state.clone()),
            (KvOp::Get, Some(KvOutput::Value(v))) => {
                (v.as_deref().unwrap_or("") == state).then(|| state.clone())
            }
            (KvOp::Put(v), None | Some(KvOutput::Ok)) => Some(v.clone()),
            (KvOp::Append(a), None | Some(KvOutput::Ok)) => Some(format!("{state}{a}")),
            // Porcupine's kv has no cas or delete.
            _ => None,
        }
    }

    fn partition<'a>(&self, input: &'a KvInput) -> Option<&'a str> {
        Some(&input.key)
    }

    fn read_only(&self, input: &KvInput, output: &KvOutput) -> bool {
        super::kv::read_only(input, output)
    }

    fn read_state(&self, input: &KvInput, output: &KvOutput) -> Option<String> {
        match (&input.op, output) {
            (KvOp::Get, KvOutput::Value(v)) => Some(v.clone().unwrap_or_default()),
            _ => None,
        }
    }

    fn state_bytes(&self, state: &String) -> usize {
        state.capacity()
    }

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

    fn describe_op(&self, input: &KvInput, output: Option<&KvOutput>) -> OpText {
        describe(input, output, |v| {
            format!("{:?}", v.as_deref().unwrap_or(""))
        })
    }

    fn describe_state(&self, state: &String) -> String {
        format!("{state:?}")
    }
}
