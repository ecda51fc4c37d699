//! Where the console can go: one [`Navigate`] per destination and one match that gets there.
//!
//! Commands (`:app`, `:logs`, …) and keys (Enter on an alert, `b` for its runbook) ask for a
//! destination here instead of opening views themselves, so every way into a view goes through
//! this one match.

use super::alerts::{AlertNote, open_alerts};
use super::app_view::{open_app, open_releases};
use super::core::NoticeLevel;
use super::effect::Effect;
use super::logs::open_logs;
use super::rollback::open_rollback;
use super::runbooks::open_runbooks;
use super::runs::open_runs;
use super::state::{State, View};
use super::timeline::open_events;

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
}

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
