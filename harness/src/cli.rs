//! The `snapstorm` command line.
use clap::{Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "snapstorm",
    version,
    about = "Chaos and linearizability testing for Raft in a deterministic simulator"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Check recorded histories for linearizability.
    Check(checkers::cli::CheckArgs),
}

/// Parses the arguments, runs the command and returns the process exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            // clap exits 0 for --help/--version and 2 for usage errors.
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match cli.command {
        Command::Check(args) => checkers::cli::run(args),
    }
}
