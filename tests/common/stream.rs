//! A WebSocket client for a gateway's stream (`/v1/stream`): hello first, JSON frames, pings
//! and `clock` frames (sent with every heartbeat) skipped unless asked for.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use opsdeck::protocol::{ClientMsg, Event, ServerMsg};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

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

    /// Next server message other than `clock` (pings are skipped), or None after `wait`.
    pub async fn try_recv(&mut self, wait: Duration) -> Option<ServerMsg> {
        loop {
            match self.try_recv_any(wait).await? {
                ServerMsg::Clock { .. } => continue,
                msg => return Some(msg),
            }
        }
    }

    /// Next server message, `clock` frames included, or None after `wait`.
    pub async fn try_recv_any(&mut self, wait: Duration) -> Option<ServerMsg> {
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
