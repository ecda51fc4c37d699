//! Snapshots of the App, Releases and Events views and the rollback dialog at 80x24 and
//! 160x48, from fixed data (Chinese names included) and a fixed clock. Review changes by eye:
//! `INSTA_UPDATE=always cargo test --test console_views_snapshots`, then read the `.snap` diff.
#![allow(clippy::unwrap_used)]

mod common;

use common::keys::{press, type_text};
use common::screen::{screen, screen_with};
use common::{fixtures, view_fixtures};
use fixtures::*;
use opsdeck::app::{Action, KeyCode, KeyInput, State, update};
use opsdeck::protocol::{
    Alert, AlertState, Body, Event, EventKind, PlatformEvent, ServerMsg, Severity,
};
use opsdeck::ui::theme::Theme;
use view_fixtures::*;

/// The App view with a firing alert on shop-cart, so every pane has something.
fn app_state() -> State {
    let mut state = app_view_state(false, false);
    let alert = Alert {
        id: "al-9".into(),
        rule: "PodCrashLooping".into(),
        severity: Severity::P1,
        state: AlertState::Firing,
        summary: "shop-cart-7f9c4d-c9wd 重启 7 次 in 15m".into(),
        app: "shop-cart".into(),
        labels: Default::default(),
        runbook: None,
        started_at: at(-900),
        resolved_at: None,
        silenced_until: None,
        acknowledged_by: None,
        comment: None,
        stale_since: None,
    };
    update(
        &mut state,
        Action::StreamFrame(ServerMsg::Events {
            events: vec![Event {
                seq: 1,
                ts: at(-900),
                app: "shop-cart".into(),
                body: Body::Alerts(alert),
            }],
        }),
    );
    state
}

#[test]
fn app_view() {
    let state = app_state();
    insta::assert_snapshot!("app_80x24", screen(&state, 80, 24));
    insta::assert_snapshot!("app_160x48", screen(&state, 160, 48));
}

#[test]
fn app_view_one_hour_window_events_pane_ascii() {
    let mut state = app_state();
    type_text(&mut state, "4");
    press(&mut state, KeyInput::plain(KeyCode::Tab));
    let ascii = Theme::default().with_ascii(true);
    insta::assert_snapshot!(screen_with(&state, &ascii, 80, 24));
}

#[test]
fn app_view_loading() {
    let mut state = loaded_state(false);
    opsdeck::app::open_app(&mut state, "pay-gateway");
    insta::assert_snapshot!("app_loading_80x24", screen(&state, 80, 24));
    insta::assert_snapshot!("app_loading_160x48", screen(&state, 160, 48));
}

#[test]
fn releases_view() {
    let mut state = app_state();
    type_text(&mut state, "rjjj");
    insta::assert_snapshot!("releases_80x24", screen(&state, 80, 24));
    insta::assert_snapshot!("releases_160x48", screen(&state, 160, 48));
}

#[test]
fn app_view_disconnected() {
    let mut state = app_state();
    drop_stream(&mut state);
    insta::assert_snapshot!("app_reconnecting_80x24", screen(&state, 80, 24));
    let mut state = app_state();
    go_stale(&mut state);
    insta::assert_snapshot!("app_stale_80x24", screen(&state, 80, 24));
}

#[test]
fn releases_view_filtered() {
    let mut state = app_state();
    type_text(&mut state, "r/feat");
    press(&mut state, KeyInput::plain(KeyCode::Enter));
    type_text(&mut state, "j");
    insta::assert_snapshot!("releases_filtered_80x24", screen(&state, 80, 24));
    type_text(&mut state, "/zzz");
    insta::assert_snapshot!("releases_filtered_to_nothing_80x24", screen(&state, 80, 24));
}

#[test]
fn events_view() {
    let mut state = app_state();
    type_text(&mut state, "E");
    insta::assert_snapshot!("events_shop_cart_80x24", screen(&state, 80, 24));
    type_text(&mut state, "a");
    insta::assert_snapshot!("events_all_80x24", screen(&state, 80, 24));
    insta::assert_snapshot!("events_all_160x48", screen(&state, 160, 48));
}

/// Live `events` of a bad-release run on shop-cart (seconds ago, after the fixture's
/// timeline), as the gateway records them: started by li.wei, approved by 王芳, rolled back,
/// failed to verify.
fn run_events(state: &mut State) {
    let wait = "approve-rollback waits for approval: Errors on shop-cart began after its latest \
                release. Roll it back (target: previous)?";
    let failed = "verify failed: timed out after 5 min (error_ratio = 3.2%, want < 1% for 2 min)";
    let ended = "bad-release FAILED: step `verify` failed: its fallbacks ran (escalate) and the \
                 run stops";
    let entries: [(i64, EventKind, &str, &str); 7] = [
        (19, EventKind::Run, "li.wei", "bad-release started"),
        (
            18,
            EventKind::RunStep,
            "li.wei",
            "errors-after-release succeeded",
        ),
        (18, EventKind::RunStep, "li.wei", wait),
        (12, EventKind::RunStep, "王芳", "approve-rollback approved"),
        (10, EventKind::RunStep, "li.wei", "roll-back succeeded"),
        (3, EventKind::RunStep, "li.wei", failed),
        (3, EventKind::Run, "li.wei", ended),
    ];
    let events = entries
        .into_iter()
        .zip(1..)
        .map(|((ago, kind, actor, message), seq)| Event {
            seq,
            ts: at(-ago),
            app: "shop-cart".into(),
            body: Body::Events(PlatformEvent {
                kind,
                message: message.into(),
                actor: Some(actor.into()),
                run: Some("run-9f2c1a7e-3".into()),
            }),
        })
        .collect();
    update(state, Action::StreamFrame(ServerMsg::Events { events }));
}

#[test]
fn events_view_with_a_run() {
    let mut state = app_state();
    type_text(&mut state, "E");
    run_events(&mut state);
    insta::assert_snapshot!("events_run_80x24", screen(&state, 80, 24));
    insta::assert_snapshot!("events_run_120x40", screen(&state, 120, 40));
    type_text(&mut state, "/approv|fail");
    insta::assert_snapshot!("events_run_filtered_80x24", screen(&state, 80, 24));
    type_text(&mut state, "(");
    insta::assert_snapshot!("events_run_invalid_regex_80x24", screen(&state, 80, 24));
}

#[test]
fn events_view_loading() {
    let mut state = loaded_state(false);
    opsdeck::app::open_events(&mut state);
    insta::assert_snapshot!(screen(&state, 80, 24));
}

#[test]
fn rollback_dialog() {
    let mut state = app_state();
    press(&mut state, KeyInput::char('R'));
    insta::assert_snapshot!("rollback_review_80x24", screen(&state, 80, 24));
    insta::assert_snapshot!("rollback_review_160x48", screen(&state, 160, 48));
    press(&mut state, KeyInput::plain(KeyCode::Enter));
    insta::assert_snapshot!("rollback_confirm_80x24", screen(&state, 80, 24));
}

#[test]
fn rollback_dialog_production() {
    let mut state = app_view_state(false, true);
    press(&mut state, KeyInput::char('R'));
    press(&mut state, KeyInput::plain(KeyCode::Enter));
    type_text(&mut state, "shop-car");
    insta::assert_snapshot!("rollback_production_partial_80x24", screen(&state, 80, 24));
    type_text(&mut state, "t");
    insta::assert_snapshot!("rollback_production_typed_80x24", screen(&state, 80, 24));
    insta::assert_snapshot!("rollback_production_typed_160x48", screen(&state, 160, 48));
}

#[test]
fn no_size_panics_in_the_new_views() {
    let mut state = app_state();
    for keys in ["", "r", "E", "R"] {
        let mut s = state.clone();
        type_text(&mut s, keys);
        for (w, h) in [(1, 1), (20, 5), (40, 10), (80, 24), (120, 30), (200, 60)] {
            screen(&s, w, h);
        }
    }
    type_text(&mut state, "4");
    screen(&state, 300, 80);
}
