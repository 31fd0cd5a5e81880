//! openraft's [`AsyncRuntime`] on the turmoil host's tokio runtime, with every
//! random draw taken from a seed.
//!
//! openraft asks `AsyncRuntime::thread_rng()` for randomness (in 0.9.25 only
//! for the election timeout, once per `Raft::new`). The stock runtime returns
//! an OS-seeded thread RNG, which makes runs unrepeatable. A plain seeded
//! thread-local would not do either: all turmoil hosts are polled on one OS
//! thread, so nodes would share one stream and perturb each other. Each host
//! has its own tokio runtime, though (and a restart builds a new one), so the
//! streams here are keyed by the current runtime's id and registered by the
//! node when it boots ([`register_rng`]).
use openraft::async_runtime::{AsyncRuntime, TokioOneShotSender};
use openraft::{OptionalSend, TokioInstant};
use rand08::{RngCore, SeedableRng};
use rand_chacha03::ChaCha8Rng;
use std::cell::RefCell;
use std::future::Future;
use std::time::Duration;
use tokio::runtime::{Handle, Id};

thread_local! {
    /// One stream per live host runtime. A handful of entries: looked up by
    /// linear search, never iterated, so order cannot leak into behaviour.
    static STREAMS: RefCell<Vec<(Id, ChaCha8Rng)>> = const { RefCell::new(Vec::new()) };
}

/// The seed of node `node`'s stream in run `run_seed` at boot `boot` (each boot
/// draws afresh, so a restarted node does not replay its first timeouts).
pub fn node_seed(run_seed: u64, node: u64, boot: u64) -> u64 {
    // splitmix64 over the three inputs: a fixed, well-mixed function.
    let mut x = run_seed ^ node.rotate_left(21) ^ boot.rotate_left(42);
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// Registers `seed` as the random stream of the current tokio runtime (the
/// calling turmoil host). The stream lives until the guard drops, which a host
/// crash does by dropping the node's future with its runtime.
pub fn register_rng(seed: u64) -> RngGuard {
    let id = Handle::current().id();
    STREAMS.with(|s| {
        let mut s = s.borrow_mut();
        s.retain(|(k, _)| *k != id);
        s.push((id, ChaCha8Rng::seed_from_u64(seed)));
    });
    RngGuard { id }
}

/// Unregisters a host runtime's stream on drop.
#[derive(Debug)]
pub struct RngGuard {
    id: Id,
}

impl Drop for RngGuard {
    fn drop(&mut self) {
        // `try_with`: the guard may drop during thread teardown.
        let _ = STREAMS.try_with(|s| s.borrow_mut().retain(|(k, _)| *k != self.id));
    }
}

/// Draws from the current runtime's stream. Panics if the node never
/// registered one: an unseeded draw would silently break determinism.
fn draw_seed() -> [u8; 32] {
    let id = Handle::current().id();
    STREAMS.with(|s| {
        let mut s = s.borrow_mut();
        let (_, rng) = s
            .iter_mut()
            .find(|(k, _)| *k == id)
            .expect("openraft drew randomness on a host that did not call register_rng");
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        seed
    })
}

/// The turmoil runtime: tokio's paused clock and tasks, seeded randomness.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SimRuntime;

impl AsyncRuntime for SimRuntime {
    type JoinError = tokio::task::JoinError;
    type JoinHandle<T: OptionalSend + 'static> = tokio::task::JoinHandle<T>;
    type Sleep = tokio::time::Sleep;
    type Instant = TokioInstant;
    type TimeoutError = tokio::time::error::Elapsed;
    type Timeout<R, T: Future<Output = R> + OptionalSend> = tokio::time::Timeout<T>;
    /// A fresh generator per call, seeded from the host's stream: the k-th
    /// call on a host always yields the same generator.
    type ThreadLocalRng = ChaCha8Rng;
    type OneshotSender<T: OptionalSend> = TokioOneShotSender<T>;
    type OneshotReceiver<T: OptionalSend> = tokio::sync::oneshot::Receiver<T>;
    type OneshotReceiverError = tokio::sync::oneshot::error::RecvError;

    fn spawn<T>(future: T) -> Self::JoinHandle<T::Output>
    where
        T: Future + OptionalSend + 'static,
        T::Output: OptionalSend + 'static,
    {
        tokio::spawn(future)
    }

    fn sleep(duration: Duration) -> Self::Sleep {
        tokio::time::sleep(duration)
    }

    fn sleep_until(deadline: Self::Instant) -> Self::Sleep {
        tokio::time::sleep_until(deadline)
    }

    fn timeout<R, F: Future<Output = R> + OptionalSend>(
        duration: Duration,
        future: F,
    ) -> Self::Timeout<R, F> {
        tokio::time::timeout(duration, future)
    }

    fn timeout_at<R, F: Future<Output = R> + OptionalSend>(
        deadline: Self::Instant,
        future: F,
    ) -> Self::Timeout<R, F> {
        tokio::time::timeout_at(deadline, future)
    }

    fn is_panic(join_error: &Self::JoinError) -> bool {
        join_error.is_panic()
    }

    fn thread_rng() -> Self::ThreadLocalRng {
        // determinism-ok: seeded from the run's seed, per host and boot (draw_seed)
        ChaCha8Rng::from_seed(draw_seed())
    }

    fn oneshot<T>() -> (Self::OneshotSender<T>, Self::OneshotReceiver<T>)
    where
        T: OptionalSend,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        (TokioOneShotSender(tx), rx)
    }
}
