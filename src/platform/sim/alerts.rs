//! Alert rules evaluated on each app's metrics every platform second, Prometheus-style: a
//! condition must hold `for` a while before the alert fires, and must stay clear for a short
//! `keep_firing` spell before it resolves. The alert book holds firing, acknowledged and silenced
//! alerts, expires silences, and keeps the most recently resolved ones.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Duration, Utc};

use super::catalog::{AppKind, AppSpec};
use super::model::TIMEOUT_MS;
use crate::platform::PlatformError;
use crate::protocol::{Alert, AlertState, MetricSample, Severity};

/// Resolved alerts kept for `alerts()`.
pub const RESOLVED_CAP: usize = 50;
/// Seconds a condition must usually stay clear before its alert resolves.
const KEEP_FIRING_SECS: u64 = 30;
/// Error ratio above which errors alert.
pub const ERROR_THRESHOLD: f64 = 0.05;
/// CPU share above which an app counts as saturated.
pub const SATURATION_THRESHOLD: f64 = 0.85;
/// Cache hit ratio below which the cache counts as degraded.
pub const CACHE_HIT_THRESHOLD: f64 = 0.8;
/// A release younger than this is suspected first when errors rise.
const RECENT_RELEASE_SECS: i64 = 2 * 3600;
/// OOM kills counted over this many seconds for crash-loop alerts.
pub const OOM_WINDOW_SECS: u64 = 600;

/// What the rules see of one app this second.
#[derive(Clone, Debug)]
pub struct Signals<'a> {
    pub spec: &'static AppSpec,
    pub sample: &'a MetricSample,
    /// A scale or rollout is in progress, so missing replicas are expected.
    pub changing: bool,
    pub max_memory_share: f64,
    /// OOM kills in the last [`OOM_WINDOW_SECS`].
    pub oom_recent: usize,
    pub release: String,
    pub release_age_secs: i64,
    /// The zone holding pods on unreachable nodes, if any.
    pub lost_zone: Option<&'static str>,
}

impl Signals<'_> {
    fn cache_hit(&self) -> Option<f64> {
        self.sample.extras.get("cache_hit_ratio").copied()
    }

    fn missing(&self) -> u32 {
        self.sample
            .replicas_desired
            .saturating_sub(self.sample.replicas_ready)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Rule {
    AppDown,
    HighErrorRatio,
    HighSaturation,
    HighLatencyP99,
    CacheHitRatioLow,
    ReplicasUnavailable,
    MemoryNearLimit,
    PodCrashLooping,
}

impl Rule {
    pub const ALL: [Rule; 8] = [
        Rule::AppDown,
        Rule::HighErrorRatio,
        Rule::HighSaturation,
        Rule::HighLatencyP99,
        Rule::CacheHitRatioLow,
        Rule::ReplicasUnavailable,
        Rule::MemoryNearLimit,
        Rule::PodCrashLooping,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Rule::AppDown => "AppDown",
            Rule::HighErrorRatio => "HighErrorRatio",
            Rule::HighSaturation => "HighSaturation",
            Rule::HighLatencyP99 => "HighLatencyP99",
            Rule::CacheHitRatioLow => "CacheHitRatioLow",
            Rule::ReplicasUnavailable => "ReplicasUnavailable",
            Rule::MemoryNearLimit => "MemoryNearLimit",
            Rule::PodCrashLooping => "PodCrashLooping",
        }
    }

    fn for_secs(self) -> u64 {
        match self {
            Rule::AppDown => 15,
            Rule::PodCrashLooping => 0,
            Rule::HighErrorRatio | Rule::HighSaturation | Rule::CacheHitRatioLow => 60,
            Rule::MemoryNearLimit => 60,
            Rule::HighLatencyP99 | Rule::ReplicasUnavailable => 120,
        }
    }

    /// Seconds the condition must stay clear before the alert resolves. Memory drops each time
    /// a leaking pod is killed, so that alert waits longer rather than flap.
    fn keep_firing_secs(self) -> u64 {
        match self {
            Rule::MemoryNearLimit => 300,
            _ => KEEP_FIRING_SECS,
        }
    }

    fn severity(self, spec: &AppSpec) -> Severity {
        let base = match self {
            Rule::AppDown => Severity::P0,
            Rule::HighErrorRatio | Rule::HighSaturation | Rule::PodCrashLooping => Severity::P1,
            Rule::HighLatencyP99 | Rule::ReplicasUnavailable | Rule::MemoryNearLimit => {
                Severity::P2
            }
            Rule::CacheHitRatioLow => Severity::P3,
        };
        // Failing payment callbacks lose money: one level more urgent.
        match (spec.kind, base) {
            (AppKind::Payments, Severity::P1) => Severity::P0,
            (AppKind::Payments, Severity::P2) => Severity::P1,
            _ => base,
        }
    }

    fn holds(self, s: &Signals) -> bool {
        let m = s.sample;
        match self {
            Rule::AppDown => m.replicas_desired > 0 && m.replicas_ready == 0,
            Rule::HighErrorRatio => m.error_ratio > ERROR_THRESHOLD,
            Rule::HighSaturation => m.cpu > SATURATION_THRESHOLD,
            Rule::HighLatencyP99 => m.latency_ms.p99 > s.spec.slo_p99_ms,
            Rule::CacheHitRatioLow => s.cache_hit().is_some_and(|h| h < CACHE_HIT_THRESHOLD),
            Rule::ReplicasUnavailable => {
                !s.changing && s.missing() > 0 && s.missing() >= (m.replicas_desired / 4).max(1)
            }
            Rule::MemoryNearLimit => s.max_memory_share > 0.85,
            Rule::PodCrashLooping => s.oom_recent >= 2,
        }
    }

    /// The runbook for this alert, judged from what else the signals show.
    fn runbook(self, s: &Signals) -> Option<&'static str> {
        let saturated = s.sample.cpu > SATURATION_THRESHOLD;
        let cache_bad = s.cache_hit().is_some_and(|h| h < CACHE_HIT_THRESHOLD);
        match self {
            Rule::AppDown => s.lost_zone.map(|_| "az-outage"),
            Rule::HighErrorRatio if s.release_age_secs < RECENT_RELEASE_SECS => Some("bad-release"),
            Rule::HighErrorRatio | Rule::HighLatencyP99 if cache_bad => Some("cache-degradation"),
            Rule::HighErrorRatio | Rule::HighLatencyP99 | Rule::HighSaturation if saturated => {
                Some("flash-sale-spike")
            }
            Rule::HighErrorRatio | Rule::HighLatencyP99 | Rule::HighSaturation => None,
            Rule::CacheHitRatioLow => Some("cache-degradation"),
            Rule::ReplicasUnavailable if s.lost_zone.is_some() => Some("az-outage"),
            Rule::ReplicasUnavailable if s.oom_recent > 0 => Some("memory-leak"),
            Rule::ReplicasUnavailable => None,
            Rule::MemoryNearLimit | Rule::PodCrashLooping => Some("memory-leak"),
        }
    }

    fn summary(self, s: &Signals) -> String {
        let m = s.sample;
        let who = format!("{} ({})", s.spec.name, s.spec.id);
        match self {
            Rule::AppDown => format!("{who}: no ready replicas of {}", m.replicas_desired),
            Rule::HighErrorRatio => format!(
                "{who}: error ratio {:.1}% above {:.0}%",
                m.error_ratio * 100.0,
                ERROR_THRESHOLD * 100.0
            ),
            Rule::HighSaturation => format!(
                "{who}: CPU at {:.0}% of requests across {} replicas",
                m.cpu * 100.0,
                m.replicas_ready
            ),
            Rule::HighLatencyP99 => format!(
                "{who}: p99 latency {:.0} ms above the {:.0} ms objective{}",
                m.latency_ms.p99,
                s.spec.slo_p99_ms,
                if m.latency_ms.p99 >= TIMEOUT_MS {
                    " (timing out)"
                } else {
                    ""
                }
            ),
            Rule::CacheHitRatioLow => format!(
                "{who}: Redis 缓存命中率 {:.0}% (below {:.0}%)",
                s.cache_hit().unwrap_or(0.0) * 100.0,
                CACHE_HIT_THRESHOLD * 100.0
            ),
            Rule::ReplicasUnavailable => format!(
                "{who}: {} of {} replicas unavailable{}",
                s.missing(),
                m.replicas_desired,
                s.lost_zone
                    .map(|z| format!(", nodes unreachable in {z}"))
                    .unwrap_or_default()
            ),
            Rule::MemoryNearLimit => format!(
                "{who}: a pod uses {:.0}% of its {:.0} MiB memory limit",
                s.max_memory_share * 100.0,
                s.spec.memory_limit_mb
            ),
            Rule::PodCrashLooping => format!(
                "{who}: {} OOM kills in the last {} minutes",
                s.oom_recent,
                OOM_WINDOW_SECS / 60
            ),
        }
    }
}

#[derive(Clone, Debug)]
struct Tracked {
    rule: Rule,
    alert: Alert,
    clear_since: Option<u64>,
}

/// Every alert the simulator knows: pending conditions, active alerts, recently resolved.
#[derive(Clone, Debug, Default)]
pub struct AlertBook {
    /// The tick each (rule, app) condition started holding, for alerts not yet firing.
    pending: BTreeMap<(Rule, &'static str), u64>,
    active: Vec<Tracked>,
    resolved: VecDeque<Alert>,
    next_id: u64,
}

impl AlertBook {
    /// Evaluate every rule on every app; returns the alerts that changed state.
    pub fn evaluate(&mut self, signals: &[Signals], now: DateTime<Utc>, tick: u64) -> Vec<Alert> {
        let mut transitions = Vec::new();
        for s in signals {
            for rule in Rule::ALL {
                self.evaluate_one(rule, s, now, tick, &mut transitions);
            }
        }
        for tracked in &mut self.active {
            let expired = tracked.alert.state == AlertState::Silenced
                && tracked
                    .alert
                    .silenced_until
                    .is_some_and(|until| now >= until);
            if expired {
                tracked.alert.state = AlertState::Firing;
                tracked.alert.silenced_until = None;
                transitions.push(tracked.alert.clone());
            }
        }
        transitions
    }

    fn evaluate_one(
        &mut self,
        rule: Rule,
        s: &Signals,
        now: DateTime<Utc>,
        tick: u64,
        transitions: &mut Vec<Alert>,
    ) {
        let app = s.spec.id;
        let holds = rule.holds(s);
        let position = self
            .active
            .iter()
            .position(|t| t.rule == rule && t.alert.app == app);
        if let Some(i) = position {
            let tracked = &mut self.active[i];
            if holds {
                tracked.clear_since = None;
                return;
            }
            let since = *tracked.clear_since.get_or_insert(tick);
            if tick - since >= rule.keep_firing_secs() {
                let mut alert = self.active.remove(i).alert;
                alert.state = AlertState::Resolved;
                alert.resolved_at = Some(now);
                alert.silenced_until = None;
                transitions.push(alert.clone());
                self.resolved.push_back(alert);
                while self.resolved.len() > RESOLVED_CAP {
                    self.resolved.pop_front();
                }
            }
            return;
        }
        if !holds {
            self.pending.remove(&(rule, app));
            return;
        }
        let since_tick = *self.pending.entry((rule, app)).or_insert(tick);
        if tick - since_tick < rule.for_secs() {
            return;
        }
        self.pending.remove(&(rule, app));
        self.next_id += 1;
        // Like Prometheus's `startsAt`: when it fired, not when its condition began (`for`
        // earlier), so "firing since" and the timeline's "fired" read the same time.
        let alert = fire(rule, s, format!("a-{}", self.next_id), now);
        transitions.push(alert.clone());
        self.active.push(Tracked {
            rule,
            alert,
            clear_since: None,
        });
    }

    /// Active alerts (most urgent first), then recently resolved ones (newest first).
    pub fn list(&self) -> Vec<Alert> {
        let mut active: Vec<Alert> = self.active.iter().map(|t| t.alert.clone()).collect();
        active.sort_by(|a, b| {
            a.severity
                .cmp(&b.severity)
                .then(b.started_at.cmp(&a.started_at))
        });
        active.extend(self.resolved.iter().rev().cloned());
        active
    }

    pub fn active_len(&self) -> usize {
        self.active.len()
    }

    pub fn resolved_len(&self) -> usize {
        self.resolved.len()
    }

    fn find_active(&mut self, id: &str) -> Result<&mut Alert, PlatformError> {
        if let Some(tracked) = self.active.iter_mut().find(|t| t.alert.id == id) {
            return Ok(&mut tracked.alert);
        }
        if self.resolved.iter().any(|a| a.id == id) {
            return Err(PlatformError::Conflict(format!(
                "alert {id} is already resolved"
            )));
        }
        Err(PlatformError::NotFound(format!("unknown alert {id:?}")))
    }

    pub fn acknowledge(&mut self, id: &str, by: &str) -> Result<Alert, PlatformError> {
        let alert = self.find_active(id)?;
        alert.state = AlertState::Acknowledged;
        alert.silenced_until = None;
        alert.acknowledged_by = Some(by.to_string());
        Ok(alert.clone())
    }

    /// End the silence of an active alert: back to acknowledged when someone had, else firing.
    pub fn expire_silence(&mut self, id: &str) -> Result<Alert, PlatformError> {
        let alert = self.find_active(id)?;
        if alert.state != AlertState::Silenced {
            return Err(PlatformError::Conflict(format!(
                "alert {id} is not silenced: nothing to expire"
            )));
        }
        alert.state = if alert.acknowledged_by.is_some() {
            AlertState::Acknowledged
        } else {
            AlertState::Firing
        };
        alert.silenced_until = None;
        Ok(alert.clone())
    }

    pub fn silence(
        &mut self,
        id: &str,
        secs: u64,
        comment: &str,
        now: DateTime<Utc>,
    ) -> Result<Alert, PlatformError> {
        let secs = i64::try_from(secs)
            .ok()
            .filter(|s| *s > 0 && *s <= 30 * 86_400)
            .ok_or_else(|| {
                PlatformError::Invalid(format!(
                    "silence must last between 1 second and 30 days, got {secs}s"
                ))
            })?;
        let alert = self.find_active(id)?;
        alert.state = AlertState::Silenced;
        alert.silenced_until = Some(now + Duration::seconds(secs));
        if !comment.is_empty() {
            alert.comment = Some(comment.to_string());
        }
        Ok(alert.clone())
    }
}

fn fire(rule: Rule, s: &Signals, id: String, since: DateTime<Utc>) -> Alert {
    let mut labels = BTreeMap::new();
    labels.insert("app".to_string(), s.spec.id.to_string());
    labels.insert("region".to_string(), s.spec.region.to_string());
    labels.insert("team".to_string(), s.spec.team.to_string());
    labels.insert("release".to_string(), s.release.clone());
    if let Some(zone) = s.lost_zone {
        labels.insert("zone".to_string(), zone.to_string());
    }
    Alert {
        id,
        rule: rule.name().to_string(),
        severity: rule.severity(s.spec),
        state: AlertState::Firing,
        summary: rule.summary(s),
        app: s.spec.id.to_string(),
        labels,
        runbook: rule.runbook(s).map(str::to_string),
        started_at: since,
        resolved_at: None,
        silenced_until: None,
        acknowledged_by: None,
        comment: None,
        stale_since: None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::platform::sim::catalog::APPS;
    use chrono::TimeZone;

    fn signals<'a>(sample: &'a MetricSample) -> Signals<'a> {
        Signals {
            spec: APPS.iter().find(|a| a.id == "shop-cart").unwrap(),
            sample,
            changing: false,
            max_memory_share: 0.4,
            oom_recent: 0,
            release: "r-42".into(),
            release_age_secs: 600,
            lost_zone: None,
        }
    }

    fn sample(error_ratio: f64) -> MetricSample {
        MetricSample {
            error_ratio,
            replicas_ready: 4,
            replicas_desired: 4,
            cpu: 0.4,
            ..MetricSample::default()
        }
    }

    #[test]
    fn errors_fire_after_for_and_resolve_after_keep_firing() {
        let t0 = Utc.with_ymd_and_hms(2025, 11, 11, 12, 0, 0).unwrap();
        let mut book = AlertBook::default();
        let bad = sample(0.2);
        let mut fired = None;
        for tick in 0..=60 {
            let now = t0 + Duration::seconds(tick as i64);
            let out = book.evaluate(&[signals(&bad)], now, tick);
            if !out.is_empty() {
                fired = Some((tick, out));
            }
        }
        let (tick, out) = fired.unwrap();
        assert_eq!(tick, 60);
        assert_eq!(out[0].rule, "HighErrorRatio");
        assert_eq!(out[0].runbook.as_deref(), Some("bad-release"));
        assert_eq!(
            out[0].started_at,
            t0 + Duration::seconds(60),
            "fired at, not pending from"
        );
        let good = sample(0.001);
        let mut resolved = None;
        for tick in 61..200 {
            let out = book.evaluate(&[signals(&good)], t0, tick);
            if let Some(a) = out.into_iter().next() {
                resolved = Some((tick, a));
                break;
            }
        }
        let (tick, alert) = resolved.unwrap();
        assert_eq!(tick, 61 + KEEP_FIRING_SECS);
        assert_eq!(alert.state, AlertState::Resolved);
        assert_eq!(book.list()[0].state, AlertState::Resolved);
    }

    #[test]
    fn silences_expire_back_to_firing() {
        let t0 = Utc.with_ymd_and_hms(2025, 11, 11, 12, 0, 0).unwrap();
        let mut book = AlertBook::default();
        let bad = sample(0.2);
        for tick in 0..=60 {
            book.evaluate(&[signals(&bad)], t0, tick);
        }
        let id = book.list()[0].id.clone();
        let silenced = book.silence(&id, 60, "deploy in progress", t0).unwrap();
        assert_eq!(silenced.state, AlertState::Silenced);
        assert!(book.silence(&id, 0, "", t0).is_err());
        let later = t0 + Duration::seconds(61);
        let out = book.evaluate(&[signals(&bad)], later, 61);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].state, AlertState::Firing);
        assert_eq!(
            book.acknowledge("a-999", "ops"),
            Err(PlatformError::NotFound("unknown alert \"a-999\"".into()))
        );
    }
}
