//! End to end: a real simulated run and a failing copy of it (one read's value
//! altered so the history is not linearizable, with the checker's
//! counterexample in results.json) become reports, which headless Chromium
//! opens: no console errors, the timeline and every plot drawn, and for the
//! failing one the counterexample shown and the jump link bringing the first
//! error into view. Screenshots are kept beside each report (report.png).
use harness::results::{CheckerResult, Results, Verdict};
use harness::run::{self, RunConfig};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A fresh directory under the target dir, kept after the test for people.
fn fresh(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("report-e2e")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn passing_run(dir: &Path) -> Results {
    let outcome = run::run(&RunConfig::new("lagging-follower", 1)).unwrap();
    assert_eq!(
        outcome.results.verdict,
        Verdict::Valid,
        "the base run must pass"
    );
    run::write(&outcome, dir).unwrap();
    outcome.results
}

/// Copies `from` into `to` with one `ok` get reading a value nobody wrote,
/// checks the altered history and records the counterexample. Returns the
/// history index of the altered read's invocation.
fn failing_copy(from: &Path, to: &Path) -> u64 {
    for f in ["trace.jsonl", "nemesis.jsonl"] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
    let text = std::fs::read_to_string(from.join("history.jsonl")).unwrap();
    let mut events: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let reads: Vec<usize> = (0..events.len())
        .filter(|&i| {
            let e = &events[i];
            e["type"] == "ok"
                && e["f"] == "get"
                && e["value"].is_string()
                && e["process"].as_u64() < Some(1000)
        })
        .collect();
    let i = reads[reads.len() / 2];
    events[i]["value"] = Value::from("x never written y");
    let process = events[i]["process"].clone();
    let invoke = (0..i)
        .rev()
        .find(|&j| events[j]["process"] == process && events[j]["type"] == "invoke")
        .unwrap();
    let altered = events[invoke]["index"].as_u64().unwrap();
    let mut history = String::new();
    for e in &events {
        history.push_str(&serde_json::to_string(e).unwrap());
        history.push('\n');
    }
    std::fs::write(to.join("history.jsonl"), &history).unwrap();

    use checkers::linearizability::{check, CheckOptions, Verdict as Lin};
    let parsed = checkers::parse::parse_snapstorm_numbered(history.as_bytes()).unwrap();
    let Lin::NotLinearizable(cx) =
        check(&checkers::model::Kv, &parsed.ops, &CheckOptions::default())
    else {
        panic!("the altered history must not be linearizable");
    };
    // Named as the harness names them: by their invocation's index.
    let cx = cx.renumbered(&parsed.numbers);
    let mut results: Results =
        serde_json::from_str(&std::fs::read_to_string(from.join("results.json")).unwrap()).unwrap();
    let mut lin = CheckerResult::invalid(format!(
        "not linearizable: key {:?}: {} operations linearize, then none of {} can go next",
        cx.partition,
        cx.longest_prefix.len(),
        cx.stuck.len()
    ));
    lin.data = Some(serde_json::to_value(&cx).unwrap());
    results.checkers.insert("linearizability".into(), lin);
    results.verdict = Verdict::Invalid;
    std::fs::write(
        to.join("results.json"),
        serde_json::to_string_pretty(&results).unwrap(),
    )
    .unwrap();
    altered
}

fn assert_drawn(verdict: &Value, ids: &[&str]) {
    assert_eq!(
        verdict["errors"],
        Value::Array(vec![]),
        "console errors: {verdict}"
    );
    for id in ids {
        let size = &verdict["sizes"][id];
        let (w, h) = (
            size[0].as_f64().unwrap_or(0.0),
            size[1].as_f64().unwrap_or(0.0),
        );
        assert!(w > 100.0 && h > 20.0, "{id} drawn {w}x{h}: {verdict}");
    }
}

#[test]
fn passing_and_failing_reports_render_in_chromium() {
    let chromium = reports::browser::chromium().expect("headless Chromium is needed");
    let pass = fresh("pass");
    let results = passing_run(&pass);
    let fail = fresh("fail");
    let altered = failing_copy(&pass, &fail);
    let plots = [
        "tl",
        "plot-latency-raw",
        "plot-latency",
        "plot-rate",
        "plot-snapshots",
    ];

    let report = reports::write_report(&pass).unwrap();
    let first = std::fs::read(&report).unwrap();
    reports::write_report(&pass).unwrap();
    assert!(
        first == std::fs::read(&report).unwrap(),
        "same run dir, same bytes"
    );
    let v = reports::browser::selftest(&chromium, &report).unwrap();
    assert_drawn(&v, &plots);
    // The final reads' lane says what it is, not its process number.
    let page = std::fs::read_to_string(&report).unwrap();
    assert!(page.contains(r#"text-anchor="end">final reads</text>"#));
    assert!(!page.contains(">p1000000<"));
    // Zoomed in with a leader's bar filling the view from off its start,
    // the bar's label stays in view (it used to stay at the bar's start).
    let sticky = &v["stickyLabel"];
    assert_eq!(sticky["shown"], true, "{v}");
    assert_eq!(sticky["inView"], true, "{v}");
    assert_eq!(v["ops"].as_u64(), Some(results.stats.ops), "{v}");
    assert_eq!(v["counterexample"], false, "{v}");
    assert!(v["jump"].is_null(), "{v}");
    let png = pass.join("report.png");
    reports::browser::screenshot(&chromium, &report, &png, 1400, 2400).unwrap();

    let report = reports::write_report(&fail).unwrap();
    let html = std::fs::read_to_string(&report).unwrap();
    assert!(
        html.contains("x never written y"),
        "the altered read is shown"
    );
    assert!(html.contains(r#"id="jump-first-error""#));
    let v = reports::browser::selftest(&chromium, &report).unwrap();
    assert_drawn(&v, &[&plots[..], &["cx-diagram"]].concat());
    assert_eq!(v["counterexample"], true, "{v}");
    // The prefix table and the diagram carry the model state before and
    // after each prefix operation; hovering outlines the partial
    // linearization and says the states.
    assert!(html.contains("<th>state before</th><th>state after</th>"));
    let hover = &v["cxHover"];
    assert!(
        hover["stuck"]
            .as_str()
            .unwrap_or("")
            .contains("cannot follow places 1.–"),
        "{v}"
    );
    let prefix = hover["prefix"].as_str().unwrap_or("");
    assert!(prefix.contains(": state ") && prefix.contains(" → "), "{v}");
    assert!(hover["prefixShown"].as_u64() > Some(0), "{v}");
    assert_eq!(hover["withStates"], hover["prefixShown"], "{v}");
    assert_eq!(hover["prefixOutlined"], hover["prefixShown"], "{v}");
    assert!(
        hover["stuckOutlined"].as_u64() > hover["prefixShown"].as_u64(),
        "{v}"
    );
    let jump = &v["jump"];
    assert_eq!(
        jump["inView"], true,
        "the first error is in view after the jump: {v}"
    );
    assert!(
        jump["target"].as_str().unwrap_or("").starts_with("op-"),
        "{v}"
    );
    assert!(
        jump["zoom"].as_f64().unwrap_or(0.0) > 1.0,
        "the jump zooms in: {v}"
    );
    // The altered read is among the operations that could not be placed,
    // named by one number on the timeline, in the table and on hover: its
    // invocation's index in history.jsonl.
    assert!(
        html.contains(&format!(r#"id="op-{altered}" class="op ok cxs""#)),
        "the altered read is marked as not placeable on the timeline"
    );
    assert!(
        html.contains(&format!(
            r##"<a class="oplink" href="#op-{altered}">op {altered}</a>"##
        )),
        "the table names the altered read op {altered} and links to its bar"
    );
    assert!(html.contains(&format!(r#"data-id="{altered}""#)));
    assert!(
        hover["stuck"].as_str().unwrap_or("").starts_with("op "),
        "{v}"
    );
    // Porcupine's partial linearizations: every operation the prefix leaves
    // out carries the longest the checker found that includes it, and the
    // hover says what it is.
    assert!(html.contains("data-partial="), "partials in the diagram");
    assert!(
        hover["stuck"]
            .as_str()
            .unwrap_or("")
            .contains("partial linearization"),
        "{v}"
    );
    reports::browser::screenshot(&chromium, &report, &fail.join("report.png"), 1400, 2400).unwrap();
    assert!(std::fs::metadata(&png).unwrap().len() > 10_000);
}

/// A real mutant (the snapshot leaves out the session table): both fidelity
/// checkers fail with lists of violations, and every one of them is shown
/// with a jump link that brings its pin on the snapshot lifecycle into view.
#[test]
fn fidelity_failures_of_a_mutant_pin_every_violation() {
    use raftkv::bugs::{Bug, Bugs};
    let chromium = reports::browser::chromium().expect("headless Chromium is needed");
    let dir = fresh("snapshot-omits-sessions");
    let mut config = RunConfig::new("lagging-follower", 1);
    config.bugs = Bugs::NONE.with(Bug::parse("snapshot-omits-sessions").unwrap());
    let outcome = run::run(&config).unwrap();
    run::write(&outcome, &dir).unwrap();
    let report = reports::write_report(&dir).unwrap();
    let html = std::fs::read_to_string(&report).unwrap();
    let mut pinned = 0;
    for name in ["snapshot-fidelity", "restore-fidelity"] {
        let c = &outcome.results.checkers[name];
        assert_eq!(c.verdict, Verdict::Invalid, "{name}: {}", c.detail);
        let n = c
            .data
            .as_ref()
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        assert!(n > 1, "{name} has a list of violations");
        for i in 1..=n.min(20) {
            assert!(
                html.contains(&format!(r#"<div class="violation" id="{name}-{i}">"#)),
                "{name} violation {i} is shown"
            );
        }
        pinned += n.min(20);
    }
    // Sessions missing from the snapshot are shown as absent, not as digests.
    assert!(html.contains(r#"<i class="absent">absent</i>"#));
    let v = reports::browser::selftest(&chromium, &report).unwrap();
    assert_drawn(&v, &["tl", "plot-snapshots"]);
    let pins: Vec<&Value> = (v["links"].as_array().unwrap().iter())
        .filter(|l| l["href"].as_str().unwrap_or("").starts_with("#pin-"))
        .collect();
    assert_eq!(pins.len(), pinned, "{v}");
    for l in pins {
        assert_eq!(l["inView"], true, "{l} in {v}");
    }
}
