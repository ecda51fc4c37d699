//! Changes to apps: scale, roll back, and (on the simulator) start a scenario. Scale and rollback
//! start platform actions, which enter the action book once the platform has taken them.

use std::sync::Arc;

use super::audited::{Draft, audited};
use super::once::{Metering, check_limit, once};
use super::{ActionError, Actor, Operation, Outcome, Source, authorize};
use crate::gateway::Gateway;
use crate::platform::{ActionRequest, RollbackPlan};
use crate::protocol::{ActionKind, ActionState, ActionStatus};

/// Scale `app` to `replicas`. The count is the JSON value asked for, so one that is not a whole
/// number is refused with the app's allowed range rather than a bare parse error.
#[derive(Clone, Debug, PartialEq)]
pub struct Scale {
    pub app: String,
    pub replicas: serde_json::Value,
}

/// Roll `app` back to release `to`, or to the previous good release when `None`.
#[derive(Clone, Debug, PartialEq)]
pub struct Rollback {
    pub app: String,
    pub to: Option<String>,
}

/// Scale an app within its replica limits.
pub async fn scale(
    gw: &Arc<Gateway>,
    actor: &Actor,
    req: Scale,
    source: Source,
) -> Result<ActionStatus, ActionError> {
    authorize(actor, Operation::Scale)?;
    let what = format!("scale {}", req.app);
    let draft = Draft {
        action: "scale",
        target: req.app.clone(),
        app: Some(req.app.clone()),
        to: Some(shorten(&req.replicas)),
    };
    // The range check reads the platform, so it runs under the key: a retry of a change that
    // was applied gets its stored answer, not a new verdict on a platform that has moved on.
    let apply = {
        let (gw, actor) = (gw.clone(), actor.clone());
        async move {
            let detail = gw.platform.app(&req.app).await?;
            let (min, max) = (detail.summary.replicas.min, detail.summary.replicas.max);
            let app = req.app;
            let range = || format!("replicas must be an integer between {min} and {max} for {app}");
            let replicas = req
                .replicas
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    ActionError::Invalid(format!("{}, got {}", range(), shorten(&req.replicas)))
                })?;
            if !(min..=max).contains(&replicas) {
                return Err(ActionError::Invalid(format!("{}, got {replicas}", range())));
            }
            let from = detail.summary.replicas.desired;
            let status = new_action(
                &gw,
                ActionKind::Scale,
                &app,
                format!("scale {app} {from} -> {replicas}"),
            );
            let request = ActionRequest {
                id: status.id.clone(),
                actor: actor.name().to_string(),
            };
            gw.platform.scale(&app, replicas, request).await?;
            gw.action_book.record(status.clone());
            Ok(Outcome::Action(status))
        }
    };
    let apply = audited(gw, actor, &source, draft, apply);
    match once(gw, source, Metering::Counted(actor), &what, apply).await? {
        Outcome::Action(status) => Ok(status),
        _ => Err(ActionError::Internal),
    }
}

/// Roll an app back; the platform picks and checks the release. Answers the action and the
/// plan (from which release to which).
pub async fn rollback(
    gw: &Arc<Gateway>,
    actor: &Actor,
    req: Rollback,
    source: Source,
) -> Result<(ActionStatus, RollbackPlan), ActionError> {
    authorize(actor, Operation::Rollback)?;
    // Nothing to validate here: whether the app and the release exist, and whether going back
    // to it makes sense, is the platform's to say.
    let what = format!("rollback {}", req.app);
    let draft = Draft {
        action: "rollback",
        target: req.app.clone(),
        app: Some(req.app.clone()),
        to: req.to.clone(),
    };
    let apply = {
        let (gw, actor) = (gw.clone(), actor.clone());
        async move {
            let Rollback { app, to } = req;
            let mut status = new_action(&gw, ActionKind::Rollback, &app, format!("rollback {app}"));
            let request = ActionRequest {
                id: status.id.clone(),
                actor: actor.name().to_string(),
            };
            let plan = gw.platform.rollback(&app, to.as_deref(), request).await?;
            status.description = format!(
                "rollback {app} {} -> {}",
                plan.from.version, plan.to.version
            );
            gw.action_book.record(status.clone());
            Ok(Outcome::Rollback { status, plan })
        }
    };
    let apply = audited(gw, actor, &source, draft, apply);
    match once(gw, source, Metering::Counted(actor), &what, apply).await? {
        Outcome::Rollback { status, plan } => Ok((status, plan)),
        _ => Err(ActionError::Internal),
    }
}

/// Start a scenario on the simulator (other platforms refuse). Counted against the action limit;
/// not idempotent (a scenario that is running is refused by the simulator).
pub async fn start_scenario(
    gw: &Arc<Gateway>,
    actor: &Actor,
    name: &str,
    source: Source,
) -> Result<(), ActionError> {
    authorize(actor, Operation::StartScenario)?;
    check_limit(gw, actor)?;
    let draft = Draft {
        action: "scenario",
        target: name.to_string(),
        app: None,
        to: None,
    };
    let apply = {
        let (gw, name) = (gw.clone(), name.to_string());
        async move {
            gw.platform.start_scenario(&name).await?;
            Ok(Outcome::Scenario(name))
        }
    };
    audited(gw, actor, &source, draft, apply).await?;
    Ok(())
}

/// A fresh action in state `accepted`, not yet in the book. Stamped with the platform's clock,
/// as every later status of the action is.
fn new_action(gw: &Gateway, kind: ActionKind, app: &str, description: String) -> ActionStatus {
    let now = gw.platform.now();
    ActionStatus {
        id: gw.next_action_id(),
        kind,
        app: app.to_string(),
        state: ActionState::Accepted,
        description,
        progress: None,
        message: String::new(),
        created_at: now,
        updated_at: now,
    }
}

/// A JSON value for an error message, cut to a readable length.
fn shorten(value: &serde_json::Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}
