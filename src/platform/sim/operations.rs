//! What operators (and the scenario trigger) can do to the simulator: scale, roll back,
//! acknowledge and silence alerts, start scenarios. Each validates first, then changes state and
//! queues its emissions (action accepted, alert transition, timeline entry) for the next send.

use super::SCENARIOS;
use super::actions::Goal;
use super::deployment::{Deployment, RolloutKind};
use super::engine::Sim;
use super::scenarios::ScenarioKind;
use crate::platform::{ActionRequest, Emission, PlatformError, RollbackPlan};
use crate::protocol::{
    ActionKind, ActionState, ActionStatus, Alert, Body, EventKind, ReleaseStatus,
};

/// Who ships releases in the scenarios.
const PIPELINE: &str = "ci-pipeline";

impl Sim {
    pub(super) fn index_of(&self, app: &str) -> Result<usize, PlatformError> {
        self.apps
            .iter()
            .position(|d| d.spec.id == app)
            .ok_or_else(|| PlatformError::NotFound(format!("unknown app {app:?}")))
    }

    fn accept_action(
        &mut self,
        action: &ActionRequest,
        kind: ActionKind,
        app: &str,
        description: String,
        goal: Goal,
    ) {
        let now = self.clock.now();
        let status = ActionStatus {
            id: action.id.clone(),
            kind,
            app: app.to_string(),
            state: ActionState::Accepted,
            description,
            progress: None,
            message: String::new(),
            created_at: now,
            updated_at: now,
        };
        for status in self.actions.accept(status, goal, self.clock.tick(), now) {
            self.outbox.push(Emission {
                ts: now,
                app: status.app.clone(),
                body: Body::Actions(status),
            });
        }
    }

    fn record(&mut self, app: &str, kind: EventKind, message: String, actor: Option<&str>) {
        let now = self.clock.now();
        let emission = self.timeline.record(now, app, kind, message, actor);
        self.outbox.push(emission);
    }

    /// Start scaling `app` to `replicas`; progress follows on the `actions` topic.
    pub fn scale(
        &mut self,
        app: &str,
        replicas: u32,
        action: &ActionRequest,
    ) -> Result<(), PlatformError> {
        let i = self.index_of(app)?;
        let deployment = &mut self.apps[i];
        let spec = deployment.spec;
        if !(spec.min..=spec.max).contains(&replicas) {
            return Err(PlatformError::Invalid(format!(
                "replicas must be between {} and {} for {app}, got {replicas}",
                spec.min, spec.max
            )));
        }
        let from = deployment.desired;
        deployment.desired = replicas;
        deployment.scaling_since = Some(self.clock.tick());
        let description = format!("scale {from} -> {replicas}");
        self.accept_action(
            action,
            ActionKind::Scale,
            app,
            description.clone(),
            Goal::Replicas(replicas),
        );
        self.record(app, EventKind::Scale, description, Some(&action.actor));
        Ok(())
    }

    /// Start rolling `app` back to `to`, or to the previous good release.
    pub fn rollback(
        &mut self,
        app: &str,
        to: Option<&str>,
        action: &ActionRequest,
    ) -> Result<RollbackPlan, PlatformError> {
        let i = self.index_of(app)?;
        let deployment = &mut self.apps[i];
        let from = deployment
            .releases
            .active()
            .map(|r| r.release.clone())
            .ok_or_else(|| PlatformError::Unavailable(format!("{app} has no active release")))?;
        let target = match to {
            Some(id) => {
                let record = deployment.releases.get(id).ok_or_else(|| {
                    PlatformError::NotFound(format!("unknown release {id:?} for {app}"))
                })?;
                if record.release.id == from.id {
                    return Err(PlatformError::Conflict(format!(
                        "release {id} ({}) is already active on {app}",
                        from.version
                    )));
                }
                if record.release.status == ReleaseStatus::Failed {
                    return Err(PlatformError::Invalid(format!(
                        "release {id} failed and cannot be rolled back to"
                    )));
                }
                record.release.clone()
            }
            None => deployment
                .releases
                .previous_good()
                .map(|r| r.release.clone())
                .ok_or_else(|| {
                    PlatformError::Conflict(format!(
                        "{app} has no earlier good release to roll back to"
                    ))
                })?,
        };
        deployment.releases.roll_back(&target.id);
        deployment.start_rollout(RolloutKind::Rollback, target.id.clone());
        let plan = RollbackPlan {
            from: release_now(deployment, &from.id).unwrap_or(from),
            to: release_now(deployment, &target.id).unwrap_or(target),
        };
        let description = format!("rollback {} -> {}", plan.from.version, plan.to.version);
        self.accept_action(
            action,
            ActionKind::Rollback,
            app,
            description.clone(),
            Goal::Release(plan.to.id.clone()),
        );
        let message = format!("{description} ({} -> {})", plan.from.id, plan.to.id);
        self.record(app, EventKind::Rollback, message, Some(&action.actor));
        Ok(plan)
    }

    /// Acknowledge an active alert.
    pub fn acknowledge(&mut self, alert: &str, by: &str) -> Result<Alert, PlatformError> {
        let alert = self.alerts.acknowledge(alert, by)?;
        self.queue_alert(&alert, by);
        Ok(alert)
    }

    /// Silence an active alert for `secs` platform seconds.
    pub fn silence(
        &mut self,
        alert: &str,
        secs: u64,
        comment: &str,
        by: &str,
    ) -> Result<Alert, PlatformError> {
        let now = self.clock.now();
        let alert = self.alerts.silence(alert, secs, comment, now)?;
        self.queue_alert(&alert, by);
        Ok(alert)
    }

    /// End an alert's silence now.
    pub fn expire_silence(&mut self, alert: &str, by: &str) -> Result<Alert, PlatformError> {
        let alert = self.alerts.expire_silence(alert)?;
        self.queue_alert(&alert, by);
        Ok(alert)
    }

    fn queue_alert(&mut self, alert: &Alert, by: &str) {
        let event = self.alert_event(alert, Some(by));
        self.outbox.push(event);
        self.outbox.push(Emission {
            ts: self.clock.now(),
            app: alert.app.clone(),
            body: Body::Alerts(alert.clone()),
        });
    }

    /// Start an incident scenario by name.
    pub fn start_scenario(&mut self, name: &str) -> Result<(), PlatformError> {
        let kind = ScenarioKind::parse(name).ok_or_else(|| {
            PlatformError::NotFound(format!(
                "unknown scenario {name:?}; valid scenarios: {}",
                SCENARIOS.join(", ")
            ))
        })?;
        if let Some((app, cause, traits)) = kind.release() {
            let i = self.index_of(app)?;
            if self.apps[i].rollout.is_some() {
                return Err(PlatformError::Conflict(format!(
                    "{app} is already rolling out; try again when it finishes"
                )));
            }
            let now = self.clock.now();
            let deployment = &mut self.apps[i];
            let release = deployment
                .releases
                .deploy(deployment.spec, cause, traits, now);
            deployment.start_rollout(RolloutKind::Deploy, release.id.clone());
            let message = format!("deploy {} {}: {cause}", release.id, release.version);
            self.record(app, EventKind::Deploy, message, Some(PIPELINE));
        } else if !self.scenarios.begin(kind, self.clock.tick()) {
            return Err(PlatformError::Conflict(format!(
                "scenario {name} is already running"
            )));
        }
        let message = format!("scenario {name} started: {}", kind.announcement());
        self.record("platform", EventKind::Scenario, message, None);
        Ok(())
    }
}

fn release_now(deployment: &Deployment, id: &str) -> Option<crate::protocol::Release> {
    deployment.releases.get(id).map(|r| r.release.clone())
}
