//! The console's changes, from its pure core through its HTTP driver to a real gateway on
//! 127.0.0.1:0: each carries the console's user, so the Events timeline says who did it.
#![allow(clippy::unwrap_used)]

mod common;

use common::fixtures;
use common::gateway::start_sim;
use fixtures::{config, hello};
use opsdeck::app::{Action, Dialog, Effect, KeyCode, KeyInput, RequestKind, State, update};
use opsdeck::client::http::HttpClient;
use opsdeck::protocol::{EventKind, TimelineEntry};

/// Apply `action`, carry out every HTTP call it asks for against the gateway and feed the
/// replies back, until nothing is left to do. Returns every request made.
async fn drive(state: &mut State, client: &HttpClient, action: Action) -> Vec<RequestKind> {
    let mut made = Vec::new();
    let mut queue = vec![action];
    while let Some(action) = queue.pop() {
        for effect in update(state, action) {
            if let Effect::Http(request) = effect {
                let result = client.execute(&request.kind).await;
                made.push(request.kind);
                queue.push(Action::HttpReply {
                    request_id: request.id,
                    result,
                });
            }
        }
    }
    made
}

#[tokio::test]
async fn a_scale_from_the_console_is_recorded_with_the_console_user() {
    let gw = start_sim(5, 1.0, None).await;
    let client = HttpClient::new(&format!("ws://{}", gw.addr)).unwrap();
    let mut state = State::new(config(false));
    state.core.actor = "li.wei".into();

    drive(&mut state, &client, Action::StreamConnected(hello())).await;
    assert!(state.core.apps_loaded, "the app list did not load");
    let app = state.overview.selected.clone().unwrap();
    let mut sent = drive(&mut state, &client, Action::Key(KeyInput::char('S'))).await;
    let Some(Dialog::Scale(dialog)) = &state.dialog else {
        panic!("no scale dialog for {app}");
    };
    // One more replica, or one fewer when the app is at its maximum.
    let change = if dialog.from < dialog.max {
        KeyCode::Up
    } else {
        KeyCode::Down
    };
    for key in [
        KeyInput::plain(change),
        KeyInput::plain(KeyCode::Enter),
        KeyInput::char('y'),
    ] {
        sent.extend(drive(&mut state, &client, Action::Key(key)).await);
    }
    assert!(
        matches!(
            sent.as_slice(),
            [RequestKind::ScaleApp { actor, app: a, .. }] if actor == "li.wei" && *a == app
        ),
        "{sent:?}"
    );
    assert!(state.dialog.is_none(), "the scale was not accepted");

    let events: Vec<TimelineEntry> = common::gateway::get_json(&gw, "/v1/events").await;
    let scale = events
        .iter()
        .find(|e| e.app == app && e.event.kind == EventKind::Scale)
        .unwrap_or_else(|| panic!("no scale event for {app}: {events:?}"));
    assert_eq!(scale.event.actor.as_deref(), Some("li.wei"));
}

#[tokio::test]
async fn a_rollback_from_the_console_driver_is_recorded_with_its_user() {
    let gw = start_sim(5, 1.0, None).await;
    let client = HttpClient::new(&format!("ws://{}", gw.addr)).unwrap();
    client
        .execute(&RequestKind::Rollback {
            app: "shop-cart".into(),
            to: None,
            idempotency_key: "k-rollback-1".into(),
            actor: "wang.fang".into(),
        })
        .await
        .unwrap();

    let events: Vec<TimelineEntry> = common::gateway::get_json(&gw, "/v1/events").await;
    let rollback = events
        .iter()
        .find(|e| e.app == "shop-cart" && e.event.kind == EventKind::Rollback)
        .unwrap_or_else(|| panic!("no rollback event: {events:?}"));
    assert_eq!(rollback.event.actor.as_deref(), Some("wang.fang"));
}
