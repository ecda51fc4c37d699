//! The `/` filter in every list view: typing narrows the rows, Enter keeps the filter, Esc
//! clears it, the selection stays on a shown row, and keys typed into the filter bar never
//! run the view's own commands.
#![allow(clippy::unwrap_used)]

mod common;

use alert_fixtures::*;
use common::keys::{press, type_text};
use common::{alert_fixtures, fixtures, runbook_fixtures, screen, view_fixtures};
use opsdeck::app::{
    Action, Dialog, KeyCode, KeyInput, Pane, State, View, open_events, open_runbooks, open_runs,
    update,
};
use opsdeck::protocol::RunState;
use view_fixtures::*;

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
    type_text(&mut state, "/COUPON");
    assert_eq!(filter_text(&state, View::Alerts), "COUPON");
    let shown = &state.alerts_view.order;
    assert!(!shown.is_empty() && shown.len() < all, "{shown:?}");
    assert!(shown.iter().all(|id| state.core.alerts[id].app == "coupon"));
    let selected = state.alerts_view.selected.clone().unwrap();
    assert!(shown.contains(&selected), "selection left the shown rows");

    enter(&mut state);
    assert_eq!(state.view, View::Alerts);
    assert!(!state.filter_editing());
    assert!(
        state.alerts_view.order.len() < all,
        "Enter keeps the filter"
    );

    type_text(&mut state, "/");
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
    type_text(&mut state, "/appdown");
    assert!(
        state
            .alerts_view
            .order
            .iter()
            .all(|id| state.core.alerts[id].rule == "AppDown")
    );
    esc(&mut state);
    type_text(&mut state, "/p0");
    assert!(!state.alerts_view.order.is_empty());
    assert!(
        state
            .alerts_view
            .order
            .iter()
            .all(|id| format!("{:?}", state.core.alerts[id].severity) == "P0")
    );
    esc(&mut state);
    type_text(&mut state, "/bad-release");
    assert!(
        state
            .alerts_view
            .order
            .iter()
            .all(|id| state.core.alerts[id].runbook.as_deref() == Some("bad-release"))
    );
}

#[test]
fn keys_typed_in_the_alerts_filter_do_not_run_view_commands() {
    let mut state = alerts_state(false);
    type_text(&mut state, "/ASbqgG");
    assert!(state.dialog.is_none(), "A or s opened a dialog");
    assert_eq!(state.view, View::Alerts);
    assert_eq!(filter_text(&state, View::Alerts), "ASbqgG");
    assert!(state.alerts_view.order.is_empty());
    assert!(state.alerts_view.selected.is_none());
}

#[test]
fn each_view_keeps_its_own_filter_and_esc_clears_it_before_going_back() {
    let mut state = alerts_state(false);
    type_text(&mut state, "/coupon");
    enter(&mut state);
    assert_eq!(filter_text(&state, View::Alerts), "coupon");
    // Leaving by a command keeps it; the overview's own filter is untouched.
    type_text(&mut state, ":apps");
    enter(&mut state);
    assert_eq!(state.view, View::Overview);
    assert_eq!(state.overview.filter.text, "");
    type_text(&mut state, ":alerts");
    enter(&mut state);
    assert_eq!(filter_text(&state, View::Alerts), "coupon");
    // Esc clears the kept filter first, then goes back.
    esc(&mut state);
    assert_eq!(state.view, View::Alerts);
    assert_eq!(filter_text(&state, View::Alerts), "");
    esc(&mut state);
    assert_eq!(state.view, View::Overview);
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
    type_text(&mut state, "/王芳");
    assert_eq!(shown_messages(&state), vec!["scale 4 -> 6".to_string()]);
    esc(&mut state);
    assert_eq!(shown_messages(&state).len(), all);
    type_text(&mut state, "/SCALE");
    assert_eq!(shown_messages(&state).len(), 2);
    enter(&mut state);
    assert_eq!(shown_messages(&state).len(), 2, "Enter keeps the filter");
    type_text(&mut state, "/");
    press(&mut state, KeyInput::plain(KeyCode::Backspace));
    assert_eq!(filter_text(&state, View::Events), "SCAL");
    esc(&mut state);
    type_text(&mut state, "/coupon");
    assert_eq!(shown_messages(&state).len(), 1);
    // Kinds match as the list shows them, in words.
    esc(&mut state);
    type_text(&mut state, "/pod re");
    assert_eq!(
        shown_messages(&state),
        vec![
            "shop-cart-7f9c4d-c9wd restarted (OOMKilled)".to_string(),
            "user-center-5d8 ready".to_string(),
        ]
    );
}

/// The Events view's rows on an 80x24 screen that show `needle`.
fn event_rows_with(state: &State, needle: &str) -> Vec<String> {
    screen::rows(state, 80, 24)
        .into_iter()
        .filter(|r| r.contains(needle))
        .collect()
}

#[test]
fn events_filter_is_a_regex_like_the_logs_search() {
    let mut state = events_state();
    press(&mut state, "/alert|scale");
    assert_eq!(
        shown_messages(&state),
        vec![
            "HighLatency firing: p99 1.45s > 1s".to_string(),
            "scale 4 -> 6".to_string(),
            "scale 3 -> 5".to_string(),
        ]
    );
    // On screen: those rows and no other.
    let rows = screen::rows(&state, 80, 24);
    let body: Vec<&String> = rows
        .iter()
        .skip(3)
        .filter(|r| r.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(body.len(), 3, "{rows:#?}");
    assert!(body[0].contains("HighLatency firing"), "{rows:#?}");
    assert!(body[1].contains("scale 4 -> 6") && body[2].contains("scale 3 -> 5"));
    assert!(event_rows_with(&state, "OOMKilled").is_empty());
    // Anchors and classes work on each field; case does not matter, as in every `/` filter.
    press(&mut state, "<Esc>/^SCALE \\d -> 6$");
    assert_eq!(shown_messages(&state), vec!["scale 4 -> 6".to_string()]);
}

/// The APP column shows display names; typing one finds the app's events, as its id does.
#[test]
fn events_filter_finds_an_app_by_its_display_name() {
    let mut state = events_state();
    press(&mut state, "/");
    type_text(&mut state, "支付网关");
    assert_eq!(
        shown_messages(&state),
        vec!["HighLatency firing: p99 1.45s > 1s".to_string()]
    );
}

#[test]
fn an_events_filter_that_is_not_a_regex_says_so_and_matches_as_plain_text() {
    let mut state = events_state();
    press(&mut state, "/(oom");
    // Nothing is hidden for want of a closing parenthesis: the text matches as it did before.
    assert_eq!(
        shown_messages(&state),
        vec!["shop-cart-7f9c4d-c9wd restarted (OOMKilled)".to_string()]
    );
    let title = &screen::rows(&state, 80, 24)[1];
    assert!(
        title.contains("invalid regex: unclosed group; read as plain text"),
        "{title:?}"
    );
    assert_eq!(
        filter_text(&state, View::Events),
        "(oom",
        "the text is kept"
    );
    // Finishing the pattern makes it a regex again, and the message goes.
    press(&mut state, "|scale 3)");
    assert_eq!(
        shown_messages(&state),
        vec![
            "shop-cart-7f9c4d-c9wd restarted (OOMKilled)".to_string(),
            "scale 3 -> 5".to_string(),
        ]
    );
    assert!(!screen::rows(&state, 80, 24)[1].contains("invalid regex"));
    // A text that is not a regex and matches nothing says both.
    press(&mut state, "<Esc>/[nothing");
    let rows = screen::rows(&state, 80, 24);
    assert!(rows[1].contains("invalid regex"), "{rows:#?}");
    assert!(
        rows.iter()
            .any(|r| r.contains("No event matches /[nothing (7 hidden)")),
        "{rows:#?}"
    );
}

#[test]
fn a_key_string_drives_the_events_filter_as_single_keys_do() {
    let mut state = events_state();
    press(&mut state, "/SCALE<Enter>");
    assert_eq!(shown_messages(&state).len(), 2, "Enter keeps the filter");
    press(&mut state, "/<Backspace>");
    assert_eq!(filter_text(&state, View::Events), "SCAL");
    press(&mut state, "<Esc>");
    assert_eq!(shown_messages(&state).len(), timeline().len());
}

#[test]
fn keys_typed_in_the_events_filter_do_not_run_view_commands() {
    let mut state = events_state();
    // `a` toggles this app/all, `q` and `E` would leave or reopen the view.
    type_text(&mut state, "/aqEj");
    assert_eq!(state.view, View::Events);
    assert_eq!(state.events.filter_app, None);
    assert_eq!(state.events.offset, 0);
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
    type_text(&mut state, "/WAITING");
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
    type_text(&mut state, "/");
    esc(&mut state);
    assert_eq!(state.runs.order.len(), all);
}

#[test]
fn keys_typed_in_the_runs_filter_do_not_run_view_commands() {
    let mut state = runs_state();
    type_text(&mut state, "/qjG");
    assert_eq!(state.view, View::Runs);
    assert_eq!(filter_text(&state, View::Runs), "qjG");
}

fn releases_state() -> State {
    let mut state = app_view_state(false, false);
    press(&mut state, KeyInput::char('r'));
    assert_eq!(state.view, View::Releases);
    state
}

fn shown_release_ids(state: &State) -> Vec<String> {
    state
        .shown_releases()
        .iter()
        .map(|r| r.id.clone())
        .collect()
}

fn rollback_target(state: &State) -> String {
    match &state.dialog {
        Some(Dialog::Rollback(d)) => d.to.id.clone(),
        other => panic!("no rollback dialog: {other:?}"),
    }
}

#[test]
fn releases_filter_matches_version_id_status_cause_and_artifact() {
    let mut state = releases_state();
    assert_eq!(shown_release_ids(&state).len(), releases().len());
    for (needle, want) in [
        ("/V2.13", vec!["r-2131", "r-2130"]),
        ("/r-2120", vec!["r-2120"]),
        ("/rolled-back", vec!["r-2130"]),
        ("/优惠券", vec!["r-2131"]),
        ("/shop-cart:v2.11", vec!["r-2110"]),
    ] {
        type_text(&mut state, needle);
        assert_eq!(shown_release_ids(&state), want, "filter {needle}");
        esc(&mut state);
        assert_eq!(state.view, View::Releases);
    }
    assert_eq!(shown_release_ids(&state).len(), releases().len());
}

#[test]
fn releases_filter_clamps_the_cursor_and_rolls_back_to_the_shown_row() {
    let mut state = releases_state();
    press(&mut state, KeyInput::char('G'));
    assert_eq!(state.app_view.release_cursor, 4);
    // feat: r-2140 (active), r-2130, r-2110.
    type_text(&mut state, "/feat");
    assert_eq!(shown_release_ids(&state), ["r-2140", "r-2130", "r-2110"]);
    assert_eq!(
        state.app_view.release_cursor, 2,
        "cursor clamps to shown rows"
    );
    enter(&mut state);
    assert!(
        state.dialog.is_none(),
        "Enter in the bar only keeps the filter"
    );
    press(&mut state, KeyInput::char('k'));
    assert_eq!(state.app_view.release_cursor, 1);
    // Index 1 of the full list is r-2131; the shown row 1 is r-2130.
    press(&mut state, KeyInput::char('R'));
    assert_eq!(rollback_target(&state), "r-2130");
    esc(&mut state);
    assert!(state.dialog.is_none());
    press(&mut state, KeyInput::char('G'));
    enter(&mut state);
    assert_eq!(rollback_target(&state), "r-2110");
}

#[test]
fn keys_typed_in_the_releases_filter_do_not_run_view_commands() {
    let mut state = releases_state();
    type_text(&mut state, "/RSqG");
    assert!(state.dialog.is_none(), "R or S opened a dialog");
    assert_eq!(state.view, View::Releases);
    assert_eq!(filter_text(&state, View::Releases), "RSqG");
    assert!(state.shown_releases().is_empty());
    press(&mut state, KeyInput::plain(KeyCode::Enter));
    press(&mut state, KeyInput::char('R'));
    assert!(
        state.dialog.is_none(),
        "nothing shown, nothing to roll back to"
    );
}

#[test]
fn app_view_enter_on_a_release_hidden_by_the_filter_shows_it() {
    let mut state = releases_state();
    type_text(&mut state, "/feat");
    enter(&mut state);
    // Back to the App view with the filter kept (Esc would clear it first).
    type_text(&mut state, ":app shop-cart");
    enter(&mut state);
    assert_eq!(state.view, View::App);
    let tab = KeyInput::plain(KeyCode::Tab);
    for _ in 0..3 {
        press(&mut state, tab);
    }
    assert_eq!(state.app_view.pane, Pane::Releases);
    // A release the filter shows: the filter stays, the cursor is on its shown row.
    type_text(&mut state, "jj");
    enter(&mut state);
    assert_eq!(state.view, View::Releases);
    assert_eq!(filter_text(&state, View::Releases), "feat");
    assert_eq!(state.selected_release().unwrap().id, "r-2130");
    type_text(&mut state, ":app shop-cart");
    enter(&mut state);
    // r-2120 (chore) is hidden by `feat`: the filter goes, the cursor lands on it.
    press(&mut state, KeyInput::char('j'));
    enter(&mut state);
    assert_eq!(state.view, View::Releases);
    assert_eq!(filter_text(&state, View::Releases), "");
    assert_eq!(state.selected_release().unwrap().id, "r-2120");
    assert_eq!(state.app_view.release_cursor, 3);
}

fn runbooks_state() -> State {
    let mut state = alerts_state(false);
    let fx = open_runbooks(&mut state);
    assert!(!fx.is_empty());
    runbook_fixtures::answer_runbooks(&mut state);
    assert_eq!(state.view, View::Runbooks);
    state
}

fn shown_runbook_ids(state: &State) -> Vec<String> {
    state
        .shown_runbooks()
        .iter()
        .map(|r| r.id.clone())
        .collect()
}

#[test]
fn runbooks_filter_matches_id_title_and_the_alerts_pointing_at_it() {
    let mut state = runbooks_state();
    assert_eq!(shown_runbook_ids(&state).len(), 3);
    for (needle, want) in [
        ("/FLASH", vec!["flash-sale-spike"]),
        ("/回滚", vec!["bad-release"]),
        // al-8 on coupon points at bad-release.
        ("/coupon", vec!["bad-release"]),
        // al-5 on search (silenced) points at cache-degradation.
        ("/搜索缓存", vec!["cache-degradation"]),
        ("/nothing-like-this", vec![]),
    ] {
        type_text(&mut state, needle);
        assert_eq!(shown_runbook_ids(&state), want, "filter {needle}");
        esc(&mut state);
        assert_eq!(state.view, View::Runbooks);
    }
}

#[test]
fn runbooks_filter_clamps_the_cursor_and_enter_opens_the_shown_runbook() {
    let mut state = runbooks_state();
    press(&mut state, KeyInput::char('G'));
    assert_eq!(state.runbooks.selected, 2);
    type_text(&mut state, "/scale");
    assert_eq!(shown_runbook_ids(&state), ["flash-sale-spike"]);
    assert_eq!(state.runbooks.selected, 0, "cursor clamps to shown rows");
    enter(&mut state);
    assert_eq!(
        state.view,
        View::Runbooks,
        "Enter in the bar keeps the filter"
    );
    // Index 0 of the full list is bad-release; the shown row 0 is flash-sale-spike.
    enter(&mut state);
    assert_eq!(state.view, View::Runbook);
    assert_eq!(
        state.runbooks.form.as_ref().unwrap().runbook,
        "flash-sale-spike"
    );
}

#[test]
fn keys_typed_in_the_runbooks_filter_do_not_run_view_commands() {
    let mut state = runbooks_state();
    type_text(&mut state, "/RqG");
    assert_eq!(state.view, View::Runbooks);
    assert_eq!(filter_text(&state, View::Runbooks), "RqG");
}

#[test]
fn the_releases_cursor_stays_on_its_release_when_a_deploy_adds_one_on_top() {
    use opsdeck::app::{Effect, Reply, RequestKind};
    use opsdeck::protocol::{Body, Event, EventKind, PlatformEvent, ReleaseStatus, ServerMsg};
    let mut state = app_view_state(false, false);
    let fx = update(&mut state, Action::Key(KeyInput::char('r')));
    answer(&mut state, &fx);
    press(&mut state, KeyInput::char('j'));
    press(&mut state, KeyInput::char('j'));
    assert_eq!(state.selected_release().unwrap().id, "r-2130");
    // A deploy of shop-cart while the view is open refetches its releases.
    let fx = update(
        &mut state,
        Action::StreamFrame(ServerMsg::Events {
            events: vec![Event {
                seq: 9_000,
                ts: fixtures::t0(),
                app: "shop-cart".into(),
                body: Body::Events(PlatformEvent {
                    kind: EventKind::Deploy,
                    message: "deploy v2.15.0 (r-2150)".into(),
                    actor: Some("张伟".into()),
                    run: None,
                }),
            }],
        }),
    );
    let request = fx
        .iter()
        .find_map(|e| match e {
            Effect::Http(r) if matches!(r.kind, RequestKind::FetchReleases { .. }) => Some(r.id),
            _ => None,
        })
        .expect("a deploy refetches the releases");
    let mut newer = releases();
    newer.insert(
        0,
        release("r-2150", "v2.15.0", 60, ReleaseStatus::Active, "feat: 秒杀"),
    );
    update(
        &mut state,
        Action::HttpReply {
            request_id: request,
            result: Ok(Reply::Releases(newer)),
        },
    );
    assert_eq!(shown_release_ids(&state)[0], "r-2150");
    assert_eq!(
        state.selected_release().unwrap().id,
        "r-2130",
        "the cursor moved with its release"
    );
    press(&mut state, KeyInput::char('R'));
    assert_eq!(rollback_target(&state), "r-2130");
}
