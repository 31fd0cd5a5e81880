//! `snapstorm check`: placeholder, replaced by the linearizability checker work.
use clap::Args;

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// History files to check.
    pub files: Vec<std::path::PathBuf>,
}

pub fn run(_args: CheckArgs) -> i32 {
    eprintln!("snapstorm check: not built yet");
    2
}
