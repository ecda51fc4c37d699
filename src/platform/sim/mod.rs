//! The simulated mini-program cloud: the embedded default platform behind the gateway.
//!
//! A small digital twin for practising incident response: ten apps across three regions
//! (`catalog`), traffic with a daily shape and a queueing model of latency and errors
//! (`traffic`, `model`), pods that schedule, start, crash and get evicted (`pods`,
//! `deployment`), logs generated from that state (`logs`, `stacks`), Prometheus-style alert
//! rules (`alerts`), release history and rollbacks (`releases`), operator actions (`actions`),
//! incident scenarios (`scenarios`) and a bounded timeline (`timeline`).
//!
//! [`Sim`] is the pure, synchronous core: one [`Sim::step`] is one platform second, driven by a
//! seeded generator and a virtual clock. [`SimPlatform`] wraps it for the gateway: a mutex that
//! is never held across an await, and a task that steps it at `speed` platform seconds per real
//! second and pushes what it observes into the sink.

mod actions;
mod alerts;
mod catalog;
mod clock;
mod deployment;
mod engine;
mod logs;
mod model;
mod noise;
mod operations;
mod pods;
mod queries;
mod releases;
mod scenarios;
mod stacks;
mod timeline;
mod traffic;

#[cfg(test)]
mod tests;

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio::time::{Instant, MissedTickBehavior};

pub use engine::{Footprint, Sim};

use super::{
    ActionRequest, Emission, EventSink, Platform, PlatformError, ProbeResponse, RollbackPlan,
};
use crate::protocol::{Alert, AppDetail, AppSummary, Release, TimelineEntry};

/// Names accepted by `--scenario` and POST /v1/sim/scenarios.
pub const SCENARIOS: &[&str] = &[
    "flash-sale",
    "bad-release",
    "cache-degradation",
    "az-outage",
    "memory-leak",
];

/// How the simulator is set up.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Same seed, same events.
    pub seed: u64,
    /// Platform seconds per real second.
    pub speed: f64,
    /// A scenario to start at once.
    pub scenario: Option<String>,
    /// Virtual clock at start.
    pub start: DateTime<Utc>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 42,
            speed: 1.0,
            scenario: None,
            start: Utc::now(),
        }
    }
}

/// Shortest real time between two wake-ups of the stepping task.
const MIN_TICK: Duration = Duration::from_millis(10);
/// Most platform seconds stepped in one wake-up; beyond that the platform runs slow.
const MAX_STEPS_PER_TICK: u64 = 1_000;

/// The simulator as a [`Platform`].
pub struct SimPlatform {
    sim: Mutex<Sim>,
    speed: f64,
    /// Stepped by its owner ([`SimPlatform::step`]) rather than by the wall clock.
    stepped: bool,
    /// Wakes the stepping task when an operator call queued emissions.
    wake: Notify,
}

impl SimPlatform {
    pub fn new(cfg: SimConfig) -> Self {
        let speed = if cfg.speed.is_finite() && cfg.speed > 0.0 {
            cfg.speed
        } else {
            tracing::warn!(speed = cfg.speed, "invalid simulator speed; using 1.0");
            1.0
        };
        SimPlatform {
            sim: Mutex::new(Sim::new(&cfg)),
            speed,
            stepped: false,
            wake: Notify::new(),
        }
    }

    /// The simulator stepped by its owner, one platform second per [`SimPlatform::step`],
    /// instead of by the wall clock: `run` sends nothing, so the same calls give the same
    /// emissions. For screenshots and benchmarks.
    pub fn stepped(cfg: SimConfig) -> Self {
        SimPlatform {
            stepped: true,
            ..SimPlatform::new(cfg)
        }
    }

    /// One platform second: what operator calls queued, then the second's own emissions.
    pub fn step(&self) -> Result<Vec<Emission>, PlatformError> {
        Ok(self.lock()?.step())
    }

    /// What operator calls queued since the last step, as `run` sends it at once.
    pub fn drain_outbox(&self) -> Result<Vec<Emission>, PlatformError> {
        Ok(self.lock()?.drain_outbox())
    }

    fn lock(&self) -> Result<MutexGuard<'_, Sim>, PlatformError> {
        self.sim
            .lock()
            .map_err(|_| PlatformError::Unavailable("simulator state is poisoned".into()))
    }

    /// Run `f` on the core, then wake the stepping task to send what it queued.
    fn act<T>(
        &self,
        f: impl FnOnce(&mut Sim) -> Result<T, PlatformError>,
    ) -> Result<T, PlatformError> {
        let result = f(&mut *self.lock()?);
        self.wake.notify_one();
        result
    }

    /// Step as many platform seconds as are due by `elapsed` real time.
    fn due_emissions(
        &self,
        elapsed: Duration,
        stepped: &mut u64,
    ) -> Result<Vec<Emission>, PlatformError> {
        let due = (elapsed.as_secs_f64() * self.speed).floor();
        // `due` is non-negative and finite; the cast saturates on absurd values.
        let due = due as u64;
        let mut sim = self.lock()?;
        let mut out = sim.drain_outbox();
        let steps = due.saturating_sub(*stepped).min(MAX_STEPS_PER_TICK);
        for _ in 0..steps {
            out.extend(sim.step());
        }
        *stepped = (*stepped + steps).max(due.saturating_sub(MAX_STEPS_PER_TICK));
        Ok(out)
    }
}

#[async_trait]
impl Platform for SimPlatform {
    fn name(&self) -> &str {
        "sim"
    }

    async fn run(&self, sink: EventSink) {
        if self.stepped {
            sink.closed().await;
            return;
        }
        let period = Duration::try_from_secs_f64(1.0 / self.speed)
            .unwrap_or(Duration::from_secs(1))
            .clamp(MIN_TICK, Duration::from_secs(1));
        let mut interval = tokio::time::interval(period);
        interval.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let started = Instant::now();
        let mut stepped = 0;
        loop {
            tokio::select! {
                biased;
                () = sink.closed() => return,
                () = self.wake.notified() => {}
                _ = interval.tick() => {}
            }
            let batch = match self.due_emissions(started.elapsed(), &mut stepped) {
                Ok(batch) => batch,
                Err(err) => {
                    tracing::error!(error = %err, "simulator stopped");
                    return;
                }
            };
            for emission in batch {
                if sink.send(emission).await.is_err() {
                    return;
                }
            }
        }
    }

    async fn apps(&self) -> Result<Vec<AppSummary>, PlatformError> {
        Ok(self.lock()?.apps())
    }

    async fn app(&self, app: &str) -> Result<AppDetail, PlatformError> {
        self.lock()?.app(app)
    }

    async fn releases(&self, app: &str) -> Result<Vec<Release>, PlatformError> {
        self.lock()?.releases(app)
    }

    async fn scale(
        &self,
        app: &str,
        replicas: u32,
        action: ActionRequest,
    ) -> Result<(), PlatformError> {
        self.act(|sim| sim.scale(app, replicas, &action))
    }

    async fn rollback(
        &self,
        app: &str,
        to: Option<&str>,
        action: ActionRequest,
    ) -> Result<RollbackPlan, PlatformError> {
        self.act(|sim| sim.rollback(app, to, &action))
    }

    async fn alerts(&self) -> Result<Vec<Alert>, PlatformError> {
        Ok(self.lock()?.alerts())
    }

    async fn acknowledge(&self, alert: &str, by: &str) -> Result<Alert, PlatformError> {
        self.act(|sim| sim.acknowledge(alert, by))
    }

    async fn silence(
        &self,
        alert: &str,
        secs: u64,
        comment: &str,
        by: &str,
    ) -> Result<Alert, PlatformError> {
        self.act(|sim| sim.silence(alert, secs, comment, by))
    }

    async fn expire_silence(&self, alert: &str, by: &str) -> Result<Alert, PlatformError> {
        self.act(|sim| sim.expire_silence(alert, by))
    }

    async fn events(&self) -> Result<Vec<TimelineEntry>, PlatformError> {
        Ok(self.lock()?.events())
    }

    async fn start_scenario(&self, name: &str) -> Result<(), PlatformError> {
        self.act(|sim| sim.start_scenario(name))
    }

    /// The virtual clock, so runbook durations follow `speed`.
    fn now(&self) -> DateTime<Utc> {
        match self.lock() {
            Ok(sim) => sim.now(),
            Err(_) => Utc::now(),
        }
    }

    /// `speed`, or 0 when stepped by hand: time then moves only with each step.
    fn clock_rate(&self) -> f64 {
        if self.stepped { 0.0 } else { self.speed }
    }

    /// `sim://{app}/{path}` is answered from the model: 503 without ready replicas, 500 while
    /// most requests fail, else 200 with the app's release. Other URLs are fetched for real.
    async fn probe(&self, url: &str, timeout: Duration) -> Result<ProbeResponse, PlatformError> {
        let Some(rest) = url.strip_prefix("sim://") else {
            return super::probe_http(url, timeout).await;
        };
        let app = rest.split('/').next().unwrap_or_default();
        let sim = self.lock()?;
        let Ok(detail) = sim.app(app) else {
            return Ok(ProbeResponse {
                status: 404,
                body: format!("no app {app:?} on the simulated cloud"),
            });
        };
        let summary = detail.summary;
        let errors = summary.metrics.as_ref().map_or(0.0, |m| m.error_ratio);
        let (status, body) = if summary.replicas.ready == 0 {
            (503, "no ready replicas".to_string())
        } else if errors > 0.5 {
            (
                500,
                format!("internal error ({:.0}% of requests fail)", errors * 100.0),
            )
        } else {
            (
                200,
                format!(
                    r#"{{"status":"ok","app":"{}","release":"{}","version":"{}"}}"#,
                    summary.id, summary.release, summary.version
                ),
            )
        };
        Ok(ProbeResponse { status, body })
    }
}
