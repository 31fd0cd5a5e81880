//! `snapstorm check`: judges recorded histories for linearizability.
use crate::linearizability::{
    check_measured, CheckOptions, Counterexample, Verdict, Work, DEFAULT_MAX_STEPS,
    DEFAULT_MEMORY_LIMIT,
};
use crate::model::{Kv, Model, Register, StringKv};
use crate::parse::{
    parse_etcd_numbered, parse_jepsen_kv_numbered, parse_jepsen_numbered, parse_snapstorm_numbered,
    InputError, Numbered,
};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// History format (and so the model it is checked against).
    #[arg(long, value_enum)]
    pub format: Format,
    /// Check the whole history at once instead of key by key.
    #[arg(long)]
    pub no_partition: bool,
    /// Work budget: search steps each partition (key) may take; past it,
    /// verdict `unknown`, the same on every machine.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_MAX_STEPS)]
    pub steps: u64,
    /// Memory budget: MiB each partition's search may hold, in the checker's
    /// own estimate of what it stores; past it, `unknown`.
    #[arg(long, value_name = "MIB", default_value_t = DEFAULT_MEMORY_LIMIT >> 20)]
    pub memory: usize,
    /// Wall-time safety net: give up on a file after this many seconds
    /// (`unknown`, and the one verdict that may differ between machines).
    #[arg(long, value_name = "S")]
    pub timeout: Option<f64>,
    /// Print one JSON verdict per file (with the counterexample) instead.
    #[arg(long)]
    pub json: bool,
    /// History files to check.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Jepsen etcd logs: one register with read/write/cas.
    JepsenEtcd,
    /// Jepsen EDN maps: string keys with get/put/append (Porcupine kv).
    JepsenKv,
    /// A standard Jepsen history.edn: Knossos registers (:read/:write/:cas,
    /// plain or as independent [key value] tuples) or single-operation :txns
    /// (Elle's list-append and rw-register).
    Jepsen,
    /// The project's history.jsonl: get/put/append/cas/delete.
    Snapstorm,
}

/// Reads `path` in `format` and checks it: its verdict, or why it could not
/// be checked.
pub fn check_file(
    path: &Path,
    format: Format,
    options: &CheckOptions,
) -> Result<Verdict, InputError> {
    check_file_measured(path, format, options).map(|(v, _)| v)
}

/// [`check_file`], and what the check spent.
pub fn check_file_measured(
    path: &Path,
    format: Format,
    options: &CheckOptions,
) -> Result<(Verdict, Work), InputError> {
    let bytes = std::fs::read(path).map_err(|e| InputError {
        line: None,
        message: format!("cannot read: {e}"),
    })?;
    Ok(match format {
        Format::JepsenEtcd => run_model(&Register, parse_etcd_numbered(&bytes)?, options),
        Format::JepsenKv => run_model(&StringKv, parse_jepsen_kv_numbered(&bytes)?, options),
        Format::Jepsen => run_model(&Kv, parse_jepsen_numbered(&bytes)?, options),
        Format::Snapstorm => run_model(&Kv, parse_snapstorm_numbered(&bytes)?, options),
    })
}

/// Checks, naming the counterexample's operations by their numbers in the
/// input.
fn run_model<M: Model>(
    model: &M,
    parsed: Numbered<M::Input, M::Output>,
    options: &CheckOptions,
) -> (Verdict, Work) {
    match check_measured(model, &parsed.ops, options) {
        (Verdict::NotLinearizable(cx), work) => (
            Verdict::NotLinearizable(Box::new(cx.renumbered(&parsed.numbers))),
            work,
        ),
        other => other,
    }
}

pub fn run(args: CheckArgs) -> i32 {
    let mut options = CheckOptions {
        partition: !args.no_partition,
        ..CheckOptions::default()
    };
    if let Some(s) = args.timeout {
        match Duration::try_from_secs_f64(s) {
            Ok(d) => options.wall_time = Some(d),
            Err(_) => {
                print_err("error: --timeout must be a non-negative number of seconds\n");
                return 2;
            }
        }
    }
    options.max_steps = Some(args.steps);
    options.memory_limit = Some(args.memory.saturating_mul(1 << 20));
    let (mut bad_input, mut violation, mut unknown) = (false, false, false);
    for file in &args.files {
        let start = Instant::now();
        let result = check_file_measured(file, args.format, &options);
        let elapsed = start.elapsed();
        match &result {
            Err(e) => {
                bad_input = true;
                print_err(&format!("error: {}: {e}\n", file.display()));
            }
            Ok((Verdict::Linearizable, _)) => {}
            Ok((Verdict::NotLinearizable(_), _)) => violation = true,
            Ok((Verdict::Unknown { .. }, _)) => unknown = true,
        }
        if args.json {
            let verdict = result.as_ref().ok().map(|(v, _)| v);
            let work = result.as_ref().ok().map(|(_, w)| w);
            let line = serde_json::json!({
                "file": file,
                "verdict": verdict,
                "work": work,
                "seconds": elapsed.as_secs_f64(),
            });
            print_out(&format!("{line}\n"));
        } else if let Ok((v, work)) = &result {
            print_verdict(file, v, work, elapsed);
        }
    }
    if bad_input {
        2
    } else if violation {
        1
    } else if unknown {
        3
    } else {
        0
    }
}

/// Writes to stdout. A closed pipe (`snapstorm check ... | head -1`) is not
/// an error: the output is dropped, the work and the exit code stay as they
/// are. Rust ignores SIGPIPE, so a write to a closed pipe returns `EPIPE`,
/// on which `println!` would panic.
pub fn print_out(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    // Any other write error (a full disk) loses output the same way; the
    // verdict is still the exit code.
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// Writes to stderr, as [`print_out`] to stdout (`2>&1 | head` must not
/// panic either).
pub fn print_err(text: &str) {
    use std::io::Write;
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// `(0.2 ms, 85 steps)`: the wall time, and the search steps of the
/// partition that took the most (what `--steps` bounds).
fn print_verdict(file: &Path, verdict: &Verdict, work: &Work, elapsed: Duration) {
    let spent = format!(
        "({:.1} ms, {} steps)",
        elapsed.as_secs_f64() * 1e3,
        work.steps
    );
    let file = file.display();
    print_out(&match verdict {
        Verdict::Linearizable => format!("{file}: linearizable {spent}\n"),
        Verdict::Unknown { reason, .. } => format!("{file}: unknown: {reason} {spent}\n"),
        Verdict::NotLinearizable(c) => {
            format!("{file}: NOT linearizable {spent}\n{}", explain(c))
        }
    });
}

/// A short human-readable account of a counterexample.
fn explain(c: &Counterexample) -> String {
    let mut out = String::new();
    let op = |id: usize| c.ops.iter().find(|o| o.id == id);
    let line = |id: usize| match op(id) {
        Some(o) => {
            let ret = o.ret.map_or("never".to_string(), |r| r.to_string());
            let out = o.text.value_out.as_deref().unwrap_or("?");
            format!(
                "op {id}: p{} {} {} -> {out}  [{}, {ret}]",
                o.process, o.text.f, o.text.value_in, o.call
            )
        }
        None => format!("op {id}"),
    };
    if let Some(key) = &c.partition {
        out += &format!("  key {key:?}: {} operations\n", c.ops.len());
    } else {
        out += &format!("  whole history: {} operations\n", c.ops.len());
    }
    let n = c.longest_prefix.len();
    out += &format!("  longest linearizable prefix: {n} operations");
    const SHOWN: usize = 5;
    if n > SHOWN {
        out += ", ending";
    }
    out += "\n";
    for &id in &c.longest_prefix[n.saturating_sub(SHOWN)..] {
        out += &format!("    {}\n", line(id));
    }
    out += &format!(
        "  state after it: {}\n  cannot be placed next:\n",
        c.state_after_prefix
    );
    for s in &c.stuck {
        out += &format!("    {}\n      {}\n", line(s.op), s.reason);
    }
    out
}
