//! What a check may spend. The budget that decides is counted in the
//! checker's own units, so the same history gets the same verdict on any
//! machine, loaded or not:
//!
//! - *search steps*: each candidate tried or backtracked over, summed over
//!   every search of a partition (the pairs search, the complete one, and
//!   the part searches of a check without the split);
//! - *memory*: the bytes the searches hold at once, estimated from what they
//!   store (explored configurations, interned states with their contents,
//!   transition memos, the search path) at the capacity of each vector, hash
//!   map and string, not asked of the OS. Capacities follow from the
//!   sequence of insertions alone, so they are the same on every machine for
//!   one build; the allocator's own overhead is not counted.
//!
//! Each partition (key) has its own budget, and is searched by one thread
//! from start to end, so its outcome does not depend on the others or on
//! the thread count (a partition found not linearizable stops the others,
//! but then that is the verdict whatever they would have found). Wall time is only an outer safety net; a verdict it
//! cut short says so ([`OutOf::WallTime`]) and is the one that may differ
//! between machines.
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Search steps a partition may take by default: 37× the most a measured
/// history needs (one key of the benchmark's generated 100k-operation
/// register history, 27 M); see the README's "The checker's budget".
pub const DEFAULT_MAX_STEPS: u64 = 1_000_000_000;

/// Bytes (the checker's estimate) a partition's searches may hold at once by
/// default; see the README's "The checker's budget" for what measured
/// histories need.
pub const DEFAULT_MEMORY_LIMIT: usize = 1 << 30;

/// Bytes a vector's buffer holds.
pub(crate) fn vec_bytes<T>(v: &Vec<T>) -> usize {
    v.capacity() * std::mem::size_of::<T>()
}

/// Bytes a hash map's table holds: its buckets (a power of two, at most 7/8
/// full) with one control byte each.
pub(crate) fn map_bytes<K, V, S>(m: &std::collections::HashMap<K, V, S>) -> usize {
    if m.capacity() == 0 {
        return 0;
    }
    let buckets = (m.capacity() * 8 / 7).next_power_of_two();
    buckets * (std::mem::size_of::<(K, V)>() + 1)
}

/// Which budget ran out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutOf {
    /// The work budget (search steps): the same on every machine.
    #[default]
    Steps,
    /// The memory budget, in the checker's own estimate: the same on every
    /// machine.
    Memory,
    /// The wall-time safety net: depends on the machine and its load.
    WallTime,
}

/// Why a search stopped before a verdict.
#[derive(Clone, Debug)]
pub(crate) enum Stop {
    /// Another partition is not linearizable, which decides the verdict.
    Cancelled,
    Out(OutOf, String),
}

/// One partition's budget.
pub(crate) struct Budget {
    pub(crate) deadline: Option<(Instant, Duration)>,
    /// Set when a partition is found not linearizable.
    pub(crate) cancelled: Arc<AtomicBool>,
    pub(crate) max_steps: u64,
    pub(crate) memory_limit: Option<usize>,
    pub(crate) steps: Cell<u64>,
    pub(crate) used: Cell<usize>,
    pub(crate) peak: Cell<usize>,
}

impl Budget {
    pub(crate) fn new(
        deadline: Option<(Instant, Duration)>,
        cancelled: Arc<AtomicBool>,
        max_steps: Option<u64>,
        memory_limit: Option<usize>,
    ) -> Self {
        Budget {
            deadline,
            cancelled,
            max_steps: max_steps.unwrap_or(u64::MAX),
            memory_limit,
            steps: Cell::new(0),
            used: Cell::new(0),
            peak: Cell::new(0),
        }
    }

    #[cfg(test)]
    pub(crate) fn unlimited() -> Self {
        Self::new(None, Arc::new(AtomicBool::new(false)), None, None)
    }

    /// Records that a search now holds `now` bytes, having reported `reported`.
    pub(crate) fn update(&self, reported: &mut usize, now: usize) {
        let used = self.used.get() - *reported + now;
        self.used.set(used);
        self.peak.set(self.peak.get().max(used));
        *reported = now;
    }

    pub(crate) fn release(&self, reported: usize) {
        self.used.set(self.used.get() - reported);
    }

    /// Steps a search may still take.
    pub(crate) fn steps_left(&self) -> u64 {
        self.max_steps.saturating_sub(self.steps.get())
    }

    pub(crate) fn spend(&self, steps: u64) {
        self.steps.set(self.steps.get().saturating_add(steps));
    }

    pub(crate) fn out_of_steps(&self) -> Stop {
        Stop::Out(
            OutOf::Steps,
            format!("state budget of {} search steps ran out", self.max_steps),
        )
    }

    /// Cancellation, the wall-time net and memory.
    pub(crate) fn check(&self) -> Result<(), Stop> {
        if self.cancelled.load(Ordering::Relaxed) {
            return Err(Stop::Cancelled);
        }
        if let Some((deadline, limit)) = self.deadline {
            if Instant::now() >= deadline {
                return Err(Stop::Out(
                    OutOf::WallTime,
                    format!(
                        "wall-time safety net of {} s ran out (depends on the machine)",
                        limit.as_secs_f64()
                    ),
                ));
            }
        }
        if let Some(limit) = self.memory_limit {
            if self.used.get() > limit {
                return Err(Stop::Out(
                    OutOf::Memory,
                    format!(
                        "memory budget of {} MiB (the checker's estimate) ran out",
                        limit as f64 / (1 << 20) as f64
                    ),
                ));
            }
        }
        Ok(())
    }
}
