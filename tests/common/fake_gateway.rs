//! A scripted stand-in for the gateway on 127.0.0.1:0, for driver tests: each WebSocket
//! connection plays the next script; HTTP answers from fixtures and records what it was sent.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use opsdeck::protocol::{
    ActionKind, ActionState, ActionStatus, ClientMsg, ErrorBody, ErrorInfo, Event, Progress,
    ServerMsg,
};

/// What one WebSocket connection does after sending hello and reading subscribe.
#[derive(Clone, Debug)]
pub enum Script {
    /// Send these frames, then close.
    SendThenClose(Vec<ServerMsg>),
    /// Send these frames, then stay silent with the socket open (a half-open link).
    SendThenHang(Vec<ServerMsg>),
}

/// A scale request as the gateway saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct SeenScale {
    pub app: String,
    pub body: serde_json::Value,
    pub idempotency_key: Option<String>,
}

#[derive(Default)]
pub struct Recorded {
    pub subscribes: Vec<ClientMsg>,
    pub scales: Vec<SeenScale>,
}

#[derive(Clone)]
struct Shared {
    hello: ServerMsg,
    scripts: Arc<Mutex<VecDeque<Script>>>,
    recorded: Arc<Mutex<Recorded>>,
    /// Status codes for successive scale requests; 202 once it runs out.
    scale_statuses: Arc<Mutex<VecDeque<u16>>>,
    apps: serde_json::Value,
}

pub struct FakeGateway {
    pub url: String,
    pub recorded: Arc<Mutex<Recorded>>,
}

impl FakeGateway {
    pub async fn start(
        hello: ServerMsg,
        scripts: Vec<Script>,
        apps: serde_json::Value,
        scale_statuses: Vec<u16>,
    ) -> FakeGateway {
        let recorded = Arc::new(Mutex::new(Recorded::default()));
        let shared = Shared {
            hello,
            scripts: Arc::new(Mutex::new(scripts.into())),
            recorded: recorded.clone(),
            scale_statuses: Arc::new(Mutex::new(scale_statuses.into())),
            apps,
        };
        let router = Router::new()
            .route("/v1/stream", get(stream))
            .route("/v1/apps", get(apps_list))
            .route("/v1/alerts", get(|| async { Json(serde_json::json!([])) }))
            .route("/v1/apps/{app}/scale", post(scale))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, router).await.unwrap();
        });
        FakeGateway {
            url: format!("ws://{addr}"),
            recorded,
        }
    }
}

async fn apps_list(State(s): State<Shared>) -> impl IntoResponse {
    Json(s.apps.clone())
}

async fn scale(
    State(s): State<Shared>,
    Path(app): Path<String>,
    headers: HeaderMap,
    Json(body): Json<serde_json::Value>,
) -> axum::response::Response {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(String::from);
    s.recorded.lock().unwrap().scales.push(SeenScale {
        app: app.clone(),
        body: body.clone(),
        idempotency_key: key,
    });
    let status = s.scale_statuses.lock().unwrap().pop_front().unwrap_or(202);
    let code = StatusCode::from_u16(status).unwrap();
    if status != 202 {
        let err = ErrorBody {
            error: ErrorInfo {
                code: "unavailable".into(),
                message: "platform is restarting".into(),
            },
        };
        return (code, Json(err)).into_response();
    }
    let replicas = body["replicas"].as_u64().unwrap_or(0) as u32;
    let now = chrono::Utc::now();
    let status = ActionStatus {
        id: "act-1".into(),
        kind: ActionKind::Scale,
        app,
        state: ActionState::Accepted,
        description: format!("scale -> {replicas}"),
        progress: Some(Progress {
            ready: 0,
            desired: replicas,
        }),
        message: String::new(),
        created_at: now,
        updated_at: now,
    };
    (code, Json(status)).into_response()
}

async fn stream(State(s): State<Shared>, ws: WebSocketUpgrade) -> impl IntoResponse {
    ws.on_upgrade(move |socket| play(socket, s))
}

fn text(msg: &ServerMsg) -> Message {
    Message::Text(serde_json::to_string(msg).unwrap().into())
}

async fn play(mut socket: WebSocket, s: Shared) {
    let script = s.scripts.lock().unwrap().pop_front();
    let Some(script) = script else {
        // No script left: hang up at once.
        return;
    };
    if socket.send(text(&s.hello)).await.is_err() {
        return;
    }
    // Wait for subscribe.
    loop {
        match socket.recv().await {
            Some(Ok(Message::Text(t))) => {
                let msg: ClientMsg = serde_json::from_str(t.as_str()).unwrap();
                s.recorded.lock().unwrap().subscribes.push(msg);
                break;
            }
            Some(Ok(_)) => {}
            _ => return,
        }
    }
    let (frames, hang) = match script {
        Script::SendThenClose(f) => (f, false),
        Script::SendThenHang(f) => (f, true),
    };
    for f in &frames {
        if socket.send(text(f)).await.is_err() {
            return;
        }
    }
    if hang {
        // Keep the socket open but say nothing, not even pings.
        tokio::time::sleep(Duration::from_secs(30)).await;
    } else {
        let _ = socket.send(Message::Close(None)).await;
    }
}

/// An `events` frame of metric events for one app with the given sequence numbers.
pub fn metrics_frame(app: &str, seqs: std::ops::RangeInclusive<u64>) -> ServerMsg {
    let events = seqs
        .map(|seq| Event {
            seq,
            ts: chrono::Utc::now(),
            app: app.into(),
            body: opsdeck::protocol::Body::Metrics(opsdeck::protocol::MetricSample {
                rps: seq as f64,
                replicas_ready: 6,
                replicas_desired: 6,
                ..Default::default()
            }),
        })
        .collect();
    ServerMsg::Events { events }
}
