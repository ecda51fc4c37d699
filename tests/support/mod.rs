//! Shared test harness: gateways on 127.0.0.1:0 and a small WebSocket client.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use opsdeck::gateway::{self, GatewayConfig, Running};
use opsdeck::platform::Platform;
use opsdeck::platform::load::{LoadConfig, LoadPlatform};
use opsdeck::protocol::{ClientMsg, Event, ServerMsg};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub fn loopback_config() -> GatewayConfig {
    GatewayConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..GatewayConfig::default()
    }
}

pub async fn start(config: GatewayConfig, platform: Arc<dyn Platform>) -> Running {
    gateway::start(config, platform).await.unwrap()
}

pub async fn start_load(config: GatewayConfig, rate: u64, limit: Option<u64>) -> Running {
    let platform = LoadPlatform::new(LoadConfig {
        rate,
        apps: 4,
        limit,
    });
    start(config, Arc::new(platform)).await
}

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/v1/stream"))
            .await
            .unwrap();
        let mut client = Client { ws };
        match client.recv().await {
            ServerMsg::Hello { .. } => client,
            other => panic!("expected hello first, got {other:?}"),
        }
    }

    pub async fn send(&mut self, msg: &ClientMsg) {
        self.send_text(&serde_json::to_string(msg).unwrap()).await;
    }

    pub async fn send_text(&mut self, text: &str) {
        self.ws.send(Message::Text(text.into())).await.unwrap();
    }

    /// Next server message (pings are skipped), failing the test after 10 s.
    pub async fn recv(&mut self) -> ServerMsg {
        self.try_recv(Duration::from_secs(10))
            .await
            .expect("no message from the gateway within 10 s")
    }

    pub async fn try_recv(&mut self, wait: Duration) -> Option<ServerMsg> {
        loop {
            let next = tokio::time::timeout(wait, self.ws.next()).await.ok()??;
            match next.unwrap() {
                Message::Text(text) => return Some(serde_json::from_str(&text).unwrap()),
                Message::Close(frame) => panic!("connection closed: {frame:?}"),
                _ => continue,
            }
        }
    }

    /// Collect events until `n` have arrived, passing other frames to `other`.
    pub async fn events(&mut self, n: usize, mut other: impl FnMut(ServerMsg)) -> Vec<Event> {
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            match self.recv().await {
                ServerMsg::Events { events } => out.extend(events),
                msg => other(msg),
            }
        }
        out
    }
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

/// A client whose socket is not read: a tiny receive buffer and nobody draining it.
pub async fn stalled_client(addr: SocketAddr) -> Client {
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(addr).await.unwrap();
    let (ws, _) = tokio_tungstenite::client_async(
        format!("ws://{addr}/v1/stream"),
        MaybeTlsStream::Plain(stream),
    )
    .await
    .unwrap();
    let mut client = Client { ws };
    match client.recv().await {
        ServerMsg::Hello { .. } => client,
        other => panic!("expected hello first, got {other:?}"),
    }
}
