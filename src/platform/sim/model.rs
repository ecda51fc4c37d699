//! The queueing model: from offered load and ready replicas to latency, errors and CPU.
//!
//! Each app is treated as `c` parallel servers (its ready replicas), M/M/c-ish: utilisation
//! `rho = rps / (ready * capacity_per_replica)`; queueing delay grows like `rho^3 / (1 - rho)`,
//! negligible at half load and steep as `rho` nears 1; above 1 the excess is shed or times out.

use crate::protocol::Latency;

/// Requests that wait longer than this are answered with a gateway timeout.
pub const TIMEOUT_MS: f64 = 10_000.0;

/// What is asked of an app in one second.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    /// Offered requests per second.
    pub rps: f64,
    pub ready: u32,
    /// Requests per second one replica serves at utilisation 1 with the nominal service time.
    pub capacity_rps: f64,
    /// Nominal service time, ms.
    pub nominal_ms: f64,
    /// Service time now (slower when the cache misses or the release is slow), ms.
    pub service_ms: f64,
    /// Error ratio the code produces regardless of load (background plus a bad release).
    pub code_error: f64,
}

/// How the app coped with that load.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Served {
    /// Utilisation; infinite when nothing is ready.
    pub rho: f64,
    pub latency: Latency,
    pub error_ratio: f64,
    /// CPU as a share of what the ready replicas requested.
    pub cpu: f64,
}

impl Load {
    /// Requests per second the ready replicas can serve now.
    pub fn capacity(&self) -> f64 {
        // A slower request holds a worker longer; async runtimes hide part of that, hence the
        // square root rather than the full ratio.
        let slowdown = (self.nominal_ms / self.service_ms.max(0.001)).sqrt();
        f64::from(self.ready) * self.capacity_rps * slowdown
    }
}

/// Serve one second of load.
pub fn serve(load: &Load) -> Served {
    let capacity = load.capacity();
    if capacity <= 0.0 {
        let error_ratio = if load.rps > 0.0 { 1.0 } else { 0.0 };
        return Served {
            rho: f64::INFINITY,
            latency: Latency {
                p50: TIMEOUT_MS,
                p95: TIMEOUT_MS,
                p99: TIMEOUT_MS,
            },
            error_ratio,
            cpu: 0.0,
        };
    }
    let rho = load.rps.max(0.0) / capacity;
    let bounded = rho.min(0.99);
    let queueing = bounded.powi(3) / (1.0 - bounded);
    let overload_ms = if rho > 1.0 { (rho - 1.0) * 6000.0 } else { 0.0 };
    let s = load.service_ms;
    let latency = Latency {
        p50: (s * (1.0 + 0.25 * queueing) + 0.5 * overload_ms).min(TIMEOUT_MS),
        p95: (s * (2.2 + 1.2 * queueing) + overload_ms).min(TIMEOUT_MS),
        p99: (s * (3.2 + 2.5 * queueing) + 1.5 * overload_ms).min(TIMEOUT_MS),
    };
    let near_saturation = if rho > 0.95 { (rho - 0.95) * 0.5 } else { 0.0 };
    let shed = if rho > 1.0 { 1.0 - 1.0 / rho } else { 0.0 };
    let ok = (1.0 - load.code_error.clamp(0.0, 1.0))
        * (1.0 - near_saturation.clamp(0.0, 1.0))
        * (1.0 - shed);
    Served {
        rho,
        latency,
        error_ratio: (1.0 - ok).clamp(0.0, 1.0),
        cpu: 0.04 + 0.9 * rho.min(1.3),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(rps: f64, ready: u32) -> Load {
        Load {
            rps,
            ready,
            capacity_rps: 100.0,
            nominal_ms: 20.0,
            service_ms: 20.0,
            code_error: 0.001,
        }
    }

    #[test]
    fn latency_rises_steeply_as_utilisation_nears_one() {
        let half = serve(&load(200.0, 4));
        let busy = serve(&load(360.0, 4));
        let full = serve(&load(395.0, 4));
        assert!((half.rho - 0.5).abs() < 1e-9);
        assert!(half.latency.p99 < 100.0, "{:?}", half.latency);
        assert!(busy.latency.p99 > 4.0 * half.latency.p99);
        assert!(full.latency.p99 > 3.0 * busy.latency.p99);
        assert!(half.latency.p50 < half.latency.p95 && half.latency.p95 < half.latency.p99);
    }

    #[test]
    fn overload_sheds_requests_and_more_replicas_relieve_it() {
        let overloaded = serve(&load(600.0, 4));
        assert!(overloaded.error_ratio > 0.3, "{overloaded:?}");
        let relieved = serve(&load(600.0, 12));
        assert!(relieved.error_ratio < 0.01);
        assert!(relieved.latency.p99 < overloaded.latency.p99 / 10.0);
        assert!(overloaded.cpu > 1.0 && relieved.cpu < 0.6);
    }

    #[test]
    fn no_ready_replicas_fail_everything() {
        let down = serve(&load(100.0, 0));
        assert_eq!(down.error_ratio, 1.0);
        assert_eq!(down.latency.p99, TIMEOUT_MS);
    }

    #[test]
    fn a_slow_service_time_lowers_capacity() {
        let mut slow = load(200.0, 4);
        slow.service_ms = 80.0;
        assert!((slow.capacity() - 200.0).abs() < 1e-9);
    }
}
