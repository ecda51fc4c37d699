//! The HTTP API against a real gateway serving the simulator on 127.0.0.1:0: errors, validation,
//! idempotency, action progress, rollback, alerts, and the OpenAPI document.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use common::gateway::{
    firing_alert, get_json, get_text, http, loopback_config, start_sim, start_sim_with, url,
};
use common::stream::Client;
use common::wait::wait_until;
use opsdeck::gateway::Running;
use opsdeck::platform::sim::{SimConfig, SimPlatform};
use opsdeck::protocol::{
    ActionState, ActionStatus, Alert, AlertState, AppDetail, AppSummary, Body, ClientMsg,
    ErrorBody, Filter, Release, ReleaseStatus, ServerMsg, Topic,
};
use reqwest::StatusCode;
use serde_json::json;

async fn error_of(resp: reqwest::Response) -> (StatusCode, ErrorBody) {
    let status = resp.status();
    (status, resp.json().await.unwrap())
}

async fn apps(gw: &Running) -> Vec<AppSummary> {
    get_json(gw, "/v1/apps").await
}

/// An app with room to scale up by at least two replicas.
async fn scalable_app(gw: &Running) -> AppSummary {
    apps(gw)
        .await
        .into_iter()
        .find(|a| a.replicas.desired + 2 <= a.replicas.max)
        .expect("some app can scale up")
}

#[tokio::test]
async fn health_readiness_metrics_and_app_listing() {
    let gw = start_sim(7, 10.0, None).await;
    let client = http();
    assert_eq!(
        client
            .get(url(&gw, "/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client
            .get(url(&gw, "/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let metrics = get_text(&gw, "/metrics").await;
    assert!(metrics.contains("opsdeck_gateway_events_published_total{topic=\"metrics\"}"));

    let list = apps(&gw).await;
    assert!(
        (8..=12).contains(&list.len()),
        "8-12 apps, got {}",
        list.len()
    );
    let regions: std::collections::BTreeSet<_> = list.iter().map(|a| a.region.clone()).collect();
    assert!(regions.len() >= 2, "apps span several regions");
    assert!(
        list.iter().any(|a| a
            .name
            .chars()
            .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))),
        "some display names are Chinese"
    );
    let detail: AppDetail = get_json(&gw, &format!("/v1/apps/{}", list[0].id)).await;
    assert_eq!(detail.summary.id, list[0].id);
    assert!(!detail.pods.is_empty());
    let releases: Vec<Release> = get_json(&gw, &format!("/v1/apps/{}/releases", list[0].id)).await;
    assert_eq!(
        releases[0].status,
        ReleaseStatus::Active,
        "newest first, active on top"
    );
    gw.stop().await;
}

#[tokio::test]
async fn unknown_apps_and_routes_are_404_with_an_error_body() {
    let gw = start_sim(7, 1.0, None).await;
    let client = http();
    for resp in [
        client
            .get(url(&gw, "/v1/apps/no-such-app"))
            .send()
            .await
            .unwrap(),
        client
            .get(url(&gw, "/v1/apps/no-such-app/releases"))
            .send()
            .await
            .unwrap(),
        client
            .post(url(&gw, "/v1/apps/no-such-app/scale"))
            .json(&json!({"replicas": 3}))
            .send()
            .await
            .unwrap(),
        client
            .get(url(&gw, "/v1/actions/act-nope"))
            .send()
            .await
            .unwrap(),
        client
            .get(url(&gw, "/v1/nothing-here"))
            .send()
            .await
            .unwrap(),
    ] {
        let (status, body) = error_of(resp).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body.error.code, "not_found");
        assert!(!body.error.message.is_empty());
    }
    gw.stop().await;
}

#[tokio::test]
async fn bad_replicas_are_422_naming_the_allowed_range_and_bad_json_is_400() {
    let gw = start_sim(7, 1.0, None).await;
    let app = scalable_app(&gw).await;
    let client = http();
    let scale = url(&gw, &format!("/v1/apps/{}/scale", app.id));
    let range = format!("between {} and {}", app.replicas.min, app.replicas.max);
    for bad in [
        json!({"replicas": app.replicas.max + 1}),
        json!({"replicas": -1}),
        json!({"replicas": 2.5}),
        json!({"replicas": "ten"}),
    ] {
        let (status, body) = error_of(client.post(&scale).json(&bad).send().await.unwrap()).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(
            body.error.message.contains(&range),
            "{}",
            body.error.message
        );
    }
    let resp = client
        .post(&scale)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let (status, body) = error_of(resp).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body.error.code, "bad_request");
    gw.stop().await;
}

#[tokio::test]
async fn the_same_idempotency_key_applies_once_even_at_once_and_rejects_another_body() {
    let gw = start_sim(7, 1.0, None).await;
    let app = scalable_app(&gw).await;
    let client = http();
    let scale = url(&gw, &format!("/v1/apps/{}/scale", app.id));
    let target = app.replicas.desired + 1;
    let send = |body: serde_json::Value| {
        client
            .post(&scale)
            .header("Idempotency-Key", "retry-after-a-dropped-link")
            .json(&body)
            .send()
    };
    // Two at the same moment, then a late retry.
    let (a, b) = tokio::join!(
        send(json!({"replicas": target})),
        send(json!({"replicas": target}))
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(
        (a.status(), b.status()),
        (StatusCode::ACCEPTED, StatusCode::ACCEPTED)
    );
    let a: ActionStatus = a.json().await.unwrap();
    let b: ActionStatus = b.json().await.unwrap();
    let c: ActionStatus = send(json!({"replicas": target}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(a.id, b.id);
    assert_eq!(a.id, c.id);

    let metrics = get_text(&gw, "/metrics").await;
    assert!(
        metrics.contains("opsdeck_gateway_idempotent_replays_total 2"),
        "two of three requests must be replays:\n{metrics}"
    );
    let (status, body) = error_of(send(json!({"replicas": target + 1})).await.unwrap()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.error.message.contains("Idempotency-Key"));
    gw.stop().await;
}

/// Subscribe to `topics` for `app` and return the client.
async fn watch(gw: &Running, topics: &[Topic], app: Option<&str>) -> Client {
    let mut client = Client::connect(gw.addr).await;
    client
        .send(&ClientMsg::Subscribe {
            topics: topics.to_vec(),
            filter: Filter {
                apps: app.map(|a| vec![a.to_string()]),
                min_level: None,
            },
            resume: BTreeMap::new(),
        })
        .await;
    assert!(matches!(client.recv().await, ServerMsg::Subscribed { .. }));
    client
}

/// Read events until `done` says so; fails after `secs` seconds.
async fn until(client: &mut Client, secs: u64, mut done: impl FnMut(&Body) -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if let Some(ServerMsg::Events { events }) = client.try_recv(Duration::from_secs(1)).await
            && events.iter().any(|e| done(&e.body))
        {
            return;
        }
    }
    panic!("condition not reached within {secs} s");
}

#[tokio::test]
async fn scaling_streams_progress_on_the_actions_topic_until_it_succeeds() {
    let gw = start_sim(7, 50.0, None).await;
    let app = scalable_app(&gw).await;
    let mut stream = watch(&gw, &[Topic::Actions], Some(&app.id)).await;
    let target = app.replicas.desired + 2;
    let accepted: ActionStatus = http()
        .post(url(&gw, &format!("/v1/apps/{}/scale", app.id)))
        .json(&json!({"replicas": target}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(accepted.state, ActionState::Accepted);
    let mut saw_progress = false;
    until(&mut stream, 30, |body| match body {
        Body::Actions(status) if status.id == accepted.id => {
            if status.state == ActionState::InProgress && status.progress.is_some() {
                saw_progress = true;
            }
            status.state == ActionState::Succeeded
        }
        _ => false,
    })
    .await;
    assert!(
        saw_progress,
        "progress (ready n/m) must be streamed before success"
    );
    let done: ActionStatus = get_json(&gw, &format!("/v1/actions/{}", accepted.id)).await;
    assert_eq!(done.state, ActionState::Succeeded);
    let detail: AppDetail = get_json(&gw, &format!("/v1/apps/{}", app.id)).await;
    assert_eq!(detail.summary.replicas.desired, target);
    gw.stop().await;
}

#[tokio::test]
async fn rolling_back_a_bad_release_restores_the_previous_behaviour() {
    let gw = start_sim(7, 120.0, Some("bad-release")).await;
    let alert = firing_alert(&gw, "bad-release", 30).await;
    let app = alert.app.clone();
    let client = http();
    let rollback = url(&gw, &format!("/v1/apps/{app}/rollback"));

    let releases: Vec<Release> = get_json(&gw, &format!("/v1/apps/{app}/releases")).await;
    let active = releases
        .iter()
        .find(|r| r.status == ReleaseStatus::Active)
        .unwrap();
    let (status, _) = error_of(
        client
            .post(&rollback)
            .json(&json!({"to": active.id}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        status,
        StatusCode::CONFLICT,
        "rolling back to the active release"
    );
    let (status, _) = error_of(
        client
            .post(&rollback)
            .json(&json!({"to": "r-does-not-exist"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let mut stream = watch(&gw, &[Topic::Metrics, Topic::Alerts], Some(&app)).await;
    let resp = client
        .post(&rollback)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    // Errors fall back to the old release's level and the alert resolves.
    until(&mut stream, 60, |body| {
        matches!(body, Body::Alerts(a) if a.id == alert.id && a.state == AlertState::Resolved)
    })
    .await;
    until(
        &mut stream,
        30,
        |body| matches!(body, Body::Metrics(m) if m.error_ratio < 0.01),
    )
    .await;
    let releases: Vec<Release> = get_json(&gw, &format!("/v1/apps/{app}/releases")).await;
    assert_ne!(
        releases
            .iter()
            .find(|r| r.status == ReleaseStatus::Active)
            .unwrap()
            .id,
        active.id,
        "another release is active after the rollback"
    );
    gw.stop().await;
}

#[tokio::test]
async fn alerts_can_be_acknowledged_and_silenced_and_bad_durations_are_422() {
    let gw = start_sim(7, 120.0, Some("bad-release")).await;
    let alert = firing_alert(&gw, "bad-release", 30).await;
    let client = http();
    let acked: Alert = client
        .post(url(&gw, &format!("/v1/alerts/{}/ack", alert.id)))
        .header("X-Opsdeck-User", "li.wei")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(acked.state, AlertState::Acknowledged);
    assert_eq!(acked.acknowledged_by.as_deref(), Some("li.wei"));

    let silence = url(&gw, &format!("/v1/alerts/{}/silence", alert.id));
    let (status, body) = error_of(
        client
            .post(&silence)
            .json(&json!({"duration": "soon"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.error.message.contains("30m"));
    let silenced: Alert = client
        .post(&silence)
        .json(&json!({"duration": "30m", "comment": "rolling back"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(silenced.state, AlertState::Silenced);
    assert!(silenced.silenced_until.is_some());

    // Expired: back to acknowledged (li.wei is still on it); a second expiry is a 409.
    let expired: Alert = client
        .delete(&silence)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(expired.state, AlertState::Acknowledged);
    assert_eq!(expired.silenced_until, None);
    let (status, body) = error_of(client.delete(&silence).send().await.unwrap()).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(
        body.error.message.contains("not silenced"),
        "{}",
        body.error.message
    );
    let audit: Vec<serde_json::Value> = client
        .get(url(&gw, "/v1/audit"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        audit
            .iter()
            .any(|r| r["action"] == "unsilence" && r["target"] == alert.id.as_str()),
        "{audit:?}"
    );

    let (status, _) = error_of(
        client
            .post(url(&gw, "/v1/alerts/nope/ack"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    gw.stop().await;
}

#[tokio::test]
async fn scenarios_start_on_demand_and_unknown_ones_are_404() {
    // A flash sale at 20:00 in Shanghai (at 02:00 its traffic may not saturate anything).
    let gw = start_sim_with(SimConfig {
        seed: 7,
        speed: 120.0,
        start: chrono::DateTime::parse_from_rfc3339("2026-11-11T20:00:00+08:00")
            .unwrap()
            .to_utc(),
        ..SimConfig::default()
    })
    .await;
    let client = http();
    let resp = client
        .post(url(&gw, "/v1/sim/scenarios"))
        .json(&json!({"name": "flash-sale"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    firing_alert(&gw, "flash-sale-spike", 30).await;
    let (status, body) = error_of(
        client
            .post(url(&gw, "/v1/sim/scenarios"))
            .json(&json!({"name": "meteor-strike"}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        body.error.message.contains("bad-release"),
        "lists the valid names"
    );
    gw.stop().await;
}

#[tokio::test]
async fn the_openapi_document_is_served_and_names_every_route() {
    let gw = start_sim(7, 1.0, None).await;
    let doc = get_text(&gw, "/v1/openapi.yaml").await;
    assert!(doc.starts_with("openapi: 3"));
    for path in [
        "/healthz",
        "/readyz",
        "/metrics",
        "/v1/apps",
        "/v1/apps/{app}",
        "/v1/apps/{app}/releases",
        "/v1/apps/{app}/scale",
        "/v1/apps/{app}/rollback",
        "/v1/actions/{id}",
        "/v1/alerts",
        "/v1/alerts/{id}/ack",
        "/v1/alerts/{id}/silence",
        "/v1/events",
        "/v1/sim/scenarios",
        "/v1/stream",
        "/v1/runbooks",
        "/v1/runbooks/{id}",
        "/v1/runbooks/{id}/runs",
        "/v1/runs",
        "/v1/runs/{id}",
        "/v1/runs/{id}/approve",
        "/v1/runs/{id}/abort",
        "/v1/runs/{id}/resume",
    ] {
        assert!(
            doc.contains(&format!("\n  {path}:\n")),
            "{path} is not documented"
        );
        // And the gateway routes it (the fallback answers "no such route").
        let concrete = path.replace("{app}", "shop-cart").replace("{id}", "x");
        for resp in [
            http().get(url(&gw, &concrete)).send().await.unwrap(),
            http()
                .post(url(&gw, &concrete))
                .body("{}")
                .send()
                .await
                .unwrap(),
        ] {
            if resp.status() == StatusCode::NOT_FOUND {
                let body = resp.text().await.unwrap();
                assert!(
                    !body.contains("no such route"),
                    "{path} is documented but not routed"
                );
            }
        }
    }
    gw.stop().await;
}

#[tokio::test]
async fn actions_beyond_the_per_minute_limit_get_429_and_replays_do_not_count() {
    let sim = SimPlatform::new(SimConfig {
        seed: 7,
        ..SimConfig::default()
    });
    let config = opsdeck::gateway::GatewayConfig {
        actions_per_minute: 2,
        ..loopback_config()
    };
    let gw = common::gateway::start(config, Arc::new(sim)).await;
    let app = scalable_app(&gw).await;
    let client = http();
    let scale = url(&gw, &format!("/v1/apps/{}/scale", app.id));
    let post = |key: &'static str, n: u32| {
        client
            .post(&scale)
            .header("Idempotency-Key", key)
            .json(&json!({"replicas": n}))
            .send()
    };
    let low = app.replicas.min;
    assert_eq!(
        post("k1", low).await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    assert_eq!(
        post("k2", low + 1).await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    // A retry of an applied request is answered from the store, not limited.
    assert_eq!(
        post("k1", low).await.unwrap().status(),
        StatusCode::ACCEPTED
    );
    let limited = post("k3", low).await.unwrap();
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    let (_, body) = error_of(limited).await;
    assert_eq!(body.error.code, "rate_limited");
    // Another operator is not affected.
    let other = client
        .post(&scale)
        .header("X-Opsdeck-User", "wang.fang")
        .json(&json!({"replicas": low}))
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), StatusCode::ACCEPTED);
    gw.stop().await;
}

#[tokio::test]
async fn stream_connections_beyond_the_limit_are_refused_with_503() {
    let config = opsdeck::gateway::GatewayConfig {
        max_clients: 1,
        ..loopback_config()
    };
    let gw = common::gateway::start_load(config, 100, None).await;
    let _first = Client::connect(gw.addr).await;
    match tokio_tungstenite::connect_async(format!("ws://{}/v1/stream", gw.addr)).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 503)
        }
        other => panic!("expected a 503 refusal, got {:?}", other.map(|_| ())),
    }
    gw.stop().await;
}

/// POST `path` with `body` under an Idempotency-Key, as `user`.
async fn post_keyed(
    gw: &Running,
    path: &str,
    key: &str,
    user: &str,
    body: serde_json::Value,
) -> reqwest::Response {
    http()
        .post(url(gw, path))
        .header("Idempotency-Key", key)
        .header("X-Opsdeck-User", user)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn alert_now(gw: &Running, id: &str) -> Alert {
    let alerts: Vec<Alert> = get_json(gw, "/v1/alerts").await;
    alerts.into_iter().find(|a| a.id == id).unwrap()
}

async fn replays(gw: &Running) -> String {
    get_text(gw, "/metrics")
        .await
        .lines()
        .find(|l| l.starts_with("opsdeck_gateway_idempotent_replays_total"))
        .unwrap_or_default()
        .to_string()
}

#[tokio::test]
async fn an_acknowledgement_under_a_key_applies_once_and_the_key_cannot_be_reused() {
    let gw = start_sim(7, 120.0, Some("bad-release")).await;
    let alert = firing_alert(&gw, "bad-release", 30).await;
    let ack = format!("/v1/alerts/{}/ack", alert.id);
    let first = post_keyed(&gw, &ack, "ack-1", "li.wei", json!({})).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first: serde_json::Value = first.json().await.unwrap();
    assert_eq!(first["acknowledged_by"], "li.wei");

    // Someone silences it meanwhile; the retry of the acknowledgement must not undo that.
    let silenced = http()
        .post(url(&gw, &format!("/v1/alerts/{}/silence", alert.id)))
        .json(&json!({"duration": "30m"}))
        .send()
        .await
        .unwrap();
    assert_eq!(silenced.status(), StatusCode::OK);
    let retry = post_keyed(&gw, &ack, "ack-1", "li.wei", json!({})).await;
    assert_eq!(retry.status(), StatusCode::OK);
    let retry: serde_json::Value = retry.json().await.unwrap();
    assert_eq!(retry, first, "a retry gets the first answer");
    assert_eq!(alert_now(&gw, &alert.id).await.state, AlertState::Silenced);
    assert!(replays(&gw).await.ends_with(" 1"), "{}", replays(&gw).await);

    // The same key for another request (another body) is refused.
    let (status, body) =
        error_of(post_keyed(&gw, &ack, "ack-1", "li.wei", json!({"note": "other"})).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.error.message.contains("Idempotency-Key"));
    gw.stop().await;
}

#[tokio::test]
async fn a_silence_under_a_key_applies_once_and_another_body_is_422() {
    let gw = start_sim(7, 120.0, Some("bad-release")).await;
    let alert = firing_alert(&gw, "bad-release", 30).await;
    let silence = format!("/v1/alerts/{}/silence", alert.id);
    let body = json!({"duration": "30m", "comment": "rolling back"});
    let first = post_keyed(&gw, &silence, "silence-1", "li.wei", body.clone()).await;
    assert_eq!(first.status(), StatusCode::OK);
    let first: Alert = first.json().await.unwrap();
    assert_eq!(first.state, AlertState::Silenced);
    // Applied again, the silence would end later: wait until the simulator's clock has moved
    // past the moment the first one was applied.
    let applied_at = first.silenced_until.unwrap() - chrono::Duration::minutes(30);
    wait_until(Duration::from_secs(10), "platform time to move on", || {
        gw.gateway.platform.now() > applied_at
    })
    .await;
    let retry = post_keyed(&gw, &silence, "silence-1", "li.wei", body).await;
    assert_eq!(retry.status(), StatusCode::OK);
    let retry: Alert = retry.json().await.unwrap();
    assert_eq!(retry.silenced_until, first.silenced_until);
    assert_eq!(
        alert_now(&gw, &alert.id).await.silenced_until,
        first.silenced_until,
        "applied once"
    );

    let other = json!({"duration": "1h", "comment": "rolling back"});
    let (status, body) =
        error_of(post_keyed(&gw, &silence, "silence-1", "li.wei", other).await).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.error.message.contains("Idempotency-Key"));
    assert_eq!(
        alert_now(&gw, &alert.id).await.silenced_until,
        first.silenced_until
    );
    gw.stop().await;
}

async fn desired(gw: &Running, app: &str) -> u32 {
    let detail: AppDetail = get_json(gw, &format!("/v1/apps/{app}")).await;
    detail.summary.replicas.desired
}

#[tokio::test]
async fn a_flood_of_keyed_acknowledgements_cannot_push_out_a_scale_key() {
    let sim = SimPlatform::new(SimConfig {
        seed: 7,
        speed: 120.0,
        scenario: Some("bad-release".into()),
        ..SimConfig::default()
    });
    let config = opsdeck::gateway::GatewayConfig {
        idempotency_keys: 8,
        control_idempotency_keys: 8,
        ..loopback_config()
    };
    let gw = common::gateway::start(config, Arc::new(sim)).await;
    let app = scalable_app(&gw).await;
    let scale = format!("/v1/apps/{}/scale", app.id);
    let target = app.replicas.desired + 1;
    let first = post_keyed(
        &gw,
        &scale,
        "scale-k",
        "li.wei",
        json!({"replicas": target}),
    )
    .await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    let first: ActionStatus = first.json().await.unwrap();
    // Someone else scales meanwhile; a second application of the first request would undo it.
    let other = app.replicas.desired + 2;
    let second = post_keyed(
        &gw,
        &scale,
        "scale-w",
        "wang.fang",
        json!({"replicas": other}),
    )
    .await;
    assert_eq!(second.status(), StatusCode::ACCEPTED);
    assert_eq!(desired(&gw, &app.id).await, other);

    // Three times the store's capacity of keyed acknowledgements of alerts that do not exist...
    for n in 0..24 {
        let resp = post_keyed(
            &gw,
            &format!("/v1/alerts/nonexistent-{n}/ack"),
            &format!("flood-{n}"),
            "mallory",
            json!({}),
        )
        .await;
        assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    }
    // ...and of one that does, whose answers are kept.
    let alert = firing_alert(&gw, "bad-release", 30).await;
    for n in 0..24 {
        let resp = post_keyed(
            &gw,
            &format!("/v1/alerts/{}/ack", alert.id),
            &format!("ack-flood-{n}"),
            "mallory",
            json!({}),
        )
        .await;
        assert!(!resp.status().is_server_error(), "{}", resp.status());
        assert_ne!(resp.status(), StatusCode::NOT_FOUND);
    }

    let retry = post_keyed(
        &gw,
        &scale,
        "scale-k",
        "li.wei",
        json!({"replicas": target}),
    )
    .await;
    assert_eq!(retry.status(), StatusCode::ACCEPTED);
    let retry: ActionStatus = retry.json().await.unwrap();
    assert_eq!(retry.id, first.id, "the retry gets the first answer");
    assert_eq!(
        desired(&gw, &app.id).await,
        other,
        "the retried scale must not apply again"
    );
    gw.stop().await;
}

#[tokio::test]
async fn a_404_under_a_key_is_not_remembered() {
    let gw = start_sim(7, 120.0, Some("bad-release")).await;
    let missing = post_keyed(
        &gw,
        "/v1/alerts/nonexistent/ack",
        "k-404",
        "li.wei",
        json!({}),
    )
    .await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    // The key applied nothing, so it is free for a real request.
    let alert = firing_alert(&gw, "bad-release", 30).await;
    let ack = post_keyed(
        &gw,
        &format!("/v1/alerts/{}/ack", alert.id),
        "k-404",
        "li.wei",
        json!({}),
    )
    .await;
    assert_eq!(ack.status(), StatusCode::OK);
    assert!(replays(&gw).await.ends_with(" 0"), "{}", replays(&gw).await);
    gw.stop().await;
}

/// GET /v1/apps/{app}/metrics: the app's samples the gateway holds, oldest first, within the
/// window asked for; an unknown app is a 404.
#[tokio::test]
async fn an_apps_metrics_history_is_its_samples_within_the_window() {
    use opsdeck::protocol::TimedSample;
    let gw = start_sim(7, 20.0, None).await;
    let points = common::wait::poll_until(
        Duration::from_secs(20),
        "a minute of shop-cart samples",
        async || {
            let points: Vec<TimedSample> =
                get_json(&gw, "/v1/apps/shop-cart/metrics?window=60").await;
            (points.len() >= 30).then_some(points)
        },
    )
    .await;
    assert!(
        points.windows(2).all(|w| w[0].ts < w[1].ts),
        "oldest first, once each"
    );
    let span = points.last().unwrap().ts - points[0].ts;
    assert!(span <= chrono::Duration::seconds(60), "{span}");
    assert!(points.iter().all(|p| p.sample.replicas_desired > 0));
    let resp = http()
        .get(url(&gw, "/v1/apps/no-such-app/metrics"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    for bad in ["abc", "0", "86401", "-5"] {
        let resp = http()
            .get(url(
                &gw,
                &format!("/v1/apps/shop-cart/metrics?window={bad}"),
            ))
            .send()
            .await
            .unwrap();
        let (status, body) = error_of(resp).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(body.error.message.contains("1 to 86400"), "{bad}: {body:?}");
    }
    gw.stop().await;
}
