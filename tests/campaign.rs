//! Campaigns and replay through the real `snapstorm` binary: failures are recorded
//! with their artifacts, a panicking seed does not stop the campaign, and a
//! recorded mutant failure replays bit for bit.
use std::path::{Path, PathBuf};
use std::process::Command;

fn snapstorm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_snapstorm"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn a_mutant_campaign_records_every_failure_and_checks_its_determinism() {
    let out = scratch("fuzz-mutant");
    let status = snapstorm()
        .args([
            "fuzz",
            "--scenario",
            "lagging-follower",
            "--seeds",
            "1..4",
            "--jobs",
            "2",
        ])
        .args([
            "--bug",
            "snapshot-omits-sessions",
            "--duration",
            "25",
            "--out",
        ])
        .arg(&out)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1), "a campaign with failures exits 1");
    let c = json(&out.join("campaign.json"));
    let failures = c["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 4, "{c}");
    for f in failures {
        assert_eq!(f["outcome"], "invalid", "{f}");
        assert!(f["failing_checkers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x == "snapshot-fidelity"));
        let dir = PathBuf::from(f["dir"].as_str().unwrap());
        for file in [
            "history.jsonl",
            "trace.jsonl",
            "nemesis.jsonl",
            "results.json",
            "report.html",
        ] {
            assert!(
                dir.join(file).exists(),
                "artifact {file} kept for seed {}",
                f["seed"]
            );
        }
    }
    assert_eq!(c["determinism_checked"], 4, "every failure was replayed");
    assert_eq!(c["checker_counts"]["snapshot-fidelity"], 4);
    let junit = std::fs::read_to_string(out.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase").count(), 4, "one case per seed");
}

#[test]
fn a_campaign_saves_its_failures_to_the_regression_corpus() {
    let out = scratch("fuzz-save");
    let corpus = out.join("corpus");
    let status = snapstorm()
        .args([
            "fuzz",
            "--scenario",
            "all-crash",
            "--seeds",
            "1..2",
            "--duration",
            "25",
        ])
        .args(["--bug", "forget-snapshot-on-boot", "--out"])
        .arg(&out)
        .arg("--save-regressions")
        .arg(&corpus)
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    let entries = harness::regressions::load_all(&corpus).unwrap();
    assert_eq!(entries.len(), 2);
    for (_, e) in entries {
        assert_eq!(e.expect, "invalid");
        assert_eq!(e.bugs, vec!["forget-snapshot-on-boot".to_string()]);
        assert!(e.checker.is_some());
    }
}

#[test]
fn a_panicking_seed_is_recorded_and_the_campaign_goes_on() {
    let out = scratch("fuzz-panic");
    let status = snapstorm()
        .args([
            "fuzz",
            "--scenario",
            "baseline",
            "--seeds",
            "1..3",
            "--jobs",
            "1",
            "--duration",
            "10",
            "--out",
        ])
        .arg(&out)
        .env("SNAPSTORM_TEST_PANIC_SEED", "2")
        .status()
        .unwrap();
    assert_eq!(status.code(), Some(1));
    let c = json(&out.join("campaign.json"));
    assert_eq!(c["passed"], 2, "seeds 1 and 3 still ran: {c}");
    let f = &c["failures"][0];
    assert_eq!(
        (f["seed"].as_u64(), f["outcome"].as_str()),
        (Some(2), Some("crashed"))
    );
    assert!(
        f["detail"].as_str().unwrap().contains("injected panic"),
        "{f}"
    );
    let stderr = std::fs::read_to_string(out.join("seed-2/stderr.txt")).unwrap();
    assert!(stderr.contains("stack backtrace") || stderr.contains("panicked at"));
}

#[test]
fn replay_reproduces_a_mutant_failure_bit_for_bit() {
    let out = scratch("replay");
    let status = snapstorm()
        .args([
            "chaos",
            "--scenario",
            "all-crash",
            "--seed",
            "1",
            "--duration",
            "25",
        ])
        .args(["--bug", "forget-snapshot-on-boot", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(status.status.code(), Some(1));
    let replay = snapstorm().arg("replay").arg(&out).output().unwrap();
    let text = String::from_utf8_lossy(&replay.stdout);
    assert_eq!(
        replay.status.code(),
        Some(1),
        "same verdict: invalid\n{text}"
    );
    assert!(text.contains("byte-identical"), "{text}");
    for f in ["history.jsonl", "trace.jsonl", "nemesis.jsonl"] {
        assert_eq!(
            std::fs::read(out.join(f)).unwrap(),
            std::fs::read(out.join("replay").join(f)).unwrap(),
            "{f} identical"
        );
    }
    // The same run judged by another revision's checkers: not a determinism
    // failure; the verdict is today's, and the summary says why it differs.
    let recorded = std::fs::read_to_string(out.join("results.json")).unwrap();
    let mut r = json(&out.join("results.json"));
    r["verdict"] = "valid".into();
    r["revision"] = "0123456789ab".into();
    std::fs::write(out.join("results.json"), r.to_string()).unwrap();
    let replay = snapstorm().arg("replay").arg(&out).output().unwrap();
    let text = String::from_utf8_lossy(&replay.stdout);
    assert_eq!(replay.status.code(), Some(1), "{text}");
    assert!(
        text.contains("judged by the checkers of revision") && text.contains("0123456789ab"),
        "{text}"
    );
    // The same checkers giving the same run another verdict is a failure.
    let mut r: serde_json::Value = serde_json::from_str(&recorded).unwrap();
    r["verdict"] = "valid".into();
    std::fs::write(out.join("results.json"), r.to_string()).unwrap();
    let replay = snapstorm().arg("replay").arg(&out).output().unwrap();
    assert_eq!(replay.status.code(), Some(4));
    // A digest its file does not match is a damaged recording: bad input.
    std::fs::write(out.join("results.json"), &recorded).unwrap();
    let mut r = json(&out.join("results.json"));
    r["hashes"]["trace"] = "0000000000000000".into();
    std::fs::write(out.join("results.json"), r.to_string()).unwrap();
    let replay = snapstorm().arg("replay").arg(&out).output().unwrap();
    let err = String::from_utf8_lossy(&replay.stderr);
    assert_eq!(replay.status.code(), Some(2), "{err}");
    assert!(
        err.contains("trace.jsonl: changed since the run wrote it"),
        "{err}"
    );
    // A recording that agrees with itself but not with the run it claims to
    // be (a file and its digest both changed) is a loud determinism failure.
    let mut trace = std::fs::read(out.join("trace.jsonl")).unwrap();
    trace.extend_from_slice(b"{}\n");
    std::fs::write(out.join("trace.jsonl"), &trace).unwrap();
    r["hashes"]["trace"] = harness::results::Hashes::digest(&trace).into();
    std::fs::write(out.join("results.json"), r.to_string()).unwrap();
    let replay = snapstorm().arg("replay").arg(&out).output().unwrap();
    assert_eq!(replay.status.code(), Some(4));
    let text = String::from_utf8_lossy(&replay.stdout);
    assert!(
        text.contains("DETERMINISM FAILURE: trace.jsonl differ"),
        "{text}"
    );
    // Bad input is a clear error naming the file.
    let missing = snapstorm()
        .arg("replay")
        .arg(out.join("nope"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("results.json"));
}

#[test]
fn fuzz_knobs_reach_every_seed_are_recorded_and_replay_exactly() {
    let out = scratch("fuzz-knobs");
    let knobs = [
        "--nodes",
        "5",
        "--snapshot-threshold",
        "7",
        "--trailing-logs",
        "2",
        "--workload",
        "register",
    ];
    let status = snapstorm()
        .args(["fuzz", "--scenario", "leader-isolation", "--seeds", "1..2"])
        .args(knobs)
        .args(["--duration", "8", "--jobs", "1", "--keep-passing", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&status.stdout);
    assert_eq!(status.status.code(), Some(0), "{text}");
    let c = json(&out.join("campaign.json"));
    assert_eq!(c["knobs"]["nodes"], 5, "{c}");
    assert_eq!(c["knobs"]["snapshot_threshold"], 7);
    assert_eq!(c["knobs"]["trailing_logs"], 2);
    assert_eq!(c["knobs"]["workload"], "register");
    for seed in [1, 2] {
        let dir = out.join(format!("seed-{seed}"));
        let r = json(&dir.join("results.json"));
        let cfg = &r["config"];
        assert_eq!(
            (
                &cfg["nodes"],
                &cfg["snapshot_threshold"],
                &cfg["trailing_logs"]
            ),
            (&5.into(), &7.into(), &2.into()),
            "{cfg}"
        );
        assert_eq!(cfg["workload"], "register");
        let repro = r["repro"].as_str().unwrap();
        assert!(
            repro
                .contains("--nodes 5 --snapshot-threshold 7 --trailing-logs 2 --workload register"),
            "{repro}"
        );
        // Five nodes really ran.
        let trace = std::fs::read_to_string(dir.join("trace.jsonl")).unwrap();
        assert!(trace.contains("\"node\":5"), "seed {seed}");
        let replay = snapstorm().arg("replay").arg(&dir).output().unwrap();
        let text = String::from_utf8_lossy(&replay.stdout);
        assert_eq!(replay.status.code(), Some(0), "{text}");
        assert!(text.contains("byte-identical"), "{text}");
    }
    // A knob out of range is a usage error before any seed runs.
    for (flag, value) in [
        ("--nodes", "4"),
        ("--snapshot-threshold", "0"),
        ("--workload", "queue"),
    ] {
        let bad = scratch("fuzz-knobs-bad");
        let o = snapstorm()
            .args([
                "fuzz",
                "--scenario",
                "baseline",
                "--seeds",
                "1..1",
                flag,
                value,
                "--out",
            ])
            .arg(&bad)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{flag} {value}");
        assert!(String::from_utf8_lossy(&o.stderr).contains(flag), "{flag}");
        assert!(!bad.join("campaign.json").exists());
    }
}

/// `fuzz --save-regressions` follows `regress add`'s rules: a curated entry
/// describing another run of the same scenario, seed and mutant is left as
/// it is (comment, checker and note intact), and the summary says so.
#[test]
fn save_regressions_keeps_curated_entries() {
    let corpus = scratch("save-regressions-corpus");
    std::fs::create_dir_all(&corpus).unwrap();
    let name = "all-crash-seed1-forget-snapshot-on-boot.toml";
    let curated = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("regressions")
        .join(name);
    let text = std::fs::read_to_string(&curated).unwrap();
    std::fs::write(corpus.join(name), &text).unwrap();
    let out = scratch("save-regressions-campaign");
    let output = snapstorm()
        .args(["fuzz", "--scenario", "all-crash", "--seeds", "1..1"])
        .args(["--bug", "forget-snapshot-on-boot", "--duration", "30"])
        .arg("--out")
        .arg(&out)
        .arg("--save-regressions")
        .arg(&corpus)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert_eq!(std::fs::read_to_string(corpus.join(name)).unwrap(), text);
    assert!(
        stdout.contains("NOT added") && stdout.contains("--force replaces it"),
        "{stdout}"
    );
}
