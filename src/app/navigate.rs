//! Where the console can go: one [`Navigate`] per destination and one match that gets there.
//!
//! Commands (`:app`, `:logs`, …) and keys (Enter on an alert, `b` for its runbook) ask for a
//! destination here instead of opening views themselves, so every way into a view goes through
//! this one match. Runbooks are the one destination still waiting for their view.

use super::alerts::{AlertNote, open_alerts};
use super::app_view::open_app;
use super::effect::Effect;
use super::logs::open_logs;
use super::rollback::open_rollback;
use super::state::{NoticeLevel, State, View};
use super::timeline::open_events;

/// A place in the console.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Navigate {
    Overview,
    Alerts,
    /// One app: the App view.
    App(String),
    /// Logs of these apps; empty means all.
    Logs(Vec<String>),
    /// The platform's event timeline.
    Events,
    /// The rollback dialog for an app, optionally to one release.
    Rollback {
        app: String,
        release: Option<String>,
    },
    /// A runbook, opened for an alert on `app`.
    Runbook {
        id: String,
        app: String,
    },
}

pub fn navigate(state: &mut State, to: Navigate, effects: &mut Vec<Effect>) {
    match to {
        Navigate::Overview => {
            state.view = View::Overview;
            state.view_stack.clear();
        }
        Navigate::Alerts => open_alerts(state, effects),
        Navigate::App(app) => effects.extend(open_app(state, &app)),
        Navigate::Logs(apps) => open_logs(state, apps),
        Navigate::Events => effects.extend(open_events(state)),
        Navigate::Rollback { app, release } => {
            effects.extend(open_rollback(state, &app, release));
        }
        Navigate::Runbook { id, app } => open_runbook(state, &id, &app),
    }
}

/// Show the overview with `app` selected, clearing a filter that would hide it.
pub fn select_in_overview(state: &mut State, app: &str) {
    if !state.apps.contains_key(app) {
        state.notify(
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

/// Open the runbook `id` for an alert on `app`. Runbooks arrive with their own issue; until
/// then the Alerts view's detail pane names the runbook.
pub fn open_runbook(state: &mut State, id: &str, app: &str) {
    state.alerts_view.note = Some(AlertNote {
        runbook: id.to_string(),
        app: app.to_string(),
    });
    state.notify(
        NoticeLevel::Info,
        format!("runbook {id}: the runbook view arrives with the runbooks issue"),
    );
}
