//! One hour of one app's metrics at 1 Hz, for the App view's charts.
//!
//! The overview's sparkline keeps its short [`super::History`] of rps; this ring keeps every
//! charted series, one point per second, for [`CHART_HISTORY_SECS`]. Memory is bounded twice:
//! at most one point per second (a second sample in the same second replaces the first) and at
//! most [`CHART_HISTORY_LEN`] points. A point is 40 bytes (values as `f32`), so a full hour is
//! about 144 KiB per app; the ring grows as samples arrive, so an app seen for a minute costs
//! a minute.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use crate::protocol::{Metric, MetricSample};

/// How far back charts can look, seconds.
pub const CHART_HISTORY_SECS: i64 = 3600;
/// Most points kept per app: one hour at one per second.
pub const CHART_HISTORY_LEN: usize = 3600;

/// One second of an app's metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct MetricPoint {
    /// Unix time, whole seconds (the gateway's event timestamp).
    pub at: i64,
    pub rps: f32,
    pub p50_ms: f32,
    pub p99_ms: f32,
    pub error_ratio: f32,
    pub cpu: f32,
    pub memory_mb: f32,
    pub replicas_ready: f32,
    pub replicas_desired: f32,
}

/// A series the App view can chart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Series {
    Rps,
    P50,
    P99,
    ErrorRatio,
    Cpu,
    MemoryMb,
    ReplicasReady,
    ReplicasDesired,
}

impl Series {
    /// This series' value at a point.
    pub fn value(self, p: &MetricPoint) -> f64 {
        f64::from(match self {
            Series::Rps => p.rps,
            Series::P50 => p.p50_ms,
            Series::P99 => p.p99_ms,
            Series::ErrorRatio => p.error_ratio,
            Series::Cpu => p.cpu,
            Series::MemoryMb => p.memory_mb,
            Series::ReplicasReady => p.replicas_ready,
            Series::ReplicasDesired => p.replicas_desired,
        })
    }
}

/// The time span the App view's charts show; `w` cycles, `1`-`4` pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum ChartWindow {
    M1,
    #[default]
    M5,
    M15,
    H1,
}

impl ChartWindow {
    pub const ALL: [ChartWindow; 4] = [
        ChartWindow::M1,
        ChartWindow::M5,
        ChartWindow::M15,
        ChartWindow::H1,
    ];

    pub fn secs(self) -> i64 {
        match self {
            ChartWindow::M1 => 60,
            ChartWindow::M5 => 300,
            ChartWindow::M15 => 900,
            ChartWindow::H1 => 3600,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ChartWindow::M1 => "1m",
            ChartWindow::M5 => "5m",
            ChartWindow::M15 => "15m",
            ChartWindow::H1 => "1h",
        }
    }

    pub fn next(self) -> ChartWindow {
        match self {
            ChartWindow::M1 => ChartWindow::M5,
            ChartWindow::M5 => ChartWindow::M15,
            ChartWindow::M15 => ChartWindow::H1,
            ChartWindow::H1 => ChartWindow::M1,
        }
    }
}

/// The newest hour of points, oldest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MetricHistory {
    points: VecDeque<MetricPoint>,
}

impl MetricHistory {
    /// Record a sample taken at `at` (its absent values as NaN). A sample in the same second as the newest point replaces
    /// it; one older than the newest point (clock skew, replay) is placed at the newest second,
    /// so the series stays ordered.
    pub fn push(&mut self, at: DateTime<Utc>, m: &MetricSample) {
        let newest = self.points.back().map(|p| p.at);
        let at = newest.map_or(at.timestamp(), |n| n.max(at.timestamp()));
        // A value the source had no series for is NaN: a gap in its chart, not a 0.
        let v = |metric: Metric, value: f64| {
            if m.has(metric) {
                value as f32
            } else {
                f32::NAN
            }
        };
        let point = MetricPoint {
            at,
            rps: v(Metric::Rps, m.rps),
            p50_ms: v(Metric::P50, m.latency_ms.p50),
            p99_ms: v(Metric::P99, m.latency_ms.p99),
            error_ratio: v(Metric::ErrorRatio, m.error_ratio),
            cpu: v(Metric::Cpu, m.cpu),
            memory_mb: v(Metric::Memory, m.memory_mb),
            replicas_ready: v(Metric::ReplicasReady, f64::from(m.replicas_ready)),
            replicas_desired: v(Metric::ReplicasDesired, f64::from(m.replicas_desired)),
        };
        if newest == Some(at) {
            if let Some(last) = self.points.back_mut() {
                *last = point;
            }
            return;
        }
        self.points.push_back(point);
        while self.points.len() > CHART_HISTORY_LEN
            || self
                .points
                .front()
                .is_some_and(|p| p.at <= at - CHART_HISTORY_SECS)
        {
            self.points.pop_front();
        }
    }

    /// Fill in what happened before the first point held (the gateway's history, asked for
    /// when a chart opens): samples older than the oldest point, oldest first; newer ones are
    /// already here from the stream.
    pub fn backfill(&mut self, samples: &[(DateTime<Utc>, MetricSample)]) {
        let Some(newest) = samples.last().map(|(at, _)| at.timestamp()) else {
            return;
        };
        let oldest = self.points.front().map_or(i64::MAX, |p| p.at);
        let mut earlier = MetricHistory::default();
        for (at, sample) in samples {
            if at.timestamp() < oldest {
                earlier.push(*at, sample);
            }
        }
        earlier.points.extend(self.points.drain(..));
        let last = earlier.points.back().map_or(newest, |p| p.at);
        while earlier.points.len() > CHART_HISTORY_LEN
            || earlier
                .points
                .front()
                .is_some_and(|p| p.at <= last - CHART_HISTORY_SECS)
        {
            earlier.points.pop_front();
        }
        *self = earlier;
    }

    pub fn len(&self) -> usize {
        self.points.len()
    }

    pub fn is_empty(&self) -> bool {
        self.points.is_empty()
    }

    /// Points at or after `from` (unix seconds), oldest first.
    pub fn since(&self, from: i64) -> impl Iterator<Item = &MetricPoint> + '_ {
        let start = self.points.partition_point(|p| p.at < from);
        self.points.range(start..)
    }

    pub fn oldest(&self) -> Option<&MetricPoint> {
        self.points.front()
    }

    pub fn newest(&self) -> Option<&MetricPoint> {
        self.points.back()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    #[allow(clippy::unwrap_used)]
    fn one_point_per_second_and_at_most_an_hour() {
        let t0 = Utc.with_ymd_and_hms(2025, 3, 14, 3, 0, 0).unwrap();
        let mut h = MetricHistory::default();
        let m = |rps| MetricSample {
            rps,
            ..Default::default()
        };
        h.push(t0, &m(1.0));
        h.push(t0, &m(2.0));
        assert_eq!(h.len(), 1);
        assert_eq!(h.newest().unwrap().rps, 2.0);
        for s in 1..5000 {
            h.push(t0 + chrono::Duration::seconds(s), &m(s as f64));
        }
        assert_eq!(h.len(), CHART_HISTORY_LEN);
        assert_eq!(h.oldest().unwrap().at, t0.timestamp() + 5000 - 3600);
        assert_eq!(h.since(t0.timestamp() + 4940).count(), 60);
        // An older timestamp does not reorder the series.
        h.push(t0, &m(7.0));
        assert_eq!(h.newest().unwrap().at, t0.timestamp() + 4999);
        assert_eq!(h.newest().unwrap().rps, 7.0);
    }

    #[test]
    fn backfill_puts_the_gateways_history_before_what_the_stream_brought() {
        let t0 = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
        let m = |rps: f64| MetricSample {
            rps,
            ..MetricSample::default()
        };
        let mut h = MetricHistory::default();
        h.push(t0 + Duration::seconds(100), &m(100.0));
        h.push(t0 + Duration::seconds(101), &m(101.0));
        // The gateway's last 110 s, overlapping what the stream brought.
        let history: Vec<_> = (0..=101)
            .step_by(5)
            .map(|s| (t0 + Duration::seconds(s), m(s as f64)))
            .collect();
        h.backfill(&history);
        let ats: Vec<i64> = h.since(0).map(|p| p.at - t0.timestamp()).collect();
        assert_eq!(ats.first(), Some(&0));
        assert_eq!(
            &ats[ats.len() - 2..],
            &[100, 101],
            "the stream's points stay"
        );
        assert!(ats.windows(2).all(|w| w[0] < w[1]), "{ats:?}");
        assert_eq!(h.newest().unwrap().rps, 101.0);
        h.backfill(&[]);
        assert_eq!(h.len(), ats.len());
    }
}
