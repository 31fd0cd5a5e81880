//! Each node's life from the trace: role segments (who led which term), and
//! the periods it was down (crashed, disk lost, halted).
use crate::load::{Fault, TraceEvent, TraceLine};
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    pub from: u64,
    pub to: u64,
    /// follower, pre_candidate, candidate or leader.
    pub role: String,
    /// `None` right after a boot, until the first role change.
    pub term: Option<u64>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Down {
    pub from: u64,
    /// When it booted again; `None`: still down at the end of the run.
    pub to: Option<u64>,
    /// It came back on an empty disk.
    pub disk_lost: bool,
    /// It halted itself with this reason (rather than being crashed).
    pub halted: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct NodeLife {
    pub segments: Vec<Segment>,
    pub downs: Vec<Down>,
}

/// The nodes seen in the trace or hit by a fault, in order.
pub fn node_ids(trace: &[TraceLine], faults: &[Fault]) -> Vec<u64> {
    let mut ids: BTreeSet<u64> = trace.iter().map(|r| r.node).collect();
    ids.extend(faults.iter().flat_map(|f| f.nodes.iter().copied()));
    ids.into_iter().collect()
}

struct Open {
    since: u64,
    role: String,
    term: Option<u64>,
}

pub fn lives(trace: &[TraceLine], faults: &[Fault], end: u64) -> BTreeMap<u64, NodeLife> {
    let mut out: BTreeMap<u64, NodeLife> = node_ids(trace, faults)
        .into_iter()
        .map(|n| (n, NodeLife::default()))
        .collect();
    let mut open: BTreeMap<u64, Option<Open>> = BTreeMap::new();
    let mut last: BTreeMap<u64, u64> = BTreeMap::new();
    for r in trace {
        let life = out.entry(r.node).or_default();
        let current = open.entry(r.node).or_insert(None);
        match &r.event {
            TraceEvent::Boot { recovering, .. } => {
                if let Some(&seen) = last.get(&r.node) {
                    // It was up before, so it went down: at its last event, or
                    // later if a crash fault says so.
                    let crash = faults
                        .iter()
                        .filter(|f| f.fault.starts_with("crash") && f.nodes.contains(&r.node))
                        .map(|f| f.start)
                        .filter(|&s| s <= r.time)
                        .max()
                        .unwrap_or(0);
                    let from = seen.max(crash).min(r.time);
                    close(life, current, from);
                    match life.downs.last_mut() {
                        Some(d) if d.to.is_none() => d.to = Some(r.time),
                        _ => life.downs.push(Down {
                            from,
                            to: Some(r.time),
                            disk_lost: false,
                            halted: None,
                        }),
                    }
                }
                if let Some(d) = life.downs.last_mut().filter(|d| d.to == Some(r.time)) {
                    d.disk_lost = *recovering;
                }
                *current = Some(Open {
                    since: r.time,
                    role: "follower".to_string(),
                    term: None,
                });
            }
            TraceEvent::Role { role, term } => {
                close(life, current, r.time);
                *current = Some(Open {
                    since: r.time,
                    role: role.clone(),
                    term: Some(*term),
                });
            }
            TraceEvent::Halt { reason } => {
                close(life, current, r.time);
                life.downs.push(Down {
                    from: r.time,
                    to: None,
                    disk_lost: false,
                    halted: Some(reason.clone()),
                });
            }
            _ => {
                if current.is_none() && life.downs.last().is_none_or(|d| d.to.is_some()) {
                    // A trace without a boot record: up from its first event.
                    *current = Some(Open {
                        since: r.time,
                        role: "follower".to_string(),
                        term: None,
                    });
                }
            }
        }
        // A restore on boot is logged just before its boot record: it is part
        // of coming back up, not a sign of life before the crash.
        if !matches!(r.event, TraceEvent::Restored { on_boot: true, .. }) {
            last.insert(r.node, r.time);
        }
    }
    for (node, current) in open.iter_mut() {
        if let Some(life) = out.get_mut(node) {
            close(life, current, end);
        }
    }
    out
}

fn close(life: &mut NodeLife, current: &mut Option<Open>, at: u64) {
    if let Some(o) = current.take() {
        if at > o.since {
            life.segments.push(Segment {
                from: o.since,
                to: at,
                role: o.role,
                term: o.term,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(time: u64, node: u64, json: &str) -> TraceLine {
        let text = format!(r#"{{"time":{time},"node":{node},{json}}}"#);
        serde_json::from_str(&text).unwrap()
    }

    const BOOT: &str = r#""event":"boot","generation":0,"recovering":false,"snapshot_index":0,"first_index":1,"last_index":0"#;

    #[test]
    fn roles_and_a_crash_with_disk_loss() {
        let trace = vec![
            line(0, 1, BOOT),
            line(10, 1, r#""event":"role","role":"leader","term":2"#),
            line(20, 1, r#""event":"persisted","last":3"#),
            line(50, 1, r#""event":"restored","index":3,"on_boot":true"#),
            line(
                50,
                1,
                r#""event":"boot","generation":1,"recovering":true,"snapshot_index":0,"first_index":1,"last_index":0"#,
            ),
        ];
        let faults: Vec<Fault> = vec![serde_json::from_str(
            r#"{"id":0,"fault":"crash","nodes":[1],"start":30,"end":50,"detail":""}"#,
        )
        .unwrap()];
        let l = &lives(&trace, &faults, 100)[&1];
        assert_eq!(
            l.segments,
            vec![
                Segment {
                    from: 0,
                    to: 10,
                    role: "follower".into(),
                    term: None
                },
                Segment {
                    from: 10,
                    to: 30,
                    role: "leader".into(),
                    term: Some(2)
                },
                Segment {
                    from: 50,
                    to: 100,
                    role: "follower".into(),
                    term: None
                },
            ]
        );
        assert_eq!(
            l.downs,
            vec![Down {
                from: 30,
                to: Some(50),
                disk_lost: true,
                halted: None
            }]
        );
    }

    #[test]
    fn halt_stays_down() {
        let trace = vec![
            line(0, 2, BOOT),
            line(5, 2, r#""event":"halt","reason":"disk full""#),
        ];
        let l = &lives(&trace, &[], 9)[&2];
        assert_eq!(l.downs[0].to, None);
        assert_eq!(l.downs[0].halted.as_deref(), Some("disk full"));
        assert_eq!(l.segments.len(), 1);
    }
}
