//! The cluster under faults: clients write through leader changes while a follower
//! is cut off long enough to need InstallSnapshot; every node must end identical.
use harness::cluster::{Cluster, ClusterSpec};
use raftkv::kv::Op;
use raftkv::trace::TraceEvent;
use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;
use sut::client::Reply as Response;
use workloads::client::{CallResult, Client, ClientConfig};

#[derive(Default)]
struct Tally {
    ok: u64,
    fail: u64,
    unknown: u64,
}

impl Tally {
    fn count(&mut self, r: CallResult) {
        match r {
            CallResult::Ok {
                response: Response::Applied(_),
                ..
            } => self.ok += 1,
            CallResult::Ok { .. } => panic!("unexpected response to a write: {r:?}"),
            CallResult::Fail { .. } => self.fail += 1,
            CallResult::Unknown { .. } => self.unknown += 1,
        }
    }
}

fn spawn_writers(cluster: &mut Cluster, clients: u64, ops: u64, tally: Rc<RefCell<Tally>>) {
    let nodes = cluster.spec.node_ids();
    for c in 0..clients {
        let cfg = ClientConfig::new(nodes.clone(), cluster.client_protocol());
        let tally = tally.clone();
        cluster.client(&format!("c{c}"), async move {
            let mut client = Client::connect(cfg, c + 1, 77 + c).await?;
            for i in 0..ops {
                let op = Op::Append {
                    key: format!("k{}", i % 3),
                    value: format!("[{c}:{i}]"),
                };
                let r = client.write(op).await;
                tally.borrow_mut().count(r);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Ok(())
        });
    }
}

fn run_scenario(nodes: u64, seed: u64) {
    let mut spec = ClusterSpec::new(nodes, seed);
    spec.snapshot_threshold = 3;
    spec.trailing_logs = 1;
    let mut cluster = Cluster::new(spec);
    let tally = Rc::new(RefCell::new(Tally::default()));
    spawn_writers(&mut cluster, 3, 120, tally.clone());

    // A leader first.
    assert!(cluster
        .run_until(Duration::from_secs(25), |c| c.leader().is_some())
        .unwrap());
    cluster.run_for(Duration::from_millis(2500)).unwrap();

    // Leader change: crash the leader, let the others elect, bring it back.
    let first = cluster.leader().unwrap();
    let first_term = cluster.status(first).term;
    cluster.crash(first);
    assert!(cluster
        .run_until(Duration::from_secs(25), |c| c
            .leader()
            .is_some_and(|l| l != first))
        .unwrap());
    cluster.run_for(Duration::from_millis(1500)).unwrap();
    cluster.restart(first);
    cluster.run_for(Duration::from_millis(2500)).unwrap();

    // A follower cut off while the others write and compact past its log.
    let leader = cluster.leader().unwrap();
    assert!(cluster.status(leader).term > first_term);
    let lagging = cluster
        .spec
        .node_ids()
        .into_iter()
        .find(|&n| n != leader)
        .unwrap();
    cluster.isolate(lagging);
    cluster.run_for(Duration::from_secs(10)).unwrap();
    cluster.heal();

    // Let the clients finish, then require convergence.
    let done = cluster
        .run_until(Duration::from_secs(300), |_| {
            let t = tally.borrow();
            t.ok + t.fail + t.unknown == 360
        })
        .unwrap();
    assert!(done, "clients did not finish");
    let digest = cluster.converge(Duration::from_secs(100));
    assert!(digest.is_ok(), "nodes did not converge: {digest:?}");

    // Every acknowledged append is in the final state exactly once.
    let finals: Rc<RefCell<Vec<Option<String>>>> = Rc::default();
    let (nodes, out) = (cluster.spec.node_ids(), finals.clone());
    let cfg = ClientConfig::new(nodes, cluster.client_protocol());
    cluster.client("final-reader", async move {
        let mut client = Client::connect(cfg, 1000, 5).await?;
        for k in 0..3 {
            match client.read(&format!("k{k}")).await {
                CallResult::Ok {
                    response: Response::Value(v),
                    ..
                } => out.borrow_mut().push(v),
                other => panic!("final read failed: {other:?}"),
            }
        }
        Ok(())
    });
    assert!(cluster
        .run_until(Duration::from_secs(50), |_| finals.borrow().len() == 3)
        .unwrap());
    let all: String = finals.borrow().iter().flatten().cloned().collect();
    for c in 0..3 {
        for i in 0..120 {
            let token = format!("[{c}:{i}]");
            assert_eq!(
                all.matches(&token).count(),
                1,
                "{token} applied exactly once"
            );
        }
    }

    let trace = cluster.trace.borrow();
    let installs = trace
        .iter()
        .filter(|r| r.node == lagging && matches!(r.event, TraceEvent::SnapshotInstalled { .. }))
        .count();
    assert!(
        installs >= 1,
        "the cut-off follower n{lagging} caught up by InstallSnapshot"
    );
    let t = tally.borrow();
    assert!(
        t.ok > 200,
        "most writes succeed ({} ok, {} fail, {} unknown)",
        t.ok,
        t.fail,
        t.unknown
    );
}

#[test]
fn three_nodes_converge_through_leader_change_and_install_snapshot() {
    run_scenario(3, 1);
}

#[test]
fn five_nodes_converge_through_leader_change_and_install_snapshot() {
    run_scenario(5, 2);
}
