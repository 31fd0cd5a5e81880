//! `snapstorm shrink` through the real binary: a recorded mutant failure shrinks
//! into `DIR-shrunk`, and `snapstorm replay` repeats the shrunk run byte for byte.
use std::path::Path;
use std::process::Command;

fn snapstorm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_snapstorm"))
}

#[test]
fn shrink_writes_dir_shrunk_and_replay_repeats_it_exactly() {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join("shrink-cli");
    let _ = std::fs::remove_dir_all(&base);
    let dir = base.join("run");
    let status = snapstorm()
        .args(["chaos", "--scenario", "lagging-follower", "--seed", "1"])
        .args(["--bug", "applied-not-reset-on-install", "--out"])
        .arg(&dir)
        .output()
        .unwrap()
        .status;
    assert_eq!(status.code(), Some(1), "the mutant is caught");

    let out = snapstorm()
        .args(["shrink", "--max-trials", "30"])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    assert!(stdout.contains("still fails restore-fidelity"), "{stdout}");
    assert!(
        stderr.contains("shrink [1/30]"),
        "progress on stderr: {stderr}"
    );
    let shrunk = base.join("run-shrunk");
    let summary = std::fs::read_to_string(shrunk.join("shrink.txt")).unwrap();
    assert_eq!(summary.trim(), stdout.lines().next().unwrap().trim());
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(shrunk.join("shrink.json")).unwrap())
            .unwrap();
    assert!(report["trials"].as_u64().unwrap() <= 30, "{report}");
    assert!(
        report["after"]["ops"].as_u64() < report["before"]["ops"].as_u64(),
        "{report}"
    );

    let replay = snapstorm().arg("replay").arg(&shrunk).output().unwrap();
    let text = String::from_utf8_lossy(&replay.stdout);
    assert_eq!(
        replay.status.code(),
        Some(1),
        "invalid, and deterministic: {text}"
    );
    assert!(text.contains("byte-identical"), "{text}");
}
