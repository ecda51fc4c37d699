//! The virtual clock: platform time advances one second per model step, never from the wall
//! clock, and the time of day (China Standard Time) shapes the traffic.

use chrono::{DateTime, Duration, Timelike, Utc};

use super::catalog::DailyShape;

/// Platform time: a fixed start plus whole seconds elapsed.
#[derive(Clone, Debug)]
pub struct Clock {
    start: DateTime<Utc>,
    tick: u64,
}

impl Clock {
    pub fn new(start: DateTime<Utc>) -> Self {
        Clock { start, tick: 0 }
    }

    /// Advance one platform second.
    pub fn advance(&mut self) {
        self.tick += 1;
    }

    /// Platform seconds since start.
    pub fn tick(&self) -> u64 {
        self.tick
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.at(self.tick)
    }

    /// The platform time of a tick.
    pub fn at(&self, tick: u64) -> DateTime<Utc> {
        let secs = i64::try_from(tick).unwrap_or(i64::MAX);
        self.start
            .checked_add_signed(Duration::seconds(secs))
            .unwrap_or(self.start)
    }

    /// Hour of day in China Standard Time (UTC+8), fractional.
    pub fn local_hour(&self) -> f64 {
        let now = self.now();
        let secs = f64::from(now.num_seconds_from_midnight());
        (secs / 3600.0 + 8.0) % 24.0
    }
}

/// Share of the daily peak expected at each local hour, for consumers on their phones.
const CONSUMER: [f64; 24] = [
    0.40, 0.26, 0.17, 0.12, 0.10, 0.12, 0.20, 0.36, 0.55, 0.66, 0.74, 0.84, 0.92, 0.84, 0.74, 0.72,
    0.74, 0.76, 0.78, 0.86, 0.95, 1.00, 0.88, 0.62,
];

/// Share of the daily peak at each local hour, for staff at work.
const OFFICE: [f64; 24] = [
    0.04, 0.03, 0.03, 0.03, 0.03, 0.04, 0.06, 0.15, 0.55, 0.92, 1.00, 0.95, 0.60, 0.75, 0.98, 1.00,
    0.95, 0.88, 0.50, 0.25, 0.18, 0.14, 0.10, 0.06,
];

/// Expected share of the daily peak at a local hour, interpolated between whole hours.
pub fn daily_factor(shape: DailyShape, local_hour: f64) -> f64 {
    let table = match shape {
        DailyShape::Consumer => &CONSUMER,
        DailyShape::Office => &OFFICE,
    };
    let hour = local_hour.rem_euclid(24.0);
    let lower = hour.floor();
    let frac = hour - lower;
    // `lower` is in 0..24, so the casts are exact.
    let i = (lower as usize) % 24;
    let j = (i + 1) % 24;
    table[i] * (1.0 - frac) + table[j] * frac
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn clock_advances_by_whole_seconds_and_reads_china_time() {
        let start = Utc.with_ymd_and_hms(2025, 11, 11, 4, 0, 0).single();
        let Some(start) = start else {
            panic!("valid date");
        };
        let mut clock = Clock::new(start);
        clock.advance();
        clock.advance();
        assert_eq!(clock.tick(), 2);
        assert_eq!((clock.now() - start).num_seconds(), 2);
        assert!((clock.local_hour() - 12.0).abs() < 0.01);
    }

    #[test]
    fn consumer_traffic_peaks_in_the_evening_and_sleeps_at_night() {
        let night = daily_factor(DailyShape::Consumer, 4.0);
        let evening = daily_factor(DailyShape::Consumer, 21.0);
        assert!(evening > 5.0 * night);
        let half = daily_factor(DailyShape::Consumer, 20.5);
        assert!((half - 0.975).abs() < 1e-9);
        assert!(daily_factor(DailyShape::Office, 3.0) < daily_factor(DailyShape::Office, 10.0));
    }
}
