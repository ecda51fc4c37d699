//! The console's pure core: [`State`], [`Action`], [`update`] and [`Effect`].
//!
//! Nothing here does I/O, reads the clock or touches the terminal: every input arrives as an
//! `Action` (time included), and every output leaves as an `Effect` for a driver to carry out.
//! That makes the whole console testable by feeding actions and looking at state and effects.

pub mod core;
pub mod dialogs;
pub mod views;

mod command;
mod help;
mod keys;
mod list_filter;
mod navigate;
mod prompt;
mod replies;
mod state;
mod stream;
mod update;

pub use self::core::action::{Action, ClickTarget, HttpError, Reply};
pub use self::core::effect::{Effect, Request, RequestId, RequestKind, RunControl};
pub use self::core::history::History;
pub use self::core::in_flight::ACTION_CHECK_SECS;
pub use self::core::key::{KeyCode, KeyInput};
pub use self::core::keymap::{Binding, Command, DEFAULT_KEYMAP, Keymap, KeymapError, Layer};
pub use self::core::metric_history::{
    CHART_HISTORY_LEN, CHART_HISTORY_SECS, ChartWindow, MetricHistory, MetricPoint, Series,
};
pub use self::core::{
    AppEntry, Connection, Core, EventRate, FilterInput, GapMark, HISTORY_LEN, Health, Navigate,
    NoticeLevel, Notification, Pending, STALE_AFTER_SECS, StateConfig, TIMELINE_CAP, Timeline,
    severity_index,
};
pub use command::{
    Args, COMMANDS, Candidate, CommandError, CommandSpec, Completion, PromptCommand, complete,
    parse as parse_command, suggest,
};
pub use dialogs::alert_dialog::{
    AckDialog, AlertQuestion, AlertStep, AlertTarget, DurationProblem, MAX_SILENCE_SECS,
    SILENCE_PRESETS, SilenceDialog, SilenceField, describe_secs,
};
pub use dialogs::quit::{QuitDialog, WaitingRun};
pub use dialogs::rollback::{
    Incident, IncidentFit, ReleaseMark, RollbackDialog, RollbackStep, default_target,
};
pub use dialogs::scale::{ScaleDialog, ScaleProblem, ScaleStep};
pub use help::{
    HELP_KEYS_WIDTH, HELP_WIDE, HELP_WIDTH, TERMINAL_KEYS, TERMINAL_TITLE, help_desc_width,
    help_layers, help_line_count, help_max_scroll, help_rows_visible, keymap_markdown,
};
pub use keys::{active_layer, context_layer};
pub use list_filter::{ListFilters, has_filter};
pub use navigate::{
    navigate, open_app, open_events, open_events_for, open_releases, open_rollback, open_runbook,
};
pub use prompt::{HISTORY_CAP, Prompt, PromptHistory};
pub use state::{Dialog, State, View};
pub use update::update;
pub use views::alerts::{AlertNote, AlertsView, MAX_RESOLVED, compare as compare_alerts};
pub use views::app_view::{AppView, DETAIL_REFRESH_SECS, Pane, RollbackIntent};
pub use views::logs;
pub use views::overview::{Overview, SortColumn};
pub use views::runbook_form::{FormStep, ParamField, ParamProblem, RunbookForm};
pub use views::runbooks::{RunbooksView, app_candidates, open_runbooks};
pub use views::runs::{
    FailedCheck, MAX_RUNS, RunAsk, RunDialog, RunDialogStep, RunsView, open_run, open_runs,
};
pub use views::timeline::EventsView;

/// The topics the console subscribes to.
pub const SUBSCRIBED_TOPICS: [crate::protocol::Topic; 6] = [
    crate::protocol::Topic::Metrics,
    crate::protocol::Topic::Logs,
    crate::protocol::Topic::Alerts,
    crate::protocol::Topic::Actions,
    crate::protocol::Topic::Events,
    crate::protocol::Topic::Runs,
];
