//! One second of an app's traffic and what it measures: offered load from the daily shape,
//! drift, noise and any incident; service time from cache and database health and the
//! releases its pods run; then the queueing model, and the sample with platform extras.

use std::collections::BTreeMap;

use fastrand::Rng;

use super::catalog::AppKind;
use super::clock::daily_factor;
use super::deployment::Deployment;
use super::model::{Load, serve};
use super::noise::normal;
use crate::protocol::{Latency, MetricSample};

/// Cache hit ratio of a warm cache.
const WARM_HIT: f64 = 0.96;
/// Database latency when healthy, ms.
const HEALTHY_DB_MS: f64 = 4.0;

/// The world around an app this second.
#[derive(Clone, Copy, Debug)]
pub struct Conditions {
    /// Local hour of day, fractional.
    pub local_hour: f64,
    /// Multiplier on traffic from incidents (a flash sale).
    pub traffic: f64,
    /// How far an event lifts the hour's traffic to the day's peak before `traffic` multiplies
    /// it, 0..=1: a flash sale draws its crowd at whatever hour it starts (双十一 opens at
    /// midnight), so at 03:00 it surges from the peak, not from the night's trickle.
    pub peak: f64,
    /// How degraded the shared cache is, 0 (fine) to 1 (mostly missing).
    pub cache_pressure: f64,
}

fn miss_cost_ms(uses_cache: bool, uses_db: bool, hit: f64, db_ms: f64) -> f64 {
    if uses_cache {
        (1.0 - hit) * db_ms * 3.0
    } else if uses_db {
        db_ms * 0.5
    } else {
        0.0
    }
}

fn round_to(value: f64, step: f64) -> f64 {
    (value / step).round() * step
}

impl Deployment {
    /// Simulate one second of traffic and store the resulting sample.
    pub fn observe(&mut self, cond: &Conditions, rng: &mut Rng) -> &MetricSample {
        let spec = self.spec;
        self.wander = 0.97 * self.wander + 0.015 * normal(rng);
        let hour_share = daily_factor(spec.shape, cond.local_hour);
        let shape = hour_share + (1.0 - hour_share).max(0.0) * cond.peak;
        let rps = (spec.peak_rps
            * shape
            * (1.0 + self.wander)
            * (1.0 + 0.03 * normal(rng))
            * cond.traffic)
            .max(0.0);

        let target_hit = WARM_HIT - 0.6 * cond.cache_pressure;
        self.cache_hit =
            (self.cache_hit + (target_hit - self.cache_hit) * 0.05 + 0.002 * normal(rng))
                .clamp(0.0, 1.0);
        let target_db = HEALTHY_DB_MS + 25.0 * cond.cache_pressure;
        self.db_latency_ms =
            (self.db_latency_ms + (target_db - self.db_latency_ms) * 0.05 + 0.2 * normal(rng))
                .max(1.0);

        // Code behaviour is the mix of the releases the ready pods run.
        let ready = self.ready();
        let (mut code_error, mut latency_factor) = (0.0, 0.0);
        for pod in self.pods.iter().filter(|p| p.is_ready()) {
            let traits = self.releases.traits_of(&pod.release);
            code_error += traits.error_ratio;
            latency_factor += traits.latency_factor;
        }
        if ready > 0 {
            code_error /= f64::from(ready);
            latency_factor /= f64::from(ready);
        } else {
            latency_factor = 1.0;
        }

        let nominal_ms =
            spec.service_ms + miss_cost_ms(spec.cache, spec.db, WARM_HIT, HEALTHY_DB_MS);
        let service_ms = spec.service_ms * latency_factor
            + miss_cost_ms(spec.cache, spec.db, self.cache_hit, self.db_latency_ms);
        let load = Load {
            rps,
            ready,
            capacity_rps: spec.capacity_rps,
            nominal_ms,
            service_ms,
            code_error: spec.base_error + code_error,
        };
        let served = serve(&load);
        self.rho = served.rho;

        let capacity = load.capacity();
        self.queue_depth = if rps > capacity {
            self.queue_depth + (rps - capacity)
        } else {
            self.queue_depth - (capacity - rps) * 0.5
        }
        .clamp(0.0, 50_000.0);

        let jitter = (1.0 + 0.04 * normal(rng)).max(0.5);
        let latency = Latency {
            p50: round_to(served.latency.p50 * jitter, 0.1),
            p95: round_to(served.latency.p95 * jitter, 0.1),
            p99: round_to(served.latency.p99 * jitter, 0.1),
        };
        let error_ratio = (served.error_ratio * (1.0 + 0.1 * normal(rng))).clamp(0.0, 1.0);
        let cpu = if ready > 0 {
            (served.cpu + 0.01 * normal(rng)).max(0.01)
        } else {
            0.0
        };
        let memory: f64 = self
            .pods
            .iter()
            .map(|p| p.memory_mb(spec, served.rho))
            .sum();

        self.sample = MetricSample {
            rps: round_to(rps, 0.1),
            latency_ms: latency,
            error_ratio: round_to(error_ratio, 0.0001),
            cpu: round_to(cpu, 0.001),
            memory_mb: round_to(memory, 0.1),
            replicas_ready: ready,
            replicas_desired: self.desired,
            extras: self.extras(rps),
            absent: Vec::new(),
            problem: None,
        };
        &self.sample
    }

    fn extras(&self, rps: f64) -> BTreeMap<String, f64> {
        let spec = self.spec;
        let mut extras = BTreeMap::new();
        if spec.cache {
            extras.insert("cache_hit_ratio".into(), round_to(self.cache_hit, 0.001));
        }
        if spec.db {
            extras.insert("db_latency_ms".into(), round_to(self.db_latency_ms, 0.1));
        }
        let connections_per_rps = match spec.kind {
            AppKind::Chat => 35.0,
            AppKind::Classroom => 60.0,
            _ => 0.0,
        };
        if connections_per_rps > 0.0 && self.ready() > 0 {
            extras.insert("ws_connections".into(), (rps * connections_per_rps).round());
        }
        if matches!(
            spec.kind,
            AppKind::FlashSale | AppKind::Orders | AppKind::Payments
        ) {
            extras.insert("queue_depth".into(), self.queue_depth.round());
        }
        if spec.kind == AppKind::ImageOrigin {
            extras.insert("egress_mbps".into(), round_to(rps * 1.4, 0.1));
        }
        extras
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::platform::sim::catalog::APPS;
    use chrono::{TimeZone, Utc};

    fn observe_for(app: &mut Deployment, cond: &Conditions, secs: u32, rng: &mut Rng) {
        for _ in 0..secs {
            app.observe(cond, rng);
        }
    }

    #[test]
    fn a_degraded_cache_slows_requests_and_reports_the_hit_ratio() {
        let spec = APPS.iter().find(|a| a.id == "shop-storefront").unwrap();
        let now = Utc.with_ymd_and_hms(2025, 11, 11, 12, 0, 0).unwrap();
        let mut rng = Rng::with_seed(5);
        let mut app = Deployment::new(spec, now, &mut rng);
        let calm = Conditions {
            local_hour: 15.0,
            traffic: 1.0,
            peak: 0.0,
            cache_pressure: 0.0,
        };
        observe_for(&mut app, &calm, 60, &mut rng);
        let before = app.sample.clone();
        assert!(before.extras["cache_hit_ratio"] > 0.9);
        assert!(before.latency_ms.p99 < spec.slo_p99_ms);
        let degraded = Conditions {
            cache_pressure: 1.0,
            ..calm
        };
        observe_for(&mut app, &degraded, 180, &mut rng);
        let after = &app.sample;
        assert!(after.extras["cache_hit_ratio"] < 0.5, "{after:?}");
        assert!(after.extras["db_latency_ms"] > 20.0);
        assert!(after.latency_ms.p99 > 2.0 * before.latency_ms.p99);
    }

    #[test]
    fn night_traffic_is_a_fraction_of_the_evening_peak() {
        let spec = APPS.iter().find(|a| a.id == "shop-cart").unwrap();
        let now = Utc.with_ymd_and_hms(2025, 11, 11, 12, 0, 0).unwrap();
        let mut rng = Rng::with_seed(5);
        let mut app = Deployment::new(spec, now, &mut rng);
        let mut at = |hour, peak| {
            let cond = Conditions {
                local_hour: hour,
                traffic: 1.0,
                peak,
                cache_pressure: 0.0,
            };
            observe_for(&mut app, &cond, 30, &mut rng);
            app.sample.rps
        };
        let night = at(4.0, 0.0);
        let evening = at(21.0, 0.0);
        assert!(evening > 4.0 * night, "{night} vs {evening}");
        // An event at its height (a flash sale) draws the evening's crowd at 04:00 too.
        let sale_at_night = at(4.0, 1.0);
        assert!(
            sale_at_night > 0.8 * evening,
            "{sale_at_night} vs {evening}"
        );
    }
}
