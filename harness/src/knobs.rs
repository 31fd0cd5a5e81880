//! The limits of a run's knobs, in one place. The command line (`chaos` and
//! `fuzz` flags) and a recorded config (`results.json`, read by `replay`,
//! `shrink` and `regress add`; a regression corpus entry) are checked by the
//! same code: [`crate::run::RunConfig::from_record`] calls [`check_record`],
//! and `chaos` builds a record from its flags and goes through it too, while
//! clap's parsers for the flags use the same per-knob functions.
use crate::results::RecordedConfig;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::RangeInclusive;

/// Cluster sizes a run may have (`--nodes`).
pub const NODES: [&str; 3] = ["3", "5", "7"];
/// Simulated seconds of the main phase (`--duration`).
pub const DURATION_SECS: RangeInclusive<f64> = 0.5..=3600.0;
/// Wall seconds the linearizability check may take (recorded, not a flag).
pub const CHECK_TIMEOUT_SECS: RangeInclusive<f64> = 0.001..=1e6;
/// Workload generators (`--workload`).
pub const WORKLOADS: [&str; 3] = ["register", "kv", "list-append"];

/// A knob out of range: which one and why. Displayed as the recorded
/// config's field (`config.duration_secs: ...`); [`KnobError::flag_message`]
/// names the command-line flag instead.
#[derive(Clone, Debug, PartialEq)]
pub struct KnobError {
    /// The field of `results.json`'s `config`.
    pub field: &'static str,
    /// The flag that sets it on the command line (empty: none).
    pub flag: &'static str,
    pub problem: String,
}

impl fmt::Display for KnobError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "field config.{}: {}", self.field, self.problem)?;
        if !self.flag.is_empty() {
            write!(f, " (as for {})", self.flag)?;
        }
        Ok(())
    }
}

impl KnobError {
    fn new(field: &'static str, flag: &'static str, problem: String) -> Self {
        KnobError {
            field,
            flag,
            problem,
        }
    }

    /// The error as the command line reports it: `--duration: ...`.
    pub fn flag_message(&self) -> String {
        if self.flag.is_empty() {
            format!("{}: {}", self.field, self.problem)
        } else {
            format!("{}: {}", self.flag, self.problem)
        }
    }
}

/// A number as a person would write it: `1e300`, not 300 digits.
pub fn number(v: f64) -> String {
    if v.is_finite() && v.abs() >= 1e6 {
        format!("{v:e}")
    } else {
        format!("{v}")
    }
}

/// A main phase's simulated seconds.
pub fn duration_secs(v: f64) -> Result<f64, String> {
    if !DURATION_SECS.contains(&v) {
        return Err(format!(
            "{} is outside {}..={} simulated seconds",
            number(v),
            DURATION_SECS.start(),
            DURATION_SECS.end()
        ));
    }
    Ok(v)
}

/// A cluster size.
pub fn nodes(n: u64) -> Result<u64, String> {
    if !NODES.contains(&n.to_string().as_str()) {
        return Err(format!("{n} nodes: a cluster has {}", NODES.join(", ")));
    }
    Ok(n)
}

pub fn snapshot_threshold(t: u64) -> Result<u64, String> {
    if t == 0 {
        return Err("0: a snapshot is taken after at least 1 applied entry".into());
    }
    Ok(t)
}

pub fn workload(w: &str) -> Result<workloads::Generator, String> {
    workloads::Generator::parse(w)
        .ok_or_else(|| format!("unknown workload '{w}'; valid: {}", WORKLOADS.join(", ")))
}

pub fn bug(b: &str) -> Result<raftkv::bugs::Bug, String> {
    raftkv::bugs::Bug::parse(b).ok_or_else(|| {
        format!(
            "unknown bug mutant '{b}'; valid: {}",
            raftkv::bugs::Bug::names().join(", ")
        )
    })
}

pub fn scenario(s: &str) -> Result<(), String> {
    match crate::scenario::find(s) {
        Some(_) => Ok(()),
        None => Err(format!(
            "unknown scenario '{s}'; valid scenarios: {}",
            crate::scenario::names().join(", ")
        )),
    }
}

pub fn check_timeout_secs(v: f64) -> Result<f64, String> {
    if !CHECK_TIMEOUT_SECS.contains(&v) {
        return Err(format!(
            "{} is outside {}..={} wall seconds",
            number(v),
            CHECK_TIMEOUT_SECS.start(),
            CHECK_TIMEOUT_SECS.end()
        ));
    }
    Ok(v)
}

/// The knobs `chaos` and `fuzz` both take beyond the scenario, seed,
/// duration and mutants (None: the scenario's choice). A campaign records them
/// in `campaign.json` and hands them to every seed's run, whose
/// `results.json` records them again, so `replay` repeats it exactly.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Knobs {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nodes: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot_threshold: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trailing_logs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workload: Option<String>,
}

impl Knobs {
    /// From the command line's `--nodes` (a string of [`NODES`]).
    pub fn from_flags(
        nodes: Option<&str>,
        snapshot_threshold: Option<u64>,
        trailing_logs: Option<u64>,
        workload: Option<String>,
    ) -> Result<Knobs, String> {
        let nodes = nodes
            .map(|n| {
                n.parse::<u64>()
                    .map_err(|_| format!("--nodes: '{n}' is not a number"))
            })
            .transpose()?;
        Ok(Knobs {
            nodes,
            snapshot_threshold,
            trailing_logs,
            workload,
        })
    }

    /// Sets them in a recorded config (which [`check_record`] then checks).
    pub fn apply(&self, r: &mut RecordedConfig) {
        r.nodes = self.nodes;
        r.snapshot_threshold = self.snapshot_threshold;
        r.trailing_logs = self.trailing_logs;
        r.workload = self.workload.clone();
    }

    /// The `chaos` flags that set them, in a fixed order.
    pub fn flags(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut push = |flag: &str, v: Option<String>| {
            if let Some(v) = v {
                out.push(flag.to_string());
                out.push(v);
            }
        };
        push("--nodes", self.nodes.map(|n| n.to_string()));
        push(
            "--snapshot-threshold",
            self.snapshot_threshold.map(|t| t.to_string()),
        );
        push("--trailing-logs", self.trailing_logs.map(|t| t.to_string()));
        push("--workload", self.workload.clone());
        out
    }
}

/// What [`check_record`] parsed on the way.
#[derive(Debug)]
pub struct Parsed {
    pub workload: Option<workloads::Generator>,
    pub bugs: raftkv::bugs::Bugs,
}

/// Checks every knob of a recorded config; the first one out of range is the error.
pub fn check_record(r: &RecordedConfig) -> Result<Parsed, KnobError> {
    let at = |field, flag| move |problem| KnobError::new(field, flag, problem);
    scenario(&r.scenario).map_err(at("scenario", "--scenario"))?;
    if let Some(n) = r.nodes {
        nodes(n).map_err(at("nodes", "--nodes"))?;
    }
    duration_secs(r.duration_secs).map_err(at("duration_secs", "--duration"))?;
    if let Some(t) = r.snapshot_threshold {
        snapshot_threshold(t).map_err(at("snapshot_threshold", "--snapshot-threshold"))?;
    }
    let workload = r
        .workload
        .as_deref()
        .map(workload)
        .transpose()
        .map_err(at("workload", "--workload"))?;
    let bugs = r
        .bugs
        .iter()
        .map(|b| bug(b))
        .collect::<Result<_, _>>()
        .map_err(at("bugs", "--bug"))?;
    check_timeout_secs(r.check_timeout_secs).map_err(at("check_timeout_secs", ""))?;
    Ok(Parsed { workload, bugs })
}

/// clap's parser for `--duration`: a number, then [`duration_secs`].
pub fn parse_duration(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    duration_secs(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> RecordedConfig {
        crate::run::RunConfig::new("lagging-follower", 1).record()
    }

    #[test]
    fn a_recorded_run_passes_and_each_bad_knob_is_named() {
        assert!(check_record(&record()).is_ok());
        type Edit = fn(&mut RecordedConfig);
        let cases: Vec<(Edit, &str, &str)> = vec![
            (
                |r| r.duration_secs = 1e300,
                "duration_secs",
                "outside 0.5..=3600",
            ),
            (
                |r| r.duration_secs = 1e9,
                "duration_secs",
                "outside 0.5..=3600",
            ),
            (|r| r.duration_secs = f64::NAN, "duration_secs", "outside"),
            (|r| r.duration_secs = 0.1, "duration_secs", "outside"),
            (|r| r.nodes = Some(0), "nodes", "a cluster has 3, 5, 7"),
            (|r| r.nodes = Some(4), "nodes", "a cluster has 3, 5, 7"),
            (
                |r| r.snapshot_threshold = Some(0),
                "snapshot_threshold",
                "at least 1",
            ),
            (
                |r| r.workload = Some("queue".into()),
                "workload",
                "unknown workload 'queue'",
            ),
            (
                |r| r.bugs = vec!["nope".into()],
                "bugs",
                "unknown bug mutant 'nope'",
            ),
            (
                |r| r.scenario = "nope".into(),
                "scenario",
                "unknown scenario 'nope'",
            ),
            (
                |r| r.check_timeout_secs = f64::NAN,
                "check_timeout_secs",
                "outside",
            ),
        ];
        for (edit, field, problem) in cases {
            let mut r = record();
            edit(&mut r);
            let e = check_record(&r).unwrap_err();
            assert_eq!(e.field, field, "{e}");
            assert!(e.problem.contains(problem), "{e}");
            assert!(
                e.to_string()
                    .starts_with(&format!("field config.{field}: ")),
                "{e}"
            );
        }
    }

    #[test]
    fn knobs_become_flags_and_a_record_in_the_same_order() {
        let k = Knobs::from_flags(Some("5"), Some(7), Some(0), Some("register".into())).unwrap();
        assert_eq!(
            k.flags().join(" "),
            "--nodes 5 --snapshot-threshold 7 --trailing-logs 0 --workload register"
        );
        let mut r = record();
        k.apply(&mut r);
        assert_eq!(
            (r.nodes, r.snapshot_threshold, r.trailing_logs),
            (Some(5), Some(7), Some(0))
        );
        assert!(check_record(&r).is_ok());
        assert!(Knobs::default().flags().is_empty());
        assert!(Knobs::from_flags(Some("x"), None, None, None)
            .unwrap_err()
            .contains("not a number"));
        let bad = Knobs {
            nodes: Some(4),
            ..Knobs::default()
        };
        let mut r = record();
        bad.apply(&mut r);
        assert_eq!(
            check_record(&r).unwrap_err().flag_message(),
            "--nodes: 4 nodes: a cluster has 3, 5, 7"
        );
    }

    #[test]
    fn the_flag_parser_has_the_same_limits() {
        assert_eq!(parse_duration("3600"), Ok(3600.0));
        assert!(parse_duration("1e9")
            .unwrap_err()
            .contains("outside 0.5..=3600"));
        assert!(parse_duration("x").unwrap_err().contains("not a number"));
        assert_eq!(
            parse_duration("1e300").unwrap_err(),
            "1e300 is outside 0.5..=3600 simulated seconds"
        );
        let mut r = record();
        r.duration_secs = 3600.5;
        assert_eq!(
            check_record(&r).unwrap_err().flag_message(),
            format!("--duration: {}", parse_duration("3600.5").unwrap_err())
        );
    }
}
