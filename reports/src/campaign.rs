//! `campaign.html`: a fuzz campaign (one machine's, or shards merged) as one
//! self-contained page: seeds run and seeds/s, seed coverage, the failures
//! grouped by checker and by mutant, and per failure its outcome, a relative
//! link to its `report.html` and the command that repeats it.
//!
//! It reads `campaign.json` leniently (a copy of the fields of the harness's
//! `Campaign`, which `reports` must not depend on), so older and merged
//! campaign files render alike.
use crate::error::ReportError;
use crate::html::stat_tile;
use crate::svg::{esc, num};
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::path::Path;

/// The page's file name inside the campaign directory.
pub const CAMPAIGN_FILE: &str = "campaign.html";
/// The campaign record `snapstorm fuzz` and `snapstorm campaign merge` write.
pub const CAMPAIGN_JSON: &str = "campaign.json";

const CSS: &str = include_str!("report.css");
const CAMPAIGN_CSS: &str = include_str!("campaign.css");
const JS: &str = include_str!("campaign.js");

#[derive(Clone, Debug, Deserialize)]
struct Campaign {
    scenario: String,
    #[serde(default)]
    bugs: Vec<String>,
    #[serde(default)]
    seeds: Vec<u64>,
    #[serde(default)]
    shard: Option<String>,
    #[serde(default)]
    failures: Vec<Failure>,
    #[serde(default)]
    passed: u64,
    #[serde(default)]
    determinism_checked: u64,
    #[serde(default)]
    wall_seconds: f64,
    #[serde(default)]
    seeds_per_second: f64,
    #[serde(default)]
    seed_range: Option<(u64, u64)>,
    #[serde(default)]
    duration_secs: Option<f64>,
    /// Only in a merged campaign: one entry per shard.
    #[serde(default)]
    shards: Vec<Shard>,
    /// Only in a merged campaign: which seeds of the range were run.
    #[serde(default)]
    coverage: Option<Coverage>,
    #[serde(default)]
    probe_runs: u64,
    #[serde(default)]
    probes_declared: u64,
    #[serde(default)]
    unhit_probes: Vec<UnhitProbe>,
    /// Seeds that passed without reaching the scenario's target.
    #[serde(default)]
    vacuous: Vec<u64>,
    /// A signal stopped the campaign: `seeds` are the seeds done.
    #[serde(default)]
    interrupted: bool,
}

/// A code probe of the system that no run of the campaign hit.
#[derive(Clone, Debug, Deserialize)]
struct UnhitProbe {
    name: String,
    #[serde(default)]
    doc: String,
    #[serde(default)]
    reason: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
struct Failure {
    seed: u64,
    outcome: String,
    #[serde(default)]
    failing_checkers: Vec<String>,
    #[serde(default)]
    dir: Option<String>,
    #[serde(default)]
    repro: String,
    #[serde(default)]
    detail: String,
}

#[derive(Clone, Debug, Deserialize)]
struct Shard {
    dir: String,
    #[serde(default)]
    shard: Option<String>,
    #[serde(default)]
    seeds: u64,
    #[serde(default)]
    failed: u64,
    #[serde(default)]
    wall_seconds: f64,
    #[serde(default)]
    seeds_per_second: f64,
}

#[derive(Clone, Debug, Deserialize)]
struct Coverage {
    range: (u64, u64),
    #[serde(default)]
    missing: Vec<(u64, u64)>,
}

/// Whether `dir` holds a campaign (rather than a single run).
pub fn is_campaign_dir(dir: &Path) -> bool {
    dir.join(CAMPAIGN_JSON).is_file()
}

/// Reads `dir/campaign.json` and writes `dir/campaign.html`; returns its path.
pub fn write_campaign_report(dir: &Path) -> Result<std::path::PathBuf, ReportError> {
    let html = render_campaign(dir)?;
    let path = dir.join(CAMPAIGN_FILE);
    std::fs::write(&path, html)
        .map_err(|e| ReportError::new(&path, format!("cannot write: {e}")))?;
    Ok(path)
}

/// The campaign page of `dir`, as HTML text.
pub fn render_campaign(dir: &Path) -> Result<String, ReportError> {
    let path = dir.join(CAMPAIGN_JSON);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| ReportError::new(&path, format!("cannot read: {e}")))?;
    let c: Campaign = serde_json::from_str(&text).map_err(|e| {
        ReportError::at(
            &path,
            e.line(),
            format!("not a snapstorm campaign file: {e}"),
        )
    })?;
    let rows: Vec<Row> = c.failures.iter().map(|f| Row::new(dir, &c, f)).collect();
    let mut body = header(&c);
    if !rows.is_empty() {
        body.push_str(&section(
            "by-checker",
            "Failures by checker",
            &groups(&rows, |r| r.checker_groups()),
        ));
        body.push_str(&section(
            "by-mutant",
            "Failures by mutant",
            &groups(&rows, |r| vec![r.mutants.clone()]),
        ));
        body.push_str(&section(
            "failures",
            &format!("Failures ({})", rows.len()),
            &failure_table(&rows),
        ));
    }
    if !c.vacuous.is_empty() {
        body.push_str(&section(
            "vacuous",
            &format!("Vacuous seeds ({})", c.vacuous.len()),
            &format!(
                "<p>These seeds passed without reaching the scenario's target (its evidence is unmet in their <code>results.json</code>): {}.</p>",
                esc(&seed_list(&c.vacuous, 40))
            ),
        ));
    }
    if c.probes_declared > 0 {
        body.push_str(&section("probes", "Code probes", &probe_section(&c)));
    }
    if !c.shards.is_empty() {
        body.push_str(&section(
            "shards",
            &format!("Shards ({})", c.shards.len()),
            &shard_table(&c.shards),
        ));
    }
    Ok(format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>campaign {}: {}</title><script>{early}</script><style>{CSS}{CAMPAIGN_CSS}</style></head>
<body><main>{body}<footer>snapstorm campaign, made from campaign.json; regenerate with <code>snapstorm report DIR</code>. Each failure's report and artifacts are in its <code>seed-N/</code> directory; <code>snapstorm replay seed-N</code> repeats it byte for byte.</footer></main>
<script>{JS}</script></body></html>
"#,
        esc(&c.scenario),
        esc(&verdict(&c).1),
        early = crate::html::EARLY_JS
    ))
}

/// How many of the system's code probes the campaign hit, and the ones it
/// never reached (with the reason when none can be).
fn probe_section(c: &Campaign) -> String {
    let hit = c
        .probes_declared
        .saturating_sub(c.unhit_probes.len() as u64);
    let mut out = format!(
        "<p>{hit} of {} probes hit over {} runs (<code>snapstorm probes DIR</code> lists them all).</p>",
        c.probes_declared, c.probe_runs
    );
    if c.unhit_probes.is_empty() {
        return out;
    }
    out.push_str("<table><thead><tr><th>never hit</th><th>what it marks</th><th>why</th></tr></thead><tbody>");
    for p in &c.unhit_probes {
        let why = p
            .reason
            .as_deref()
            .map_or_else(|| "<b>not reached</b>".to_string(), esc);
        let _ = write!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>{why}</td></tr>",
            esc(&p.name),
            esc(&p.doc)
        );
    }
    out.push_str("</tbody></table>");
    out
}

/// `1..20`, or `1..3, 5, 7..9` (the first `limit` runs, then how many more).
pub fn seed_list(seeds: &[u64], limit: usize) -> String {
    let mut sorted = seeds.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for s in sorted {
        match runs.last_mut() {
            Some((_, b)) if *b + 1 == s => *b = s,
            _ => runs.push((s, s)),
        }
    }
    range_list(&runs, limit)
}

/// Inclusive ranges as `a..b, c, d..e`, the first `limit` of them.
pub fn range_list(runs: &[(u64, u64)], limit: usize) -> String {
    let mut parts: Vec<String> = runs
        .iter()
        .take(limit)
        .map(|&(a, b)| {
            if a == b {
                a.to_string()
            } else {
                format!("{a}..{b}")
            }
        })
        .collect();
    if runs.len() > limit {
        parts.push(format!("and {} more ranges", runs.len() - limit));
    }
    if parts.is_empty() {
        "none".to_string()
    } else {
        parts.join(", ")
    }
}

/// The overall verdict: a CSS class and a word.
fn verdict(c: &Campaign) -> (&'static str, String) {
    let missing = c.coverage.as_ref().is_some_and(|v| !v.missing.is_empty());
    if !c.failures.is_empty() {
        ("v-invalid", format!("{} FAILED", c.failures.len()))
    } else if c.interrupted {
        ("v-unknown", "INTERRUPTED".to_string())
    } else if missing {
        ("v-unknown", "INCOMPLETE".to_string())
    } else {
        ("v-valid", "PASSED".to_string())
    }
}

fn mutant_label(bugs: &[String]) -> String {
    if bugs.is_empty() {
        "clean system (no mutant)".to_string()
    } else {
        bugs.join(" + ")
    }
}

fn header(c: &Campaign) -> String {
    let (class, word) = verdict(c);
    let mut out = format!(
        r#"<header><h1>fuzz campaign: {} <span class="seed">{}</span></h1><span class="verdict {class}">{}</span></header>"#,
        esc(&c.scenario),
        esc(&match (&c.shard, c.shards.len()) {
            (_, n) if n > 0 => format!("{n} shards merged"),
            (Some(s), _) => format!("shard {s}"),
            (None, _) => String::new(),
        }),
        esc(&word)
    );
    let mut facts = vec![format!("mutants: {}", mutant_label(&c.bugs))];
    if let Some(d) = c.duration_secs {
        facts.push(format!("{} simulated s per run", num(d, 2)));
    }
    if let Some((a, b)) = c.seed_range {
        facts.push(format!("campaign seed range {a}..{b}"));
    }
    facts.push(format!("seeds run: {}", seed_list(&c.seeds, 6)));
    let _ = write!(out, r#"<p class="facts">{}</p>"#, esc(&facts.join(" · ")));
    out.push_str(r#"<div class="stats">"#);
    let mut tile = |label: &str, value: String| stat_tile(&mut out, label, &value);
    tile("seeds run", c.seeds.len().to_string());
    tile("passed", c.passed.to_string());
    tile("failed", c.failures.len().to_string());
    tile("seeds/s", num(c.seeds_per_second, 2));
    tile("wall s", num(c.wall_seconds, 1));
    tile(
        "replayed for determinism",
        c.determinism_checked.to_string(),
    );
    out.push_str("</div>");
    if c.interrupted {
        out.push_str(r#"<p class="warn">Interrupted (Ctrl-C or SIGTERM): only the seeds listed were run.</p>"#);
    }
    if let Some(cov) = &c.coverage {
        let (a, b) = cov.range;
        if cov.missing.is_empty() {
            let _ = write!(
                out,
                r#"<p class="coverage">Coverage: every seed of {a}..{b} was run exactly once.</p>"#
            );
        } else {
            let n: u64 = cov.missing.iter().map(|(x, y)| y - x + 1).sum();
            let _ = write!(
                out,
                r#"<p class="warn">Coverage incomplete: {n} seeds of {a}..{b} were not run ({}). A shard is missing, was interrupted, or failed before writing its campaign.</p>"#,
                esc(&range_list(&cov.missing, 8))
            );
        }
    }
    out
}

fn section(id: &str, title: &str, body: &str) -> String {
    format!(
        r#"<section id="{id}"><h2>{}</h2>{body}</section>"#,
        esc(title)
    )
}

/// One failure as the page shows it.
struct Row {
    seed: u64,
    outcome: String,
    checkers: Vec<String>,
    /// The mutants of the failing run (its results.json, else the campaign's).
    mutants: String,
    /// Relative link to the report (or the stderr of a run that died).
    link: Option<(String, &'static str)>,
    repro: String,
    detail: String,
}

impl Row {
    fn new(dir: &Path, c: &Campaign, f: &Failure) -> Row {
        // fuzz and merge keep a failure's artifacts in seed-N/ beside
        // campaign.json; the recorded dir may name another machine's path.
        let name = f
            .dir
            .as_deref()
            .and_then(|d| Path::new(d).file_name())
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| dir.join(n).is_dir())
            .unwrap_or_else(|| format!("seed-{}", f.seed));
        let run = dir.join(&name);
        let link = if run.join(crate::REPORT_FILE).is_file() {
            Some((
                format!("{name}/{}#first-error", crate::REPORT_FILE),
                "report",
            ))
        } else if run.join("stderr.txt").is_file() {
            Some((format!("{name}/stderr.txt"), "stderr"))
        } else {
            None
        };
        let mutants = recorded_bugs(&run).unwrap_or_else(|| c.bugs.clone());
        Row {
            seed: f.seed,
            outcome: f.outcome.clone(),
            checkers: f.failing_checkers.clone(),
            mutants: mutant_label(&mutants),
            link,
            repro: f.repro.clone(),
            detail: f.detail.clone(),
        }
    }

    /// The groups this failure is listed under: each checker that flagged it,
    /// or, for a run no checker judged (crashed, hung), its outcome.
    fn checker_groups(&self) -> Vec<String> {
        if self.checkers.is_empty() || self.outcome == "nondeterministic" {
            let mut g = vec![format!("({})", self.outcome)];
            g.extend(self.checkers.iter().cloned());
            g
        } else {
            self.checkers.clone()
        }
    }
}

/// `config.bugs` of a run directory's results.json, when it is readable.
fn recorded_bugs(run: &Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(run.join("results.json")).ok()?;
    let v: Value = serde_json::from_str(&text).ok()?;
    v["config"]["bugs"]
        .as_array()?
        .iter()
        .map(|b| b.as_str().map(str::to_string))
        .collect()
}

fn outcome_class(outcome: &str) -> &'static str {
    match outcome {
        "valid" => "v-valid",
        "unknown" => "v-unknown",
        _ => "v-invalid",
    }
}

/// A table of groups: the group, how many seeds, and a link to each seed's row.
fn groups(rows: &[Row], keys: impl Fn(&Row) -> Vec<String>) -> String {
    let mut by: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for r in rows {
        for k in keys(r) {
            by.entry(k).or_default().push(r.seed);
        }
    }
    let mut out = String::from(
        r#"<table class="groups"><tr><th>group</th><th>seeds</th><th>failing seeds</th></tr>"#,
    );
    for (k, seeds) in &by {
        let links: String = seeds
            .iter()
            .map(|s| format!(r##"<a class="chip" href="#seed-{s}">{s}</a>"##))
            .collect();
        let _ = write!(
            out,
            r#"<tr><td class="name">{}</td><td>{}</td><td>{links}</td></tr>"#,
            esc(k),
            seeds.len()
        );
    }
    out.push_str("</table>");
    out
}

fn failure_table(rows: &[Row]) -> String {
    let mut out = String::from(
        r#"<table class="failures"><tr><th>seed</th><th>outcome</th><th>checkers</th><th>mutants</th><th>artifacts</th><th>repro</th></tr>"#,
    );
    for r in rows {
        let link = match &r.link {
            Some((href, label)) => {
                format!(r#"<a class="report" href="{}">{label} ▸</a>"#, esc(href))
            }
            None => r#"<span class="note">no artifacts</span>"#.to_string(),
        };
        let _ = write!(
            out,
            r#"<tr id="seed-{seed}"><td class="name">{seed}</td><td><span class="badge {}">{}</span></td><td>{}</td><td>{}</td><td>{link}</td><td class="repro"><code>{}</code><div class="detail">{}</div></td></tr>"#,
            outcome_class(&r.outcome),
            esc(&r.outcome),
            esc(&r.checkers.join(", ")),
            esc(&r.mutants),
            esc(&r.repro),
            esc(&r.detail.chars().take(400).collect::<String>()),
            seed = r.seed,
        );
    }
    out.push_str("</table>");
    out
}

fn shard_table(shards: &[Shard]) -> String {
    let mut out = String::from(
        r#"<table class="shards"><tr><th>shard</th><th>directory</th><th>seeds</th><th>failed</th><th>wall s</th><th>seeds/s</th></tr>"#,
    );
    for s in shards {
        let _ = write!(
            out,
            r#"<tr><td class="name">{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            esc(s.shard.as_deref().unwrap_or("whole range")),
            esc(&s.dir),
            s.seeds,
            s.failed,
            num(s.wall_seconds, 1),
            num(s.seeds_per_second, 2)
        );
    }
    out.push_str("</table>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_lists_the_probes_never_hit() {
        let dir = scratch("probes");
        let campaign = serde_json::json!({
            "scenario": "swarm", "seeds": [1, 2], "passed": 2, "probe_runs": 2,
            "probes_declared": 90, "vacuous": [2],
            "unhit_probes": [
                {"name": "snapshot.fast_forward", "doc": "commit <moved> only", "reason": null},
                {"name": "election.single_voter", "doc": "one voter", "reason": "no scenario runs 1 node"}
            ]
        });
        std::fs::write(dir.join(CAMPAIGN_JSON), campaign.to_string()).unwrap();
        let html = render_campaign(&dir).unwrap();
        assert!(html.contains("88 of 90 probes hit over 2 runs"), "{html}");
        assert!(
            html.contains("<code>snapshot.fast_forward</code>") && html.contains("not reached")
        );
        assert!(html.contains("commit &lt;moved&gt; only"), "escaped");
        assert!(html.contains("no scenario runs 1 node"));
        assert!(
            html.contains("Vacuous seeds (1)"),
            "vacuous seeds are listed"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn seed_lists_compress_runs() {
        assert_eq!(seed_list(&[3, 1, 2, 5, 7, 8, 9], 10), "1..3, 5, 7..9");
        assert_eq!(seed_list(&[], 10), "none");
        assert_eq!(seed_list(&[2, 4, 6, 8], 2), "2, 4, and 2 more ranges");
    }

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("snapstorm-campaign-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn failures_are_grouped_and_linked_relative_to_the_page() {
        let dir = scratch("groups");
        let campaign = serde_json::json!({
            "scenario": "all-crash", "bugs": ["forget-snapshot-on-boot"],
            "seeds": [1, 2, 3, 4, 5], "shard": null, "passed": 2,
            "determinism_checked": 3, "checker_counts": {}, "wall_seconds": 2.0,
            "seeds_per_second": 2.5,
            "failures": [
                {"seed": 1, "outcome": "invalid", "failing_checkers": ["restore-fidelity", "linearizability"],
                 "dir": "/elsewhere/seed-1", "repro": "snapstorm chaos --seed 1", "wall_seconds": 0.1, "detail": "a<b"},
                {"seed": 3, "outcome": "invalid", "failing_checkers": ["restore-fidelity"],
                 "dir": "x/seed-3", "repro": "snapstorm chaos --seed 3", "wall_seconds": 0.1, "detail": ""},
                {"seed": 4, "outcome": "crashed", "failing_checkers": [],
                 "dir": "x/seed-4", "repro": "snapstorm chaos --seed 4", "wall_seconds": 0.1, "detail": "exit 101"}
            ]
        });
        std::fs::write(dir.join(CAMPAIGN_JSON), campaign.to_string()).unwrap();
        for seed in [1, 3] {
            let run = dir.join(format!("seed-{seed}"));
            std::fs::create_dir_all(&run).unwrap();
            std::fs::write(run.join(crate::REPORT_FILE), "<html></html>").unwrap();
        }
        // Seed 3's run had no mutant on, whatever the campaign says.
        std::fs::write(
            dir.join("seed-3/results.json"),
            r#"{"config": {"bugs": []}}"#,
        )
        .unwrap();
        std::fs::create_dir_all(dir.join("seed-4")).unwrap();
        std::fs::write(dir.join("seed-4/stderr.txt"), "panicked").unwrap();

        let html = std::fs::read_to_string(write_campaign_report(&dir).unwrap()).unwrap();
        assert!(html.contains(r#"href="seed-1/report.html#first-error""#));
        assert!(html.contains(r#"href="seed-3/report.html#first-error""#));
        assert!(html.contains(r#"href="seed-4/stderr.txt""#));
        assert!(html.contains("3 FAILED") && html.contains("a&lt;b"));
        let groups = |id: &str| {
            let start = html.find(&format!(r#"<section id="{id}">"#)).unwrap();
            html[start..start + html[start..].find("</section>").unwrap()].to_string()
        };
        let by_checker = groups("by-checker");
        assert!(by_checker.contains(
            r##"<td class="name">restore-fidelity</td><td>2</td><td><a class="chip" href="#seed-1">1</a><a class="chip" href="#seed-3">3</a>"##
        ));
        assert!(by_checker.contains(r#"<td class="name">(crashed)</td><td>1</td>"#));
        let by_mutant = groups("by-mutant");
        assert!(by_mutant.contains(r#"<td class="name">clean system (no mutant)</td><td>1</td>"#));
        assert!(by_mutant.contains(r#"<td class="name">forget-snapshot-on-boot</td><td>2</td>"#));
        assert!(
            !html.contains("http://") && !html.contains("https://"),
            "nothing from the network"
        );
        assert_eq!(
            html,
            render_campaign(&dir).unwrap(),
            "same file, same bytes"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_garbled_campaign_file_is_named_with_its_line() {
        let dir = scratch("garbled");
        std::fs::write(dir.join(CAMPAIGN_JSON), "{\n  \"scenario\": 7\n}").unwrap();
        let e = render_campaign(&dir).unwrap_err().to_string();
        assert!(
            e.contains("campaign.json line 2") && e.contains("not a snapstorm campaign file"),
            "{e}"
        );
        let e = render_campaign(&dir.join("nope")).unwrap_err().to_string();
        assert!(
            e.contains("campaign.json") && e.contains("cannot read"),
            "{e}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
