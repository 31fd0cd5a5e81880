//! What a node answers a read with, and the two read-path bug mutants.
use super::Node;
use crate::bugs::Bug;
use crate::trace::Role;

impl Node {
    /// The value a read returns.
    pub(super) fn read_value(&self, key: &str) -> Option<String> {
        let value = self.kv.get(key).cloned();
        if self.cfg.bugs.has(Bug::EmptyValueReadAsAbsent) && value.as_deref() == Some("") {
            // Bug mutant: the empty string is the read path's "no such key".
            return None;
        }
        value
    }

    /// Bug mutant `deposed-leader-reads`: this node led in the current term and
    /// has stepped down since (check quorum), but its cache was not cleared.
    pub(super) fn deposed_in_led_term(&mut self) -> bool {
        if !self.cfg.bugs.has(Bug::DeposedLeaderReads) {
            return false;
        }
        let term = self.raft.term();
        if self.raft.role() == Role::Leader {
            self.led_term = Some(term);
            return false;
        }
        self.led_term == Some(term)
    }
}
