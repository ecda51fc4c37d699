//! Pure `update()` tests of the Alerts view: order, live transitions, acknowledge and silence
//! flows (nothing sent before `y`), read-only, stale replies, jumping to the app, runbooks.
#![allow(clippy::unwrap_used)]

mod common;

use alert_fixtures::*;
use common::keys::{press, type_text};
use common::{alert_fixtures, fixtures};
use fixtures::*;
use opsdeck::app::{
    Action, AlertQuestion, AlertStep, Dialog, Effect, HttpError, KeyCode, KeyInput, Reply,
    RequestKind, SilenceDialog, State, View, update,
};
use opsdeck::protocol::{AlertState, Severity};

fn key(code: KeyCode) -> KeyInput {
    KeyInput::plain(code)
}

/// Requests that change an alert, as (request id, kind).
fn alert_requests(effects: &[Effect]) -> Vec<(u64, RequestKind)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Http(r) => match &r.kind {
                RequestKind::AckAlert { .. }
                | RequestKind::SilenceAlert { .. }
                | RequestKind::ExpireSilence { .. } => Some((r.id, r.kind.clone())),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn select_alert(state: &mut State, id: &str) {
    press(state, key(KeyCode::Home));
    while state.alerts_view.selected.as_deref() != Some(id) {
        let before = state.alerts_view.selected.clone();
        press(state, KeyInput::char('j'));
        assert_ne!(before, state.alerts_view.selected, "{id} not listed");
    }
}

fn silence_dialog(state: &State) -> &SilenceDialog {
    match &state.dialog {
        Some(Dialog::Silence(d)) => d,
        other => panic!("no silence dialog: {other:?}"),
    }
}

fn last_notice(state: &State) -> String {
    state.core.notifications.back().unwrap().text.clone()
}

#[test]
fn a_opens_the_view_and_fetches_the_alerts() {
    let mut state = loaded_state(false);
    let fx = press(&mut state, KeyInput::char('a'));
    assert_eq!(state.view, View::Alerts);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Http(r) if r.kind == RequestKind::FetchAlerts))
    );
    assert!(state.core.alerts_loading());
    answer_alerts(&mut state, alerts());
    assert!(!state.core.alerts_loading());
    assert_eq!(state.alerts_view.selected.as_deref(), Some("al-8"));
    press(&mut state, key(KeyCode::Esc));
    assert_eq!(state.view, View::Overview);
}

#[test]
fn firing_first_by_severity_then_newest_then_acked_silenced_and_resolved_last() {
    let state = alerts_state(false);
    assert_eq!(
        state.alerts_view.order,
        [
            "al-8", "al-2", "al-1", "al-3", "al-4", "al-5", "al-6", "al-7"
        ]
    );
    // Header counts: firing only, by severity.
    assert_eq!(state.core.firing_by_severity(), [2, 1, 1, 0]);
    assert_eq!(state.core.apps["coupon"].firing_alerts, 2);
}

#[test]
fn live_transitions_move_alerts_and_keep_the_selection() {
    let mut state = alerts_state(false);
    select_alert(&mut state, "al-3");
    let mut al3 = alerts().into_iter().find(|a| a.id == "al-3").unwrap();
    al3.state = AlertState::Acknowledged;
    al3.acknowledged_by = Some("bob".into());
    update(&mut state, alert_event(1, al3));
    assert_eq!(state.alerts_view.order[3], "al-4");
    assert_eq!(state.alerts_view.order[4], "al-3", "acked after firing");
    assert_eq!(state.alerts_view.selected.as_deref(), Some("al-3"));

    let mut al8 = alerts().into_iter().find(|a| a.id == "al-8").unwrap();
    al8.state = AlertState::Resolved;
    al8.resolved_at = Some(at(0));
    update(&mut state, alert_event(2, al8));
    assert_eq!(state.alerts_view.order[0], "al-2");
    assert_eq!(state.alerts_view.order[5], "al-8", "newest resolved first");
    assert_eq!(state.core.firing_by_severity(), [1, 1, 0, 0]);

    let fresh = alert(
        "al-9",
        Severity::P0,
        AlertState::Firing,
        "search",
        "搜索服务 5xx",
        0,
    );
    update(&mut state, alert_event(3, fresh));
    assert_eq!(state.alerts_view.order[0], "al-9");
    assert_eq!(state.core.firing_by_severity(), [2, 1, 0, 0]);
    // A replayed event is not applied twice.
    let replayed = alert("al-9", Severity::P0, AlertState::Resolved, "search", "x", 0);
    update(&mut state, alert_event(3, replayed));
    assert_eq!(state.core.alerts["al-9"].state, AlertState::Firing);
}

#[test]
fn resolved_alerts_are_bounded() {
    let mut state = alerts_state(false);
    for i in 0..80u64 {
        let mut a = alert(
            &format!("old-{i:02}"),
            Severity::P3,
            AlertState::Resolved,
            "feed",
            "old",
            7200,
        );
        a.resolved_at = Some(at(-3600 + i as i64));
        update(&mut state, alert_event(10 + i, a));
    }
    let resolved = state
        .core
        .alerts
        .values()
        .filter(|a| a.state == AlertState::Resolved)
        .count();
    assert_eq!(resolved, opsdeck::app::MAX_RESOLVED);
    assert!(state.core.alerts.contains_key("al-6"), "recent ones kept");
    assert!(!state.core.alerts.contains_key("old-00"), "oldest dropped");
    assert_eq!(state.core.firing_by_severity(), [2, 1, 1, 0]);
}

#[test]
fn acknowledge_sends_one_request_only_after_y() {
    let mut state = alerts_state(false);
    state.core.actor = "carol".into();
    select_alert(&mut state, "al-1");
    let mut fx = press(&mut state, KeyInput::char('A'));
    assert!(matches!(&state.dialog, Some(Dialog::Ack(d)) if d.alert.id == "al-1"));
    // Keys other than y do nothing, and send nothing.
    fx.extend(type_text(&mut state, "Ax"));
    fx.extend(press(&mut state, key(KeyCode::Enter)));
    assert!(alert_requests(&fx).is_empty(), "{fx:?}");

    let Some(Dialog::Ack(d)) = &state.dialog else {
        panic!("no ack dialog");
    };
    let key = d.idempotency_key.clone();
    assert_eq!(key.len(), 36, "uuid-shaped key: {key}");
    let sent = alert_requests(&press(&mut state, KeyInput::char('y')));
    assert_eq!(
        sent.iter().map(|s| s.1.clone()).collect::<Vec<_>>(),
        vec![RequestKind::AckAlert {
            alert: "al-1".into(),
            actor: "carol".into(),
            idempotency_key: key,
        }]
    );
    assert!(alert_requests(&press(&mut state, KeyInput::char('y'))).is_empty());

    let mut acked = alerts().into_iter().find(|a| a.id == "al-1").unwrap();
    acked.state = AlertState::Acknowledged;
    acked.acknowledged_by = Some("carol".into());
    update(
        &mut state,
        Action::HttpReply {
            request_id: sent[0].0,
            result: Ok(Reply::Alert(Box::new(acked))),
        },
    );
    assert!(state.dialog.is_none());
    assert_eq!(state.core.alerts["al-1"].state, AlertState::Acknowledged);
    assert_eq!(state.core.apps["shop-cart"].firing_alerts, 0);
    assert!(last_notice(&state).contains("al-1 acknowledged"));
}

#[test]
fn n_or_esc_at_the_question_sends_nothing() {
    for cancel in [KeyInput::char('n'), key(KeyCode::Esc), KeyInput::char('N')] {
        let mut state = alerts_state(false);
        let mut fx = press(&mut state, KeyInput::char('A'));
        fx.extend(press(&mut state, cancel));
        assert!(state.dialog.is_none());
        fx.extend(press(&mut state, KeyInput::char('y')));
        assert!(alert_requests(&fx).is_empty(), "{fx:?}");
    }
}

#[test]
fn refusals_become_clear_notifications() {
    for (status, code, expect) in [
        (409, "conflict", "al-8 is already resolved"),
        (404, "not_found", "al-8 no longer exists"),
    ] {
        let mut state = alerts_state(false);
        press(&mut state, KeyInput::char('A'));
        let sent = alert_requests(&press(&mut state, KeyInput::char('y')));
        update(
            &mut state,
            Action::HttpReply {
                request_id: sent[0].0,
                result: Err(HttpError {
                    status: Some(status),
                    code: code.into(),
                    message: "alert al-8 is resolved".into(),
                }),
            },
        );
        assert!(state.dialog.is_none());
        let text = last_notice(&state);
        assert!(text.starts_with("cannot acknowledge"), "{text}");
        assert!(text.contains(expect), "{text}");
    }
    // A transient failure goes back to the question, where `y` tries again.
    let mut state = alerts_state(false);
    press(&mut state, KeyInput::char('A'));
    let sent = alert_requests(&press(&mut state, KeyInput::char('y')));
    update(
        &mut state,
        Action::HttpReply {
            request_id: sent[0].0,
            result: Err(HttpError::transport("timed out")),
        },
    );
    assert!(matches!(&state.dialog, Some(Dialog::Ack(d))
        if d.step == AlertStep::Confirm && d.failure.is_some()));
    assert_eq!(
        alert_requests(&press(&mut state, KeyInput::char('y'))).len(),
        1
    );
}

#[test]
fn resolved_or_acknowledged_alerts_are_not_offered_again() {
    let mut state = alerts_state(false);
    select_alert(&mut state, "al-6");
    let mut fx = press(&mut state, KeyInput::char('A'));
    fx.extend(press(&mut state, KeyInput::char('s')));
    assert!(state.dialog.is_none());
    assert!(last_notice(&state).contains("already resolved"));
    select_alert(&mut state, "al-4");
    fx.extend(press(&mut state, KeyInput::char('A')));
    assert!(state.dialog.is_none());
    assert!(last_notice(&state).contains("already acknowledged by alice"));
    assert!(fx.is_empty());
}

#[test]
fn silence_validates_the_duration_and_sends_duration_and_comment() {
    let mut state = alerts_state(false);
    select_alert(&mut state, "al-1");
    let mut fx = press(&mut state, KeyInput::char('s'));
    assert_eq!(silence_dialog(&state).duration, "1h");
    // A bad duration cannot be reviewed or confirmed.
    for _ in 0..2 {
        fx.extend(press(&mut state, key(KeyCode::Backspace)));
    }
    fx.extend(type_text(&mut state, "90"));
    assert!(silence_dialog(&state).duration_secs().is_err());
    fx.extend(press(&mut state, key(KeyCode::Enter)));
    assert_eq!(silence_dialog(&state).step, AlertStep::Edit);
    fx.extend(press(&mut state, KeyInput::char('y')));
    assert_eq!(
        silence_dialog(&state).duration,
        "90y",
        "y is typed, not confirmed"
    );
    assert!(alert_requests(&fx).is_empty());
    press(&mut state, key(KeyCode::Backspace));
    type_text(&mut state, "m");
    assert_eq!(silence_dialog(&state).duration_secs(), Ok(5400));

    // Tab to the comment; `s`, `q` and `A` are text there.
    press(&mut state, key(KeyCode::Tab));
    fx.extend(type_text(&mut state, "发布回滚中 qsA"));
    assert_eq!(silence_dialog(&state).comment, "发布回滚中 qsA");
    fx.extend(press(&mut state, key(KeyCode::Enter)));
    assert_eq!(silence_dialog(&state).step, AlertStep::Confirm);
    assert!(alert_requests(&fx).is_empty());
    // n goes back to editing with the text kept.
    press(&mut state, KeyInput::char('n'));
    assert_eq!(silence_dialog(&state).step, AlertStep::Edit);
    press(&mut state, key(KeyCode::Enter));

    let idempotency_key = silence_dialog(&state).idempotency_key.clone();
    let sent = alert_requests(&press(&mut state, KeyInput::char('y')));
    assert_eq!(
        sent.iter().map(|s| s.1.clone()).collect::<Vec<_>>(),
        vec![RequestKind::SilenceAlert {
            alert: "al-1".into(),
            duration: "1h30m".into(),
            comment: "发布回滚中 qsA".into(),
            actor: "operator".into(),
            idempotency_key,
        }]
    );
    let mut silenced = alerts().into_iter().find(|a| a.id == "al-1").unwrap();
    silenced.state = AlertState::Silenced;
    update(
        &mut state,
        Action::HttpReply {
            request_id: sent[0].0,
            result: Ok(Reply::Alert(Box::new(silenced))),
        },
    );
    assert!(state.dialog.is_none());
    assert_eq!(state.core.alerts["al-1"].state, AlertState::Silenced);
    assert!(last_notice(&state).contains("silenced for 1h30m"));
}

#[test]
fn silence_presets_cycle_with_up_and_down() {
    let mut state = alerts_state(false);
    press(&mut state, KeyInput::char('S'));
    press(&mut state, key(KeyCode::Up));
    assert_eq!(silence_dialog(&state).duration, "4h");
    press(&mut state, key(KeyCode::Up));
    assert_eq!(silence_dialog(&state).duration, "15m");
    press(&mut state, key(KeyCode::Down));
    press(&mut state, key(KeyCode::Down));
    assert_eq!(silence_dialog(&state).duration, "1h");
    press(&mut state, key(KeyCode::Esc));
    assert!(state.dialog.is_none());
}

#[test]
fn readonly_offers_neither_acknowledge_nor_silence() {
    let mut state = alerts_state(true);
    let mut fx = Vec::new();
    for k in ['A', 's', 'S', 'y'] {
        fx.extend(press(&mut state, KeyInput::char(k)));
        assert!(state.dialog.is_none(), "{k} opened a dialog");
    }
    assert!(alert_requests(&fx).is_empty());
    assert!(last_notice(&state).contains("READ-ONLY"));
}

#[test]
fn stale_replies_are_ignored() {
    let mut state = alerts_state(false);
    // Two loads: only the newest reply counts.
    press(&mut state, key(KeyCode::Esc));
    press(&mut state, KeyInput::char('a'));
    let old = pending_id(&state, &RequestKind::FetchAlerts);
    press(&mut state, key(KeyCode::Esc));
    press(&mut state, KeyInput::char('a'));
    let new = pending_id(&state, &RequestKind::FetchAlerts);
    assert_ne!(old, new);
    let reply = |id, list| Action::HttpReply {
        request_id: id,
        result: Ok(Reply::Alerts(list)),
    };
    update(&mut state, reply(old, Vec::new()));
    assert_eq!(state.core.alerts.len(), 8, "stale list applied");
    // An acknowledgement that arrives after the stream said "resolved" does not undo it.
    press(&mut state, KeyInput::char('A'));
    let sent = alert_requests(&press(&mut state, KeyInput::char('y')));
    let mut resolved = alerts().into_iter().find(|a| a.id == "al-8").unwrap();
    resolved.state = AlertState::Resolved;
    resolved.resolved_at = Some(at(1));
    update(&mut state, alert_event(1, resolved));
    let mut acked = alerts().into_iter().find(|a| a.id == "al-8").unwrap();
    acked.state = AlertState::Acknowledged;
    let ack_reply = Action::HttpReply {
        request_id: sent[0].0,
        result: Ok(Reply::Alert(Box::new(acked.clone()))),
    };
    update(&mut state, ack_reply.clone());
    assert_eq!(state.core.alerts["al-8"].state, AlertState::Resolved);
    // The same reply again, or one nobody asked for, changes nothing.
    state.core.alerts.get_mut("al-8").unwrap().state = AlertState::Firing;
    update(&mut state, ack_reply);
    update(
        &mut state,
        Action::HttpReply {
            request_id: 9_999,
            result: Ok(Reply::Alert(Box::new(acked))),
        },
    );
    assert_eq!(state.core.alerts["al-8"].state, AlertState::Firing);
}

#[test]
fn enter_or_g_opens_the_alerts_app_and_esc_comes_back() {
    for jump in [key(KeyCode::Enter), KeyInput::char('g')] {
        let mut state = alerts_state(false);
        // A filter that hides the app is cleared.
        press(&mut state, key(KeyCode::Esc));
        type_text(&mut state, "/feed");
        press(&mut state, key(KeyCode::Enter));
        press(&mut state, KeyInput::char('a'));
        select_alert(&mut state, "al-1");
        let fx = press(&mut state, jump);
        assert_eq!(state.view, View::App);
        assert_eq!(state.app_view.app, "shop-cart");
        assert_eq!(state.overview.selected.as_deref(), Some("shop-cart"));
        assert!(
            state.overview.filter.text.is_empty(),
            "the filter hid shop-cart"
        );
        assert!(fx.iter().any(|e| matches!(
            e,
            Effect::Http(r) if r.kind == RequestKind::FetchApp { app: "shop-cart".into() }
        )));
        // Esc comes back to the alert list, where the jump was made.
        press(&mut state, key(KeyCode::Esc));
        assert_eq!(state.view, View::Alerts);
        assert_eq!(state.alerts_view.selected.as_deref(), Some("al-1"));
    }
}

#[test]
fn b_opens_the_runbook_form_for_the_alerts_app() {
    let mut state = alerts_state(false);
    select_alert(&mut state, "al-1");
    let fx = press(&mut state, KeyInput::char('b'));
    assert_eq!(state.view, View::Runbook);
    assert!(fx.iter().any(|e| matches!(e, Effect::Http(r)
        if r.kind == RequestKind::FetchRunbook { runbook: "bad-release".into() })));
    let form = state.runbooks.form.as_ref().unwrap();
    assert_eq!(form.prefill_app.as_deref(), Some("shop-cart"));
    let note = state.alerts_view.note.clone().unwrap();
    assert_eq!(
        (note.runbook.as_str(), note.app.as_str()),
        ("bad-release", "shop-cart")
    );
    press(&mut state, key(KeyCode::Esc));
    assert_eq!(state.view, View::Alerts);
    select_alert(&mut state, "al-3");
    press(&mut state, KeyInput::char('b'));
    assert_eq!(state.view, View::Alerts);
    assert_eq!(last_notice(&state), "alert al-3 has no runbook");
}

/// The idempotency key of each alert change among `fx`, with its request id.
fn alert_keys(fx: &[Effect]) -> Vec<(u64, String)> {
    alert_requests(fx)
        .into_iter()
        .filter_map(|(id, k)| match k {
            RequestKind::AckAlert {
                idempotency_key, ..
            }
            | RequestKind::SilenceAlert {
                idempotency_key, ..
            } => Some((id, idempotency_key)),
            _ => None,
        })
        .collect()
}

fn fail_transiently(state: &mut State, request_id: u64) {
    update(
        state,
        Action::HttpReply {
            request_id,
            result: Err(HttpError::transport("timed out")),
        },
    );
}

#[test]
fn an_acknowledgement_retry_keeps_its_key_and_a_new_one_gets_a_new_key() {
    let mut state = alerts_state(false);
    select_alert(&mut state, "al-1");
    press(&mut state, KeyInput::char('A'));
    let first = alert_keys(&press(&mut state, KeyInput::char('y')));
    assert_eq!(first.len(), 1);
    fail_transiently(&mut state, first[0].0);
    let retry = alert_keys(&press(&mut state, KeyInput::char('y')));
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].1, first[0].1, "a retry is the same decision");
    // Closed and asked again: a new decision.
    press(&mut state, key(KeyCode::Esc));
    press(&mut state, KeyInput::char('A'));
    let again = alert_keys(&press(&mut state, KeyInput::char('y')));
    assert_eq!(again.len(), 1);
    assert_ne!(again[0].1, first[0].1);
}

#[test]
fn a_silence_retry_keeps_its_key_unless_the_silence_changed() {
    let mut state = alerts_state(false);
    select_alert(&mut state, "al-1");
    press(&mut state, KeyInput::char('s'));
    press(&mut state, key(KeyCode::Enter));
    let first = alert_keys(&press(&mut state, KeyInput::char('y')));
    assert_eq!(first.len(), 1);
    fail_transiently(&mut state, first[0].0);
    // Back to editing and forward again, unchanged: still the same silence, same key.
    press(&mut state, KeyInput::char('n'));
    press(&mut state, key(KeyCode::Enter));
    let same = alert_keys(&press(&mut state, KeyInput::char('y')));
    assert_eq!(same[0].1, first[0].1);
    fail_transiently(&mut state, same[0].0);
    // A different comment is a different silence: the old key would be refused with 422.
    press(&mut state, KeyInput::char('n'));
    press(&mut state, key(KeyCode::Tab));
    type_text(&mut state, "deploy frozen");
    press(&mut state, key(KeyCode::Enter));
    let changed = alert_keys(&press(&mut state, KeyInput::char('y')));
    assert_eq!(changed.len(), 1);
    assert_ne!(changed[0].1, first[0].1);
    assert_eq!(silence_dialog(&state).idempotency_key, changed[0].1);
}

/// On a silenced alert the silence key asks to end the silence; `y` sends the expiry once.
#[test]
fn s_on_a_silenced_alert_expires_its_silence_after_y() {
    let mut state = alerts_state(false);
    let mut silenced = alerts().into_iter().find(|a| a.id == "al-1").unwrap();
    silenced.state = AlertState::Silenced;
    update(&mut state, alert_event(9_000_001, silenced.clone()));
    select_alert(&mut state, "al-1");
    assert!(alert_requests(&press(&mut state, KeyInput::char('s'))).is_empty());
    let Some(Dialog::Ack(d)) = &state.dialog else {
        panic!("no question: {:?}", state.dialog);
    };
    assert_eq!(d.question, AlertQuestion::ExpireSilence);
    let key = d.idempotency_key.clone();
    let s = common::screen::screen(&state, 80, 24);
    assert!(s.contains("Expire the silence of al-1"), "{s}");
    let sent = alert_requests(&press(&mut state, KeyInput::char('y')));
    assert_eq!(
        sent.iter().map(|s| s.1.clone()).collect::<Vec<_>>(),
        vec![RequestKind::ExpireSilence {
            alert: "al-1".into(),
            actor: "operator".into(),
            idempotency_key: key,
        }]
    );
    silenced.state = AlertState::Firing;
    update(
        &mut state,
        Action::HttpReply {
            request_id: sent[0].0,
            result: Ok(Reply::Alert(Box::new(silenced))),
        },
    );
    assert!(state.dialog.is_none());
    assert_eq!(state.core.alerts["al-1"].state, AlertState::Firing);
    assert_eq!(last_notice(&state), "alert al-1 is no longer silenced");
}
