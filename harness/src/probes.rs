//! `snapstorm probes [DIR ...]`: which of the system's code probes the given
//! runs and campaigns hit, and which they never reached.
//!
//! A directory is a run (`results.json`), a campaign (`campaign.json`, whose
//! counts are the sum over its seeds), or a folder of those (one level down).
use raftkv::probe::{self, Probe};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Probe counts summed over some runs.
#[derive(Debug, Default)]
pub struct Coverage {
    pub counts: BTreeMap<String, u64>,
    /// Runs the counts cover.
    pub runs: u64,
    /// The directories read.
    pub sources: Vec<PathBuf>,
}

impl Coverage {
    pub fn add(&mut self, counts: &BTreeMap<String, u64>, runs: u64) {
        for (name, n) in counts {
            *self.counts.entry(name.clone()).or_insert(0) += n;
        }
        self.runs += runs;
    }

    pub fn count(&self, p: Probe) -> u64 {
        self.counts.get(p.name()).copied().unwrap_or(0)
    }

    /// Probes never hit and with no recorded reason why none can be.
    pub fn unexplained(&self) -> Vec<Probe> {
        Probe::ALL
            .iter()
            .copied()
            .filter(|p| self.count(*p) == 0 && p.unhit_reason().is_none())
            .collect()
    }

    /// Names in the counts that this build does not declare (an older or newer
    /// build's probes): shown, never silently dropped.
    pub fn unknown_names(&self) -> Vec<&str> {
        self.counts
            .keys()
            .filter(|n| probe::find(n).is_none())
            .map(String::as_str)
            .collect()
    }
}

/// A probe a campaign never hit, as `campaign.json` records it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct UnhitProbe {
    pub name: String,
    pub doc: String,
    /// Why no scenario can reach it, when that is known.
    #[serde(default)]
    pub reason: Option<String>,
}

/// The declared probes that `counts` never hit.
pub fn unhit(counts: &BTreeMap<String, u64>) -> Vec<UnhitProbe> {
    Probe::ALL
        .iter()
        .filter(|p| counts.get(p.name()).copied().unwrap_or(0) == 0)
        .map(|p| UnhitProbe {
            name: p.name().to_string(),
            doc: p.doc().to_string(),
            reason: p.unhit_reason().map(str::to_string),
        })
        .collect()
}

/// Reads the probe counts under `dir`; errors name the file and the problem.
pub fn load(dir: &Path, cov: &mut Coverage) -> Result<(), String> {
    if dir.join("campaign.json").is_file() {
        let c = crate::merge::load(dir)?;
        cov.add(&c.probes, c.probe_runs);
    } else if dir.join("results.json").is_file() {
        let r = crate::replay::load(dir)?;
        cov.add(&r.probes, 1);
    } else if dir.is_dir() {
        let mut found = false;
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: cannot read: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.join("campaign.json").is_file() || p.join("results.json").is_file())
            .collect();
        entries.sort();
        for sub in entries {
            load(&sub, cov)?;
            found = true;
        }
        if !found {
            return Err(format!(
                "{}: no results.json or campaign.json here or one level down",
                dir.display()
            ));
        }
        return Ok(());
    } else {
        return Err(format!("{}: no such directory", dir.display()));
    }
    cov.sources.push(dir.to_path_buf());
    Ok(())
}

/// The listing: every probe with its count, then the ones never hit.
pub fn listing(cov: &Coverage) -> String {
    use std::fmt::Write;
    let mut t = String::new();
    let hit = Probe::ALL.iter().filter(|p| cov.count(**p) > 0).count();
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    let _ = writeln!(
        t,
        "{hit} of {} probes hit over {} ({})",
        Probe::ALL.len(),
        plural(cov.runs, "run", "runs"),
        plural(cov.sources.len() as u64, "directory", "directories")
    );
    for p in Probe::ALL {
        let n = cov.count(*p);
        if n > 0 {
            let _ = writeln!(t, "  {n:>10}  {:<40} {}", p.name(), p.doc());
        }
    }
    let unhit: Vec<&Probe> = Probe::ALL.iter().filter(|p| cov.count(**p) == 0).collect();
    if !unhit.is_empty() {
        let _ = writeln!(t, "never hit:");
        for p in unhit {
            match p.unhit_reason() {
                Some(why) => {
                    let _ = writeln!(t, "  {:<40} explained: {why}", p.name());
                }
                None => {
                    let _ = writeln!(t, "  {:<40} NOT HIT: {}", p.name(), p.doc());
                }
            }
        }
    }
    for name in cov.unknown_names() {
        let _ = writeln!(
            t,
            "  (recorded by another build, unknown to this one: {name})"
        );
    }
    t
}

/// `snapstorm probes`: 0 when every probe was hit or is explained, 1 when some
/// were never hit, 2 for bad input.
pub fn cli(dirs: &[PathBuf], json: bool) -> i32 {
    let mut cov = Coverage::default();
    let dirs = if dirs.is_empty() {
        vec![PathBuf::from("store")]
    } else {
        dirs.to_vec()
    };
    for d in &dirs {
        if let Err(e) = load(d, &mut cov) {
            eprintln!("snapstorm probes: {e}");
            return 2;
        }
    }
    if json {
        let all: Vec<serde_json::Value> = Probe::ALL
            .iter()
            .map(|p| {
                serde_json::json!({
                    "name": p.name(),
                    "count": cov.count(*p),
                    "doc": p.doc(),
                    "unhit_reason": p.unhit_reason(),
                })
            })
            .collect();
        let v = serde_json::json!({ "runs": cov.runs, "probes": all });
        crate::cli::print_out(&(serde_json::to_string_pretty(&v).expect("json") + "\n"));
    } else {
        crate::cli::print_out(&listing(&cov));
    }
    i32::from(!cov.unexplained().is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unhit_probes_are_listed_and_fail_unless_explained() {
        let mut cov = Coverage::default();
        let all: BTreeMap<String, u64> = Probe::ALL
            .iter()
            .map(|p| (p.name().to_string(), 2))
            .collect();
        cov.add(&all, 1);
        assert!(cov.unexplained().is_empty());
        assert!(!listing(&cov).contains("never hit"));

        let mut some = all.clone();
        some.remove(Probe::SnapshotFastForward.name());
        some.insert("gone.probe".into(), 1);
        let mut cov = Coverage::default();
        cov.add(&some, 3);
        cov.add(&some, 1);
        assert_eq!(cov.count(Probe::KvPut), 4, "counts add up");
        assert_eq!(cov.runs, 4);
        assert_eq!(cov.unexplained(), vec![Probe::SnapshotFastForward]);
        let text = listing(&cov);
        assert!(text.contains("NOT HIT") && text.contains("snapshot.fast_forward"));
        assert!(text.contains("unknown to this one: gone.probe"));
    }

    #[test]
    fn a_directory_without_results_is_an_error() {
        let dir =
            std::env::temp_dir().join(format!("snapstorm-probes-empty-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let err = load(&dir, &mut Coverage::default()).unwrap_err();
        assert!(err.contains("no results.json"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
