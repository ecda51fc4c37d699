//! The console's drivers against a scripted gateway on 127.0.0.1: reconnect and resume, dead
//! link detection, scale requests with their idempotency key. The core runs as in the real
//! loop (update + Drivers::perform), only without a terminal.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::keys::Keys;
use common::{fake_gateway, fixtures};
use fake_gateway::{FakeGateway, Script, metrics_frame};
use fixtures::*;
use opsdeck::app::{Action, Connection, Dialog, KeyCode, KeyInput, ScaleStep, State, update};
use opsdeck::client::http::HttpClient;
use opsdeck::client::stream;
use opsdeck::protocol::{ClientMsg, ServerMsg, Topic};
use opsdeck::tui::event_loop::Drivers;
use tokio::sync::mpsc;
use tokio::time::timeout;

struct Console {
    state: State,
    drivers: Drivers,
    actions: mpsc::Receiver<Action>,
    /// Every StreamDown reason seen.
    downs: Vec<String>,
}

impl Console {
    fn start(url: &str) -> Console {
        let (action_tx, actions) = mpsc::channel(256);
        let (stream_tx, stream_rx) = tokio::sync::watch::channel(None);
        let tls = opsdeck::client::tls::client_config(None).unwrap();
        stream::spawn(url.to_string(), tls, None, action_tx.clone(), stream_rx);
        Console {
            state: State::new(config(false)),
            drivers: Drivers {
                http: HttpClient::new(url).unwrap(),
                stream: stream_tx,
                actions: action_tx,
            },
            actions,
            downs: Vec::new(),
        }
    }

    fn apply(&mut self, action: Action) {
        if let Action::StreamDown { reason, .. } = &action {
            self.downs.push(reason.clone());
        }
        let effects = update(&mut self.state, action);
        self.drivers.perform(effects);
    }

    /// Apply driver results until `done` holds; fail after `limit`.
    async fn run_until(&mut self, limit: Duration, done: impl Fn(&Console) -> bool) {
        let deadline = tokio::time::Instant::now() + limit;
        while !done(self) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match timeout(left, self.actions.recv()).await {
                Ok(Some(action)) => self.apply(action),
                Ok(None) => panic!("drivers stopped"),
                Err(_) => panic!(
                    "condition not reached in {limit:?}; connection {:?}, downs {:?}",
                    self.state.core.connection, self.downs
                ),
            }
        }
    }

    fn press(&mut self, keys: impl Keys) {
        for key in keys.into_keys() {
            self.apply(Action::Key(key));
        }
    }
}

fn apps_json() -> serde_json::Value {
    serde_json::to_value(apps()).unwrap()
}

#[tokio::test]
async fn reconnects_and_resumes_without_gaps_or_duplicates() {
    let gw = FakeGateway::start(
        hello(),
        vec![
            Script::SendThenClose(vec![metrics_frame("shop-cart", 1..=3)]),
            Script::SendThenHang(vec![metrics_frame("shop-cart", 4..=5)]),
        ],
        apps_json(),
        vec![],
    )
    .await;
    let mut console = Console::start(&gw.url);
    console
        .run_until(Duration::from_secs(10), |c| {
            c.state.core.last_seq.get(&Topic::Metrics) == Some(&5)
        })
        .await;
    assert_eq!(console.state.core.connection, Connection::Live);
    assert_eq!(console.state.core.duplicates, 0);
    assert_eq!(console.downs.len(), 1, "{:?}", console.downs);
    assert_eq!(
        console.state.core.apps["shop-cart"]
            .latest
            .as_ref()
            .unwrap()
            .rps,
        5.0
    );

    let subs = gw.recorded.lock().unwrap().subscribes.clone();
    assert_eq!(subs.len(), 2);
    let resume = |m: &ClientMsg| match m {
        ClientMsg::Subscribe { resume, .. } => resume.clone(),
        other => panic!("{other:?}"),
    };
    assert!(resume(&subs[0]).is_empty());
    assert_eq!(resume(&subs[1]).get(&Topic::Metrics), Some(&3));
}

#[tokio::test]
async fn a_silent_link_is_declared_dead_within_two_heartbeats() {
    let quick = match hello() {
        ServerMsg::Hello {
            protocol,
            gateway_id,
            server_time,
            topics,
            platform,
            max_frame_bytes,
            identity,
            ..
        } => ServerMsg::Hello {
            protocol,
            gateway_id,
            server_time,
            topics,
            platform,
            heartbeat_ms: 500,
            max_frame_bytes,
            identity,
        },
        other => other,
    };
    let gw = FakeGateway::start(
        quick,
        vec![Script::SendThenHang(vec![metrics_frame("feed", 1..=1)])],
        apps_json(),
        vec![],
    )
    .await;
    let mut console = Console::start(&gw.url);
    console
        .run_until(Duration::from_secs(5), |c| {
            c.state.core.connection == Connection::Live
        })
        .await;
    let live_at = tokio::time::Instant::now();
    console
        .run_until(Duration::from_secs(5), |c| !c.downs.is_empty())
        .await;
    let took = live_at.elapsed();
    assert!(
        console.downs[0].contains("presumed dead"),
        "{:?}",
        console.downs
    );
    // Two heartbeats are 1 s; allow for a busy 2-core machine.
    assert!(took <= Duration::from_secs(3), "took {took:?}");
    assert!(matches!(
        console.state.core.connection,
        Connection::Reconnecting { attempt: 1, .. }
    ));
}

#[tokio::test]
async fn scale_reaches_the_gateway_once_per_try_with_one_idempotency_key() {
    let gw = FakeGateway::start(
        hello(),
        vec![Script::SendThenHang(vec![])],
        apps_json(),
        vec![503],
    )
    .await;
    let mut console = Console::start(&gw.url);
    console
        .run_until(Duration::from_secs(5), |c| c.state.core.apps_loaded)
        .await;
    while console.state.overview.selected.as_deref() != Some("shop-cart") {
        console.press(KeyInput::char('j'));
    }
    console.press(KeyInput::char('S'));
    console.press(KeyInput::char('+'));
    console.press(KeyInput::plain(KeyCode::Enter));
    assert!(gw.recorded.lock().unwrap().scales.is_empty());
    console.press(KeyInput::char('y'));
    // The first try gets a 503 and returns to the confirmation with the reason.
    console
        .run_until(
            Duration::from_secs(5),
            |c| matches!(&c.state.dialog, Some(Dialog::Scale(d)) if d.failure.is_some()),
        )
        .await;
    let Some(Dialog::Scale(d)) = &console.state.dialog else {
        unreachable!()
    };
    assert_eq!(d.step, ScaleStep::Confirm);
    assert!(
        d.failure
            .as_deref()
            .unwrap()
            .contains("platform is restarting")
    );
    console.press(KeyInput::char('y'));
    console
        .run_until(Duration::from_secs(5), |c| c.state.dialog.is_none())
        .await;
    assert!(console.state.core.actions.contains_key("act-1"));

    let scales = gw.recorded.lock().unwrap().scales.clone();
    assert_eq!(scales.len(), 2);
    for s in &scales {
        assert_eq!(s.app, "shop-cart");
        assert_eq!(s.body, serde_json::json!({ "replicas": 7 }));
    }
    assert!(scales[0].idempotency_key.is_some());
    assert_eq!(scales[0].idempotency_key, scales[1].idempotency_key);
}

#[tokio::test]
async fn a_burst_of_subscriptions_never_loses_the_latest() {
    use opsdeck::app::Effect;
    use opsdeck::client::stream::StreamCommand;
    use std::collections::BTreeMap;
    let (action_tx, _actions) = mpsc::channel(4);
    let (stream_tx, mut wanted) = tokio::sync::watch::channel(None);
    let drivers = Drivers {
        http: HttpClient::new("ws://127.0.0.1:9").unwrap(),
        stream: stream_tx,
        actions: action_tx,
    };
    // More than any queue the driver had (16): the driver is busy and reads none of them.
    let effects: Vec<Effect> = (1..=40u64)
        .map(|n| Effect::Subscribe {
            topics: vec![Topic::Logs],
            resume: BTreeMap::from([(Topic::Logs, n)]),
        })
        .collect();
    assert!(drivers.perform(effects));
    let latest = wanted.borrow_and_update().clone();
    assert_eq!(
        latest,
        Some(StreamCommand::Subscribe {
            topics: vec![Topic::Logs],
            resume: BTreeMap::from([(Topic::Logs, 40)]),
        })
    );
}

#[tokio::test]
async fn the_driver_stops_when_the_console_drops_it_even_while_reconnecting() {
    // Port 9 on loopback: nothing listens, so the driver is in its backoff.
    let (action_tx, mut actions) = mpsc::channel(16);
    let (stream_tx, stream_rx) = tokio::sync::watch::channel(None);
    let tls = opsdeck::client::tls::client_config(None).unwrap();
    let task = stream::spawn("ws://127.0.0.1:9".into(), tls, None, action_tx, stream_rx);
    let down = timeout(Duration::from_secs(10), actions.recv())
        .await
        .unwrap();
    assert!(matches!(down, Some(Action::StreamDown { .. })), "{down:?}");
    // The console goes away but something still holds the action channel open.
    drop(stream_tx);
    timeout(Duration::from_secs(10), task)
        .await
        .expect("the driver ended")
        .unwrap();
}
