//! Pairs invocations with completions, per process.
use super::Numbered;
use super::{error, InputError};
use crate::linearizability::Operation;
use rustc_hash::{FxHashMap, FxHashSet};

/// How an operation completed.
pub(crate) enum Completion<O> {
    /// Returned with this output.
    Returned(O),
    /// Indeterminate (`:info`): may or may not have taken effect. `keep` is
    /// false for a read, which then constrains nothing. Either way the
    /// process may not be used again.
    Unknown { keep: bool },
    /// Did not take effect, or constrains nothing (a failed or timed-out
    /// read): dropped from the history.
    Dropped,
}

pub(crate) struct Pairing<I, O> {
    ops: Vec<Operation<I, O>>,
    /// Process to (operation index, line of its invocation).
    in_flight: FxHashMap<u64, (usize, usize)>,
    /// Processes whose last operation was indeterminate.
    crashed: FxHashSet<u64>,
    dropped: Vec<bool>,
    /// Each operation's number: what the user sees it called.
    numbers: Vec<u64>,
}

impl<I, O> Pairing<I, O> {
    pub(crate) fn new() -> Self {
        Pairing {
            ops: Vec::new(),
            in_flight: FxHashMap::default(),
            crashed: FxHashSet::default(),
            dropped: Vec::new(),
            numbers: Vec::new(),
        }
    }

    /// `number` names the operation in what the checker reports: the
    /// invocation's index in the history when the format has one, else its
    /// line.
    pub(crate) fn invoke(
        &mut self,
        line: usize,
        process: u64,
        input: I,
        time: u64,
        number: u64,
    ) -> Result<(), InputError> {
        if let Some((_, at)) = self.in_flight.get(&process) {
            return Err(error(
                line,
                format!("process {process} invokes an operation while its operation from line {at} is still in flight"),
            ));
        }
        if self.crashed.contains(&process) {
            return Err(error(
                line,
                format!("process {process} invokes an operation after an indeterminate (info) one; a process must not be reused"),
            ));
        }
        self.in_flight.insert(process, (self.ops.len(), line));
        self.ops.push(Operation {
            process,
            input,
            call: time,
            ret: None,
        });
        self.dropped.push(false);
        self.numbers.push(number);
        Ok(())
    }

    /// The in-flight invocation of `process`, to validate a completion against.
    pub(crate) fn pending(&self, line: usize, process: u64) -> Result<&I, InputError> {
        match self.in_flight.get(&process) {
            Some(&(i, _)) => Ok(&self.ops[i].input),
            None => Err(error(
                line,
                format!("completion for process {process}, which has no operation in flight"),
            )),
        }
    }

    pub(crate) fn complete(
        &mut self,
        line: usize,
        process: u64,
        completion: Completion<O>,
        time: u64,
    ) -> Result<(), InputError> {
        let Some((i, at)) = self.in_flight.remove(&process) else {
            return Err(error(
                line,
                format!("completion for process {process}, which has no operation in flight"),
            ));
        };
        if time < self.ops[i].call {
            return Err(error(
                line,
                format!("completion is earlier than its invocation on line {at}"),
            ));
        }
        match completion {
            Completion::Returned(o) => self.ops[i].ret = Some((time, o)),
            Completion::Unknown { keep } => {
                self.crashed.insert(process);
                self.dropped[i] = !keep;
            }
            Completion::Dropped => self.dropped[i] = true,
        }
        Ok(())
    }

    /// The operations, those still in flight indeterminate, with their
    /// numbers. An error if the input held no operation at all.
    pub(crate) fn finish(self) -> Result<Numbered<I, O>, InputError> {
        if self.ops.is_empty() {
            return Err(InputError {
                line: None,
                message: "no operations found".to_string(),
            });
        }
        let (ops, numbers) = (self.ops.into_iter().zip(self.numbers))
            .zip(self.dropped)
            .filter_map(|(op, dropped)| (!dropped).then_some(op))
            .unzip();
        Ok(Numbered { ops, numbers })
    }
}
