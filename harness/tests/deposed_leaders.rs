//! Divergent tails (issue 17, class 7): in `deposed-leaders` the second
//! leader is cut off the moment it is elected (`Target::NewLeader`), so two
//! deposed leaders of different terms rejoin together on every size, and the
//! older one's longer log campaigns against the newer, shorter one.
use harness::nemesis::Target;
use harness::results::Verdict;
use harness::run::{run, RunConfig};
use raftkv::trace::{Role, TraceEvent};

#[test]
fn the_next_leader_is_cut_off_when_elected_and_both_rejoin_at_once() {
    // Seed 8 on 7 nodes was vacuous with a fixed delay: the successor's log
    // outgrew its predecessor's before it was cut off.
    for (seed, nodes) in [(8, 7), (1, 3), (2, 5)] {
        let mut cfg = RunConfig::new("deposed-leaders", seed);
        cfg.nodes = Some(nodes);
        let out = run(&cfg).unwrap();
        let r = &out.results;
        assert_eq!(r.verdict, Verdict::Valid, "seed {seed}: {:?}", r.checkers);
        assert!(!r.vacuous, "seed {seed}: {:?}", r.evidence);
        let isolations: Vec<_> = (out.nemesis.iter())
            .filter(|f| f.fault.name() == "isolate")
            .collect();
        let waited: Vec<_> = (isolations.iter())
            .filter(|f| f.fault.target() == Some(Target::NewLeader))
            .collect();
        assert!(waited.len() >= 3, "seed {seed}: {} waited", waited.len());
        for second in waited {
            let first = (isolations.iter())
                .rev()
                .find(|f| f.id < second.id && f.fault.target() != Some(Target::NewLeader))
                .expect("a first isolation before each second");
            assert_eq!(first.end, second.end, "seed {seed}: they rejoin at once");
            assert_ne!(first.nodes, second.nodes);
            // The node cut off was elected leader after the first was cut
            // off, and no later than the moment it was cut off itself.
            let elected = out.trace.iter().any(|e| {
                e.node == second.nodes[0]
                    && e.time >= first.start
                    && e.time <= second.start
                    && matches!(
                        e.event,
                        TraceEvent::Role {
                            role: Role::Leader,
                            ..
                        }
                    )
            });
            assert!(
                elected,
                "seed {seed}: n{} was not newly elected",
                second.nodes[0]
            );
        }
    }
}
