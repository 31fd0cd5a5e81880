//! Ctrl-C and SIGTERM during `snapstorm fuzz`: the first signal asks the
//! campaign to stop (it kills the seeds in flight, discards their run
//! directories and writes an interrupted `campaign.json` for the seeds done);
//! a second one exits at once with 130.
use signal_hook::consts::{SIGINT, SIGTERM};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);
static SIGNAL: AtomicUsize = AtomicUsize::new(0);

/// The exit code of an interrupted campaign (128 + SIGINT, as a shell reports
/// a Ctrl-C), for SIGTERM too.
pub const EXIT_CODE: i32 = 130;

/// Installs the handlers for SIGINT and SIGTERM.
pub fn install() -> Result<(), String> {
    for sig in [SIGINT, SIGTERM] {
        // The shutdown first: armed only once the flag is set, so it acts on
        // the second signal, not the first.
        signal_hook::flag::register_conditional_shutdown(sig, EXIT_CODE, &REQUESTED)
            .and_then(|_| signal_hook::flag::register_usize(sig, &SIGNAL, sig as usize))
            .and_then(|_| signal_hook::flag::register(sig, &REQUESTED))
            .map_err(|e| format!("cannot handle signal {sig}: {e}"))?;
    }
    Ok(())
}

/// Whether a signal asked the campaign to stop.
pub fn requested() -> bool {
    REQUESTED.load(Ordering::SeqCst)
}

/// The signal that asked, by name (None before one did).
pub fn signal_name() -> Option<&'static str> {
    match SIGNAL.load(Ordering::SeqCst) as i32 {
        0 => None,
        SIGINT => Some("SIGINT (Ctrl-C)"),
        SIGTERM => Some("SIGTERM"),
        _ => Some("a signal"),
    }
}

/// Whether a child that died of `signal` was most likely stopped by the same
/// Ctrl-C as this process (a terminal signals its whole process group):
/// waits up to a second for this process's own handler to see it.
pub fn shared_with_child(signal: Option<i32>) -> bool {
    if !matches!(signal, Some(SIGINT | SIGTERM)) {
        return false;
    }
    for _ in 0..100 {
        if requested() {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    false
}
