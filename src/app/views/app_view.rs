//! The App and Releases views' core: which app they show, its pods and releases as the
//! gateway last reported them, the chart window, the focused pane, and the way back (Esc).
//!
//! Pods come from GET /v1/apps/{app}, refreshed when the view opens, every
//! [`DETAIL_REFRESH_SECS`] while it shows, and on pod, scale, deploy and rollback events of the
//! app. Releases come from GET /v1/apps/{app}/releases, refreshed on open and on deploy and
//! rollback events. Each reply is matched to the newest request id; older replies are dropped.

use chrono::{DateTime, Duration, Utc};

use crate::app::core::action::{HttpError, Reply};
use crate::app::core::effect::{Effect, RequestId, RequestKind};
use crate::app::core::keymap::{Command, LogCommand};
use crate::app::core::list::{self, PAGE};
use crate::app::core::metric_history::ChartWindow;
use crate::app::core::{Handled, Navigate, NoticeLevel};
use crate::app::list_filter;
use crate::app::state::{State, View};
use crate::protocol::{AlertState, AppDetail, EventKind, Pod, Release};

/// Pods are refreshed this often while the App view shows, seconds.
pub const DETAIL_REFRESH_SECS: i64 = 10;

/// A rollback asked for before the app's releases were loaded: the target release id, or
/// `None` for the previous good release.
#[derive(Clone, Debug, PartialEq)]
pub struct RollbackIntent {
    pub app: String,
    pub release: Option<String>,
}

/// A list in the App view; Tab moves between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Pane {
    #[default]
    Pods,
    Events,
    Alerts,
    Releases,
}

impl Pane {
    pub const ALL: [Pane; 4] = [Pane::Pods, Pane::Events, Pane::Alerts, Pane::Releases];

    pub fn next(self) -> Pane {
        match self {
            Pane::Pods => Pane::Events,
            Pane::Events => Pane::Alerts,
            Pane::Alerts => Pane::Releases,
            Pane::Releases => Pane::Pods,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Pane::Pods => "Pods",
            Pane::Events => "Events",
            Pane::Alerts => "Alerts",
            Pane::Releases => "Releases",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }
}

/// One app under examination.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AppView {
    /// App id; empty before any app was opened.
    pub app: String,
    /// `None` until GET /v1/apps/{app} answers.
    pub pods: Option<Vec<Pod>>,
    pub detail_error: Option<String>,
    /// Newest first; `None` until GET /v1/apps/{app}/releases answers.
    pub releases: Option<Vec<Release>>,
    pub releases_error: Option<String>,
    pub window: ChartWindow,
    pub pane: Pane,
    /// First row shown in each pane, by [`Pane::index`].
    pub pane_offset: [usize; 4],
    /// The selected row of the Releases view: an index into the rows its `/` filter shows
    /// ([`State::shown_releases`]).
    pub release_cursor: usize,
    /// The id of the release under the cursor, so the cursor stays on it when the list changes.
    pub(crate) release_id: Option<String>,
    pub(crate) detail_request: Option<RequestId>,
    pub(crate) releases_request: Option<RequestId>,
    pub(crate) detail_at: Option<DateTime<Utc>>,
    /// A rollback asked for before the releases were known; opened when they arrive.
    pub(crate) rollback_intent: Option<RollbackIntent>,
}

impl AppView {
    fn new(app: String, window: ChartWindow) -> Self {
        AppView {
            app,
            window,
            ..AppView::default()
        }
    }
}

/// Point the App/Releases views at `app`, forgetting another app's pods and releases.
pub(crate) fn focus(state: &mut State, app: &str) {
    if state.app_view.app != app {
        state.app_view = AppView::new(app.to_string(), state.app_view.window);
    }
}

pub(crate) fn refresh_detail(state: &mut State, effects: &mut Vec<Effect>) {
    let app = state.app_view.app.clone();
    let id = state.core.send(RequestKind::FetchApp { app }, effects);
    state.app_view.detail_request = Some(id);
    state.app_view.detail_at = Some(state.core.wall);
}

pub(crate) fn refresh_releases(state: &mut State, effects: &mut Vec<Effect>) {
    let app = state.app_view.app.clone();
    let id = state.core.send(RequestKind::FetchReleases { app }, effects);
    state.app_view.releases_request = Some(id);
}

/// GET /v1/apps/{app} answered. The summary always updates the app; the pods only when this is
/// the newest request of the app the view shows.
pub(crate) fn on_detail(
    state: &mut State,
    request_id: RequestId,
    result: Result<Reply, HttpError>,
) {
    let current = state.app_view.detail_request == Some(request_id);
    if current {
        state.app_view.detail_request = None;
    }
    match result {
        Ok(Reply::App(detail)) => {
            let AppDetail { summary, pods } = *detail;
            let is_shown = current && summary.id == state.app_view.app;
            if let Some(entry) = state.core.apps.get_mut(&summary.id) {
                entry.summary = summary;
            }
            if is_shown {
                state.app_view.pods = Some(pods);
                state.app_view.detail_error = None;
            }
        }
        Ok(_) => {}
        Err(err) if current => {
            state.core.notify(
                NoticeLevel::Warn,
                format!("loading {}: {err}", state.app_view.app),
            );
            state.app_view.detail_error = Some(err.to_string());
        }
        Err(err) => tracing::debug!(error = %err, "stale app detail failure dropped"),
    }
}

/// GET /v1/apps/{app}/releases answered. A rollback asked for while they loaded comes back,
/// for the caller to open now that the releases are known.
pub(crate) fn on_releases(
    state: &mut State,
    request_id: RequestId,
    app: &str,
    result: Result<Reply, HttpError>,
) -> Option<RollbackIntent> {
    if state.app_view.releases_request != Some(request_id) || state.app_view.app != app {
        tracing::debug!(request_id, "stale releases reply dropped");
        return None;
    }
    state.app_view.releases_request = None;
    match result {
        Ok(Reply::Releases(list)) => {
            state.app_view.releases = Some(list);
            state.app_view.releases_error = None;
            move_release_cursor(state, 0);
            return state.app_view.rollback_intent.take();
        }
        Ok(_) => {}
        Err(err) => {
            state.core.notify(
                NoticeLevel::Warn,
                format!("loading releases of {app}: {err}"),
            );
            state.app_view.releases_error = Some(err.to_string());
            if state.app_view.rollback_intent.take().is_some() {
                state.core.notify(
                    NoticeLevel::Error,
                    format!("cannot roll back {app}: its releases did not load"),
                );
            }
        }
    }
    None
}

/// The clock: refresh pods now and then while the App view shows.
pub(crate) fn on_tick(state: &mut State, effects: &mut Vec<Effect>) {
    if state.view != View::App || state.app_view.app.is_empty() {
        return;
    }
    let due = state
        .app_view
        .detail_at
        .is_none_or(|at| state.core.wall - at >= Duration::seconds(DETAIL_REFRESH_SECS));
    if due && state.app_view.detail_request.is_none() {
        refresh_detail(state, effects);
    }
}

/// A live platform event: refresh what it changed, if the view shows that app.
pub(crate) fn on_platform_event(
    state: &mut State,
    app: &str,
    kind: EventKind,
    effects: &mut Vec<Effect>,
) {
    if !matches!(state.view, View::App | View::Releases) || state.app_view.app != app {
        return;
    }
    let (pods, releases) = match kind {
        EventKind::PodRestart | EventKind::PodReady | EventKind::Scale => (true, false),
        EventKind::Deploy | EventKind::Rollback => (true, true),
        EventKind::Alert
        | EventKind::Scenario
        | EventKind::Run
        | EventKind::RunStep
        | EventKind::Source
        | EventKind::Other => (false, false),
    };
    if pods && state.view == View::App && state.app_view.detail_request.is_none() {
        refresh_detail(state, effects);
    }
    if releases && state.app_view.releases_request.is_none() {
        refresh_releases(state, effects);
    }
}

/// Rows in a pane of the App view.
pub fn pane_len(state: &State, pane: Pane) -> usize {
    let v = &state.app_view;
    match pane {
        Pane::Pods => v.pods.as_ref().map_or(0, Vec::len),
        Pane::Events => state.core.timeline.for_app(Some(&v.app)).count(),
        Pane::Alerts => state
            .core
            .alerts
            .values()
            .filter(|a| a.app == v.app && a.state == AlertState::Firing)
            .count(),
        Pane::Releases => v.releases.as_ref().map_or(0, Vec::len),
    }
}

/// Scroll the focused pane of the App view by `delta` rows.
pub(crate) fn scroll_pane(state: &mut State, delta: isize) {
    let pane = state.app_view.pane;
    let len = pane_len(state, pane);
    let offset = &mut state.app_view.pane_offset[pane.index()];
    *offset = list::moved(*offset, delta, len);
}

impl State {
    /// The releases the Releases view shows, newest first, narrowed by its `/` filter (version,
    /// id, status, change cause or artifact).
    pub fn shown_releases(&self) -> Vec<&Release> {
        let needle = self.filter_needle(View::Releases);
        self.app_view
            .releases
            .iter()
            .flatten()
            .filter(|r| {
                list_filter::matches(
                    &needle,
                    [
                        r.version.as_str(),
                        &r.id,
                        r.status.as_str(),
                        &r.change_cause,
                        &r.artifact,
                    ],
                )
            })
            .collect()
    }

    /// The release under the Releases view's cursor.
    pub fn selected_release(&self) -> Option<&Release> {
        self.shown_releases()
            .get(self.app_view.release_cursor)
            .copied()
    }
}

/// Move the Releases view's cursor by `delta` shown rows.
pub(crate) fn move_release_cursor(state: &mut State, delta: isize) {
    let (cursor, id) = {
        let shown: Vec<&str> = state
            .shown_releases()
            .iter()
            .map(|r| r.id.as_str())
            .collect();
        let view = &state.app_view;
        list::follow(
            view.release_cursor,
            view.release_id.as_deref(),
            &shown,
            delta,
        )
    };
    state.app_view.release_cursor = cursor;
    if id.is_some() {
        state.app_view.release_id = id;
    }
}

/// The App view's own commands; where it sends the operator (scale, releases, rollback, this
/// app's events or logs) comes back as a [`Navigate`].
pub(crate) fn run_app(state: &mut State, cmd: Command) -> Handled {
    let app = state.app_view.app.clone();
    let go = |to| Handled::Go(to);
    match cmd {
        Command::MoveDown => scroll_pane(state, 1),
        Command::MoveUp => scroll_pane(state, -1),
        Command::PageDown => scroll_pane(state, PAGE),
        Command::PageUp => scroll_pane(state, -PAGE),
        Command::Top => scroll_pane(state, isize::MIN / 2),
        Command::Bottom => scroll_pane(state, isize::MAX / 2),
        Command::NextPane => state.app_view.pane = state.app_view.pane.next(),
        Command::CycleWindow => state.app_view.window = state.app_view.window.next(),
        Command::Window1m => state.app_view.window = ChartWindow::M1,
        Command::Window5m => state.app_view.window = ChartWindow::M5,
        Command::Window15m => state.app_view.window = ChartWindow::M15,
        Command::Window1h => state.app_view.window = ChartWindow::H1,
        Command::OpenScale => return go(Navigate::Scale(app)),
        Command::OpenReleases => return go(Navigate::Releases(app)),
        Command::OpenRollback => return go(Navigate::Rollback { app, release: None }),
        Command::OpenAppEvents => return go(Navigate::AppEvents(Some(app))),
        Command::Logs(LogCommand::OpenLogs) => return go(Navigate::Logs(vec![app])),
        Command::Submit => {
            if state.app_view.pane == Pane::Releases {
                let cursor = state.app_view.pane_offset[Pane::Releases.index()];
                let release = state
                    .app_view
                    .releases
                    .as_ref()
                    .and_then(|list| list.get(cursor))
                    .map(|r| r.id.clone());
                return go(Navigate::ReleasesAt { app, release });
            }
        }
        Command::Back => state.go_back(),
        _ => return Handled::No,
    }
    Handled::Yes
}

/// The Releases view's own commands.
pub(crate) fn run_releases(state: &mut State, cmd: Command) -> Handled {
    let app = state.app_view.app.clone();
    match cmd {
        Command::MoveDown => move_release_cursor(state, 1),
        Command::MoveUp => move_release_cursor(state, -1),
        Command::PageDown => move_release_cursor(state, PAGE),
        Command::PageUp => move_release_cursor(state, -PAGE),
        Command::Top => move_release_cursor(state, isize::MIN / 2),
        Command::Bottom => move_release_cursor(state, isize::MAX / 2),
        Command::Submit | Command::OpenRollback => {
            let release = state.selected_release().map(|r| r.id.clone());
            if release.is_some() {
                return Handled::Go(Navigate::Rollback { app, release });
            }
        }
        Command::OpenScale => return Handled::Go(Navigate::Scale(app)),
        Command::OpenAppEvents => return Handled::Go(Navigate::AppEvents(Some(app))),
        Command::Back => state.go_back(),
        _ => return Handled::No,
    }
    Handled::Yes
}
