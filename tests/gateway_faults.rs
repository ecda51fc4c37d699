//! Faults found in review, each reproduced against a real gateway on 127.0.0.1:0: long
//! replays, resume points from another gateway, retries after a client timeout, slow and
//! healthy clients, shutdown, and rejections by the HTTP framework.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use common::gateway::{head, held, http, loopback_config, start_load};
use common::stream::Client;
use common::wait::wait_until;
use futures_util::StreamExt;
use opsdeck::gateway::GatewayConfig;
use opsdeck::platform::{ActionRequest, EventSink, Platform, PlatformError, RollbackPlan};
use opsdeck::protocol::{
    Alert, AppDetail, AppStatus, AppSummary, ClientMsg, ErrorBody, Filter, Release, Replicas, Seq,
    ServerMsg, TimelineEntry, Topic, close_code,
};
use tokio_tungstenite::tungstenite::Message;

fn subscribe(topics: &[Topic], resume: BTreeMap<Topic, Seq>) -> ClientMsg {
    ClientMsg::Subscribe {
        topics: topics.to_vec(),
        filter: Filter::default(),
        resume,
    }
}

/// Next message, or the close code (0 for an abrupt end); None when nothing but pings came
/// within `wait`.
async fn next_or_close(client: &mut Client, wait: Duration) -> Option<Result<ServerMsg, u16>> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let next = tokio::time::timeout_at(deadline, client.ws.next())
            .await
            .ok()??;
        match next {
            Ok(Message::Text(text)) => return Some(Ok(serde_json::from_str(&text).unwrap())),
            Ok(Message::Close(frame)) => {
                return Some(Err(frame.map(|f| u16::from(f.code)).unwrap_or(0)));
            }
            Ok(_) => continue,
            Err(_) => return Some(Err(0)),
        }
    }
}

#[tokio::test]
async fn a_resume_within_the_replay_buffer_is_replayed_whole_beyond_the_live_lag_limit() {
    let config = GatewayConfig {
        replay_buffer: 100_000,
        client_lag_limit: 1_000,
        ..loopback_config()
    };
    let gw = start_load(config, 20_000, Some(30_000)).await;
    let mut first = Client::connect(gw.addr).await;
    first
        .send(&subscribe(&[Topic::Logs], BTreeMap::new()))
        .await;
    let last = first.events(10, |_| {}).await.last().unwrap().seq;
    drop(first);
    wait_until(
        Duration::from_secs(20),
        "all 30k published and held",
        || held(&gw, Topic::Logs) + held(&gw, Topic::Metrics) == 30_000,
    )
    .await;
    let mut second = Client::connect(gw.addr).await;
    second
        .send(&subscribe(
            &[Topic::Logs],
            BTreeMap::from([(Topic::Logs, last)]),
        ))
        .await;
    // Everything is published: the replay ends at the newest line held, not after a quiet spell.
    let newest = head(&gw, Topic::Logs);
    let mut expect = last + 1;
    let mut replayed = 0;
    while expect <= newest {
        match second.recv().await {
            ServerMsg::Events { events } => {
                for e in events {
                    assert_eq!(e.seq, expect, "hole in the replay");
                    expect += 1;
                    replayed += 1;
                }
            }
            ServerMsg::Subscribed { .. } => {}
            other => panic!("a resume inside the replay buffer must lose nothing: {other:?}"),
        }
    }
    assert!(replayed > 20_000, "replayed only {replayed}");
    gw.stop().await;
}

#[tokio::test]
async fn a_resume_point_beyond_the_head_gets_a_resetting_gap() {
    let gw = start_load(loopback_config(), 2000, None).await;
    let mut client = Client::connect(gw.addr).await;
    client
        .send(&subscribe(&[Topic::Logs], BTreeMap::new()))
        .await;
    let head = match client.recv().await {
        ServerMsg::Subscribed { head, .. } => head[&Topic::Logs],
        other => panic!("{other:?}"),
    };
    drop(client);
    let ahead = head + 1_000_000; // one second of clock skew between two gateways
    let mut client = Client::connect(gw.addr).await;
    client
        .send(&subscribe(
            &[Topic::Logs],
            BTreeMap::from([(Topic::Logs, ahead)]),
        ))
        .await;
    assert!(matches!(client.recv().await, ServerMsg::Subscribed { .. }));
    let to = match client.recv().await {
        ServerMsg::Gap {
            topic, to, reset, ..
        } => {
            assert_eq!(topic, Topic::Logs);
            assert!(reset, "the client must drop its resume point");
            to
        }
        other => panic!("expected a resetting gap, got {other:?}"),
    };
    let events = client.events(5, |_| {}).await;
    assert_eq!(events[0].seq, to + 1, "events continue right after the gap");
    gw.stop().await;
}

/// A platform whose scale takes effect at once but answers slowly, counting applications.
struct SlowScale {
    applied: AtomicU32,
}

#[async_trait::async_trait]
impl Platform for SlowScale {
    fn name(&self) -> &str {
        "slow"
    }
    async fn run(&self, sink: EventSink) {
        sink.closed().await;
    }
    async fn apps(&self) -> Result<Vec<AppSummary>, PlatformError> {
        Ok(vec![self.app("a").await?.summary])
    }
    async fn app(&self, app: &str) -> Result<AppDetail, PlatformError> {
        Ok(AppDetail {
            summary: AppSummary {
                id: app.into(),
                name: app.into(),
                region: String::new(),
                release: "r-1".into(),
                version: "v1".into(),
                replicas: Replicas {
                    desired: 1,
                    ready: 1,
                    min: 1,
                    max: 10,
                },
                status: AppStatus::Healthy,
                metrics: None,
                stale_since: None,
                stale_reason: None,
                runbooks: Vec::new(),
            },
            pods: Vec::new(),
        })
    }
    async fn releases(&self, _: &str) -> Result<Vec<Release>, PlatformError> {
        Ok(Vec::new())
    }
    async fn scale(&self, _: &str, _: u32, _: ActionRequest) -> Result<(), PlatformError> {
        self.applied.fetch_add(1, Ordering::SeqCst);
        // Slow on purpose, so the client below gives up first; nothing is asserted by waiting.
        tokio::time::sleep(Duration::from_millis(500)).await;
        Ok(())
    }
    async fn rollback(
        &self,
        _: &str,
        _: Option<&str>,
        _: ActionRequest,
    ) -> Result<RollbackPlan, PlatformError> {
        Err(PlatformError::Unavailable("the platform is down".into()))
    }
    async fn alerts(&self) -> Result<Vec<Alert>, PlatformError> {
        Ok(Vec::new())
    }
    async fn acknowledge(&self, _: &str, _: &str) -> Result<Alert, PlatformError> {
        Err(PlatformError::Unsupported("no".into()))
    }
    async fn silence(&self, _: &str, _: u64, _: &str, _: &str) -> Result<Alert, PlatformError> {
        Err(PlatformError::Unsupported("no".into()))
    }
    async fn events(&self) -> Result<Vec<TimelineEntry>, PlatformError> {
        Ok(Vec::new())
    }
}

#[tokio::test]
async fn a_retry_after_a_client_timeout_is_applied_once() {
    let platform = Arc::new(SlowScale {
        applied: AtomicU32::new(0),
    });
    let gw = common::gateway::start(loopback_config(), platform.clone()).await;
    let url = format!("http://{}/v1/apps/a/scale", gw.addr);
    opsdeck::client::tls::install_crypto_provider();
    let impatient = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let first = impatient
        .post(&url)
        .header("idempotency-key", "k-1")
        .body(r#"{"replicas":3}"#)
        .send()
        .await;
    assert!(first.is_err(), "the first attempt times out on the client");
    // The retry comes while the first attempt is still in the platform.
    wait_until(
        Duration::from_secs(10),
        "the first attempt to reach the platform",
        || platform.applied.load(Ordering::SeqCst) == 1,
    )
    .await;
    let retry = http()
        .post(&url)
        .header("idempotency-key", "k-1")
        .body(r#"{"replicas":3}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(retry.status(), 202);
    assert_eq!(platform.applied.load(Ordering::SeqCst), 1, "applied twice");
    gw.stop().await;
}

#[tokio::test]
async fn transient_failures_are_not_remembered_under_an_idempotency_key() {
    let platform = Arc::new(SlowScale {
        applied: AtomicU32::new(0),
    });
    let gw = common::gateway::start(loopback_config(), platform).await;
    let url = format!("http://{}/v1/apps/a/rollback", gw.addr);
    for _ in 0..2 {
        let resp = http()
            .post(&url)
            .header("idempotency-key", "k-2")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 503);
    }
    let metrics = common::gateway::get_text(&gw, "/metrics").await;
    assert!(
        metrics.contains("opsdeck_gateway_idempotent_replays_total 0"),
        "a 503 must be retried, not replayed"
    );
    gw.stop().await;
}

#[tokio::test]
async fn a_client_that_keeps_falling_behind_is_closed_with_1008_after_the_grace() {
    let config = GatewayConfig {
        client_lag_limit: 500,
        slow_client_grace: Duration::from_secs(3),
        ..loopback_config()
    };
    let gw = start_load(config, 20_000, None).await;
    let mut slow = common::stream::stalled_client(gw.addr).await;
    slow.send(&subscribe(&[Topic::Metrics, Topic::Logs], BTreeMap::new()))
        .await;
    // Generous: on a loaded machine the firehose runs slower and the lag builds later.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let code = loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "a client losing most events is still connected"
        );
        match next_or_close(&mut slow, Duration::from_secs(5)).await {
            Some(Err(code)) => break code,
            Some(Ok(_)) => {}
            None => panic!("no frame for 5 s"),
        }
        // A slow reader on purpose (about 20 frames a second); the close it gets is awaited
        // above, not inferred from silence.
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(code, close_code::POLICY);
    gw.stop().await;
}

/// The replay below keeps the gateway busy sending for about three heartbeat intervals, with no
/// pings in between; only the unanswered ping after it may count against the client, and the
/// client answers it once it has read the last ~0.5 s of frames the kernel still buffers.
#[tokio::test]
async fn a_healthy_client_is_not_closed_after_a_long_replay() {
    let config = GatewayConfig {
        replay_buffer: 100_000,
        heartbeat: Duration::from_secs(1),
        ..loopback_config()
    };
    let gw = start_load(config, 20_000, Some(100_000)).await;
    wait_until(
        Duration::from_secs(30),
        "all 100k published and held",
        || held(&gw, Topic::Logs) + held(&gw, Topic::Metrics) == 100_000,
    )
    .await;
    let mut client = Client::connect(gw.addr).await;
    client
        .send(&subscribe(
            &[Topic::Metrics, Topic::Logs],
            BTreeMap::from([(Topic::Metrics, 0), (Topic::Logs, 0)]),
        ))
        .await;
    let mut received = 0;
    while received < 100_000 {
        match next_or_close(&mut client, Duration::from_secs(5)).await {
            Some(Ok(ServerMsg::Events { events })) => received += events.len(),
            Some(Ok(_)) => {}
            Some(Err(code)) => panic!("healthy client closed with {code} after {received} events"),
            None => panic!("stalled after {received} events"),
        }
        // A steady, healthy reader: pacing only, nothing is inferred from the pause.
        tokio::time::sleep(Duration::from_millis(8)).await;
    }
    // Not closed right after the replay: the gateway judges a client at each heartbeat tick
    // and pings it only if it keeps it, so three pings after the replay (each answered as it
    // is read) are three judgements in the client's favour.
    let mut pings = 0;
    while pings < 3 {
        match tokio::time::timeout(Duration::from_secs(5), client.ws.next()).await {
            Ok(Some(Ok(Message::Ping(_)))) => pings += 1,
            Ok(Some(Ok(Message::Close(frame)))) => {
                panic!("healthy client closed right after its replay: {frame:?}")
            }
            Ok(Some(Ok(_))) => {}
            other => panic!("no heartbeat after the replay: {other:?}"),
        }
    }
    gw.stop().await;
}

#[tokio::test]
async fn stopping_the_gateway_closes_streams_with_1001() {
    let gw = start_load(loopback_config(), 1000, None).await;
    let mut client = Client::connect(gw.addr).await;
    client
        .send(&subscribe(&[Topic::Logs], BTreeMap::new()))
        .await;
    assert!(matches!(client.recv().await, ServerMsg::Subscribed { .. }));
    gw.stop().await;
    loop {
        match next_or_close(&mut client, Duration::from_secs(5)).await {
            Some(Err(code)) => {
                assert_eq!(code, close_code::GOING_AWAY);
                break;
            }
            Some(Ok(_)) => continue,
            None => panic!("no close frame 5 s after stop()"),
        }
    }
}

#[tokio::test]
async fn framework_rejections_use_the_error_shape() {
    let gw = start_load(loopback_config(), 10, None).await;
    let c = http();
    let base = format!("http://{}", gw.addr);
    let cases = vec![
        (
            "wrong method",
            405,
            c.get(format!("{base}/v1/apps/load-0/scale")),
        ),
        (
            "bad path encoding",
            400,
            c.get(format!("{base}/v1/apps/%FF")),
        ),
        (
            "oversized body",
            413,
            c.post(format!("{base}/v1/apps/load-0/scale")).body(format!(
                r#"{{"replicas":1,"pad":"{}"}}"#,
                "x".repeat(3 << 20)
            )),
        ),
        (
            "stream without upgrade",
            400,
            c.get(format!("{base}/v1/stream")),
        ),
        (
            "unknown field",
            422,
            c.post(format!("{base}/v1/apps/load-0/scale"))
                .body(r#"{"replicas":1,"pad":"x"}"#),
        ),
        (
            "oversized idempotency key",
            400,
            c.post(format!("{base}/v1/apps/load-0/scale"))
                .header("idempotency-key", "k".repeat(300))
                .body(r#"{"replicas":1}"#),
        ),
    ];
    let mut bad = Vec::new();
    for (name, want, req) in cases {
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap();
        if status != want || serde_json::from_str::<ErrorBody>(&text).is_err() {
            bad.push(format!("{name}: want {want}, got {status} {text:?}"));
        }
    }
    assert!(
        bad.is_empty(),
        "not the documented errors:\n{}",
        bad.join("\n")
    );
    gw.stop().await;
}
