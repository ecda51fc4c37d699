//! Key presses: find the active layer, look the key up in the keymap, run the command.

use super::prompt;
use super::views::{alerts, app_view, timeline};
use crate::app::core::action::ClickTarget;
use crate::app::core::effect::Effect;
use crate::app::core::key::{KeyCode, KeyInput};
use crate::app::core::keymap::{Command, Layer, LogCommand};
use crate::app::core::{Handled, Navigate, NoticeLevel};
use crate::app::dialogs::alert_dialog::AlertStep;
use crate::app::dialogs::quit::{QuitDialog, WaitingRun};
use crate::app::dialogs::scale::ScaleStep;
use crate::app::dialogs::{rollback, scale};
use crate::app::navigate::navigate;
use crate::app::state::{Dialog, State, View};
use crate::app::views::logs;
use crate::protocol::RunState;

/// The layer whose bindings apply now.
pub fn active_layer(state: &State) -> Layer {
    if state.help_open {
        Layer::Help
    } else {
        context_layer(state)
    }
}

/// The layer under the help overlay: what the operator is doing.
pub fn context_layer(state: &State) -> Layer {
    if state.prompt.is_some() {
        return Layer::Command;
    }
    match &state.dialog {
        Some(Dialog::Scale(d)) => match d.step {
            ScaleStep::Edit => Layer::Scale,
            ScaleStep::TypeName => Layer::ScaleName,
            ScaleStep::Confirm | ScaleStep::Sending { .. } => Layer::Confirm,
        },
        Some(Dialog::Rollback(d)) => crate::app::dialogs::rollback::layer(d),
        Some(Dialog::Silence(d)) if d.step == AlertStep::Edit => Layer::Silence,
        Some(Dialog::Ack(_) | Dialog::Silence(_) | Dialog::Run(_) | Dialog::Quit(_)) => {
            Layer::Confirm
        }
        None if state.view == View::Runbook => crate::app::views::runbooks::form_layer(state),
        None if state.view == View::Logs => logs::layer(state),
        None if state.filter_editing() => Layer::Filter,
        None => view_layer(state.view),
    }
}

pub fn handle_key(state: &mut State, key: KeyInput, effects: &mut Vec<Effect>) {
    let layer = active_layer(state);
    if let Some(cmd) = state.core.keymap.lookup(layer, &key) {
        run(state, layer, cmd, effects);
        return;
    }
    if layer.takes_text()
        && let Some(c) = key.typed_char()
        && type_char(state, layer, c)
    {
        return;
    }
    if let Some(cmd) = state.core.keymap.lookup(Layer::Global, &key) {
        run(state, layer, cmd, effects);
        return;
    }
    // A key whose action `--readonly` or a viewer token removed does nothing, but says why.
    if let Some(b) = state.core.keymap.withheld(layer, &key) {
        // Short enough for 80 columns: why first, then the key and what it would have done.
        let text = format!(
            "READ-ONLY ({}): {key} ({})",
            state.core.readonly_reason(),
            b.desc
        );
        state.core.notify(NoticeLevel::Warn, text);
    }
}

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

/// Rows one turn of the mouse wheel moves.
const WHEEL_ROWS: usize = 3;

/// The mouse wheel: what Down (or Up) means in the view, three times. Nothing while a dialog
/// or the command line is open, so the wheel never edits a replica count or a choice.
pub(crate) fn wheel(state: &mut State, down: bool, effects: &mut Vec<Effect>) {
    if state.dialog.is_some() || state.prompt.is_some() {
        return;
    }
    let key = KeyInput::plain(if down { KeyCode::Down } else { KeyCode::Up });
    for _ in 0..WHEEL_ROWS {
        handle_key(state, key, effects);
    }
}

/// A click on an overview row selects that app; a click on the selected app opens it, as
/// Enter does. Nothing while a dialog, the command line or help is open.
pub(crate) fn click(state: &mut State, target: ClickTarget, effects: &mut Vec<Effect>) {
    if state.dialog.is_some() || state.prompt.is_some() || state.help_open {
        return;
    }
    match target {
        ClickTarget::OverviewRow { app, top } => {
            if state.view == View::Overview && state.overview.click(app, top) {
                run(state, Layer::Overview, Command::OpenApp, effects);
            }
        }
    }
}

/// Type `c` into the layer's text field; false when the field does not take it (a letter in
/// the replica count), so that global keys such as `?` still work there.
fn type_char(state: &mut State, layer: Layer, c: char) -> bool {
    match (layer, &mut state.dialog) {
        (Layer::Filter, _) => match state.current_filter_mut() {
            Some(filter) => {
                filter.text.push(c);
                true
            }
            None => false,
        },
        (Layer::Scale, Some(Dialog::Scale(d))) if c.is_ascii_digit() => {
            d.push_digit(c);
            true
        }
        (Layer::LogSearch | Layer::LogFilter, _) => logs::type_char(state, layer, c),
        (Layer::ScaleName, Some(Dialog::Scale(d))) => {
            d.push_name_char(c);
            true
        }
        (Layer::RollbackName, _) => crate::app::dialogs::rollback::type_char(state, c),
        (Layer::Silence, _) => alerts::type_char(state, c),
        (Layer::Command, _) => prompt::type_char(state, c),
        (Layer::RunbookForm, _) => crate::app::views::runbooks::type_char(state, c),
        _ => false,
    }
}

fn run(state: &mut State, layer: Layer, cmd: Command, effects: &mut Vec<Effect>) {
    if layer == Layer::Help && crate::app::help::scroll(state, cmd) {
        return;
    }
    // Esc in a list that keeps a `/` filter clears the filter first; the next Esc goes back.
    if cmd == Command::Back
        && layer == view_layer(state.view)
        && state
            .filter_of(state.view)
            .is_some_and(|f| !f.text.is_empty())
    {
        state.clear_filter(state.view);
        return;
    }
    if matches!(state.dialog, Some(Dialog::Quit(_))) && layer == Layer::Confirm {
        match cmd {
            Command::Confirm | Command::Quit => quit_now(state, effects),
            Command::Cancel | Command::Back => state.dialog = None,
            _ => {}
        }
        return;
    }
    if layer == Layer::Overview && state.overview.run(&state.core, cmd) {
        return;
    }
    // The alerts, command-line and App/Releases/Events layers have their own modules.
    if crate::app::views::runbooks::run(state, layer, cmd, effects)
        || alerts::run(state, layer, cmd, effects)
        || prompt::run(state, layer, cmd, effects)
        || run_going(state, layer, cmd, effects)
    {
        return;
    }
    match cmd {
        Command::Quit => quit(state, effects),
        Command::ToggleHelp => {
            state.help_open = !state.help_open;
            state.help_scroll = 0;
        }
        Command::StartFilter => {
            if let Some(filter) = state.current_filter_mut() {
                filter.editing = true;
            }
        }
        Command::Back => back(state, layer),
        Command::Submit => submit(state, layer),
        Command::DeleteChar if layer == Layer::Filter => {
            if let Some(filter) = state.current_filter_mut() {
                filter.text.pop();
            }
        }
        Command::Logs(cmd) => logs::run(state, cmd, effects),
        Command::OpenAlerts => alerts::open_alerts(state, effects),
        Command::OpenCommand => prompt::open(state),
        _ => {}
    }
}

/// Quit, unless a run the operator started waits for an approval: then ask first.
fn quit(state: &mut State, effects: &mut Vec<Effect>) {
    let actor = state.core.actor.as_str();
    let waiting: Vec<WaitingRun> = state
        .runs
        .runs
        .values()
        .filter(|r| r.state == RunState::WaitingApproval && r.started_by == actor)
        .map(|r| WaitingRun {
            id: r.id.clone(),
            runbook: r.runbook.clone(),
            app: r
                .params
                .get("app")
                .and_then(|v| v.as_str())
                .map(str::to_string),
            step: r.current_step.clone(),
        })
        .collect();
    if waiting.is_empty() {
        quit_now(state, effects);
    } else {
        state.help_open = false;
        state.prompt = None;
        state.dialog = Some(Dialog::Quit(QuitDialog { waiting }));
    }
}

fn quit_now(state: &mut State, effects: &mut Vec<Effect>) {
    state.quitting = true;
    effects.push(Effect::Quit);
}

fn back(state: &mut State, layer: Layer) {
    match layer {
        Layer::Help => {
            state.help_open = false;
            state.help_scroll = 0;
        }
        Layer::Confirm => state.dialog = None,
        // Typing a filter: Esc drops it. (A kept filter is cleared in `run`, for every list.)
        Layer::Filter => {
            if let Some(filter) = state.current_filter_mut() {
                filter.text.clear();
                filter.editing = false;
            }
        }
        _ => {}
    }
}

fn submit(state: &mut State, layer: Layer) {
    if layer == Layer::Filter
        && let Some(filter) = state.current_filter_mut()
    {
        filter.editing = false;
    }
}

/// The app the keys that act on "this app" (`S`, `R`, `l`, `b`, `r`) mean in the current view:
/// the overview's selected app, the App or Releases view's app, the selected alert's app.
fn acting_app(state: &State) -> Option<String> {
    match state.view {
        View::Overview => state.overview.selected.clone(),
        View::App | View::Releases => {
            Some(state.app_view.app.clone()).filter(|app| !app.is_empty())
        }
        View::Alerts => state.selected_alert().map(|a| a.app.clone()),
        _ => None,
    }
}

/// What acts on the view's app ([`acting_app`]), wherever a layer binds it.
fn on_acting_app(state: &mut State, cmd: Command) -> Handled {
    let go: fn(String) -> Navigate = match cmd {
        Command::Logs(LogCommand::OpenAllLogs) => return Handled::Go(Navigate::Logs(Vec::new())),
        Command::OpenRunbook => return open_runbook_for(state),
        Command::OpenApp => Navigate::App,
        Command::OpenReleases => Navigate::Releases,
        Command::OpenScale => Navigate::Scale,
        Command::OpenRollback => |app| Navigate::Rollback { app, release: None },
        Command::Logs(LogCommand::OpenLogs) => |app| Navigate::Logs(vec![app]),
        _ => return Handled::No,
    };
    acting_app(state).map_or(Handled::Yes, |app| Handled::Go(go(app)))
}

/// `b`: the runbook of the acting app's incident, else the runbook list with a word why.
fn open_runbook_for(state: &mut State) -> Handled {
    let Some(app) = acting_app(state) else {
        return Handled::Yes;
    };
    match state.core.runbook_for(&app) {
        Some(id) => Handled::Go(Navigate::Runbook { id, app: Some(app) }),
        None => {
            let text = format!("no alert on {app} (nor the app) names a runbook: pick one");
            state.core.notify(NoticeLevel::Info, text);
            Handled::Go(Navigate::Runbooks)
        }
    }
}

/// The commands that go somewhere, and the views' own commands (which may answer with where
/// to go): true when `cmd` was taken.
fn run_going(state: &mut State, layer: Layer, cmd: Command, effects: &mut Vec<Effect>) -> bool {
    if matches!(state.dialog, Some(Dialog::Rollback(_))) && layer != Layer::Help {
        return rollback::run(state, cmd, effects);
    }
    if matches!(state.dialog, Some(Dialog::Scale(_)))
        && layer != Layer::Help
        && scale::run(state, layer, cmd, effects)
    {
        return true;
    }
    let handled = match (layer, cmd) {
        // Bound everywhere: ignored under a dialog, a filter being typed, or help.
        (_, Command::OpenEvents) => {
            let free = state.dialog.is_none()
                && state.prompt.is_none()
                && !state.filter_editing()
                && !state.help_open;
            if free {
                Handled::Go(Navigate::Events)
            } else {
                Handled::Yes
            }
        }
        (Layer::Alerts, Command::JumpToApp | Command::OpenRunbook) => {
            alerts::destination(state, cmd).map_or(Handled::Yes, Handled::Go)
        }
        (Layer::App, _) => app_view::run_app(state, cmd),
        (Layer::Releases, _) => app_view::run_releases(state, cmd),
        (Layer::Events, _) => {
            // `a` narrows to the app on screen in the App view now, whatever it was when the
            // Events view opened.
            state.events.toggle_app = Some(state.app_view.app.clone()).filter(|a| !a.is_empty());
            timeline::run(state, cmd)
        }
        _ => Handled::No,
    };
    let handled = match handled {
        Handled::No => on_acting_app(state, cmd),
        handled => handled,
    };
    match handled {
        Handled::No => false,
        Handled::Yes => true,
        Handled::Go(to) => {
            navigate(state, to, effects);
            true
        }
    }
}
