//! `snapstorm export --format jepsen-edn RUN`: a run's history in the EDN
//! that Jepsen's own tools read (Knossos for the register workload, Elle for
//! list-append, the kv maps for kv; `workloads::export`).
use crate::cli::print_out;
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use workloads::history::from_jsonl;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Jepsen's EDN: Knossos cas-register, Elle list-append or Jepsen kv maps,
    /// by the workload that recorded the history.
    JepsenEdn,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The output format.
    #[arg(long, value_enum)]
    format: ExportFormat,
    /// A run directory, or its history.jsonl.
    run: PathBuf,
    /// Only this key's operations (a register then has plain values, as
    /// Knossos's single-register command line wants).
    #[arg(long)]
    key: Option<String>,
    /// Write here instead of to stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

pub fn cli(args: ExportArgs) -> i32 {
    match export(&args) {
        Ok(note) => {
            eprintln!("{note}");
            0
        }
        Err(e) => {
            eprintln!("snapstorm export: {e}");
            2
        }
    }
}

fn export(args: &ExportArgs) -> Result<String, String> {
    let ExportFormat::JepsenEdn = args.format;
    let path = history_path(&args.run);
    let text = std::fs::read_to_string(&path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    let events = from_jsonl(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let (shape, edn) = workloads::export::to_jepsen(&events, args.key.as_deref())
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let lines = edn.lines().count();
    match &args.out {
        Some(out) => {
            std::fs::write(out, &edn)
                .map_err(|e| format!("{}: cannot write: {e}", out.display()))?;
            Ok(format!(
                "{lines} events of {} written to {}: {}",
                path.display(),
                out.display(),
                shape.describe()
            ))
        }
        None => {
            print_out(&edn);
            Ok(format!(
                "{lines} events of {}: {}",
                path.display(),
                shape.describe()
            ))
        }
    }
}

/// A run directory's history.jsonl, or the file itself.
fn history_path(run: &Path) -> PathBuf {
    if run.is_dir() {
        run.join("history.jsonl")
    } else {
        run.to_path_buf()
    }
}
