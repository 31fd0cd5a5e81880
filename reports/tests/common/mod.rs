//! Shared by the integration tests: the fixture, scratch directories and a
//! synthetic run of any size.
#![allow(dead_code)]
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

pub const FILES: [&str; 4] = [
    "results.json",
    "history.jsonl",
    "trace.jsonl",
    "nemesis.jsonl",
];

/// A small hand-written run directory: a snapshot-checker failure in the
/// node/index/diff shape, an unknown checker with generic data, a crash with
/// disk loss, a halt, fail/info/pending operations and an unknown trace event.
pub fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny")
}

/// A fresh scratch directory under the target dir, kept for people to look at.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("reports")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes a synthetic run of `ops` operations: 10 clients over about 150
/// simulated seconds, with a dense trace and a fault every 5 s.
pub fn synthetic_run(dir: &Path, ops: u64) {
    let mut history = String::new();
    let mut trace = String::new();
    let mut nemesis = String::new();
    let clients = 10u64;
    let mut index = 0u64;
    let mut process_of = (0..clients).collect::<Vec<u64>>();
    let mut next_process = clients;
    let mut t = vec![0u64; clients as usize];
    for i in 0..ops {
        let c = (i % clients) as usize;
        let p = process_of[c];
        let call = t[c];
        let lat = 5_000_000 + (i * 7919 % 40) * 1_000_000;
        let key = format!("k{}", i % 5);
        let (kind, value) = match i % 50 {
            0 => ("info", format!("\"x {p} {i} y\"")),
            1 => ("fail", format!("\"x {p} {i} y\"")),
            _ => ("ok", format!("\"x {p} {i} y\"")),
        };
        let _ = writeln!(
            history,
            r#"{{"index":{index},"process":{p},"type":"invoke","f":"append","key":"{key}","value":{value},"time":{call}}}"#
        );
        let _ = writeln!(
            history,
            r#"{{"index":{},"process":{p},"type":"{kind}","f":"append","key":"{key}","value":{value},"time":{},"node":1}}"#,
            index + 1,
            call + lat
        );
        index += 2;
        t[c] = call + lat + 5_000_000;
        if kind == "info" {
            process_of[c] = next_process;
            next_process += 1;
        }
        for node in 1..=3 {
            let time = call + lat / 2;
            let _ = writeln!(
                trace,
                r#"{{"time":{time},"node":{node},"event":"persisted","first":{i},"last":{i},"last_term":1}}"#
            );
            let _ = writeln!(
                trace,
                r#"{{"time":{time},"node":{node},"event":"apply","index":{i},"term":1,"kind":"command","digest":1,"client":1,"seq":1,"effective":true}}"#
            );
            if i % 3 == 0 {
                let _ = writeln!(
                    trace,
                    r#"{{"time":{time},"node":{node},"event":"snapshot_created","index":{i},"term":1,"size":100,"state_digest":1,"keys":5,"sessions":10,"contents":{{"data":{{}},"sessions":{{}}}}}}"#
                );
                let _ = writeln!(
                    trace,
                    r#"{{"time":{time},"node":{node},"event":"compacted","snapshot_index":{i},"first_index":{i},"last_index":{i}}}"#
                );
            }
        }
    }
    let end = t.iter().max().copied().unwrap_or(0);
    for (id, start) in (0..end).step_by(5_000_000_000).enumerate() {
        let _ = writeln!(
            nemesis,
            r#"{{"id":{id},"fault":"isolate","target":"leader","nodes":[{}],"start":{start},"end":{},"detail":""}}"#,
            id % 3 + 1,
            start + 1_000_000_000
        );
    }
    std::fs::write(dir.join("history.jsonl"), history).unwrap();
    std::fs::write(dir.join("trace.jsonl"), trace).unwrap();
    std::fs::write(dir.join("nemesis.jsonl"), nemesis).unwrap();
    std::fs::copy(fixture().join("results.json"), dir.join("results.json")).unwrap();
}
