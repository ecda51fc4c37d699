//! opsdeck against a real Prometheus (Debian's package, run as a plain process on loopback):
//! the gateway exports the simulator's apps on `/metrics`, Prometheus scrapes them, and a
//! gateway started with `--prometheus` streams what PromQL reads back.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::gateway::{get_json, get_text, loopback_config, start};
use common::real::{free_port, prometheus};
use common::stream::Client;
use common::wait::poll_until;
use opsdeck::gateway::metrics_source::PrometheusSource;
use opsdeck::platform::prometheus::{Prometheus, Queries};
use opsdeck::platform::sim::{SimConfig, SimPlatform};
use opsdeck::protocol::{
    AppDetail, Body, ClientMsg, Filter, MetricSample, MetricsProblemKind, ServerMsg, Topic,
};

fn sim(scenario: Option<&str>) -> Arc<SimPlatform> {
    Arc::new(SimPlatform::new(SimConfig {
        seed: 42,
        speed: 5.0,
        scenario: scenario.map(str::to_string),
        ..SimConfig::default()
    }))
}

/// The gateway's `/metrics` carries every simulated app in Prometheus text format.
#[tokio::test]
async fn the_gateway_exports_the_simulators_apps_for_prometheus() {
    let gw = start(loopback_config(), sim(None)).await;
    let text = poll_until(
        Duration::from_secs(20),
        "app metrics on /metrics",
        async || {
            let text = get_text(&gw, "/metrics").await;
            text.contains(r#"opsdeck_app_requests_total{app="shop-cart"}"#)
                .then_some(text)
        },
    )
    .await;
    for family in [
        "# TYPE opsdeck_app_requests_total counter",
        "# TYPE opsdeck_app_errors_total counter",
        "# TYPE opsdeck_app_request_duration_seconds histogram",
        "# TYPE opsdeck_app_cpu_ratio gauge",
        "# TYPE opsdeck_app_memory_bytes gauge",
        "# TYPE opsdeck_app_replicas_ready gauge",
        "# TYPE opsdeck_app_replicas_desired gauge",
        // The gateway's own stats are still there.
        "opsdeck_gateway_events_published_total",
    ] {
        assert!(text.contains(family), "no {family} in\n{text}");
    }
    assert!(
        text.contains(r#"opsdeck_app_request_duration_seconds_bucket{app="shop-cart",le="+Inf"}"#)
    );
    // The gateway's own: changes by action and result, runs by state.
    let reply = common::gateway::http()
        .post(common::gateway::url(&gw, "/v1/apps/shop-cart/scale"))
        .json(&serde_json::json!({"replicas": 5}))
        .send()
        .await
        .unwrap();
    assert!(reply.status().is_success());
    let text = get_text(&gw, "/metrics").await;
    assert!(
        text.contains(r#"opsdeck_gateway_actions_total{action="scale",result="ok"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"opsdeck_gateway_runs{state="waiting_approval"} 0"#),
        "{text}"
    );
    gw.stop().await;
}

/// The whole loop: the simulator behind a gateway, a real Prometheus scraping it, and the same
/// gateway reading each app back through PromQL onto the `metrics` topic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_come_back_through_promql_onto_the_stream() {
    let port = free_port();
    // One app's p99 query is overridden with a broken one (a queries file's [apps.ID]).
    let queries = Queries::parse(
        "[apps.pay-callback.queries]\np99 = 'histogram_quantile(0.99, sum(rate(x{app=\"{{app}}\"}[1m]))'\n",
    )
    .unwrap();
    let config = opsdeck::gateway::GatewayConfig {
        prometheus: Some(PrometheusSource {
            interval: Duration::from_secs(1),
            queries,
            ..PrometheusSource::new(&format!("http://127.0.0.1:{port}"))
        }),
        ..loopback_config()
    };
    let gw = start(config, sim(Some("bad-release"))).await;
    let Some(prom) = prometheus(port, &[gw.addr]).await else {
        gw.stop().await;
        return;
    };
    let mut client = Client::connect(gw.addr).await;
    client
        .send(&ClientMsg::Subscribe {
            topics: vec![Topic::Metrics],
            filter: Filter {
                apps: Some(vec!["shop-cart".into(), "pay-callback".into()]),
                min_level: None,
            },
            resume: Default::default(),
        })
        .await;
    assert!(matches!(client.recv().await, ServerMsg::Subscribed { .. }));
    // Two scrapes before rate() has a value: wait for traffic read through PromQL.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    let mut bad_query = None;
    let sample: MetricSample = loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no metrics through PromQL in 60 s"
        );
        let events = client.events(1, |_| {}).await;
        let mut found = None;
        for e in events {
            let Body::Metrics(s) = e.body else { continue };
            match (e.app.as_str(), s.problem) {
                ("pay-callback", Some(p)) => bad_query = Some(p),
                ("shop-cart", None) if s.rps > 0.0 && s.latency_ms.p99 > 0.0 => {
                    found = Some(MetricSample { problem: None, ..s })
                }
                _ => {}
            }
        }
        if let (Some(s), Some(_)) = (found, &bad_query) {
            break s;
        }
    };
    // The broken query's app carries Prometheus's own parse error, naming the value.
    let bad_query = bad_query.unwrap();
    assert_eq!(
        bad_query.kind,
        MetricsProblemKind::BadQuery,
        "{bad_query:?}"
    );
    assert!(
        bad_query.message.starts_with("bad PromQL: p99 — ")
            && bad_query.message.contains("parse error"),
        "{bad_query:?}"
    );
    // What PromQL says now, asked directly, agrees with what the stream carried.
    let direct = Prometheus::new(&prom.url, Duration::from_secs(5)).unwrap();
    let rps = direct
        .instant(r#"sum(rate(opsdeck_app_requests_total{app="shop-cart"}[1m]))"#)
        .await
        .unwrap()
        .unwrap();
    assert!(
        (sample.rps - rps).abs() <= rps * 0.5,
        "streamed {} rps, PromQL {rps}",
        sample.rps
    );
    let app: AppDetail = get_json(&gw, "/v1/apps/shop-cart").await;
    assert_eq!(sample.replicas_desired, app.summary.replicas.desired);
    assert!((0.0..=1.0).contains(&sample.error_ratio), "{sample:?}");
    assert!(sample.latency_ms.p50 <= sample.latency_ms.p99, "{sample:?}");
    assert!(sample.memory_mb > 0.0 && sample.cpu > 0.0, "{sample:?}");
    // Chart history through query_range: points on the 5 s step, the start aligned to it.
    let history: Vec<opsdeck::protocol::TimedSample> =
        get_json(&gw, "/v1/apps/shop-cart/metrics?window=600").await;
    assert!(!history.is_empty());
    assert!(
        history.iter().all(|p| p.ts.timestamp() % 5 == 0),
        "{history:?}"
    );
    assert!(history.iter().any(|p| p.sample.rps > 0.0), "{history:?}");
    // Prometheus gone: the next rounds say so, with when the values were last read.
    drop(prom);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let stale = loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no stale mark in 30 s"
        );
        let events = client.events(1, |_| {}).await;
        let found = events.into_iter().find_map(|e| match e.body {
            Body::Metrics(MetricSample {
                problem: Some(p), ..
            }) if e.app == "shop-cart" => Some(p),
            _ => None,
        });
        if let Some(p) = found {
            break p;
        }
    };
    assert_eq!(stale.kind, MetricsProblemKind::Unavailable, "{stale:?}");
    assert!(stale.last_good.is_some(), "{stale:?}");
    gw.stop().await;
}
