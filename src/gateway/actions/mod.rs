//! The one door for every change the gateway makes: scale, rollback, scenario start, alert
//! acknowledge and silence, run start, approve, abort and resume. Each is one function taking the
//! actor, a typed request, where it came from ([`Source`]: an HTTP request, perhaps under an
//! Idempotency-Key, or a runbook run) and the gateway, and answering a typed result or an
//! [`ActionError`]. Inside, always in this order: may this actor do it ([`authorize`]), is the
//! request valid (ranges, known app or runbook), idempotency and the action limit ([`once`]),
//! then, once per key, the platform call wrapped by its audit record ([`audited`]): refused when
//! the audit cannot be written, and answered only once the outcome is in the audit file.
//!
//! Nothing here knows HTTP: `routes` and `runs::api` turn requests into these calls and
//! [`ActionError`]s into status codes; the runbook engine calls the same functions.

mod alerts;
mod apps;
mod audited;
mod once;
mod runs;

use crate::platform::{PlatformError, RollbackPlan};
use crate::protocol::{ActionStatus, Alert, Role, RunStatus};

pub use super::auth::Actor;
pub use alerts::{Silence, acknowledge, expire_silence, silence};
pub use apps::{Rollback, Scale, rollback, scale, start_scenario};
pub use runs::{Approve, StartRun, abort_run, approve_run, resume_run, runbook, start_run};

pub(super) use once::Answer;

/// A request that may be retried: the client's Idempotency-Key and the request as sent, in a
/// canonical form (JSON keys sorted), so a retry gets the first answer and applies nothing
/// twice, and the same key for another request is refused.
#[derive(Clone, Debug, PartialEq)]
pub struct IdempotencyKey {
    pub key: String,
    pub request: String,
}

/// Where an HTTP request came from, for the audit.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Origin {
    /// The request's id (`X-Request-Id`).
    pub request_id: Option<String>,
    /// The client's address as the gateway saw it.
    pub client: Option<std::net::SocketAddr>,
}

/// Where a change comes from.
#[derive(Clone, Debug, PartialEq)]
pub enum Source {
    /// An operator's request (HTTP): applied once per key when it has one, and counted against
    /// the actor's action limit when it starts a platform action.
    Request(Option<IdempotencyKey>, Origin),
    /// A step of run `0`, which the engine applies once; the run's start was counted.
    Run(String),
}

/// Why a change was refused or failed. `routes` maps each to a status code.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ActionError {
    /// The actor's role may not do this, or the four-eyes rule refuses this actor (403). The
    /// message names the role needed or the rule.
    #[error("{0}")]
    Forbidden(String),
    /// The request is not acceptable as it stands (422).
    #[error("{0}")]
    Invalid(String),
    /// No such app, alert, runbook or run (404).
    #[error("{0}")]
    NotFound(String),
    /// The request conflicts with the current state, e.g. approving a run that does not wait (409).
    #[error("{0}")]
    Conflict(String),
    /// The Idempotency-Key was used for a different request (422).
    #[error("Idempotency-Key {key:?} was already used for a different request")]
    KeyReused { key: String },
    /// As many keyed requests are running as the store remembers keys (503, retry in 1 s).
    #[error("too many keyed requests are running; try again shortly")]
    Busy,
    /// The actor started more actions this minute than allowed (429).
    #[error(
        "{actor} started more than {per_minute} actions in a minute; try again in {retry_after_secs} s"
    )]
    RateLimited {
        actor: String,
        per_minute: u32,
        retry_after_secs: u64,
    },
    /// As many runs are unfinished as the gateway keeps (503).
    #[error("{cap} runs are unfinished; finish, approve or abort some first")]
    TooManyRuns { cap: usize },
    /// The platform refused or failed.
    #[error(transparent)]
    Platform(#[from] PlatformError),
    /// The change failed inside the gateway (a task panicked) (500).
    #[error("the action failed inside the gateway")]
    Internal,
    /// The audit file cannot be written, so the gateway changes nothing more (503).
    #[error(
        "the audit trail cannot be written; the gateway refuses changes until it is fixed and restarted"
    )]
    Unaudited,
}

impl ActionError {
    /// Whether this answer is kept under its Idempotency-Key. Server-side failures are not, so a
    /// retry after a blip runs again; nor are unknown resources, which applied nothing and would
    /// otherwise let anyone fill the store with keys for things that do not exist.
    pub fn is_remembered(&self) -> bool {
        match self {
            ActionError::Invalid(_)
            | ActionError::Conflict(_)
            | ActionError::KeyReused { .. }
            | ActionError::RateLimited { .. }
            // The change may have been applied: a retry must not apply it again.
            | ActionError::Unaudited => true,
            ActionError::NotFound(_)
            | ActionError::Forbidden(_)
            | ActionError::Busy
            | ActionError::TooManyRuns { .. }
            | ActionError::Internal => false,
            ActionError::Platform(err) => match err {
                PlatformError::Invalid(_) | PlatformError::Conflict(_) => true,
                PlatformError::NotFound(_)
                | PlatformError::Unsupported(_)
                | PlatformError::Unavailable(_) => false,
            },
        }
    }
}

/// What a change answered, as kept for replay under an Idempotency-Key.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Action(ActionStatus),
    Rollback {
        status: ActionStatus,
        plan: RollbackPlan,
    },
    Alert(Alert),
    Run(RunStatus),
    /// A scenario started on the simulator.
    Scenario(String),
}

/// The kind of change an actor asks for, for [`authorize`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operation {
    Scale,
    Rollback,
    StartScenario,
    Acknowledge,
    Silence,
    StartRun,
    ApproveRun,
    AbortRun,
    ResumeRun,
    /// Alertmanager's webhook telling of its alerts: news, not a change to the world, so not
    /// audited; an operator's right, so a viewer's token cannot make alerts up.
    ReportAlerts,
}

impl Operation {
    /// The least role that may do this: a viewer changes nothing, an operator steers apps,
    /// alerts and runs, only an admin drives the simulator.
    pub fn needs(self) -> Role {
        match self {
            Operation::StartScenario => Role::Admin,
            Operation::Scale
            | Operation::Rollback
            | Operation::Acknowledge
            | Operation::Silence
            | Operation::StartRun
            | Operation::ApproveRun
            | Operation::AbortRun
            | Operation::ResumeRun
            | Operation::ReportAlerts => Role::Operator,
        }
    }

    /// What it does, for people: "scale an app".
    pub fn describe(self) -> &'static str {
        match self {
            Operation::Scale => "scale an app",
            Operation::Rollback => "roll an app back",
            Operation::StartScenario => "start a scenario",
            Operation::Acknowledge => "acknowledge an alert",
            Operation::Silence => "silence an alert",
            Operation::StartRun => "start a run",
            Operation::ApproveRun => "approve a run step",
            Operation::AbortRun => "abort a run",
            Operation::ResumeRun => "resume a run",
            Operation::ReportAlerts => "report alerts",
        }
    }
}

/// May `actor` do `operation`? Checked first in every change, before anything is validated or
/// applied; a refusal names the role needed.
pub fn authorize(actor: &Actor, operation: Operation) -> Result<(), ActionError> {
    let needed = operation.needs();
    if actor.role().allows(needed) {
        return Ok(());
    }
    Err(ActionError::Forbidden(format!(
        "{} ({}) may not {}: that needs the {needed} role",
        actor.name(),
        actor.role(),
        operation.describe()
    )))
}
