//! Real gateways on 127.0.0.1:0 for tests, and plain HTTP helpers against them. A gateway is a
//! [`Running`]: its address is `gw.addr`, and `gw.stop().await` shuts it down.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use opsdeck::gateway::{self, GatewayConfig, Running};
use opsdeck::platform::Platform;
use opsdeck::platform::load::{LoadConfig, LoadPlatform};
use opsdeck::platform::sim::{SimConfig, SimPlatform};
use opsdeck::protocol::{Alert, AlertState, Seq, Topic};

use super::wait::poll_until;

/// The default gateway configuration, listening on a free loopback port.
pub fn loopback_config() -> GatewayConfig {
    GatewayConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..GatewayConfig::default()
    }
}

/// A gateway with `config` over `platform`.
pub async fn start(config: GatewayConfig, platform: Arc<dyn Platform>) -> Running {
    gateway::start(config, platform).await.unwrap()
}

/// A gateway over the simulator: `seed` fixes the model, `speed` is platform seconds per real
/// second, `scenario` starts one at once.
pub async fn start_sim(seed: u64, speed: f64, scenario: Option<&str>) -> Running {
    start_sim_with(SimConfig {
        seed,
        speed,
        scenario: scenario.map(str::to_string),
        ..SimConfig::default()
    })
    .await
}

/// A gateway over a simulator set up as `config` says (e.g. its clock pinned to an hour of the
/// day: traffic follows the hour in China, so a test that needs a busy platform pins it).
pub async fn start_sim_with(config: SimConfig) -> Running {
    start(loopback_config(), Arc::new(SimPlatform::new(config))).await
}

/// A gateway over the load generator: `rate` events a second across four apps, stopping after
/// `limit` events if given.
pub async fn start_load(config: GatewayConfig, rate: u64, limit: Option<u64>) -> Running {
    let platform = LoadPlatform::new(LoadConfig {
        rate,
        apps: 4,
        limit,
    });
    start(config, Arc::new(platform)).await
}

/// The newest sequence number of `topic` the gateway has published.
pub fn head(gw: &Running, topic: Topic) -> Seq {
    gw.gateway.hub.window(topic).head
}

/// The oldest sequence number of `topic` the gateway still holds for replay.
pub fn oldest(gw: &Running, topic: Topic) -> Seq {
    gw.gateway.hub.window(topic).oldest
}

/// Events of `topic` the gateway holds for replay now.
pub fn held(gw: &Running, topic: Topic) -> u64 {
    let window = gw.gateway.hub.window(topic);
    (window.head + 1).saturating_sub(window.oldest)
}

/// Events of every topic the gateway holds for replay now.
pub fn held_total(gw: &Running) -> u64 {
    Topic::ALL.iter().map(|t| held(gw, *t)).sum()
}

pub fn http() -> reqwest::Client {
    opsdeck::client::tls::install_crypto_provider();
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Current resident set size of this process in KiB, from /proc.
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// `http://{addr}{path}` for a gateway under test.
pub fn url(gw: &Running, path: &str) -> String {
    format!("http://{}{path}", gw.addr)
}

/// GET `path` and decode the JSON answer.
pub async fn get_json<T: serde::de::DeserializeOwned>(gw: &Running, path: &str) -> T {
    http()
        .get(url(gw, path))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// GET `path` as text (e.g. /metrics).
pub async fn get_text(gw: &Running, path: &str) -> String {
    http()
        .get(url(gw, path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The first firing alert whose runbook is `runbook`, waiting up to `secs` seconds for one.
pub async fn firing_alert(gw: &Running, runbook: &str, secs: u64) -> Alert {
    let what = format!("a firing {runbook} alert");
    poll_until(Duration::from_secs(secs), &what, async || {
        let alerts: Vec<Alert> = get_json(gw, "/v1/alerts").await;
        alerts
            .into_iter()
            .find(|a| a.runbook.as_deref() == Some(runbook) && a.state == AlertState::Firing)
    })
    .await
}
