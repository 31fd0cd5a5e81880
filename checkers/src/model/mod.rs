//! Sequential specifications that histories are checked against.
//!
//! A model is a small trait: an initial state, a step function that says
//! whether an operation with its observed output is allowed in a state (and
//! what state follows), an optional partition key for P-compositionality, and
//! text for reports. Adding a model is one file implementing [`Model`].
use std::hash::Hash;

mod kv;
mod register;
mod string_kv;
mod writes;

pub use kv::{Kv, KvInput, KvOp, KvOutput};
pub use register::{Register, RegisterInput, RegisterOutput};
pub use string_kv::StringKv;

/// A sequential specification.
pub trait Model: Sync {
    /// Equal inputs must mean equal operations: indeterminate operations with
    /// equal inputs are treated as interchangeable.
    type Input: Send + Sync + Eq + Hash;
    type Output: Send + Sync;
    /// The state of one partition. Cloned and hashed by the checker, which
    /// interns every distinct state once.
    type State: Clone + Eq + Hash + Send;

    fn init(&self) -> Self::State;

    /// Applies `input` to `state`. `output` is the observed result, or `None`
    /// for an indeterminate operation (it took effect with an unknown result).
    /// Returns the next state, or `None` if the output is impossible here.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Option<Self::State>;

    /// The partition (key) an operation belongs to, if the model is the
    /// product of independent per-key objects. Operations of different keys
    /// must commute and not observe each other. `None` puts every operation
    /// into one partition.
    fn partition<'a>(&self, _input: &'a Self::Input) -> Option<&'a str> {
        None
    }

    /// Indeterminate operations (by position in `ops`, one partition's
    /// operations with their outputs, `None` = indeterminate) whose effect no
    /// operation could observe: the verdict is the same with or without them,
    /// so the search drops them. The default drops nothing.
    fn unobservable(&self, _ops: &[(&Self::Input, Option<&Self::Output>)]) -> Vec<usize> {
        Vec::new()
    }

    /// Whether the operation, with this observed output, leaves every state
    /// as it was wherever it is allowed (a read, a failed cas). The search
    /// then places such an operation as soon as it is allowed, without trying
    /// it anywhere else: moving it earlier changes no other step. The default
    /// claims nothing.
    fn read_only(&self, _input: &Self::Input, _output: &Self::Output) -> bool {
        false
    }

    /// For a read-only operation with this output, the one state it is
    /// allowed in, when there is exactly one (a read of a whole state): the
    /// search then compares state ids instead of stepping the model. `None`
    /// claims nothing. A wrong state gives wrong verdicts.
    fn read_state(&self, _input: &Self::Input, _output: &Self::Output) -> Option<Self::State> {
        None
    }

    /// Bytes a state holds beyond its inline size (a string's capacity), for
    /// the checker's memory estimate. The default: none.
    fn state_bytes(&self, _state: &Self::State) -> usize {
        0
    }

    /// Orderings every linearization has: `(a, b)` positions in `ops` (one
    /// partition's operations, as for [`Model::unobservable`]) such that `a`
    /// and `b` both take effect, `a` first. The search never places `b`
    /// before `a` (so an indeterminate `a` must be placed for `b` to be).
    /// Wrong edges give wrong verdicts: each must follow from the outputs
    /// alone. The default claims none.
    fn implied_order(&self, _ops: &[(&Self::Input, Option<&Self::Output>)]) -> Vec<(usize, usize)> {
        Vec::new()
    }

    /// Which write each read observes: `(w, r)` positions in `ops` (as for
    /// [`Model::implied_order`]) such that in every linearization `r` comes
    /// after `w` and no operation between them changes the state. The
    /// search then lets nothing change the state while a placed write has
    /// readers left to place. Wrong pairs give wrong verdicts. The default
    /// claims none.
    fn reads_from(&self, _ops: &[(&Self::Input, Option<&Self::Output>)]) -> Vec<(usize, usize)> {
        Vec::new()
    }

    /// Each read's *epoch*: `(p, r)` positions in `ops` (as for
    /// [`Model::implied_order`]) such that in every linearization `r` comes
    /// after `p` with no reset ([`Model::late_writes`]) between them. The
    /// search then places no reset while a placed `p` has reads left to
    /// place. Wrong pairs give wrong verdicts. The default claims none.
    fn epochs(&self, _ops: &[(&Self::Input, Option<&Self::Output>)]) -> Vec<(usize, usize)> {
        Vec::new()
    }

    /// Completed operations that may always move later, and the *resets*
    /// they may not move past: `(late, resets)`, positions in `ops` (as for
    /// [`Model::implied_order`]). Each late X must be such that in any
    /// linearization where X is right before a completed operation Y that
    /// is not a reset, swapping X and Y leaves every step allowed. The
    /// search then places a late operation only right before a reset, an
    /// indeterminate operation, a late one after it in `ops`, or one called
    /// after it returned. The default claims none.
    fn late_writes(
        &self,
        _ops: &[(&Self::Input, Option<&Self::Output>)],
    ) -> (Vec<usize>, Vec<usize>) {
        (Vec::new(), Vec::new())
    }

    /// Operation text for reports.
    fn describe_op(&self, input: &Self::Input, output: Option<&Self::Output>) -> OpText;

    fn describe_state(&self, state: &Self::State) -> String;
}

/// How an operation is shown in a report.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OpText {
    /// Function name, e.g. `cas`.
    pub f: String,
    /// The argument, e.g. `[1 2]`.
    pub value_in: String,
    /// The observed result; `None` when indeterminate.
    pub value_out: Option<String>,
}

/// Shows an optional string value; `None` (absent) as `nil`.
pub(crate) fn show(value: Option<&str>) -> String {
    match value {
        Some(v) => format!("{v:?}"),
        None => "nil".to_string(),
    }
}
