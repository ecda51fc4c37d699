//! Apps the platform cannot read (`stale_since`): a `source` event on the timeline makes the
//! console list the apps again; stale apps are muted and a banner says since when and why,
//! until a fresh list clears it. Pure `update()` tests with a fixed clock.
#![allow(clippy::unwrap_used)]

mod common;

use common::fixtures::*;
use opsdeck::app::{Action, Effect, Reply, RequestKind, State, update};
use opsdeck::protocol::{AppSummary, Body, Event, EventKind, PlatformEvent, ServerMsg};
use opsdeck::ui::widgets::status::banner;

const WHY: &str = "Kubernetes API unavailable: error trying to connect: tcp connect error: \
                   Connection refused (os error 111)";

/// A `source` timeline event, as the Kubernetes platform sends it when a watch is lost or back.
fn source_event(state: &mut State, seq: u64, message: &str) -> Vec<Effect> {
    let event = Event {
        seq,
        ts: t0(),
        app: String::new(),
        body: Body::Events(PlatformEvent {
            kind: EventKind::Source,
            message: message.into(),
            actor: None,
            run: None,
        }),
    };
    update(
        state,
        Action::StreamFrame(ServerMsg::Events {
            events: vec![event],
        }),
    )
}

/// Answer the effects' app list request with `list`; panics if there is none.
fn answer_apps(state: &mut State, effects: &[Effect], list: Vec<AppSummary>) {
    let request = effects
        .iter()
        .find_map(|e| match e {
            Effect::Http(r) if r.kind == RequestKind::FetchApps => Some(r.id),
            _ => None,
        })
        .unwrap(); // a source event lists the apps again
    update(
        state,
        Action::HttpReply {
            request_id: request,
            result: Ok(Reply::Apps(list)),
        },
    );
}

fn stale_apps() -> Vec<AppSummary> {
    apps()
        .into_iter()
        .map(|mut a| {
            a.stale_since = Some(at(-45));
            a.stale_reason = Some(WHY.into());
            a
        })
        .collect()
}

#[test]
fn a_source_event_relists_the_apps_and_the_banner_says_they_are_stale_until_fresh() {
    let mut state = loaded_state(false);
    assert_eq!(banner(&state), None);

    let fx = source_event(&mut state, 1, "deployments/shop: connection refused");
    answer_apps(&mut state, &fx, stale_apps());
    assert_eq!(
        state.core.apps["shop-cart"].summary.stale_since,
        Some(at(-45))
    );
    let (text, _) = banner(&state).unwrap();
    assert_eq!(
        text,
        format!(" APPS STALE 45s (as of 03:12:00 UTC) — {WHY}"),
        "since when, from the oldest stale app, and why"
    );
    // At 80 columns the banner keeps its head and ends in `…`.
    let screen = common::screen::rows(&state, 80, 24);
    let line = screen.iter().find(|l| l.contains("APPS STALE")).unwrap();
    assert!(
        line.trim_end()
            .starts_with(" APPS STALE 45s (as of 03:12:00 UTC) — Kubernetes API unavailable"),
        "{line}"
    );
    assert!(line.trim_end().ends_with('…'), "{line}");

    let fx = source_event(
        &mut state,
        2,
        "deployments/shop: the API server answers again",
    );
    answer_apps(&mut state, &fx, apps());
    assert_eq!(state.core.apps["shop-cart"].summary.stale_since, None);
    assert_eq!(banner(&state), None);
}

#[test]
fn a_stale_list_on_connect_shows_the_banner_with_a_generic_reason_when_none_is_given() {
    let mut state = loaded_state(false);
    let mut list = apps();
    list[2].stale_since = Some(at(-90));
    let fx = update(&mut state, Action::StreamConnected(hello()));
    answer_apps(&mut state, &fx, list);
    let (text, _) = banner(&state).unwrap();
    assert!(
        text == " APPS STALE 1m (as of 03:11:15 UTC) — the platform cannot read the apps",
        "{text}"
    );
}
