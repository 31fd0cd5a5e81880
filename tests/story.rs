//! The failure story through the real binary: under an INVALID verdict
//! `chaos` prints one paragraph naming the node that served the stuck read,
//! its role and term, the leader then, the faults active then (drift rates
//! included) and the write it missed, then the shrink and replay commands
//! of the run directory; `results.json` and the top of `report.html` carry
//! the same. A clean run has none, and the story does not disturb `replay`.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn snapstorm() -> Command {
    Command::new(env!("CARGO_BIN_EXE_snapstorm"))
}

fn base(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("story")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `snapstorm chaos` of a scenario, seed and mutants into `dir/run`.
fn chaos(dir: &Path, scenario: &str, seed: &str, bugs: &[&str]) -> (Output, PathBuf) {
    let run = dir.join("run");
    let mut cmd = snapstorm();
    cmd.args(["chaos", "--scenario", scenario, "--seed", seed, "--out"])
        .arg(&run);
    for b in bugs {
        cmd.args(["--bug", b]);
    }
    (cmd.output().unwrap(), run)
}

/// Whitespace runs made single spaces (the terminal wraps the paragraph).
fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The story lines of `chaos`'s output, squeezed: from "story:" to the replay command.
fn terminal_story(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let from = stdout
        .find("  story: ")
        .unwrap_or_else(|| panic!("no story in:\n{stdout}"));
    let replay = stdout[from..].find("  replay it: ").unwrap() + from;
    let to = stdout[replay..].find('\n').unwrap() + replay;
    squeeze(&stdout[from..to])
}

fn results(run: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(run.join("results.json")).unwrap()).unwrap()
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The story is in the terminal, in results.json and on top of report.html,
/// the same text each time, with each of `parts` and the commands for `run`.
fn assert_told(out: &Output, run: &Path, parts: &[&str]) {
    assert_eq!(out.status.code(), Some(1), "an INVALID run exits 1");
    let terminal = terminal_story(out);
    let story = &results(run)["story"];
    let text = story["text"].as_str().expect("results.json has the story");
    assert_eq!(story["checker"], "linearizability");
    let shrink = format!("snapstorm shrink {}", run.display());
    let replay = format!("snapstorm replay {}", run.display());
    assert_eq!(story["commands"], serde_json::json!([shrink, replay]));
    assert_eq!(
        terminal,
        format!("story: {text} shrink it: {shrink} replay it: {replay}"),
        "the terminal shows results.json's story"
    );
    for part in parts {
        assert!(text.contains(part), "{part:?} not in the story: {text}");
    }
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    let at = html.find(&esc(text)).expect("report.html shows the story");
    let checkers = html.find("<table class=\"checkers\">").unwrap();
    assert!(at < checkers, "the story comes before the verdicts");
    for cmd in [&shrink, &replay] {
        assert!(
            html.contains(&format!("<code>{}</code>", esc(cmd))),
            "{cmd}"
        );
    }
}

#[test]
fn a_stale_read_on_a_deposed_leader_is_told() {
    let dir = base("deposed");
    let (out, run) = chaos(&dir, "leader-isolation", "1", &["deposed-leader-reads"]);
    assert_told(
        &out,
        &run,
        &[
            "linearizability failed on key k3: op 360 (get k3 → ",
            "was served by n5, at 8.850 s a pre-candidate in term 1, while n6 was the leader of term 2.",
            "Faults active during it (8.810–8.850 s): isolate of n5, 4.000–10.000 s.",
            "It missed put k3 \"x 0 18 y\" (op 340), acknowledged by n6 at 8.450 s, before the read began at 8.810 s.",
        ],
    );
    // The story leaves the replay byte-identical and the verdict the same.
    let replay = snapstorm().arg("replay").arg(&run).output().unwrap();
    let said = String::from_utf8_lossy(&replay.stdout);
    assert_eq!(replay.status.code(), Some(1), "{said}");
    assert!(said.contains("byte-identical"), "{said}");
    assert_eq!(
        results(&run.join("replay"))["story"]["text"],
        results(&run)["story"]["text"]
    );
}

#[test]
fn a_stale_lease_read_under_clock_drift_names_the_drift_rate() {
    let dir = base("drift");
    let (out, run) = chaos(&dir, "clock-drift", "1", &["stale-lease-read"]);
    assert_told(
        &out,
        &run,
        &[
            "op 304 (get k1 → ",
            "was served by n5, at 6.025 s the leader of term 1, while n6 was the leader of term 2.",
            "clock-drift of n5 (clock at 0.35× real time), 1.500–6.000 s; isolate of n5, 4.500–9.500 s.",
            "It missed append k1 \"x 2 13 y\" (op 285), acknowledged by n6 at 5.875 s",
        ],
    );
}

#[test]
fn a_clean_run_has_no_story() {
    let dir = base("clean");
    let (out, run) = chaos(&dir, "leader-isolation", "1", &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(": VALID"), "{stdout}");
    assert!(
        !stdout.contains("story:") && !stdout.contains("snapstorm shrink"),
        "{stdout}"
    );
    assert!(results(&run).get("story").is_none());
    let html = std::fs::read_to_string(run.join("report.html")).unwrap();
    assert!(!html.contains("class=\"story\""));
}
