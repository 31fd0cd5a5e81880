//! Run reports: turns a run directory (`results.json`, `history.jsonl`,
//! `trace.jsonl`, `nemesis.jsonl`) into one self-contained `report.html`:
//! a header with the verdicts, a zoomable timeline of operations, node roles
//! and faults, latency and throughput plots, the snapshot lifecycle of every
//! node, and, when a checker failed, its counterexample drawn and linked from
//! the timeline. Plots are hand-written inline SVG; the page loads nothing
//! from the network. The same run directory always gives the same bytes.
//!
//! A campaign directory (`campaign.json`, from `snapstorm fuzz` or
//! `snapstorm campaign merge`) becomes `campaign.html` ([`campaign`]).
//!
//! Opening a report with `#selftest` appended to its URL makes it measure
//! itself and write a JSON verdict into `<pre id="selftest">` (see
//! [`browser`]), which the browser tests read.
pub mod browser;
pub mod campaign;
mod counterexample;
mod diff;
mod error;
mod html;
mod lifecycle;
mod load;
mod nodes;
mod ops;
mod plots;
mod scatter;
mod snapshots;
mod svg;
mod timeline;

pub use campaign::{is_campaign_dir, write_campaign_report, CAMPAIGN_FILE};
pub use error::ReportError;
use std::path::{Path, PathBuf};

/// The report's file name inside the run directory.
pub const REPORT_FILE: &str = "report.html";

/// The files of a run directory the report can do without but that are
/// absent (`trace.jsonl`, `nemesis.jsonl`): the page then has no node trace or
/// no faults, and says so; `snapstorm report` warns about each.
pub fn missing_files(run_dir: &Path) -> Vec<PathBuf> {
    load::OPTIONAL_FILES
        .iter()
        .map(|f| run_dir.join(f))
        .filter(|p| !p.exists())
        .collect()
}

/// Reads the run directory and writes `run_dir/report.html`; returns its path.
pub fn write_report(run_dir: &Path) -> Result<PathBuf, ReportError> {
    let html = render(run_dir)?;
    let path = run_dir.join(REPORT_FILE);
    std::fs::write(&path, html)
        .map_err(|e| ReportError::new(&path, format!("cannot write: {e}")))?;
    Ok(path)
}

/// The report of a run directory, as HTML text.
pub fn render(run_dir: &Path) -> Result<String, ReportError> {
    let run = load::load(run_dir)?;
    let ops = ops::pair(&run_dir.join("history.jsonl"), &run.history)?;
    let end = end_time(&run, &ops);
    let lives = nodes::lives(&run.trace, &run.faults, end);
    let nodes = lives.keys().copied().collect();
    let failures = counterexample::analyse(&run.results.checkers, &ops, &run.trace, &nodes);

    let mut sections = Vec::new();
    if !failures.html.is_empty() {
        sections.push(html::Section {
            id: "failures",
            title: "What failed".to_string(),
            body: failures.html,
        });
    }
    let keys = ops::Keys::of(&ops);
    let timeline = timeline::Timeline {
        ops: &ops,
        faults: &run.faults,
        lives: &lives,
        end,
        marks: &failures.marks,
        keys: &keys,
        final_reads: run.results.final_reads_process,
    };
    sections.push(html::Section {
        id: "timeline",
        title: format!(
            "Timeline: {} operations, {} faults, {} nodes",
            ops.len(),
            run.faults.len(),
            lives.len()
        ),
        body: timeline.render(),
    });
    sections.push(html::Section {
        id: "latency",
        title: "Latency and throughput".to_string(),
        body: [
            scatter::latency_raw(&ops, &keys, &run.faults, end),
            plots::latency(&ops, &keys, &run.faults, end),
            plots::rate(&ops, &keys, &run.faults, end),
            plots::latency_table(&ops),
        ]
        .concat(),
    });
    sections.push(html::Section {
        id: "snapshots",
        title: "Snapshot lifecycle per node".to_string(),
        body: snapshots::render(&run.trace, &run.faults, &lives, end, &failures.pins),
    });
    let header = html::header(&run.results, &run.missing);
    Ok(html::page(&run.results, &header, &sections))
}

/// The end of the time axis: the last thing that happened, in any file.
fn end_time(run: &load::RunDir, ops: &[ops::Op]) -> u64 {
    let history = ops.iter().map(|o| o.ret.unwrap_or(o.call)).max();
    let trace = run.trace.iter().map(|r| r.time).max();
    let faults = run
        .faults
        .iter()
        .map(|f| f.end.unwrap_or(f.start).max(f.start))
        .max();
    [history, trace, faults]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(0)
        .max(1_000_000)
}
