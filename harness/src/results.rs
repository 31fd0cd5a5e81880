//! `results.json`: the verdict of a run, per checker, with stats and the exact
//! command that repeats it.
use crate::overrides::Overrides;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Valid,
    Invalid,
    /// A check could not finish (budget): never reported as valid.
    Unknown,
}

impl Verdict {
    /// 0 valid, 1 invalid, 3 unknown (2 is reserved for usage and input errors).
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::Valid => 0,
            Verdict::Invalid => 1,
            Verdict::Unknown => 3,
        }
    }

    /// VALID, INVALID or UNKNOWN, as `chaos` and `replay` print it.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Valid => "VALID",
            Verdict::Invalid => "INVALID",
            Verdict::Unknown => "UNKNOWN",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CheckerResult {
    pub verdict: Verdict,
    pub detail: String,
    /// Machine-readable extras (e.g. a linearizability counterexample).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<serde_json::Value>,
    /// A wall-time safety net cut the check short: the same run may get
    /// another verdict on another machine or under another load, which a
    /// replay does not count as a determinism failure.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub machine_dependent: bool,
}

impl CheckerResult {
    fn with(verdict: Verdict, detail: impl Into<String>) -> Self {
        CheckerResult {
            verdict,
            detail: detail.into(),
            data: None,
            machine_dependent: false,
        }
    }
    pub fn valid(detail: impl Into<String>) -> Self {
        Self::with(Verdict::Valid, detail)
    }
    pub fn invalid(detail: impl Into<String>) -> Self {
        Self::with(Verdict::Invalid, detail)
    }
    pub fn unknown(detail: impl Into<String>) -> Self {
        Self::with(Verdict::Unknown, detail)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    /// The cluster's node count (drawn from the seed unless `--nodes` gave it).
    #[serde(default)]
    pub nodes: u64,
    pub ops: u64,
    pub ok: u64,
    pub fail: u64,
    pub info: u64,
    pub leaders_elected: u64,
    pub snapshots_taken: u64,
    pub snapshots_installed: u64,
    pub crashes: u64,
    pub disk_losses: u64,
    pub sim_seconds: f64,
    /// Wall time of the whole run (simulation and checks).
    pub wall_seconds: f64,
    /// Wall time of the simulation alone.
    pub sim_wall_seconds: f64,
    /// Wall time of the linearizability check.
    pub linearizability_seconds: f64,
    /// The linearizability check's work, the same on every machine: search
    /// steps of its hardest partition, and the peak of its memory estimate.
    #[serde(default)]
    pub linearizability_steps: u64,
    #[serde(default)]
    pub linearizability_memory_bytes: u64,
    /// Wall time of the snapshot, restore and Raft invariant checks together.
    pub invariants_seconds: f64,
    /// Windows of the run (start, end, simulated seconds) in which no client
    /// operation succeeded for longer than two election timeouts.
    #[serde(default)]
    pub unavailable_windows: Vec<(f64, f64)>,
    /// Their total, and the longest of them, in simulated seconds.
    #[serde(default)]
    pub unavailable_seconds: f64,
    #[serde(default)]
    pub longest_unavailable_seconds: f64,
}

/// Every knob of a run, enough to repeat it exactly (`snapstorm replay`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RecordedConfig {
    pub scenario: String,
    pub seed: u64,
    pub nodes: Option<u64>,
    pub duration_secs: f64,
    pub snapshot_threshold: Option<u64>,
    pub trailing_logs: Option<u64>,
    pub workload: Option<String>,
    pub bugs: Vec<String>,
    pub check_timeout_secs: f64,
    /// The fault schedule, nodes and clients that replace the seed's choices
    /// (a shrunk run's); absent for ordinary runs.
    #[serde(default, skip_serializing_if = "Overrides::is_empty")]
    pub overrides: Overrides,
}

/// Digests of the run's output files, byte for byte (FNV-1a 64, hex).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hashes {
    pub history: String,
    pub trace: String,
    pub nemesis: String,
}

impl Hashes {
    /// The digest of a file's bytes, as `results.json` records it.
    pub fn digest(bytes: &[u8]) -> String {
        format!("{:016x}", sut::fnv64(bytes))
    }

    /// Each recorded file's name with its digest.
    pub fn files(&self) -> [(&'static str, &str); 3] {
        [
            ("history.jsonl", &self.history),
            ("trace.jsonl", &self.trace),
            ("nemesis.jsonl", &self.nemesis),
        ]
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Results {
    pub scenario: String,
    pub seed: u64,
    pub verdict: Verdict,
    pub checkers: BTreeMap<String, CheckerResult>,
    pub stats: Stats,
    /// Scenario facts showing that its faults really happened.
    pub evidence: BTreeMap<String, bool>,
    /// The run did not reach its scenario's target (some evidence is unmet):
    /// whatever the verdict, it exercised less than the scenario claims.
    #[serde(default)]
    pub vacuous: bool,
    pub repro: String,
    pub config: RecordedConfig,
    /// The snapstorm version and git revision that made the run.
    pub version: String,
    pub revision: String,
    pub hashes: Hashes,
    /// The system's code probes this run hit, by name, with how often.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub probes: BTreeMap<String, u64>,
    /// Under an INVALID verdict, the failure story ([`crate::story`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub story: Option<crate::story::Story>,
    /// The process number of the final reads (Jepsen's final reads after the
    /// heal), so the report can name its lane.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_reads_process: Option<u64>,
}

impl Results {
    pub fn new(
        scenario: &str,
        seed: u64,
        checkers: Vec<(&str, CheckerResult)>,
        stats: Stats,
        evidence: Vec<(String, bool)>,
        repro: String,
    ) -> Self {
        let checkers: BTreeMap<String, CheckerResult> = checkers
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        // Invalid beats unknown beats valid: one failed check fails the run, and a
        // check that could not finish keeps the run from being called valid.
        let verdict = if checkers.values().any(|c| c.verdict == Verdict::Invalid) {
            Verdict::Invalid
        } else if checkers.values().any(|c| c.verdict == Verdict::Unknown) {
            Verdict::Unknown
        } else {
            Verdict::Valid
        };
        Results {
            scenario: scenario.to_string(),
            seed,
            verdict,
            checkers,
            stats,
            vacuous: evidence.iter().any(|(_, held)| !held),
            evidence: evidence.into_iter().collect(),
            repro,
            config: RecordedConfig::default(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            revision: env!("SNAPSTORM_GIT_REVISION").to_string(),
            hashes: Hashes::default(),
            probes: BTreeMap::new(),
            story: None,
            final_reads_process: None,
        }
    }
}
