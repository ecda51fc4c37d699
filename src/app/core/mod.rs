//! What every view may read: the connection, the apps, alerts and actions in flight, the clock,
//! the terminal size, notifications, and the requests on their way. Views and dialogs own
//! their own state (`app::state`); this is the part they share. Only `update()` changes it.

pub mod action;
pub mod clock;
pub mod effect;
pub mod history;
pub mod in_flight;
pub mod key;
pub mod keymap;
pub mod list;
pub mod metric_history;
pub mod pattern;
pub mod typed_name;

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, Utc};

use crate::app::core::action::{HttpError, Reply};
use crate::app::core::effect::{Effect, Request, RequestId, RequestKind};
use crate::app::core::history::History;
use crate::app::core::keymap::Keymap;
use crate::app::core::metric_history::MetricHistory;
use crate::protocol::{
    ActionStatus, Alert, AlertState, AppStatus, AppSummary, MetricSample, MetricsProblem, Seq,
    Severity, TimelineEntry, Topic,
};

/// Samples kept per app for sparklines (two minutes at 1 Hz).
pub const HISTORY_LEN: usize = 120;
/// Notifications shown at most at once; older ones are dropped.
pub const MAX_NOTIFICATIONS: usize = 5;
/// How long a notification stays up, seconds.
pub const NOTIFICATION_SECS: i64 = 8;
/// How long the stream may be down before the data on screen counts as stale, seconds.
pub const STALE_AFTER_SECS: i64 = 10;

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
    /// Why the newest metrics could not be read (e.g. Prometheus down, a bad query): `latest`
    /// and the charts keep the last good values, shown with this.
    pub metrics_problem: Option<MetricsProblem>,
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
            metrics_problem: None,
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
    /// Platform time, as shown.
    pub at: DateTime<Utc>,
    /// When it was posted on the console's clock; it goes after `NOTIFICATION_SECS`.
    pub posted: DateTime<Utc>,
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

/// A place in the console.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Navigate {
    Overview,
    Alerts,
    /// One app: the App view.
    App(String),
    /// One app's releases: the Releases view.
    Releases(String),
    /// Logs of these apps; empty means all.
    Logs(Vec<String>),
    /// The platform's event timeline.
    Events,
    /// The rollback dialog for an app, optionally to one release.
    Rollback {
        app: String,
        release: Option<String>,
    },
    /// A runbook's parameter form, for an alert on `app` when given.
    Runbook {
        id: String,
        app: Option<String>,
    },
    /// Every runbook.
    Runbooks,
    /// Every run, newest first.
    Runs,
    /// The scale dialog for an app.
    Scale(String),
    /// The Events view on one app's events (`None`: every app's).
    AppEvents(Option<String>),
    /// One app's releases with the cursor on one of them.
    ReleasesAt {
        app: String,
        release: Option<String>,
    },
}

/// What a view did with a command: nothing (someone else may take it), all of it, or it asks
/// to go somewhere, which the router does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handled {
    No,
    Yes,
    Go(Navigate),
}

/// A list's `/` filter: the text typed, and whether keys go into it now.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FilterInput {
    pub text: String,
    /// Keys are being typed into the filter.
    pub editing: bool,
}

/// Most platform events kept.
pub const TIMELINE_CAP: usize = 1000;

/// Recent platform events, newest first: filled from GET /v1/events when the Events or App
/// view opens, kept current by the live `events` topic, bounded at [`TIMELINE_CAP`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// Newest first.
    pub entries: VecDeque<TimelineEntry>,
    /// GET /v1/events has answered at least once.
    pub loaded: bool,
    /// Why the last load failed, until the next one succeeds.
    pub error: Option<String>,
    pub(crate) request: Option<RequestId>,
}

impl Timeline {
    /// Events of `app` (all events for `None`), newest first.
    pub fn for_app<'a>(&'a self, app: Option<&'a str>) -> impl Iterator<Item = &'a TimelineEntry> {
        self.entries
            .iter()
            .filter(move |e| app.is_none_or(|a| e.app == a))
    }

    pub(crate) fn push_live(&mut self, entry: TimelineEntry) {
        self.entries.push_front(entry);
        self.entries.truncate(TIMELINE_CAP);
    }

    /// Replace the list with a fresh snapshot, keeping live events newer than its newest.
    fn replace(&mut self, mut list: Vec<TimelineEntry>) {
        list.sort_by_key(|e| std::cmp::Reverse(e.ts));
        let newest = list.first().map(|e| e.ts);
        let mut merged: VecDeque<TimelineEntry> = self
            .entries
            .iter()
            .filter(|e| newest.is_none_or(|n| e.ts > n || (e.ts == n && !list.contains(e))))
            .cloned()
            .collect();
        merged.extend(list);
        merged.truncate(TIMELINE_CAP);
        self.entries = merged;
        self.loaded = true;
        self.error = None;
    }
}

/// What every view may read, and the console's ways to reach out (notify, send).
#[derive(Clone, Debug)]
pub struct Core {
    pub gateway: String,
    pub demo: bool,
    pub readonly: bool,
    pub production: bool,
    pub keymap: Keymap,
    /// Platform time now (see [`clock`]): every time the console shows is measured from it.
    pub now: DateTime<Utc>,
    /// The console's own clock, at the last tick: only for how long the console itself waits
    /// (reconnects, notification lifetimes, refresh intervals, events/s).
    pub wall: DateTime<Utc>,
    /// Reads platform time from the gateway's last `clock` frame.
    pub clock: clock::PlatformClock,
    /// Terminal size, for paging.
    pub size: (u16, u16),

    /// Apps by id.
    pub apps: BTreeMap<String, AppEntry>,
    /// The first app list has arrived.
    pub apps_loaded: bool,
    pub alerts: BTreeMap<String, Alert>,
    /// Actions not yet succeeded or failed, by id.
    pub actions: BTreeMap<String, ActionStatus>,
    /// When each action in flight was last heard of (or asked about), console time.
    pub action_heard: BTreeMap<String, DateTime<Utc>>,
    /// Actions that ended lately, newest last (at most `MAX_SETTLED`): a late status that is
    /// not final (the POST's own `accepted` arriving after the stream's `succeeded`) must not
    /// bring their progress line back.
    pub actions_settled: VecDeque<String>,

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

    pub notifications: VecDeque<Notification>,
    /// Recent platform events: what happened and who did what.
    pub timeline: Timeline,
    /// Name of the colour theme; `tui/` resolves it, `:theme` changes it.
    pub theme: String,
    /// Theme names `:theme` accepts (the built-in ones; `tui/` fills this in).
    pub themes: Vec<String>,
    /// The config file's context in use, shown in the status bar; none without one.
    pub context: Option<String>,
    /// The contexts `:ctx` offers (`tui/` fills this in from the config file).
    pub contexts: Vec<String>,
    /// Who acts, sent with every change the console asks for (`X-Opsdeck-User`); the token's
    /// name once the gateway says who it took the console for.
    pub actor: String,
    /// The role the gateway gave the console's token (from `hello`); `None` while it has not
    /// said, or when it checks no tokens (and everyone has every right).
    pub role: Option<crate::protocol::Role>,

    pub pending: BTreeMap<RequestId, Pending>,
    pub(crate) next_request: RequestId,
    pub(crate) key_seed: u64,
    pub(crate) keys_issued: u64,
}

impl Core {
    pub fn new(config: StateConfig) -> Self {
        Core {
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
            wall: config.now,
            clock: clock::PlatformClock::default(),
            size: (80, 24),
            apps: BTreeMap::new(),
            apps_loaded: false,
            alerts: BTreeMap::new(),
            actions: BTreeMap::new(),
            action_heard: BTreeMap::new(),
            actions_settled: VecDeque::new(),
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
            notifications: VecDeque::new(),
            timeline: Timeline::default(),
            theme: "dark".into(),
            themes: Vec::new(),
            context: None,
            contexts: Vec::new(),
            actor: "operator".into(),
            role: None,
            pending: BTreeMap::new(),
            next_request: 1,
            key_seed: config.key_seed,
            keys_issued: 0,
        }
    }

    /// Why actions are off, for the READ-ONLY notices: the flag, or a viewer's token.
    pub fn readonly_reason(&self) -> &'static str {
        if self.role == Some(crate::protocol::Role::Viewer) {
            "viewer token"
        } else {
            "--readonly"
        }
    }

    /// What the gateway says the console is: the token's name and role. A viewer can change
    /// nothing, so the session turns read-only: the actions leave the keymap, as with
    /// `--readonly`, and neither keys nor help nor hints offer them.
    pub fn identify(&mut self, identity: crate::protocol::Identity) {
        self.actor = identity.name;
        self.role = Some(identity.role);
        if !identity.role.allows(crate::protocol::Role::Operator) && !self.readonly {
            self.readonly = true;
            self.keymap = self.keymap.without_actions();
        }
    }

    /// Firing alerts across all apps.
    pub fn firing_total(&self) -> usize {
        self.alerts
            .values()
            .filter(|a| a.state == AlertState::Firing)
            .count()
    }

    /// Firing alerts by severity: `[P0, P1, P2, P3]`.
    pub fn firing_by_severity(&self) -> [usize; 4] {
        let mut counts = [0; 4];
        for a in self.alerts.values() {
            if a.state == AlertState::Firing {
                counts[severity_index(a.severity)] += 1;
            }
        }
        counts
    }

    /// The alert list has not arrived yet.
    pub fn alerts_loading(&self) -> bool {
        self.alerts.is_empty() && self.is_pending(&RequestKind::FetchAlerts)
    }

    /// The metrics problem to warn about, with whom it concerns: `focus`'s when that app has
    /// one, else the first app's (by id), and how many apps have one.
    pub fn metrics_problem(&self, focus: Option<&str>) -> Option<(&str, &MetricsProblem, usize)> {
        let mut with_problem = self
            .apps
            .iter()
            .filter_map(|(id, a)| a.metrics_problem.as_ref().map(|p| (id.as_str(), p)));
        let first = with_problem.next()?;
        let count = 1 + with_problem.count();
        let chosen = focus
            .and_then(|f| self.apps.get_key_value(f))
            .and_then(|(id, a)| a.metrics_problem.as_ref().map(|p| (id.as_str(), p)))
            .unwrap_or(first);
        Some((chosen.0, chosen.1, count))
    }

    /// Whether the stream is down (reconnecting or stale).
    pub fn is_down(&self) -> bool {
        matches!(
            self.connection,
            Connection::Reconnecting { .. } | Connection::Stale { .. }
        )
    }

    /// The id of the app called `name`: an id, or else a display name (exact, then
    /// case-insensitive).
    pub fn resolve_app(&self, name: &str) -> Option<String> {
        if self.apps.contains_key(name) {
            return Some(name.to_string());
        }
        let lower = name.to_lowercase();
        self.apps
            .values()
            .find(|a| a.summary.name == name)
            .or_else(|| {
                self.apps
                    .values()
                    .find(|a| a.summary.name.to_lowercase() == lower)
            })
            .map(|a| a.summary.id.clone())
    }

    /// [`Core::resolve_app`], or a notice "no app …" for the operator when there is none.
    pub(crate) fn resolve_app_or_say(&mut self, name: &str) -> Option<String> {
        let found = self.resolve_app(name);
        if found.is_none() {
            self.notify(NoticeLevel::Warn, format!("no app {name:?}"));
        }
        found
    }

    /// The runbook for `app`'s incident: that of its most urgent unresolved alert naming one
    /// (firing before acknowledged or silenced, then by severity, then the newest), else the
    /// first the app itself names (`AppSummary::runbooks`).
    pub fn runbook_for(&self, app: &str) -> Option<String> {
        self.runbook_of_alerts(app).or_else(|| {
            self.apps
                .get(app)
                .and_then(|entry| entry.summary.runbooks.first().cloned())
        })
    }

    /// The runbook of the app's most pressing alert that names one.
    fn runbook_of_alerts(&self, app: &str) -> Option<String> {
        self.alerts
            .values()
            .filter(|a| a.app == app && a.state != AlertState::Resolved && a.runbook.is_some())
            .min_by_key(|a| {
                (
                    a.state != AlertState::Firing,
                    a.severity,
                    std::cmp::Reverse(a.started_at),
                )
            })
            .and_then(|a| a.runbook.clone())
    }

    /// Recount firing alerts for one app.
    pub fn recount_firing(&mut self, app: &str) {
        let n = self
            .alerts
            .values()
            .filter(|a| a.app == app && a.state == AlertState::Firing)
            .count();
        if let Some(entry) = self.apps.get_mut(app) {
            entry.firing_alerts = u32::try_from(n).unwrap_or(u32::MAX);
        }
    }

    /// Ask for GET /v1/events.
    pub(crate) fn fetch_timeline(&mut self, effects: &mut Vec<Effect>) {
        let id = self.send(RequestKind::FetchTimeline, effects);
        self.timeline.request = Some(id);
    }

    /// The reply to GET /v1/events; an older request's reply is dropped.
    pub(crate) fn on_timeline(&mut self, request_id: RequestId, result: Result<Reply, HttpError>) {
        if self.timeline.request != Some(request_id) {
            return;
        }
        self.timeline.request = None;
        match result {
            Ok(Reply::Timeline(list)) => self.timeline.replace(list),
            Ok(_) => {}
            Err(err) => {
                self.notify(NoticeLevel::Warn, format!("loading events: {err}"));
                self.timeline.error = Some(err.to_string());
            }
        }
    }

    /// Post a notification for the operator.
    pub(crate) fn notify(&mut self, level: NoticeLevel, text: impl Into<String>) {
        if self.notifications.len() == MAX_NOTIFICATIONS {
            self.notifications.pop_front();
        }
        self.notifications.push_back(Notification {
            level,
            text: text.into(),
            at: self.now,
            posted: self.wall,
        });
    }

    /// Queue an HTTP call, remembering it so its reply can be matched. A newer read of the
    /// same resource makes older pending reads stale.
    pub(crate) fn send(&mut self, kind: RequestKind, effects: &mut Vec<Effect>) -> u64 {
        let id = self.next_request;
        self.next_request += 1;
        self.pending.retain(|_, p| !kind.supersedes(&p.kind));
        self.pending.insert(
            id,
            Pending {
                kind: kind.clone(),
                sent_at: self.wall,
            },
        );
        effects.push(Effect::Http(Request { id, kind }));
        id
    }

    /// Whether a request of this kind is already on its way.
    pub(crate) fn is_pending(&self, kind: &RequestKind) -> bool {
        self.pending.values().any(|p| &p.kind == kind)
    }

    /// A fresh idempotency key, shaped like a UUID v4, derived from the session seed.
    pub(crate) fn new_idempotency_key(&mut self) -> String {
        self.keys_issued += 1;
        let a = splitmix64(self.key_seed ^ self.keys_issued.wrapping_mul(0x9E37_79B9));
        let b = splitmix64(a);
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0x0fff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }
}

/// An alert's severity as an index into `[P0, P1, P2, P3]`.
pub fn severity_index(s: Severity) -> usize {
    match s {
        Severity::P0 => 0,
        Severity::P1 => 1,
        Severity::P2 => 2,
        Severity::P3 => 3,
    }
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
