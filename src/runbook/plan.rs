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
            let Judged {
                action,
                evaluation,
                holds,
            } = judge(step, apps);
            let action = match &step.on_failure {
                OnFailure::Abort => action,
                other => format!("{action} [on failure: {other}]"),
            };
            PlannedStep {
                id: step.id.clone(),
                kind: step.kind.name().to_string(),
                action,
                evaluation,
                holds,
                fallback: step.fallback,
            }
        })
        .collect();
    Plan { steps }
}

/// What a dry run says about one step: what it would do, how its condition evaluates now, and
/// whether that holds.
struct Judged {
    action: String,
    evaluation: Option<String>,
    holds: Option<bool>,
}

impl From<(String, Option<String>)> for Judged {
    fn from((action, evaluation): (String, Option<String>)) -> Self {
        Judged {
            action,
            evaluation,
            holds: None,
        }
    }
}

fn judge(step: &ResolvedStep, apps: &BTreeMap<String, AppSnapshot>) -> Judged {
    let described = step.action.describe();
    let Some(app) = step.action.app() else {
        return (format!("would {described}"), None).into();
    };
    let Some(snap) = apps.get(app) else {
        return (
            format!("would {described}"),
            Some(format!("app {app} is unknown on this platform")),
        )
            .into();
    };
    if let Action::WaitFor { condition, .. } | Action::Check { condition, .. } = &step.action {
        let (evaluation, holds) = match snap.observation() {
            Some(obs) => {
                let e = condition.evaluate(&obs);
                let verdict = if e.holds { "holds" } else { "does not hold" };
                (format!("now: {} ({verdict})", e.observed), Some(e.holds))
            }
            None => (format!("{app} has reported no metrics yet"), None),
        };
        return Judged {
            action: format!("would {described}"),
            evaluation: Some(evaluation),
            holds,
        };
    }
    let r = snap.summary.replicas;
    let judged = match &step.action {
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
    };
    judged.into()
}

fn label(r: &Release) -> String {
    format!("{} ({})", r.id, r.version)
}
