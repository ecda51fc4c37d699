//! The platform's clock as the console reads it between the gateway's `clock` frames.
//!
//! Every time the console shows is platform time; only how long the console itself waits is
//! measured on the machine's own clock (`Core::wall`). The machine's clock enters only as an
//! elapsed time since the last `clock` frame, so a bastion whose clock is skewed reads the
//! same as the gateway, and a simulator at `--speed 10` moves ten seconds per second.

use chrono::{DateTime, Duration, Utc};

/// The last `clock` frame: the platform's time, when it arrived on the console's clock, and
/// how many platform seconds pass per real second. Without one, platform time is taken to be
/// the console's own.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PlatformClock {
    anchor: Option<Anchor>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Anchor {
    platform: DateTime<Utc>,
    wall: DateTime<Utc>,
    rate: f64,
}

/// The fastest platform clock believed: a week per second.
const MAX_RATE: f64 = 604_800.0;

impl PlatformClock {
    /// Set from a `clock` frame that arrived at `wall`. A rate that is not a number is taken
    /// as 1, a negative one as 0 (time standing still).
    pub fn set(&mut self, platform: DateTime<Utc>, rate: f64, wall: DateTime<Utc>) {
        let rate = if rate.is_nan() {
            1.0
        } else {
            rate.clamp(0.0, MAX_RATE)
        };
        self.anchor = Some(Anchor {
            platform,
            wall,
            rate,
        });
    }

    /// Platform time when the console's clock reads `wall`. Never before the last frame's
    /// time: a tick stamped just before the frame arrived does not turn the clock back.
    pub fn at(&self, wall: DateTime<Utc>) -> DateTime<Utc> {
        let Some(a) = self.anchor else {
            return wall;
        };
        let elapsed_ms = (wall - a.wall).num_milliseconds().max(0) as f64 * a.rate;
        // Finite and within chrono's range for any rate up to MAX_RATE over centuries.
        a.platform + Duration::milliseconds(elapsed_ms.min(i64::MAX as f64 / 4.0) as i64)
    }

    /// Whether a `clock` frame has been seen.
    pub fn is_set(&self) -> bool {
        self.anchor.is_some()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn t(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 6, h, m, s)
            .single()
            .expect("valid time")
    }

    #[test]
    fn without_a_frame_platform_time_is_the_consoles() {
        assert_eq!(PlatformClock::default().at(t(7, 0, 0)), t(7, 0, 0));
    }

    #[test]
    fn moves_at_the_platforms_rate_from_when_the_frame_arrived() {
        let mut clock = PlatformClock::default();
        // The console's clock is 11 minutes behind and the simulator runs at 10x.
        clock.set(t(7, 39, 19), 10.0, t(7, 28, 19));
        assert_eq!(clock.at(t(7, 28, 19)), t(7, 39, 19));
        assert_eq!(clock.at(t(7, 28, 22)), t(7, 39, 49));
        assert_eq!(
            clock.at(t(7, 28, 18)),
            t(7, 39, 19),
            "never before the frame"
        );
    }

    #[test]
    fn a_stopped_clock_stands_still_and_nonsense_rates_are_tamed() {
        let mut clock = PlatformClock::default();
        clock.set(t(7, 0, 0), 0.0, t(1, 0, 0));
        assert_eq!(clock.at(t(2, 0, 0)), t(7, 0, 0));
        clock.set(t(7, 0, 0), -3.0, t(1, 0, 0));
        assert_eq!(clock.at(t(2, 0, 0)), t(7, 0, 0));
        clock.set(t(7, 0, 0), f64::NAN, t(1, 0, 0));
        assert_eq!(clock.at(t(1, 0, 5)), t(7, 0, 5));
        clock.set(t(7, 0, 0), f64::INFINITY, t(1, 0, 0));
        assert!(clock.at(t(1, 0, 1)) > t(7, 0, 0));
    }
}
