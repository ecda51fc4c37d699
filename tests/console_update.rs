//! Pure `update()` tests: feed actions, check state and effects. No I/O, fixed clock.
#![allow(clippy::unwrap_used)]

mod common;

use common::fixtures;
use common::keys::{press, type_text};
use fixtures::*;
use opsdeck::app::{
    Action, Connection, Dialog, Effect, HttpError, KeyCode, KeyInput, Reply, RequestKind,
    ScaleStep, State, update,
};
use opsdeck::protocol::{
    ActionKind, ActionState, ActionStatus, Alert, AlertState, Body, Event, ServerMsg, Severity,
    Topic,
};

/// Opens the scale dialog (Enter opens the App view).
fn scale_key() -> KeyInput {
    KeyInput::char('S')
}

fn enter() -> KeyInput {
    KeyInput::plain(KeyCode::Enter)
}

fn esc() -> KeyInput {
    KeyInput::plain(KeyCode::Esc)
}

fn backspace() -> KeyInput {
    KeyInput::plain(KeyCode::Backspace)
}

fn scale_requests(effects: &[Effect]) -> Vec<(u64, String, u32, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Http(r) => match &r.kind {
                RequestKind::ScaleApp {
                    app,
                    replicas,
                    idempotency_key,
                    ..
                } => Some((r.id, app.clone(), *replicas, idempotency_key.clone())),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn select(state: &mut State, app: &str) {
    press(state, KeyInput::char('g'));
    while state.overview.selected.as_deref() != Some(app) {
        let before = state.overview.selected.clone();
        press(state, KeyInput::char('j'));
        assert_ne!(before, state.overview.selected, "{app} not in the list");
    }
}

fn scale_dialog(state: &State) -> &opsdeck::app::ScaleDialog {
    match &state.dialog {
        Some(Dialog::Scale(d)) => d,
        _ => panic!("no scale dialog open"),
    }
}

#[test]
fn scale_flow_sends_one_request_only_after_confirmation() {
    let mut state = loaded_state(false);
    select(&mut state, "shop-cart");
    let mut effects = press(&mut state, scale_key());
    let d = scale_dialog(&state);
    assert_eq!((d.from, d.input.as_str()), (6, "6"));
    assert_eq!((d.min, d.max), (2, 20));

    effects.extend(press(&mut state, backspace()));
    effects.extend(type_text(&mut state, "12"));
    assert_eq!(scale_dialog(&state).target(), Ok(12));
    // Enter moves to the confirmation: still nothing sent.
    effects.extend(press(&mut state, enter()));
    assert_eq!(scale_dialog(&state).step, ScaleStep::Confirm);
    assert!(scale_requests(&effects).is_empty(), "{effects:?}");

    let sent = press(&mut state, KeyInput::char('y'));
    let reqs = scale_requests(&sent);
    assert_eq!(reqs.len(), 1, "{sent:?}");
    let (_, app, replicas, key) = &reqs[0];
    assert_eq!((app.as_str(), *replicas), ("shop-cart", 12));
    assert_eq!(key.len(), 36, "uuid-shaped key: {key}");

    // A second `y` while sending does nothing.
    assert!(scale_requests(&press(&mut state, KeyInput::char('y'))).is_empty());
}

#[test]
fn plus_and_minus_edit_the_count() {
    let mut state = loaded_state(false);
    select(&mut state, "shop-cart");
    press(&mut state, KeyInput::char('S'));
    type_text(&mut state, "++-+");
    assert_eq!(scale_dialog(&state).input, "8");
}

#[test]
fn no_or_esc_at_the_confirmation_sends_nothing() {
    for cancel in [KeyInput::char('n'), esc()] {
        let mut state = loaded_state(false);
        select(&mut state, "shop-cart");
        let mut effects = press(&mut state, scale_key());
        effects.extend(type_text(&mut state, "+"));
        effects.extend(press(&mut state, enter()));
        effects.extend(press(&mut state, cancel));
        assert_eq!(scale_dialog(&state).step, ScaleStep::Edit);
        assert!(scale_requests(&effects).is_empty());
        // Esc in the editor closes the dialog, still without a request.
        let effects = press(&mut state, esc());
        assert!(state.dialog.is_none());
        assert!(effects.is_empty());
    }
}

#[test]
fn out_of_range_cannot_be_confirmed() {
    let mut state = loaded_state(false);
    select(&mut state, "shop-cart");
    press(&mut state, scale_key());
    press(&mut state, backspace());
    type_text(&mut state, "99");
    assert!(scale_dialog(&state).target().is_err());
    let mut effects = press(&mut state, enter());
    assert_eq!(scale_dialog(&state).step, ScaleStep::Edit);
    effects.extend(press(&mut state, KeyInput::char('y')));
    assert!(scale_requests(&effects).is_empty());
    // Unchanged count is not a change either.
    press(&mut state, backspace());
    press(&mut state, backspace());
    type_text(&mut state, "6");
    press(&mut state, enter());
    assert_eq!(scale_dialog(&state).step, ScaleStep::Edit);
}

#[test]
fn readonly_offers_no_action_and_says_so() {
    let mut state = loaded_state(true);
    let mut effects = press(&mut state, scale_key());
    effects.extend(press(&mut state, KeyInput::char('S')));
    effects.extend(press(&mut state, KeyInput::char('y')));
    assert!(state.dialog.is_none());
    assert!(effects.is_empty(), "{effects:?}");
    let last = state.core.notifications.back().unwrap();
    assert!(last.text.contains("READ-ONLY"), "{}", last.text);
}

#[test]
fn a_failed_scale_retries_with_the_same_key_and_a_new_dialog_gets_a_new_key() {
    let mut state = loaded_state(false);
    select(&mut state, "shop-cart");
    press(&mut state, scale_key());
    type_text(&mut state, "+");
    press(&mut state, enter());
    let first = scale_requests(&press(&mut state, KeyInput::char('y')));
    let (id, _, _, key1) = first[0].clone();
    update(
        &mut state,
        Action::HttpReply {
            request_id: id,
            result: Err(HttpError::transport("connection refused")),
        },
    );
    let d = scale_dialog(&state);
    assert_eq!(d.step, ScaleStep::Confirm);
    assert!(d.failure.as_deref().unwrap().contains("connection refused"));
    let retry = scale_requests(&press(&mut state, KeyInput::char('y')));
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].3, key1, "a retry reuses the key");
    assert_ne!(retry[0].0, id, "but is a new request");

    update(
        &mut state,
        Action::HttpReply {
            request_id: retry[0].0,
            result: Ok(Reply::Action(Box::new(action_status("act-1", 7, 7)))),
        },
    );
    assert!(state.dialog.is_none());
    assert!(state.core.actions.contains_key("act-1"));

    press(&mut state, scale_key());
    type_text(&mut state, "+");
    press(&mut state, enter());
    let again = scale_requests(&press(&mut state, KeyInput::char('y')));
    assert_ne!(again[0].3, key1, "a new dialog gets a fresh key");
}

fn action_status(id: &str, ready: u32, desired: u32) -> ActionStatus {
    ActionStatus {
        id: id.into(),
        kind: ActionKind::Scale,
        app: "shop-cart".into(),
        state: ActionState::InProgress,
        description: "scale 6 -> 7".into(),
        progress: Some(opsdeck::protocol::Progress { ready, desired }),
        message: String::new(),
        created_at: t0(),
        updated_at: t0(),
    }
}

#[test]
fn stale_http_replies_are_ignored() {
    let mut state = State::new(config(false));
    let first = update(&mut state, Action::StreamConnected(hello()));
    // A second connect asks for the apps again; the first request is now stale.
    let second = update(&mut state, Action::StreamConnected(hello()));
    let fetch_id = |fx: &[Effect]| {
        fx.iter()
            .find_map(|e| match e {
                Effect::Http(r) if r.kind == RequestKind::FetchApps => Some(r.id),
                _ => None,
            })
            .unwrap()
    };
    let (old, new) = (fetch_id(&first), fetch_id(&second));
    assert_ne!(old, new);
    let reply = |id| Action::HttpReply {
        request_id: id,
        result: Ok(Reply::Apps(apps())),
    };
    update(&mut state, reply(old));
    assert!(!state.core.apps_loaded, "stale reply applied");
    update(&mut state, reply(9_999));
    assert!(state.core.apps.is_empty(), "unknown reply applied");
    update(&mut state, reply(new));
    assert!(state.core.apps_loaded);
    assert_eq!(state.core.apps.len(), 8);
    // The same reply twice is applied once: the second is stale.
    state.core.apps.clear();
    update(&mut state, reply(new));
    assert!(state.core.apps.is_empty());
}

#[test]
fn metric_events_update_apps_and_duplicates_are_skipped() {
    let mut state = loaded_state(false);
    let before_len = state.core.apps["shop-cart"].rps_history.len();
    let seq = state.core.last_seq[&Topic::Metrics];
    let frame = |seq, rps| {
        Action::StreamFrame(ServerMsg::Events {
            events: vec![metrics_event(
                seq,
                "shop-cart",
                sample(rps, 900.0, 0.02, 0.5, 7, 12),
            )],
        })
    };
    update(&mut state, frame(seq + 1, 4321.0));
    let shop = &state.core.apps["shop-cart"];
    let m = shop.latest.as_ref().unwrap();
    assert_eq!(m.rps, 4321.0);
    assert_eq!(
        (shop.summary.replicas.ready, shop.summary.replicas.desired),
        (7, 12)
    );
    assert_eq!(shop.rps_history.len(), before_len + 1);
    assert_eq!(state.core.last_seq[&Topic::Metrics], seq + 1);
    // Replayed after a reconnect: ignored.
    update(&mut state, frame(seq + 1, 1.0));
    assert_eq!(
        state.core.apps["shop-cart"].latest.as_ref().unwrap().rps,
        4321.0
    );
    assert_eq!(state.core.duplicates, 1);
}

#[test]
fn alerts_count_per_app_and_sorting_follows_them() {
    let mut state = loaded_state(false);
    let alert = Alert {
        id: "al-1".into(),
        rule: "HighErrorRatio".into(),
        severity: Severity::P1,
        state: AlertState::Firing,
        summary: "errors".into(),
        app: "notify".into(),
        labels: Default::default(),
        runbook: None,
        started_at: t0(),
        resolved_at: None,
        silenced_until: None,
        acknowledged_by: None,
        comment: None,
        stale_since: None,
    };
    let ev = Event {
        seq: 1,
        ts: t0(),
        app: "notify".into(),
        body: Body::Alerts(alert),
    };
    update(
        &mut state,
        Action::StreamFrame(ServerMsg::Events { events: vec![ev] }),
    );
    assert_eq!(state.core.apps["notify"].firing_alerts, 1);
    for _ in 0..6 {
        press(&mut state, KeyInput::char('s'));
    }
    assert_eq!(state.overview.sort.label(), "alerts");
    assert_eq!(state.overview.order[0], "notify");
}

#[test]
fn a_gap_is_marked_and_snapshots_are_refetched() {
    let mut state = loaded_state(false);
    let fx = update(
        &mut state,
        Action::StreamFrame(ServerMsg::Gap {
            topic: Topic::Metrics,
            from: 200,
            to: 340,
            reset: false,
        }),
    );
    assert_eq!(state.core.gaps.len(), 1);
    assert_eq!((state.core.gaps[0].from, state.core.gaps[0].to), (200, 340));
    assert_eq!(state.core.last_seq[&Topic::Metrics], 340);
    let kinds: Vec<_> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Http(r) => Some(r.kind.clone()),
            _ => None,
        })
        .collect();
    assert!(kinds.contains(&RequestKind::FetchApps));
    assert!(kinds.contains(&RequestKind::FetchAlerts));
    assert!(
        state
            .core
            .notifications
            .back()
            .unwrap()
            .text
            .contains("lost")
    );
}

#[test]
fn connection_status_goes_live_reconnecting_stale_and_back() {
    let mut state = State::new(config(false));
    assert_eq!(state.core.connection, Connection::Connecting);
    update(&mut state, Action::StreamConnected(hello()));
    assert_eq!(state.core.connection, Connection::Live);

    let down = |at, retry| Action::StreamDown {
        reason: "connection reset".into(),
        retry_in_ms: retry,
        at,
    };
    update(&mut state, down(at(1), 250));
    assert!(matches!(
        state.core.connection,
        Connection::Reconnecting { attempt: 1, next_try_at } if next_try_at == at(1) + chrono::Duration::milliseconds(250)
    ));
    update(&mut state, down(at(2), 500));
    assert!(matches!(
        state.core.connection,
        Connection::Reconnecting { attempt: 2, .. }
    ));
    update(&mut state, Action::Tick(at(5)));
    assert!(matches!(
        state.core.connection,
        Connection::Reconnecting { .. }
    ));
    update(&mut state, Action::Tick(at(11)));
    assert!(matches!(
        state.core.connection,
        Connection::Stale { since, attempt: 2, .. } if since == at(1)
    ));
    update(&mut state, down(at(12), 1000));
    assert!(matches!(
        state.core.connection,
        Connection::Stale { attempt: 3, .. }
    ));

    // Reconnecting resumes after the last sequence numbers applied.
    state.core.last_seq.insert(Topic::Metrics, 77);
    let fx = update(&mut state, Action::StreamConnected(hello()));
    assert_eq!(state.core.connection, Connection::Live);
    assert!(state.core.down_since.is_none());
    let resume = fx
        .iter()
        .find_map(|e| match e {
            Effect::Subscribe { resume, .. } => Some(resume.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(resume.get(&Topic::Metrics), Some(&77));
}

#[test]
fn filter_narrows_the_list_and_esc_clears_it() {
    let mut state = loaded_state(false);
    press(&mut state, KeyInput::char('/'));
    type_text(&mut state, "购物");
    assert_eq!(state.overview.order, vec!["shop-cart".to_string()]);
    assert_eq!(state.overview.selected.as_deref(), Some("shop-cart"));
    // `q` while typing is text, not quit.
    let fx = type_text(&mut state, "q");
    assert!(fx.is_empty());
    assert!(state.overview.order.is_empty());
    press(&mut state, backspace());
    press(&mut state, enter());
    assert!(!state.overview.filter.editing);
    assert_eq!(state.overview.order.len(), 1);
    press(&mut state, esc());
    assert_eq!(state.overview.order.len(), 8);
}

#[test]
fn navigation_and_quit() {
    let mut state = loaded_state(false);
    press(&mut state, KeyInput::char('G'));
    assert_eq!(state.overview.selected_index(), Some(7));
    press(&mut state, KeyInput::plain(KeyCode::Down));
    assert_eq!(state.overview.selected_index(), Some(7));
    press(&mut state, KeyInput::plain(KeyCode::Up));
    assert_eq!(state.overview.selected_index(), Some(6));
    press(&mut state, KeyInput::char('g'));
    assert_eq!(state.overview.selected_index(), Some(0));
    press(&mut state, KeyInput::char('?'));
    assert!(state.help_open);
    press(&mut state, esc());
    assert!(!state.help_open);
    assert_eq!(press(&mut state, KeyInput::char('q')), vec![Effect::Quit]);
    let mut state = loaded_state(false);
    press(&mut state, enter());
    assert_eq!(press(&mut state, KeyInput::ctrl('c')), vec![Effect::Quit]);
}

#[test]
fn action_progress_is_tracked_until_final() {
    let mut state = loaded_state(false);
    let ev = |seq, st: ActionState| Event {
        seq,
        ts: t0(),
        app: "shop-cart".into(),
        body: Body::Actions(ActionStatus {
            state: st,
            ..action_status("act-9", 7, 12)
        }),
    };
    update(
        &mut state,
        Action::StreamFrame(ServerMsg::Events {
            events: vec![ev(1, ActionState::InProgress)],
        }),
    );
    assert!(state.core.actions.contains_key("act-9"));
    update(
        &mut state,
        Action::StreamFrame(ServerMsg::Events {
            events: vec![ev(2, ActionState::Succeeded)],
        }),
    );
    assert!(state.core.actions.is_empty());
    assert!(
        state
            .core
            .notifications
            .back()
            .unwrap()
            .text
            .contains("done")
    );
}

#[test]
fn events_per_second_counts_whole_seconds() {
    let mut state = loaded_state(false);
    update(&mut state, Action::Tick(at(1)));
    update(
        &mut state,
        Action::StreamFrame(ServerMsg::Events {
            events: (0..5)
                .map(|i| metrics_event(1000 + i, "feed", sample(1.0, 1.0, 0.0, 0.1, 5, 5)))
                .collect(),
        }),
    );
    update(&mut state, Action::Tick(at(2)));
    assert_eq!(state.core.rate.per_sec, 5);
    update(&mut state, Action::Tick(at(3)));
    assert_eq!(state.core.rate.per_sec, 0);
}

#[test]
fn a_refused_scale_goes_back_to_editing_with_the_reason() {
    let mut state = loaded_state(false);
    select(&mut state, "shop-cart");
    press(&mut state, scale_key());
    type_text(&mut state, "+");
    press(&mut state, enter());
    let sent = scale_requests(&press(&mut state, KeyInput::char('y')));
    update(
        &mut state,
        Action::HttpReply {
            request_id: sent[0].0,
            result: Err(HttpError {
                status: Some(422),
                code: "out_of_range".into(),
                message: "replicas must be 2..=6".into(),
            }),
        },
    );
    let d = scale_dialog(&state);
    assert_eq!(d.step, ScaleStep::Edit);
    assert!(d.failure.as_deref().unwrap().contains("2..=6"));
    // Editing clears the reason; a different count is a different change with a new key.
    press(&mut state, backspace());
    assert!(scale_dialog(&state).failure.is_none());
    type_text(&mut state, "5");
    press(&mut state, enter());
    let again = scale_requests(&press(&mut state, KeyInput::char('y')));
    assert_eq!(again[0].2, 5);
    assert_ne!(again[0].3, sent[0].3);
}

#[test]
fn help_opens_from_inside_the_scale_dialog() {
    let mut state = loaded_state(false);
    press(&mut state, scale_key());
    press(&mut state, KeyInput::char('?'));
    assert!(state.help_open);
    let d = scale_dialog(&state);
    assert_eq!(d.input, d.from.to_string(), "`?` was typed into the count");
    press(&mut state, esc());
    assert!(!state.help_open);
    assert!(state.dialog.is_some());
}

/// A loaded console on a production context (`--production`).
fn production_state() -> State {
    let mut state = loaded_state(false);
    state.core.production = true;
    state
}

fn backspaces(state: &mut State, n: usize) -> Vec<Effect> {
    (0..n).flat_map(|_| press(state, backspace())).collect()
}

#[test]
fn on_production_scale_sends_nothing_until_the_exact_name_is_typed_and_y_pressed() {
    let mut state = production_state();
    select(&mut state, "shop-cart");
    let mut effects = press(&mut state, scale_key());
    effects.extend(press(&mut state, backspace()));
    effects.extend(type_text(&mut state, "12"));
    // Enter reviews the count: on production the next step is typing the name, not y/N.
    effects.extend(press(&mut state, enter()));
    assert_eq!(scale_dialog(&state).step, ScaleStep::TypeName);
    // `y` here is a letter of the name, never a confirmation.
    effects.extend(press(&mut state, KeyInput::char('y')));
    assert_eq!(scale_dialog(&state).typed, "y");
    assert_eq!(scale_dialog(&state).step, ScaleStep::TypeName);
    effects.extend(backspaces(&mut state, 1));
    // Wrong names cannot go on: a prefix, another case, a longer name.
    for wrong in ["shop-car", "Shop-cart", "shop-cart2"] {
        effects.extend(type_text(&mut state, wrong));
        effects.extend(press(&mut state, enter()));
        assert_eq!(scale_dialog(&state).step, ScaleStep::TypeName, "{wrong}");
        assert!(!scale_dialog(&state).name_matches(), "{wrong}");
        effects.extend(backspaces(&mut state, wrong.len()));
        assert_eq!(scale_dialog(&state).typed, "");
    }
    effects.extend(type_text(&mut state, "shop-cart"));
    assert!(scale_dialog(&state).name_matches());
    assert!(scale_requests(&effects).is_empty(), "{effects:?}");
    // The exact name leads on to the question; only `y` there sends.
    let effects = press(&mut state, enter());
    assert_eq!(scale_dialog(&state).step, ScaleStep::Confirm);
    assert!(scale_requests(&effects).is_empty(), "{effects:?}");
    let sent = scale_requests(&press(&mut state, KeyInput::char('y')));
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].1.as_str(), sent[0].2), ("shop-cart", 12));
}

#[test]
fn on_production_esc_goes_back_and_the_name_is_typed_again_for_each_review() {
    let mut state = production_state();
    select(&mut state, "shop-cart");
    let mut effects = press(&mut state, scale_key());
    effects.extend(type_text(&mut state, "+"));
    effects.extend(press(&mut state, enter()));
    effects.extend(type_text(&mut state, "shop-cart"));
    // Esc from the name goes back to the count, keeping the dialog.
    effects.extend(press(&mut state, esc()));
    assert_eq!(scale_dialog(&state).step, ScaleStep::Edit);
    effects.extend(type_text(&mut state, "+"));
    effects.extend(press(&mut state, enter()));
    assert_eq!(scale_dialog(&state).step, ScaleStep::TypeName);
    assert_eq!(
        scale_dialog(&state).typed,
        "",
        "a new review needs the name again"
    );
    effects.extend(press(&mut state, enter()));
    assert_eq!(scale_dialog(&state).step, ScaleStep::TypeName);
    // `n` at the question goes back to the count too; nothing was ever sent.
    effects.extend(type_text(&mut state, "shop-cart"));
    effects.extend(press(&mut state, enter()));
    effects.extend(press(&mut state, KeyInput::char('n')));
    assert_eq!(scale_dialog(&state).step, ScaleStep::Edit);
    assert!(scale_requests(&effects).is_empty(), "{effects:?}");
}

#[test]
fn on_production_the_scale_command_also_asks_for_the_name() {
    let mut state = production_state();
    let mut effects = press(&mut state, KeyInput::char(':'));
    effects.extend(type_text(&mut state, "scale shop-cart 12"));
    effects.extend(press(&mut state, enter()));
    effects.extend(press(&mut state, enter()));
    assert_eq!(scale_dialog(&state).step, ScaleStep::TypeName);
    effects.extend(press(&mut state, KeyInput::char('y')));
    assert!(scale_requests(&effects).is_empty(), "{effects:?}");
}
