//! The console's whole state: what it knows about the platform and what the operator is doing.
//! Only `update()` changes it; `ui/` only reads it.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};

use super::alert_dialog::{AckDialog, SilenceDialog};
use super::alerts::AlertsView;
use super::app_view::AppView;
use super::dialog::ScaleDialog;
use super::effect::{RequestId, RequestKind};
use super::history::History;
use super::keymap::Keymap;
use super::list_filter::ListFilters;
use super::logs::{LogView, LogsConfig};
use super::metric_history::MetricHistory;
use super::prompt::{Prompt, PromptHistory};
use super::rollback::RollbackDialog;
use super::runbooks::RunbooksView;
use super::runs::{RunDialog, RunsView};
use super::timeline::Timeline;
use crate::protocol::{
    ActionStatus, Alert, AlertState, AppStatus, AppSummary, MetricSample, Seq, Topic,
};

/// Samples kept per app for sparklines (two minutes at 1 Hz).
pub const HISTORY_LEN: usize = 120;
/// Notifications shown at most at once; older ones are dropped.
pub const MAX_NOTIFICATIONS: usize = 5;
/// How long a notification stays up, seconds.
pub const NOTIFICATION_SECS: i64 = 8;
/// How long the stream may be down before the data on screen counts as stale, seconds.
pub const STALE_AFTER_SECS: i64 = 10;

/// How the console starts: fixed facts for the whole session.
#[derive(Clone, Debug)]
pub struct StateConfig {
    /// Gateway address as shown in the status bar.
    pub gateway: String,
    /// Talking to the embedded simulator.
    pub demo: bool,
    /// No actions may be taken.
    pub readonly: bool,
    /// A production context (`--production`): scale and rollback need the app name typed.
    pub production: bool,
    pub keymap: Keymap,
    /// Seeds idempotency keys, so a session's keys differ from another's but tests are fixed.
    pub key_seed: u64,
    pub now: DateTime<Utc>,
}

/// The state of the live stream.
#[derive(Clone, Debug, PartialEq)]
pub enum Connection {
    /// First connection attempt in progress.
    Connecting,
    /// Connected and subscribed.
    Live,
    /// Lost; the driver tries again at `next_try_at`.
    Reconnecting {
        attempt: u32,
        next_try_at: DateTime<Utc>,
    },
    /// Lost for long enough that the data on screen should not be trusted.
    Stale {
        since: DateTime<Utc>,
        attempt: u32,
        next_try_at: DateTime<Utc>,
    },
}

/// How an app is doing, for colour and sorting.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Health {
    Healthy,
    Busy,
    Degraded,
    Down,
}

/// One app as the console knows it: the last snapshot plus live metrics.
#[derive(Clone, Debug, PartialEq)]
pub struct AppEntry {
    pub summary: AppSummary,
    pub latest: Option<MetricSample>,
    /// Requests per second, one sample per metrics event.
    pub rps_history: History,
    /// The last hour at 1 Hz of the series the App view charts.
    pub metrics_history: MetricHistory,
    /// Firing (not acknowledged, silenced or resolved) alerts on this app.
    pub firing_alerts: u32,
}

impl AppEntry {
    pub fn new(summary: AppSummary) -> Self {
        let mut rps_history = History::new(HISTORY_LEN);
        if let Some(m) = &summary.metrics {
            rps_history.push(m.rps);
        }
        AppEntry {
            latest: summary.metrics.clone(),
            summary,
            rps_history,
            metrics_history: MetricHistory::default(),
            firing_alerts: 0,
        }
    }

    /// Health from the platform's status and the latest metrics.
    pub fn health(&self) -> Health {
        let r = self.summary.replicas;
        match self.summary.status {
            AppStatus::Down => return Health::Down,
            AppStatus::Scaling | AppStatus::RollingBack => return Health::Busy,
            AppStatus::Degraded => return Health::Degraded,
            AppStatus::Healthy => {}
        }
        if r.desired > 0 && r.ready == 0 {
            return Health::Down;
        }
        if let Some(m) = &self.latest {
            if m.error_ratio >= 0.05 {
                return Health::Down;
            }
            if m.error_ratio >= 0.01 || m.latency_ms.p99 >= 1000.0 || m.cpu >= 0.9 {
                return Health::Degraded;
            }
        }
        if r.ready < r.desired || self.firing_alerts > 0 {
            return Health::Degraded;
        }
        Health::Healthy
    }
}

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

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeLevel {
    Info,
    Warn,
    Error,
}

/// A short message to the operator that goes away by itself.
#[derive(Clone, Debug, PartialEq)]
pub struct Notification {
    pub level: NoticeLevel,
    pub text: String,
    pub at: DateTime<Utc>,
}

/// Events lost on a topic, as the gateway reported with `gap`.
#[derive(Clone, Debug, PartialEq)]
pub struct GapMark {
    pub topic: Topic,
    pub from: Seq,
    pub to: Seq,
    pub at: DateTime<Utc>,
}

/// Events per second, counted in whole wall-clock seconds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventRate {
    second: i64,
    counting: u64,
    /// Events received in the last complete second.
    pub per_sec: u64,
}

impl EventRate {
    pub fn count(&mut self, n: u64) {
        self.counting += n;
    }

    /// Close the second if `now` is in a later one.
    pub fn roll(&mut self, now: DateTime<Utc>) {
        let s = now.timestamp();
        if s == self.second {
            return;
        }
        self.per_sec = if s == self.second + 1 {
            self.counting
        } else {
            0
        };
        self.counting = 0;
        self.second = s;
    }
}

/// An HTTP call the console is waiting on.
#[derive(Clone, Debug, PartialEq)]
pub struct Pending {
    pub kind: RequestKind,
    pub sent_at: DateTime<Utc>,
}

/// Everything the console knows.
#[derive(Clone, Debug)]
pub struct State {
    pub gateway: String,
    pub demo: bool,
    pub readonly: bool,
    pub production: bool,
    pub keymap: Keymap,
    pub now: DateTime<Utc>,
    /// Terminal size, for paging.
    pub size: (u16, u16),

    /// Apps by id.
    pub apps: BTreeMap<String, AppEntry>,
    /// The first app list has arrived.
    pub apps_loaded: bool,
    /// App ids in display order (sorted and filtered); kept current by `update()`.
    pub order: Vec<String>,
    pub alerts: BTreeMap<String, Alert>,
    /// Actions not yet succeeded or failed, by id.
    pub actions: BTreeMap<String, ActionStatus>,
    /// When each action in flight was last heard of (or asked about), console time.
    pub action_heard: BTreeMap<String, DateTime<Utc>>,
    /// Actions that ended lately, newest last (at most [`MAX_SETTLED`]): a late status that is
    /// not final (the POST's own `accepted` arriving after the stream's `succeeded`) must not
    /// bring their progress line back.
    pub actions_settled: VecDeque<String>,
    /// The overview's first shown app as last drawn (see `Action::OverviewScrolled`).
    pub overview_top: usize,

    pub connection: Connection,
    /// When the stream went down, while it is down.
    pub down_since: Option<DateTime<Utc>>,
    pub down_reason: Option<String>,
    /// The `platform` the gateway announced in `hello`.
    pub platform: Option<String>,
    /// Newest sequence number applied, per topic.
    pub last_seq: BTreeMap<Topic, Seq>,
    pub gaps: Vec<GapMark>,
    /// Events the gateway dropped because we were slow, per topic.
    pub dropped: BTreeMap<Topic, u64>,
    /// Events received twice (at or below `last_seq`) and ignored.
    pub duplicates: u64,
    pub rate: EventRate,
    /// When the last data of any kind arrived.
    pub last_data_at: Option<DateTime<Utc>>,

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
    pub notifications: VecDeque<Notification>,
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
    /// Name of the colour theme; `tui/` resolves it, `:theme` changes it.
    pub theme: String,
    /// Theme names `:theme` accepts (the built-in ones; `tui/` fills this in).
    pub themes: Vec<String>,
    /// Who acts, sent with every change the console asks for (`X-Opsdeck-User`).
    pub actor: String,

    pub pending: BTreeMap<RequestId, Pending>,
    pub(crate) next_request: RequestId,
    pub(crate) key_seed: u64,
    pub(crate) keys_issued: u64,
    pub quitting: bool,
}

impl State {
    pub fn new(config: StateConfig) -> Self {
        State {
            gateway: config.gateway,
            demo: config.demo,
            readonly: config.readonly,
            production: config.production,
            // `--readonly` removes every action from the keymap, so help and hints lose them.
            keymap: if config.readonly {
                config.keymap.without_actions()
            } else {
                config.keymap
            },
            now: config.now,
            size: (80, 24),
            apps: BTreeMap::new(),
            apps_loaded: false,
            order: Vec::new(),
            alerts: BTreeMap::new(),
            actions: BTreeMap::new(),
            action_heard: BTreeMap::new(),
            actions_settled: VecDeque::new(),
            overview_top: 0,
            connection: Connection::Connecting,
            down_since: None,
            down_reason: None,
            platform: None,
            last_seq: BTreeMap::new(),
            gaps: Vec::new(),
            dropped: BTreeMap::new(),
            duplicates: 0,
            rate: EventRate::default(),
            last_data_at: None,
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
            notifications: VecDeque::new(),
            logs: LogView::new(LogsConfig::default()),
            alerts_view: AlertsView::default(),
            runbooks: RunbooksView::default(),
            runs: RunsView::default(),
            prompt: None,
            prompt_history: PromptHistory::default(),
            theme: "dark".into(),
            themes: Vec::new(),
            actor: "operator".into(),
            pending: BTreeMap::new(),
            next_request: 1,
            key_seed: config.key_seed,
            keys_issued: 0,
            quitting: false,
        }
    }

    /// Use `config` for the log buffer (size, local time offset) instead of the defaults.
    pub fn with_logs(mut self, config: LogsConfig) -> Self {
        self.logs = LogView::new(config);
        self
    }

    /// Position of the selected app in [`State::order`].
    pub fn selected_index(&self) -> Option<usize> {
        let id = self.selected.as_ref()?;
        self.order.iter().position(|o| o == id)
    }

    pub fn selected_app(&self) -> Option<&AppEntry> {
        self.apps.get(self.selected.as_ref()?)
    }

    /// Firing alerts across all apps.
    pub fn firing_total(&self) -> usize {
        self.alerts
            .values()
            .filter(|a| a.state == AlertState::Firing)
            .count()
    }

    /// Whether the stream is down (reconnecting or stale).
    pub fn is_down(&self) -> bool {
        matches!(
            self.connection,
            Connection::Reconnecting { .. } | Connection::Stale { .. }
        )
    }
}
