//! The report from files: what it shows, that it is deterministic and
//! self-contained, that bad input gives errors naming file and line (never a
//! panic), and that a 10k-operation run stays under 5 MB.
mod common;

use reports::{render, write_report, ReportError};
use std::path::PathBuf;

const FILES: [&str; 4] = [
    "results.json",
    "history.jsonl",
    "trace.jsonl",
    "nemesis.jsonl",
];

use common::{fixture, scratch};

/// A copy of the tiny fixture in a scratch directory.
fn copy_of_fixture(name: &str) -> PathBuf {
    let dir = scratch(name);
    for f in FILES {
        std::fs::copy(fixture().join(f), dir.join(f)).unwrap();
    }
    dir
}

#[test]
fn shows_header_timeline_plots_snapshots_and_checker_data() {
    let html = render(&fixture()).unwrap();
    for want in [
        "crash-mid-snapshot",
        "seed 7",
        r#"<span class="verdict v-invalid">INVALID</span>"#,
        "snapstorm chaos --scenario crash-mid-snapshot --seed 7 --duration 1",
        // Unknown stats are shown, not dropped.
        "shown too",
        "a node crashed while installing a snapshot",
        r#"id="tl""#,
        r#"id="plot-latency""#,
        r#"id="plot-rate""#,
        r#"id="plot-snapshots""#,
        // The snapshot checker's node, index and differing keys, pinned on n2.
        "Node <b>n2</b>, index <b>12</b>, term 1",
        "x 1 1 yx 2 1 y",
        r##"href="#pin-0""##,
        r#"id="pin-0""#,
        // Generic data of another checker, as JSON.
        "checked_entries",
        // Node life: the crash with disk loss, the halt and the leaders.
        "crashed, disk lost",
        "halted: cannot read the snapshot file",
        "leader term 1",
        "leader term 2",
        // Fault legend and the fault that never ended.
        "never healed",
        "isolate",
    ] {
        assert!(html.contains(want), "report lacks {want:?}");
    }
    // Every operation is drawn, pending and info ones included.
    assert_eq!(html.matches(r#"class="op ok""#).count(), 7);
    assert_eq!(html.matches(r#"class="op fail""#).count(), 1);
    assert_eq!(html.matches(r#"class="op info""#).count(), 1);
    assert_eq!(html.matches(r#"class="op pending""#).count(), 1);
    // The fixture's hostile value is escaped.
    assert!(!html.contains("<script>alert"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    // No counterexample when linearizability passed.
    assert!(!html.contains(r#"id="counterexample""#));
}

/// The part of `html` from `start` to the first `end` after it.
fn between<'a>(html: &'a str, start: &str, end: &str) -> &'a str {
    let from = html.find(start).unwrap_or_else(|| panic!("no {start:?}"));
    let rest = &html[from..];
    let to = rest[start.len()..]
        .find(end)
        .map_or(rest.len(), |i| i + start.len());
    &rest[..to]
}

#[test]
fn every_fidelity_violation_has_its_table_and_pin() {
    let html = render(&fixture()).unwrap();
    // The fixture's restore-fidelity data is a list of three violations.
    for (n, want) in [
        (
            1,
            vec![
                "Node <b>n2</b>, index <b>12</b>, term 1: 2 differing keys",
                "session 1",
                "<i class=\"absent\">absent</i>",
                "&quot;x 1 1 y&quot;",
            ],
        ),
        (
            2,
            vec!["Node <b>n3</b>, index <b>9</b>.", "reports applied = 7"],
        ),
        (
            3,
            vec!["Node <b>n1</b>", "(49 chars)", "&quot;x 0 2 y&quot;"],
        ),
    ] {
        let entry = between(
            &html,
            &format!(r#"<div class="violation" id="restore-fidelity-{n}">"#),
            "</div>",
        );
        for w in want {
            assert!(entry.contains(w), "entry {n} lacks {w:?}: {entry}");
        }
        assert_eq!(entry.contains("<table"), n != 2, "entry {n}: {entry}");
        // Its jump link goes to a pin drawn on the node's lifecycle panel.
        let href = between(entry, "href=\"#pin-", "\"");
        let pin = &href["href=\"#".len()..];
        let drawn = between(&html, &format!(r#"<g id="{pin}" class="pin">"#), "</g>");
        assert!(drawn.contains(&format!("restore-fidelity #{n}")), "{drawn}");
    }
    // The single-object shape still renders, with its pin found from the trace.
    let single = between(
        &html,
        r#"<div class="violation" id="snapshot-1">"#,
        "</div>",
    );
    assert!(
        single.contains("Node <b>n2</b>, index <b>12</b>, term 1"),
        "{single}"
    );
    assert!(
        single.contains(r##"href="#pin-3""##) && html.contains(r#"<g id="pin-3""#),
        "{single}"
    );
}

#[test]
fn many_violations_are_capped_with_a_note() {
    let dir = copy_of_fixture("many-violations");
    let mut results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("results.json")).unwrap()).unwrap();
    let entries: Vec<serde_json::Value> = (0..25)
        .map(|i| serde_json::json!({"node": 1 + i % 3, "index": 4, "time": 185_000_000 + i,
            "message": format!("violation {i}"), "diff": [{"key": format!("k{i}"), "expected": "\"a\"", "actual": "\"b\""}]}))
        .collect();
    results["checkers"]["snapshot-fidelity"] =
        serde_json::json!({"verdict": "invalid", "detail": "25 violations", "data": entries});
    std::fs::write(dir.join("results.json"), results.to_string()).unwrap();
    let html = render(&dir).unwrap();
    let section = between(&html, r#"id="checker-snapshot-fidelity""#, "</section>");
    assert!(
        section.contains("25 violations, the first 20 shown"),
        "{section}"
    );
    assert_eq!(section.matches(r#"<div class="violation""#).count(), 20);
    assert_eq!(
        section.matches(r##"<a class="jump" href="#pin-"##).count(),
        20
    );
    assert!(section.contains("violation 19") && !section.contains("violation 20</p>"));
}

#[test]
fn latency_raw_rate_and_key_filter_split_by_key_function_and_outcome() {
    let html = render(&fixture()).unwrap();
    // Jepsen's latency-raw: one series of points per key × function ×
    // outcome, each marked with its key for the filter.
    let raw = between(&html, r#"<svg id="plot-latency-raw""#, "</svg>");
    for want in [
        r#"data-key="0""#,
        r#"data-key="1""#,
        r#"data-key="2""#,
        "<title>append ok</title>",
        "<title>cas fail</title>",
        "pt-circle",
        "pt-square",
    ] {
        assert!(raw.contains(want), "latency-raw lacks {want:?}");
    }
    // Jepsen's rate: a line per function × outcome for all keys, and the
    // same per key, hidden until the filter picks that key.
    let rate = between(&html, r#"<svg id="plot-rate""#, "</svg>");
    assert!(rate.contains(r#"<g class="kser" data-key="*"><path class="series s-ok d0""#));
    assert!(rate.contains("<title>get ok</title>") && rate.contains("<title>append info</title>"));
    assert_eq!(
        rate.matches(r#"<g class="kser hid" data-key="2">"#).count(),
        2,
        "k3: delete ok and put ok"
    );
    let quantiles = between(&html, r#"<svg id="plot-latency""#, "</svg>");
    assert_eq!(
        quantiles
            .matches(r#"<g class="kser hid" data-key="0">"#)
            .count(),
        3,
        "p50, p99, max of k1"
    );
    // The filter lists the keys, and every operation on the timeline says its key.
    assert!(html.contains(r#"<select id="key-filter"><option value="">all keys</option><option value="0">k1</option><option value="1">k2</option><option value="2">k3</option></select>"#));
    assert_eq!(html.matches(r#"<rect class="op ok" data-k=""#).count(), 7);
}

#[test]
fn is_self_contained() {
    let html = render(&fixture()).unwrap();
    for bad in ["src=", "<link", "@import", "url(", "http://", "https://"] {
        assert!(!html.contains(bad), "report refers outside itself: {bad}");
    }
}

#[test]
fn same_files_give_the_same_bytes() {
    let a = copy_of_fixture("same-a");
    let b = copy_of_fixture("same-b");
    let pa = write_report(&a).unwrap();
    let pb = write_report(&b).unwrap();
    assert_eq!(pa, a.join("report.html"));
    let first = std::fs::read(&pa).unwrap();
    assert_eq!(first, std::fs::read(&pb).unwrap());
    write_report(&a).unwrap();
    assert_eq!(first, std::fs::read(&pa).unwrap());
}

fn error_for(name: &str, file: &str, contents: &[u8]) -> ReportError {
    let dir = copy_of_fixture(name);
    std::fs::write(dir.join(file), contents).unwrap();
    render(&dir).expect_err("bad input must be an error")
}

#[test]
fn bad_input_names_file_and_line() {
    let e = error_for(
        "bad-history",
        "history.jsonl",
        b"{\"index\":0,\"process\":0,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"k\",\"value\":null,\"time\":1}\n\n{\"index\":1,\"process\":0,\"type\":\"ok\"}\n",
    );
    assert!(e.file.ends_with("history.jsonl"), "{e}");
    assert_eq!(e.line, Some(3), "{e}");
    assert!(
        e.to_string().contains("history.jsonl line 3: bad record"),
        "{e}"
    );

    let e = error_for(
        "orphan-completion",
        "history.jsonl",
        b"{\"index\":0,\"process\":5,\"type\":\"ok\",\"f\":\"get\",\"key\":\"k\",\"value\":null,\"time\":1}\n",
    );
    assert_eq!(e.line, Some(1), "{e}");
    assert!(e.message.contains("no operation in flight"), "{e}");

    let e = error_for(
        "backwards",
        "history.jsonl",
        b"{\"index\":0,\"process\":5,\"type\":\"invoke\",\"f\":\"get\",\"key\":\"k\",\"value\":null,\"time\":9}\n{\"index\":1,\"process\":5,\"type\":\"ok\",\"f\":\"get\",\"key\":\"k\",\"value\":null,\"time\":1}\n",
    );
    assert_eq!(e.line, Some(2), "{e}");

    let e = error_for(
        "bad-trace",
        "trace.jsonl",
        b"{\"time\":1,\"node\":1,\"event\":\"role\",\"role\":\"leader\"}\n",
    );
    assert!(e.file.ends_with("trace.jsonl") && e.line == Some(1), "{e}");

    let e = error_for("bad-utf8", "nemesis.jsonl", b"\n\xff\xfe\n");
    assert!(
        e.file.ends_with("nemesis.jsonl") && e.line == Some(2),
        "{e}"
    );
    assert!(e.message.contains("UTF-8"), "{e}");

    let e = error_for(
        "bad-results",
        "results.json",
        b"{\"scenario\": \"x\",\n \"seed\": -1}",
    );
    assert!(e.file.ends_with("results.json") && e.line == Some(2), "{e}");

    let dir = copy_of_fixture("no-results");
    std::fs::remove_file(dir.join("results.json")).unwrap();
    let e = render(&dir).unwrap_err();
    assert!(e.to_string().contains("results.json: cannot read"), "{e}");

    let e = render(&scratch("nothing").join("absent")).unwrap_err();
    assert!(e.message.contains("not a run directory"), "{e}");
}

#[test]
fn missing_trace_and_nemesis_are_said_not_fatal() {
    let dir = copy_of_fixture("no-trace");
    std::fs::remove_file(dir.join("trace.jsonl")).unwrap();
    std::fs::remove_file(dir.join("nemesis.jsonl")).unwrap();
    let html = render(&dir).unwrap();
    assert!(html.contains("Not in the run directory: trace.jsonl, nemesis.jsonl"));
    assert!(html.contains("no faults"));
}

#[test]
fn truncated_files_never_panic() {
    let dir = copy_of_fixture("truncated");
    for f in FILES {
        let full = std::fs::read(fixture().join(f)).unwrap();
        for cut in (0..full.len()).step_by(37) {
            std::fs::write(dir.join(f), &full[..cut]).unwrap();
            // Ok or a clear error; a panic fails the test.
            if let Err(e) = render(&dir) {
                assert!(e.file.ends_with(f), "{f} cut at {cut}: {e}");
            }
        }
        std::fs::write(dir.join(f), &full).unwrap();
    }
}

/// Porcupine's visualisation grows to 1.5 GB at 3k operations; this page
/// must stay well under 50 MB at 100k.
#[test]
fn a_hundred_thousand_operations_stay_under_25_mb() {
    let dir = scratch("100k");
    let start = std::time::Instant::now();
    common::synthetic_run(&dir, 100_000);
    let made = start.elapsed();
    let path = write_report(&dir).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    let html = std::fs::read_to_string(&path).unwrap();
    assert_eq!(html.matches("<rect class=\"op ").count(), 100_000);
    println!(
        "100k-operation report: {size} bytes (run files made in {:.1} s, report in {:.1} s)",
        made.as_secs_f64(),
        (start.elapsed() - made).as_secs_f64()
    );
    assert!(
        size < 25_000_000,
        "report of 100k operations is {size} bytes"
    );
}

#[test]
fn ten_thousand_operations_stay_under_5_mb() {
    let dir = scratch("10k");
    common::synthetic_run(&dir, 10_000);
    let path = write_report(&dir).unwrap();
    let size = std::fs::metadata(&path).unwrap().len();
    let html = std::fs::read_to_string(&path).unwrap();
    assert_eq!(html.matches("<rect class=\"op ").count(), 10_000);
    println!("10k-operation report: {size} bytes");
    assert!(size < 5_000_000, "report of 10k operations is {size} bytes");
}

/// Sets every number after `"key":` to `value`, for the given keys.
fn set_numbers(text: &str, keys: &[&str], value: &str) -> String {
    let mut out = text.to_string();
    for key in keys {
        let pat = format!("\"{key}\":");
        let mut result = String::new();
        let mut rest = out.as_str();
        while let Some(at) = rest.find(&pat) {
            let (head, tail) = rest.split_at(at + pat.len());
            result.push_str(head);
            let digits = tail.len() - tail.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits > 0 {
                result.push_str(value);
            }
            rest = &tail[digits..];
        }
        result.push_str(rest);
        out = result;
    }
    out
}

#[test]
fn extreme_numbers_never_panic() {
    let keys = [
        "time",
        "start",
        "end",
        "index",
        "last",
        "first",
        "first_index",
        "last_index",
        "snapshot_index",
        "size",
        "offset",
        "len",
        "term",
        "seed",
    ];
    let dir = copy_of_fixture("extreme");
    for value in ["18446744073709551615", "0"] {
        for f in FILES {
            let text = std::fs::read_to_string(fixture().join(f)).unwrap();
            std::fs::write(dir.join(f), set_numbers(&text, &keys, value)).unwrap();
        }
        let html = render(&dir).unwrap_or_else(|e| panic!("times of {value}: {e}"));
        assert!(html.contains(r#"id="tl""#));
    }
}

/// The legend's leader swatch shows the colours the leader bars are drawn in
/// (each node leads in its own colour), not one colour of its own.
#[test]
fn the_leader_swatch_has_every_leader_bars_colour() {
    let html = render(&fixture()).unwrap();
    let legend_at = html
        .find(r#"<span class="swatch r-leader""#)
        .expect("leader swatch");
    let legend = &html[legend_at..legend_at + html[legend_at..].find(")</span>").unwrap()];
    let mut bars = 0;
    let bar = r#"class="role r-leader" fill=""#;
    for (i, _) in html.match_indices(bar) {
        let colour = &html[i + bar.len()..i + bar.len() + 7];
        assert!(colour.starts_with('#'), "{colour}");
        assert!(
            legend.contains(colour),
            "bar colour {colour} missing from {legend}"
        );
        bars += 1;
    }
    assert!(bars > 0, "the fixture has leader bars");
    assert!(
        legend.contains("leader (in its node's colour: n1"),
        "{legend}"
    );
}
