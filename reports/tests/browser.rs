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

fn check(verdict: &Value, ops: u64) {
    assert_eq!(
        verdict["errors"],
        Value::Array(vec![]),
        "console errors: {verdict}"
    );
    for id in ["tl", "plot-latency", "plot-rate", "plot-snapshots"] {
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
}
