//! Operator actions in flight (scale, rollback) and their lifecycle on the `actions` topic:
//! accepted at once, in progress with ready/desired as pods become ready, then succeeded — or
//! failed when superseded by a newer action, when the target release's pods keep failing their
//! health check, or past the progress deadline.

use chrono::{DateTime, Utc};

use super::deployment::Deployment;
use crate::protocol::{ActionState, ActionStatus, Progress};

/// Seconds an action may take before it fails (Kubernetes' default progress deadline).
pub const DEADLINE_SECS: u64 = 600;

/// Failed health checks of a target release's pod, with none of its pods ready, after which a
/// rollback fails (Kubernetes' default probe `failureThreshold`).
pub const HEALTH_CHECK_FAILURES: u32 = 3;

/// What an action waits for.
#[derive(Clone, Debug, PartialEq)]
pub enum Goal {
    Replicas(u32),
    Release(String),
}

#[derive(Clone, Debug)]
struct InFlight {
    status: ActionStatus,
    goal: Goal,
    started_tick: u64,
}

/// Actions not yet finished.
#[derive(Clone, Debug, Default)]
pub struct ActionBook {
    inflight: Vec<InFlight>,
}

impl ActionBook {
    /// Accept an action; returns its `accepted` status plus any older action on the same app
    /// and kind that it supersedes (now failed).
    pub fn accept(
        &mut self,
        status: ActionStatus,
        goal: Goal,
        tick: u64,
        now: DateTime<Utc>,
    ) -> Vec<ActionStatus> {
        let mut out = Vec::new();
        let id = status.id.clone();
        self.inflight.retain_mut(|old| {
            let superseded = old.status.app == status.app && old.status.kind == status.kind;
            if superseded {
                old.status.state = ActionState::Failed;
                old.status.message = format!("superseded by action {id}");
                old.status.updated_at = now;
                out.push(old.status.clone());
            }
            !superseded
        });
        out.push(status.clone());
        self.inflight.push(InFlight {
            status,
            goal,
            started_tick: tick,
        });
        out
    }

    /// Update every action from its app's state; returns the statuses that changed.
    pub fn update(
        &mut self,
        apps: &[Deployment],
        tick: u64,
        now: DateTime<Utc>,
    ) -> Vec<ActionStatus> {
        let mut out = Vec::new();
        for action in &mut self.inflight {
            let Some(app) = apps.iter().find(|d| d.spec.id == action.status.app) else {
                action.status.state = ActionState::Failed;
                action.status.message = "app disappeared".into();
                out.push(action.status.clone());
                continue;
            };
            let (ready, done, unhealthy) = match &action.goal {
                Goal::Replicas(n) => {
                    let ready = app.ready().min(*n);
                    (
                        ready,
                        app.desired == *n && app.ready() == *n && app.live() == *n,
                        None,
                    )
                }
                Goal::Release(id) => {
                    let ready = app.ready_on(id).min(app.desired);
                    let finished = app.rollout.is_none() && app.releases.active_id() == *id;
                    let failures = app.probe_failures_on(id);
                    let unhealthy = (ready == 0 && failures >= HEALTH_CHECK_FAILURES)
                        .then(|| (id.clone(), failures));
                    (ready, finished && ready == app.desired, unhealthy)
                }
            };
            let progress = Some(Progress {
                ready,
                desired: app.desired,
            });
            let previous = (action.status.state, action.status.progress);
            action.status.progress = progress;
            if done {
                action.status.state = ActionState::Succeeded;
                action.status.message = format!("ready {ready}/{}", app.desired);
            } else if let Some((release, failures)) = unhealthy {
                action.status.state = ActionState::Failed;
                action.status.message = format!(
                    "health check failed: {ready}/{} ready after {}s; the pods of {release} \
                     exited while starting ({failures} failed readiness probes), the old pods \
                     keep serving",
                    app.desired,
                    tick.saturating_sub(action.started_tick)
                );
            } else if tick.saturating_sub(action.started_tick) >= DEADLINE_SECS {
                action.status.state = ActionState::Failed;
                action.status.message = format!(
                    "timed out after {DEADLINE_SECS}s with {ready}/{} replicas ready",
                    app.desired
                );
            } else {
                action.status.state = ActionState::InProgress;
            }
            if (action.status.state, action.status.progress) != previous {
                action.status.updated_at = now;
                out.push(action.status.clone());
            }
        }
        self.inflight.retain(|a| !a.status.state.is_final());
        out
    }

    pub fn len(&self) -> usize {
        self.inflight.len()
    }
}
