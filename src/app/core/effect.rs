//! What the pure core asks the outside world to do. Drivers in `client/` carry these out and
//! report back with [`super::Action`]s.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::protocol::{Seq, Topic};

/// Identifies one HTTP request so its reply can be matched, and stale replies dropped.
pub type RequestId = u64;

/// A side effect for the runtime to perform.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// Send `subscribe` on the live stream, resuming after the given sequence numbers.
    Subscribe {
        topics: Vec<Topic>,
        resume: BTreeMap<Topic, Seq>,
    },
    /// Make an HTTP call; the reply comes back as `Action::HttpReply` with the same id.
    Http(Request),
    /// Write `lines` to a new file named `file_name` in the current directory (the state
    /// directory if that is not writable); the outcome comes back as `Action::LogsSaved`.
    SaveLogs {
        file_name: String,
        lines: Vec<String>,
    },
    /// Leave this context and start afresh on the config file's context of this name:
    /// a new connection, and nothing of the old context kept on screen. If it cannot be
    /// reached (no URL, no token), `Action::ContextFailed` says why and nothing changes.
    SwitchContext(String),
    /// Leave the console.
    Quit,
}

/// An HTTP call with the id its reply will carry.
#[derive(Clone, Debug, PartialEq)]
pub struct Request {
    pub id: RequestId,
    pub kind: RequestKind,
}

/// The HTTP calls the console makes, one per endpoint it uses. Every change carries an
/// idempotency key: the same key for a retry of the same decision, a new one for a new decision.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RequestKind {
    /// GET /v1/apps
    FetchApps,
    /// GET /v1/alerts
    FetchAlerts,
    /// GET /v1/apps/{app}
    FetchApp { app: String },
    /// GET /v1/apps/{app}/releases
    FetchReleases { app: String },
    /// GET /v1/apps/{app}/metrics: the last hour of samples, for the charts.
    FetchMetrics { app: String },
    /// GET /v1/actions/{id}
    FetchAction { action: String },
    /// GET /v1/events
    FetchTimeline,
    /// POST /v1/apps/{app}/scale, on behalf of `actor`.
    ScaleApp {
        app: String,
        replicas: u32,
        idempotency_key: String,
        actor: String,
    },
    /// POST /v1/apps/{app}/rollback, on behalf of `actor`.
    Rollback {
        app: String,
        to: Option<String>,
        idempotency_key: String,
        actor: String,
    },
    /// POST /v1/alerts/{id}/ack, on behalf of `actor`.
    AckAlert {
        alert: String,
        actor: String,
        idempotency_key: String,
    },
    /// POST /v1/alerts/{id}/silence, on behalf of `actor`.
    SilenceAlert {
        alert: String,
        duration: String,
        comment: String,
        actor: String,
        idempotency_key: String,
    },
    /// DELETE /v1/alerts/{id}/silence, on behalf of `actor`.
    ExpireSilence {
        alert: String,
        actor: String,
        idempotency_key: String,
    },
    /// GET /v1/runbooks
    FetchRunbooks,
    /// GET /v1/runbooks/{id}
    FetchRunbook { runbook: String },
    /// POST /v1/runbooks/{id}/runs, on behalf of `actor`; a real run carries an idempotency key.
    StartRun {
        runbook: String,
        params: BTreeMap<String, Value>,
        dry_run: bool,
        idempotency_key: Option<String>,
        actor: String,
    },
    /// GET /v1/runs
    FetchRuns,
    /// GET /v1/runs/{id}
    FetchRun { run: String },
    /// POST /v1/runs/{id}/approve, /abort or /resume, on behalf of `actor`. An approval names
    /// the step it approves (`step`, the step the console showed waiting), so the gateway can
    /// refuse it when another gate is the one waiting; abort and resume carry none.
    ControlRun {
        run: String,
        control: RunControl,
        step: Option<String>,
        actor: String,
        idempotency_key: String,
    },
}

/// What an operator can do to a run in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunControl {
    Approve,
    Abort,
    Resume,
}

impl RunControl {
    /// The last segment of the endpoint's path.
    pub fn path(self) -> &'static str {
        match self {
            RunControl::Approve => "approve",
            RunControl::Abort => "abort",
            RunControl::Resume => "resume",
        }
    }
}

impl RequestKind {
    /// Whether this call changes the platform (and so is refused in read-only mode).
    pub fn changes_platform(&self) -> bool {
        matches!(
            self,
            RequestKind::ScaleApp { .. }
                | RequestKind::Rollback { .. }
                | RequestKind::AckAlert { .. }
                | RequestKind::SilenceAlert { .. }
                | RequestKind::ExpireSilence { .. }
                | RequestKind::StartRun { dry_run: false, .. }
                | RequestKind::ControlRun { .. }
        )
    }

    /// Whether a newer request of the same kind makes an older one's reply stale.
    pub fn supersedes(&self, older: &RequestKind) -> bool {
        !self.changes_platform() && self == older
    }
}
