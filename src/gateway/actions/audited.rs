//! The audit record of a change: [`audited`] wraps what a change applies, so that it is refused
//! before anything happens when the audit cannot be written, and its outcome is on disk in the
//! audit chain before it is answered. It runs inside [`super::once`]'s task, once per
//! Idempotency-Key: a replay is answered from the store and adds no record.

use std::future::Future;
use std::sync::Arc;

use super::{ActionError, Actor, Answer, Outcome, Source};
use crate::gateway::Gateway;
use crate::gateway::audit::{name_of, role_of};
use crate::gateway::runs::app_of;
use crate::protocol::{AlertState, AuditRecord, AuditResult};

/// What a change is about, known before it is applied.
pub(super) struct Draft {
    /// `scale`, `rollback`, `ack`, `silence`, `run_start`, `run_approve`, `run_abort`,
    /// `run_resume`, `scenario`.
    pub action: &'static str,
    pub target: String,
    pub app: Option<String>,
    /// What was asked for, kept when the change fails (e.g. the replica count).
    pub to: Option<String>,
}

/// `apply`, audited: refused with [`ActionError::Unaudited`] when the audit cannot be written,
/// else applied and its outcome recorded (ok or failed) before it is answered.
pub(super) fn audited<Fut>(
    gw: &Arc<Gateway>,
    actor: &Actor,
    source: &Source,
    draft: Draft,
    apply: Fut,
) -> impl Future<Output = Answer> + Send + 'static
where
    Fut: Future<Output = Answer> + Send + 'static,
{
    let gw = gw.clone();
    let record = start(actor, source, draft, gw.platform.now());
    async move {
        if !gw.audit.writable() {
            return Err(ActionError::Unaudited);
        }
        let answer = apply.await;
        let record = finish(record, &answer, gw.platform.now());
        gw.stats.action(&record.action, answer.is_ok());
        match gw.audit.append(record).await {
            Ok(_) => answer,
            Err(why) => {
                tracing::error!(%why, "a change could not be audited");
                Err(ActionError::Unaudited)
            }
        }
    }
}

/// The record as far as the request tells it.
fn start(
    actor: &Actor,
    source: &Source,
    draft: Draft,
    now: chrono::DateTime<chrono::Utc>,
) -> AuditRecord {
    let (request_id, idempotency_key, client, run) = match source {
        Source::Request(key, origin) => (
            origin.request_id.clone(),
            key.as_ref().map(|k| k.key.clone()),
            origin.client.map(|c| c.to_string()),
            None,
        ),
        Source::Run(run) => (None, None, None, Some(run.clone())),
    };
    AuditRecord {
        seq: 0,
        at: now,
        platform_time: now,
        actor: name_of(actor).to_string(),
        role: role_of(actor).to_string(),
        action: draft.action.into(),
        target: draft.target,
        app: draft.app,
        from: None,
        to: draft.to,
        result: AuditResult::Ok,
        message: String::new(),
        request_id,
        idempotency_key,
        client,
        run,
        prev: String::new(),
        hash: String::new(),
    }
}

/// The record completed with the outcome.
fn finish(mut r: AuditRecord, answer: &Answer, now: chrono::DateTime<chrono::Utc>) -> AuditRecord {
    r.platform_time = now;
    match answer {
        Err(err) => {
            r.result = AuditResult::Failed;
            r.message = err.to_string();
        }
        Ok(Outcome::Action(status)) => {
            (r.from, r.to) = from_to(&status.description);
            r.message = status.description.clone();
        }
        Ok(Outcome::Rollback { status, plan }) => {
            r.from = Some(plan.from.version.clone());
            r.to = Some(plan.to.version.clone());
            r.message = status.description.clone();
        }
        Ok(Outcome::Alert(alert)) => {
            r.app = Some(alert.app.clone());
            let state = match alert.state {
                AlertState::Firing => "firing".to_string(),
                AlertState::Acknowledged => "acknowledged".to_string(),
                AlertState::Resolved => "resolved".to_string(),
                AlertState::Silenced => match alert.silenced_until {
                    Some(until) => format!("silenced until {}", until.to_rfc3339()),
                    None => "silenced".to_string(),
                },
            };
            r.message = format!(
                "{} {} {:?} {state}: {}",
                alert.id, alert.rule, alert.severity, alert.summary
            );
            r.to = Some(state);
        }
        Ok(Outcome::Scenario(name)) => {
            r.message = format!("scenario {name} started");
        }
        Ok(Outcome::Run(run)) => {
            r.app = Some(app_of(run));
            r.run = Some(run.id.clone());
            r.to = Some(run.state.as_str().to_string());
            let at = run
                .current_step
                .as_deref()
                .map(|s| format!(", at step {s}"))
                .unwrap_or_default();
            r.message = format!(
                "run {} of {}: {}{at}",
                run.id,
                run.runbook,
                run.state.as_str()
            );
        }
    }
    r
}

/// `("4", "6")` from `scale shop-cart 4 -> 6`.
fn from_to(description: &str) -> (Option<String>, Option<String>) {
    match description.split_once(" -> ") {
        Some((before, to)) => (
            before.rsplit(' ').next().map(str::to_string),
            Some(to.to_string()),
        ),
        None => (None, None),
    }
}
