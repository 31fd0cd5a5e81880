//! One chaos run: build the simulation from the seed, run the workload under the
//! scenario's nemesis, heal, demand liveness, take final reads, check, and write
//! the run directory.
use crate::cluster::{Cluster, ClusterSpec, Unconverged};
use crate::knobs::{self, KnobError};
use crate::nemesis::{Fault, FaultRecord, Nemesis, Planned};
use crate::overrides::Overrides;
use crate::results::{CheckerResult, Hashes, RecordedConfig, Results, Stats, Verdict};
use crate::scenario::{self, Evidence, Scenario, Setup};
use checkers::invariants::{self, RunData, SizeBounds};
use raftkv::bugs::Bugs;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::Duration;
use sut::trace::TraceRecord;
use sut::trace::{Role, TraceEvent};
use workloads::history::{to_jsonl, Event};
use workloads::{spawn_clients, spawn_final_reads, Generator, Recorder, WorkloadSpec};

/// Everything that determines a run. The same config gives the same run, byte
/// for byte.
#[derive(Clone, Debug)]
pub struct RunConfig {
    pub scenario: String,
    pub seed: u64,
    /// None: drawn from the seed out of the scenario's sizes (3, 5 or 7 for
    /// most; see [`crate::scenario::Scenario::nodes`]).
    pub nodes: Option<u64>,
    /// Length of the faulty main phase, in simulated time.
    pub duration: Duration,
    pub snapshot_threshold: Option<u64>,
    pub trailing_logs: Option<u64>,
    /// None: the scenario's choice (kv, or drawn from the seed by `swarm`).
    pub workload: Option<Generator>,
    /// Bug mutants to switch on (empty: the clean system).
    pub bugs: Bugs,
    /// Wall-time safety net of the linearizability check: past it,
    /// "unknown", marked machine-dependent. What decides is the checker's
    /// own work and memory budget (the same on every machine); this only
    /// keeps a seed under `fuzz --seed-timeout` (300 s).
    pub check_timeout: Duration,
    /// Replacements for the scenario's seed-drawn schedule, nodes and clients
    /// (set by `snapstorm shrink`; empty otherwise).
    pub overrides: Overrides,
}

impl RunConfig {
    pub fn new(scenario: &str, seed: u64) -> Self {
        RunConfig {
            scenario: scenario.to_string(),
            seed,
            nodes: None,
            duration: Duration::from_secs(50),
            snapshot_threshold: None,
            trailing_logs: None,
            workload: None,
            bugs: Bugs::NONE,
            check_timeout: Duration::from_secs(240),
            overrides: Overrides::default(),
        }
    }

    /// The exact command that repeats this run.
    pub fn repro(&self) -> String {
        let mut cmd = format!(
            "snapstorm chaos --scenario {} --seed {} --duration {}",
            self.scenario,
            self.seed,
            self.duration.as_secs_f64()
        );
        if let Some(n) = self.nodes {
            cmd.push_str(&format!(" --nodes {n}"));
        }
        if let Some(t) = self.snapshot_threshold {
            cmd.push_str(&format!(" --snapshot-threshold {t}"));
        }
        if let Some(t) = self.trailing_logs {
            cmd.push_str(&format!(" --trailing-logs {t}"));
        }
        if let Some(w) = self.workload {
            cmd.push_str(&format!(" --workload {}", w.name()));
        }
        for b in self.bugs.list() {
            cmd.push_str(&format!(" --bug {}", b.name()));
        }
        if let Some(r) = self.overrides.bound_clients {
            cmd.push_str(&format!(" --bound-clients {r}"));
        }
        let others = Overrides {
            bound_clients: None,
            ..self.overrides.clone()
        };
        if !others.is_empty() {
            cmd.push_str("  # with the overrides in results.json: use snapstorm replay DIR");
        }
        cmd
    }

    pub fn record(&self) -> RecordedConfig {
        RecordedConfig {
            scenario: self.scenario.clone(),
            seed: self.seed,
            nodes: self.nodes,
            duration_secs: self.duration.as_secs_f64(),
            snapshot_threshold: self.snapshot_threshold,
            trailing_logs: self.trailing_logs,
            workload: self.workload.map(|w| w.name().to_string()),
            bugs: self
                .bugs
                .list()
                .iter()
                .map(|b| b.name().to_string())
                .collect(),
            check_timeout_secs: self.check_timeout.as_secs_f64(),
            overrides: self.overrides.clone(),
        }
    }

    /// The config a recorded run used. Every knob is checked as the command
    /// line checks its flag ([`crate::knobs::check_record`]); the error names
    /// the field. `chaos` builds its config through here too.
    pub fn from_record(r: &RecordedConfig) -> Result<RunConfig, KnobError> {
        let knobs::Parsed { workload, bugs } = knobs::check_record(r)?;
        Ok(RunConfig {
            scenario: r.scenario.clone(),
            seed: r.seed,
            nodes: r.nodes,
            duration: Duration::from_secs_f64(r.duration_secs),
            snapshot_threshold: r.snapshot_threshold,
            trailing_logs: r.trailing_logs,
            workload,
            bugs,
            check_timeout: Duration::from_secs_f64(r.check_timeout_secs),
            overrides: r.overrides.clone(),
        })
    }

    /// `store/<scenario>-seed<N>`, with the mutants' names after it
    /// (`-<bug>-<bug>`), so a mutant run never overwrites the clean run.
    pub fn default_out(&self) -> PathBuf {
        let mut name = format!("store/{}-seed{}", self.scenario, self.seed);
        for b in self.bugs.list() {
            name.push('-');
            name.push_str(b.name());
        }
        PathBuf::from(name)
    }
}

pub struct RunOutcome {
    pub results: Results,
    pub history: Vec<Event>,
    pub trace: Vec<TraceRecord>,
    pub nemesis: Vec<FaultRecord>,
}

/// How long after the final heal the cluster gets to elect a leader and bring
/// every node to the same state: 60 election timeouts. Clean runs that recover
/// do so within 13 s (measured over 200 runs of every scenario); a run that does
/// not recover spends the whole bound here, sometimes in a message storm whose
/// cost grows faster than linearly with it.
const LIVENESS_BOUND: Duration = Duration::from_secs(60);
/// How long clients get to finish their operation in flight once told to stop.
const CLIENT_DRAIN: Duration = Duration::from_secs(50);
/// The process number of the final reader (clients use 0.. upwards).
const FINAL_READS_PROCESS: u64 = 1_000_000;

/// Entries a leader may hold beyond the snapshot threshold while they wait to
/// commit: every client's retries of its one operation, plus no-ops.
fn in_flight_bound(w: &WorkloadSpec) -> u64 {
    let retries = (w.op_timeout.as_millis() / w.request_timeout.as_millis().max(1)) as u64 + 1;
    u64::from(w.slots()) * retries * 2 + 16
}

fn finding_result(f: &invariants::Finding) -> CheckerResult {
    let mut r = if f.passed() {
        CheckerResult::valid(f.summary())
    } else {
        CheckerResult::invalid(f.summary())
    };
    if !f.passed() {
        r.data = serde_json::to_value(&f.violations).ok();
    }
    r
}

/// The availability checker's bounds for this cluster's timing: a leader
/// steps down within two check-quorum periods (one election timeout each) of
/// losing its majority, plus two ticks and the message latency and two
/// simulation steps of slack; clients going without any successful operation
/// for two election timeouts is an unavailability window. The latency is the
/// most any latency fault of the plan allows (swarm seed 314998: a follower's
/// last answer before it halted arrived up to 400 ms late, and the leader
/// stepped down 20 ms after a bound built on the 75 ms base).
fn availability_timing(spec: &ClusterSpec, plan: &[Planned]) -> invariants::Timing {
    let election = spec.tick * spec.election_tick;
    let latency = (plan.iter())
        .filter_map(|p| match p.fault {
            Fault::Latency { max_ms } => Some(Duration::from_millis(max_ms)),
            _ => None,
        })
        .fold(spec.max_latency, Duration::max);
    let step_down = election * 2 + spec.tick * 2 + latency + spec.step * 2;
    invariants::Timing {
        step_down_ns: step_down.as_nanos() as u64,
        window_ns: (election * 2).as_nanos() as u64,
    }
}

/// How long the final reads may take.
const FINAL_READS: Duration = Duration::from_secs(100);

/// What a run is built from: the cluster, the clients and the fault plan.
pub struct Built {
    pub spec: ClusterSpec,
    pub workload: WorkloadSpec,
    pub plan: Vec<Planned>,
}

/// The scenario's draws from the seed, then the explicit knobs, then the
/// overrides. Errors only for bad overrides.
pub fn build(cfg: &RunConfig, scenario: &Scenario) -> Result<Built, String> {
    let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
    let mut spec = ClusterSpec::new(scenario.nodes(cfg.seed, cfg.nodes), cfg.seed);
    spec.snapshot_threshold = 3;
    spec.trailing_logs = 1;
    let mut workload = WorkloadSpec::new(Generator::Kv);
    let mut setup = Setup {
        rng: &mut rng,
        duration: cfg.duration,
        nodes_given: cfg.nodes.is_some(),
        spec: &mut spec,
        workload: &mut workload,
        plan: Vec::new(),
    };
    scenario.build(&mut setup);
    let mut plan = std::mem::take(&mut setup.plan);
    spec.draw_wal_segment_bytes(cfg.seed);
    // Explicit knobs win over the scenario's (and swarm's) choices.
    if let Some(t) = cfg.snapshot_threshold {
        spec.snapshot_threshold = t.max(1);
    }
    if let Some(t) = cfg.trailing_logs {
        spec.trailing_logs = t;
    }
    spec.bugs = cfg.bugs;
    if let Some(g) = cfg.workload {
        if g != workload.generator {
            workload = WorkloadSpec {
                clients: workload.clients,
                ..WorkloadSpec::new(g)
            };
        }
    }
    // Edge values follow the cluster and the run: big values are sized by the
    // snapshot chunk, and the late key is written in the main phase's last part.
    workload.chunk_size = spec.snapshot_chunk_size;
    workload.late_after = cfg.duration.mul_f64(1.0 - workloads::generator::LATE_PHASE);
    cfg.overrides.apply(&mut spec, &mut workload, &mut plan)?;
    workload.draw_bound(&spec.node_ids(), cfg.seed);
    Ok(Built {
        spec,
        workload,
        plan,
    })
}

/// Runs one chaos run. Errors only for bad configuration (unknown scenario).
pub fn run(cfg: &RunConfig) -> Result<RunOutcome, String> {
    let scenario = scenario::find(&cfg.scenario).ok_or_else(|| {
        format!(
            "unknown scenario '{}'; valid scenarios: {}",
            cfg.scenario,
            scenario::names().join(", ")
        )
    })?;
    let wall = std::time::Instant::now(); // determinism-ok: reported, never fed to the sim
    let Built {
        spec,
        workload,
        plan,
    } = build(cfg, scenario)?;
    let timing = availability_timing(&spec, &plan);

    // Probes count what the simulation does; they are taken before any checker runs.
    raftkv::probe::reset();
    let mut cluster = Cluster::new(spec.clone());
    let recorder = Recorder::shared();
    let stop = workloads::StopFlag::default();
    let nodes = spec.node_ids();
    let protocol = cluster.client_protocol();
    spawn_clients(
        &mut cluster.sim,
        &nodes,
        &protocol,
        &workload,
        cfg.seed,
        recorder.clone(),
        stop.clone(),
    );
    let mut nemesis = Nemesis::new(
        plan,
        ChaCha8Rng::seed_from_u64(cfg.seed ^ 0x6e656d),
        spec.max_latency,
    );
    let admin_stop = workloads::StopFlag::default();
    if nemesis.needs_admin() {
        let queue = crate::admin::AdminQueue::default();
        crate::admin::spawn_admin(
            &mut cluster.sim,
            &nodes,
            &protocol,
            queue.clone(),
            admin_stop.clone(),
        );
        nemesis.set_admin(queue);
    }

    let mut checkers = Vec::new();
    let mut network = crate::network::NetworkLog::default();
    let sim_result = drive(
        &mut cluster,
        &mut nemesis,
        &mut network,
        cfg,
        [&stop, &admin_stop],
        &recorder,
        &workload,
    );
    let liveness = match sim_result {
        Ok(l) => l,
        Err(e) => {
            checkers.push((
                "simulation",
                CheckerResult::invalid(format!("the simulation failed: {e}")),
            ));
            CheckerResult::unknown("not reached: the simulation failed")
        }
    };
    checkers.push(("liveness", liveness));

    let sim_wall = wall.elapsed();
    let probes: std::collections::BTreeMap<String, u64> = raftkv::probe::counts()
        .into_iter()
        .map(|(p, n)| (p.name().to_string(), n))
        .collect();
    let history = recorder.borrow().events().to_vec();
    let trace = cluster.trace.borrow().clone();
    let t = std::time::Instant::now(); // determinism-ok: timing only
    let (lin, lin_work) = check_linearizability(&history, cfg.check_timeout);
    checkers.push(("linearizability", lin));
    let lin_wall = t.elapsed();
    checkers.push(("halts", check_halts(&trace)));
    let run_data = RunData {
        trace: &trace,
        history: &history,
        final_reads_process: Some(FINAL_READS_PROCESS),
        bounds: SizeBounds {
            snapshot_threshold: spec.snapshot_threshold,
            trailing_logs: spec.trailing_logs,
            in_flight: in_flight_bound(&workload),
        },
        initial_voters: &nodes,
        network: Some(&network.states),
        timing: Some(timing),
    };
    let t = std::time::Instant::now(); // determinism-ok: timing only
    for finding in invariants::check_all(&run_data) {
        checkers.push((finding.check, finding_result(&finding)));
    }
    let inv_wall = t.elapsed();
    let unavailable = invariants::unavailability_windows(&run_data, timing.window_ns);

    let evidence: Vec<(String, bool)> = scenario
        .evidence(&Evidence {
            trace: &trace,
            faults: &nemesis.log,
            probes: &probes,
            nodes: spec.nodes,
        })
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    let mut stats = stats(&history, &trace, &nemesis, &cluster, wall.elapsed());
    stats.sim_wall_seconds = sim_wall.as_secs_f64();
    stats.linearizability_seconds = lin_wall.as_secs_f64();
    stats.linearizability_steps = lin_work.steps;
    stats.linearizability_memory_bytes = lin_work.memory as u64;
    stats.invariants_seconds = inv_wall.as_secs_f64();
    let secs = |ns: u64| ns as f64 / 1e9;
    stats.unavailable_windows = (unavailable.iter())
        .map(|(a, b)| (secs(*a), secs(*b)))
        .collect();
    stats.unavailable_seconds = unavailable.iter().map(|(a, b)| secs(b - a)).sum();
    stats.longest_unavailable_seconds = (unavailable.iter())
        .map(|(a, b)| secs(b - a))
        .fold(0.0, f64::max);
    let results = Results::new(
        &cfg.scenario,
        cfg.seed,
        checkers,
        stats,
        evidence,
        cfg.repro(),
    );
    let mut results = results;
    results.config = cfg.record();
    results.final_reads_process = Some(FINAL_READS_PROCESS);
    results.hashes = hashes(&history, &trace, &nemesis.log);
    results.probes = probes;
    results.story = crate::story::build(&results, &history, &trace, &nemesis.log);
    Ok(RunOutcome {
        results,
        history,
        trace,
        nemesis: nemesis.log,
    })
}

/// Main phase, heal, client drain, liveness and final reads. Returns the liveness
/// verdict; an Err is a failed simulation (a node panicked).
fn drive(
    cluster: &mut Cluster,
    nemesis: &mut Nemesis,
    network: &mut crate::network::NetworkLog,
    cfg: &RunConfig,
    stops: [&workloads::StopFlag; 2],
    recorder: &workloads::SharedRecorder,
    workload: &WorkloadSpec,
) -> Result<CheckerResult, String> {
    while cluster.elapsed() < cfg.duration {
        nemesis.on_step(cluster);
        network.observe(cluster, nemesis);
        cluster.step()?;
    }
    nemesis.heal_all(cluster);
    cluster.heal();
    network.observe(cluster, nemesis);
    for stop in stops {
        stop.set(true);
    }
    let drain_until = cluster.elapsed() + CLIENT_DRAIN;
    while !cluster.step()? && cluster.elapsed() < drain_until {
        // Halted nodes come back over the next steps.
        network.observe(cluster, nemesis);
    }

    let liveness = match cluster.converge(LIVENESS_BOUND) {
        Ok(digest) => CheckerResult::valid(format!(
            "after the final heal every node applied the leader's commit index with state digest {digest:016x}"
        )),
        Err(Unconverged::Diverged(why)) => {
            CheckerResult::invalid(format!("after the final heal {why}"))
        }
        Err(Unconverged::Pending(why)) => CheckerResult::invalid(format!(
            "the cluster did not recover within {}s of the final heal: {why}",
            LIVENESS_BOUND.as_secs()
        )),
    };
    if liveness.verdict == Verdict::Valid {
        let done = workloads::StopFlag::default();
        let process = FINAL_READS_PROCESS;
        let protocol = cluster.client_protocol();
        spawn_final_reads(
            &mut cluster.sim,
            &cluster.spec.node_ids(),
            &protocol,
            workload.keys(),
            process,
            recorder.clone(),
            done.clone(),
        );
        let until = cluster.elapsed() + FINAL_READS;
        while !done.get() && cluster.elapsed() < until {
            cluster.step()?;
        }
        let keys = workload.keys().len();
        if let Some(why) = final_reads_unserved(recorder.borrow().events(), keys) {
            return Ok(CheckerResult::invalid(format!(
                "the cluster recovered after the final heal but {why}: a healed cluster must serve reads"
            )));
        }
    }
    Ok(liveness)
}

/// Why the final reads show the healed cluster unavailable: each of the `keys`
/// final reads must complete ok (Jepsen's final reads). None when they did.
fn final_reads_unserved(history: &[Event], keys: usize) -> Option<String> {
    use workloads::history::EventKind;
    let finals = || history.iter().filter(|e| e.process == FINAL_READS_PROCESS);
    let ok = finals().filter(|e| e.kind == EventKind::Ok).count();
    if ok == keys {
        return None;
    }
    let failed = finals().filter(|e| matches!(e.kind, EventKind::Fail | EventKind::Info));
    let first = failed
        .clone()
        .next()
        .map(|e| match &e.error {
            Some(reason) => format!(" (the first, of key {}: {reason})", e.key),
            None => format!(" (the first, of key {})", e.key),
        })
        .unwrap_or_default();
    Some(format!(
        "only {ok} of {keys} final reads succeeded within {} s, {} failed{first}",
        FINAL_READS.as_secs(),
        failed.count()
    ))
}

/// The verdict, and what the check spent (the hardest partition's steps and
/// the peak of the checker's memory estimate).
fn check_linearizability(
    history: &[Event],
    timeout: Duration,
) -> (CheckerResult, checkers::linearizability::Work) {
    use checkers::linearizability::{check_measured, CheckOptions, Verdict as LinVerdict};
    let bytes = to_jsonl(history);
    let (ops, numbers) = match checkers::parse::parse_snapstorm_numbered(bytes.as_bytes()) {
        Ok(parsed) => (parsed.ops, parsed.numbers),
        Err(e) => {
            let why = format!("history could not be read: {e}");
            return (CheckerResult::unknown(why), Default::default());
        }
    };
    let options = CheckOptions {
        wall_time: Some(timeout),
        ..CheckOptions::default()
    };
    let (verdict, work) = check_measured(&checkers::model::Kv, &ops, &options);
    let machine_dependent = verdict.machine_dependent();
    let mut result = match verdict {
        LinVerdict::Linearizable => CheckerResult::valid(format!(
            "{} operations linearize ({} search steps on the hardest key)",
            ops.len(),
            work.steps
        )),
        LinVerdict::NotLinearizable(cx) => {
            // Operations named by their invocation's index in history.jsonl.
            let cx = cx.renumbered(&numbers);
            let mut r = CheckerResult::invalid(format!(
                "not linearizable: key {}: {} operations linearize, then none of {} can go next",
                cx.partition.as_deref().unwrap_or("(whole history)"),
                cx.longest_prefix.len(),
                cx.stuck.len()
            ));
            r.data = serde_json::to_value(&cx).ok();
            r
        }
        LinVerdict::Unknown { reason, .. } => {
            CheckerResult::unknown(format!("check did not finish: {reason}"))
        }
    };
    result.machine_dependent = machine_dependent;
    (result, work)
}

/// A halt is how a node refuses storage it cannot trust; it is a bug only when
/// no injected disk fault explains it.
fn check_halts(trace: &[TraceRecord]) -> CheckerResult {
    let (mut expected, mut unexplained) = (0, Vec::new());
    for r in trace {
        if let TraceEvent::Halt {
            reason,
            injected_faults,
        } = &r.event
        {
            if *injected_faults > 0 {
                expected += 1;
            } else {
                unexplained.push(format!("n{} at {} ns: {reason}", r.node, r.time));
            }
        }
    }
    if unexplained.is_empty() {
        CheckerResult::valid(format!(
            "no node halted without an injected disk fault ({expected} halts on injected faults)"
        ))
    } else {
        CheckerResult::invalid(format!(
            "nodes halted with no injected fault to explain it: {}",
            unexplained.join("; ")
        ))
    }
}

fn stats(
    history: &[Event],
    trace: &[TraceRecord],
    nemesis: &Nemesis,
    cluster: &Cluster,
    wall: Duration,
) -> Stats {
    use workloads::history::EventKind;
    let count = |k: EventKind| history.iter().filter(|e| e.kind == k).count() as u64;
    let leaders: BTreeSet<(u64, u64)> = trace
        .iter()
        .filter_map(|r| match r.event {
            TraceEvent::Role {
                role: Role::Leader,
                term,
                ..
            } => Some((term, r.node)),
            _ => None,
        })
        .collect();
    let events = |f: fn(&TraceEvent) -> bool| trace.iter().filter(|r| f(&r.event)).count() as u64;
    Stats {
        nodes: cluster.spec.nodes,
        ops: count(EventKind::Invoke),
        ok: count(EventKind::Ok),
        fail: count(EventKind::Fail),
        info: count(EventKind::Info),
        leaders_elected: leaders.len() as u64,
        snapshots_taken: events(|e| matches!(e, TraceEvent::SnapshotCreated { .. })),
        snapshots_installed: events(|e| matches!(e, TraceEvent::SnapshotInstalled { .. })),
        crashes: nemesis.crashes,
        disk_losses: nemesis.disk_losses,
        sim_seconds: cluster.elapsed().as_secs_f64(),
        wall_seconds: wall.as_secs_f64(),
        sim_wall_seconds: 0.0,
        linearizability_seconds: 0.0,
        invariants_seconds: 0.0,
        ..Stats::default()
    }
}

/// Writes `history.jsonl`, `trace.jsonl`, `nemesis.jsonl` and `results.json`.
pub fn write(outcome: &RunOutcome, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join("history.jsonl"), to_jsonl(&outcome.history))?;
    std::fs::write(dir.join("trace.jsonl"), jsonl(&outcome.trace))?;
    std::fs::write(dir.join("nemesis.jsonl"), jsonl(&outcome.nemesis))?;
    // The story ends with the commands for this directory.
    let mut results = outcome.results.clone();
    if let Some(story) = &mut results.story {
        story.commands = crate::story::commands(dir);
    }
    let results = serde_json::to_string_pretty(&results).expect("results serialise");
    std::fs::write(dir.join("results.json"), results + "\n")
}

/// Digests of exactly the bytes `write` puts in the files.
pub fn hashes(history: &[Event], trace: &[TraceRecord], nemesis: &[FaultRecord]) -> Hashes {
    let h = |s: String| Hashes::digest(s.as_bytes());
    Hashes {
        history: h(to_jsonl(history)),
        trace: h(jsonl(trace)),
        nemesis: h(jsonl(nemesis)),
    }
}

fn jsonl<T: serde::Serialize>(items: &[T]) -> String {
    let mut out = String::new();
    for i in items {
        out.push_str(&serde_json::to_string(i).expect("records serialise"));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use workloads::history::{EventKind, Function};

    fn read(index: u64, kind: EventKind, key: &str, error: Option<&str>) -> Event {
        Event {
            index,
            process: FINAL_READS_PROCESS,
            kind,
            f: Function::Get,
            key: key.into(),
            value: None,
            time: index,
            node: None,
            error: error.map(str::to_string),
        }
    }

    #[test]
    fn final_reads_that_fail_or_never_run_make_the_cluster_unavailable() {
        let served = vec![
            read(0, EventKind::Invoke, "a", None),
            read(1, EventKind::Ok, "a", None),
            read(2, EventKind::Invoke, "b", None),
            read(3, EventKind::Ok, "b", None),
        ];
        assert_eq!(final_reads_unserved(&served, 2), None);
        let mut one_failed = served.clone();
        one_failed[3] = read(3, EventKind::Fail, "b", Some("no leader answered"));
        let why = final_reads_unserved(&one_failed, 2).expect("unavailable");
        assert!(
            why.contains("only 1 of 2") && why.contains("key b: no leader answered"),
            "{why}"
        );
        let why = final_reads_unserved(&served[..2], 2).expect("one never ran");
        assert!(why.contains("only 1 of 2"), "{why}");
    }
}
