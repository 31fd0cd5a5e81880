//! Opens a report in headless Chromium, for tests and for people: reads the
//! report's own `#selftest` verdict (errors, sizes of the timeline and plots,
//! whether the jump link brought its target into view) from the dumped DOM,
//! and takes screenshots. Uses only the command line of Chromium, so no
//! DevTools client is needed.
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Names Chromium goes by on PATH, in the order tried.
const NAMES: [&str; 4] = [
    "chromium",
    "chromium-browser",
    "google-chrome",
    "google-chrome-stable",
];
/// A Chromium run that takes longer than this is killed.
const TIMEOUT: Duration = Duration::from_secs(90);

/// `$SNAPSTORM_CHROMIUM`, or the first Chromium on PATH.
pub fn find_chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SNAPSTORM_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| NAMES.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// Chromium, installed with `apt-get install chromium` when it is missing
/// (as root, as on the project's machines and CI). An error says why not.
pub fn chromium() -> Result<PathBuf, String> {
    static INSTALL: Mutex<()> = Mutex::new(());
    let _one_at_a_time = INSTALL.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = find_chromium() {
        return Ok(p);
    }
    for args in [
        &["update", "-q"][..],
        &[
            "install",
            "-y",
            "-q",
            "-o",
            "DPkg::Lock::Timeout=600",
            "chromium",
        ][..],
    ] {
        let out = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .output()
            .map_err(|e| format!("chromium is not installed and apt-get could not run: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "chromium is not installed and `apt-get {}` failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
    }
    find_chromium().ok_or_else(|| "apt-get installed chromium but it is not on PATH".to_string())
}

/// Runs Chromium headless on `url` with `extra` flags; returns stdout.
fn run(chromium: &Path, url: &str, extra: &[String]) -> Result<String, String> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let profile = std::env::temp_dir().join(format!(
        "snapstorm-chromium-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(extra)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", chromium.display()))?;
    let mut stdout = child.stdout.take().expect("piped stdout");
    let mut stderr = child.stderr.take().expect("piped stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ok(status),
            Ok(None) if start.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break Err(format!(
                    "chromium took over {} s; killed",
                    TIMEOUT.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => break Err(format!("waiting for chromium: {e}")),
        }
    };
    let stdout = out.join().unwrap_or_default();
    let stderr = err.join().unwrap_or_default();
    let _ = std::fs::remove_dir_all(&profile);
    let status = status?;
    if !status.success() {
        return Err(format!("chromium exited with {status}: {stderr}"));
    }
    Ok(stdout)
}

fn file_url(report: &Path) -> Result<String, String> {
    let abs = std::fs::canonicalize(report)
        .map_err(|e| format!("cannot open {}: {e}", report.display()))?;
    Ok(format!("file://{}", abs.display()))
}

/// Opens `report#selftest` and returns the JSON verdict the page wrote:
/// `{"sizes": {id: [w, h]}, "ops": n, "counterexample": bool,
/// "jump": null | {"target", "zoom", "rect", "inView"}, "errors": [..]}`.
pub fn selftest(chromium: &Path, report: &Path) -> Result<serde_json::Value, String> {
    let url = format!("{}#selftest", file_url(report)?);
    let dom = run(
        chromium,
        &url,
        &[
            "--virtual-time-budget=5000".to_string(),
            "--window-size=1400,1000".to_string(),
            "--dump-dom".to_string(),
        ],
    )?;
    let start = dom
        .find(r#"<pre id="selftest">"#)
        .ok_or_else(|| "the page wrote no self-test verdict (did its script fail?)".to_string())?;
    let text = &dom[start + r#"<pre id="selftest">"#.len()..];
    let text = &text[..text
        .find("</pre>")
        .ok_or_else(|| "unterminated self-test verdict".to_string())?];
    let json = text
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&nbsp;", "\u{a0}")
        .replace("&amp;", "&");
    serde_json::from_str(&json).map_err(|e| format!("bad self-test verdict {json:?}: {e}"))
}

/// Saves a screenshot of the report's top `width` × `height` pixels.
pub fn screenshot(
    chromium: &Path,
    report: &Path,
    png: &Path,
    width: u32,
    height: u32,
) -> Result<(), String> {
    let url = file_url(report)?;
    let _ = std::fs::remove_file(png);
    run(
        chromium,
        &url,
        &[
            "--virtual-time-budget=3000".to_string(),
            format!("--window-size={width},{height}"),
            format!("--screenshot={}", png.display()),
        ],
    )?;
    match std::fs::metadata(png) {
        Ok(m) if m.len() > 0 => Ok(()),
        _ => Err(format!("chromium wrote no screenshot to {}", png.display())),
    }
}
