//! Jepsen's formats both ways, through the binary: `snapstorm export
//! --format jepsen-edn` writes a register run as a Knossos history and a
//! list-append run as an Elle one, and `snapstorm check --format jepsen`
//! reads them back to the verdict the run's own history gets, a violation
//! included. Bad input is an error naming the file.
mod common;

use common::{s, scratch, snapstorm};
use std::path::Path;
use std::process::Output;

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Runs a chaos run into `dir`, exports it, and returns the exported EDN
/// and the exit codes of `check` on the history and on the export.
fn round_trip(dir: &Path, chaos: &[&str]) -> (String, i32, i32) {
    let run = dir.join("run");
    let mut args = vec!["chaos", "--out", s(&run)];
    args.extend_from_slice(chaos);
    snapstorm(&args);
    assert!(run.join("history.jsonl").exists(), "{chaos:?} made no run");
    let edn = dir.join("history.edn");
    let out = snapstorm(&[
        "export",
        "--format",
        "jepsen-edn",
        s(&run),
        "--out",
        s(&edn),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let own = snapstorm(&[
        "check",
        "--format",
        "snapstorm",
        s(&run.join("history.jsonl")),
    ]);
    let back = snapstorm(&["check", "--format", "jepsen", s(&edn)]);
    (
        std::fs::read_to_string(&edn).unwrap(),
        own.status.code().unwrap_or(-1),
        back.status.code().unwrap_or(-1),
    )
}

#[test]
fn a_register_run_exports_to_knossos_and_checks_back_the_same() {
    let dir = scratch("export-register");
    let (edn, own, back) = round_trip(
        &dir,
        &[
            "--scenario",
            "leader-isolation",
            "--seed",
            "1",
            "--workload",
            "register",
            "--bug",
            "deposed-leader-reads",
        ],
    );
    assert!(
        edn.contains(":f :cas, :value [\"r0\" ["),
        "tuples: {}",
        &edn[..300]
    );
    assert!(edn.contains(":f :read, :value [\"r0\" nil]"));
    assert!(!edn.contains(":f :put") && !edn.contains(":key "));
    assert_eq!((own, back), (1, 1), "the stale read is found in both");

    // One key: plain values, as Knossos's own command line takes them.
    let run = dir.join("run");
    let one = snapstorm(&["export", "--format", "jepsen-edn", s(&run), "--key", "r0"]);
    let plain = String::from_utf8_lossy(&one.stdout);
    assert!(
        plain.contains(":f :cas, :value [") && !plain.contains("\"r0\""),
        "{}",
        &plain[..200]
    );
    assert!(text(&one).contains("Knossos"), "{}", text(&one));
}

#[test]
fn a_list_append_run_exports_to_elle_and_checks_back_the_same() {
    let dir = scratch("export-list-append");
    let (edn, own, back) = round_trip(
        &dir,
        &[
            "--scenario",
            "baseline",
            "--seed",
            "1",
            "--workload",
            "list-append",
            "--duration",
            "10",
        ],
    );
    assert!(
        edn.contains(":f :txn, :value [[:append \"list"),
        "{}",
        &edn[..300]
    );
    assert!(edn.contains("[[:r \"list"));
    assert_eq!((own, back), (0, 0));
}

#[test]
fn export_names_the_file_it_cannot_read() {
    let dir = scratch("export-bad");
    let out = snapstorm(&["export", "--format", "jepsen-edn", s(&dir)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("history.jsonl: cannot read"),
        "{}",
        text(&out)
    );
    let bad = dir.join("history.jsonl");
    std::fs::write(&bad, "{\"index\":0}\nnot json\n").unwrap();
    let out = snapstorm(&["export", "--format", "jepsen-edn", s(&bad)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out).contains("history.jsonl: line 1"),
        "{}",
        text(&out)
    );
}
