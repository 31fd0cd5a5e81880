//! `cargo bench --bench swarm_checks`: the linearizability check of every
//! history of 2,000 consecutive `swarm` seeds (the harness's own histories,
//! at the default 50 simulated seconds), run as `snapstorm fuzz` runs them.
//! Target (issue 18): each within 1 s and 256 MiB of the checker's memory
//! estimate. Prints the maxima and the seeds that reach them; measured, not
//! asserted. `SWARM_CHECKS_SEEDS=A..B` picks other seeds.
use harness::fuzz::{run_campaign, FuzzConfig};
use serde_json::Value;
use std::path::PathBuf;
use std::time::Duration;

fn main() {
    let range = std::env::var("SWARM_CHECKS_SEEDS").unwrap_or_else(|_| "1..2000".into());
    let (first, last) = match range.split_once("..").map(|(a, b)| (a.parse(), b.parse())) {
        Some((Ok(a), Ok(b))) => (a, b),
        _ => {
            eprintln!("SWARM_CHECKS_SEEDS must be A..B, got {range}");
            std::process::exit(2);
        }
    };
    let exe = PathBuf::from(env!("CARGO_BIN_EXE_snapstorm"));
    let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("bench-swarm-checks");
    let _ = std::fs::remove_dir_all(&out);
    let cfg = FuzzConfig {
        scenario: "swarm".into(),
        first,
        last,
        shard: None,
        jobs: 2,
        bugs: Vec::new(),
        knobs: Default::default(),
        duration_secs: 50.0,
        out: out.clone(),
        seed_timeout: Duration::from_secs(300),
        keep_passing: true,
        exe,
        save_regressions: None,
    };
    let campaign = run_campaign(&cfg).expect("the campaign runs").campaign;
    // (seconds, steps, bytes, seed) of each seed's check.
    let mut checks: Vec<(f64, u64, u64, u64)> = Vec::new();
    for &seed in &campaign.seeds {
        let path = out.join(format!("seed-{seed}")).join("results.json");
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        let Ok(v) = serde_json::from_str::<Value>(&text) else {
            continue;
        };
        let s = &v["stats"];
        checks.push((
            s["linearizability_seconds"].as_f64().unwrap_or(0.0),
            s["linearizability_steps"].as_u64().unwrap_or(0),
            s["linearizability_memory_bytes"].as_u64().unwrap_or(0),
            seed,
        ));
    }
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    println!(
        "swarm seeds {first}..{last}: {} runs, {} failed, {} checks read",
        campaign.seeds.len(),
        campaign.failures.len(),
        checks.len()
    );
    let by = |key: fn(&(f64, u64, u64, u64)) -> f64| {
        let mut sorted = checks.clone();
        sorted.sort_by(|a, b| key(b).total_cmp(&key(a)));
        sorted.truncate(3);
        sorted
    };
    for (what, top) in [
        ("wall seconds", by(|c| c.0)),
        ("search steps", by(|c| c.1 as f64)),
        ("memory estimate", by(|c| c.2 as f64)),
    ] {
        let line: Vec<String> = (top.iter())
            .map(|c| {
                format!(
                    "seed {}: {:.3} s, {} steps, {:.1} MiB",
                    c.3,
                    c.0,
                    c.1,
                    mib(c.2)
                )
            })
            .collect();
        println!("  most {what}: {}", line.join("; "));
    }
    let slow = checks.iter().filter(|c| c.0 > 1.0).count();
    let big = checks.iter().filter(|c| mib(c.2) > 256.0).count();
    println!("  over 1 s: {slow}; over 256 MiB: {big} (target: none of either)");
}
