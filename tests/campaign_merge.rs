//! Campaigns across machines, through the real `snapstorm` binary: two shards
//! of one fuzz campaign merge into one campaign whose page opens in headless
//! Chromium with a working link to every failure's report, whose failures
//! replay from the merged directory and become regression entries in one
//! command; bad shard input is a clear error, and a missing shard is never
//! called a pass.
use serde_json::Value;
mod common;

use common::{s, scratch, snapstorm};
use std::path::{Path, PathBuf};

/// Runs shards 0/2 and 1/2 of a campaign into `root/shard-K`.
fn two_shards(root: &Path, scenario: &str, seeds: &str, extra: &[&str]) -> [PathBuf; 2] {
    [0, 1].map(|k| {
        let out = root.join(format!("shard-{k}"));
        let shard = format!("{k}/2");
        let mut args = vec![
            "fuzz",
            "--scenario",
            scenario,
            "--seeds",
            seeds,
            "--shard",
            &shard,
            "--jobs",
            "1",
            "--out",
            s(&out),
        ];
        args.extend_from_slice(extra);
        let o = snapstorm(&args);
        assert!(
            matches!(o.status.code(), Some(0 | 1)),
            "shard {k}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        assert!(out.join("campaign.html").is_file(), "fuzz writes its page");
        out
    })
}

fn json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn two_mutant_shards_merge_into_one_campaign_with_working_links() {
    let root = scratch("merge-mutant");
    let [a, b] = two_shards(
        &root,
        "lagging-follower",
        "1..4",
        &["--duration", "25", "--bug", "applied-not-reset-on-install"],
    );
    let merged = root.join("merged");
    let md = root.join("summary.md");
    let o = snapstorm(&[
        "campaign",
        "merge",
        s(&a),
        s(&b),
        "--out",
        s(&merged),
        "--markdown",
        s(&md),
    ]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(1),
        "failures in a shard: exit 1\n{text}"
    );
    assert!(
        text.contains("coverage: every seed of 1..4 ran once"),
        "{text}"
    );

    let c = json(&merged.join("campaign.json"));
    assert_eq!(c["seeds"], serde_json::json!([1, 2, 3, 4]));
    assert_eq!(c["coverage"]["missing"], serde_json::json!([]));
    assert_eq!(c["shards"].as_array().unwrap().len(), 2);
    let failures = c["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 4, "the mutant is caught on every seed: {c}");
    let junit = std::fs::read_to_string(merged.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase").count(), 4, "one case per seed");
    let summary = std::fs::read_to_string(&md).unwrap();
    for f in failures {
        let repro = f["repro"].as_str().unwrap();
        assert!(text.contains(repro) && summary.contains(repro), "{repro}");
        let seed = f["seed"].as_u64().unwrap();
        assert!(merged.join(format!("seed-{seed}/report.html")).is_file());
        assert!(text.contains(&format!(
            "snapstorm replay {}",
            merged.join(format!("seed-{seed}")).display()
        )));
    }

    // The page: every failure links to its copied report, relative to the page.
    let page = merged.join("campaign.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("http://") && !html.contains("https://"));
    let chromium = reports::browser::chromium().expect("headless Chromium is needed");
    let v = reports::browser::selftest(&chromium, &page).unwrap();
    assert_eq!(v["errors"], serde_json::json!([]), "console errors: {v}");
    let links: Vec<&str> = v["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    assert_eq!(links.len(), 4, "one report link per failure: {v}");
    for l in &links {
        let file = l.split('#').next().unwrap();
        assert!(!Path::new(file).is_absolute(), "{l} is relative");
        assert!(merged.join(file).is_file(), "{l} resolves");
    }
    assert_eq!(v["chipsOk"], true, "every seed chip reaches its row: {v}");
    for id in ["by-checker", "by-mutant", "failures", "shards"] {
        assert!(
            v["sizes"][id][1].as_f64().unwrap_or(0.0) > 20.0,
            "{id} drawn: {v}"
        );
    }
    reports::browser::screenshot(&chromium, &page, &root.join("campaign.png"), 1300, 1100).unwrap();

    // `snapstorm report` on the campaign directory regenerates the same page.
    std::fs::remove_file(&page).unwrap();
    assert_eq!(snapstorm(&["report", s(&merged)]).status.code(), Some(0));
    assert_eq!(std::fs::read_to_string(&page).unwrap(), html);

    // A failure from the merged campaign replays and joins the corpus.
    let seed = merged.join(format!("seed-{}", failures[0]["seed"]));
    let o = snapstorm(&["replay", s(&seed)]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(String::from_utf8_lossy(&o.stdout).contains("byte-identical"));
    let corpus = root.join("corpus");
    let o = snapstorm(&["regress", "add", s(&seed), "--corpus", s(&corpus)]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    let entries = harness::regressions::load_all(&corpus).unwrap();
    assert_eq!(entries.len(), 1);
    let e = &entries[0].1;
    assert_eq!(
        (e.expect.as_str(), e.checker.as_deref(), e.duration),
        ("invalid", Some("restore-fidelity"), 25.0)
    );
    assert_eq!(e.bugs, vec!["applied-not-reset-on-install".to_string()]);
    // Adding it again changes nothing; another run under the same file name
    // is not replaced without --force.
    let o = snapstorm(&["regress", "add", s(&seed), "--corpus", s(&corpus)]);
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).contains("already in the corpus"));
    let file = &entries[0].0;
    let text = std::fs::read_to_string(file).unwrap();
    std::fs::write(file, text.replace("duration = 25.0", "duration = 10.0")).unwrap();
    let o = snapstorm(&["regress", "add", s(&seed), "--corpus", s(&corpus)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&o.stdout).contains("--force replaces it"));
    assert!(std::fs::read_to_string(file)
        .unwrap()
        .contains("duration = 10.0"));
}

#[test]
fn clean_shards_pass_a_missing_shard_is_unknown_and_bad_input_is_named() {
    let root = scratch("merge-clean");
    let [a, b] = two_shards(&root, "baseline", "1..4", &["--duration", "10"]);
    let merged = root.join("merged");
    let o = snapstorm(&["campaign", "merge", s(&a), s(&b), "--out", s(&merged)]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );

    let o = snapstorm(&["campaign", "merge", s(&a), "--out", s(&root.join("half"))]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        o.status.code(),
        Some(3),
        "half the range is not a pass: {text}"
    );
    assert!(
        text.contains("coverage INCOMPLETE: 2 of 1..4 ran; not run: 1, 3"),
        "{text}"
    );

    let o = snapstorm(&["campaign", "merge", s(&a), s(&a), "--out", s(&merged)]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("overlap"));

    let garbled = root.join("garbled");
    std::fs::create_dir_all(&garbled).unwrap();
    std::fs::write(garbled.join("campaign.json"), "{\"scenario\": \n").unwrap();
    for bad in [garbled, root.join("absent")] {
        let o = snapstorm(&["campaign", "merge", s(&a), s(&bad), "--out", s(&merged)]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(
            err.contains(&bad.join("campaign.json").display().to_string()),
            "names the file: {err}"
        );
    }
}
