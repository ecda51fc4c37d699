//! The stream contract against a real gateway on 127.0.0.1:0, driven by a real WebSocket client:
//! sequence numbers, resume, gaps, filters, bad frames, oversized frames, slow clients.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::gateway::{head, loopback_config, oldest, start_load};
use common::stream::Client;
use common::wait::{poll_until, wait_until};
use opsdeck::protocol::{ClientMsg, Event, Filter, Level, Seq, ServerMsg, Topic, close_code};
use tokio_tungstenite::tungstenite::Message;

fn subscribe(topics: &[Topic], resume: BTreeMap<Topic, Seq>) -> ClientMsg {
    ClientMsg::Subscribe {
        topics: topics.to_vec(),
        filter: Filter::default(),
        resume,
    }
}

fn assert_contiguous(events: &[Event]) -> BTreeMap<Topic, Seq> {
    let mut last: BTreeMap<Topic, Seq> = BTreeMap::new();
    for event in events {
        if let Some(prev) = last.get(&event.topic()) {
            assert_eq!(event.seq, prev + 1, "{} sequence jumped", event.topic());
        }
        last.insert(event.topic(), event.seq);
    }
    last
}

#[tokio::test]
async fn subscribers_receive_each_topic_with_contiguous_sequence_numbers() {
    let gw = start_load(loopback_config(), 4000, None).await;
    let mut client = Client::connect(gw.addr).await;
    client
        .send(&subscribe(&[Topic::Metrics, Topic::Logs], BTreeMap::new()))
        .await;
    match client.recv().await {
        ServerMsg::Subscribed { topics, head } => {
            assert_eq!(topics, vec![Topic::Metrics, Topic::Logs]);
            assert!(head.contains_key(&Topic::Logs));
        }
        other => panic!("expected subscribed, got {other:?}"),
    }
    let events = client.events(2000, |m| panic!("unexpected {m:?}")).await;
    let last = assert_contiguous(&events);
    assert!(last.contains_key(&Topic::Metrics) && last.contains_key(&Topic::Logs));
    assert!(events.iter().all(|e| e.app.starts_with("load-")));
    gw.stop().await;
}

#[tokio::test]
async fn resume_after_a_dropped_connection_loses_nothing_and_duplicates_nothing() {
    let gw = start_load(loopback_config(), 4000, None).await;
    let mut first = Client::connect(gw.addr).await;
    first
        .send(&subscribe(&[Topic::Metrics, Topic::Logs], BTreeMap::new()))
        .await;
    let before = first.events(800, |_| {}).await;
    let last = assert_contiguous(&before);
    drop(first); // the link drops mid-stream
    // Events keep flowing meanwhile: wait until both topics have moved well past the resume
    // point, so the resume has something to replay.
    wait_until(
        Duration::from_secs(10),
        "events published after the drop",
        || {
            head(&gw, Topic::Logs) >= last[&Topic::Logs] + 300
                && head(&gw, Topic::Metrics) >= last[&Topic::Metrics] + 30
        },
    )
    .await;

    let mut second = Client::connect(gw.addr).await;
    second
        .send(&subscribe(&[Topic::Metrics, Topic::Logs], last.clone()))
        .await;
    let after = second
        .events(3000, |m| {
            assert!(
                !matches!(m, ServerMsg::Gap { .. } | ServerMsg::Dropped { .. }),
                "unexpected {m:?}"
            )
        })
        .await;
    for topic in [Topic::Metrics, Topic::Logs] {
        let first_after = after.iter().find(|e| e.topic() == topic).unwrap();
        assert_eq!(
            first_after.seq,
            last[&topic] + 1,
            "{topic} resumed at the wrong place"
        );
    }
    assert_contiguous(&after);
    gw.stop().await;
}

#[tokio::test]
async fn resume_from_beyond_the_buffer_gets_an_explicit_gap_then_the_rest() {
    let config = opsdeck::gateway::GatewayConfig {
        replay_buffer: 100,
        ..loopback_config()
    };
    let gw = start_load(config, 4000, None).await;
    let mut first = Client::connect(gw.addr).await;
    first
        .send(&subscribe(&[Topic::Logs], BTreeMap::new()))
        .await;
    let seen = first.events(10, |_| {}).await;
    let last = seen.last().unwrap().seq;
    drop(first);
    // Wait until `last` and the lines after it have left the 100-line buffer.
    wait_until(
        Duration::from_secs(10),
        "the resume point to leave the buffer",
        || oldest(&gw, Topic::Logs) > last + 50,
    )
    .await;

    let mut second = Client::connect(gw.addr).await;
    second
        .send(&subscribe(
            &[Topic::Logs],
            BTreeMap::from([(Topic::Logs, last)]),
        ))
        .await;
    assert!(matches!(second.recv().await, ServerMsg::Subscribed { .. }));
    let (from, to) = match second.recv().await {
        ServerMsg::Gap {
            topic, from, to, ..
        } => {
            assert_eq!(topic, Topic::Logs);
            (from, to)
        }
        other => panic!("expected a gap, got {other:?}"),
    };
    assert_eq!(from, last + 1);
    assert!(to > from, "the gap must cover the lost lines");
    let events = second.events(50, |m| panic!("unexpected {m:?}")).await;
    assert_eq!(
        events[0].seq,
        to + 1,
        "replay must start right after the gap"
    );
    assert_contiguous(&events);
    gw.stop().await;
}

#[tokio::test]
async fn filters_by_app_and_minimum_level() {
    let gw = start_load(loopback_config(), 4000, None).await;
    let mut client = Client::connect(gw.addr).await;
    client
        .send(&ClientMsg::Subscribe {
            topics: vec![Topic::Logs, Topic::Metrics],
            filter: Filter {
                apps: Some(vec!["load-1".into()]),
                min_level: Some(Level::Warn),
            },
            resume: BTreeMap::new(),
        })
        .await;
    let events = client.events(20, |_| {}).await;
    assert!(events.iter().all(|e| e.app == "load-1"));
    for event in &events {
        if let opsdeck::protocol::Body::Logs(line) = &event.body {
            assert!(line.level >= Level::Warn, "{line:?} is below warn");
        }
    }
    assert!(events.iter().any(|e| e.topic() == Topic::Logs));
    gw.stop().await;
}

#[tokio::test]
async fn malformed_messages_get_error_frames_and_the_connection_keeps_working() {
    let gw = start_load(loopback_config(), 1000, None).await;
    let mut client = Client::connect(gw.addr).await;
    for bad in [
        "not json at all",
        r#"{"type":"subscribe","topics":["weather"]}"#,
        r#"{"type":"launch_rockets"}"#,
        r#"{"type":"subscribe","topics":[]}"#,
    ] {
        client.send_text(bad).await;
        match client.recv().await {
            ServerMsg::Error { code, message } => {
                assert_eq!(code, "bad_message");
                assert!(!message.is_empty());
            }
            other => panic!("expected an error for {bad:?}, got {other:?}"),
        }
    }
    client.ws.send_binary_for_test(vec![1, 2, 3]).await;
    assert!(matches!(client.recv().await, ServerMsg::Error { .. }));
    client
        .send(&subscribe(&[Topic::Logs], BTreeMap::new()))
        .await;
    assert!(matches!(client.recv().await, ServerMsg::Subscribed { .. }));
    assert!(!client.events(5, |_| {}).await.is_empty());
    gw.stop().await;
}

#[tokio::test]
async fn an_oversized_frame_closes_that_connection_with_1009_and_others_keep_streaming() {
    let config = opsdeck::gateway::GatewayConfig {
        max_frame_bytes: 4096,
        ..loopback_config()
    };
    let gw = start_load(config, 2000, None).await;
    let mut bystander = Client::connect(gw.addr).await;
    bystander
        .send(&subscribe(&[Topic::Logs], BTreeMap::new()))
        .await;

    let mut offender = Client::connect(gw.addr).await;
    let huge = format!(
        r#"{{"type":"subscribe","topics":["logs"],"filter":{{"apps":["{}"]}}}}"#,
        "x".repeat(10_000)
    );
    offender.send_text(&huge).await;
    let code = loop {
        use futures_util::StreamExt;
        match tokio::time::timeout(Duration::from_secs(10), offender.ws.next()).await {
            Ok(Some(Ok(Message::Close(Some(frame))))) => break u16::from(frame.code),
            Ok(Some(Ok(_))) => continue,
            other => panic!("expected a close frame, got {other:?}"),
        }
    };
    assert_eq!(code, close_code::TOO_BIG);

    let events = bystander.events(100, |_| {}).await;
    assert_contiguous(&events);
    gw.stop().await;
}

trait SendBinary {
    async fn send_binary_for_test(&mut self, bytes: Vec<u8>);
}

impl SendBinary
    for tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>
{
    async fn send_binary_for_test(&mut self, bytes: Vec<u8>) {
        use futures_util::SinkExt;
        self.send(Message::Binary(bytes.into())).await.unwrap();
    }
}

#[tokio::test]
async fn a_stalled_client_does_not_hold_back_a_fast_one_and_gets_coalesced_metrics_and_dropped_counts()
 {
    let config = opsdeck::gateway::GatewayConfig {
        client_lag_limit: 200,
        replay_buffer: 20_000,
        ..loopback_config()
    };
    let gw = start_load(config, 20_000, None).await;
    let all = [Topic::Metrics, Topic::Logs];

    let mut slow = common::stream::stalled_client(gw.addr).await;
    slow.send(&subscribe(&all, BTreeMap::new())).await;
    let mut fast = Client::connect(gw.addr).await;
    fast.send(&subscribe(&all, BTreeMap::new())).await;

    let rss_before = common::gateway::rss_kib();
    // The fast client reads 60k events (3 s of traffic, ~15 MB, far beyond the kernel's socket
    // buffers) while the slow one reads nothing.
    let mut last: BTreeMap<Topic, Seq> = BTreeMap::new();
    let mut received = 0;
    while received < 60_000 {
        match fast.recv().await {
            ServerMsg::Events { events } => {
                for e in events {
                    if let Some(prev) = last.insert(e.topic(), e.seq) {
                        assert_eq!(e.seq, prev + 1, "the fast client lost or repeated events");
                    }
                    received += 1;
                }
            }
            ServerMsg::Subscribed { .. } => {}
            other => panic!("the fast client must not be throttled: {other:?}"),
        }
    }
    let rss_growth_mib = common::gateway::rss_kib().saturating_sub(rss_before) / 1024;
    assert!(
        rss_growth_mib < 64,
        "gateway memory grew by {rss_growth_mib} MiB while a client stalled"
    );

    // Now the slow client drains: it must be told what it lost, never silently skip.
    let mut dropped: BTreeMap<Topic, u64> = BTreeMap::new();
    let mut log_jump_explained = true;
    let mut expect_coalesced = false;
    let mut coalesced_seen = false;
    let mut last_log: Option<Seq> = None;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !(dropped.contains_key(&Topic::Logs) && coalesced_seen)
        && tokio::time::Instant::now() < deadline
    {
        match slow.recv().await {
            ServerMsg::Dropped { topic, count } => {
                *dropped.entry(topic).or_default() += count;
                if topic == Topic::Metrics {
                    expect_coalesced = true;
                }
            }
            ServerMsg::Events { events } => {
                if std::mem::take(&mut expect_coalesced) {
                    // Skipped metrics are replaced by the latest sample of every app.
                    let apps: std::collections::BTreeSet<&str> = events
                        .iter()
                        .take_while(|e| e.topic() == Topic::Metrics)
                        .map(|e| e.app.as_str())
                        .collect();
                    assert_eq!(apps.len(), 4, "coalesced metrics must cover every app");
                    coalesced_seen = true;
                }
                for e in events.iter().filter(|e| e.topic() == Topic::Logs) {
                    if let Some(prev) = last_log
                        && e.seq != prev + 1
                        && !dropped.contains_key(&Topic::Logs)
                    {
                        log_jump_explained = false;
                    }
                    last_log = Some(e.seq);
                }
            }
            _ => {}
        }
    }
    assert!(
        log_jump_explained,
        "log lines skipped without a dropped notice"
    );
    assert!(
        dropped.get(&Topic::Logs).copied().unwrap_or(0) > 0,
        "a stalled client must get a dropped count"
    );
    assert!(
        coalesced_seen,
        "metrics must be coalesced, not just dropped"
    );
    gw.stop().await;
}

#[tokio::test]
async fn a_client_that_never_answers_pings_is_closed_after_two_intervals() {
    let config = opsdeck::gateway::GatewayConfig {
        heartbeat: Duration::from_millis(100),
        ..loopback_config()
    };
    let gw = start_load(config, 100, None).await;
    // Connected, then never read again: pings go unanswered.
    let silent = Client::connect(gw.addr).await;
    poll_until(
        Duration::from_secs(10),
        "the silent client to be closed",
        async || {
            let metrics = common::gateway::get_text(&gw, "/metrics").await;
            (metrics.contains("opsdeck_gateway_stream_clients 0")
                && metrics.contains("opsdeck_gateway_slow_clients_closed_total 1"))
            .then_some(())
        },
    )
    .await;
    drop(silent);
    gw.stop().await;
}

#[tokio::test]
async fn resuming_against_a_restarted_gateway_reports_a_gap_instead_of_reusing_numbers() {
    let first = start_load(loopback_config(), 2000, None).await;
    let mut client = Client::connect(first.addr).await;
    client
        .send(&subscribe(&[Topic::Logs], BTreeMap::new()))
        .await;
    let last = client.events(20, |_| {}).await.last().unwrap().seq;
    drop(client);
    first.stop().await;
    // A gateway's first sequence number comes from the wall clock (ms x 1000): start the next
    // one only once that is past what the first one used.
    wait_until(
        Duration::from_secs(10),
        "the clock to pass the last sequence number",
        || opsdeck::gateway::seq_base_at(chrono::Utc::now()) > last,
    )
    .await;

    let second = start_load(loopback_config(), 2000, None).await;
    let mut client = Client::connect(second.addr).await;
    client
        .send(&subscribe(
            &[Topic::Logs],
            BTreeMap::from([(Topic::Logs, last)]),
        ))
        .await;
    assert!(matches!(client.recv().await, ServerMsg::Subscribed { .. }));
    match client.recv().await {
        ServerMsg::Gap {
            topic, from, to, ..
        } => {
            assert_eq!(topic, Topic::Logs);
            assert_eq!(from, last + 1);
            assert!(to >= from);
        }
        other => panic!("expected a gap after the restart, got {other:?}"),
    }
    let events = client.events(5, |_| {}).await;
    assert!(
        events[0].seq > last,
        "sequence numbers never go backwards across restarts"
    );
    second.stop().await;
}

#[tokio::test]
async fn hostile_resume_points_neither_crash_nor_confuse_the_gateway() {
    let gw = start_load(loopback_config(), 1000, None).await;
    for last in [0, u64::MAX, u64::MAX - 1] {
        let mut client = Client::connect(gw.addr).await;
        client
            .send(&subscribe(
                &[Topic::Logs],
                BTreeMap::from([(Topic::Logs, last)]),
            ))
            .await;
        assert!(matches!(client.recv().await, ServerMsg::Subscribed { .. }));
        let events = client.events(5, |_| {}).await;
        assert_contiguous(&events);
    }
    // Still serving everyone.
    let mut client = Client::connect(gw.addr).await;
    client
        .send(&subscribe(&[Topic::Metrics], BTreeMap::new()))
        .await;
    assert!(!client.events(1, |_| {}).await.is_empty());
    gw.stop().await;
}

/// The platform's clock reaches every client right after `hello` and again with each
/// heartbeat, with its rate: the console reads every time it shows from it.
#[tokio::test]
async fn a_clock_frame_follows_hello_and_every_heartbeat() {
    let sim = opsdeck::platform::sim::SimPlatform::new(opsdeck::platform::sim::SimConfig {
        seed: 3,
        speed: 10.0,
        ..Default::default()
    });
    let config = opsdeck::gateway::GatewayConfig {
        heartbeat: Duration::from_millis(300),
        ..loopback_config()
    };
    let gw = common::gateway::start(config, std::sync::Arc::new(sim)).await;
    let mut client = Client::connect(gw.addr).await;
    let mut clocks = Vec::new();
    while clocks.len() < 3 {
        match client.try_recv_any(Duration::from_secs(10)).await {
            Some(ServerMsg::Clock {
                platform_time,
                rate,
            }) => clocks.push((platform_time, rate)),
            Some(other) => panic!("expected only clock frames before subscribing, got {other:?}"),
            None => panic!("no clock frame within 10 s"),
        }
    }
    assert!(clocks.iter().all(|(_, rate)| *rate == 10.0));
    assert!(
        clocks.windows(2).all(|w| w[0].0 <= w[1].0),
        "the platform's clock went back: {clocks:?}"
    );
    let off = (gw.gateway.platform.now() - clocks[2].0).num_seconds();
    assert!((0..=10).contains(&off), "{off} s behind the platform");
    gw.stop().await;
}
