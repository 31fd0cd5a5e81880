//! Explicit replacements for choices a scenario otherwise draws from the seed: the
//! whole fault schedule, the node count, the client count and the share of
//! node-bound clients. `snapstorm shrink`
//! writes them into the config of a shrunk run; they are recorded in
//! `results.json`, so `snapstorm replay` repeats the shrunk run exactly.
//!
//! They are applied after the scenario has drawn its choices, so overriding one
//! choice leaves every other draw of the seed as it was (unlike `--nodes`, which
//! `swarm` reads before it draws).
use crate::cluster::ClusterSpec;
use crate::nemesis::{Fault, Planned, Target};
use serde::{Deserialize, Serialize};
use workloads::WorkloadSpec;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// Replaces the scenario's fault plan in full (faults due after the main
    /// phase never start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub faults: Option<Vec<Planned>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clients: Option<u32>,
    /// Replaces the probability that a node gets a client bound to it (0: no
    /// bound clients, every client follows the leader; `chaos --bound-clients`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bound_clients: Option<f64>,
}

impl Overrides {
    pub fn is_empty(&self) -> bool {
        *self == Overrides::default()
    }

    /// Applies the overrides to what the scenario built. An error names a node
    /// count out of range or a fault aimed at a node the cluster does not have.
    pub fn apply(
        &self,
        spec: &mut ClusterSpec,
        workload: &mut WorkloadSpec,
        plan: &mut Vec<Planned>,
    ) -> Result<(), String> {
        if let Some(n) = self.nodes {
            if !(1..=9).contains(&n) {
                return Err(format!("overrides: {n} nodes is outside 1..=9"));
            }
            spec.nodes = n;
        }
        if let Some(c) = self.clients {
            if c == 0 {
                return Err("overrides: 0 clients".into());
            }
            workload.clients = c;
        }
        if let Some(r) = self.bound_clients {
            if !(0.0..=1.0).contains(&r) {
                return Err(format!(
                    "overrides: bound_clients {r} is outside 0..=1 (a probability per node)"
                ));
            }
            workload.bound_rate = r;
        }
        if let Some(faults) = &self.faults {
            for (i, p) in faults.iter().enumerate() {
                for n in pinned_nodes(&p.fault) {
                    if !(1..=spec.nodes).contains(&n) {
                        return Err(format!(
                            "overrides: fault {i} ({}) targets node n{n}, but the cluster has {} nodes",
                            p.fault.name(),
                            spec.nodes
                        ));
                    }
                }
            }
            *plan = faults.clone();
        }
        Ok(())
    }
}

/// The targets of a fault, for faults that have them.
pub fn targets_mut(fault: &mut Fault) -> Vec<&mut Target> {
    match fault {
        Fault::Isolate { target }
        | Fault::Crash { target, .. }
        | Fault::Pause { target }
        | Fault::ClockDrift { target, .. }
        | Fault::CrashAt { target, .. }
        | Fault::Disk { target, .. }
        | Fault::RemoveMember { target, .. }
        | Fault::BlackholeUntilSnapshot { target } => vec![target],
        Fault::OneWay { from, to } => vec![from, to],
        Fault::RandomHalves
        | Fault::QuorumBoundary { .. }
        | Fault::Bridge
        | Fault::MajoritiesRing
        | Fault::Loss { .. }
        | Fault::Latency { .. }
        | Fault::Unreliable { .. } => Vec::new(),
    }
}

/// The nodes a fault names explicitly (`Target::Node`).
pub fn pinned_nodes(fault: &Fault) -> Vec<u64> {
    let mut f = fault.clone();
    targets_mut(&mut f)
        .into_iter()
        .filter_map(|t| match t {
            Target::Node(n) => Some(*n),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;
    use workloads::Generator;

    fn crash(n: u64) -> Planned {
        Planned {
            at: Duration::from_millis(700),
            hold: Duration::from_millis(200),
            fault: Fault::Crash {
                target: Target::Node(n),
                lose_disk: false,
            },
        }
    }

    #[test]
    fn the_schedule_replaces_the_plan_and_knobs_are_set() {
        let o = Overrides {
            faults: Some(vec![crash(2)]),
            nodes: Some(3),
            clients: Some(1),
            bound_clients: None,
        };
        let mut spec = ClusterSpec::new(5, 1);
        let mut w = WorkloadSpec::new(Generator::Kv);
        let mut plan = vec![crash(1), crash(4)];
        o.apply(&mut spec, &mut w, &mut plan).unwrap();
        assert_eq!((spec.nodes, w.clients), (3, 1));
        assert_eq!(plan, vec![crash(2)]);
    }

    #[test]
    fn a_fault_on_a_missing_node_is_a_clear_error() {
        let o = Overrides {
            faults: Some(vec![crash(5)]),
            nodes: Some(3),
            clients: None,
            bound_clients: None,
        };
        let err = o
            .apply(
                &mut ClusterSpec::new(5, 1),
                &mut WorkloadSpec::new(Generator::Kv),
                &mut Vec::new(),
            )
            .unwrap_err();
        assert!(err.contains("fault 0 (crash) targets node n5"), "{err}");
    }

    #[test]
    fn a_bound_client_share_outside_0_to_1_is_an_error() {
        let o = Overrides {
            bound_clients: Some(1.5),
            ..Overrides::default()
        };
        let mut w = WorkloadSpec::new(Generator::Kv);
        let err = o
            .apply(&mut ClusterSpec::new(3, 1), &mut w, &mut Vec::new())
            .unwrap_err();
        assert!(err.contains("bound_clients 1.5 is outside 0..=1"), "{err}");
        let off = Overrides {
            bound_clients: Some(0.0),
            ..Overrides::default()
        };
        off.apply(&mut ClusterSpec::new(3, 1), &mut w, &mut Vec::new())
            .unwrap();
        assert_eq!(w.bound_rate, 0.0);
    }

    #[test]
    fn the_recorded_form_round_trips_exactly() {
        let o = Overrides {
            faults: Some(vec![
                crash(1),
                Planned {
                    at: Duration::from_nanos(1_234_567_891),
                    hold: Duration::from_nanos(987_654_321),
                    fault: Fault::Loss { rate: 0.1 },
                },
            ]),
            nodes: None,
            clients: Some(2),
            bound_clients: Some(0.0),
        };
        let text = serde_json::to_string(&o).unwrap();
        assert_eq!(serde_json::from_str::<Overrides>(&text).unwrap(), o);
        assert!(Overrides::default().is_empty() && !o.is_empty());
    }
}
