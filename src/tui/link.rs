//! What the answers to the frames' questions tell of the link to the terminal: its rate and
//! its round trip, so the pacer can choose how many frames to keep in flight (`tui::pacing`).
//!
//! - Rate, by packet pairs: a frame sent while another was still in flight crosses the link
//!   right behind it, so the time between their two answers is its own transit (or more, if the
//!   link went idle between them): `bytes / (answer − previous answer)` is the link's rate or
//!   less, and the most of the recent samples is taken, once there are [`MIN_RATE_SAMPLES`].
//! - Round trip: the answer to a frame that went alone comes `round trip + transit` after it
//!   went, so `latency − bytes / rate` is the round trip (or more, if the terminal was slow to
//!   answer), and the least over the recent frames that went alone is taken.
//!
//! Samples older than [`MEMORY`] are forgotten, so a link that changes is learnt again.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// How long a sample counts.
pub const MEMORY: Duration = Duration::from_secs(30);
/// The most samples kept of each kind.
const SAMPLES: usize = 32;
/// Rate samples needed before the rate is believed: a sample whose pair had the link idle
/// between them reads low, and the most of several is the link's rate.
pub const MIN_RATE_SAMPLES: usize = 4;

#[derive(Debug, Default)]
pub struct Link {
    /// (when, bytes per second)
    rates: VecDeque<(Instant, f64)>,
    /// Frames that went alone: (when answered, bytes, latency).
    alone: VecDeque<(Instant, u64, Duration)>,
    /// A moving average of the bytes of a frame.
    frame_bytes: Option<f64>,
    last_answer: Option<Instant>,
}

impl Link {
    /// A frame of `bytes` went at `sent` (`behind`: another was in flight then) and its answer
    /// came at `now`.
    pub fn answered(&mut self, sent: Instant, bytes: u64, behind: bool, now: Instant) {
        self.forget_before(now.checked_sub(MEMORY));
        tracing::trace!(bytes, behind, latency = ?now.saturating_duration_since(sent), "answered");
        let bytes_f = bytes as f64;
        self.frame_bytes = Some(match self.frame_bytes {
            Some(avg) => avg * 0.75 + bytes_f * 0.25,
            None => bytes_f,
        });
        if behind
            && let Some(previous) = self.last_answer
            && now > previous
            && bytes > 0
        {
            push(
                &mut self.rates,
                (now, bytes_f / (now - previous).as_secs_f64()),
            );
        }
        if !behind {
            push(
                &mut self.alone,
                (now, bytes, now.saturating_duration_since(sent)),
            );
        }
        self.last_answer = Some(now);
    }

    /// Answers still due will not come (given up on, or the terminal was given back): the next
    /// answer is not the partner of the last one.
    pub fn lost_track(&mut self) {
        self.last_answer = None;
    }

    /// The link's rate in bytes per second, if measured.
    pub fn rate(&self) -> Option<f64> {
        if self.rates.len() < MIN_RATE_SAMPLES {
            return None;
        }
        self.rates.iter().map(|(_, r)| *r).reduce(f64::max)
    }

    /// The round trip, if measured.
    pub fn round_trip(&self) -> Option<Duration> {
        let rate = self.rate()?;
        self.alone
            .iter()
            .map(|(_, bytes, latency)| {
                latency.saturating_sub(Duration::from_secs_f64(*bytes as f64 / rate))
            })
            .min()
    }

    /// How long a usual frame takes to cross the link, if the rate is known.
    pub fn transit(&self) -> Option<Duration> {
        Some(Duration::from_secs_f64(self.frame_bytes? / self.rate()?))
    }

    fn forget_before(&mut self, oldest: Option<Instant>) {
        let Some(oldest) = oldest else { return };
        self.rates.retain(|(at, _)| *at >= oldest);
        self.alone.retain(|(at, _, _)| *at >= oldest);
    }
}

fn push<T>(samples: &mut VecDeque<T>, sample: T) {
    if samples.len() == SAMPLES {
        samples.pop_front();
    }
    samples.push_back(sample);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A link of `rate` bytes/s and `rtt`: when the answer to a frame of `bytes` sent at `sent`
    /// comes, with the link busy until `busy_until`.
    fn cross(sent: Instant, bytes: u64, rate: f64, rtt: Duration, busy_until: Instant) -> Instant {
        let starts = (sent + rtt / 2).max(busy_until);
        starts + Duration::from_secs_f64(bytes as f64 / rate) + rtt / 2
    }

    #[test]
    fn pairs_of_frames_measure_the_rate_and_then_the_round_trip() {
        let (rate, rtt) = (32.0 * 1024.0, Duration::from_millis(100));
        let mut link = Link::default();
        let mut t = Instant::now();
        for pair in 0..MIN_RATE_SAMPLES {
            assert_eq!(link.rate(), None, "not yet believed after {pair} pairs");
            assert_eq!(link.round_trip(), None);
            // A frame alone, then one sent right behind it: the second's answer comes its own
            // transit after the first's.
            let (s1, s2) = (t, t + Duration::from_millis(5));
            let a1 = cross(s1, 5000, rate, rtt, t);
            let a2 = cross(s2, 3000, rate, rtt, a1 - rtt / 2);
            link.answered(s1, 5000, false, a1);
            link.answered(s2, 3000, true, a2);
            t = a2 + Duration::from_millis(300);
        }
        let measured = link.rate().unwrap_or(0.0);
        assert!((measured - rate).abs() < rate * 0.01, "{measured} B/s");
        let round_trip = link.round_trip().unwrap_or_default();
        assert!(
            round_trip >= rtt && round_trip < rtt + Duration::from_millis(10),
            "{round_trip:?}"
        );
        let transit = link.transit().unwrap_or_default();
        assert!(transit > Duration::from_millis(80) && transit < Duration::from_millis(150));
    }

    #[test]
    fn an_idle_gap_between_a_pair_is_not_taken_for_a_slow_link() {
        let t0 = Instant::now();
        let mut link = Link::default();
        link.answered(t0, 4000, false, t0 + Duration::from_millis(100));
        // A pair whose second frame crossed at 100 KB/s ...
        link.answered(t0, 4000, true, t0 + Duration::from_millis(140));
        // ... and ones that went after the link had idled: lower samples, not the estimate.
        for gap in [400, 300, 200] {
            link.answered(t0, 4000, false, t0 + Duration::from_secs(1));
            link.answered(
                t0,
                4000,
                true,
                t0 + Duration::from_secs(1) + Duration::from_millis(gap),
            );
        }
        assert_eq!(link.rate(), Some(100_000.0));
    }

    #[test]
    fn old_samples_are_forgotten_and_a_lost_answer_breaks_the_pair() {
        let t0 = Instant::now();
        let mut link = Link::default();
        for _ in 0..MIN_RATE_SAMPLES {
            link.answered(t0, 4000, false, t0 + Duration::from_millis(100));
            link.answered(t0, 4000, true, t0 + Duration::from_millis(140));
        }
        assert!(link.rate().is_some());
        let later = t0 + MEMORY + Duration::from_secs(1);
        link.lost_track();
        link.answered(later, 4000, true, later + Duration::from_millis(100));
        assert_eq!(
            link.rates.len(),
            0,
            "forgotten, and no partner to pair with"
        );
    }
}
