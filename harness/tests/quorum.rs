//! Quorum sizes (issue 17, class 1): every scenario draws its node count from
//! the seed; quorum-boundary fells the leader right after a commit only a bare
//! majority holds; and a quorum-size mutant invisible on 3 nodes is caught on 5.
use harness::nemesis::struck_at;
use harness::results::Verdict;
use harness::run::{build, run, RunConfig};
use harness::scenario::{find, SCENARIOS};
use raftkv::bugs::{Bug, Bugs};
use raftkv::trace::{Role, TraceEvent};
use std::collections::BTreeSet;

#[test]
fn every_scenario_draws_its_node_count_from_the_seed_unless_given() {
    for s in SCENARIOS {
        let drawn: Vec<u64> = (1..=40).map(|seed| s.nodes(seed, None)).collect();
        let again: Vec<u64> = (1..=40).map(|seed| s.nodes(seed, None)).collect();
        assert_eq!(
            drawn, again,
            "{}: the same seed draws the same size",
            s.name
        );
        let sizes: BTreeSet<u64> = drawn.iter().copied().collect();
        let expected: BTreeSet<u64> = match s.sizes() {
            [] => [3].into(), // swarm draws in its build
            sizes => sizes.iter().copied().collect(),
        };
        assert_eq!(sizes, expected, "{}: 40 seeds draw every size", s.name);
        assert_eq!(s.nodes(7, Some(5)), 5, "{}: --nodes fixes it", s.name);
    }
    assert_eq!(find("quorum-boundary").unwrap().sizes(), &[5, 7]);
    assert_eq!(find("baseline").unwrap().sizes(), &[3, 5, 7]);
}

#[test]
fn the_drawn_size_is_the_runs_and_leaves_the_other_draws_alone() {
    for name in ["crash-mid-snapshot", "all-crash", "election-crash"] {
        let s = find(name).unwrap();
        let mut sizes = BTreeSet::new();
        for seed in 1..=6 {
            let cfg = RunConfig::new(name, seed);
            let drawn = build(&cfg, s).unwrap();
            assert_eq!(drawn.spec.nodes, s.nodes(seed, None), "{name} seed {seed}");
            sizes.insert(drawn.spec.nodes);
            // The same size given explicitly: the same cluster and plan, so
            // the draw took nothing from the scenario's own stream.
            let mut given = cfg.clone();
            given.nodes = Some(drawn.spec.nodes);
            let fixed = build(&given, s).unwrap();
            assert_eq!(fixed.plan, drawn.plan, "{name} seed {seed}");
            assert_eq!(fixed.spec.nodes, drawn.spec.nodes);
        }
        assert!(
            sizes.len() >= 2,
            "{name}: sizes vary over seeds 1..6: {sizes:?}"
        );
    }
    // Swarm keeps its own draw (its seeds keep their runs).
    let swarm = find("swarm").unwrap();
    let sizes: BTreeSet<u64> = (1..=20)
        .map(|seed| {
            build(&RunConfig::new("swarm", seed), swarm)
                .unwrap()
                .spec
                .nodes
        })
        .collect();
    assert_eq!(sizes, [3, 5, 7].into());
}

#[test]
fn quorum_boundary_strikes_and_the_next_leader_comes_from_the_bare_majority() {
    for (seed, nodes) in [(1, None), (2, Some(5)), (3, Some(7))] {
        let mut cfg = RunConfig::new("quorum-boundary", seed);
        cfg.nodes = nodes;
        let out = run(&cfg).unwrap();
        let r = &out.results;
        assert_eq!(r.verdict, Verdict::Valid, "seed {seed}: {:?}", r.checkers);
        assert!(!r.vacuous, "seed {seed}: {:?}", r.evidence);
        let n = out.trace.iter().map(|t| t.node).max().unwrap();
        assert!(n == 5 || n == 7, "seed {seed}: {n} nodes");
        let mut struck = 0;
        for f in out
            .nemesis
            .iter()
            .filter(|f| f.fault.name() == "quorum-boundary")
        {
            // The leader and exactly a bare majority of followers.
            assert_eq!(f.nodes.len() as u64, n / 2 + 1, "{}", f.detail);
            let Some(t) = struck_at(&f.detail) else {
                continue;
            };
            struck += 1;
            assert!(
                f.detail.contains("reached only the bare majority"),
                "{}",
                f.detail
            );
            // Every leader elected while the old one was out is from the majority.
            let end = f.end.unwrap();
            for e in out.trace.iter().filter(|e| e.time > t && e.time <= end) {
                if matches!(
                    e.event,
                    TraceEvent::Role {
                        role: Role::Leader,
                        ..
                    }
                ) && e.node != f.nodes[0]
                {
                    assert!(
                        f.nodes.contains(&e.node),
                        "seed {seed}: n{} leads, outside {:?}",
                        e.node,
                        f.nodes
                    );
                }
            }
        }
        assert!(struck >= 3, "seed {seed}: {struck} strikes");
    }
}

#[test]
fn the_quorum_of_two_mutant_is_invisible_on_3_nodes_and_caught_on_5() {
    let mutant = Bugs::NONE.with(Bug::CommitQuorumOfTwo);
    let mut cfg = RunConfig::new("quorum-boundary", 2);
    cfg.nodes = Some(3);
    let clean = run(&cfg).unwrap().results;
    cfg.bugs = mutant;
    let with = run(&cfg).unwrap().results;
    // On 3 nodes the leader and one follower are a majority: the same run.
    assert_eq!(with.hashes, clean.hashes);
    assert_eq!(with.verdict, Verdict::Valid);
    cfg.nodes = Some(5);
    let caught = run(&cfg).unwrap().results;
    assert_eq!(caught.verdict, Verdict::Invalid);
    assert_eq!(
        caught.checkers["leader-completeness"].verdict,
        Verdict::Invalid,
        "{:?}",
        caught.checkers["leader-completeness"]
    );
}
