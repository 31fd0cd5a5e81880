//! The progress bar of `snapstorm fuzz` (indicatif): seeds done of the total,
//! failures so far, seeds per second and the time left. Drawn on stderr, and
//! only when stderr is a terminal (a CI log or a pipe gets no bar).
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

pub struct CampaignProgress {
    bar: ProgressBar,
    failures: AtomicU64,
}

impl CampaignProgress {
    /// A bar for `total` seeds, shown only when stderr is a terminal.
    pub fn new(total: u64) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self::with_target(total, ProgressDrawTarget::hidden());
        }
        let p = Self::with_target(total, ProgressDrawTarget::stderr());
        // Redraw between seeds too, so the rate and ETA stay current.
        p.bar
            .enable_steady_tick(std::time::Duration::from_millis(250));
        p
    }

    fn with_target(total: u64, target: ProgressDrawTarget) -> Self {
        let style = ProgressStyle::with_template(
            "{bar:30} {pos}/{len} seeds, {msg}, {seeds_per_sec}, ETA {eta}",
        )
        .expect("the template is valid")
        .with_key(
            "seeds_per_sec",
            |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                // The campaign's average so far, as campaign.json reports it.
                let rate = s.pos() as f64 / s.elapsed().as_secs_f64().max(1e-9);
                let _ = write!(w, "{rate:.2} seeds/s");
            },
        );
        let bar = ProgressBar::with_draw_target(Some(total), target).with_style(style);
        bar.set_message("0 failed");
        CampaignProgress {
            bar,
            failures: AtomicU64::new(0),
        }
    }

    /// One seed finished; `failed` when it is recorded as a failure.
    pub fn seed_done(&self, failed: bool) {
        if failed {
            let failures = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
            self.bar.set_message(format!("{failures} failed"));
        }
        self.bar.inc(1);
    }

    /// Seeds done and failures counted so far.
    pub fn counts(&self) -> (u64, u64) {
        (self.bar.position(), self.failures.load(Ordering::Relaxed))
    }

    pub fn is_hidden(&self) -> bool {
        self.bar.is_hidden()
    }

    /// Removes the bar (the campaign's summary follows on stdout).
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_seeds_and_failures_and_hides_off_a_terminal() {
        let p = CampaignProgress::with_target(4, ProgressDrawTarget::hidden());
        p.seed_done(false);
        p.seed_done(true);
        p.seed_done(true);
        assert_eq!(p.counts(), (3, 2));
        assert!(p.is_hidden());
        p.finish();
    }
}
