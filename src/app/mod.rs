//! The console's pure core: [`State`], [`Action`], [`update`] and [`Effect`].
//!
//! Nothing here does I/O, reads the clock or touches the terminal: every input arrives as an
//! `Action` (time included), and every output leaves as an `Effect` for a driver to carry out.
//! That makes the whole console testable by feeding actions and looking at state and effects.

mod action;
mod alert_dialog;
mod alerts;
mod app_view;
mod command;
mod core;
mod dialog;
mod effect;
mod help;
mod history;
mod in_flight;
mod key;
mod keymap;
mod keys;
mod list_filter;
pub mod logs;
mod metric_history;
mod navigate;
mod order;
mod prompt;
mod replies;
mod rollback;
mod runbook_form;
mod runbooks;
mod runs;
mod state;
mod stream;
mod timeline;
mod typed_name;
mod update;
mod view_keys;

pub use action::{Action, ClickTarget, HttpError, Reply};
pub use alert_dialog::{
    AckDialog, AlertStep, AlertTarget, DurationProblem, MAX_SILENCE_SECS, SILENCE_PRESETS,
    SilenceDialog, SilenceField, describe_secs,
};
pub use alerts::{AlertNote, AlertsView, MAX_RESOLVED, compare as compare_alerts};
pub use app_view::{AppView, DETAIL_REFRESH_SECS, Pane, RollbackIntent, open_releases};
pub use command::{
    Args, COMMANDS, Candidate, CommandError, CommandSpec, Completion, PromptCommand, complete,
    parse as parse_command, suggest,
};
pub use core::{
    AppEntry, Connection, Core, EventRate, GapMark, HISTORY_LEN, Health, Navigate, NoticeLevel,
    Notification, Pending, STALE_AFTER_SECS, StateConfig, severity_index,
};
pub use dialog::{ScaleDialog, ScaleProblem, ScaleStep};
pub use effect::{Effect, Request, RequestId, RequestKind, RunControl};
pub use help::{help_layers, help_line_count, help_max_scroll, help_rows_visible, keymap_markdown};
pub use history::History;
pub use in_flight::ACTION_CHECK_SECS;
pub use key::{KeyCode, KeyInput};
pub use keymap::{Binding, Command, DEFAULT_KEYMAP, Keymap, KeymapError, Layer};
pub use keys::{active_layer, context_layer};
pub use list_filter::{ListFilters, has_filter};
pub use metric_history::{
    CHART_HISTORY_LEN, CHART_HISTORY_SECS, ChartWindow, MetricHistory, MetricPoint, Series,
};
pub use navigate::{navigate, open_app, open_rollback, open_runbook};
pub use prompt::{HISTORY_CAP, Prompt, PromptHistory};
pub use rollback::{RollbackDialog, RollbackStep, default_target};
pub use runbook_form::{FormStep, ParamField, ParamProblem, RunbookForm};
pub use runbooks::{RunbooksView, app_candidates, open_runbooks};
pub use runs::{MAX_RUNS, RunAsk, RunDialog, RunDialogStep, RunsView, open_run, open_runs};
pub use state::{Dialog, FilterInput, SortColumn, State, View};
pub use timeline::{TIMELINE_CAP, Timeline, open_events, open_events_for};
pub use update::update;

/// The topics the console subscribes to.
pub const SUBSCRIBED_TOPICS: [crate::protocol::Topic; 6] = [
    crate::protocol::Topic::Metrics,
    crate::protocol::Topic::Logs,
    crate::protocol::Topic::Alerts,
    crate::protocol::Topic::Actions,
    crate::protocol::Topic::Events,
    crate::protocol::Topic::Runs,
];
