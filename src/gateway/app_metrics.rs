//! The platform's apps in Prometheus text format, for `GET /metrics`: what a real Prometheus
//! scrapes from the simulator (or any platform that streams samples), so opsdeck can read it
//! back through PromQL like any other exporter.
//!
//! Built from the `metrics` samples the platform publishes, one per app per platform second:
//! counters (requests, errors, a latency histogram) grow by each sample's rate times the real
//! time it covers, so `rate()` in Prometheus (which runs on real time) reads the platform's
//! requests per second whatever the simulator's speed; gauges hold the last sample.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;

use crate::protocol::MetricSample;

/// Upper bounds of the latency histogram's buckets, seconds (Prometheus's defaults).
pub const BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// One app's counters since the gateway started.
#[derive(Clone, Debug, Default, PartialEq)]
struct AppCounters {
    requests: f64,
    errors: f64,
    /// Requests at or under each of [`BUCKETS`].
    buckets: [f64; BUCKETS.len()],
    duration_sum: f64,
    last: MetricSample,
}

/// Every app's counters, by app id.
#[derive(Debug, Default)]
pub struct AppMetrics {
    apps: Mutex<BTreeMap<String, AppCounters>>,
}

impl AppMetrics {
    /// Count one sample of `app` covering `real_secs` seconds of real time.
    pub fn observe(&self, app: &str, sample: &MetricSample, real_secs: f64) {
        let Ok(mut apps) = self.apps.lock() else {
            return;
        };
        // On the ingest path for every sample: allocate the key only for an app not seen yet.
        if !apps.contains_key(app) {
            apps.insert(app.to_string(), AppCounters::default());
        }
        let Some(c) = apps.get_mut(app) else {
            return;
        };
        let n = finite(sample.rps).max(0.0) * finite(real_secs).max(0.0);
        c.requests += n;
        c.errors += n * finite(sample.error_ratio).clamp(0.0, 1.0);
        let latency = &sample.latency_ms;
        for (count, bound) in c.buckets.iter_mut().zip(BUCKETS) {
            *count += n * share_within(bound * 1000.0, latency.p50, latency.p95, latency.p99);
        }
        c.duration_sum += n * finite(latency.p50).max(0.0) / 1000.0;
        c.last = sample.clone();
    }

    /// The text exposition of every app seen so far.
    pub fn render(&self) -> String {
        let Ok(apps) = self.apps.lock() else {
            return String::new();
        };
        let mut out = String::with_capacity(256 + apps.len() * 1024);
        family(
            &mut out,
            "opsdeck_app_requests_total",
            "counter",
            "Requests served",
            &apps,
            |c| c.requests,
        );
        family(
            &mut out,
            "opsdeck_app_errors_total",
            "counter",
            "Requests that failed",
            &apps,
            |c| c.errors,
        );
        let name = "opsdeck_app_request_duration_seconds";
        let _ = writeln!(out, "# HELP {name} Request latency.");
        let _ = writeln!(out, "# TYPE {name} histogram");
        for (app, c) in apps.iter() {
            let app = escape(app);
            for (bound, count) in BUCKETS.iter().zip(c.buckets) {
                // Rounding must never make a bucket hold more than the next or the total.
                let count = count.min(c.requests);
                let _ = writeln!(out, "{name}_bucket{{app=\"{app}\",le=\"{bound}\"}} {count}");
            }
            let total = c.requests;
            let _ = writeln!(out, "{name}_bucket{{app=\"{app}\",le=\"+Inf\"}} {total}");
            let _ = writeln!(out, "{name}_sum{{app=\"{app}\"}} {}", c.duration_sum);
            let _ = writeln!(out, "{name}_count{{app=\"{app}\"}} {total}");
        }
        family(
            &mut out,
            "opsdeck_app_cpu_ratio",
            "gauge",
            "CPU used as a share of what the replicas requested",
            &apps,
            |c| finite(c.last.cpu),
        );
        family(
            &mut out,
            "opsdeck_app_memory_bytes",
            "gauge",
            "Resident memory across replicas",
            &apps,
            |c| finite(c.last.memory_mb) * 1024.0 * 1024.0,
        );
        family(
            &mut out,
            "opsdeck_app_replicas_ready",
            "gauge",
            "Replicas ready",
            &apps,
            |c| f64::from(c.last.replicas_ready),
        );
        family(
            &mut out,
            "opsdeck_app_replicas_desired",
            "gauge",
            "Replicas wanted",
            &apps,
            |c| f64::from(c.last.replicas_desired),
        );
        out
    }
}

fn family(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    apps: &BTreeMap<String, AppCounters>,
    value: impl Fn(&AppCounters) -> f64,
) {
    let _ = writeln!(out, "# HELP {name} {help}.");
    let _ = writeln!(out, "# TYPE {name} {kind}");
    for (app, c) in apps {
        let _ = writeln!(out, "{name}{{app=\"{}\"}} {}", escape(app), value(c));
    }
}

fn finite(v: f64) -> f64 {
    if v.is_finite() { v } else { 0.0 }
}

/// A label value as the text format wants it: backslash, quote and newline escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// The share of requests at or under `bound_ms`, from the sample's quantiles: the latency
/// distribution taken as linear between (0, 0), (0.5, p50), (0.95, p95), (0.99, p99) and
/// (1, 2 x p99).
pub fn share_within(bound_ms: f64, p50: f64, p95: f64, p99: f64) -> f64 {
    let p50 = finite(p50).max(0.0);
    let p95 = finite(p95).max(p50);
    let p99 = finite(p99).max(p95);
    let points = [
        (0.0, 0.0),
        (p50, 0.5),
        (p95, 0.95),
        (p99, 0.99),
        (2.0 * p99, 1.0),
    ];
    if bound_ms >= points[4].0 {
        return 1.0;
    }
    for pair in points.windows(2) {
        let ((x0, q0), (x1, q1)) = (pair[0], pair[1]);
        if bound_ms < x1 {
            if x1 <= x0 {
                return q0;
            }
            return q0 + (q1 - q0) * (bound_ms - x0) / (x1 - x0);
        }
    }
    1.0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::protocol::Latency;

    fn sample(rps: f64, err: f64, p50: f64, p95: f64, p99: f64) -> MetricSample {
        MetricSample {
            rps,
            error_ratio: err,
            latency_ms: Latency { p50, p95, p99 },
            cpu: 0.5,
            memory_mb: 512.0,
            replicas_ready: 3,
            replicas_desired: 4,
            ..MetricSample::default()
        }
    }

    /// The value of the line that starts with `series ` in `text`.
    fn value(text: &str, series: &str) -> f64 {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or_else(|| panic!("no {series} in\n{text}"))
    }

    #[test]
    fn counters_grow_by_rate_times_real_time_and_gauges_hold_the_last_sample() {
        let m = AppMetrics::default();
        // Ten platform seconds at 10x: one real second at 200 rps, 5% failing.
        for _ in 0..10 {
            m.observe("shop-cart", &sample(200.0, 0.05, 40.0, 120.0, 180.0), 0.1);
        }
        let text = m.render();
        assert!(
            (value(&text, r#"opsdeck_app_requests_total{app="shop-cart"}"#) - 200.0).abs() < 1e-6
        );
        assert!((value(&text, r#"opsdeck_app_errors_total{app="shop-cart"}"#) - 10.0).abs() < 1e-6);
        assert_eq!(
            value(&text, r#"opsdeck_app_replicas_ready{app="shop-cart"}"#),
            3.0
        );
        assert_eq!(
            value(&text, r#"opsdeck_app_memory_bytes{app="shop-cart"}"#),
            512.0 * 1048576.0
        );
        let inf = r#"opsdeck_app_request_duration_seconds_bucket{app="shop-cart",le="+Inf"}"#;
        assert!((value(&text, inf) - 200.0).abs() < 1e-6);
        // Half the requests are at or under p50 (40 ms): between the 25 ms and 50 ms buckets.
        let b25 = r#"opsdeck_app_request_duration_seconds_bucket{app="shop-cart",le="0.025"}"#;
        let b50 = r#"opsdeck_app_request_duration_seconds_bucket{app="shop-cart",le="0.05"}"#;
        assert!(
            value(&text, b25) < 100.0 && value(&text, b50) > 100.0,
            "{text}"
        );
    }

    #[test]
    fn buckets_never_decrease_and_nonsense_counts_nothing() {
        let mut last = 0.0;
        for bound in BUCKETS {
            let share = share_within(bound * 1000.0, 40.0, 120.0, 180.0);
            assert!(share >= last && share <= 1.0, "{bound}: {share}");
            last = share;
        }
        assert_eq!(share_within(500.0, 40.0, 120.0, 180.0), 1.0);
        assert_eq!(share_within(5.0, 0.0, 0.0, 0.0), 1.0);
        let m = AppMetrics::default();
        m.observe(
            "x",
            &sample(f64::NAN, f64::INFINITY, f64::NAN, 1.0, 2.0),
            1.0,
        );
        let text = m.render();
        assert_eq!(value(&text, r#"opsdeck_app_requests_total{app="x"}"#), 0.0);
        assert!(!text.contains("NaN") && !text.contains("inf "), "{text}");
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
