//! HTTP routes of the /v1 API, health, metrics and the OpenAPI document.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use chrono::Utc;
use serde::de::DeserializeOwned;

use crate::platform::ActionRequest;
use crate::protocol::{
    ActionKind, ActionState, ActionStatus, RollbackRequest, ScaleRequest, ScenarioRequest,
    SilenceRequest, parse_duration_secs,
};

use super::Gateway;
use super::auth::{self, Actor};
use super::error::ApiError;
use super::idempotency::{Claim, Recorded};
use super::runs;

/// The OpenAPI document, served as is.
pub const OPENAPI_YAML: &str = include_str!("../../docs/openapi.yaml");

pub fn router(gateway: Arc<Gateway>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/v1/openapi.yaml", get(openapi))
        .route("/v1/apps", get(list_apps))
        .route("/v1/apps/{app}", get(get_app))
        .route("/v1/apps/{app}/releases", get(list_releases))
        .route("/v1/apps/{app}/scale", post(scale))
        .route("/v1/apps/{app}/rollback", post(rollback))
        .route("/v1/actions/{id}", get(get_action))
        .route("/v1/alerts", get(list_alerts))
        .route("/v1/alerts/{id}/ack", post(ack_alert))
        .route("/v1/alerts/{id}/silence", post(silence_alert))
        .route("/v1/events", get(list_events))
        .route("/v1/sim/scenarios", post(start_scenario))
        .route("/v1/runbooks", get(runs::list_runbooks))
        .route("/v1/runbooks/{id}", get(runs::get_runbook))
        .route("/v1/runbooks/{id}/runs", post(runs::start_run))
        .route("/v1/runs", get(runs::list_runs))
        .route("/v1/runs/{id}", get(runs::get_run))
        .route("/v1/runs/{id}/approve", post(runs::approve_run))
        .route("/v1/runs/{id}/abort", post(runs::abort_run))
        .route("/v1/runs/{id}/resume", post(runs::resume_run))
        .route("/v1/stream", get(stream))
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            gateway.clone(),
            auth::identify,
        ))
        .with_state(gateway)
}

type ApiResult = Result<Response, ApiError>;

async fn healthz() -> impl IntoResponse {
    Json(serde_json::json!({"status": "ok"}))
}

async fn readyz(State(gw): State<Arc<Gateway>>) -> ApiResult {
    match gw.platform.apps().await {
        Ok(apps) if !apps.is_empty() => {
            Ok(Json(serde_json::json!({"status": "ready"})).into_response())
        }
        Ok(_) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            "the platform has reported no apps yet",
        )),
        Err(err) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "not_ready",
            err.to_string(),
        )),
    }
}

async fn metrics(State(gw): State<Arc<Gateway>>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        gw.stats.render(),
    )
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/yaml")], OPENAPI_YAML)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

async fn list_apps(State(gw): State<Arc<Gateway>>) -> ApiResult {
    Ok(Json(gw.platform.apps().await?).into_response())
}

async fn get_app(State(gw): State<Arc<Gateway>>, Path(app): Path<String>) -> ApiResult {
    Ok(Json(gw.platform.app(&app).await?).into_response())
}

async fn list_releases(State(gw): State<Arc<Gateway>>, Path(app): Path<String>) -> ApiResult {
    Ok(Json(gw.platform.releases(&app).await?).into_response())
}

async fn get_action(State(gw): State<Arc<Gateway>>, Path(id): Path<String>) -> ApiResult {
    match gw.actions.get(&id) {
        Some(status) => Ok(Json(status).into_response()),
        None => Err(ApiError::not_found(format!("unknown action {id:?}"))),
    }
}

async fn list_alerts(State(gw): State<Arc<Gateway>>) -> ApiResult {
    Ok(Json(gw.platform.alerts().await?).into_response())
}

async fn ack_alert(
    State(gw): State<Arc<Gateway>>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
) -> ApiResult {
    Ok(Json(gw.platform.acknowledge(&id, &actor.0).await?).into_response())
}

async fn silence_alert(
    State(gw): State<Arc<Gateway>>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    body: Bytes,
) -> ApiResult {
    let req: SilenceRequest = parse_body(&body)?;
    let secs = parse_duration_secs(&req.duration).ok_or_else(|| {
        ApiError::validation(format!(
            "duration {:?} is not valid: use a positive number with s, m, h or d, e.g. \"30m\"",
            req.duration
        ))
    })?;
    Ok(Json(
        gw.platform
            .silence(&id, secs, &req.comment, &actor.0)
            .await?,
    )
    .into_response())
}

async fn list_events(State(gw): State<Arc<Gateway>>) -> ApiResult {
    Ok(Json(gw.platform.events().await?).into_response())
}

async fn start_scenario(
    State(gw): State<Arc<Gateway>>,
    Extension(actor): Extension<Actor>,
    body: Bytes,
) -> ApiResult {
    let req: ScenarioRequest = parse_body(&body)?;
    rate_limit(&gw, &actor)?;
    gw.platform.start_scenario(&req.name).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({"scenario": req.name})),
    )
        .into_response())
}

async fn stream(State(gw): State<Arc<Gateway>>, ws: WebSocketUpgrade) -> Response {
    if gw.stats.clients() >= i64::try_from(gw.config.max_clients).unwrap_or(i64::MAX) {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_clients",
            format!(
                "the gateway serves at most {} stream connections",
                gw.config.max_clients
            ),
        )
        .into_response();
    }
    let cap = gw.config.max_frame_bytes;
    ws.max_message_size(cap)
        .max_frame_size(cap)
        .on_upgrade(move |socket| super::session::run(gw, socket))
}

async fn scale(
    State(gw): State<Arc<Gateway>>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let req: ScaleRequest = parse_body(&body)?;
    let fingerprint = format!("scale {app} {}", canonical(&body));
    idempotent(
        &gw,
        &actor,
        &headers,
        &fingerprint,
        StatusCode::ACCEPTED,
        || async {
            let detail = gw.platform.app(&app).await?;
            let (min, max) = (detail.summary.replicas.min, detail.summary.replicas.max);
            let range = || format!("replicas must be an integer between {min} and {max} for {app}");
            let replicas = req
                .replicas
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    ApiError::validation(format!("{}, got {}", range(), req.replicas))
                })?;
            if !(min..=max).contains(&replicas) {
                return Err(ApiError::validation(format!("{}, got {replicas}", range())));
            }
            let from = detail.summary.replicas.desired;
            let status = new_action(
                &gw,
                ActionKind::Scale,
                &app,
                format!("scale {app} {from} -> {replicas}"),
            );
            gw.platform
                .scale(
                    &app,
                    replicas,
                    ActionRequest {
                        id: status.id.clone(),
                        actor: actor.0.clone(),
                    },
                )
                .await?;
            Ok(status)
        },
    )
    .await
}

async fn rollback(
    State(gw): State<Arc<Gateway>>,
    Extension(actor): Extension<Actor>,
    Path(app): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let req: RollbackRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RollbackRequest::default()
    } else {
        parse_body(&body)?
    };
    let fingerprint = format!("rollback {app} {}", canonical(&body));
    idempotent(
        &gw,
        &actor,
        &headers,
        &fingerprint,
        StatusCode::ACCEPTED,
        || async {
            let mut status = new_action(&gw, ActionKind::Rollback, &app, format!("rollback {app}"));
            let plan = gw
                .platform
                .rollback(
                    &app,
                    req.to.as_deref(),
                    ActionRequest {
                        id: status.id.clone(),
                        actor: actor.0.clone(),
                    },
                )
                .await?;
            status.description = format!(
                "rollback {app} {} -> {}",
                plan.from.version, plan.to.version
            );
            gw.actions.record(status.clone());
            Ok(status)
        },
    )
    .await
}

/// A fresh action in state `accepted`, recorded in the book.
pub(super) fn new_action(
    gw: &Gateway,
    kind: ActionKind,
    app: &str,
    description: String,
) -> ActionStatus {
    let now = Utc::now();
    let status = ActionStatus {
        id: gw.next_action_id(),
        kind,
        app: app.to_string(),
        state: ActionState::Accepted,
        description,
        progress: None,
        message: String::new(),
        created_at: now,
        updated_at: now,
    };
    gw.actions.record(status.clone());
    status
}

/// Run `apply` at most once per Idempotency-Key (when one is given), answering repeats with the
/// first answer, and a different request under a used key with 422. Success answers `success`
/// (202 for actions) with what `apply` returned.
pub(super) async fn idempotent<T, F, Fut>(
    gw: &Gateway,
    actor: &Actor,
    headers: &HeaderMap,
    fingerprint: &str,
    success: StatusCode,
    apply: F,
) -> ApiResult
where
    T: serde::Serialize,
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<T, ApiError>>,
{
    let record = |result: Result<T, ApiError>| match result {
        Ok(value) => Recorded {
            status: success,
            body: serde_json::to_value(value).unwrap_or_default(),
        },
        Err(err) => Recorded {
            status: err.status,
            body: serde_json::to_value(err.body()).unwrap_or_default(),
        },
    };
    let key = headers
        .get("idempotency-key")
        .map(|k| {
            k.to_str()
                .map_err(|_| ApiError::bad_request("Idempotency-Key must be visible ASCII"))
        })
        .transpose()?;
    // Replays are answered from the store and do not count against the action limit.
    if !key.is_some_and(|k| gw.idempotency.knows(k)) {
        rate_limit(gw, actor)?;
    }
    let Some(key) = key else {
        let recorded = record(apply().await);
        return Ok((recorded.status, Json(recorded.body)).into_response());
    };
    match gw.idempotency.claim(key, fingerprint) {
        Claim::Mismatch => Err(ApiError::validation(format!(
            "Idempotency-Key {key:?} was already used for a different request"
        ))),
        Claim::Run(cell) => {
            let mut ran = false;
            let recorded = cell
                .get_or_init(|| async {
                    ran = true;
                    record(apply().await)
                })
                .await;
            if !ran {
                gw.stats.idempotent_replay();
            }
            Ok((recorded.status, Json(recorded.body.clone())).into_response())
        }
    }
}

/// 429 with Retry-After when `actor` has started too many actions this minute.
fn rate_limit(gw: &Gateway, actor: &Actor) -> Result<(), ApiError> {
    gw.limiter
        .check(&actor.0, std::time::Instant::now())
        .map_err(|retry| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "{} started more than {} actions in a minute; try again in {} s",
                    actor.0,
                    gw.config.actions_per_minute,
                    retry.as_secs().max(1)
                ),
            )
            .retry_after(retry.as_secs().max(1))
        })
}

/// Parse a JSON body, answering 400 with serde's explanation when it is malformed.
pub(super) fn parse_body<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|err| {
        if err.is_data() {
            ApiError::validation(format!("invalid request body: {err}"))
        } else {
            ApiError::bad_request(format!("malformed JSON body: {err}"))
        }
    })
}

/// The body re-serialized with sorted keys, so equivalent JSON fingerprints the same.
pub(super) fn canonical(body: &[u8]) -> String {
    serde_json::from_slice::<serde_json::Value>(body)
        .map(|v| v.to_string())
        .unwrap_or_else(|_| String::from_utf8_lossy(body).into_owned())
}
