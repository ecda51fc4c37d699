//! Waiting on a condition with a deadline, for tests against real sockets and real time: poll
//! often, return as soon as the condition holds, fail with what was awaited when the deadline
//! passes. Use these instead of sleeping for a guessed while; assert that something did *not*
//! happen only after an explicit synchronisation point (a later event, the answer to a later
//! request, a clock observed past the moment that matters).
//!
//! Code that runs on tokio time alone needs neither: `#[tokio::test(start_paused = true)]`
//! and `tokio::time::advance` move its clock exactly.
#![allow(dead_code)]

use std::fmt::Debug;
use std::time::{Duration, Instant};

/// How often an in-process condition is polled.
pub const POLL: Duration = Duration::from_millis(10);

/// The longest pause between two probes that make a request: probes start [`POLL`] apart and
/// back off to this, so a quick answer is seen at once and a long wait does not flood the
/// gateway (and the cores it shares with the test) with requests.
pub const PROBE_EVERY: Duration = Duration::from_millis(50);

fn back_off(pause: Duration) -> Duration {
    (pause * 2).min(PROBE_EVERY)
}

/// Wait until `cond` holds, polling every [`POLL`]; panics naming `what` after `patience` of
/// real time.
pub async fn wait_until(patience: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + patience;
    while !cond() {
        assert!(Instant::now() < deadline, "waited {patience:?} for {what}");
        tokio::time::sleep(POLL).await;
    }
}

/// Poll `probe` (an HTTP request, say) until it answers `Some`, and return that; panics naming
/// `what` after `patience` of real time. Probes back off from [`POLL`] to [`PROBE_EVERY`].
pub async fn poll_until<T>(
    patience: Duration,
    what: &str,
    mut probe: impl AsyncFnMut() -> Option<T>,
) -> T {
    let deadline = Instant::now() + patience;
    let mut pause = POLL;
    loop {
        if let Some(found) = probe().await {
            return found;
        }
        assert!(Instant::now() < deadline, "waited {patience:?} for {what}");
        tokio::time::sleep(pause).await;
        pause = back_off(pause);
    }
}

/// Poll `probe` until it answers `Ok`, and return that; panics naming `what` and showing the
/// last `Err` it answered (what it saw instead) after `patience` of real time. Probes back off
/// as in [`poll_until`].
pub async fn poll_until_ok<T, E: Debug>(
    patience: Duration,
    what: &str,
    mut probe: impl AsyncFnMut() -> Result<T, E>,
) -> T {
    let deadline = Instant::now() + patience;
    let mut pause = POLL;
    loop {
        let seen = match probe().await {
            Ok(found) => return found,
            Err(seen) => seen,
        };
        assert!(
            Instant::now() < deadline,
            "waited {patience:?} for {what}; last seen: {seen:#?}"
        );
        tokio::time::sleep(pause).await;
        pause = back_off(pause);
    }
}
