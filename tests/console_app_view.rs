//! Pure `update()` tests of the App, Releases and Events views and the rollback flow: feed
//! actions, check state and effects. No I/O, fixed clock.
#![allow(clippy::unwrap_used)]

mod common;

use common::keys::{press, type_text};
use common::{fixtures, view_fixtures};
use fixtures::*;
use opsdeck::app::{
    Action, CHART_HISTORY_LEN, ChartWindow, Dialog, Effect, HttpError, KeyCode, KeyInput, Pane,
    Reply, RequestKind, RollbackDialog, RollbackStep, State, TIMELINE_CAP, View, default_target,
    open_rollback, update,
};
use opsdeck::protocol::{
    ActionKind, ActionState, ActionStatus, Body, Event, EventKind, Metric, MetricSample,
    MetricsProblem, MetricsProblemKind, PlatformEvent, ServerMsg,
};
use view_fixtures::*;

fn enter() -> KeyInput {
    KeyInput::plain(KeyCode::Enter)
}

fn esc() -> KeyInput {
    KeyInput::plain(KeyCode::Esc)
}

fn select(state: &mut State, app: &str) {
    press(state, KeyInput::char('g'));
    while state.overview.selected.as_deref() != Some(app) {
        let before = state.overview.selected.clone();
        press(state, KeyInput::char('j'));
        assert_ne!(before, state.overview.selected, "{app} not in the list");
    }
}

fn requests(effects: &[Effect]) -> Vec<(u64, RequestKind)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Http(r) => Some((r.id, r.kind.clone())),
            _ => None,
        })
        .collect()
}

/// (request id, app, target release, idempotency key) of every rollback request.
fn rollbacks(effects: &[Effect]) -> Vec<(u64, String, Option<String>, String)> {
    requests(effects)
        .into_iter()
        .filter_map(|(id, k)| match k {
            RequestKind::Rollback {
                app,
                to,
                idempotency_key,
                ..
            } => Some((id, app, to, idempotency_key)),
            _ => None,
        })
        .collect()
}

fn dialog(state: &State) -> &RollbackDialog {
    match &state.dialog {
        Some(Dialog::Rollback(d)) => d,
        other => panic!("no rollback dialog open: {other:?}"),
    }
}

#[test]
fn enter_opens_the_app_view_and_fetches_detail_releases_and_events() {
    let mut state = loaded_state(false);
    select(&mut state, "shop-cart");
    let fx = press(&mut state, enter());
    assert_eq!(state.view, View::App);
    assert!(state.dialog.is_none(), "Enter no longer scales");
    assert_eq!(state.app_view.app, "shop-cart");
    let reqs = requests(&fx);
    let kinds: Vec<_> = reqs.iter().map(|r| r.1.clone()).collect();
    assert_eq!(
        kinds,
        vec![
            RequestKind::FetchApp {
                app: "shop-cart".into()
            },
            RequestKind::FetchReleases {
                app: "shop-cart".into()
            },
            RequestKind::FetchTimeline,
            RequestKind::FetchMetrics {
                app: "shop-cart".into()
            },
        ]
    );
    let mut ids: Vec<_> = reqs.iter().map(|r| r.0).collect();
    ids.dedup();
    assert_eq!(ids.len(), 4, "distinct request ids");
    assert!(ids.iter().all(|id| state.core.pending.contains_key(id)));
    assert!(state.app_view.pods.is_none(), "loading until the reply");

    answer(&mut state, &fx);
    assert_eq!(state.app_view.pods.as_ref().unwrap().len(), 6);
    assert_eq!(state.app_view.releases.as_ref().unwrap().len(), 5);
    assert!(state.core.timeline.loaded);
    assert!(ids.iter().all(|id| !state.core.pending.contains_key(id)));
    // S still scales from the App view, on the app shown.
    press(&mut state, KeyInput::char('S'));
    assert!(matches!(&state.dialog, Some(Dialog::Scale(d)) if d.app == "shop-cart"));
}

#[test]
fn stale_app_replies_are_dropped() {
    let mut state = loaded_state(false);
    let first = opsdeck::app::open_app(&mut state, "shop-cart");
    press(&mut state, esc());
    let second = opsdeck::app::open_app(&mut state, "feed");
    assert_eq!(state.app_view.app, "feed");
    // shop-cart's replies arrive late: its pods and releases must not show under feed.
    answer(&mut state, &first);
    assert!(state.app_view.pods.is_none());
    assert!(state.app_view.releases.is_none());
    // A newer request for the same resource makes the older reply stale too.
    let again = opsdeck::app::open_app(&mut state, "shop-cart");
    answer(&mut state, &first);
    assert!(
        state.app_view.releases.is_none(),
        "reply to a superseded request applied"
    );
    answer(&mut state, &again);
    assert_eq!(state.app_view.releases.as_ref().unwrap().len(), 5);
    drop(second);
}

#[test]
fn periodic_and_event_driven_pod_refresh() {
    let mut state = app_view_state(false, false);
    assert!(requests(&update(&mut state, Action::Tick(at(5)))).is_empty());
    let fx = update(&mut state, Action::Tick(at(10)));
    assert_eq!(
        requests(&fx)[0].1,
        RequestKind::FetchApp {
            app: "shop-cart".into()
        }
    );
    answer(&mut state, &fx);
    let ev = |seq, kind| Event {
        seq,
        ts: at(11),
        app: "shop-cart".into(),
        body: Body::Events(PlatformEvent {
            kind,
            message: "x".into(),
            actor: None,
            run: None,
        }),
    };
    let fx = update(
        &mut state,
        Action::StreamFrame(ServerMsg::Events {
            events: vec![ev(1, EventKind::Rollback)],
        }),
    );
    let kinds: Vec<_> = requests(&fx).into_iter().map(|r| r.1).collect();
    assert!(kinds.contains(&RequestKind::FetchReleases {
        app: "shop-cart".into()
    }));
    assert_eq!(
        state.core.timeline.entries[0].event.kind,
        EventKind::Rollback
    );
}

#[test]
fn rollback_sends_exactly_one_request_and_only_after_confirmation() {
    let mut state = app_view_state(false, false);
    let mut effects = press(&mut state, KeyInput::char('R'));
    let d = dialog(&state);
    assert_eq!(d.step, RollbackStep::Review);
    assert_eq!((d.from.id.as_str(), d.to.id.as_str()), ("r-2140", "r-2120"));
    // `y` in the review does nothing; Enter moves to the question.
    effects.extend(press(&mut state, KeyInput::char('y')));
    effects.extend(press(&mut state, enter()));
    assert_eq!(dialog(&state).step, RollbackStep::Confirm);
    // `n` goes back to the review, Enter returns to the question.
    effects.extend(press(&mut state, KeyInput::char('n')));
    assert_eq!(dialog(&state).step, RollbackStep::Review);
    effects.extend(press(&mut state, enter()));
    assert!(rollbacks(&effects).is_empty(), "{effects:?}");

    let sent = press(&mut state, KeyInput::char('y'));
    let r = rollbacks(&sent);
    assert_eq!(r.len(), 1, "{sent:?}");
    assert_eq!(r[0].1, "shop-cart");
    assert_eq!(r[0].2.as_deref(), Some("r-2120"));
    assert_eq!(r[0].3.len(), 36, "uuid-shaped key");
    assert!(matches!(dialog(&state).step, RollbackStep::Sending { .. }));
    // Pressing on while sending sends nothing more.
    let mut more = press(&mut state, KeyInput::char('y'));
    more.extend(press(&mut state, enter()));
    assert!(rollbacks(&more).is_empty());

    // Accepted: the dialog closes and the action shows on the progress line.
    let status = ActionStatus {
        id: "act-7".into(),
        kind: ActionKind::Rollback,
        app: "shop-cart".into(),
        state: ActionState::Accepted,
        description: "rollback v2.14.0 -> v2.12.0".into(),
        progress: None,
        message: String::new(),
        created_at: t0(),
        updated_at: t0(),
    };
    update(
        &mut state,
        Action::HttpReply {
            request_id: r[0].0,
            result: Ok(Reply::Action(Box::new(status))),
        },
    );
    assert!(state.dialog.is_none());
    assert!(state.core.actions.contains_key("act-7"));
}

#[test]
fn esc_or_n_never_sends() {
    let mut state = app_view_state(false, false);
    let mut effects = press(&mut state, KeyInput::char('R'));
    effects.extend(press(&mut state, enter()));
    effects.extend(press(&mut state, esc()));
    effects.extend(press(&mut state, esc()));
    assert!(state.dialog.is_none());
    assert_eq!(state.view, View::App, "Esc closed the dialog, not the view");
    assert!(rollbacks(&effects).is_empty());
}

#[test]
fn releases_view_rolls_back_to_the_selected_release() {
    let mut state = app_view_state(false, false);
    press(&mut state, KeyInput::char('r'));
    assert_eq!(state.view, View::Releases);
    // The active release cannot be a target: no dialog, a reason.
    press(&mut state, enter());
    assert!(state.dialog.is_none());
    assert!(
        state
            .core
            .notifications
            .back()
            .unwrap()
            .text
            .contains("already active")
    );
    // A failed one neither.
    press(&mut state, KeyInput::char('j'));
    press(&mut state, KeyInput::char('R'));
    assert!(state.dialog.is_none());
    type_text(&mut state, "jjj");
    assert_eq!(state.app_view.release_cursor, 4);
    press(&mut state, enter());
    assert_eq!(dialog(&state).to.id, "r-2110");
    press(&mut state, enter());
    let sent = press(&mut state, KeyInput::char('y'));
    let r = rollbacks(&sent);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].2.as_deref(), Some("r-2110"));
}

#[test]
fn production_needs_the_exact_app_name_typed() {
    let mut state = app_view_state(false, true);
    let mut effects = press(&mut state, KeyInput::char('R'));
    assert!(dialog(&state).production);
    effects.extend(press(&mut state, enter()));
    assert_eq!(dialog(&state).step, RollbackStep::TypeName);
    // `y` is just a letter here; a wrong or partial name cannot confirm.
    effects.extend(type_text(&mut state, "y"));
    effects.extend(press(&mut state, enter()));
    press(&mut state, KeyInput::plain(KeyCode::Backspace));
    for wrong in ["shop-car", "Shop-cart", "购物车 shop-cart", "shop-cartt"] {
        effects.extend(type_text(&mut state, wrong));
        effects.extend(press(&mut state, enter()));
        assert_eq!(dialog(&state).step, RollbackStep::TypeName, "{wrong}");
        for _ in wrong.chars() {
            press(&mut state, KeyInput::plain(KeyCode::Backspace));
        }
    }
    assert!(dialog(&state).typed.is_empty());
    assert!(rollbacks(&effects).is_empty(), "{effects:?}");

    type_text(&mut state, "shop-cart");
    assert!(dialog(&state).name_matches());
    // The typed id, then the same y/N as every change on production (as scale asks).
    let reviewed = press(&mut state, enter());
    assert!(rollbacks(&reviewed).is_empty(), "{reviewed:?}");
    assert_eq!(dialog(&state).step, RollbackStep::Confirm);
    let sent = press(&mut state, KeyInput::char('y'));
    let r = rollbacks(&sent);
    assert_eq!(r.len(), 1);
    assert_eq!(r[0].2.as_deref(), Some("r-2120"));
}

#[test]
fn readonly_offers_no_rollback_and_says_so() {
    let mut state = app_view_state(true, false);
    let mut effects = press(&mut state, KeyInput::char('R'));
    assert!(state.dialog.is_none());
    assert!(
        state
            .core
            .notifications
            .back()
            .unwrap()
            .text
            .contains("READ-ONLY")
    );
    press(&mut state, KeyInput::char('r'));
    effects.extend(type_text(&mut state, "jjj"));
    effects.extend(press(&mut state, enter()));
    effects.extend(press(&mut state, KeyInput::char('R')));
    effects.extend(press(&mut state, KeyInput::char('y')));
    effects.extend(open_rollback(
        &mut state,
        "shop-cart",
        Some("r-2110".into()),
    ));
    assert!(state.dialog.is_none());
    assert!(rollbacks(&effects).is_empty());
}

#[test]
fn default_target_is_the_previous_good_release() {
    let list = releases();
    assert_eq!(default_target(&list).unwrap().id, "r-2120");
    // The newest good release older than the active one, not just any good one.
    let mut later_active = releases();
    later_active[0].status = opsdeck::protocol::ReleaseStatus::Superseded;
    later_active[3].status = opsdeck::protocol::ReleaseStatus::Active;
    assert_eq!(default_target(&later_active).unwrap().id, "r-2110");
    assert!(default_target(&list[..3]).is_none());
}

#[test]
fn rollback_by_name_before_releases_are_loaded() {
    let mut state = loaded_state(false);
    let fx = open_rollback(&mut state, "购物车 shop-cart", None);
    assert!(state.dialog.is_none(), "waits for the releases");
    let kinds: Vec<_> = requests(&fx).into_iter().map(|r| r.1).collect();
    assert_eq!(
        kinds,
        vec![RequestKind::FetchReleases {
            app: "shop-cart".into()
        }]
    );
    answer(&mut state, &fx);
    assert_eq!(dialog(&state).to.id, "r-2120");
    assert_eq!(
        state.view,
        View::Overview,
        "the dialog opens over the current view"
    );
}

#[test]
fn a_transient_failure_retries_with_the_same_key_and_a_refusal_goes_back_with_the_reason() {
    let mut state = app_view_state(false, false);
    press(&mut state, KeyInput::char('R'));
    press(&mut state, enter());
    let first = rollbacks(&press(&mut state, KeyInput::char('y')));
    update(
        &mut state,
        Action::HttpReply {
            request_id: first[0].0,
            result: Err(HttpError::transport("connection reset")),
        },
    );
    assert_eq!(dialog(&state).step, RollbackStep::Confirm);
    let retry = rollbacks(&press(&mut state, KeyInput::char('y')));
    assert_eq!(retry.len(), 1);
    assert_eq!(retry[0].3, first[0].3, "same key on retry");
    assert_ne!(retry[0].0, first[0].0);

    update(
        &mut state,
        Action::HttpReply {
            request_id: retry[0].0,
            result: Err(HttpError {
                status: Some(409),
                code: "conflict".into(),
                message: "release r-2120 (v2.12.0) is already active on shop-cart".into(),
            }),
        },
    );
    let d = dialog(&state);
    assert_eq!(d.step, RollbackStep::Review);
    assert!(d.failure.as_deref().unwrap().contains("already active"));
    // The gateway stored the refusal under the old key: the next try needs a new one.
    assert_ne!(d.idempotency_key, first[0].3);
}

#[test]
fn window_cycles_and_number_keys_pick() {
    let mut state = app_view_state(false, false);
    assert_eq!(state.app_view.window, ChartWindow::M5);
    let mut seen = Vec::new();
    for _ in 0..4 {
        press(&mut state, KeyInput::char('w'));
        seen.push(state.app_view.window);
    }
    assert_eq!(
        seen,
        vec![
            ChartWindow::M15,
            ChartWindow::H1,
            ChartWindow::M1,
            ChartWindow::M5
        ]
    );
    for (k, w) in ['1', '2', '3', '4'].into_iter().zip(ChartWindow::ALL) {
        press(&mut state, KeyInput::char(k));
        assert_eq!(state.app_view.window, w);
    }
}

#[test]
fn history_is_bounded_at_one_hour() {
    let mut state = loaded_state(false);
    feed_an_hour(&mut state);
    let h = &state.core.apps["shop-cart"].metrics_history;
    assert_eq!(h.len(), CHART_HISTORY_LEN);
    // Another 10 minutes push the oldest out.
    let events = (1..=600)
        .map(|i| Event {
            seq: 2_000_000 + i as u64,
            ts: at(i),
            app: "shop-cart".into(),
            body: Body::Metrics(sample(1.0, 1.0, 0.0, 0.1, 6, 6)),
        })
        .collect();
    update(
        &mut state,
        Action::StreamFrame(ServerMsg::Events { events }),
    );
    let h = &state.core.apps["shop-cart"].metrics_history;
    assert_eq!(h.len(), CHART_HISTORY_LEN);
    assert_eq!(h.oldest().unwrap().at, at(600 - 3599).timestamp());
    // The overview's sparkline ring is unchanged in size.
    assert!(state.core.apps["shop-cart"].rps_history.len() <= opsdeck::app::HISTORY_LEN);
}

#[test]
fn esc_walks_back_through_the_views() {
    let mut state = app_view_state(false, false);
    press(&mut state, KeyInput::char('r'));
    press(&mut state, KeyInput::char('E'));
    assert_eq!(state.view, View::Events);
    assert_eq!(
        state.events.filter_app, None,
        "E in Releases shows every app"
    );
    press(&mut state, esc());
    assert_eq!(state.view, View::Releases);
    press(&mut state, esc());
    assert_eq!(state.view, View::App);
    press(&mut state, KeyInput::char('E'));
    assert_eq!(state.events.filter_app.as_deref(), Some("shop-cart"));
    press(&mut state, KeyInput::char('a'));
    assert_eq!(state.events.filter_app, None);
    press(&mut state, esc());
    press(&mut state, esc());
    assert_eq!(state.view, View::Overview);
    press(&mut state, esc());
    assert_eq!(state.view, View::Overview);
}

#[test]
fn tab_moves_between_panes_and_lists_scroll_within_bounds() {
    let mut state = app_view_state(false, false);
    assert_eq!(state.app_view.pane, Pane::Pods);
    type_text(&mut state, "jjjjjjjjjj");
    assert_eq!(state.app_view.pane_offset[Pane::Pods.index()], 5);
    let tab = KeyInput::plain(KeyCode::Tab);
    let mut seen = Vec::new();
    for _ in 0..4 {
        press(&mut state, tab);
        seen.push(state.app_view.pane);
    }
    assert_eq!(
        seen,
        vec![Pane::Events, Pane::Alerts, Pane::Releases, Pane::Pods]
    );
}

#[test]
fn the_timeline_merges_live_events_and_stays_bounded() {
    let mut state = loaded_state(false);
    let fx = opsdeck::app::open_events(&mut state);
    assert_eq!(state.view, View::Events);
    // A live event newer than the snapshot arrives before the reply.
    let live = |seq: u64, secs: i64| Event {
        seq,
        ts: at(secs),
        app: "feed".into(),
        body: Body::Events(PlatformEvent {
            kind: EventKind::Scale,
            message: format!("live {seq}"),
            actor: Some("ops".into()),
            run: None,
        }),
    };
    update(
        &mut state,
        Action::StreamFrame(ServerMsg::Events {
            events: vec![live(1, 1)],
        }),
    );
    answer(&mut state, &fx);
    assert_eq!(state.core.timeline.entries.len(), timeline().len() + 1);
    assert_eq!(state.core.timeline.entries[0].event.message, "live 1");
    let events = (2..2000).map(|s| live(s, s as i64)).collect();
    update(
        &mut state,
        Action::StreamFrame(ServerMsg::Events { events }),
    );
    assert_eq!(state.core.timeline.entries.len(), TIMELINE_CAP);
    assert_eq!(state.core.timeline.entries[0].event.message, "live 1999");
}

/// Opening an app asks the gateway for its last hour of samples, and the charts start with it
/// rather than empty.
#[test]
fn opening_an_app_fills_its_charts_with_the_gateways_history() {
    use opsdeck::app::{Action, Reply, RequestKind, update};
    use opsdeck::protocol::TimedSample;
    let mut state = loaded_state(false);
    let before = state.core.apps["shop-cart"].metrics_history.len();
    let effects = {
        press(&mut state, ":");
        type_text(&mut state, "app shop-cart");
        press(&mut state, "<Enter>")
    };
    let request = effects
        .iter()
        .find_map(|e| match e {
            opsdeck::app::Effect::Http(r)
                if r.kind
                    == (RequestKind::FetchMetrics {
                        app: "shop-cart".into(),
                    }) =>
            {
                Some(r.id)
            }
            _ => None,
        })
        .expect("the history is asked for");
    let points: Vec<TimedSample> = (1..=60)
        .map(|s| TimedSample {
            ts: at(-600 + s * 5),
            sample: sample(1000.0 + s as f64, 180.0, 0.002, 0.6, 6, 6),
        })
        .collect();
    update(
        &mut state,
        Action::HttpReply {
            request_id: request,
            result: Ok(Reply::Metrics(points)),
        },
    );
    let history = &state.core.apps["shop-cart"].metrics_history;
    assert_eq!(history.len(), before + 60);
    assert_eq!(history.oldest().unwrap().at, at(-595).timestamp());
}

fn metrics_event(seq: u64, ts: chrono::DateTime<chrono::Utc>, sample: MetricSample) -> Action {
    Action::StreamFrame(ServerMsg::Events {
        events: vec![Event {
            seq,
            ts,
            app: "shop-cart".into(),
            body: Body::Metrics(sample),
        }],
    })
}

/// Prometheus down, then a bad query, then a series gone: the last values stay on screen
/// marked with their age, the error is shown where the charts would be, and a value with no
/// series is shown absent rather than frozen.
#[test]
fn metrics_that_cannot_be_read_keep_the_last_values_and_say_why() {
    let mut state = app_view_state(false, false);
    let now = state.core.now;
    let before = state.core.apps["shop-cart"].clone();
    let problem = |kind, message: &str| MetricSample {
        problem: Some(MetricsProblem {
            kind,
            message: message.into(),
            last_good: Some(now - chrono::Duration::seconds(45)),
        }),
        ..MetricSample::default()
    };
    update(
        &mut state,
        metrics_event(
            9_000_001,
            now,
            problem(
                MetricsProblemKind::Unavailable,
                "Prometheus unavailable: connection refused",
            ),
        ),
    );
    let app = &state.core.apps["shop-cart"];
    assert_eq!(app.latest, before.latest, "the last reading stays");
    assert_eq!(app.metrics_history, before.metrics_history);
    assert_eq!(app.summary.replicas, before.summary.replicas);
    let s = common::screen::screen(&state, 120, 40);
    let banner = s.lines().nth(1).unwrap();
    assert!(
        banner.contains(&format!(
            " METRICS STALE 45s (as of {} UTC) — shop-cart: Prometheus unavailable: connection refused",
            (now - chrono::Duration::seconds(45)).format("%H:%M:%S")
        )),
        "{s}"
    );
    assert!(s.contains("rps"), "stale charts still drawn:\n{s}");

    update(
        &mut state,
        metrics_event(
            9_000_002,
            now,
            problem(
                MetricsProblemKind::BadQuery,
                "bad PromQL: p99 — 1:5: parse error: unexpected \")\"",
            ),
        ),
    );
    let s = common::screen::screen(&state, 80, 24);
    assert!(
        s.contains(" METRICS UNREADABLE — shop-cart: bad PromQL"),
        "{s}"
    );
    assert!(
        s.contains("Metrics cannot be read: bad PromQL: p99 — 1:5: parse error"),
        "the error where the charts were:\n{s}"
    );

    // A good reading clears it; the value with no series is absent, not 0 or the last one.
    let mut good = sample(900.0, 0.0, 0.001, 0.4, 6, 6);
    good.absent = vec![Metric::P99];
    update(&mut state, metrics_event(9_000_003, now, good));
    let app = &state.core.apps["shop-cart"];
    assert_eq!(app.metrics_problem, None);
    assert!(app.metrics_history.newest().unwrap().p99_ms.is_nan());
    let s = common::screen::screen(&state, 120, 40);
    assert!(!s.contains("METRICS"), "{s}");
    assert!(s.contains("latency p50 p99 "), "{s}");
    let chart_title = s.lines().find(|l| l.contains("latency p50 p99")).unwrap();
    assert!(
        chart_title.contains("— "),
        "p99 shown absent: {chart_title}"
    );
    press(&mut state, esc());
    assert_eq!(state.view, View::Overview);
    let s = common::screen::screen(&state, 120, 40);
    let row = s.lines().find(|l| l.contains("shop-cart")).unwrap();
    assert!(row.contains('—'), "overview p99 absent: {row}");
}
