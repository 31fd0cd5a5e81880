//! Every peer history (Porcupine's test data, recorded by Jepsen) must get
//! its known verdict; kv files both split per key and as a whole.
use checkers::cli::{check_file, check_file_measured, Format};
use checkers::linearizability::{CheckOptions, Verdict, DEFAULT_MAX_STEPS, DEFAULT_MEMORY_LIMIT};
use std::path::{Path, PathBuf};
use std::time::Duration;

fn peer_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/peer-histories")
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

/// The suite lives in the repository, so a plain clone tests it (CI has no
/// directory beside the checkout), with its source and licence beside it.
#[test]
fn peer_histories_are_vendored_with_their_licence() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .unwrap();
    let dir = peer_dir()
        .canonicalize()
        .expect("testdata/peer-histories is in the checkout");
    assert!(
        dir.starts_with(&root),
        "{} is outside {}",
        dir.display(),
        root.display()
    );
    let licence =
        std::fs::read_to_string(dir.join("LICENSE.md")).expect("LICENSE.md beside the data");
    assert!(
        licence.contains("github.com/anishathalye/porcupine"),
        "source not named"
    );
    assert!(licence.contains("The MIT License"), "licence text missing");
    for group in ["etcd-jepsen", "kv"] {
        for (file, _) in expected(group) {
            assert!(file.is_file(), "{} listed but absent", file.display());
        }
    }
}

/// No test, bench, script, workflow or README reaches for data beside the
/// checkout (the old `shared/` directory one level up).
#[test]
fn nothing_reads_test_data_outside_the_checkout() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let needle = format!("{}/shared", "..");
    let mut stack = vec![root.clone()];
    let mut offenders = Vec::new();
    let mut scanned = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().to_string();
            if path.is_dir() {
                if !["target", "store", "testdata", ".git"].contains(&name.as_str()) {
                    stack.push(path);
                }
                continue;
            }
            let in_ci = path
                .parent()
                .and_then(|p| p.file_name())
                .is_some_and(|p| p == ".ci");
            let wanted = [".rs", ".yml", ".yaml", ".toml", ".md", ".py"]
                .iter()
                .any(|ext| name.ends_with(ext));
            if !(wanted || in_ci) {
                continue;
            }
            scanned += 1;
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            for (n, line) in text.lines().enumerate() {
                if line.contains(&needle) {
                    offenders.push(format!("{}:{}: {line}", path.display(), n + 1));
                }
            }
        }
    }
    assert!(scanned > 50, "only {scanned} files scanned: wrong root?");
    assert!(
        offenders.is_empty(),
        "outside the checkout:\n{}",
        offenders.join("\n")
    );
}
