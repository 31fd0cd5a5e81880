//! Ctrl-C and SIGTERM during `snapstorm fuzz`, through the real binary: the
//! campaign stops with exit 130 and a message, kills the seeds in flight and
//! removes their directories, and writes an interrupted `campaign.json`
//! (with `junit.xml` and `campaign.html`) for the seeds done, which `report`,
//! `regress add` and `campaign merge` read; merged with a good shard, the
//! interrupted one's undone seeds are missing and every failure is kept. A
//! campaign directory that a SIGKILL left without `campaign.json` is an
//! error naming that file.
mod common;

use common::{s, scratch, snapstorm};
use serde_json::Value;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_snapstorm");

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn seeds(v: &Value) -> Vec<u64> {
    (v.as_array().unwrap().iter())
        .map(|s| s.as_u64().unwrap())
        .collect()
}

/// Starts `fuzz` in its own process group (as a shell starts a job), with
/// its output piped.
fn start_fuzz(args: &[&str]) -> Child {
    Command::new(BIN)
        .arg("fuzz")
        .args(args)
        .process_group(0)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `dir/seed-N/` exists (killing the campaign after a minute).
fn wait_for_dir(child: &mut Child, dir: &Path) {
    let start = Instant::now();
    while !dir.is_dir() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the campaign ended before {} appeared",
            dir.display()
        );
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("{} never appeared", dir.display());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Sends `signal` to `target` (a pid, or a process group as -PGID).
fn kill(signal: &str, target: &str) {
    let status = Command::new("kill")
        .args([signal, "--", target])
        .status()
        .unwrap();
    assert!(status.success(), "kill {signal} {target}");
}

/// Waits for the campaign to exit (it must within a minute of the signal).
fn finish(mut child: Child) -> Output {
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("fuzz still running a minute after the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// The `seed-N/` directories under `dir` (none yet), by seed.
fn seed_dirs(dir: &Path) -> Vec<u64> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<u64> = entries
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_prefix("seed-")?.parse().ok()
        })
        .collect();
    v.sort_unstable();
    v
}

/// What every interrupted campaign must be: exit 130 with the message, an
/// interrupted campaign.json whose seeds are a proper subset of `planned`,
/// and junit.xml and campaign.html for exactly those seeds.
fn assert_interrupted(out: &Output, dir: &Path, signal: &str, planned: &[u64]) -> Value {
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert_eq!(out.status.code(), Some(130), "{stdout}{stderr}");
    assert!(
        stderr.contains(&format!("snapstorm fuzz: interrupted by {signal}: ")),
        "{stderr}"
    );
    let c = json(&dir.join("campaign.json"));
    assert_eq!(c["interrupted"], true, "{c}");
    let done = seeds(&c["seeds"]);
    assert!(!done.is_empty() && done.len() < planned.len(), "{c}");
    assert!(done.iter().all(|s| planned.contains(s)), "{c}");
    assert!(
        stderr.contains(&format!("{} of {} seeds done", done.len(), planned.len())),
        "{stderr}"
    );
    assert!(
        stdout.contains(&format!(
            "INTERRUPTED after {} of {}",
            done.len(),
            planned.len()
        )),
        "{stdout}"
    );
    let failed = c["failures"].as_array().unwrap().len() as u64;
    assert_eq!(
        c["passed"].as_u64().unwrap() + failed,
        done.len() as u64,
        "{c}"
    );
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase").count(), done.len(), "{junit}");
    let page = std::fs::read_to_string(dir.join("campaign.html")).unwrap();
    assert!(
        page.contains("Interrupted (Ctrl-C or SIGTERM)"),
        "the page says so"
    );
    c
}

#[test]
fn sigterm_stops_fuzz_and_the_shard_merges_as_missing_seeds() {
    let root = scratch("fuzz-interrupt/sigterm");
    let common = [
        "--scenario",
        "lagging-follower",
        "--seeds",
        "1..12",
        "--duration",
        "300",
        "--bug",
        "applied-not-reset-on-install",
    ];
    let (good, cut) = (root.join("shard-0"), root.join("shard-1"));
    // Shard 1 of 2, one seed at a time: seed-3/ appears once seed 1 is done.
    let mut args = common.to_vec();
    args.extend(["--shard", "1/2", "--jobs", "1", "--out", s(&cut)]);
    let mut child = start_fuzz(&args);
    wait_for_dir(&mut child, &cut.join("seed-3"));
    kill("-TERM", &child.id().to_string());
    let out = finish(child);
    let c = assert_interrupted(&out, &cut, "SIGTERM", &[1, 3, 5, 7, 9, 11]);
    let done = seeds(&c["seeds"]);
    assert!(done.contains(&1), "{c}");
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("1 in flight killed, their directories removed"),
        "seed 3 was running: {stderr}"
    );
    // The mutant fails every seed done; only their directories are left, whole.
    let failed: Vec<u64> = (c["failures"].as_array().unwrap().iter())
        .map(|f| f["seed"].as_u64().unwrap())
        .collect();
    assert_eq!(failed, done, "{c}");
    assert_eq!(seed_dirs(&cut), done, "no half-written seed directory");
    for s in &done {
        let run = cut.join(format!("seed-{s}"));
        assert!(run.join("results.json").is_file() && run.join("report.html").is_file());
    }

    let mut args = common.to_vec();
    args.extend(["--shard", "0/2", "--jobs", "2", "--out", s(&good)]);
    let o = snapstorm(&["fuzz"].iter().chain(&args).copied().collect::<Vec<_>>());
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    let good_failures = json(&good.join("campaign.json"))["failures"].clone();
    assert!(!good_failures.as_array().unwrap().is_empty());

    let merged = root.join("merged");
    let o = snapstorm(&["campaign", "merge", s(&good), s(&cut), "--out", s(&merged)]);
    let stdout = text(&o.stdout);
    // Failures outrank missing seeds (exit 1, not 3): the campaign failed.
    assert_eq!(o.status.code(), Some(1), "{stdout}{}", text(&o.stderr));
    assert!(stdout.contains("coverage INCOMPLETE"), "{stdout}");
    assert!(
        stdout.contains(&format!(
            "shard 1/2 ({}) was interrupted after {} seed",
            cut.display(),
            done.len()
        )),
        "{stdout}"
    );
    let m = json(&merged.join("campaign.json"));
    let merged_seeds: Vec<u64> = (m["failures"].as_array().unwrap().iter())
        .map(|f| f["seed"].as_u64().unwrap())
        .collect();
    for f in good_failures.as_array().unwrap() {
        let seed = f["seed"].as_u64().unwrap();
        assert!(merged_seeds.contains(&seed), "seed {seed} kept: {m}");
        assert!(merged.join(format!("seed-{seed}/results.json")).is_file());
    }
    let missing: Vec<u64> = [3, 5, 7, 9, 11]
        .into_iter()
        .filter(|s| !done.contains(s))
        .collect();
    let listed: Vec<u64> = (m["coverage"]["missing"].as_array().unwrap().iter())
        .flat_map(|r| r[0].as_u64().unwrap()..=r[1].as_u64().unwrap())
        .collect();
    assert_eq!(
        listed, missing,
        "the undone seeds are the missing ones: {m}"
    );
    assert_eq!(m["shards"][1]["interrupted"], true, "{m}");

    // The interrupted shard alone is a campaign `report` and `regress add` read.
    assert_eq!(snapstorm(&["report", s(&cut)]).status.code(), Some(0));
    let corpus = root.join("corpus");
    let o = snapstorm(&["regress", "add", s(&cut), "--corpus", s(&corpus)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stdout));
    assert!(text(&o.stdout).contains(&format!("{} of {} runs in it", done.len(), done.len())));
}

#[test]
fn ctrl_c_to_the_process_group_stops_fuzz_the_same_way() {
    let root = scratch("fuzz-interrupt/sigint");
    let dir = root.join("campaign");
    // A terminal's Ctrl-C signals the whole group: fuzz and the seeds it runs.
    let mut child = start_fuzz(&[
        "--scenario",
        "baseline",
        "--seeds",
        "1..30",
        "--duration",
        "600",
        "--jobs",
        "2",
        "--keep-passing",
        "--out",
        s(&dir),
    ]);
    // Two jobs: a third seed directory means one seed is done, another runs.
    let start = Instant::now();
    while seed_dirs(&dir).len() < 3 {
        assert!(child.try_wait().unwrap().is_none(), "ended too soon");
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no seed finished"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    kill("-INT", &format!("-{}", child.id()));
    let out = finish(child);
    let planned: Vec<u64> = (1..=30).collect();
    let c = assert_interrupted(&out, &dir, "SIGINT (Ctrl-C)", &planned);
    let done = seeds(&c["seeds"]);
    assert!(c["failures"].as_array().unwrap().is_empty(), "{c}");
    // --keep-passing kept the seeds done, and nothing else.
    assert_eq!(seed_dirs(&dir), done, "no half-written seed directory");

    let o = snapstorm(&["report", s(&dir)]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let o = snapstorm(&["regress", "add", s(&dir), "--corpus", s(&root.join("c"))]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let merged = root.join("merged");
    let o = snapstorm(&["campaign", "merge", s(&dir), "--out", s(&merged)]);
    let stdout = text(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(3),
        "seeds missing, none failed: {stdout}"
    );
    assert!(stdout.contains("was interrupted after"), "{stdout}");
    assert!(
        stdout.contains(&format!("coverage INCOMPLETE: {} of 1..30 ran", done.len())),
        "{stdout}"
    );
}

#[test]
fn a_campaign_killed_before_it_wrote_campaign_json_is_named() {
    let root = scratch("fuzz-interrupt/sigkill");
    let dir = root.join("campaign");
    // What a SIGKILL leaves: seed directories, one without results.json and
    // one with a truncated one, and no campaign.json.
    let run = root.join("run");
    let o = snapstorm(&[
        "chaos",
        "--scenario",
        "baseline",
        "--duration",
        "1",
        "--out",
        s(&run),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    std::fs::create_dir_all(dir.join("seed-3")).unwrap();
    std::fs::write(dir.join("seed-3/stderr.txt"), "").unwrap();
    std::fs::create_dir_all(dir.join("seed-5")).unwrap();
    let results = std::fs::read_to_string(run.join("results.json")).unwrap();
    std::fs::write(
        dir.join("seed-5/results.json"),
        &results[..results.len() / 2],
    )
    .unwrap();
    let missing = dir.join("campaign.json").display().to_string();
    for args in [
        vec!["campaign", "merge", s(&dir), "--out", s(&root.join("m"))],
        vec!["report", s(&dir)],
        vec!["regress", "add", s(&dir), "--corpus", s(&root.join("c"))],
    ] {
        let o = snapstorm(&args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&format!("{missing}: missing: ")) && err.contains("killed"),
            "{args:?}: {err}"
        );
    }
    // Its half-written seeds are named too, with the line where they stop.
    let seed5 = dir.join("seed-5");
    for args in [
        vec!["report", s(&seed5)],
        vec!["replay", s(&seed5)],
        vec!["regress", "add", s(&seed5), "--corpus", s(&root.join("c"))],
    ] {
        let o = snapstorm(&args);
        let err = text(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(&seed5.join("results.json").display().to_string())
                && err.contains("line "),
            "{args:?}: {err}"
        );
    }
    assert!(!root.join("c").exists(), "nothing was added to the corpus");
}
