//! One clock (#23): every time the console shows is the platform's, read from the gateway's
//! `clock` frames and moving at the platform's rate; live durations tick; one frame gives one
//! answer for an app's replicas.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use common::alert_fixtures::alerts_state;
use common::fixtures::{at, loaded_state, metrics_event, sample, t0};
use common::keys::press;
use common::runbook_fixtures::{answer_runs, pending, reply, waiting_run};
use common::screen::screen;
use opsdeck::app::{Action, Reply, RequestKind, State, update};
use opsdeck::protocol::{
    ActionKind, ActionState, ActionStatus, Body, Event, EventKind, Progress, ServerMsg,
    TimelineEntry,
};

/// The console's machine is eleven minutes behind the platform, which runs at 10x.
fn skewed_and_fast(state: &mut State) {
    update(state, Action::Tick(t0()));
    update(
        state,
        Action::Clock {
            platform_time: at(660),
            rate: 10.0,
            at: t0(),
        },
    );
}

#[test]
fn the_status_bar_clock_and_ages_are_platform_time_at_the_platforms_rate() {
    let mut state = alerts_state(false);
    skewed_and_fast(&mut state);
    // Three seconds later on the console's clock: thirty on the platform's.
    update(&mut state, Action::Tick(at(3)));
    assert_eq!(state.core.now, at(690));
    let text = screen(&state, 120, 40);
    // t0 is 03:12:45; 690 s later is 03:24:15.
    assert!(text.contains("03:24:15 UTC"), "{text}");
    assert!(
        !text.contains("03:12:48"),
        "the machine's clock leaked:\n{text}"
    );
    // An alert that fired five minutes before t0 has fired 16m30s before platform now.
    assert!(
        text.contains("16m"),
        "alert ages are measured to platform now:\n{text}"
    );
}

#[test]
fn a_waiting_step_counts_up_with_the_clock() {
    let mut state = loaded_state(false);
    press(&mut state, ":runs<Enter>");
    answer_runs(&mut state);
    let row = state.runs.order.iter().position(|r| r == "run-9f2c1a7e-3");
    for _ in 0..row.unwrap() {
        press(&mut state, "j");
    }
    press(&mut state, "<Enter>");
    let id = pending(&state, |k| matches!(k, RequestKind::FetchRun { .. }));
    reply(&mut state, id, Reply::Run(Box::new(waiting_run())));
    // The approval step began at(-40); the run's last update was at(0).
    update(&mut state, Action::Tick(at(0)));
    assert!(screen(&state, 120, 40).contains("40s so far"));
    update(&mut state, Action::Tick(at(30)));
    let text = screen(&state, 120, 40);
    assert!(
        text.contains("1m10s so far"),
        "the count stopped at the run's last update:\n{text}"
    );
}

#[test]
fn the_action_line_and_the_overview_give_one_replica_count() {
    let mut state = loaded_state(false);
    // shop-cart: 8 of 8 replicas ready, while its rollback has moved 2 of them so far.
    update(
        &mut state,
        Action::StreamFrame(ServerMsg::Events {
            events: vec![metrics_event(
                900,
                "shop-cart",
                sample(1240.0, 0.182, 0.002, 0.61, 8, 8),
            )],
        }),
    );
    let rollback = ActionStatus {
        id: "act-3".into(),
        kind: ActionKind::Rollback,
        app: "shop-cart".into(),
        state: ActionState::InProgress,
        description: "rollback r-41 -> r-40".into(),
        progress: Some(Progress {
            ready: 2,
            desired: 8,
        }),
        message: String::new(),
        created_at: t0(),
        updated_at: t0(),
    };
    update(
        &mut state,
        Action::StreamFrame(ServerMsg::Events {
            events: vec![Event {
                seq: 901,
                ts: t0(),
                app: "shop-cart".into(),
                body: Body::Actions(rollback),
            }],
        }),
    );
    let text = screen(&state, 120, 40);
    assert!(
        text.contains("rolling back shop-cart ready 8/8 · updated 2/8"),
        "{text}"
    );
    assert!(
        !text.contains("ready 2/8"),
        "two answers in one frame:\n{text}"
    );
}

/// A simulator that started on 2026-11-23 at 03:00 and runs at 20x, behind a real gateway: the
/// console's clock, driven by the real stream driver, reads the platform's time, not this
/// machine's.
#[tokio::test]
async fn the_console_reads_the_gateways_platform_clock() {
    let start: DateTime<Utc> = Utc.with_ymd_and_hms(2026, 11, 23, 3, 0, 0).unwrap();
    let sim = opsdeck::platform::sim::SimPlatform::new(opsdeck::platform::sim::SimConfig {
        seed: 42,
        speed: 20.0,
        start,
        ..Default::default()
    });
    let gw =
        common::gateway::start(common::gateway::loopback_config(), std::sync::Arc::new(sim)).await;
    let (tx, mut rx) = tokio::sync::mpsc::channel(256);
    let (_commands, commands_rx) = tokio::sync::watch::channel(None);
    let tls = opsdeck::client::tls::client_config(None).unwrap();
    let url = format!("ws://{}", gw.addr);
    let driver = opsdeck::client::stream::spawn(url, tls, None, tx, commands_rx);
    let mut state = loaded_state(false);
    update(&mut state, Action::Tick(Utc::now()));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !state.core.clock.is_set() {
        let action = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .expect("a clock frame within 10 s")
            .expect("the driver runs");
        update(&mut state, action);
    }
    update(&mut state, Action::Tick(Utc::now()));
    let platform = gw.gateway.platform.now();
    let off = (state.core.now - platform).num_seconds().abs();
    assert!(
        off <= 20,
        "console {} vs platform {platform}",
        state.core.now
    );
    assert!((Utc::now() - state.core.now).num_days() >= 1);
    driver.abort();
    gw.stop().await;
}

/// "firing since" in Alerts and the alert's line in Events read the same time.
#[tokio::test]
async fn an_alert_fires_when_the_timeline_says_it_did() {
    let gw = common::gateway::start_sim(42, 50.0, Some("bad-release")).await;
    let alert = common::gateway::firing_alert(&gw, "bad-release", 30).await;
    let events: Vec<TimelineEntry> = common::gateway::get_json(&gw, "/v1/events").await;
    let fired = events
        .iter()
        .find(|e| {
            e.event.kind == EventKind::Alert
                && e.event.message.starts_with(&format!("{} ", alert.id))
                && e.event.message.contains("firing")
        })
        .expect("the alert's firing is on the timeline");
    assert_eq!(fired.ts, alert.started_at);
    gw.stop().await;
}
