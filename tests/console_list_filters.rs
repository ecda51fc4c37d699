//! The `/` filter in every list view: typing narrows the rows, Enter keeps the filter, Esc
//! clears it, the selection stays on a shown row, and keys typed into the filter bar never
//! run the view's own commands.
#![allow(clippy::unwrap_used)]

mod alert_fixtures;
mod fixtures;
mod runbook_fixtures;
mod view_fixtures;

use alert_fixtures::*;
use opsdeck::app::{Action, KeyCode, KeyInput, State, View, open_events, open_runs, update};
use opsdeck::protocol::RunState;
use view_fixtures::*;

fn press(state: &mut State, key: KeyInput) {
    update(state, Action::Key(key));
}

fn type_keys(state: &mut State, text: &str) {
    for c in text.chars() {
        press(state, KeyInput::char(c));
    }
}

fn esc(state: &mut State) {
    press(state, KeyInput::plain(KeyCode::Esc));
}

fn enter(state: &mut State) {
    press(state, KeyInput::plain(KeyCode::Enter));
}

fn filter_text(state: &State, view: View) -> String {
    state.filter_of(view).unwrap().text.clone()
}

#[test]
fn alerts_filter_narrows_keeps_and_clears() {
    let mut state = alerts_state(false);
    let all = state.alerts_view.order.len();
    assert!(all > 2);
    type_keys(&mut state, "/COUPON");
    assert_eq!(filter_text(&state, View::Alerts), "COUPON");
    let shown = &state.alerts_view.order;
    assert!(!shown.is_empty() && shown.len() < all, "{shown:?}");
    assert!(shown.iter().all(|id| state.alerts[id].app == "coupon"));
    let selected = state.alerts_view.selected.clone().unwrap();
    assert!(shown.contains(&selected), "selection left the shown rows");

    enter(&mut state);
    assert_eq!(state.view, View::Alerts);
    assert!(!state.filter_editing());
    assert!(
        state.alerts_view.order.len() < all,
        "Enter keeps the filter"
    );

    type_keys(&mut state, "/");
    esc(&mut state);
    assert_eq!(filter_text(&state, View::Alerts), "");
    assert_eq!(state.alerts_view.order.len(), all);
    assert_eq!(
        state.view,
        View::Alerts,
        "Esc in the bar clears, it does not leave"
    );
}

#[test]
fn alerts_filter_matches_rule_severity_and_runbook() {
    let mut state = alerts_state(false);
    type_keys(&mut state, "/appdown");
    assert!(
        state
            .alerts_view
            .order
            .iter()
            .all(|id| state.alerts[id].rule == "AppDown")
    );
    esc(&mut state);
    type_keys(&mut state, "/p0");
    assert!(!state.alerts_view.order.is_empty());
    assert!(
        state
            .alerts_view
            .order
            .iter()
            .all(|id| format!("{:?}", state.alerts[id].severity) == "P0")
    );
    esc(&mut state);
    type_keys(&mut state, "/bad-release");
    assert!(
        state
            .alerts_view
            .order
            .iter()
            .all(|id| state.alerts[id].runbook.as_deref() == Some("bad-release"))
    );
}

#[test]
fn keys_typed_in_the_alerts_filter_do_not_run_view_commands() {
    let mut state = alerts_state(false);
    type_keys(&mut state, "/ASbqgG");
    assert!(state.dialog.is_none(), "A or s opened a dialog");
    assert_eq!(state.view, View::Alerts);
    assert_eq!(filter_text(&state, View::Alerts), "ASbqgG");
    assert!(state.alerts_view.order.is_empty());
    assert!(state.alerts_view.selected.is_none());
}

#[test]
fn each_view_keeps_its_own_filter() {
    let mut state = alerts_state(false);
    type_keys(&mut state, "/coupon");
    enter(&mut state);
    esc(&mut state);
    assert_eq!(state.view, View::Overview);
    assert_eq!(state.filter.text, "");
    assert_eq!(filter_text(&state, View::Alerts), "coupon");
}

fn events_state() -> State {
    let mut state = fixtures::loaded_state(false);
    let fx = open_events(&mut state);
    answer(&mut state, &fx);
    state
}

fn shown_messages(state: &State) -> Vec<String> {
    state
        .shown_events()
        .map(|e| e.event.message.clone())
        .collect()
}

#[test]
fn events_filter_narrows_by_app_kind_message_and_actor() {
    let mut state = events_state();
    let all = shown_messages(&state).len();
    assert_eq!(all, timeline().len());
    type_keys(&mut state, "/王芳");
    assert_eq!(shown_messages(&state), vec!["scale 4 -> 6".to_string()]);
    esc(&mut state);
    assert_eq!(shown_messages(&state).len(), all);
    type_keys(&mut state, "/SCALE");
    assert_eq!(shown_messages(&state).len(), 2);
    enter(&mut state);
    assert_eq!(shown_messages(&state).len(), 2, "Enter keeps the filter");
    type_keys(&mut state, "/");
    press(&mut state, KeyInput::plain(KeyCode::Backspace));
    assert_eq!(filter_text(&state, View::Events), "SCAL");
    esc(&mut state);
    type_keys(&mut state, "/coupon");
    assert_eq!(shown_messages(&state).len(), 1);
    // Kinds match as the list shows them, in words.
    esc(&mut state);
    type_keys(&mut state, "/pod re");
    assert_eq!(
        shown_messages(&state),
        vec![
            "shop-cart-7f9c4d-c9wd restarted (OOMKilled)".to_string(),
            "user-center-5d8 ready".to_string(),
        ]
    );
}

#[test]
fn keys_typed_in_the_events_filter_do_not_run_view_commands() {
    let mut state = events_state();
    // `a` toggles this app/all, `q` and `E` would leave or reopen the view.
    type_keys(&mut state, "/aqEj");
    assert_eq!(state.view, View::Events);
    assert_eq!(state.timeline.filter_app, None);
    assert_eq!(state.timeline.offset, 0);
    assert_eq!(filter_text(&state, View::Events), "aqEj");
}

fn runs_state() -> State {
    let mut state = fixtures::loaded_state(false);
    open_runs(&mut state);
    runbook_fixtures::answer_runs(&mut state);
    state
}

#[test]
fn runs_filter_narrows_by_state_and_keeps_the_cursor_on_a_shown_run() {
    let mut state = runs_state();
    let all = state.runs.order.len();
    assert_eq!(all, runbook_fixtures::runs().len());
    press(&mut state, KeyInput::char('G'));
    assert_eq!(state.runs.cursor, all - 1);
    type_keys(&mut state, "/WAITING");
    assert_eq!(state.runs.order.len(), 1);
    assert_eq!(state.runs.cursor, 0, "cursor stays within the shown rows");
    let id = state.runs.order[0].clone();
    assert_eq!(state.runs.runs[&id].state, RunState::WaitingApproval);
    enter(&mut state);
    assert_eq!(
        state.view,
        View::Runs,
        "Enter in the bar keeps the filter, opens nothing"
    );
    assert_eq!(state.runs.order.len(), 1);
    enter(&mut state);
    assert_eq!(state.view, View::Run);
    assert_eq!(state.runs.current.as_deref(), Some(id.as_str()));
    esc(&mut state);
    type_keys(&mut state, "/");
    esc(&mut state);
    assert_eq!(state.runs.order.len(), all);
}

#[test]
fn keys_typed_in_the_runs_filter_do_not_run_view_commands() {
    let mut state = runs_state();
    type_keys(&mut state, "/qjG");
    assert_eq!(state.view, View::Runs);
    assert_eq!(filter_text(&state, View::Runs), "qjG");
}
