//! Builds the counterexample of a failed partition.
use super::search::Plan;
use super::states::Stepper;
use super::{Counterexample, OpRecord, Operation, Stuck, PREFIX_STATES, STATE_CHARS};
use crate::model::Model;

pub(super) struct Part<'a, M: Model> {
    pub(super) model: &'a M,
    pub(super) history: &'a [Operation<M::Input, M::Output>],
    /// Local operation index to history index.
    pub(super) local: &'a [usize],
    pub(super) plan: &'a Plan,
    pub(super) key: Option<String>,
}

impl<M: Model> Part<'_, M> {
    /// Operation `id` of the history in words: `f input -> output`.
    fn what(&self, id: usize) -> String {
        let op = &self.history[id];
        let text = self.model.describe_op(&op.input, op.output());
        format!(
            "{} {} -> {}",
            text.f,
            text.value_in,
            text.value_out.as_deref().unwrap_or("?")
        )
    }

    pub(super) fn counterexample<S: Stepper>(
        &self,
        stepper: &mut S,
        prefix: &[u32],
    ) -> Counterexample {
        let plan = self.plan;
        let mut placed = vec![false; plan.call.len()];
        // The state before each prefix operation, and after the last.
        let mut sids = vec![stepper.init()];
        for &op in prefix {
            placed[op as usize] = true;
            let sid = sids[sids.len() - 1];
            // The prefix was reached by the search, so every step is allowed.
            sids.push(stepper.step(sid, op).unwrap_or(sid));
        }
        let sid = sids[sids.len() - 1];
        let state = stepper.describe(sid);
        // Everything called before the earliest pending return could go next.
        let first_return = (0..plan.completed)
            .filter(|&i| !placed[i])
            .map(|i| plan.ret[i])
            .min()
            .unwrap_or(u64::MAX);
        let mut stuck = Vec::new();
        for (i, &call) in plan.call.iter().enumerate() {
            if placed[i] || call > first_return {
                continue;
            }
            let what = self.what(self.local[i]);
            let missing = (plan.after(i as u32).iter())
                .find(|&&a| !placed[a as usize])
                .map(|&a| self.local[a as usize]);
            let reason = match stepper.step(sid, i as u32) {
                _ if missing.is_some() => must_follow(&what, missing.unwrap_or(0)),
                None => format!("{what}: not possible in state {state}"),
                Some(next) if i >= plan.completed => format!(
                    "{what} (indeterminate): would give state {}, but nothing then linearizes",
                    stepper.describe(next)
                ),
                Some(next) => format!(
                    "{what}: would give state {}, but the rest cannot be linearized after it",
                    stepper.describe(next)
                ),
            };
            stuck.push(Stuck {
                op: self.local[i],
                reason,
                after: missing,
                shows: None,
                missed: None,
            });
        }
        // Reads a pin shows stale, wherever the prefix stopped: with read pins
        // the search fails early, where a pin first cannot hold, and the
        // read that makes it fail may be far from the prefix's end.
        for (read, source, overwriter) in plan.stale_reads() {
            let id = self.local[read as usize];
            if placed[read as usize] || stuck.iter().any(|s| s.op == id) {
                continue;
            }
            let what = self.what(id);
            let (source, overwriter) =
                (self.local[source as usize], self.local[overwriter as usize]);
            stuck.push(Stuck {
                op: id,
                reason: overwritten(&what, source, overwriter),
                after: None,
                shows: Some(source),
                missed: Some(overwriter),
            });
        }
        let mut ids = self.local.to_vec();
        ids.sort_unstable();
        let ops = ids
            .iter()
            .map(|&id| {
                let op = &self.history[id];
                OpRecord {
                    id,
                    process: op.process,
                    text: self.model.describe_op(&op.input, op.output()),
                    call: op.call,
                    ret: op.ret.as_ref().map(|r| r.0),
                }
            })
            .collect();
        let covered = &sids[sids.len() - (prefix.len().min(PREFIX_STATES) + 1)..];
        let prefix_states = covered.iter().map(|&s| cut(stepper.describe(s))).collect();
        Counterexample {
            partition: self.key.clone(),
            ops,
            longest_prefix: prefix.iter().map(|&i| self.local[i as usize]).collect(),
            state_after_prefix: state,
            stuck,
            prefix_states,
            partials: Vec::new(),
        }
    }
}

/// Why `what` cannot go next: operation `after` has to take effect first.
/// [`Counterexample::renumbered`] rewrites the number.
pub(super) fn must_follow(what: &str, after: usize) -> String {
    format!("{what}: must come after op {after}, which the reads show took effect first")
}

/// Why read `what` cannot go anywhere: it shows the state op `shows` set,
/// which op `missed` replaced before the read began.
/// [`Counterexample::renumbered`] rewrites the numbers.
pub(super) fn overwritten(what: &str, shows: usize, missed: usize) -> String {
    format!(
        "{what}: shows the state op {shows} began, but op {missed} replaced it \
         and returned before this read was called"
    )
}

/// A state's last [`STATE_CHARS`] characters, with its length when cut.
fn cut(state: String) -> String {
    let n = state.chars().count();
    if n <= STATE_CHARS {
        return state;
    }
    let tail: String = state.chars().skip(n - STATE_CHARS).collect();
    format!("({n} chars) …{tail}")
}
