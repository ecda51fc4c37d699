//! Where the console can go: one [`Navigate`] per destination and one match that gets there.
//!
//! Commands (`:app`, `:logs`, …) and keys (Enter on an alert, `b` for its runbook) ask for a
//! destination here instead of opening views themselves, so views that arrive later are wired
//! in this one match. Until then a destination says plainly that it is not available yet.

use super::alerts::{AlertNote, open_alerts};
use super::effect::Effect;
use super::state::{NoticeLevel, State, View};

/// A place in the console.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Navigate {
    Overview,
    Alerts,
    /// One app (the App view; for now: that app selected in the overview).
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
        Navigate::Overview => state.view = View::Overview,
        Navigate::Alerts => open_alerts(state, effects),
        Navigate::App(app) => {
            select_in_overview(state, &app);
            not_yet(
                state,
                &format!("the App view is not available yet; {app} is selected in the overview"),
            );
        }
        Navigate::Logs(_) => not_yet(state, "the Logs view is not available yet"),
        Navigate::Events => not_yet(state, "the Events view is not available yet"),
        Navigate::Rollback { app, .. } => not_yet(
            state,
            &format!("rollback of {app}: the rollback dialog is not available yet"),
        ),
        Navigate::Runbook { id, app } => open_runbook(state, &id, &app),
    }
}

fn not_yet(state: &mut State, what: &str) {
    state.notify(NoticeLevel::Warn, what.to_string());
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
