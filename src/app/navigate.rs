//! Where the console can go: one [`Navigate`] per destination and one match that gets there.
//!
//! Commands (`:app`, `:logs`, …) and keys (Enter on an alert, `b` for its runbook) ask for a
//! destination here instead of opening views themselves, so every way into a view goes through
//! this one match.

use crate::app::core::effect::{Effect, RequestKind};
use crate::app::core::{Navigate, NoticeLevel};
use crate::app::dialogs::rollback::open;
use crate::app::dialogs::scale::ScaleDialog;
use crate::app::state::{Dialog, State, View};
use crate::app::views::alerts::{AlertNote, open_alerts};
use crate::app::views::app_view::RollbackIntent;
use crate::app::views::app_view::{focus, refresh_detail, refresh_releases};
use crate::app::views::logs::open_logs;
use crate::app::views::runbooks::open_runbooks;
use crate::app::views::runs::open_runs;

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
        Navigate::Scale(app) => {
            // Scale acts on the app asked for; the overview follows it, as after `:app`.
            state.overview.choose(app.clone());
            open_scale(state, &app);
        }
        Navigate::AppEvents(app) => effects.extend(open_events_for(state, app)),
        Navigate::ReleasesAt { app, release } => {
            effects.extend(open_releases_at(state, &app, release.as_deref()));
        }
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
    if !state.overview.order.iter().any(|id| id == app) {
        state.overview.filter.text.clear();
        state.overview.filter.editing = false;
    }
    state.overview.choose(app.to_string());
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
    crate::app::views::runbooks::open_runbook(state, id, app)
}

/// Open the App view on `app_id` (an id or display name) and fetch its pods, releases and
/// events. An unknown app gets a notification and nothing else.
pub fn open_app(state: &mut State, app_id: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    let Some(app) = state.core.resolve_app_or_say(app_id) else {
        return effects;
    };
    focus(state, &app);
    // Keep the overview's selection on this app (Enter on an alert, `:app`): a filter that
    // hides it is cleared, as the overview would otherwise move the selection away.
    if !state.overview.order.contains(&app) {
        state.overview.filter.text.clear();
        state.overview.filter.editing = false;
    }
    state.overview.choose(app);
    state.push_view(View::App);
    refresh_detail(state, &mut effects);
    refresh_releases(state, &mut effects);
    state.core.fetch_timeline(&mut effects);
    // The charts' last hour, which a console that just started has not seen.
    let app = state.app_view.app.clone();
    state
        .core
        .send(RequestKind::FetchMetrics { app }, &mut effects);
    effects
}

/// Open the rollback dialog for `app_id` (an id or display name), to `release` (an id or
/// version) or, for `None`, to the previous good release. Fetches the releases first unless
/// the App or Releases view shows them, kept current. Read-only sessions get a notification and no dialog.
pub fn open_rollback(state: &mut State, app_id: &str, release: Option<String>) -> Vec<Effect> {
    let mut effects = Vec::new();
    if state.core.readonly {
        state.core.notify(
            NoticeLevel::Warn,
            format!(
                "READ-ONLY: rollback is disabled in this session ({})",
                state.core.readonly_reason()
            ),
        );
        return effects;
    }
    if state.dialog.is_some() {
        return effects;
    }
    let Some(app) = state.core.resolve_app_or_say(app_id) else {
        return effects;
    };
    focus(state, &app);
    let intent = RollbackIntent { app, release };
    // The App and Releases views keep the releases current (a deploy or rollback event fetches
    // them again); from anywhere else they may predate the last rollback, and the dialog would
    // offer one already done. Then they are fetched first.
    let current = matches!(state.view, View::App | View::Releases);
    if current && state.app_view.releases.is_some() {
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

/// Open the Releases view on `app_id` and fetch its releases.
pub fn open_releases(state: &mut State, app_id: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    let Some(app) = state.core.resolve_app_or_say(app_id) else {
        return effects;
    };
    focus(state, &app);
    state.overview.choose(app);
    state.app_view.release_cursor = 0;
    state.app_view.release_id = None;
    state.push_view(View::Releases);
    refresh_releases(state, &mut effects);
    effects
}

/// Open the Releases view of `app` with the cursor on release `id`, clearing a Releases filter
/// that hides it (Enter on the App view's Releases pane).
pub(crate) fn open_releases_at(state: &mut State, app: &str, id: Option<&str>) -> Vec<Effect> {
    let effects = open_releases(state, app);
    let Some(id) = id else {
        return effects;
    };
    let position = |state: &State| state.shown_releases().iter().position(|r| r.id == id);
    let at = match position(state) {
        Some(i) => Some(i),
        None => {
            state.clear_filter(View::Releases);
            position(state)
        }
    };
    state.app_view.release_cursor = at.unwrap_or(0);
    state.app_view.release_id = Some(id.to_string());
    effects
}

/// The scale dialog for `app` (an id or display name), from its replica counts now.
pub(crate) fn open_scale(state: &mut State, app: &str) {
    if state.core.readonly {
        state.core.notify(
            NoticeLevel::Warn,
            format!(
                "READ-ONLY: scaling is disabled in this session ({})",
                state.core.readonly_reason()
            ),
        );
        return;
    }
    let Some(id) = state.core.resolve_app_or_say(app) else {
        return;
    };
    let Some(entry) = state.core.apps.get(&id) else {
        return;
    };
    let s = &entry.summary;
    let (name, r) = (s.name.clone(), s.replicas);
    let key = state.core.new_idempotency_key();
    let dialog = ScaleDialog::new(id, name, r.desired, r.min, r.max, key);
    state.dialog = Some(Dialog::Scale(dialog.on_production(state.core.production)));
}

/// Open the Events view on every app's events, and fetch the recent ones.
pub fn open_events(state: &mut State) -> Vec<Effect> {
    open_events_for(state, None)
}

/// Open the Events view filtered to one app (`None`: every app).
pub fn open_events_for(state: &mut State, app: Option<String>) -> Vec<Effect> {
    let mut effects = Vec::new();
    if state.events.filter_app != app {
        state.events.offset = 0;
    }
    state.events.filter_app = app;
    state.push_view(View::Events);
    state.core.fetch_timeline(&mut effects);
    effects
}
