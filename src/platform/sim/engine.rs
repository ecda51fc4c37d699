//! The simulator's pure, synchronous core: [`Sim`] holds the whole platform and advances it one
//! platform second per [`Sim::step`]. No tokio, no I/O, no wall clock: one seeded generator
//! drives every draw, so a seed and a start time fix every emission.

use chrono::{DateTime, Utc};
use fastrand::Rng;

use super::SimConfig;
use super::actions::ActionBook;
use super::alerts::{AlertBook, OOM_WINDOW_SECS, Signals};
use super::catalog::APPS;
use super::clock::Clock;
use super::deployment::{Change, Deployment, RolloutKind};
use super::logs;
use super::scenarios::Scenarios;
use super::timeline::Timeline;
use super::traffic::Conditions;
use crate::platform::Emission;
use crate::protocol::{Alert, AlertState, Body, EventKind, MetricSample};

/// The simulated mini-program cloud.
pub struct Sim {
    pub(super) clock: Clock,
    pub(super) rng: Rng,
    pub(super) apps: Vec<Deployment>,
    pub(super) alerts: AlertBook,
    pub(super) actions: ActionBook,
    pub(super) timeline: Timeline,
    pub(super) scenarios: Scenarios,
    /// Emissions caused by operator calls between steps; sent before the next step's.
    pub(super) outbox: Vec<Emission>,
    logs_enabled: bool,
}

/// Sizes of the simulator's collections, to check that they stay bounded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footprint {
    pub timeline: usize,
    pub active_alerts: usize,
    pub resolved_alerts: usize,
    pub actions_in_flight: usize,
    pub outbox: usize,
    pub pods: usize,
    /// The longest release history of any app.
    pub releases: usize,
    pub scenarios: usize,
}

impl Sim {
    /// A platform at `cfg.start`, every app healthy, plus `cfg.scenario` if it names one.
    pub fn new(cfg: &SimConfig) -> Sim {
        let mut rng = Rng::with_seed(cfg.seed);
        let clock = Clock::new(cfg.start);
        let apps = APPS
            .iter()
            .map(|spec| Deployment::new(spec, cfg.start, &mut rng))
            .collect();
        let mut sim = Sim {
            clock,
            rng,
            apps,
            alerts: AlertBook::default(),
            actions: ActionBook::default(),
            timeline: Timeline::default(),
            scenarios: Scenarios::default(),
            outbox: Vec::new(),
            logs_enabled: true,
        };
        // Let the gauges settle so the first samples already look like a running platform.
        let hour = sim.clock.local_hour();
        for app in &mut sim.apps {
            let cond = Conditions {
                local_hour: hour,
                traffic: 1.0,
                peak: 0.0,
                cache_pressure: 0.0,
            };
            app.observe(&cond, &mut sim.rng);
        }
        if let Some(name) = &cfg.scenario
            && let Err(err) = sim.start_scenario(name)
        {
            tracing::warn!(scenario = %name, error = %err, "scenario not started");
        }
        sim
    }

    /// Platform time now.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// Platform seconds since start.
    pub fn elapsed_secs(&self) -> u64 {
        self.clock.tick()
    }

    /// Turn log generation on or off. Off makes long runs several times cheaper and still
    /// deterministic, but the random sequence differs from a run with logs on, so the same seed
    /// gives different numbers with and without logs.
    pub fn set_logs(&mut self, enabled: bool) {
        self.logs_enabled = enabled;
    }

    /// The latest metrics of an app.
    pub fn metrics(&self, app: &str) -> Option<&MetricSample> {
        self.apps
            .iter()
            .find(|d| d.spec.id == app)
            .map(|d| &d.sample)
    }

    /// Emissions queued by operator calls since the last step, for prompt delivery.
    pub fn drain_outbox(&mut self) -> Vec<Emission> {
        std::mem::take(&mut self.outbox)
    }

    pub fn footprint(&self) -> Footprint {
        Footprint {
            timeline: self.timeline.len(),
            active_alerts: self.alerts.active_len(),
            resolved_alerts: self.alerts.resolved_len(),
            actions_in_flight: self.actions.len(),
            outbox: self.outbox.len(),
            pods: self.apps.iter().map(|d| d.pods.len()).sum(),
            releases: self
                .apps
                .iter()
                .map(|d| d.releases.len())
                .max()
                .unwrap_or(0),
            scenarios: self.scenarios.len(),
        }
    }

    /// Advance one platform second; returns everything observed, queued operator emissions
    /// first: one metrics sample per app, log lines, alert transitions, action progress, events.
    pub fn step(&mut self) -> Vec<Emission> {
        let mut out = std::mem::take(&mut self.outbox);
        self.clock.advance();
        let now = self.clock.now();
        let tick = self.clock.tick();

        for kind in self.scenarios.expire(tick) {
            out.push(self.timeline.record(
                now,
                "platform",
                EventKind::Scenario,
                format!("scenario {} ended", kind.name()),
                None,
            ));
        }
        let down_zones = self.scenarios.down_zones(tick);
        let hour = self.clock.local_hour();

        for i in 0..self.apps.len() {
            let changes = self.apps[i].advance(&down_zones, now, tick, &mut self.rng);
            self.report_changes(i, changes, now, &mut out);
            let spec = self.apps[i].spec;
            let cond = Conditions {
                local_hour: hour,
                traffic: self.scenarios.traffic(spec, tick),
                peak: self.scenarios.peak(spec, tick),
                cache_pressure: self.scenarios.cache_pressure(spec, tick),
            };
            let sample = self.apps[i].observe(&cond, &mut self.rng).clone();
            out.push(Emission {
                ts: now,
                app: spec.id.to_string(),
                body: Body::Metrics(sample),
            });
            if self.logs_enabled {
                for line in logs::generate(&self.apps[i], &mut self.rng) {
                    out.push(Emission {
                        ts: now,
                        app: spec.id.to_string(),
                        body: Body::Logs(line),
                    });
                }
            }
        }

        let since = tick.saturating_sub(OOM_WINDOW_SECS);
        let signals: Vec<Signals> = self
            .apps
            .iter()
            .map(|d| Signals {
                spec: d.spec,
                sample: &d.sample,
                changing: d.rollout.is_some() || d.scaling_since.is_some(),
                max_memory_share: d.max_memory_share(),
                oom_recent: d.oom_kills_since(since),
                release: d.releases.active_id(),
                release_age_secs: d.releases.active_age_secs(now),
                lost_zone: d
                    .pods
                    .iter()
                    .find(|p| p.lost_secs.is_some())
                    .map(|p| p.zone),
            })
            .collect();
        let transitions = self.alerts.evaluate(&signals, now, tick);
        for alert in transitions {
            out.push(self.alert_event(&alert, None));
            out.push(Emission {
                ts: now,
                app: alert.app.clone(),
                body: Body::Alerts(alert),
            });
        }

        for status in self.actions.update(&self.apps, tick, now) {
            out.push(Emission {
                ts: now,
                app: status.app.clone(),
                body: Body::Actions(status),
            });
        }
        out
    }

    /// The timeline entry for an alert transition.
    pub(super) fn alert_event(&mut self, alert: &Alert, actor: Option<&str>) -> Emission {
        let what = match alert.state {
            AlertState::Firing => "firing".to_string(),
            AlertState::Resolved => "resolved".to_string(),
            AlertState::Acknowledged => "acknowledged".to_string(),
            AlertState::Silenced => match alert.silenced_until {
                Some(until) => format!("silenced until {}", until.format("%H:%M:%S")),
                None => "silenced".to_string(),
            },
        };
        let message = format!(
            "{} {} {:?} {what}: {}",
            alert.id, alert.rule, alert.severity, alert.summary
        );
        let now = self.clock.now();
        self.timeline
            .record(now, &alert.app, EventKind::Alert, message, actor)
    }

    fn report_changes(
        &mut self,
        i: usize,
        changes: Vec<Change>,
        now: DateTime<Utc>,
        out: &mut Vec<Emission>,
    ) {
        let spec = self.apps[i].spec;
        for change in changes {
            let (kind, message, line) = match change {
                Change::PodReady { pod } => {
                    let release = self.apps[i]
                        .pods
                        .iter()
                        .find(|p| p.name == pod)
                        .map(|p| p.release.clone())
                        .unwrap_or_default();
                    let version = self.apps[i]
                        .releases
                        .get(&release)
                        .map(|r| r.release.version.clone())
                        .unwrap_or_default();
                    let line = logs::started(spec, &pod, &release, &version);
                    let message = format!("pod {pod} ready ({release} {version})");
                    (EventKind::PodReady, message, Some(line))
                }
                Change::PodEvicted { pod, zone } => (
                    EventKind::PodRestart,
                    format!("pod {pod} evicted: node in {zone} unreachable for 5m"),
                    None,
                ),
                Change::OomKilled { pod, restarts } => (
                    EventKind::PodRestart,
                    format!("pod {pod} OOMKilled, restarting (restarts {restarts})"),
                    Some(logs::oom_killed(spec, &pod)),
                ),
                Change::HealthCheckFailed { pod, restarts } => (
                    EventKind::PodRestart,
                    format!(
                        "pod {pod} failed its readiness probe: the container exited while \
                         starting, restarting (restarts {restarts})"
                    ),
                    None,
                ),
                Change::RolloutDone { kind, target } => {
                    let kind = match kind {
                        RolloutKind::Deploy => EventKind::Deploy,
                        RolloutKind::Rollback => EventKind::Rollback,
                    };
                    (kind, format!("rollout of {target} complete"), None)
                }
            };
            out.push(self.timeline.record(now, spec.id, kind, message, None));
            if let (Some(line), true) = (line, self.logs_enabled) {
                out.push(Emission {
                    ts: now,
                    app: spec.id.to_string(),
                    body: Body::Logs(line),
                });
            }
        }
    }
}
