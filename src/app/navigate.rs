//! Where the console can go: one [`Navigate`] per destination and one match that gets there.
//!
//! Commands (`:app`, `:logs`, …) and keys (Enter on an alert, `b` for its runbook) ask for a
//! destination here instead of opening views themselves, so every way into a view goes through
//! this one match.

use super::alerts::{AlertNote, open_alerts};
use super::app_view::RollbackIntent;
use super::app_view::{focus, open_releases, refresh_detail, refresh_releases};
use super::core::{Navigate, NoticeLevel};
use super::effect::Effect;
use super::logs::open_logs;
use super::rollback::open;
use super::runbooks::open_runbooks;
use super::runs::open_runs;
use super::state::{Dialog, State, View};
use super::timeline::{self, open_events};

pub fn navigate(state: &mut State, to: Navigate, effects: &mut Vec<Effect>) {
    match to {
        Navigate::Overview => {
            state.view = View::Overview;
            state.view_stack.clear();
        }
        Navigate::Alerts => open_alerts(state, effects),
        Navigate::App(app) => effects.extend(open_app(state, &app)),
        Navigate::Releases(app) => effects.extend(open_releases(state, &app)),
        Navigate::Logs(apps) => open_logs(state, apps),
        Navigate::Events => effects.extend(open_events(state)),
        Navigate::Rollback { app, release } => {
            effects.extend(open_rollback(state, &app, release));
        }
        Navigate::Runbook { id, app } => effects.extend(open_runbook(state, &id, app.as_deref())),
        Navigate::Runbooks => effects.extend(open_runbooks(state)),
        Navigate::Runs => effects.extend(open_runs(state)),
    }
}

/// Show the overview with `app` selected, clearing a filter that would hide it.
pub fn select_in_overview(state: &mut State, app: &str) {
    if !state.core.apps.contains_key(app) {
        state.core.notify(
            NoticeLevel::Warn,
            format!("app {app} is not in the app list"),
        );
        return;
    }
    state.view = View::Overview;
    state.view_stack.clear();
    if !state.order.iter().any(|id| id == app) {
        state.filter.text.clear();
        state.filter.editing = false;
    }
    state.selected = Some(app.to_string());
}

/// Open the parameter form of runbook `id`, with `app` (an alert's) pre-filled into its `app`
/// parameter; the detail pane of the Alerts view remembers which runbook was opened.
pub fn open_runbook(state: &mut State, id: &str, app: Option<&str>) -> Vec<Effect> {
    if let Some(app) = app {
        state.alerts_view.note = Some(AlertNote {
            runbook: id.to_string(),
            app: app.to_string(),
        });
    }
    super::runbooks::open_runbook(state, id, app)
}

/// Open the App view on `app_id` (an id or display name) and fetch its pods, releases and
/// events. An unknown app gets a notification and nothing else.
pub fn open_app(state: &mut State, app_id: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    let Some(app) = state.core.resolve_app(app_id) else {
        state
            .core
            .notify(NoticeLevel::Warn, format!("no app {app_id:?}"));
        return effects;
    };
    focus(state, &app);
    // Keep the overview's selection on this app (Enter on an alert, `:app`): a filter that
    // hides it is cleared, as the overview would otherwise move the selection away.
    if !state.order.contains(&app) {
        state.filter.text.clear();
        state.filter.editing = false;
    }
    state.selected = Some(app);
    state.push_view(View::App);
    refresh_detail(state, &mut effects);
    refresh_releases(state, &mut effects);
    timeline::refresh(state, &mut effects);
    effects
}

/// Open the rollback dialog for `app_id` (an id or display name), to `release` (an id or
/// version) or, for `None`, to the previous good release. Fetches the releases first when
/// they are not loaded. Read-only sessions get a notification and no dialog.
pub fn open_rollback(state: &mut State, app_id: &str, release: Option<String>) -> Vec<Effect> {
    let mut effects = Vec::new();
    if state.core.readonly {
        state.core.notify(
            NoticeLevel::Warn,
            "READ-ONLY: rollback is disabled in this session (--readonly)",
        );
        return effects;
    }
    if state.dialog.is_some() {
        return effects;
    }
    let Some(app) = state.core.resolve_app(app_id) else {
        state
            .core
            .notify(NoticeLevel::Warn, format!("no app {app_id:?}"));
        return effects;
    };
    focus(state, &app);
    let intent = RollbackIntent { app, release };
    if state.app_view.releases.is_some() {
        open_rollback_dialog(state, intent);
    } else {
        state.app_view.rollback_intent = Some(intent);
        if state.app_view.releases_request.is_none() {
            refresh_releases(state, &mut effects);
        }
    }
    effects
}

/// Open the rollback dialog for `intent` now that the App view holds the app's releases.
pub(crate) fn open_rollback_dialog(state: &mut State, intent: RollbackIntent) {
    if state.dialog.is_some() || state.app_view.app != intent.app {
        return;
    }
    let releases = state.app_view.releases.as_deref().unwrap_or(&[]);
    if let Some(dialog) = open(
        &mut state.core,
        &intent.app,
        intent.release.as_deref(),
        releases,
    ) {
        state.dialog = Some(Dialog::Rollback(Box::new(dialog)));
    }
}
