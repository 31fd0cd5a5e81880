//! The budget that decides is work (search steps) and memory in the
//! checker's own units, so a history gets the same verdict on any machine;
//! wall time is only a safety net, and a verdict it cut short says so.
use checkers::cli::{run, CheckArgs, Format};
use checkers::linearizability::{check_measured, CheckOptions, OutOf, Verdict, Work};
use checkers::model::Kv;
use checkers::parse::parse_snapstorm;
use std::time::Duration;

#[path = "../benches/common/gen.rs"]
mod gen;

type Ops =
    Vec<checkers::linearizability::Operation<checkers::model::KvInput, checkers::model::KvOutput>>;

/// A linearizable history whose harder key takes about 2.4 M search steps
/// (0.15 s).
fn spec() -> gen::Spec {
    gen::Spec {
        ops: 2_000,
        keys: 2,
        clients: 10,
        info: 0.02,
        seed: 5,
        mix: [8, 5, 2, 4, 1],
        stale_read: false,
    }
}

fn history() -> Ops {
    parse_snapstorm(gen::to_jsonl(&gen::generate(&spec())).as_bytes()).expect("valid")
}

fn name(v: &Verdict) -> String {
    match v {
        Verdict::Linearizable => "linearizable".into(),
        Verdict::NotLinearizable(c) => format!("not linearizable on {:?}", c.partition),
        Verdict::Unknown { reason, out_of } => format!("unknown ({out_of:?}): {reason}"),
    }
}

fn checked(ops: &Ops, options: &CheckOptions) -> (String, Work) {
    let (v, work) = check_measured(&Kv, ops, options);
    (name(&v), work)
}

#[test]
fn very_different_wall_time_limits_give_the_same_verdict_and_work() {
    let ops = history();
    let short = CheckOptions {
        wall_time: Some(Duration::from_secs(60)),
        threads: 1,
        ..CheckOptions::default()
    };
    let long = CheckOptions {
        wall_time: Some(Duration::from_secs(100_000)),
        threads: 2,
        ..CheckOptions::default()
    };
    let a = checked(&ops, &short);
    let b = checked(&ops, &long);
    assert_eq!(a.0, "linearizable");
    assert!(a.1.steps > 4096, "too easy to show anything: {:?}", a.1);
    assert_eq!(a, b, "verdict and work depend only on the history");
}

#[test]
fn an_exhausted_work_budget_is_unknown_never_ok_and_deterministic() {
    let ops = history();
    let needed = checked(&ops, &CheckOptions::default()).1.steps;
    let options = CheckOptions {
        max_steps: Some(needed / 2),
        ..CheckOptions::default()
    };
    let runs: Vec<(Verdict, Work)> = (0..3)
        .map(|_| check_measured(&Kv, &ops, &options))
        .collect();
    for (v, work) in &runs {
        assert!(
            matches!(v, Verdict::Unknown { out_of: OutOf::Steps, reason } if reason.contains("state budget")),
            "{}",
            name(v)
        );
        assert!(!v.machine_dependent());
        // The partition that ran out spent exactly the budget.
        assert_eq!(work.steps, needed / 2);
        assert_eq!(work, &runs[0].1, "the same count on every run");
    }
    // One step short of what a partition needs is already unknown; enough
    // is the verdict.
    let just_short = CheckOptions {
        max_steps: Some(needed - 1),
        ..CheckOptions::default()
    };
    assert!(matches!(
        check_measured(&Kv, &ops, &just_short).0,
        Verdict::Unknown { .. }
    ));
    let enough = CheckOptions {
        max_steps: Some(needed),
        ..CheckOptions::default()
    };
    assert!(!name(&check_measured(&Kv, &ops, &enough).0).starts_with("unknown"));
}

#[test]
fn an_exhausted_memory_budget_is_unknown_and_deterministic() {
    let ops = history();
    let peak = checked(&ops, &CheckOptions::default()).1.memory;
    let options = CheckOptions {
        memory_limit: Some(peak / 4),
        ..CheckOptions::default()
    };
    let a = check_measured(&Kv, &ops, &options);
    let b = check_measured(&Kv, &ops, &options);
    assert!(
        matches!(&a.0, Verdict::Unknown { out_of: OutOf::Memory, reason } if reason.contains("memory budget")),
        "{}",
        name(&a.0)
    );
    assert_eq!((name(&a.0), a.1), (name(&b.0), b.1));
}

#[test]
fn the_wall_time_net_says_it_depends_on_the_machine() {
    let options = CheckOptions {
        wall_time: Some(Duration::ZERO),
        ..CheckOptions::default()
    };
    let (v, _) = check_measured(&Kv, &history(), &options);
    assert!(v.machine_dependent(), "{}", name(&v));
    assert!(name(&v).contains("wall-time safety net"), "{}", name(&v));
}

#[test]
fn check_steps_flag_gives_exit_3() {
    let dir = std::env::temp_dir().join(format!("checkers-budget-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("h.jsonl");
    std::fs::write(&file, gen::to_jsonl(&gen::generate(&spec()))).unwrap();
    let args = |steps| CheckArgs {
        format: Format::Snapstorm,
        no_partition: false,
        steps,
        memory: 1024,
        timeout: None,
        json: false,
        files: vec![file.clone()],
    };
    assert_eq!(run(args(100)), 3);
    assert_eq!(run(args(checkers::linearizability::DEFAULT_MAX_STEPS)), 0);
}
