//! Pure `update()` tests of actions in flight: the progress line goes away even when the
//! stream misses the action's final event (a gap, a reconnect, a quiet action), settled from
//! `GET /v1/actions/{id}`; late or superseded answers are dropped.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{DateTime, Utc};
use common::fixtures;
use fixtures::*;
use opsdeck::app::{
    ACTION_CHECK_SECS, Action, Effect, HttpError, Reply, RequestKind, State, update,
};
use opsdeck::protocol::{
    ActionKind, ActionState, ActionStatus, Body, Event, Progress, ServerMsg, Topic,
};

fn status(state: ActionState, ready: u32, updated_at: DateTime<Utc>) -> ActionStatus {
    ActionStatus {
        id: "act-7".into(),
        kind: ActionKind::Scale,
        app: "shop-cart".into(),
        state,
        description: "scale 6 -> 12".into(),
        progress: Some(Progress { ready, desired: 12 }),
        message: String::new(),
        created_at: t0(),
        updated_at,
    }
}

/// The `actions` event `seq` carrying `status`.
fn action_event(seq: u64, status: ActionStatus) -> Action {
    Action::StreamFrame(ServerMsg::Events {
        events: vec![Event {
            seq,
            ts: status.updated_at,
            app: status.app.clone(),
            body: Body::Actions(status),
        }],
    })
}

/// A console showing "⟳ scaling shop-cart … ready 7/12", heard of at `at(0)`.
fn scaling() -> State {
    let mut state = loaded_state(false);
    update(&mut state, Action::Tick(at(0)));
    update(
        &mut state,
        action_event(1, status(ActionState::InProgress, 7, at(0))),
    );
    assert!(state.core.actions.contains_key("act-7"));
    state
}

/// Ids of the `GET /v1/actions/{id}` requests among `effects`.
fn action_checks(effects: &[Effect]) -> Vec<(u64, String)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Http(r) => match &r.kind {
                RequestKind::FetchAction { action } => Some((r.id, action.clone())),
                _ => None,
            },
            _ => None,
        })
        .collect()
}

fn gap() -> Action {
    Action::StreamFrame(ServerMsg::Gap {
        topic: Topic::Actions,
        from: 2,
        to: 9,
        reset: false,
    })
}

fn reply(request_id: u64, result: Result<Reply, HttpError>) -> Action {
    Action::HttpReply { request_id, result }
}

fn last_notice(state: &State) -> String {
    state.core.notifications.back().unwrap().text.clone()
}

#[test]
fn a_gap_then_the_reply_finishing_the_action_removes_the_line() {
    let mut state = scaling();
    let checks = action_checks(&update(&mut state, gap()));
    assert_eq!(checks.len(), 1, "{checks:?}");
    assert_eq!(checks[0].1, "act-7");
    // Still in flight until the answer says otherwise.
    assert!(state.core.actions.contains_key("act-7"));

    let done = status(ActionState::Succeeded, 12, at(3));
    update(
        &mut state,
        reply(checks[0].0, Ok(Reply::Action(Box::new(done)))),
    );
    assert!(state.core.actions.is_empty(), "{:?}", state.core.actions);
    assert!(
        last_notice(&state).contains("done"),
        "{}",
        last_notice(&state)
    );
}

#[test]
fn a_404_for_the_action_removes_the_line_with_a_notice() {
    let mut state = scaling();
    let checks = action_checks(&update(&mut state, gap()));
    let gone = HttpError {
        status: Some(404),
        code: "not_found".into(),
        message: "unknown action \"act-7\"".into(),
    };
    update(&mut state, reply(checks[0].0, Err(gone)));
    assert!(state.core.actions.is_empty());
    let notice = last_notice(&state);
    assert!(
        notice.contains("act-7") && notice.contains("no longer knows"),
        "{notice}"
    );
}

#[test]
fn a_transient_failure_keeps_the_line_and_the_clock_asks_again() {
    let mut state = scaling();
    let checks = action_checks(&update(&mut state, gap()));
    update(
        &mut state,
        reply(checks[0].0, Err(HttpError::transport("connection refused"))),
    );
    assert!(state.core.actions.contains_key("act-7"));
    let later = at(ACTION_CHECK_SECS + 1);
    assert_eq!(
        action_checks(&update(&mut state, Action::Tick(later))).len(),
        1
    );
}

#[test]
fn a_reconnect_asks_about_actions_in_flight() {
    let mut state = scaling();
    update(
        &mut state,
        Action::StreamDown {
            reason: "connection reset".into(),
            retry_in_ms: 250,
            at: at(1),
        },
    );
    let effects = update(&mut state, Action::StreamConnected(hello()));
    let checks = action_checks(&effects);
    assert_eq!(checks.len(), 1, "{effects:?}");
    let running = status(ActionState::InProgress, 9, at(2));
    update(
        &mut state,
        reply(checks[0].0, Ok(Reply::Action(Box::new(running)))),
    );
    // Still running: the line stays, with the newer progress.
    assert_eq!(
        state.core.actions["act-7"].progress,
        Some(Progress {
            ready: 9,
            desired: 12
        })
    );
}

#[test]
fn a_quiet_action_is_asked_about_on_the_clock_once_at_a_time() {
    let mut state = scaling();
    // Heard of at 0: not yet.
    let early = update(&mut state, Action::Tick(at(ACTION_CHECK_SECS - 1)));
    assert!(action_checks(&early).is_empty(), "{early:?}");
    let due = action_checks(&update(&mut state, Action::Tick(at(ACTION_CHECK_SECS))));
    assert_eq!(due.len(), 1);
    // While that question is out, later ticks do not ask again.
    let waiting = update(&mut state, Action::Tick(at(3 * ACTION_CHECK_SECS)));
    assert!(action_checks(&waiting).is_empty(), "{waiting:?}");
    let failed = status(ActionState::Failed, 7, at(4));
    update(
        &mut state,
        reply(due[0].0, Ok(Reply::Action(Box::new(failed)))),
    );
    assert!(state.core.actions.is_empty());
    assert!(last_notice(&state).contains("failed"));
    // Nothing in flight: the clock asks nothing.
    let idle = update(&mut state, Action::Tick(at(10 * ACTION_CHECK_SECS)));
    assert!(action_checks(&idle).is_empty());
}

#[test]
fn an_action_heard_from_the_stream_is_not_asked_about() {
    let mut state = scaling();
    for s in 1..=3 * ACTION_CHECK_SECS {
        update(&mut state, Action::Tick(at(s)));
        let seq = u64::try_from(s).unwrap() + 1;
        let fx = update(
            &mut state,
            action_event(seq, status(ActionState::InProgress, 7, at(s))),
        );
        assert!(action_checks(&fx).is_empty());
        let fx = update(&mut state, Action::Tick(at(s)));
        assert!(action_checks(&fx).is_empty(), "asked at {s}");
    }
}

#[test]
fn a_late_reply_after_the_stream_settled_the_action_is_dropped() {
    let mut state = scaling();
    let checks = action_checks(&update(&mut state, gap()));
    // The final event arrives on the stream before the answer.
    update(
        &mut state,
        action_event(10, status(ActionState::Succeeded, 12, at(3))),
    );
    assert!(state.core.actions.is_empty());
    let notices = state.core.notifications.len();
    // The answer, older than the outcome, must not bring the line back.
    let stale = status(ActionState::InProgress, 8, at(2));
    update(
        &mut state,
        reply(checks[0].0, Ok(Reply::Action(Box::new(stale)))),
    );
    assert!(state.core.actions.is_empty(), "{:?}", state.core.actions);
    assert_eq!(state.core.notifications.len(), notices, "no second notice");
}

#[test]
fn an_older_answer_does_not_roll_the_progress_back() {
    let mut state = scaling();
    let checks = action_checks(&update(&mut state, gap()));
    update(
        &mut state,
        action_event(10, status(ActionState::InProgress, 10, at(3))),
    );
    let older = status(ActionState::InProgress, 8, at(2));
    update(
        &mut state,
        reply(checks[0].0, Ok(Reply::Action(Box::new(older)))),
    );
    assert_eq!(state.core.actions["act-7"].progress.unwrap().ready, 10);
}

#[test]
fn the_scale_reply_arriving_after_the_stream_ended_the_action_does_not_bring_it_back() {
    let mut state = loaded_state(false);
    update(&mut state, Action::Tick(at(0)));
    update(&mut state, Action::Key(opsdeck::app::KeyInput::char('S')));
    update(&mut state, Action::Key(opsdeck::app::KeyInput::char('+')));
    update(
        &mut state,
        Action::Key(opsdeck::app::KeyInput::plain(opsdeck::app::KeyCode::Enter)),
    );
    let fx = update(&mut state, Action::Key(opsdeck::app::KeyInput::char('y')));
    let scale = fx
        .iter()
        .find_map(|e| match e {
            Effect::Http(r) if matches!(r.kind, RequestKind::ScaleApp { .. }) => Some(r.id),
            _ => None,
        })
        .expect("y sends the scale");
    // The stream is quicker than the POST's answer: in progress, then succeeded.
    update(
        &mut state,
        action_event(1, status(ActionState::InProgress, 7, at(1))),
    );
    update(
        &mut state,
        action_event(2, status(ActionState::Succeeded, 12, at(2))),
    );
    assert!(state.core.actions.is_empty());
    // Now the POST answers with the action as it was when accepted.
    update(
        &mut state,
        reply(
            scale,
            Ok(Reply::Action(Box::new(status(
                ActionState::Accepted,
                0,
                at(0),
            )))),
        ),
    );
    assert!(
        state.core.actions.is_empty(),
        "a late 'accepted' brought back a finished action"
    );
    // And the clock does not ask about it (whose answer would say "done" a second time).
    let fx = update(&mut state, Action::Tick(at(2 + ACTION_CHECK_SECS + 1)));
    assert!(action_checks(&fx).is_empty(), "{fx:?}");
}
