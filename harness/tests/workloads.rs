//! The workloads on a live cluster: well-formed histories (Jepsen's process
//! model), exact JSON-lines round trips, and linearizable verdicts — including when
//! operations end up indeterminate.
use harness::cluster::{Cluster, ClusterSpec};
use harness::results::Verdict;
use harness::run::{run, RunConfig};
use std::collections::BTreeMap;
use std::time::Duration;
use workloads::history::{from_edn, from_jsonl, to_edn, to_jsonl, Event, EventKind};
use workloads::{spawn_clients, Generator, Recorder, StopFlag, WorkloadSpec};

/// Every invoke has exactly one completion (or is pending at the end), no process
/// has two operations in flight, and no process acts after an `info`.
fn assert_well_formed(history: &[Event]) {
    let mut in_flight: BTreeMap<u64, &Event> = BTreeMap::new();
    let mut retired: Vec<u64> = Vec::new();
    for (i, e) in history.iter().enumerate() {
        assert_eq!(e.index, i as u64, "indexes are positions");
        assert!(
            !retired.contains(&e.process),
            "process {} acted after an info: {e:?}",
            e.process
        );
        match e.kind {
            EventKind::Invoke => {
                let prev = in_flight.insert(e.process, e);
                assert!(
                    prev.is_none(),
                    "process {} has two operations in flight",
                    e.process
                );
            }
            kind => {
                let inv = in_flight
                    .remove(&e.process)
                    .expect("a completion matches an invoke");
                assert_eq!(
                    (inv.f, &inv.key),
                    (e.f, &e.key),
                    "completion of another operation"
                );
                assert!(inv.time <= e.time);
                if kind == EventKind::Info {
                    retired.push(e.process);
                }
            }
        }
    }
}

#[test]
fn every_generator_on_a_healthy_cluster_records_a_checkable_history() {
    for g in Generator::ALL {
        let mut cfg = RunConfig::new("baseline", 5);
        cfg.workload = Some(g);
        cfg.duration = Duration::from_secs(25);
        let out = run(&cfg).unwrap();
        assert!(
            out.history.len() > 200,
            "{}: {} events",
            g.name(),
            out.history.len()
        );
        assert_well_formed(&out.history);
        let text = to_jsonl(&out.history);
        assert_eq!(
            from_jsonl(&text).unwrap(),
            out.history,
            "JSON lines round trip"
        );
        assert_eq!(
            from_edn(&to_edn(&out.history)).unwrap(),
            out.history,
            "Jepsen EDN round trip"
        );
        let lin = &out.results.checkers["linearizability"];
        assert_eq!(lin.verdict, Verdict::Valid, "{}: {}", g.name(), lin.detail);
        assert_eq!(
            out.results.verdict,
            Verdict::Valid,
            "{}: {:?}",
            g.name(),
            out.results.checkers
        );
        let finals = out
            .history
            .iter()
            .filter(|e| e.process == 1_000_000 && e.kind == EventKind::Ok)
            .count();
        // Every key, the bound slots' lists too.
        let built =
            harness::run::build(&cfg, harness::scenario::find("baseline").unwrap()).unwrap();
        assert_eq!(
            finals,
            built.workload.keys().len(),
            "{}: a final read of every key",
            g.name()
        );
    }
}

#[test]
fn a_partitioned_follower_and_a_crashed_leader_give_info_ops_that_still_check() {
    let mut cluster = Cluster::new(ClusterSpec::new(3, 21));
    let recorder = Recorder::shared();
    let stop = StopFlag::default();
    let nodes = cluster.spec.node_ids();
    // No deletes: Jepsen's kv format, checked below, has none.
    let spec = WorkloadSpec {
        delete_ratio: 0.0,
        ..WorkloadSpec::new(Generator::Kv)
    };
    let protocol = cluster.client_protocol();
    spawn_clients(
        &mut cluster.sim,
        &nodes,
        &protocol,
        &spec,
        21,
        recorder.clone(),
        stop.clone(),
    );
    assert!(cluster
        .run_until(Duration::from_secs(25), |c| c.leader().is_some())
        .unwrap());
    cluster.run_for(Duration::from_secs(5)).unwrap();
    let leader = cluster.leader().unwrap();
    let follower = nodes.iter().copied().find(|n| *n != leader).unwrap();
    cluster.isolate(follower);
    cluster.run_for(Duration::from_millis(1000)).unwrap();
    // No quorum is left: writes in flight at the leader can neither commit nor be
    // refused, so their outcome is unknown.
    cluster.crash(leader);
    cluster.run_for(Duration::from_secs(15)).unwrap();
    cluster.restart(leader);
    cluster.heal();
    cluster.run_for(Duration::from_secs(10)).unwrap();
    stop.set(true);
    while !cluster.step().unwrap() {}

    let history = recorder.borrow().events().to_vec();
    assert_well_formed(&history);
    let info = history.iter().filter(|e| e.kind == EventKind::Info).count();
    assert!(info > 0, "indeterminate operations appear");
    let ops = checkers::parse::parse_snapstorm(to_jsonl(&history).as_bytes()).unwrap();
    let verdict = checkers::linearizability::check(
        &checkers::model::Kv,
        &ops,
        &checkers::linearizability::CheckOptions::default(),
    );
    assert!(
        matches!(verdict, checkers::linearizability::Verdict::Linearizable),
        "{verdict:?}"
    );
    // Other tools read it: our EDN is Jepsen's kv history format.
    let ops = checkers::parse::parse_jepsen_kv(to_edn(&history).as_bytes()).unwrap();
    let v = checkers::linearizability::check(
        &checkers::model::StringKv,
        &ops,
        &checkers::linearizability::CheckOptions::default(),
    );
    assert!(
        matches!(v, checkers::linearizability::Verdict::Linearizable),
        "{v:?}"
    );
}
