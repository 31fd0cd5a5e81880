//! Clients on every node (issue 17 class 4) and edge values (class 6) on live
//! runs: node-bound clients exist and talk to non-leaders, a node cut off as
//! leader answers them with a refusal (fail) or leaves them unknown (info),
//! never with a served read or an acknowledged write, and the mutant that lets a
//! deposed leader serve reads is caught through them.
use harness::results::Verdict;
use harness::run::{build, run, RunConfig, RunOutcome};
use harness::scenario;
use raftkv::bugs::{Bug, Bugs};
use workloads::history::{Event, EventKind, Function, Value};

/// Check quorum steps a cut-off leader down within two election timeouts
/// (2 s); a little more for the last heartbeat and the step.
const STEP_DOWN: u64 = 2_500_000_000;

struct Bound {
    slots: u64,
    clients: u64,
    nodes: Vec<u64>,
}

fn bound_of(cfg: &RunConfig) -> Bound {
    let b = build(cfg, scenario::find(&cfg.scenario).unwrap()).unwrap();
    Bound {
        slots: u64::from(b.workload.slots()),
        clients: u64::from(b.workload.clients),
        nodes: b.workload.bound.clone(),
    }
}

impl Bound {
    /// The node `process` is bound to (None: it follows the leader).
    fn node(&self, process: u64) -> Option<u64> {
        if process >= 1_000_000 {
            return None; // the final reader
        }
        let slot = process % self.slots;
        slot.checked_sub(self.clients)
            .map(|i| self.nodes[i as usize])
    }
}

/// Completions by node-bound processes of operations invoked after the
/// isolated leader they are bound to must have stepped down and completed
/// before the isolation ended: (every such completion, the ok ones among them).
fn answers_while_deposed<'a>(
    out: &'a RunOutcome,
    bound: &Bound,
) -> (Vec<&'a Event>, Vec<&'a Event>) {
    let isolations: Vec<(u64, u64, u64)> = out
        .nemesis
        .iter()
        .filter(|f| f.fault.name() == "isolate")
        .filter_map(|f| Some((f.nodes[0], f.start + STEP_DOWN, f.end?)))
        .collect();
    let mut invoked: std::collections::BTreeMap<u64, u64> = Default::default();
    let mut all = Vec::new();
    for e in &out.history {
        if e.kind == EventKind::Invoke {
            invoked.insert(e.process, e.time);
            continue;
        }
        let (Some(node), Some(start)) = (bound.node(e.process), invoked.get(&e.process)) else {
            continue;
        };
        if isolations
            .iter()
            .any(|(n, from, to)| *n == node && *start >= *from && e.time <= *to)
        {
            all.push(e);
        }
    }
    let ok = all
        .iter()
        .copied()
        .filter(|e| e.kind == EventKind::Ok)
        .collect();
    (all, ok)
}

#[test]
fn bound_clients_talk_to_every_node_and_a_deposed_leader_only_refuses_them() {
    let mut refused_while_deposed = 0;
    for seed in 1..=3 {
        let cfg = RunConfig::new("leader-isolation", seed);
        let bound = bound_of(&cfg);
        let out = run(&cfg).unwrap();
        assert_eq!(out.results.verdict, Verdict::Valid, "seed {seed}");
        // Every answer a bound process got came from its own node.
        let mut by_node = std::collections::BTreeMap::new();
        for e in out.history.iter().filter(|e| e.kind != EventKind::Invoke) {
            if let Some(node) = bound.node(e.process) {
                assert_eq!(e.node, Some(node), "seed {seed}: {e:?}");
                *by_node.entry((node, format!("{:?}", e.kind))).or_insert(0) += 1;
            }
        }
        for n in &bound.nodes {
            assert!(
                by_node.contains_key(&(*n, "Fail".to_string())),
                "seed {seed}: the client bound to n{n} was refused at times (a non-leader): {by_node:?}"
            );
        }
        let (answers, ok) = answers_while_deposed(&out, &bound);
        assert!(
            ok.is_empty(),
            "seed {seed}: a deposed leader answered {ok:?}"
        );
        refused_while_deposed += answers
            .iter()
            .filter(|e| {
                e.kind == EventKind::Fail
                    && e.error
                        .as_deref()
                        .is_some_and(|r| r.starts_with("not leader"))
            })
            .count();
    }
    assert!(
        refused_while_deposed > 0,
        "some bound client asked a deposed leader and was refused"
    );
}

#[test]
fn a_deposed_leader_serving_reads_is_seen_by_bound_clients() {
    // The same check on the mutant fails: it is what catches it.
    let mut cfg = RunConfig::new("leader-isolation", 1);
    cfg.bugs = Bugs::NONE.with(Bug::DeposedLeaderReads);
    let bound = bound_of(&cfg);
    let out = run(&cfg).unwrap();
    let (_, ok) = answers_while_deposed(&out, &bound);
    assert!(
        ok.iter().any(|e| e.f == Function::Get),
        "reads served by a deposed leader"
    );
}

#[test]
fn deposed_leader_reads_are_caught_in_lease_mode_too() {
    // clock-drift reads by lease; the mutant skips the lease as it skips ReadIndex.
    let mut cfg = RunConfig::new("clock-drift", 1);
    cfg.bugs = Bugs::NONE.with(Bug::DeposedLeaderReads);
    let r = run(&cfg).unwrap().results;
    assert_eq!(r.checkers["linearizability"].verdict, Verdict::Invalid);
    let clean = run(&RunConfig::new("clock-drift", 1)).unwrap().results;
    assert_eq!(clean.verdict, Verdict::Valid, "{:?}", clean.checkers);
}

#[test]
fn deposed_leader_reads_are_caught_with_bound_clients_and_rarely_without() {
    let caught = |bound_rate: Option<f64>| {
        (1..=8)
            .filter(|seed| {
                let mut cfg = RunConfig::new("leader-isolation", *seed);
                cfg.bugs = Bugs::NONE.with(Bug::DeposedLeaderReads);
                cfg.overrides.bound_clients = bound_rate;
                let r = run(&cfg).unwrap().results;
                r.checkers["linearizability"].verdict == Verdict::Invalid
            })
            .count()
    };
    let (with, without) = (caught(None), caught(Some(0.0)));
    // Measured over seeds 1..=40: 35 with bound clients, 3 without.
    assert!(
        with >= 5 && without <= 2,
        "caught on {with} of 8 seeds with bound clients, {without} without"
    );
}

#[test]
fn edge_values_appear_in_a_clean_history_and_the_late_key_stays_absent_until_late() {
    let cfg = RunConfig::new("baseline", 2);
    let out = run(&cfg).unwrap();
    assert_eq!(out.results.verdict, Verdict::Valid);
    let late_after = (cfg.duration.as_nanos() as f64 * 0.6) as u64;
    let ok: Vec<&Event> = out
        .history
        .iter()
        .filter(|e| e.kind == EventKind::Ok)
        .collect();
    let string = |e: &Event| match &e.value {
        Some(Value::String(s)) => Some(s.clone()),
        _ => None,
    };
    assert!(
        ok.iter()
            .any(|e| e.f == Function::Put && string(e).as_deref() == Some("")),
        "an empty put"
    );
    assert!(
        ok.iter()
            .any(|e| e.f == Function::Get && string(e).as_deref() == Some("")),
        "an empty value read back"
    );
    assert!(
        ok.iter()
            .any(|e| e.f == Function::Put && string(e).is_some_and(|v| v.len() == 2560)),
        "a 2.5-chunk value"
    );
    assert!(
        ok.iter()
            .any(|e| e.f == Function::Get && string(e).is_some_and(|v| v.len() >= 1024)),
        "a big value read back"
    );
    let late: Vec<&&Event> = ok.iter().filter(|e| e.key == "klate").collect();
    assert!(
        late.iter()
            .any(|e| e.f == Function::Delete && e.time < late_after),
        "a delete of an absent key"
    );
    assert!(
        late.iter()
            .all(|e| e.time >= late_after || e.f != Function::Get || e.value.is_none()),
        "absent until late"
    );
    assert!(
        late.iter()
            .any(|e| e.time >= late_after && e.f == Function::Get && e.value.is_some()),
        "written late"
    );
}
