//! The network's state over a run, as the nemesis set it: which directed links
//! drop everything, which nodes are down (crashed, halted or paused) and whose
//! clock drifts. The availability checker judges leaders against this, the
//! harness's own record, rather than against anything the system reports.
use crate::cluster::Cluster;
use crate::nemesis::Nemesis;
use checkers::invariants::NetState;

#[derive(Default)]
pub struct NetworkLog {
    pub states: Vec<NetState>,
}

impl NetworkLog {
    /// Records the network's state now if it differs from the last one.
    pub fn observe(&mut self, c: &Cluster, nemesis: &Nemesis) {
        let mut down = Vec::new();
        let mut clock = Vec::new();
        for n in c.spec.node_ids() {
            let ctl = c.control(n).borrow();
            if c.is_crashed(n) || ctl.paused || ctl.halted.is_some() {
                down.push(n);
            }
            if ctl.clock_rate != 1.0 {
                clock.push((n, ctl.clock_rate));
            }
        }
        let state = NetState {
            time: c.elapsed().as_nanos() as u64,
            cut: nemesis.cut_links(),
            down,
            clock,
        };
        let same = self.states.last().is_some_and(|last| {
            (&last.cut, &last.down, &last.clock) == (&state.cut, &state.down, &state.clock)
        });
        if !same {
            self.states.push(state);
        }
    }
}
