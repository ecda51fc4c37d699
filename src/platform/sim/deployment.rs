//! One app at run time: its pods, desired replicas, releases and any rollout, and the
//! controller that reconciles pods towards what is desired (create, terminate, roll).
//!
//! Rolling updates follow Kubernetes' defaults in spirit: surge a quarter of the replicas
//! (at least one) and never go below the desired count of ready pods; old pods go only as new
//! ones become ready, so a rollback restores the old behaviour progressively.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use fastrand::Rng;

use super::actions::DEADLINE_SECS;
use super::catalog::{AppSpec, zones};
use super::pods::{PodChange, PodSim};
use super::releases::ReleaseHistory;
use crate::protocol::{AppStatus, MetricSample};

/// OOM kills remembered per app (for crash-loop alerts).
const OOM_MEMORY: usize = 64;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RolloutKind {
    Deploy,
    Rollback,
}

/// A rolling replacement of pods towards a target release.
#[derive(Clone, Debug)]
pub struct Rollout {
    pub kind: RolloutKind,
    pub target: String,
}

/// Something the controller did or saw this second, for events and logs.
#[derive(Clone, Debug, PartialEq)]
pub enum Change {
    PodReady { pod: String },
    PodEvicted { pod: String, zone: &'static str },
    OomKilled { pod: String, restarts: u32 },
    HealthCheckFailed { pod: String, restarts: u32 },
    RolloutDone { kind: RolloutKind, target: String },
}

#[derive(Clone, Debug)]
pub struct Deployment {
    pub spec: &'static AppSpec,
    pub desired: u32,
    pub pods: Vec<PodSim>,
    pub releases: ReleaseHistory,
    pub rollout: Option<Rollout>,
    /// Tick of the last scale request, cleared once the pods match it or the action's
    /// deadline passes (so a scale that cannot finish does not hide missing replicas forever).
    pub scaling_since: Option<u64>,
    /// The latest metrics.
    pub sample: MetricSample,
    /// Utilisation in the latest second.
    pub rho: f64,
    /// Slow random drift of traffic around the daily shape.
    pub wander: f64,
    pub cache_hit: f64,
    pub db_latency_ms: f64,
    pub queue_depth: f64,
    /// Ticks of recent OOM kills, oldest first.
    pub oom_kills: VecDeque<u64>,
}

impl Deployment {
    /// The app as it is at simulator start: every pod ready on the active release.
    pub fn new(spec: &'static AppSpec, now: DateTime<Utc>, rng: &mut Rng) -> Self {
        let releases = ReleaseHistory::seed(spec, now);
        let active = releases.active_id();
        let started = releases
            .active()
            .map_or(now, |r| r.release.created_at + chrono::Duration::minutes(3));
        let mut deployment = Deployment {
            spec,
            desired: spec.replicas,
            pods: Vec::new(),
            releases,
            rollout: None,
            scaling_since: None,
            sample: MetricSample::default(),
            rho: 0.0,
            wander: 0.0,
            cache_hit: 0.96,
            db_latency_ms: 4.0,
            queue_depth: 0.0,
            oom_kills: VecDeque::new(),
        };
        for _ in 0..spec.replicas {
            let zone = deployment.pick_zone(&[]);
            let pod = PodSim::running(spec, &active, zone, started, rng);
            deployment.pods.push(pod);
        }
        deployment
    }

    pub fn ready(&self) -> u32 {
        count(self.pods.iter().filter(|p| p.is_ready()))
    }

    pub fn live(&self) -> u32 {
        count(self.pods.iter().filter(|p| p.is_live()))
    }

    /// Ready pods running a release.
    pub fn ready_on(&self, release: &str) -> u32 {
        count(
            self.pods
                .iter()
                .filter(|p| p.is_ready() && p.release == release),
        )
    }

    /// The most health checks any live pod running a release has failed.
    pub fn probe_failures_on(&self, release: &str) -> u32 {
        self.pods
            .iter()
            .filter(|p| p.is_live() && p.release == release)
            .map(|p| p.probe_failures)
            .max()
            .unwrap_or(0)
    }

    /// OOM kills since `since_tick`.
    pub fn oom_kills_since(&self, since_tick: u64) -> usize {
        self.oom_kills.iter().filter(|t| **t >= since_tick).count()
    }

    /// Share of the memory limit used by the fullest running pod.
    pub fn max_memory_share(&self) -> f64 {
        self.pods
            .iter()
            .map(|p| p.memory_mb(self.spec, self.rho) / self.spec.memory_limit_mb)
            .fold(0.0, f64::max)
    }

    /// Start a rolling replacement towards `target`.
    pub fn start_rollout(&mut self, kind: RolloutKind, target: String) {
        self.rollout = Some(Rollout { kind, target });
    }

    /// Advance pods one second, apply memory pressure, and reconcile.
    pub fn advance(
        &mut self,
        down_zones: &[&'static str],
        now: DateTime<Utc>,
        tick: u64,
        rng: &mut Rng,
    ) -> Vec<Change> {
        let spec = self.spec;
        let mut changes = Vec::new();
        let mut kept = Vec::with_capacity(self.pods.len());
        for mut pod in std::mem::take(&mut self.pods) {
            let zone_down = down_zones.contains(&pod.zone);
            let starts = self.releases.traits_of(&pod.release).starts();
            match pod.tick(spec, zone_down, starts, rng) {
                Some(PodChange::Removed) => continue,
                Some(PodChange::BecameReady) => changes.push(Change::PodReady {
                    pod: pod.name.clone(),
                }),
                Some(PodChange::FailedHealthCheck) => changes.push(Change::HealthCheckFailed {
                    pod: pod.name.clone(),
                    restarts: pod.restarts,
                }),
                Some(PodChange::Evicted) => changes.push(Change::PodEvicted {
                    pod: pod.name.clone(),
                    zone: pod.zone,
                }),
                None => {}
            }
            kept.push(pod);
        }
        self.pods = kept;
        self.leak_memory(tick, &mut changes);
        self.reconcile(down_zones, now, rng, &mut changes);
        let settled = self.ready() == self.desired && self.live() == self.desired;
        let overdue = self
            .scaling_since
            .is_some_and(|since| tick.saturating_sub(since) >= DEADLINE_SECS);
        if settled || overdue {
            self.scaling_since = None;
        }
        changes
    }

    fn leak_memory(&mut self, tick: u64, changes: &mut Vec<Change>) {
        let spec = self.spec;
        let load = 0.5 + 0.5 * self.rho.clamp(0.0, 1.5);
        for pod in &mut self.pods {
            if !pod.is_running() {
                continue;
            }
            let leak = self.releases.traits_of(&pod.release).leak_mb_per_min;
            pod.leaked_mb += leak * pod.leak_jitter * load / 60.0;
            if pod.memory_mb(spec, self.rho) >= spec.memory_limit_mb {
                pod.oom_kill();
                self.oom_kills.push_back(tick);
                if self.oom_kills.len() > OOM_MEMORY {
                    self.oom_kills.pop_front();
                }
                changes.push(Change::OomKilled {
                    pod: pod.name.clone(),
                    restarts: pod.restarts,
                });
            }
        }
    }

    /// The zone for a new pod: the healthy zone with the fewest live pods.
    fn pick_zone(&self, down_zones: &[&'static str]) -> &'static str {
        let all = zones(self.spec.region);
        let healthy = all.iter().filter(|z| !down_zones.contains(z));
        let candidates: Vec<&'static str> = if healthy.clone().next().is_some() {
            healthy.copied().collect()
        } else {
            all.to_vec()
        };
        candidates
            .into_iter()
            .min_by_key(|z| {
                self.pods
                    .iter()
                    .filter(|p| p.is_live() && p.zone == *z)
                    .count()
            })
            .unwrap_or("unknown")
    }

    fn create_pod(
        &mut self,
        release: &str,
        down_zones: &[&'static str],
        now: DateTime<Utc>,
        rng: &mut Rng,
    ) {
        let zone = self.pick_zone(down_zones);
        let pod = PodSim::pending(self.spec, release, zone, now, rng);
        self.pods.push(pod);
    }

    /// Terminate `n` live pods matching `which`, the least useful first: not ready before
    /// ready, newest before oldest.
    fn terminate(&mut self, n: u32, which: impl Fn(&PodSim) -> bool, rng: &mut Rng) {
        let mut victims: Vec<usize> = (0..self.pods.len())
            .filter(|i| self.pods[*i].is_live() && which(&self.pods[*i]))
            .collect();
        victims.sort_by_key(|i| (self.pods[*i].is_ready(), std::cmp::Reverse(*i)));
        for i in victims.into_iter().take(n as usize) {
            self.pods[i].terminate(rng);
        }
    }

    fn reconcile(
        &mut self,
        down_zones: &[&'static str],
        now: DateTime<Utc>,
        rng: &mut Rng,
        changes: &mut Vec<Change>,
    ) {
        let Some(rollout) = self.rollout.clone() else {
            let active = self.releases.active_id();
            let live = self.live();
            for _ in live..self.desired {
                self.create_pod(&active, down_zones, now, rng);
            }
            if live > self.desired {
                self.terminate(live - self.desired, |_| true, rng);
            }
            return;
        };
        let target = rollout.target.as_str();
        let surge = (self.desired / 4).max(1);
        let on_target = |p: &PodSim| p.is_live() && p.release == target;
        let new_live = count(self.pods.iter().filter(|p| on_target(p)));
        let old_live = self.live() - new_live;
        let mut created = 0;
        while new_live + created < self.desired
            && new_live + created + old_live < self.desired + surge
        {
            self.create_pod(target, down_zones, now, rng);
            created += 1;
        }
        if new_live > self.desired {
            self.terminate(new_live - self.desired, |p| p.release == target, rng);
        }
        let new_ready = self.ready_on(target);
        let keep_old = self.desired.saturating_sub(new_ready);
        if old_live > keep_old {
            self.terminate(old_live - keep_old, |p| p.release != target, rng);
        }
        let old_left = self.pods.iter().any(|p| p.is_live() && p.release != target);
        if !old_left && new_ready >= self.desired {
            self.rollout = None;
            changes.push(Change::RolloutDone {
                kind: rollout.kind,
                target: rollout.target,
            });
        }
    }

    /// Status as the API reports it.
    pub fn status(&self) -> AppStatus {
        let ready = self.ready();
        if ready == 0 {
            return AppStatus::Down;
        }
        if matches!(&self.rollout, Some(r) if r.kind == RolloutKind::Rollback) {
            return AppStatus::RollingBack;
        }
        if self.scaling_since.is_some() {
            return AppStatus::Scaling;
        }
        let degraded = self.sample.error_ratio > 0.05
            || self.sample.latency_ms.p99 > self.spec.slo_p99_ms
            || ready < self.desired;
        if degraded {
            AppStatus::Degraded
        } else {
            AppStatus::Healthy
        }
    }
}

fn count<T>(iter: impl Iterator<Item = T>) -> u32 {
    u32::try_from(iter.count()).unwrap_or(u32::MAX)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::platform::sim::catalog::APPS;
    use crate::platform::sim::releases::ReleaseTraits;
    use chrono::TimeZone;

    fn cart(rng: &mut Rng) -> Deployment {
        let spec = APPS.iter().find(|a| a.id == "shop-cart").unwrap();
        let now = Utc.with_ymd_and_hms(2025, 11, 11, 12, 0, 0).unwrap();
        Deployment::new(spec, now, rng)
    }

    #[test]
    fn pods_spread_over_zones_and_scaling_lags_desired() {
        let mut rng = Rng::with_seed(9);
        let mut app = cart(&mut rng);
        let now = Utc.with_ymd_and_hms(2025, 11, 11, 12, 0, 0).unwrap();
        let zones: std::collections::BTreeSet<_> = app.pods.iter().map(|p| p.zone).collect();
        assert_eq!(zones.len(), 3);
        app.desired = 10;
        app.advance(&[], now, 1, &mut rng);
        assert_eq!(app.live(), 10);
        assert_eq!(app.ready(), 4);
        for tick in 2..40 {
            app.advance(&[], now, tick, &mut rng);
        }
        assert_eq!(app.ready(), 10);
        app.desired = 3;
        app.advance(&[], now, 41, &mut rng);
        assert_eq!(app.live(), 3);
    }

    #[test]
    fn a_rollout_replaces_pods_progressively_without_losing_capacity() {
        let mut rng = Rng::with_seed(9);
        let mut app = cart(&mut rng);
        let now = Utc.with_ymd_and_hms(2025, 11, 11, 12, 0, 0).unwrap();
        let spec = app.spec;
        let release = app.releases.deploy(spec, "feat", ReleaseTraits::GOOD, now);
        app.start_rollout(RolloutKind::Deploy, release.id.clone());
        let mut done_at = None;
        for tick in 1..200 {
            let changes = app.advance(&[], now, tick, &mut rng);
            assert!(app.ready() >= 4 || tick < 2, "capacity dropped at {tick}");
            if changes
                .iter()
                .any(|c| matches!(c, Change::RolloutDone { .. }))
            {
                done_at = Some(tick);
                break;
            }
        }
        let done_at = done_at.unwrap();
        assert!(done_at > 10, "rollout took {done_at}s");
        assert!(
            app.pods
                .iter()
                .filter(|p| p.is_live())
                .all(|p| p.release == release.id)
        );
    }
}
