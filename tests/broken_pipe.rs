//! Commands that print, piped into a reader that stops early (`snapstorm
//! check FILE... | head -1`): no panic, and the exit code is still the verdict.
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs snapstorm with `args`, reads one line of its stdout, closes the pipe
/// and returns the exit code and stderr.
fn first_line_then_close(args: &[&str]) -> (Option<i32>, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_snapstorm"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("snapstorm starts");
    let mut first = String::new();
    {
        let mut out = BufReader::new(child.stdout.take().expect("piped"));
        out.read_line(&mut first).expect("one line");
    } // closed: the rest of the output meets EPIPE
    let out = child.wait_with_output().expect("snapstorm ends");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    (out.status.code(), first, stderr)
}

#[test]
fn check_into_a_closed_pipe_exits_with_its_verdict_without_panicking() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("broken-pipe");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("ok.log");
    std::fs::write(
        &file,
        "INFO  jepsen.util - 1\t:invoke\t:write\t3\nINFO  jepsen.util - 1\t:ok\t:write\t3\n",
    )
    .unwrap();
    let file = file.display().to_string();
    // Far more than a pipe's buffer (64 KiB), so writes outlive the reader.
    let mut args = vec!["check", "--format", "jepsen-etcd"];
    args.extend(std::iter::repeat_n(file.as_str(), 5000));
    let (code, first, stderr) = first_line_then_close(&args);
    assert!(first.contains("linearizable"), "{first}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(code, Some(0), "{stderr}");

    args.insert(3, "--json");
    let (code, first, stderr) = first_line_then_close(&args);
    assert!(first.contains("\"linearizable\""), "{first}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(code, Some(0), "{stderr}");
}

#[test]
fn listings_into_a_closed_pipe_do_not_panic() {
    for args in [&["scenarios"][..], &["bugs"][..], &["bugs", "--json"][..]] {
        let (code, _, stderr) = first_line_then_close(args);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(code, Some(0), "{args:?}: {stderr}");
    }
}
