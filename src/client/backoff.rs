//! Jittered exponential backoff for reconnects: 250 ms doubling to a 10 s cap, each delay
//! drawn between half and all of its step so that many consoles do not reconnect in step.

use std::time::Duration;

pub const FIRST: Duration = Duration::from_millis(250);
pub const CAP: Duration = Duration::from_secs(10);

#[derive(Clone, Debug, Default)]
pub struct Backoff {
    failures: u32,
}

impl Backoff {
    pub fn new() -> Self {
        Backoff::default()
    }

    /// The delay before the next try; `jitter` is a random number in `0.0..1.0`.
    pub fn next_delay(&mut self, jitter: f64) -> Duration {
        let step = FIRST.saturating_mul(1u32 << self.failures.min(16)).min(CAP);
        self.failures = self.failures.saturating_add(1);
        step.mul_f64(0.5 + 0.5 * jitter.clamp(0.0, 1.0))
    }

    /// A connection worked: start again from the first step.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubles_to_the_cap_with_jitter_and_resets() {
        let mut b = Backoff::new();
        let top: Vec<u128> = (0..8).map(|_| b.next_delay(1.0).as_millis()).collect();
        assert_eq!(top, vec![250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
        b.reset();
        assert_eq!(b.next_delay(0.0).as_millis(), 125);
        let d = b.next_delay(0.5).as_millis();
        assert_eq!(d, 375);
    }
}
