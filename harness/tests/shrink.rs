//! `snapstorm shrink` on a real mutant failure: the shrunk run is much smaller,
//! still fails the same checker, and replays byte for byte.
use harness::replay;
use harness::results::Verdict;
use harness::run::{self, RunConfig};
use harness::shrink::{shrink, ShrinkConfig};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn record(cfg: &RunConfig, dir: &Path) {
    let outcome = run::run(cfg).expect("the run runs");
    run::write(&outcome, dir).expect("the run is written");
}

#[test]
fn a_mutant_failure_shrinks_keeps_its_checker_and_replays_exactly() {
    // All nodes crash every 1.5 s; the bug needs only one restart to show.
    let dir = scratch("shrink-forget-snapshot");
    let mut cfg = RunConfig::new("all-crash", 1);
    cfg.bugs = [raftkv::bugs::Bug::parse("forget-snapshot-on-boot").unwrap()]
        .into_iter()
        .collect();
    record(&cfg, &dir);
    let out = scratch("shrink-forget-snapshot-shrunk");
    let report = shrink(&ShrinkConfig {
        dir: dir.clone(),
        out: out.clone(),
        max_trials: 40,
        checker: None,
        progress: false,
    })
    .expect("the failure shrinks");

    assert_eq!(
        report.checker, "restore-fidelity",
        "the mutant's own checker"
    );
    let (b, a) = (&report.before, &report.after);
    assert!(
        a.faults_planned < b.faults_planned,
        "faults {} -> {}",
        b.faults_planned,
        a.faults_planned
    );
    let nemesis = std::fs::read_to_string(out.join("nemesis.jsonl")).unwrap();
    assert!(
        nemesis.contains("\"fault\":\"crash\""),
        "the crash the bug needs is kept: {nemesis}"
    );
    assert!(
        a.history_events * 4 <= b.history_events,
        "history {} -> {} events: not a small fraction",
        b.history_events,
        a.history_events
    );
    assert!(a.clients <= b.clients && a.duration_secs <= b.duration_secs);
    assert!(report.trials <= 40, "the trial budget holds");

    let shrunk = replay::load(&out).unwrap();
    assert_eq!(
        shrunk.checkers["restore-fidelity"].verdict,
        Verdict::Invalid,
        "the shrunk run still fails the same checker"
    );
    assert!(
        !shrunk.config.overrides.is_empty(),
        "the schedule is recorded"
    );
    let history = std::fs::read_to_string(out.join("history.jsonl")).unwrap();
    assert_eq!(history.lines().count(), a.history_events);
    let summary = std::fs::read_to_string(out.join("shrink.txt")).unwrap();
    assert!(
        summary.contains("still fails restore-fidelity"),
        "{summary}"
    );

    let r = replay::replay(&out).expect("the shrunk run replays");
    assert!(r.deterministic(), "differing: {:?}", r.differing);
    assert!(r.same_verdict());
    assert_eq!(
        std::fs::read(out.join("history.jsonl")).unwrap(),
        std::fs::read(out.join("replay/history.jsonl")).unwrap()
    );
}

#[test]
fn a_passing_run_is_a_clear_error_not_a_shrink() {
    let dir = scratch("shrink-valid");
    let mut cfg = RunConfig::new("baseline", 1);
    cfg.duration = Duration::from_secs(1);
    record(&cfg, &dir);
    let err = shrink(&ShrinkConfig {
        dir: dir.clone(),
        out: scratch("shrink-valid-shrunk"),
        max_trials: 5,
        checker: None,
        progress: false,
    })
    .unwrap_err();
    assert!(
        err.contains("results.json") && err.contains("nothing to shrink"),
        "{err}"
    );
}

#[test]
fn a_checker_that_did_not_fail_is_refused() {
    let dir = scratch("shrink-wrong-checker");
    let mut cfg = RunConfig::new("lagging-follower", 1);
    cfg.duration = Duration::from_secs(5);
    cfg.bugs = [raftkv::bugs::Bug::parse("snapshot-omits-sessions").unwrap()]
        .into_iter()
        .collect();
    record(&cfg, &dir);
    let err = shrink(&ShrinkConfig {
        dir,
        out: scratch("shrink-wrong-checker-shrunk"),
        max_trials: 5,
        checker: Some("election-safety".into()),
        progress: false,
    })
    .unwrap_err();
    assert!(err.contains("'election-safety' did not fail"), "{err}");
}

#[test]
fn a_five_node_failure_shrinks_to_three_nodes_and_replays_exactly() {
    let dir = scratch("shrink-five-nodes");
    let mut cfg = RunConfig::new("lagging-follower", 2);
    cfg.nodes = Some(5);
    cfg.duration = Duration::from_secs(4);
    cfg.bugs = [raftkv::bugs::Bug::parse("snapshot-omits-sessions").unwrap()]
        .into_iter()
        .collect();
    record(&cfg, &dir);
    let out = scratch("shrink-five-nodes-shrunk");
    let report = shrink(&ShrinkConfig {
        dir,
        out: out.clone(),
        max_trials: 20,
        checker: None,
        progress: false,
    })
    .expect("the failure shrinks");
    assert_eq!((report.before.nodes, report.after.nodes), (5, 3));
    let trace = std::fs::read_to_string(out.join("trace.jsonl")).unwrap();
    assert!(
        trace
            .lines()
            .all(|l| !l.contains("\"node\":4") && !l.contains("\"node\":5")),
        "only nodes 1..=3 ran"
    );
    let r = replay::replay(&out).expect("the shrunk run replays");
    assert!(r.deterministic() && r.same_verdict(), "{:?}", r.differing);
}
