//! Keys that mean different things in different views: each view's own layer wins inside
//! that view, global keys work where no layer claims them, and text fields take the letters.
//! Pure `update()` tests over the fixture apps and alerts.
#![allow(clippy::unwrap_used)]

mod common;

use common::keys::press;
use common::{alert_fixtures, fixtures};
use fixtures::*;
use opsdeck::app::{
    Dialog, Effect, KeyCode, KeyInput, Keymap, Layer, RequestKind, SortColumn, State, View,
};

fn ch(state: &mut State, c: char) -> Vec<Effect> {
    press(state, KeyInput::char(c))
}

fn esc(state: &mut State) -> Vec<Effect> {
    press(state, KeyInput::plain(KeyCode::Esc))
}

fn select(state: &mut State, app: &str) {
    state.overview.choose(app.to_string());
}

#[test]
fn no_key_is_bound_twice_in_one_layer() {
    let keymap = Keymap::builtin().unwrap();
    for layer in Layer::ALL {
        let mut seen = Vec::new();
        for b in keymap.bindings(layer) {
            for key in &b.on {
                assert!(
                    !seen.contains(key),
                    "{layer:?}: {key} is bound twice (second time: {:?})",
                    b.run
                );
                seen.push(*key);
            }
        }
    }
}

#[test]
fn capital_e_is_events_globally_but_the_logs_and_app_views_keep_their_own() {
    // Overview: the global Events view.
    let mut state = loaded_state(false);
    ch(&mut state, 'E');
    assert_eq!(state.view, View::Events);
    assert_eq!(state.events.filter_app, None);

    // Logs view: previous error line; the view stays.
    let mut state = loaded_state(false);
    select(&mut state, "feed");
    ch(&mut state, 'l');
    assert_eq!(state.view, View::Logs);
    ch(&mut state, 'E');
    assert_eq!(
        state.view,
        View::Logs,
        "E in the Logs view is the previous error"
    );

    // App view: this app's events.
    let mut state = loaded_state(false);
    select(&mut state, "feed");
    press(&mut state, KeyInput::plain(KeyCode::Enter));
    assert_eq!(state.view, View::App);
    ch(&mut state, 'E');
    assert_eq!(state.view, View::Events);
    assert_eq!(state.events.filter_app.as_deref(), Some("feed"));
    // And back the way we came.
    esc(&mut state);
    assert_eq!(state.view, View::App);
    esc(&mut state);
    assert_eq!(state.view, View::Overview);
}

#[test]
fn a_opens_alerts_from_the_overview_but_toggles_the_filter_in_events() {
    let mut state = loaded_state(false);
    let fx = ch(&mut state, 'a');
    assert_eq!(state.view, View::Alerts);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Http(r) if r.kind == RequestKind::FetchAlerts))
    );
    esc(&mut state);
    assert_eq!(state.view, View::Overview);

    select(&mut state, "feed");
    press(&mut state, KeyInput::plain(KeyCode::Enter));
    ch(&mut state, 'E');
    assert_eq!(state.events.filter_app.as_deref(), Some("feed"));
    ch(&mut state, 'a');
    assert_eq!(
        state.view,
        View::Events,
        "a in Events is not the Alerts view"
    );
    assert_eq!(state.events.filter_app, None, "a shows every app's events");
    ch(&mut state, 'a');
    assert_eq!(state.events.filter_app.as_deref(), Some("feed"));
}

#[test]
fn s_sorts_the_overview_saves_logs_and_silences_alerts() {
    let mut state = loaded_state(false);
    assert_eq!(state.overview.sort, SortColumn::Health);
    ch(&mut state, 's');
    assert_ne!(
        state.overview.sort,
        SortColumn::Health,
        "s sorts the overview"
    );

    let mut state = loaded_state(false);
    ch(&mut state, 'L');
    assert_eq!(state.view, View::Logs);
    let sort = state.overview.sort;
    ch(&mut state, 's');
    assert_eq!(
        state.overview.sort, sort,
        "s in the Logs view does not sort the overview"
    );
    assert_eq!(state.view, View::Logs);

    let mut state = alert_fixtures::alerts_state(false);
    let sort = state.overview.sort;
    ch(&mut state, 's');
    assert!(matches!(state.dialog, Some(Dialog::Silence(_))));
    assert_eq!(state.overview.sort, sort);
}

#[test]
fn g_is_top_in_lists_but_goes_to_the_app_in_alerts() {
    let mut state = loaded_state(false);
    ch(&mut state, 'G');
    ch(&mut state, 'g');
    assert_eq!(
        state.overview.selected,
        state.overview.order.first().cloned()
    );
    assert_eq!(state.view, View::Overview);

    let mut state = alert_fixtures::alerts_state(false);
    let app = state.selected_alert().unwrap().app.clone();
    ch(&mut state, 'g');
    assert_eq!(state.view, View::App);
    assert_eq!(state.app_view.app, app);
}

#[test]
fn text_fields_take_the_letters_that_views_bind() {
    // The overview filter.
    let mut state = loaded_state(false);
    ch(&mut state, '/');
    for c in "Eas:l".chars() {
        ch(&mut state, c);
    }
    assert_eq!(state.overview.filter.text, "Eas:l");
    assert_eq!(state.view, View::Overview);
    assert!(state.prompt.is_none());

    // The Logs view's search.
    let mut state = loaded_state(false);
    ch(&mut state, 'L');
    ch(&mut state, '/');
    for c in "Eas:".chars() {
        ch(&mut state, c);
    }
    assert_eq!(state.logs.search.text, "Eas:");
    assert_eq!(state.view, View::Logs);

    // The command line.
    let mut state = loaded_state(false);
    ch(&mut state, ':');
    for c in "Eas".chars() {
        ch(&mut state, c);
    }
    assert_eq!(state.prompt.as_ref().unwrap().input, "Eas");
    assert_eq!(state.view, View::Overview);
}

#[test]
fn the_command_line_and_events_open_from_every_view_but_not_over_dialogs() {
    for open in ['l', 'E'] {
        let mut state = loaded_state(false);
        select(&mut state, "feed");
        press(&mut state, KeyInput::plain(KeyCode::Enter));
        if open == 'l' {
            ch(&mut state, 'l');
            assert_eq!(state.view, View::Logs);
        } else {
            ch(&mut state, 'E');
            assert_eq!(state.view, View::Events);
        }
        ch(&mut state, ':');
        assert!(state.prompt.is_some(), "`:` from {:?}", state.view);
        esc(&mut state);
        assert!(state.prompt.is_none());
    }

    // Under the scale dialog `E` neither types nor leaves.
    let mut state = loaded_state(false);
    ch(&mut state, 'S');
    assert!(matches!(state.dialog, Some(Dialog::Scale(_))));
    ch(&mut state, 'E');
    ch(&mut state, ':');
    assert_eq!(state.view, View::Overview);
    assert!(state.prompt.is_none());
    assert!(matches!(state.dialog, Some(Dialog::Scale(_))));
}

#[test]
fn logs_opened_from_the_app_view_go_back_there() {
    let mut state = loaded_state(false);
    select(&mut state, "feed");
    press(&mut state, KeyInput::plain(KeyCode::Enter));
    ch(&mut state, 'l');
    assert_eq!(state.view, View::Logs);
    let apps: Vec<&str> = state.logs.filter.apps.iter().map(|a| &**a).collect();
    assert_eq!(apps, ["feed"]);
    esc(&mut state);
    assert_eq!(state.view, View::App);
    assert_eq!(state.app_view.app, "feed");
}
