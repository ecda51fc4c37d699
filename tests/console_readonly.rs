//! `--readonly` removes every action from the keymap: the keys that would scale, roll back,
//! acknowledge, silence or steer a run do nothing but say why, and the help overlay and the
//! views' hints, built from the same keymap, no longer offer them.
#![allow(clippy::unwrap_used)]

mod common;

use common::keys::press;
use common::screen::screen;
use common::{alert_fixtures, fixtures, runbook_fixtures, view_fixtures};
use opsdeck::app::{
    Action, Effect, KeyCode, KeyInput, Keymap, Layer, Reply, RequestKind, State, View, open_run,
    update,
};

fn last_notice(state: &State) -> String {
    state.core.notifications.back().unwrap().text.clone()
}

#[test]
fn the_readonly_keymap_binds_no_command_that_changes_the_platform() {
    let full = Keymap::builtin().unwrap();
    let readonly = fixtures::loaded_state(true).core.keymap;
    let mut removed = 0;
    for layer in Layer::ALL {
        for b in full.bindings(layer) {
            let kept = readonly.bindings(layer).contains(b);
            assert_eq!(kept, !b.run.changes_platform(), "{layer:?} {b:?}");
            removed += usize::from(!kept);
        }
    }
    // Scale (overview, app, releases), rollback (app, releases), ack, silence, start,
    // approve, abort, resume.
    assert!(removed >= 10, "only {removed} bindings removed");
    assert_eq!(fixtures::loaded_state(false).core.keymap, full);
}

/// Press each key in the state's view: nothing happens, no request leaves, and the last
/// notice names the key and says READ-ONLY.
fn assert_refused(state: &mut State, keys: &[KeyInput]) {
    let view = state.view;
    for key in keys {
        state.core.notifications.clear();
        let fx = press(state, *key);
        assert!(fx.is_empty(), "{key}: {fx:?}");
        assert!(state.dialog.is_none(), "{key} opened a dialog");
        assert_eq!(state.view, view, "{key} changed the view");
        let notice = last_notice(state);
        assert!(
            notice.starts_with("READ-ONLY (--readonly): ")
                && notice.contains(&format!(": {key} (")),
            "{key}: {notice}"
        );
        // It fits an 80-column notice line (the time takes 10).
        assert!(notice.chars().count() <= 70, "{notice}");
    }
}

#[test]
fn action_keys_do_nothing_but_say_why() {
    let mut state = fixtures::loaded_state(true);
    assert_refused(&mut state, &[KeyInput::char('S')]);

    let mut state = view_fixtures::app_view_state(true, false);
    assert_refused(&mut state, &[KeyInput::char('S'), KeyInput::char('R')]);
    press(&mut state, KeyInput::char('r'));
    assert_eq!(state.view, View::Releases);
    assert_refused(
        &mut state,
        &[
            KeyInput::plain(KeyCode::Enter),
            KeyInput::char('R'),
            KeyInput::char('S'),
        ],
    );

    let mut state = alert_fixtures::alerts_state(true);
    assert_refused(&mut state, &[KeyInput::char('A'), KeyInput::char('s')]);

    let mut state = alert_fixtures::alerts_state(true);
    open_run(&mut state, "run-9f2c1a7e-2");
    let id = runbook_fixtures::pending(&state, |k| matches!(k, RequestKind::FetchRun { .. }));
    runbook_fixtures::reply(
        &mut state,
        id,
        Reply::Run(Box::new(runbook_fixtures::waiting_run())),
    );
    assert_eq!(state.view, View::Run);
    assert_refused(
        &mut state,
        &[
            KeyInput::char('A'),
            KeyInput::char('X'),
            KeyInput::char('u'),
        ],
    );
}

#[test]
fn keys_that_act_still_work_outside_readonly() {
    let mut state = view_fixtures::app_view_state(false, false);
    press(&mut state, KeyInput::char('S'));
    assert!(state.dialog.is_some(), "S opens the scale dialog");
}

/// Every line of the help overlay, scrolled from top to bottom.
fn help_text(state: &mut State) -> String {
    update(
        state,
        Action::Resize {
            width: 80,
            height: 24,
        },
    );
    press(state, KeyInput::char('?'));
    let mut text = screen(state, 80, 24);
    for _ in 0..400 {
        let before = state.help_scroll;
        press(state, KeyInput::char('j'));
        if state.help_scroll == before {
            break;
        }
        text.push_str(&screen(state, 80, 24));
    }
    text
}

#[test]
fn help_lists_no_action_binding_in_readonly() {
    let full = Keymap::builtin().unwrap();
    let actions: Vec<String> = Layer::ALL
        .iter()
        .flat_map(|l| full.bindings(*l))
        .filter(|b| b.run.changes_platform())
        .map(|b| b.desc.clone())
        .collect();
    let mut state = view_fixtures::app_view_state(true, false);
    let text = help_text(&mut state);
    for desc in &actions {
        assert!(!text.contains(desc.as_str()), "help offers {desc:?}");
    }
    // The same help outside readonly does offer them (the check above can fail).
    let mut state = view_fixtures::app_view_state(false, false);
    let text = help_text(&mut state);
    assert!(text.contains("Scale this app"), "{text}");
}

#[test]
fn help_readonly_80x24() {
    let mut state = view_fixtures::app_view_state(true, false);
    press(&mut state, KeyInput::char('?'));
    insta::assert_snapshot!(screen(&state, 80, 24));
}

#[test]
fn app_and_releases_hints_in_readonly() {
    let mut state = view_fixtures::app_view_state(true, false);
    // The App view has its hint row from 100 columns on.
    insta::assert_snapshot!("app_readonly_160x48", screen(&state, 160, 48));
    press(&mut state, KeyInput::char('r'));
    insta::assert_snapshot!("releases_readonly_80x24", screen(&state, 80, 24));
}

/// A state in each view that offers actions: overview, App, Releases, Alerts, a Run waiting
/// for approval.
fn views_with_actions(readonly: bool) -> Vec<State> {
    let overview = fixtures::loaded_state(readonly);
    let app = view_fixtures::app_view_state(readonly, false);
    let mut releases = app.clone();
    press(&mut releases, KeyInput::char('r'));
    assert_eq!(releases.view, View::Releases);
    let alerts = alert_fixtures::alerts_state(readonly);
    let mut run = alerts.clone();
    open_run(&mut run, "run-9f2c1a7e-2");
    let id = runbook_fixtures::pending(&run, |k| matches!(k, RequestKind::FetchRun { .. }));
    runbook_fixtures::reply(
        &mut run,
        id,
        Reply::Run(Box::new(runbook_fixtures::waiting_run())),
    );
    assert_eq!(run.view, View::Run);
    vec![overview, app, releases, alerts, run]
}

/// Every key any layer binds, then whatever confirms: `y`, Enter, `y` (and the typed
/// `:scale` and `:rollback` commands). The requests that would change the platform.
fn changes_sent(base: &State) -> Vec<RequestKind> {
    let keymap = Keymap::builtin().unwrap();
    let mut keys: Vec<KeyInput> = Layer::ALL
        .iter()
        .flat_map(|l| keymap.bindings(*l))
        .flat_map(|b| b.on.clone())
        .collect();
    keys.sort_by_key(|k| format!("{k}"));
    keys.dedup();
    let confirm = [
        KeyInput::char('y'),
        KeyInput::plain(KeyCode::Enter),
        KeyInput::char('y'),
    ];
    let mut sent = Vec::new();
    let mut record = |fx: Vec<Effect>| {
        for e in fx {
            if let Effect::Http(r) = e
                && r.kind.changes_platform()
            {
                sent.push(r.kind);
            }
        }
    };
    for key in keys {
        let mut state = base.clone();
        record(press(&mut state, key));
        // A change may take a count first: one more replica.
        record(press(&mut state, KeyInput::char('+')));
        for k in confirm {
            record(press(&mut state, k));
        }
    }
    for typed in [":scale shop-cart 7\r", ":rollback shop-cart\r"] {
        let mut state = base.clone();
        for c in typed.chars() {
            let key = match c {
                '\r' => KeyInput::plain(KeyCode::Enter),
                c => KeyInput::char(c),
            };
            record(press(&mut state, key));
        }
        for k in confirm {
            record(press(&mut state, k));
        }
    }
    sent
}

#[test]
fn no_key_in_any_view_sends_a_change_in_readonly() {
    for base in views_with_actions(true) {
        let sent = changes_sent(&base);
        assert!(sent.is_empty(), "{:?} sent {sent:?}", base.view);
    }
    // The same presses outside readonly do send changes: the search above can find them.
    let found: usize = views_with_actions(false)
        .iter()
        .map(|s| changes_sent(s).len())
        .sum();
    assert!(found >= 5, "only {found} changes found outside readonly");
}
