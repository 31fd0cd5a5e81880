//! `snapstorm replay DIR`: repeat a recorded run from its `results.json` and prove
//! it is the same run — history, trace and nemesis log byte-identical — before
//! trusting its verdict.
use crate::results::{Hashes, Results, Verdict};
use crate::run::{self, RunConfig};
use std::path::Path;

/// What a replay found.
pub struct Replay {
    pub recorded: Results,
    pub replayed: Results,
    /// The files whose bytes differ (empty: the run repeated exactly).
    pub differing: Vec<&'static str>,
}

impl Replay {
    pub fn deterministic(&self) -> bool {
        self.differing.is_empty()
    }

    pub fn same_verdict(&self) -> bool {
        self.recorded.verdict == self.replayed.verdict
    }

    /// The checkers that judged the replay come from another revision than
    /// the recording's, so a byte-identical run may get another verdict.
    pub fn rejudged(&self) -> bool {
        self.recorded.revision != self.replayed.revision
    }

    /// The checks cut short by a wall-time safety net, in the recording or
    /// the replay: their verdicts may differ between machines and loads, so
    /// a byte-identical run whose verdict changed because of them is not a
    /// determinism failure.
    pub fn machine_dependent(&self) -> Vec<String> {
        let mut names: Vec<String> = [&self.recorded, &self.replayed]
            .iter()
            .flat_map(|r| r.checkers.iter())
            .filter(|(_, c)| c.machine_dependent)
            .map(|(k, _)| k.clone())
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// Reads `dir/results.json`; errors name the file and the problem.
pub fn load(dir: &Path) -> Result<Results, String> {
    let path = dir.join("results.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}: line {}: not a snapstorm results file: {e}",
            path.display(),
            e.line()
        )
    })
}

/// Reads `dir/results.json` and the run config it records, every knob
/// checked as the command line checks its flag; errors name the file and field.
pub fn load_config(dir: &Path) -> Result<(Results, RunConfig), String> {
    let recorded = load(dir)?;
    let cfg = RunConfig::from_record(&recorded.config)
        .map_err(|e| format!("{}: {e}", dir.join("results.json").display()))?;
    Ok((recorded, cfg))
}

/// Reads the recorded files and checks each against the digest `results.json`
/// records for it. A file missing or changed since the run wrote it is a
/// damaged recording, an input error (exit 2), not a determinism failure:
/// the error names every such file. Returns the files' bytes, in
/// [`Hashes::files`] order.
pub fn verify_recording(dir: &Path, recorded: &Results) -> Result<Vec<Vec<u8>>, String> {
    let results = dir.join("results.json");
    let mut bytes = Vec::new();
    let mut damaged = Vec::new();
    for (name, digest) in recorded.hashes.files() {
        let path = dir.join(name);
        match std::fs::read(&path) {
            Ok(b) if Hashes::digest(&b) == digest => bytes.push(b),
            Ok(b) => damaged.push(format!(
                "{}: changed since the run wrote it: its digest is {}, {} records {digest} \
                 (a line added, removed or edited)",
                path.display(),
                Hashes::digest(&b),
                results.display()
            )),
            Err(e) => damaged.push(format!("{}: cannot read: {e}", path.display())),
        }
    }
    if damaged.is_empty() {
        Ok(bytes)
    } else {
        Err(format!(
            "the recording in {} is damaged, so it cannot be replayed (restore the files or \
             record the run again):\n  {}",
            dir.display(),
            damaged.join("\n  ")
        ))
    }
}

/// Re-runs the recorded run and writes the new files to `dir/replay/`. The
/// recording's files must match their digests first; the re-run must then
/// match both the digests and the files' bytes.
pub fn replay(dir: &Path) -> Result<Replay, String> {
    let (recorded, cfg) = load_config(dir)?;
    let on_disk = verify_recording(dir, &recorded)?;
    let outcome =
        run::run(&cfg).map_err(|e| format!("{}: {e}", dir.join("results.json").display()))?;
    let out = dir.join("replay");
    run::write(&outcome, &out).map_err(|e| format!("{}: {e}", out.display()))?;
    let mut differing = Vec::new();
    let replayed = outcome.results.hashes.files();
    for (((name, a), (_, b)), disk) in recorded
        .hashes
        .files()
        .into_iter()
        .zip(replayed)
        .zip(&on_disk)
    {
        let again = std::fs::read(out.join(name))
            .map_err(|e| format!("{}: {e}", out.join(name).display()))?;
        if a != b || &again != disk {
            differing.push(name);
        }
    }
    // Probes count code paths, so another revision may count differently;
    // the same revision must count the same run the same.
    if recorded.revision == outcome.results.revision && recorded.probes != outcome.results.probes {
        differing.push("probe counts (results.json)");
    }
    Ok(Replay {
        recorded,
        replayed: outcome.results,
        differing,
    })
}

/// The exit code of `snapstorm replay`: the verdict's when the run repeated
/// exactly, 4 when it did not (a determinism failure), or when the same
/// checkers gave the same run another verdict without a wall-time safety
/// net to explain it.
pub fn exit_code(r: &Replay) -> i32 {
    let explained = r.rejudged() || !r.machine_dependent().is_empty();
    if !r.deterministic() || !(r.same_verdict() || explained) {
        4
    } else {
        r.replayed.verdict.exit_code()
    }
}

pub fn summary(r: &Replay) -> String {
    let word = |v: Verdict| format!("{v:?}").to_lowercase();
    let mut s = format!(
        "replayed {} seed {} (recorded by snapstorm {} at {}):\n",
        r.recorded.scenario, r.recorded.seed, r.recorded.version, r.recorded.revision
    );
    if r.deterministic() {
        s.push_str(&format!(
            "  history, trace and nemesis log are byte-identical (history {})\n",
            r.replayed.hashes.history
        ));
    } else {
        s.push_str(&format!(
            "  DETERMINISM FAILURE: {} differ from the recording (new files in replay/)\n",
            r.differing.join(", ")
        ));
        if r.rejudged() {
            s.push_str(&format!(
                "  this build is revision {}, the recording's {}: a run repeats exactly only \
                 on the revision that made it (git checkout {})\n",
                r.replayed.revision, r.recorded.revision, r.recorded.revision
            ));
        }
    }
    s.push_str(&format!(
        "  verdict {} (recorded {}){}\n",
        word(r.replayed.verdict),
        word(r.recorded.verdict),
        if r.same_verdict() {
            String::new()
        } else if r.deterministic() && r.rejudged() {
            format!(
                " — different: the same run, judged by the checkers of revision {} \
                 instead of {}",
                r.replayed.revision, r.recorded.revision
            )
        } else if r.deterministic() && !r.machine_dependent().is_empty() {
            format!(
                " — different: the same run; {} was cut short by its wall-time safety net \
                 (machine-dependent, not a determinism failure)",
                r.machine_dependent().join(", ")
            )
        } else {
            " — DIFFERENT".to_string()
        }
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::{CheckerResult, Stats};

    fn results(lin: CheckerResult) -> Results {
        Results::new(
            "s",
            1,
            vec![("linearizability", lin)],
            Stats::default(),
            vec![],
            String::new(),
        )
    }

    #[test]
    fn a_verdict_changed_by_the_wall_time_net_is_not_a_determinism_failure() {
        let mut cut = CheckerResult::unknown("check did not finish: wall-time safety net");
        cut.machine_dependent = true;
        let valid = CheckerResult::valid("linearize");
        let replay = |recorded: &CheckerResult, replayed: &CheckerResult| Replay {
            recorded: results(recorded.clone()),
            replayed: results(replayed.clone()),
            differing: vec![],
        };
        let r = replay(&cut, &valid);
        assert_eq!(exit_code(&r), 0);
        assert!(
            summary(&r).contains("wall-time safety net"),
            "{}",
            summary(&r)
        );
        assert_eq!(exit_code(&replay(&valid, &cut)), 3);
        // Without the net, another verdict for the same bytes is a failure.
        let budget = CheckerResult::unknown("check did not finish: state budget");
        assert_eq!(exit_code(&replay(&budget, &valid)), 4);
        // And so are different bytes, whatever the verdicts.
        let mut r = replay(&cut, &valid);
        r.differing.push("history.jsonl");
        assert_eq!(exit_code(&r), 4);
    }
}
