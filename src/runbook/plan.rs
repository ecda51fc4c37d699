//! Dry runs: every step with its parameters filled in, judged against a snapshot of current data
//! (replica counts, releases, alerts, metrics), without changing anything. The engine uses the
//! same snapshot to evaluate conditions, so a plan and a run read the world the same way.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::condition::Observation;
use super::step::{Action, OnFailure, ResolvedStep};
use crate::protocol::{Alert, AlertState, AppSummary, Plan, PlannedStep, Release, ReleaseStatus};

/// What is known about one app at one moment (platform time).
#[derive(Clone, Debug, PartialEq)]
pub struct AppSnapshot {
    pub summary: AppSummary,
    /// Newest first; empty when the step does not need them.
    pub releases: Vec<Release>,
    /// The app's alerts that are not resolved.
    pub alerts: Vec<Alert>,
    pub now: DateTime<Utc>,
}

impl AppSnapshot {
    /// The condition inputs, or `None` while the app has reported no metrics.
    pub fn observation(&self) -> Option<Observation<'_>> {
        let sample = self.summary.metrics.as_ref()?;
        let age = |t: DateTime<Utc>| (self.now - t).num_milliseconds() as f64 / 1000.0;
        Some(Observation {
            sample,
            release_age_secs: self
                .releases
                .iter()
                .find(|r| r.status == ReleaseStatus::Active)
                .map(|r| age(r.created_at)),
            alert_age_secs: self.alerts.iter().map(|a| a.started_at).min().map(age),
            alerts_firing: u32::try_from(self.alerts.len()).unwrap_or(u32::MAX),
        })
    }

    /// The release a rollback without `to` would pick: the newest superseded one older than
    /// the active release.
    pub fn previous_good(&self) -> Option<&Release> {
        let active = self
            .releases
            .iter()
            .position(|r| r.status == ReleaseStatus::Active)?;
        self.releases[active + 1..]
            .iter()
            .find(|r| r.status == ReleaseStatus::Superseded)
    }

    /// Active alerts a silence step would silence.
    pub fn silenceable(&self, rule: Option<&str>) -> Vec<&Alert> {
        self.alerts
            .iter()
            .filter(|a| a.state != AlertState::Resolved)
            .filter(|a| rule.is_none_or(|r| a.rule == r))
            .collect()
    }
}

/// The plan of `steps` against `apps` (keyed by app id; a missing app is reported as unknown).
pub fn plan(steps: &[ResolvedStep], apps: &BTreeMap<String, AppSnapshot>) -> Plan {
    let steps = steps
        .iter()
        .map(|step| {
            let (action, evaluation) = judge(step, apps);
            let action = match &step.on_failure {
                OnFailure::Abort => action,
                other => format!("{action} [on failure: {other}]"),
            };
            PlannedStep {
                id: step.id.clone(),
                kind: step.kind.name().to_string(),
                action,
                evaluation,
                fallback: step.fallback,
            }
        })
        .collect();
    Plan { steps }
}

fn judge(step: &ResolvedStep, apps: &BTreeMap<String, AppSnapshot>) -> (String, Option<String>) {
    let described = step.action.describe();
    let Some(app) = step.action.app() else {
        return (format!("would {described}"), None);
    };
    let Some(snap) = apps.get(app) else {
        return (
            format!("would {described}"),
            Some(format!("app {app} is unknown on this platform")),
        );
    };
    let r = snap.summary.replicas;
    match &step.action {
        Action::Scale { replicas, .. } => {
            let (target, how) = replicas.resolve(r.desired, r.min, r.max);
            let how = if how.is_empty() {
                String::new()
            } else {
                format!(" ({how})")
            };
            if target == r.desired {
                (
                    format!("would leave {app} at {target} replicas{how}: already there"),
                    None,
                )
            } else {
                (
                    format!("would scale {app} {} -> {target}{how}", r.desired),
                    None,
                )
            }
        }
        Action::Rollback { to, .. } => {
            let active = snap
                .releases
                .iter()
                .find(|x| x.status == ReleaseStatus::Active);
            let from = active.map_or_else(|| snap.summary.release.clone(), label);
            let target = match to {
                Some(id) => snap
                    .releases
                    .iter()
                    .find(|x| &x.id == id)
                    .map_or_else(|| format!("{id} (not in the history!)"), label),
                None => snap
                    .previous_good()
                    .map_or_else(|| "no earlier good release!".to_string(), label),
            };
            (format!("would roll {app} back {from} -> {target}"), None)
        }
        Action::WaitFor { condition, .. } | Action::Check { condition, .. } => {
            let evaluation = match snap.observation() {
                Some(obs) => {
                    let e = condition.evaluate(&obs);
                    format!(
                        "now: {} ({})",
                        e.observed,
                        if e.holds { "holds" } else { "does not hold" }
                    )
                }
                None => format!("{app} has reported no metrics yet"),
            };
            (format!("would {described}"), Some(evaluation))
        }
        Action::Silence { rule, .. } => {
            let ids: Vec<String> = snap
                .silenceable(rule.as_deref())
                .iter()
                .map(|a| format!("{} {}", a.id, a.rule))
                .collect();
            let evaluation = if ids.is_empty() {
                "no active alert matches now".to_string()
            } else {
                format!("matches now: {}", ids.join(", "))
            };
            (format!("would {described}"), Some(evaluation))
        }
        _ => (format!("would {described}"), None),
    }
}

fn label(r: &Release) -> String {
    format!("{} ({})", r.id, r.version)
}
