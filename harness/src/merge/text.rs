//! The merged campaign as text: the summary `campaign merge` prints, and the
//! Markdown it appends for a CI job page.
use super::{Merged, ShardSummary};
use std::path::Path;

/// The text summary: counts, coverage, shards, and per failure its repro.
pub fn summary(m: &Merged, out: &Path, notes: &[String]) -> String {
    let c = &m.campaign;
    let (a, b) = m.coverage.range;
    let mut t = format!(
        "campaign {}{}: {} shards, {} seeds, {} passed, {} failed, {} replayed for determinism; {:.1} seeds/s\n",
        c.scenario,
        bugs_suffix(&c.bugs),
        m.shards.len(),
        c.seeds.len(),
        c.passed,
        c.failures.len(),
        c.determinism_checked,
        c.seeds_per_second
    );
    t.push_str(&c.vacuous_line());
    if m.coverage.complete() {
        t.push_str(&format!("  coverage: every seed of {a}..{b} ran once\n"));
    } else {
        t.push_str(&format!(
            "  coverage INCOMPLETE: {} of {a}..{b} ran; not run: {}\n",
            m.coverage.run,
            reports::campaign::range_list(&m.coverage.missing, 8)
        ));
    }
    for f in &c.failures {
        t.push_str(&format!(
            "  seed {}: {} [{}]\n    repro:  {}\n",
            f.seed,
            f.outcome,
            f.failing_checkers.join(", "),
            f.repro
        ));
        if let Some(d) = &f.dir {
            t.push_str(&format!("    replay: snapstorm replay {d}\n"));
        }
    }
    for s in m.shards.iter().filter(|s| s.interrupted) {
        t.push_str(&format!(
            "  {} was interrupted after {} {}: its other seeds count as not run\n",
            shard_label(s),
            s.seeds,
            if s.seeds == 1 { "seed" } else { "seeds" }
        ));
    }
    for n in notes {
        t.push_str(&format!("  note: {n}\n"));
    }
    t.push_str(&format!(
        "  campaign: {}\n  report:   {}\n",
        out.join("campaign.json").display(),
        out.join(reports::CAMPAIGN_FILE).display()
    ));
    t
}

/// "shard K/N (DIR)", or "DIR" for a campaign run without `--shard`.
fn shard_label(s: &ShardSummary) -> String {
    match &s.shard {
        Some(k) => format!("shard {k} ({})", s.dir),
        None => s.dir.clone(),
    }
}

fn bugs_suffix(bugs: &[String]) -> String {
    bugs.iter().map(|b| format!(" --bug {b}")).collect()
}

/// The Markdown summary for a CI job page.
pub fn markdown(m: &Merged, out: &Path) -> String {
    let c = &m.campaign;
    let (a, b) = m.coverage.range;
    let cell = |s: &str| s.replace('|', "\\|").replace('\n', " ");
    let mut t = format!(
        "## snapstorm fuzz campaign: {}{}\n\n**{}** — {} seeds of {a}..{b} over {} shards, {} passed, {} failed ({:.1} seeds/s).\n\n",
        c.scenario,
        bugs_suffix(&c.bugs),
        if c.failed() {
            "FAILED"
        } else if m.coverage.complete() {
            "passed"
        } else {
            "INCOMPLETE"
        },
        c.seeds.len(),
        m.shards.len(),
        c.passed,
        c.failures.len(),
        c.seeds_per_second
    );
    if !m.coverage.complete() {
        t.push_str(&format!(
            "Seeds not run (a shard is missing or was interrupted): {}\n\n",
            reports::campaign::range_list(&m.coverage.missing, 8)
        ));
    }
    for s in m.shards.iter().filter(|s| s.interrupted) {
        t.push_str(&format!(
            "Interrupted: {} after {} {}.\n\n",
            cell(&shard_label(s)),
            s.seeds,
            if s.seeds == 1 { "seed" } else { "seeds" }
        ));
    }
    if c.failed() {
        t.push_str("| seed | outcome | checkers | repro |\n| --- | --- | --- | --- |\n");
        for f in &c.failures {
            t.push_str(&format!(
                "| {} | {} | {} | `{}` |\n",
                f.seed,
                cell(&f.outcome),
                cell(&f.failing_checkers.join(", ")),
                cell(&f.repro)
            ));
        }
        t.push_str(&format!(
            "\nTo replay a failure byte for byte, download the `{}` artifact and run `snapstorm replay <dir>/seed-N`.\n",
            out.file_name()
                .map_or_else(|| out.display().to_string(), |n| n.to_string_lossy().into_owned())
        ));
    }
    t
}
