//! What a scenario's evidence functions look at: the run's trace, nemesis
//! log, code probes and node count.
use sut::trace::TraceEvent;
use sut::trace::TraceRecord;

/// What evidence functions look at.
pub struct Evidence<'a> {
    pub trace: &'a [TraceRecord],
    pub faults: &'a [crate::nemesis::FaultRecord],
    /// The code probes the run hit (`raftkv::probe`), by name.
    pub probes: &'a std::collections::BTreeMap<String, u64>,
    /// The cluster's node count.
    pub nodes: u64,
}

impl Evidence<'_> {
    pub(super) fn count(&self, f: impl Fn(&TraceEvent) -> bool) -> usize {
        self.trace.iter().filter(|r| f(&r.event)).count()
    }

    /// How often the run passed the named code probe.
    pub(super) fn probed(&self, probe: raftkv::probe::Probe) -> u64 {
        self.probes.get(probe.name()).copied().unwrap_or(0)
    }

    pub(super) fn fired(&self, name: &str) -> usize {
        self.faults
            .iter()
            .filter(|r| {
                r.fault.name() == name
                    && (name != "crash-at" || r.detail.starts_with("crash point reached"))
            })
            .count()
    }

    /// How many distinct nodes a `crash` fault hit.
    pub(super) fn crashed_nodes(&self) -> usize {
        let crashed: std::collections::BTreeSet<u64> = self
            .faults
            .iter()
            .filter(|r| r.fault.name() == "crash")
            .flat_map(|r| r.nodes.iter().copied())
            .collect();
        crashed.len()
    }

    /// A node booted again after the crash recorded at `start` ns.
    pub(super) fn rebooted_after(&self, node: u64, start: u64) -> bool {
        self.trace.iter().any(|r| {
            r.node == node && r.time >= start && matches!(r.event, TraceEvent::Boot { .. })
        })
    }
}
