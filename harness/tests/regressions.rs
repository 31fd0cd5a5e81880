//! The regression corpus (`regressions/*.toml`): every entry still gets the
//! verdict it expects — each mutant still caught by its checker, each clean seed
//! still valid.
use harness::regressions::load_all;
use harness::results::Verdict;
use harness::run::run;
use std::path::Path;

#[test]
fn every_regression_entry_keeps_its_verdict() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../regressions");
    let entries = load_all(&dir).expect("the corpus parses");
    assert!(
        entries.len() >= 10,
        "the corpus has entries: {}",
        entries.len()
    );
    let mut failures = Vec::new();
    for (path, entry) in &entries {
        let cfg = entry
            .config()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let expected = entry
            .expected()
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let r = run(&cfg).expect("scenario exists").results;
        if r.verdict != expected {
            failures.push(format!(
                "{}: expected {expected:?}, got {:?}",
                path.display(),
                r.verdict
            ));
        }
        if let Some(c) = &entry.checker {
            if r.checkers.get(c).map(|x| x.verdict) != Some(Verdict::Invalid) {
                failures.push(format!("{}: checker {c} did not flag it", path.display()));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
