//! The oracle never shares code with what it judges: `checkers` depends on the
//! `sut` boundary (plain data) and on no system under test, so a bug in a
//! system's apply, session table or snapshot encoding cannot leak into the
//! reference it is judged against.

const MANIFEST: &str = include_str!("../Cargo.toml");

#[test]
fn checkers_depend_on_no_system_under_test() {
    let deps: Vec<&str> = MANIFEST
        .split("[dependencies]")
        .nth(1)
        .expect("a [dependencies] table")
        .lines()
        .take_while(|l| !l.starts_with('['))
        .filter_map(|l| l.split(['.', '=', ' ']).next())
        .filter(|name| !name.is_empty())
        .collect();
    assert!(
        deps.contains(&"sut"),
        "checkers read the trace through sut: {deps:?}"
    );
    assert!(
        !deps.contains(&"raftkv"),
        "checkers must not link raftkv: {deps:?}"
    );
    assert!(!MANIFEST.contains("raftkv"), "not even as a dev-dependency");
}
