//! Everything that can happen to the console, as data: keys, stream frames, HTTP replies,
//! clock ticks. `update()` turns each into state changes and effects.

use chrono::{DateTime, Utc};

use crate::app::core::effect::RequestId;
use crate::app::core::key::KeyInput;
use crate::protocol::{
    ActionStatus, Alert, AppDetail, AppSummary, Release, RunStatus, RunbookDetail, RunbookSummary,
    ServerMsg, TimedSample, TimelineEntry,
};

/// An input to [`super::update`].
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// The operator pressed a key.
    Key(KeyInput),
    /// The stream driver connected and read the gateway's `hello`.
    StreamConnected(ServerMsg),
    /// A frame from the live stream (anything after `hello`).
    StreamFrame(ServerMsg),
    /// The gateway's `clock` frame, and when it arrived on the console's clock.
    Clock {
        platform_time: DateTime<Utc>,
        rate: f64,
        at: DateTime<Utc>,
    },
    /// The stream broke at `at`; the driver tries again after `retry_in_ms`.
    StreamDown {
        reason: String,
        retry_in_ms: u64,
        at: DateTime<Utc>,
    },
    /// An HTTP call finished.
    HttpReply {
        request_id: RequestId,
        result: Result<Reply, HttpError>,
    },
    /// The clock: sent about once a second, and carries the time so `update` never reads it.
    Tick(DateTime<Utc>),
    /// The terminal changed size.
    Resize { width: u16, height: u16 },
    /// An `Effect::SaveLogs` was carried out (or failed, with the reason).
    LogsSaved(Result<SavedLogs, String>),
    /// The mouse wheel turned (`--mouse`): like three presses of Down (or Up) in a view.
    Wheel { down: bool },
    /// The mouse clicked something the screen shows (`--mouse`); the UI found what.
    Click(ClickTarget),
    /// The overview was drawn from its `top`-th app down (the UI keeps the selection in
    /// sight); the next frame starts from there, so the list does not jump under the pointer.
    OverviewScrolled { top: usize },
    /// The theme `name` (asked for with `:theme`) could not be loaded; `kept` stays in use.
    ThemeFailed {
        name: String,
        kept: String,
        error: String,
    },
    /// `:ctx NAME` could not switch (its settings, its token); the console stays where it is.
    ContextFailed { name: String, error: String },
}

/// What a mouse click landed on, as the last frame drew it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClickTarget {
    /// An overview row: the app drawn there, and the overview's first shown app then.
    OverviewRow { app: String, top: usize },
}

/// A successful HTTP reply body, by endpoint.
#[derive(Clone, Debug, PartialEq)]
pub enum Reply {
    Apps(Vec<AppSummary>),
    App(Box<AppDetail>),
    Releases(Vec<Release>),
    Metrics(Vec<TimedSample>),
    Alerts(Vec<Alert>),
    Alert(Box<Alert>),
    Action(Box<ActionStatus>),
    Timeline(Vec<TimelineEntry>),
    Runbooks(Vec<RunbookSummary>),
    Runbook(Box<RunbookDetail>),
    Runs(Vec<RunStatus>),
    Run(Box<RunStatus>),
    /// 2xx with no body the console needs.
    Done,
}

/// A failed HTTP call: a transport failure (no status) or an error body from the gateway.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct HttpError {
    pub status: Option<u16>,
    pub code: String,
    pub message: String,
}

impl HttpError {
    pub fn transport(message: impl Into<String>) -> Self {
        HttpError {
            status: None,
            code: "unreachable".into(),
            message: message.into(),
        }
    }

    /// Whether the same request might succeed if sent again.
    pub fn is_transient(&self) -> bool {
        match self.status {
            None => true,
            Some(s) => s >= 500 || s == 429,
        }
    }

    fn describe(&self) -> String {
        match self.status {
            // The console's own token is missing or wrong: say where it comes from.
            Some(401) => format!(
                "401 {}: {} (the console's token comes from OPSDECK_TOKEN, --token-file or \
                 --token-command)",
                self.code, self.message
            ),
            Some(s) => format!("{s} {}: {}", self.code, self.message),
            None => format!("gateway unreachable: {}", self.message),
        }
    }
}

/// Where the lines went.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SavedLogs {
    pub path: String,
    pub lines: usize,
}
