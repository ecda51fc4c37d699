//! Tokens and roles at the gateway: every route of the router's own list and the stream refuse
//! a missing, a wrong and an under-privileged token; the right one passes; repeated bad tokens
//! get 429; a four-eyes step refuses the run's starter.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use opsdeck::gateway::tokens::{entry_for, generate};
use opsdeck::gateway::{GatewayConfig, Running, Tokens, routes};
use opsdeck::platform::sim::{SCENARIOS, SimConfig, SimPlatform};
use opsdeck::protocol::{AppSummary, Identity, Role, RunState, RunStatus, ServerMsg};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest};

use common::gateway::{http, loopback_config, url};
use common::wait::poll_until_ok;

/// One token per role: wang.fang views, li.wei operates, zhang.min administers.
struct Keys {
    viewer: String,
    operator: String,
    admin: String,
}

impl Keys {
    fn new() -> Keys {
        Keys {
            viewer: generate().unwrap(),
            operator: generate().unwrap(),
            admin: generate().unwrap(),
        }
    }

    fn of(&self, role: Role) -> &str {
        match role {
            Role::Viewer => &self.viewer,
            Role::Operator => &self.operator,
            Role::Admin => &self.admin,
        }
    }

    fn tokens(&self) -> Tokens {
        let file = [
            entry_for("wang.fang", Role::Viewer, &self.viewer),
            entry_for("li.wei", Role::Operator, &self.operator),
            entry_for("zhang.min", Role::Admin, &self.admin),
        ]
        .join("\n");
        Tokens::parse(&file).unwrap()
    }
}

async fn start(keys: &Keys, config: GatewayConfig) -> Running {
    let config = GatewayConfig {
        tokens: Some(Arc::new(keys.tokens())),
        ..config
    };
    let sim = SimPlatform::new(SimConfig {
        seed: 7,
        ..SimConfig::default()
    });
    common::gateway::start(config, Arc::new(sim)).await
}

/// A request body each POST route accepts, so a refusal is about the token, never the body.
fn body_for(path: &str) -> Value {
    match path {
        "/v1/apps/{app}/scale" => json!({ "replicas": 3 }),
        "/v1/alerts/{id}/silence" => json!({ "duration": "1h" }),
        "/v1/sim/scenarios" => json!({ "name": SCENARIOS[0] }),
        "/v1/runs/{id}/approve" => json!({ "step": "gate" }),
        _ => json!({}),
    }
}

/// What `token` gets from `method path` (`{app}` is a real app, other ids unknown ones).
async fn call(
    gw: &Running,
    method: &str,
    path: &str,
    app: &str,
    token: Option<&str>,
) -> reqwest::Response {
    let concrete = path.replace("{app}", app).replace("{id}", "no-such-id");
    let mut req = match method {
        "GET" => http().get(url(gw, &concrete)),
        "POST" => http().post(url(gw, &concrete)).json(&body_for(path)),
        "DELETE" => http().delete(url(gw, &concrete)),
        other => panic!("a route with method {other}: teach this test its body"),
    };
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    req.send().await.unwrap()
}

/// Open the stream with `token` in the Authorization header (or none): the hello, or the
/// handshake's refusal status.
async fn open_stream(gw: &Running, token: Option<&str>) -> Result<ServerMsg, (u16, String)> {
    let mut request = format!("ws://{}/v1/stream", gw.addr)
        .into_client_request()
        .unwrap();
    if let Some(token) = token {
        request
            .headers_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    stream_hello(request).await
}

async fn stream_hello(
    request: tungstenite::handshake::client::Request,
) -> Result<ServerMsg, (u16, String)> {
    use futures_util::StreamExt;
    match tokio_tungstenite::connect_async(request).await {
        Ok((mut ws, _)) => match ws.next().await {
            Some(Ok(tungstenite::Message::Text(text))) => {
                Ok(opsdeck::protocol::decode_server_msg(text.as_str()).unwrap())
            }
            other => panic!("expected hello, got {other:?}"),
        },
        Err(tungstenite::Error::Http(response)) => {
            let challenge = response
                .headers()
                .get("www-authenticate")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            Err((response.status().as_u16(), challenge))
        }
        Err(other) => panic!("stream handshake failed: {other}"),
    }
}

async fn first_app(gw: &Running, keys: &Keys) -> String {
    let apps: Vec<AppSummary> = http()
        .get(url(gw, "/v1/apps"))
        .bearer_auth(&keys.viewer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    apps[0].id.clone()
}

#[tokio::test]
async fn every_route_refuses_missing_wrong_and_underprivileged_tokens() {
    let keys = Keys::new();
    let config = GatewayConfig {
        // This test fails on purpose many times from one address.
        auth_failures_per_minute: 100_000,
        ..loopback_config()
    };
    let gw = start(&keys, config).await;
    let app = first_app(&gw, &keys).await;
    let wrong = generate().unwrap();
    let list = routes();
    assert!(list.len() >= 24, "the router's own list: {list:?}");
    assert!(list.iter().any(|r| r.path == "/v1/stream"));

    for route in list.iter().filter(|r| r.path != "/v1/stream") {
        let what = format!("{} {}", route.method, route.path);
        for (token, expected_challenge) in [
            (None, "Bearer realm=\"opsdeck\""),
            (Some(wrong.as_str()), "error=\"invalid_token\""),
        ] {
            let resp = call(&gw, route.method, route.path, &app, token).await;
            assert_eq!(
                resp.status(),
                StatusCode::UNAUTHORIZED,
                "{what} with {token:?}"
            );
            let challenge = resp.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .to_string();
            assert!(
                challenge.contains(expected_challenge),
                "{what}: {challenge}"
            );
            let body: Value = resp.json().await.unwrap();
            assert_eq!(body["error"]["code"], "unauthorized", "{what}");
        }
        for role in Role::ALL {
            let resp = call(&gw, route.method, route.path, &app, Some(keys.of(role))).await;
            let status = resp.status();
            if role.allows(route.role) {
                assert!(
                    status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN,
                    "{what} as {role}: {status} {}",
                    resp.text().await.unwrap()
                );
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{what} as {role}");
                let body: Value = resp.json().await.unwrap();
                let message = body["error"]["message"].as_str().unwrap();
                assert!(
                    message.contains(&format!("needs the {} role", route.role)),
                    "{what} as {role}: {message}"
                );
            }
        }
    }

    // The stream: refused without or with a wrong token; every role may follow it, and hello
    // says who the gateway took the client for.
    assert_eq!(
        open_stream(&gw, None).await.unwrap_err(),
        (401, "Bearer realm=\"opsdeck\"".to_string())
    );
    let (status, challenge) = open_stream(&gw, Some(&wrong)).await.unwrap_err();
    assert_eq!(status, 401);
    assert!(challenge.contains("invalid_token"));
    for (role, name) in [
        (Role::Viewer, "wang.fang"),
        (Role::Operator, "li.wei"),
        (Role::Admin, "zhang.min"),
    ] {
        match open_stream(&gw, Some(keys.of(role))).await.unwrap() {
            ServerMsg::Hello { identity, .. } => assert_eq!(
                identity,
                Some(Identity {
                    name: name.into(),
                    role
                })
            ),
            other => panic!("expected hello, got {other:?}"),
        }
    }
    gw.stop().await;
}

#[tokio::test]
async fn the_stream_takes_the_token_as_a_subprotocol_and_never_echoes_it() {
    let keys = Keys::new();
    let gw = start(&keys, loopback_config()).await;
    let mut request = format!("ws://{}/v1/stream", gw.addr)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        format!("opsdeck, opsdeck.bearer.{}", keys.viewer)
            .parse()
            .unwrap(),
    );
    let (mut ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers()["sec-websocket-protocol"], "opsdeck");
    use futures_util::StreamExt;
    let Some(Ok(tungstenite::Message::Text(hello))) = ws.next().await else {
        panic!("no hello");
    };
    assert!(hello.contains("\"wang.fang\""), "{hello}");
    gw.stop().await;
}

#[tokio::test]
async fn repeated_bad_tokens_from_one_address_get_429_until_the_window_ends() {
    let keys = Keys::new();
    let gw = start(&keys, loopback_config()).await;
    let limit = GatewayConfig::default().auth_failures_per_minute;
    for i in 0..limit {
        let resp = call(&gw, "GET", "/v1/apps", "", Some(&format!("guess-{i}"))).await;
        assert_eq!(resp.status(), StatusCode::UNAUTHORIZED, "guess {i}");
    }
    let resp = call(&gw, "GET", "/v1/apps", "", Some("guess-again")).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = resp.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    // Even the right token: a lucky guess must not answer differently while blocked.
    let resp = call(&gw, "GET", "/v1/apps", "", Some(&keys.viewer)).await;
    assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(
        open_stream(&gw, Some(&keys.viewer)).await.unwrap_err().0,
        429
    );

    let stats = &gw.gateway.stats;
    assert_eq!(stats.auth_failures(), u64::from(limit));
    assert_eq!(stats.auth_throttled(), 3);
    let metrics = stats.render();
    assert!(
        metrics.contains(&format!("opsdeck_gateway_auth_failures_total {limit}")),
        "{metrics}"
    );
    assert!(metrics.contains("opsdeck_gateway_auth_throttled_total 3"));
    gw.stop().await;
}

const FOUR_EYES: &str = r#"
id = "test"
title = "Four eyes"
description = "A gate someone else must open."

[[steps]]
id = "gate"
kind = "approval"
message = "Go on?"
four_eyes = true

[[steps]]
id = "done"
kind = "note"
message = "Done."
"#;

async fn approve(gw: &Running, run: &str, token: &str) -> reqwest::Response {
    http()
        .post(url(gw, &format!("/v1/runs/{run}/approve")))
        .bearer_auth(token)
        .json(&json!({ "step": "gate" }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_four_eyes_step_is_approved_by_someone_other_than_the_runs_starter() {
    let keys = Keys::new();
    let dir = common::pty::TempDir::new("four-eyes");
    std::fs::write(dir.0.join("test.toml"), FOUR_EYES).unwrap();
    let config = GatewayConfig {
        runbook_dirs: vec![dir.0.clone()],
        run_poll: Duration::from_millis(5),
        ..loopback_config()
    };
    let gw = start(&keys, config).await;
    // X-Opsdeck-User is ignored with tokens: the starter is the token's name.
    let resp = http()
        .post(url(&gw, "/v1/runbooks/test/runs"))
        .bearer_auth(&keys.operator)
        .header("X-Opsdeck-User", "someone-else")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let run: RunStatus = resp.json().await.unwrap();
    assert_eq!(run.started_by, "li.wei");
    let waiting = poll_until_ok(Duration::from_secs(10), "the run to wait", async || {
        let run: RunStatus = http()
            .get(url(&gw, &format!("/v1/runs/{}", run.id)))
            .bearer_auth(&keys.viewer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if run.state == RunState::WaitingApproval {
            Ok(run)
        } else {
            Err(run)
        }
    })
    .await;

    let resp = approve(&gw, &waiting.id, &keys.operator).await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    let body: Value = resp.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("four eyes") && message.contains("li.wei"),
        "{message}"
    );

    let resp = approve(&gw, &waiting.id, &keys.admin).await;
    assert_eq!(
        resp.status(),
        StatusCode::OK,
        "{}",
        resp.text().await.unwrap()
    );
    let done = poll_until_ok(Duration::from_secs(10), "the run to finish", async || {
        let run: RunStatus = http()
            .get(url(&gw, &format!("/v1/runs/{}", waiting.id)))
            .bearer_auth(&keys.viewer)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if run.state.is_final() {
            Ok(run)
        } else {
            Err(run)
        }
    })
    .await;
    assert_eq!(done.state, RunState::Succeeded);
    gw.stop().await;
}

#[tokio::test]
async fn without_tokens_the_gateway_still_takes_the_user_header_with_every_right() {
    let gw = common::gateway::start_sim(7, 1.0, None).await;
    let resp = http()
        .post(url(&gw, "/v1/sim/scenarios"))
        .header("X-Opsdeck-User", "li.wei")
        .json(&json!({ "name": SCENARIOS[0] }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    match open_stream(&gw, None).await.unwrap() {
        ServerMsg::Hello { identity, .. } => assert_eq!(identity, None),
        other => panic!("expected hello, got {other:?}"),
    }
    gw.stop().await;
}

#[test]
fn the_openapi_document_gives_every_route_its_auth_answers() {
    let doc = opsdeck::gateway::OPENAPI_YAML;
    assert!(doc.contains("securitySchemes:\n    bearer:"));
    for route in routes() {
        let start = doc
            .find(&format!("\n  {}:\n", route.path))
            .unwrap_or_else(|| panic!("{} is not documented", route.path));
        let rest = &doc[start + 1..];
        let block = &rest[..rest[1..].find("\n  /").map_or(rest.len(), |i| i + 1)];
        for status in ["\"401\"", "\"429\""] {
            assert!(block.contains(status), "{} lacks {status}", route.path);
        }
        assert_eq!(
            block.contains("\"403\""),
            route.role != Role::Viewer,
            "{}: a 403 is documented exactly where a role is needed",
            route.path
        );
    }
}
