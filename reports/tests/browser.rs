//! The reports in headless Chromium (installed with apt-get when missing):
//! the fixture with a snapshot-checker failure and a 10k-operation report
//! render without console errors, with the timeline and every plot drawn,
//! zoom working and jump links reaching their targets. The real-run passing
//! and failing reports are opened by `harness/tests/report.rs`.
mod common;

use common::{fixture, scratch, FILES};
use reports::browser;
use serde_json::Value;
use std::time::Instant;

/// Operations on key k1, the fixture's first key.
const K1_OPS: u64 = 5;

fn check(verdict: &Value, ops: u64) {
    assert_eq!(
        verdict["errors"],
        Value::Array(vec![]),
        "console errors: {verdict}"
    );
    for id in [
        "tl",
        "plot-latency-raw",
        "plot-latency",
        "plot-rate",
        "plot-snapshots",
    ] {
        let size = &verdict["sizes"][id];
        let (w, h) = (
            size[0].as_f64().unwrap_or(0.0),
            size[1].as_f64().unwrap_or(0.0),
        );
        assert!(w > 100.0 && h > 20.0, "{id} drawn {w}x{h}: {verdict}");
    }
    assert_eq!(verdict["ops"].as_u64(), Some(ops), "{verdict}");
    let zoom = &verdict["zoom"];
    let (before, zoomed, after) = (
        zoom["before"].as_f64().unwrap_or(0.0),
        zoom["zoomed"].as_f64().unwrap_or(0.0),
        zoom["after"].as_f64().unwrap_or(0.0),
    );
    assert!(zoomed > before * 1.8 && after == before, "zoom: {verdict}");
}

/// The key filter picked the first key: only that key's operations stayed
/// on the timeline, and only its series in the plots; all came back after.
fn check_key_filter(verdict: &Value, of_key: u64, ops: u64) {
    let k = &verdict["keyFilter"];
    assert_eq!(k["key"], "0", "{verdict}");
    assert_eq!(k["ofKey"].as_u64(), Some(of_key), "{verdict}");
    assert_eq!(k["visible"].as_u64(), Some(of_key), "{verdict}");
    assert_eq!(k["otherVisible"].as_u64(), Some(0), "{verdict}");
    for plotted in ["series", "points"] {
        let keys = k[plotted].as_array().expect("drawn series");
        assert!(!keys.is_empty(), "{plotted}: {verdict}");
        assert!(keys.iter().all(|key| key == "0"), "{plotted}: {verdict}");
    }
    assert_eq!(k["after"].as_u64(), Some(ops), "{verdict}");
}

#[test]
fn fixture_and_10k_reports_render_in_chromium() {
    let chromium = browser::chromium().expect("headless Chromium is needed");

    let dir = scratch("browser-tiny");
    for f in FILES {
        std::fs::copy(fixture().join(f), dir.join(f)).unwrap();
    }
    let report = reports::write_report(&dir).unwrap();
    let v = browser::selftest(&chromium, &report).unwrap();
    check(&v, 10);
    check_key_filter(&v, K1_OPS, 10);
    assert_eq!(v["counterexample"], false, "{v}");
    let links = v["links"].as_array().expect("links");
    // Three restore-fidelity violations and the snapshot checker's one, each
    // with its pin on the lifecycle.
    let pins: Vec<&str> = (links.iter())
        .filter_map(|l| l["href"].as_str())
        .filter(|h| h.starts_with("#pin-"))
        .collect();
    assert_eq!(pins, ["#pin-0", "#pin-1", "#pin-2", "#pin-3"], "{v}");
    for l in links {
        assert_eq!(l["inView"], true, "{l} in {v}");
    }
    browser::screenshot(&chromium, &report, &dir.join("report.png"), 1400, 2400).unwrap();

    let dir = scratch("browser-10k");
    common::synthetic_run(&dir, 10_000);
    let report = reports::write_report(&dir).unwrap();
    let start = Instant::now();
    let v = browser::selftest(&chromium, &report).unwrap();
    println!(
        "10k-operation report: {} bytes, load event after {} ms, self-test done in {:.2} s including Chromium's start",
        std::fs::metadata(&report).unwrap().len(),
        v["loadMs"],
        start.elapsed().as_secs_f64()
    );
    check(&v, 10_000);
    // The synthetic run spreads its operations over five keys.
    check_key_filter(&v, 2_000, 10_000);
}
