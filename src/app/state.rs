//! The console's whole state: what it knows about the platform and what the operator is doing.
//! Only `update()` changes it; `ui/` only reads it.

use crate::app::core::{Core, StateConfig};
use crate::app::dialogs::alert_dialog::{AckDialog, SilenceDialog};
use crate::app::dialogs::quit::QuitDialog;
use crate::app::dialogs::rollback::RollbackDialog;
use crate::app::dialogs::scale::ScaleDialog;
use crate::app::list_filter::ListFilters;
use crate::app::prompt::{Prompt, PromptHistory};
use crate::app::views::alerts::AlertsView;
use crate::app::views::app_view::AppView;
use crate::app::views::logs::{LogView, LogsConfig};
use crate::app::views::overview::Overview;
use crate::app::views::runbooks::RunbooksView;
use crate::app::views::runs::{RunDialog, RunsView};
use crate::app::views::timeline::EventsView;

/// Views remembered for Esc, at most.
pub const MAX_VIEW_STACK: usize = 16;

/// Which screen is showing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum View {
    #[default]
    Overview,
    /// Live log tail of one app, several, or all.
    Logs,
    /// One app: charts, pods, events, alerts, releases.
    App,
    /// One app's release history, for rolling back.
    Releases,
    /// The platform timeline: what happened and who did what.
    Events,
    Alerts,
    /// Every runbook, with the alerts that point at it.
    Runbooks,
    /// One runbook's parameter form, then its dry-run plan.
    Runbook,
    /// Every run, newest first.
    Runs,
    /// One run, live.
    Run,
}

/// A modal dialog over the current view.
#[derive(Clone, Debug, PartialEq)]
pub enum Dialog {
    Scale(ScaleDialog),
    Rollback(Box<RollbackDialog>),
    Ack(AckDialog),
    Silence(SilenceDialog),
    /// Start, approve, abort or resume a runbook run.
    Run(RunDialog),
    /// Quit while a run the operator started waits for approval?
    Quit(QuitDialog),
}

/// Everything the console knows: the shared [`Core`], then what each view and dialog owns.
#[derive(Clone, Debug)]
pub struct State {
    /// What every view may read.
    pub core: Core,
    pub overview: Overview,

    pub view: View,
    /// Views to go back to with Esc, most recent last.
    pub view_stack: Vec<View>,
    /// The app the App and Releases views show, with its pods and releases.
    pub app_view: AppView,
    /// Where the Events view is in the timeline.
    pub events: EventsView,
    /// The `/` filters of the other list views.
    pub list_filters: ListFilters,
    pub dialog: Option<Dialog>,
    /// The help overlay is open (over any view or dialog).
    pub help_open: bool,
    /// First help line shown while the overlay scrolls.
    pub help_scroll: usize,
    /// The log buffer and the Logs view's state; fed whatever view shows.
    pub logs: LogView,
    pub alerts_view: AlertsView,
    /// The Runbooks view and the parameter form.
    pub runbooks: RunbooksView,
    /// Runs of runbooks and the Run view.
    pub runs: RunsView,
    /// The `:` command line, while open.
    pub prompt: Option<Prompt>,
    pub prompt_history: PromptHistory,
    pub quitting: bool,
}

impl State {
    pub fn new(config: StateConfig) -> Self {
        State {
            core: Core::new(config),
            overview: Overview::default(),
            view: View::Overview,
            view_stack: Vec::new(),
            app_view: AppView::default(),
            events: EventsView::default(),
            list_filters: ListFilters::default(),
            dialog: None,
            help_open: false,
            help_scroll: 0,
            logs: LogView::new(LogsConfig::default()),
            alerts_view: AlertsView::default(),
            runbooks: RunbooksView::default(),
            runs: RunsView::default(),
            prompt: None,
            prompt_history: PromptHistory::default(),
            quitting: false,
        }
    }

    /// Use `config` for the log buffer (size, local time offset) instead of the defaults.
    pub fn with_logs(mut self, config: LogsConfig) -> Self {
        self.logs = LogView::new(config);
        self
    }

    /// Show `view`, remembering the current one for Esc.
    pub(crate) fn push_view(&mut self, view: View) {
        self.stop_filter_editing();
        if self.view == view {
            return;
        }
        if self.view_stack.len() == MAX_VIEW_STACK {
            self.view_stack.remove(0);
        }
        self.view_stack.push(self.view);
        self.view = view;
    }

    /// Esc: the previous view, or the overview.
    pub(crate) fn go_back(&mut self) {
        self.stop_filter_editing();
        self.view = self.view_stack.pop().unwrap_or(View::Overview);
    }
}
