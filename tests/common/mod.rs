//! What the binary-level tests share: running `snapstorm`, a fresh scratch
//! directory, and a path as a command-line argument.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The built `snapstorm`, run to completion with `args`.
pub fn snapstorm(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_snapstorm"))
        .args(args)
        .output()
        .unwrap()
}

/// An empty directory `name` under the target's scratch space.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}
