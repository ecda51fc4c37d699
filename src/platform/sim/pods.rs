//! One simulated pod and its lifecycle: Pending while it is scheduled, Starting while the image
//! pulls and the readiness probe waits, Ready, CrashLoop after an OOM kill or a failed health
//! check (with Kubernetes' doubling back-off), Terminating before it disappears; and lost when
//! its zone goes dark.

use chrono::{DateTime, Utc};
use fastrand::Rng;

use super::catalog::{AppSpec, Runtime};
use super::noise::{name_suffix, template_hash};
use crate::protocol::{Pod, PodState};

/// Seconds a pod on an unreachable node waits before it is evicted (Kubernetes' default
/// toleration for `node.kubernetes.io/unreachable`).
pub const EVICTION_SECS: u32 = 300;

/// Seconds of readiness after which a crash streak is forgiven.
const STREAK_RESET_SECS: u32 = 600;

#[derive(Clone, Debug)]
pub struct PodSim {
    pub name: String,
    pub state: PodState,
    pub zone: &'static str,
    pub restarts: u32,
    pub started_at: DateTime<Utc>,
    /// Id of the release the pod runs.
    pub release: String,
    /// Seconds left in a transitional state.
    timer: u32,
    /// Memory leaked so far, MiB.
    pub leaked_mb: f64,
    /// This pod's share of its release's leak rate (pods do not all leak alike).
    pub leak_jitter: f64,
    /// Consecutive crashes, for the back-off.
    crash_streak: u32,
    /// Times the container exited before its readiness probe passed.
    pub probe_failures: u32,
    ready_secs: u32,
    /// Seconds since the pod's node became unreachable.
    pub lost_secs: Option<u32>,
}

/// What happened to a pod in one second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PodChange {
    BecameReady,
    /// The container exited while starting (its release cannot start); it restarts after the
    /// back-off.
    FailedHealthCheck,
    Removed,
    Evicted,
}

/// A pod name in Kubernetes style: `shop-cart-7f9c4-x2lqp`.
pub fn pod_name(app: &str, release: &str, rng: &mut Rng) -> String {
    let hash = template_hash(&format!("{app}/{release}"));
    format!("{app}-{hash}-{}", name_suffix(rng, 5))
}

fn startup_secs(spec: &AppSpec, rng: &mut Rng) -> u32 {
    match spec.runtime {
        Runtime::Java => rng.u32(12..=22),
        Runtime::Node => rng.u32(5..=10),
        Runtime::Go => rng.u32(3..=7),
    }
}

impl PodSim {
    /// A new pod, waiting to be scheduled.
    pub fn pending(
        spec: &AppSpec,
        release: &str,
        zone: &'static str,
        now: DateTime<Utc>,
        rng: &mut Rng,
    ) -> Self {
        PodSim {
            name: pod_name(spec.id, release, rng),
            state: PodState::Pending,
            zone,
            restarts: 0,
            started_at: now,
            release: release.to_string(),
            timer: rng.u32(1..=3),
            leaked_mb: 0.0,
            leak_jitter: 0.6 + 0.8 * rng.f64(),
            crash_streak: 0,
            probe_failures: 0,
            ready_secs: 0,
            lost_secs: None,
        }
    }

    /// A pod that has been running for a while (the state at simulator start).
    pub fn running(
        spec: &AppSpec,
        release: &str,
        zone: &'static str,
        started_at: DateTime<Utc>,
        rng: &mut Rng,
    ) -> Self {
        let mut pod = PodSim::pending(spec, release, zone, started_at, rng);
        pod.state = PodState::Ready;
        pod.timer = 0;
        pod.ready_secs = STREAK_RESET_SECS;
        if rng.u32(0..10) == 0 {
            pod.restarts = rng.u32(1..=2);
        }
        pod
    }

    pub fn is_ready(&self) -> bool {
        self.state == PodState::Ready && self.lost_secs.is_none()
    }

    /// Counts towards the replica set: everything but a pod on its way out.
    pub fn is_live(&self) -> bool {
        self.state != PodState::Terminating
    }

    /// Whether the container runs and holds memory.
    pub fn is_running(&self) -> bool {
        matches!(self.state, PodState::Ready | PodState::Starting) && self.lost_secs.is_none()
    }

    /// Advance one second. A pod whose release cannot start (`starts` false) never becomes
    /// ready: each start ends in a failed health check and a crash-loop back-off.
    pub fn tick(
        &mut self,
        spec: &AppSpec,
        zone_down: bool,
        starts: bool,
        rng: &mut Rng,
    ) -> Option<PodChange> {
        if self.state == PodState::Terminating {
            self.timer = self.timer.saturating_sub(1);
            return (self.timer == 0).then_some(PodChange::Removed);
        }
        if zone_down {
            let lost = self.lost_secs.map_or(1, |s| s + 1);
            self.lost_secs = Some(lost);
            if lost >= EVICTION_SECS {
                self.terminate(rng);
                return Some(PodChange::Evicted);
            }
            return None;
        }
        if self.lost_secs.take().is_some() {
            // The node is back: the kubelet restarts the container.
            self.state = PodState::Starting;
            self.timer = startup_secs(spec, rng);
            self.leaked_mb = 0.0;
            return None;
        }
        match self.state {
            PodState::Ready => {
                self.ready_secs += 1;
                if self.ready_secs >= STREAK_RESET_SECS {
                    self.crash_streak = 0;
                }
                None
            }
            PodState::Pending | PodState::Starting | PodState::CrashLoop => {
                self.timer = self.timer.saturating_sub(1);
                if self.timer > 0 {
                    return None;
                }
                if self.state == PodState::Starting && !starts {
                    self.probe_failures += 1;
                    self.crash();
                    Some(PodChange::FailedHealthCheck)
                } else if self.state == PodState::Starting {
                    self.state = PodState::Ready;
                    self.ready_secs = 0;
                    Some(PodChange::BecameReady)
                } else {
                    self.state = PodState::Starting;
                    self.timer = startup_secs(spec, rng);
                    None
                }
            }
            PodState::Terminating => None,
        }
    }

    /// The container exceeded its memory limit and was killed.
    pub fn oom_kill(&mut self) {
        self.crash();
    }

    /// The container exited: restart it after a back-off that doubles with each crash in a row.
    fn crash(&mut self) {
        self.restarts += 1;
        self.crash_streak += 1;
        self.state = PodState::CrashLoop;
        self.leaked_mb = 0.0;
        self.ready_secs = 0;
        let exponent = self.crash_streak.saturating_sub(1).min(5);
        self.timer = (10u32 << exponent).min(300);
    }

    /// Begin graceful shutdown.
    pub fn terminate(&mut self, rng: &mut Rng) {
        if self.state != PodState::Terminating {
            self.state = PodState::Terminating;
            self.timer = rng.u32(2..=5);
        }
    }

    /// Memory the pod holds now, MiB.
    pub fn memory_mb(&self, spec: &AppSpec, rho: f64) -> f64 {
        if !self.is_running() {
            return 0.0;
        }
        let load = rho.clamp(0.0, 1.5);
        spec.memory_base_mb * (0.85 + 0.2 * load) + self.leaked_mb
    }

    /// The pod as the API shows it. A pod on an unreachable node shows as pending: it is not
    /// running anywhere the platform can see.
    pub fn to_pod(&self) -> Pod {
        Pod {
            name: self.name.clone(),
            state: if self.lost_secs.is_some() && self.state != PodState::Terminating {
                PodState::Pending
            } else {
                self.state
            },
            zone: self.zone.to_string(),
            restarts: self.restarts,
            started_at: self.started_at,
            release: self.release.clone(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::platform::sim::catalog::APPS;
    use chrono::TimeZone;

    #[test]
    fn a_new_pod_becomes_ready_after_several_seconds() {
        let spec = APPS.iter().find(|a| a.id == "shop-cart").unwrap();
        let mut rng = Rng::with_seed(3);
        let now = Utc.with_ymd_and_hms(2025, 11, 11, 12, 0, 0).unwrap();
        let mut pod = PodSim::pending(spec, "r-41", "cn-shanghai-e", now, &mut rng);
        assert!(pod.name.starts_with("shop-cart-"));
        assert_eq!(pod.name.len(), "shop-cart-".len() + 11);
        let mut secs = 0;
        while pod.tick(spec, false, true, &mut rng) != Some(PodChange::BecameReady) {
            secs += 1;
            assert!(secs < 30);
        }
        assert!(secs >= 5, "ready after {secs}s");
        assert!(pod.is_ready());
    }

    #[test]
    fn oom_kills_back_off_and_lost_pods_are_evicted() {
        let spec = APPS.iter().find(|a| a.id == "crm").unwrap();
        let mut rng = Rng::with_seed(3);
        let now = Utc.with_ymd_and_hms(2025, 11, 11, 12, 0, 0).unwrap();
        let mut pod = PodSim::running(spec, "r-1", "cn-beijing-h", now, &mut rng);
        pod.oom_kill();
        assert_eq!(pod.state, PodState::CrashLoop);
        assert_eq!(pod.timer, 10);
        pod.oom_kill();
        assert_eq!(pod.timer, 20);
        let mut evicted = false;
        for _ in 0..EVICTION_SECS {
            evicted |= pod.tick(spec, true, true, &mut rng) == Some(PodChange::Evicted);
        }
        assert!(evicted);
        assert_eq!(pod.state, PodState::Terminating);
    }
}
