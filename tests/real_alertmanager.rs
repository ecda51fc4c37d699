//! opsdeck against a real Alertmanager (Debian's package, run as a plain process on loopback):
//! alerts posted to Alertmanager reach stream clients through its webhook and its API, a
//! silence made through the gateway is an Alertmanager silence, resolutions reach the stream,
//! and an Alertmanager that goes away leaves its alerts marked stale, not gone.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::Timelike;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use common::gateway::{get_json, http, loopback_config, start, url};
use common::real::{RealProcess, alertmanager, free_port, prometheus_alerting};
use common::stream::Client;
use common::wait::poll_until;
use opsdeck::gateway::{GatewayConfig, Running};
use opsdeck::platform::alertmanager::AlertmanagerSource;
use opsdeck::platform::sim::{SimConfig, SimPlatform};
use opsdeck::protocol::{Alert, AlertState, Body, ClientMsg, Filter, ServerMsg, Severity, Topic};

/// A gateway on the simulator whose alerts come from an Alertmanager on `port`, read every
/// `interval`, and that Alertmanager, sending its webhook to the gateway.
async fn pair(interval: Duration) -> Option<(Running, RealProcess)> {
    pair_on(free_port(), interval).await
}

async fn pair_on(port: u16, interval: Duration) -> Option<(Running, RealProcess)> {
    let config = GatewayConfig {
        alertmanager: Some(AlertmanagerSource {
            interval,
            ..AlertmanagerSource::new(&format!("http://127.0.0.1:{port}"))
        }),
        ..loopback_config()
    };
    let sim = Arc::new(SimPlatform::new(SimConfig {
        seed: 42,
        speed: 5.0,
        // The simulator's own alerts would fire here: they must not reach the stream.
        scenario: Some("bad-release".into()),
        ..SimConfig::default()
    }));
    let gw = start(config, sim).await;
    let hook = url(&gw, "/v1/hooks/alertmanager");
    match alertmanager(port, &hook).await {
        Some(am) => Some((gw, am)),
        None => {
            gw.stop().await;
            None
        }
    }
}

/// Post an alert to Alertmanager's API, as Prometheus would; `ends_in` from now.
async fn post_alert(am: &RealProcess, name: &str, ends_in: chrono::Duration) {
    let now = Utc::now();
    let alert = serde_json::json!([{
        "labels": {
            "alertname": name, "app": "shop-cart", "severity": "P1",
            "runbook": "rollback-bad-release",
        },
        "annotations": {"summary": "shop-cart errors above 5%"},
        "startsAt": now - chrono::Duration::seconds(10),
        "endsAt": now + ends_in,
    }]);
    let r = http()
        .post(format!("{}/api/v2/alerts", am.url))
        .json(&alert)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
}

async fn alerts_client(gw: &Running) -> Client {
    let mut client = Client::connect(gw.addr).await;
    client
        .send(&ClientMsg::Subscribe {
            topics: vec![Topic::Alerts],
            filter: Filter::default(),
            resume: Default::default(),
        })
        .await;
    assert!(matches!(client.recv().await, ServerMsg::Subscribed { .. }));
    client
}

/// The next alert on the stream that `want` accepts; every alert seen must be Alertmanager's.
async fn next_alert(client: &mut Client, what: &str, want: impl Fn(&Alert) -> bool) -> Alert {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        assert!(tokio::time::Instant::now() < deadline, "no {what} in 60 s");
        let Some(msg) = client.try_recv(Duration::from_secs(1)).await else {
            continue;
        };
        let ServerMsg::Events { events } = msg else {
            continue;
        };
        for event in events {
            if let Body::Alerts(alert) = event.body {
                assert_eq!(
                    alert.rule, "HighErrorRatio",
                    "not Alertmanager's: {alert:?}"
                );
                if want(&alert) {
                    return alert;
                }
            }
        }
    }
}

/// With polling an hour apart, only the webhook can bring the alert: it does, at once, as a
/// P-severity alert naming its runbook. A malformed hook is refused with 400 and loses nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_reaches_the_stream_through_the_webhook() {
    let Some((gw, am)) = pair(Duration::from_secs(3600)).await else {
        return;
    };
    let mut client = alerts_client(&gw).await;
    post_alert(&am, "HighErrorRatio", chrono::Duration::minutes(5)).await;
    let alert = next_alert(&mut client, "a firing alert", |a| {
        a.state == AlertState::Firing
    })
    .await;
    assert_eq!(alert.severity, Severity::P1);
    assert_eq!(alert.runbook.as_deref(), Some("rollback-bad-release"));
    assert_eq!(alert.app, "shop-cart");
    assert_eq!(alert.summary, "shop-cart errors above 5%");

    let r = http()
        .post(url(&gw, "/v1/hooks/alertmanager"))
        .body(r#"{"version": "3", "alerts": []}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let body: serde_json::Value = r.json().await.unwrap();
    assert!(body.to_string().contains("version"), "{body}");
    let listed: Vec<Alert> = get_json(&gw, "/v1/alerts").await;
    assert_eq!(listed, vec![alert]);
    drop(am);
    gw.stop().await;
}

/// A silence made through the gateway is an Alertmanager silence on the alert's labels; the
/// alert shows silenced; when it resolves in Alertmanager it resolves on the stream.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_silence_is_an_alertmanager_silence_and_resolution_reaches_the_stream() {
    let Some((gw, am)) = pair(Duration::from_secs(1)).await else {
        return;
    };
    let mut client = alerts_client(&gw).await;
    post_alert(&am, "HighErrorRatio", chrono::Duration::minutes(5)).await;
    let alert = next_alert(&mut client, "a firing alert", |a| {
        a.state == AlertState::Firing
    })
    .await;

    let r = http()
        .post(url(&gw, &format!("/v1/alerts/{}/silence", alert.id)))
        .json(&serde_json::json!({"duration": "30m", "comment": "rolling back"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let silenced: Alert = r.json().await.unwrap();
    assert_eq!(silenced.state, AlertState::Silenced);
    assert!(silenced.silenced_until.is_some());

    // Alertmanager has it, made by the actor, on the alert's labels.
    let silences: Vec<serde_json::Value> = http()
        .get(format!("{}/api/v2/silences", am.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(silences.len(), 1, "{silences:?}");
    let silence = &silences[0];
    assert_eq!(silence["createdBy"], "operator");
    assert_eq!(silence["comment"], "rolling back");
    assert_eq!(silence["status"]["state"], "active");
    let matchers = silence["matchers"].as_array().unwrap();
    assert!(
        matchers
            .iter()
            .any(|m| m["name"] == "alertname" && m["value"] == "HighErrorRatio"),
        "{matchers:?}"
    );
    // And Alertmanager itself now holds the alert suppressed; the gateway still says silenced.
    poll_until(
        Duration::from_secs(30),
        "the alert suppressed",
        async || {
            let alerts: Vec<serde_json::Value> = http()
                .get(format!("{}/api/v2/alerts", am.url))
                .send()
                .await
                .ok()?
                .json()
                .await
                .ok()?;
            (alerts.first()?["status"]["state"] == "suppressed").then_some(())
        },
    )
    .await;
    let listed: Vec<Alert> = get_json(&gw, "/v1/alerts").await;
    assert_eq!(listed[0].state, AlertState::Silenced);

    // Expired through the gateway: the silence is expired in Alertmanager, the alert fires.
    let r = http()
        .delete(url(&gw, &format!("/v1/alerts/{}/silence", alert.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let firing: Alert = r.json().await.unwrap();
    assert_eq!(firing.state, AlertState::Firing);
    assert_eq!(firing.silenced_until, None);
    let silences: Vec<serde_json::Value> = http()
        .get(format!("{}/api/v2/silences", am.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(silences[0]["status"]["state"], "expired", "{silences:?}");
    // Nothing left to expire: a clear 409.
    let r = http()
        .delete(url(&gw, &format!("/v1/alerts/{}/silence", alert.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);

    // A silence made elsewhere (amtool, Alertmanager's UI) shows, with its end and author.
    let ends_at = (chrono::Utc::now() + chrono::Duration::hours(2))
        .with_nanosecond(0)
        .unwrap();
    let r = http()
        .post(format!("{}/api/v2/silences", am.url))
        .json(&serde_json::json!({
            "matchers": [{"name": "alertname", "value": "HighErrorRatio", "isRegex": false, "isEqual": true}],
            "startsAt": chrono::Utc::now(),
            "endsAt": ends_at,
            "createdBy": "amtool-ana",
            "comment": "db maintenance",
        }))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{:?}", r.text().await);
    // (The stream first replays the earlier changes: the 30 m silence, its expiry.)
    let elsewhere = next_alert(&mut client, "the alert silenced elsewhere", |a| {
        a.state == AlertState::Silenced
            && a.silenced_until > Some(chrono::Utc::now() + chrono::Duration::hours(1))
    })
    .await;
    assert_eq!(elsewhere.silenced_until, Some(ends_at));
    assert_eq!(
        elsewhere.comment.as_deref(),
        Some("db maintenance — amtool-ana")
    );

    // The alert ends in Alertmanager: resolved on the stream.
    post_alert(&am, "HighErrorRatio", chrono::Duration::zero()).await;
    let resolved = next_alert(&mut client, "the alert resolved", |a| {
        a.state == AlertState::Resolved
    })
    .await;
    assert_eq!(resolved.id, alert.id);
    assert!(resolved.resolved_at.is_some());
    drop(am);
    gw.stop().await;
}

/// Alertmanager killed: the alert stays listed and firing, marked stale since its last answer,
/// and the stream says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_down_marks_the_alerts_stale_not_emptied() {
    let Some((gw, mut am)) = pair(Duration::from_secs(1)).await else {
        return;
    };
    let mut client = alerts_client(&gw).await;
    post_alert(&am, "HighErrorRatio", chrono::Duration::minutes(5)).await;
    let alert = next_alert(&mut client, "a firing alert", |a| {
        a.state == AlertState::Firing
    })
    .await;
    am.kill();
    let stale = next_alert(&mut client, "the alert marked stale", |a| {
        a.stale_since.is_some()
    })
    .await;
    assert_eq!(stale.id, alert.id);
    assert_eq!(stale.state, AlertState::Firing);
    let listed: Vec<Alert> = get_json(&gw, "/v1/alerts").await;
    assert_eq!(listed.len(), 1);
    assert!(listed[0].stale_since.is_some(), "{listed:?}");
    gw.stop().await;
}

/// The whole chain: the simulator's bad release raises shop-cart's errors on the gateway's
/// `/metrics`, a real Prometheus scrapes them and fires a rule, Alertmanager takes the alert,
/// and a stream client gets it as a P1 alert naming its runbook; silenced through the gateway,
/// it is silenced in Alertmanager; rolled back, the rule stops and the alert resolves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_prometheus_rule_on_the_simulators_metrics_reaches_the_stream() {
    let am_port = free_port();
    let Some((gw, am)) = pair_on(am_port, Duration::from_secs(1)).await else {
        return;
    };
    let rules = r#"groups:
  - name: opsdeck
    interval: 1s
    rules:
      - alert: HighErrorRatio
        expr: sum by (app) (rate(opsdeck_app_errors_total{app="shop-cart"}[15s])) / sum by (app) (rate(opsdeck_app_requests_total{app="shop-cart"}[15s])) > 0.05
        labels: { severity: P1, runbook: bad-release }
        annotations: { summary: "{{ $labels.app }} errors above 5%" }
"#;
    let mut client = alerts_client(&gw).await;
    let Some(prom) = prometheus_alerting(free_port(), &[gw.addr], am.addr, rules).await else {
        drop(am);
        gw.stop().await;
        return;
    };
    let alert = next_alert(&mut client, "the rule's alert", |a| {
        a.state == AlertState::Firing
    })
    .await;
    assert_eq!(alert.rule, "HighErrorRatio");
    assert_eq!(alert.severity, Severity::P1);
    assert_eq!(alert.runbook.as_deref(), Some("bad-release"));
    assert_eq!(alert.app, "shop-cart");
    assert_eq!(alert.summary, "shop-cart errors above 5%");

    // Silenced through the gateway: an Alertmanager silence, and the alert shows silenced.
    let r = http()
        .post(url(&gw, &format!("/v1/alerts/{}/silence", alert.id)))
        .json(&serde_json::json!({"duration": "1h", "comment": "rolling back"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);
    let silences: Vec<serde_json::Value> = http()
        .get(format!("{}/api/v2/silences", am.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(silences.len(), 1, "{silences:?}");
    assert_eq!(silences[0]["createdBy"], "operator");
    next_alert(&mut client, "the alert silenced", |a| {
        a.id == alert.id && a.state == AlertState::Silenced
    })
    .await;

    // The bad release rolled back: errors fall, the rule stops firing, and the alert resolves.
    let r = http()
        .post(url(&gw, "/v1/apps/shop-cart/rollback"))
        .json(&serde_json::json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 202, "{:?}", r.text().await);
    next_alert(&mut client, "the alert resolved", |a| {
        a.id == alert.id && a.state == AlertState::Resolved
    })
    .await;
    drop(prom);
    drop(am);
    gw.stop().await;
}
