//! Commands of the App, Releases and Events views and of the rollback dialog. `keys.rs`
//! offers each command here first; what is not handled here runs there.

use super::app_view::{self, Pane, move_release_cursor, open_releases, scroll_pane};
use super::effect::Effect;
use super::keymap::{Command, Layer};
use super::logs::{LogCommand, open_logs};
use super::metric_history::ChartWindow;
use super::navigate::{open_app, open_rollback};
use super::rollback;
use super::state::{Dialog, State, View};
use super::timeline::{self, open_events, open_events_for};

/// Rows moved by page up/down in lists whose height the core does not know exactly.
const PAGE: isize = 10;

/// The keymap layer of a view when no dialog is open and no filter is being typed.
pub fn view_layer(view: View) -> Layer {
    match view {
        View::Overview => Layer::Overview,
        View::App => Layer::App,
        View::Releases => Layer::Releases,
        View::Events => Layer::Events,
        View::Logs => Layer::Logs,
        View::Alerts => Layer::Alerts,
        View::Runbooks => Layer::Runbooks,
        View::Runbook => Layer::RunbookForm,
        View::Runs => Layer::Runs,
        View::Run => Layer::Run,
    }
}

/// Run `cmd` if it belongs to these views or the rollback dialog; false to let `keys.rs` run it.
pub(crate) fn run(
    state: &mut State,
    layer: Layer,
    cmd: Command,
    effects: &mut Vec<Effect>,
) -> bool {
    if matches!(state.dialog, Some(Dialog::Rollback(_))) && layer != Layer::Help {
        return rollback::run(state, cmd, effects);
    }
    match cmd {
        Command::OpenEvents => {
            // Bound everywhere: ignored under a dialog, a filter being typed, or help.
            if state.dialog.is_none()
                && state.prompt.is_none()
                && !state.filter_editing()
                && !state.help_open
            {
                effects.extend(open_events(state));
            }
            return true;
        }
        Command::OpenApp => {
            if let Some(app) = state.selected.clone() {
                effects.extend(open_app(state, &app));
            }
            return true;
        }
        _ => {}
    }
    match layer {
        Layer::Overview => match cmd {
            Command::OpenReleases => {
                if let Some(app) = state.selected.clone() {
                    effects.extend(open_releases(state, &app));
                }
                true
            }
            Command::OpenRollback => {
                if let Some(app) = state.selected.clone() {
                    effects.extend(open_rollback(state, &app, None));
                }
                true
            }
            _ => false,
        },
        Layer::App => run_app(state, cmd, effects),
        Layer::Releases => run_releases(state, cmd, effects),
        Layer::Events => run_events(state, cmd),
        _ => false,
    }
}

fn run_app(state: &mut State, cmd: Command, effects: &mut Vec<Effect>) -> bool {
    let app = state.app_view.app.clone();
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
        Command::OpenScale => {
            // Scale acts on the selected app: make sure that is the one on screen.
            state.selected = Some(app);
            super::keys::open_scale(state);
        }
        Command::OpenReleases => effects.extend(open_releases(state, &app)),
        Command::OpenRollback => effects.extend(open_rollback(state, &app, None)),
        Command::OpenAppEvents => effects.extend(open_events_for(state, Some(app))),
        Command::Logs(LogCommand::OpenLogs) => open_logs(state, vec![app]),
        Command::Submit => {
            if state.app_view.pane == Pane::Releases {
                let cursor = state.app_view.pane_offset[Pane::Releases.index()];
                let id = state
                    .app_view
                    .releases
                    .as_ref()
                    .and_then(|list| list.get(cursor))
                    .map(|r| r.id.clone());
                effects.extend(app_view::open_releases_at(state, &app, id.as_deref()));
            }
        }
        Command::Back => state.go_back(),
        _ => return false,
    }
    true
}

fn run_releases(state: &mut State, cmd: Command, effects: &mut Vec<Effect>) -> bool {
    let app = state.app_view.app.clone();
    match cmd {
        Command::MoveDown => move_release_cursor(state, 1),
        Command::MoveUp => move_release_cursor(state, -1),
        Command::PageDown => move_release_cursor(state, PAGE),
        Command::PageUp => move_release_cursor(state, -PAGE),
        Command::Top => move_release_cursor(state, isize::MIN / 2),
        Command::Bottom => move_release_cursor(state, isize::MAX / 2),
        Command::Submit | Command::OpenRollback => {
            let target = state.selected_release().map(|r| r.id.clone());
            if target.is_some() {
                effects.extend(open_rollback(state, &app, target));
            }
        }
        Command::OpenScale => {
            state.selected = Some(app);
            super::keys::open_scale(state);
        }
        Command::OpenAppEvents => effects.extend(open_events_for(state, Some(app))),
        Command::Back => state.go_back(),
        _ => return false,
    }
    true
}

fn run_events(state: &mut State, cmd: Command) -> bool {
    match cmd {
        Command::MoveDown => timeline::scroll(state, 1),
        Command::MoveUp => timeline::scroll(state, -1),
        Command::PageDown => timeline::scroll(state, PAGE),
        Command::PageUp => timeline::scroll(state, -PAGE),
        Command::Top => timeline::scroll(state, isize::MIN / 2),
        Command::Bottom => timeline::scroll(state, isize::MAX / 2),
        Command::ToggleEventsFilter => {
            let filter = match &state.timeline.filter_app {
                Some(_) => None,
                None if !state.app_view.app.is_empty() => Some(state.app_view.app.clone()),
                None => None,
            };
            state.timeline.filter_app = filter;
            state.timeline.offset = 0;
        }
        Command::Back => state.go_back(),
        _ => return false,
    }
    true
}
