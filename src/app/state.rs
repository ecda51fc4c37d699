//! The console's whole state: what it knows about the platform and what the operator is doing.
//! Only `update()` changes it; `ui/` only reads it.

use super::alert_dialog::{AckDialog, SilenceDialog};
use super::alerts::AlertsView;
use super::app_view::AppView;
use super::core::{AppEntry, Core, StateConfig};
use super::dialog::ScaleDialog;
use super::list_filter::ListFilters;
use super::logs::{LogView, LogsConfig};
use super::prompt::{Prompt, PromptHistory};
use super::rollback::RollbackDialog;
use super::runbooks::RunbooksView;
use super::runs::{RunDialog, RunsView};
use super::timeline::Timeline;

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

/// Columns the overview can be sorted by, in the order `s` cycles through them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortColumn {
    /// Worst health first, then name.
    #[default]
    Health,
    Name,
    Rps,
    P99,
    Errors,
    Cpu,
    Alerts,
}

impl SortColumn {
    pub fn next(self) -> SortColumn {
        match self {
            SortColumn::Health => SortColumn::Name,
            SortColumn::Name => SortColumn::Rps,
            SortColumn::Rps => SortColumn::P99,
            SortColumn::P99 => SortColumn::Errors,
            SortColumn::Errors => SortColumn::Cpu,
            SortColumn::Cpu => SortColumn::Alerts,
            SortColumn::Alerts => SortColumn::Health,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SortColumn::Health => "health",
            SortColumn::Name => "name",
            SortColumn::Rps => "rps",
            SortColumn::P99 => "p99",
            SortColumn::Errors => "errors",
            SortColumn::Cpu => "cpu",
            SortColumn::Alerts => "alerts",
        }
    }
}

/// The `/` filter: text matched against app id, name and region.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FilterInput {
    pub text: String,
    /// Keys are being typed into the filter.
    pub editing: bool,
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
}

/// Everything the console knows: the shared [`Core`], then what each view and dialog owns.
#[derive(Clone, Debug)]
pub struct State {
    /// What every view may read.
    pub core: Core,
    /// App ids in display order (sorted and filtered); kept current by `update()`.
    pub order: Vec<String>,
    /// The overview's first shown app as last drawn (see `Action::OverviewScrolled`).
    pub overview_top: usize,

    pub view: View,
    /// Views to go back to with Esc, most recent last.
    pub view_stack: Vec<View>,
    /// The app the App and Releases views show, with its pods and releases.
    pub app_view: AppView,
    /// Recent platform events, newest first.
    pub timeline: Timeline,
    /// Id of the selected app.
    pub selected: Option<String>,
    pub sort: SortColumn,
    pub filter: FilterInput,
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
            order: Vec::new(),
            overview_top: 0,
            view: View::Overview,
            view_stack: Vec::new(),
            app_view: AppView::default(),
            timeline: Timeline::default(),
            selected: None,
            sort: SortColumn::default(),
            filter: FilterInput::default(),
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

    /// Position of the selected app in [`State::order`].
    pub fn selected_index(&self) -> Option<usize> {
        let id = self.selected.as_ref()?;
        self.order.iter().position(|o| o == id)
    }

    pub fn selected_app(&self) -> Option<&AppEntry> {
        self.core.apps.get(self.selected.as_ref()?)
    }
}
