//! The `snapstorm` command: everything lives in the `harness` crate.
fn main() {
    std::process::exit(harness::cli::main());
}
