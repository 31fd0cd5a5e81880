//! The regression corpus: `regressions/*.toml`, one seed that once mattered per
//! file — a mutant that must still be caught, or a clean run that must stay valid.
use crate::results::Verdict;
use crate::run::RunConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Regression {
    pub scenario: String,
    pub seed: u64,
    /// Simulated seconds of the main phase.
    pub duration: f64,
    #[serde(default)]
    pub nodes: Option<u64>,
    #[serde(default)]
    pub bugs: Vec<String>,
    /// Knobs a run may set beyond the scenario's (absent: the scenario's choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_threshold: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trailing_logs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
    /// The verdict the run must get: "valid", "invalid" or "unknown".
    pub expect: String,
    /// For an invalid entry: the checker that must be among those flagging it.
    #[serde(default)]
    pub checker: Option<String>,
    #[serde(default)]
    pub note: String,
}

impl Regression {
    /// The run this entry stands for, with every knob checked as the command
    /// line checks its flag (the error names the entry's field).
    pub fn config(&self) -> Result<RunConfig, String> {
        let mut record = RunConfig::new(&self.scenario, self.seed).record();
        record.duration_secs = self.duration;
        record.nodes = self.nodes;
        record.snapshot_threshold = self.snapshot_threshold;
        record.trailing_logs = self.trailing_logs;
        record.workload = self.workload.clone();
        record.bugs = self.bugs.clone();
        RunConfig::from_record(&record).map_err(|e| {
            // The entry's field names are the record's, except the duration's.
            let field = if e.field == "duration_secs" {
                "duration"
            } else {
                e.field
            };
            format!("field {field}: {}", e.problem)
        })
    }

    pub fn expected(&self) -> Result<Verdict, String> {
        match self.expect.as_str() {
            "valid" => Ok(Verdict::Valid),
            "invalid" => Ok(Verdict::Invalid),
            "unknown" => Ok(Verdict::Unknown),
            other => Err(format!(
                "expect must be valid, invalid or unknown, not '{other}'"
            )),
        }
    }

    /// The file name this entry is saved under.
    pub fn file_name(&self) -> String {
        let bugs = if self.bugs.is_empty() {
            "clean".to_string()
        } else {
            self.bugs.join("+")
        };
        format!("{}-seed{}-{bugs}.toml", self.scenario, self.seed)
    }
}

/// Every entry in `dir`, sorted by file name; errors name the file and problem.
pub fn load_all(dir: &Path) -> Result<Vec<(PathBuf, Regression)>, String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).map_err(|e| format!("{}: {e}", p.display()))?;
            let r: Regression =
                toml::from_str(&text).map_err(|e| format!("{}: {e}", p.display()))?;
            Ok((p, r))
        })
        .collect()
}

/// Writes one entry into `dir` (creating it); returns the file's path.
pub fn save(dir: &Path, r: &Regression) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let path = dir.join(r.file_name());
    let text = toml::to_string(r).map_err(|e| format!("{}: {e}", path.display()))?;
    std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(path)
}
