//! Every peer history (Porcupine's test data, recorded by Jepsen) must get
//! its known verdict; kv files both split per key and as a whole.
use checkers::cli::{check_file, check_file_measured, Format};
use checkers::linearizability::{CheckOptions, Verdict, DEFAULT_MAX_STEPS, DEFAULT_MEMORY_LIMIT};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn peer_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/peer-histories")
}

fn expected(group: &str) -> Vec<(PathBuf, bool)> {
    let dir = peer_dir().join(group);
    let tsv = std::fs::read_to_string(dir.join("expected.tsv")).expect("expected.tsv is readable");
    let files: Vec<_> = tsv
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .map(|(f, v)| (dir.join(f), v.trim() == "linearizable"))
        .collect();
    assert!(!files.is_empty(), "no files listed for {group}");
    files
}

/// `Some(true)` linearizable, `Some(false)` not, `None` unknown. The
/// default budgets leave a margin of at least 100× in steps and 20× in
/// memory over what the file needs (printed with `--nocapture`).
fn verdict(file: &Path, format: Format, options: &CheckOptions) -> Option<bool> {
    let (verdict, work) = check_file_measured(file, format, options)
        .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    println!(
        "{}: {} steps (all partitions {}), {} KiB",
        file.display(),
        work.steps,
        work.total_steps,
        work.memory >> 10
    );
    assert!(
        work.steps <= DEFAULT_MAX_STEPS / 100 && work.memory <= DEFAULT_MEMORY_LIMIT / 20,
        "{}: the default budget's margin is too small: {work:?}",
        file.display()
    );
    match verdict {
        Verdict::Linearizable => Some(true),
        Verdict::NotLinearizable(c) => {
            assert!(
                !c.longest_prefix.is_empty() || !c.stuck.is_empty(),
                "empty counterexample"
            );
            Some(false)
        }
        Verdict::Unknown { .. } => None,
    }
}

#[test]
fn etcd_histories_get_their_verdicts() {
    let files = expected("etcd-jepsen");
    assert_eq!(files.len(), 50);
    for (file, ok) in files {
        assert_eq!(
            verdict(&file, Format::JepsenEtcd, &CheckOptions::default()),
            Some(ok),
            "{}",
            file.display()
        );
    }
}

#[test]
fn kv_histories_split_per_key() {
    for (file, ok) in expected("kv") {
        assert_eq!(
            verdict(&file, Format::JepsenKv, &CheckOptions::default()),
            Some(ok),
            "{}",
            file.display()
        );
    }
}

/// Checked as one object, without the model's per-key split: the parts
/// the checker finds from `step` alone either give a witness (verified step
/// by step) or, when one owns its keys' state and fails on its own, refute
/// the whole (see `compose.rs`); otherwise the full search decides.
#[test]
fn kv_histories_without_the_split() {
    let whole = CheckOptions {
        partition: false,
        // Generous for a slow machine: c50-ok takes about a second.
        wall_time: Some(Duration::from_secs(120)),
        ..CheckOptions::default()
    };
    for (file, ok) in expected("kv") {
        assert_eq!(
            verdict(&file, Format::JepsenKv, &whole),
            Some(ok),
            "{}",
            file.display()
        );
    }
}

#[test]
fn counterexample_names_the_key_and_the_stuck_operations() {
    let file = peer_dir().join("kv/c10-bad.txt");
    let Ok(Verdict::NotLinearizable(c)) =
        check_file(&file, Format::JepsenKv, &CheckOptions::default())
    else {
        panic!("c10-bad must not be linearizable");
    };
    let key = c.partition.as_deref().expect("split per key");
    assert!(c
        .ops
        .iter()
        .all(|o| o.text.value_in.starts_with(&format!("{key:?}"))));
    assert!(!c.stuck.is_empty());
    // The prefix is made of the partition's operations, each once.
    let mut prefix = c.longest_prefix.clone();
    prefix.sort_unstable();
    prefix.dedup();
    assert_eq!(prefix.len(), c.longest_prefix.len());
    assert!(prefix.iter().all(|id| c.ops.iter().any(|o| o.id == *id)));
    // Serialisable for the report.
    let json = serde_json::to_string(&c).expect("serialises");
    assert!(json.contains("longest_prefix"));
}
