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

use crate::platform::{ActionRequest, PlatformError, RollbackPlan};
use crate::protocol::{
    ActionKind, ActionState, ActionStatus, RollbackRequest, ScaleRequest, ScenarioRequest,
    SilenceRequest, parse_duration_secs,
};

use super::Gateway;
use super::auth::{self, Actor};
use super::error::ApiError;
use super::idempotency::{Claim, IdempotencyStore, Recorded};
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
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            gateway.clone(),
            auth::identify,
        ))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(json_errors))
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

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take that method",
    )
}

/// Largest request body accepted: every body of this API is a small JSON object.
const MAX_BODY_BYTES: usize = 64 * 1024;

/// Give the framework's own rejections (bad path encoding, oversized body, a stream request
/// without an upgrade, ...) the same `{"error": {...}}` shape as ours.
async fn json_errors(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let code = match status {
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        s if s.is_server_error() => "internal",
        _ => "bad_request",
    };
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_string()
    } else {
        text
    };
    let mut fixed = ApiError::new(status, code, message).into_response();
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in parts.headers.iter() {
        fixed.headers_mut().insert(name.clone(), value.clone());
    }
    fixed
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
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let fingerprint = format!("ack {id} {}", canonical(&body));
    let apply = {
        let gw = gw.clone();
        async move { Ok(gw.platform.acknowledge(&id, &actor.0).await?) }
    };
    idempotent_unmetered(&gw, &headers, fingerprint, StatusCode::OK, apply).await
}

async fn silence_alert(
    State(gw): State<Arc<Gateway>>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let req: SilenceRequest = parse_body(&body)?;
    let fingerprint = format!("silence {id} {}", canonical(&body));
    let apply = {
        let gw = gw.clone();
        async move {
            let secs = parse_duration_secs(&req.duration).ok_or_else(|| {
                ApiError::validation(format!(
                    "duration {:?} is not valid: use a positive number with s, m, h or d, at most a year, e.g. \"30m\"",
                    req.duration
                ))
            })?;
            Ok(gw
                .platform
                .silence(&id, secs, &req.comment, &actor.0)
                .await?)
        }
    };
    idempotent_unmetered(&gw, &headers, fingerprint, StatusCode::OK, apply).await
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
    let Ok(permit) = gw.stream_permits.clone().try_acquire_owned() else {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_clients",
            format!(
                "the gateway serves at most {} stream connections",
                gw.config.max_clients
            ),
        )
        .into_response();
    };
    let cap = gw.config.max_frame_bytes;
    ws.max_message_size(cap)
        .max_frame_size(cap)
        .on_upgrade(move |socket| async move {
            super::session::run(gw, socket).await;
            drop(permit);
        })
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
    let who = actor.clone();
    let apply = {
        let gw = gw.clone();
        async move {
            let detail = gw.platform.app(&app).await?;
            let (min, max) = (detail.summary.replicas.min, detail.summary.replicas.max);
            let range = || format!("replicas must be an integer between {min} and {max} for {app}");
            let replicas = req
                .replicas
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    ApiError::validation(format!("{}, got {}", range(), shorten(&req.replicas)))
                })?;
            if !(min..=max).contains(&replicas) {
                return Err(ApiError::validation(format!("{}, got {replicas}", range())));
            }
            let from = detail.summary.replicas.desired;
            Ok(start_scale(&gw, &app, from, replicas, &actor.0).await?)
        }
    };
    idempotent(
        &gw,
        &who,
        &headers,
        fingerprint,
        StatusCode::ACCEPTED,
        apply,
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
    let who = actor.clone();
    let apply = {
        let gw = gw.clone();
        async move {
            let (status, _) = start_rollback(&gw, &app, req.to.as_deref(), &actor.0).await?;
            Ok(status)
        }
    };
    idempotent(
        &gw,
        &who,
        &headers,
        fingerprint,
        StatusCode::ACCEPTED,
        apply,
    )
    .await
}

/// Ask the platform to scale `app` from `from` to `replicas` on behalf of `actor` (a person, or a
/// runbook run). The action enters the book once the platform has taken it.
pub(super) async fn start_scale(
    gw: &Gateway,
    app: &str,
    from: u32,
    replicas: u32,
    actor: &str,
) -> Result<ActionStatus, PlatformError> {
    let status = new_action(
        gw,
        ActionKind::Scale,
        app,
        format!("scale {app} {from} -> {replicas}"),
    );
    let request = ActionRequest {
        id: status.id.clone(),
        actor: actor.to_string(),
    };
    gw.platform.scale(app, replicas, request).await?;
    gw.actions.record(status.clone());
    Ok(status)
}

/// Ask the platform to roll `app` back to `to` (the previous good release when `None`). The
/// action enters the book once the platform has taken it.
pub(super) async fn start_rollback(
    gw: &Gateway,
    app: &str,
    to: Option<&str>,
    actor: &str,
) -> Result<(ActionStatus, RollbackPlan), PlatformError> {
    let mut status = new_action(gw, ActionKind::Rollback, app, format!("rollback {app}"));
    let request = ActionRequest {
        id: status.id.clone(),
        actor: actor.to_string(),
    };
    let plan = gw.platform.rollback(app, to, request).await?;
    status.description = format!(
        "rollback {app} {} -> {}",
        plan.from.version, plan.to.version
    );
    gw.actions.record(status.clone());
    Ok((status, plan))
}

/// A fresh action in state `accepted`, not yet in the book.
fn new_action(gw: &Gateway, kind: ActionKind, app: &str, description: String) -> ActionStatus {
    let now = Utc::now();
    ActionStatus {
        id: gw.next_action_id(),
        kind,
        app: app.to_string(),
        state: ActionState::Accepted,
        description,
        progress: None,
        message: String::new(),
        created_at: now,
        updated_at: now,
    }
}

/// Longest Idempotency-Key accepted.
const MAX_KEY_LEN: usize = 128;

/// Apply an action at most once per Idempotency-Key (when one is given), answering repeats with
/// the first answer and a different request under a used key with 422. New actions count
/// against `actor`'s action limit (429 beyond it); replays do not.
///
/// The action runs on its own task that fills the key's cell, so a client that gives up (and
/// drops this request) does not cancel it half-way: its retry waits for, and gets, the same
/// answer. Server-side failures (5xx) are not remembered, so a retry after a platform blip runs
/// again.
pub(super) async fn idempotent<T, Fut>(
    gw: &Arc<Gateway>,
    actor: &Actor,
    headers: &HeaderMap,
    fingerprint: String,
    success: StatusCode,
    apply: Fut,
) -> ApiResult
where
    T: serde::Serialize + Send + 'static,
    Fut: std::future::Future<Output = Result<T, ApiError>> + Send + 'static,
{
    once_per_key(gw, Some(actor), headers, fingerprint, success, apply).await
}

/// Like [`idempotent`], for changes that start no platform action and so are not rate limited:
/// acknowledging and silencing alerts, approving, aborting and resuming runs.
pub(super) async fn idempotent_unmetered<T, Fut>(
    gw: &Arc<Gateway>,
    headers: &HeaderMap,
    fingerprint: String,
    success: StatusCode,
    apply: Fut,
) -> ApiResult
where
    T: serde::Serialize + Send + 'static,
    Fut: std::future::Future<Output = Result<T, ApiError>> + Send + 'static,
{
    once_per_key(gw, None, headers, fingerprint, success, apply).await
}

/// 503: as many keyed requests are running as the store remembers keys.
fn busy() -> ApiError {
    ApiError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "busy",
        "too many keyed requests are running; try again shortly",
    )
    .retry_after(1)
}

/// Lets a claimed key go unless the task that claimed it settled it (kept or forgot it): a
/// panic while applying must not leave the key claimed for ever.
struct ForgetUnlessSettled {
    store: Arc<IdempotencyStore>,
    key: String,
    settled: bool,
}

impl Drop for ForgetUnlessSettled {
    fn drop(&mut self) {
        if !self.settled {
            self.store.forget(&self.key);
        }
    }
}

/// The Idempotency-Key machinery; `metered` is the actor whose action limit a new request
/// counts against, if any.
async fn once_per_key<T, Fut>(
    gw: &Arc<Gateway>,
    metered: Option<&Actor>,
    headers: &HeaderMap,
    fingerprint: String,
    success: StatusCode,
    apply: Fut,
) -> ApiResult
where
    T: serde::Serialize + Send + 'static,
    Fut: std::future::Future<Output = Result<T, ApiError>> + Send + 'static,
{
    let record = move |result: Result<T, ApiError>| match result {
        Ok(value) => Recorded {
            status: success,
            body: serde_json::to_value(value).unwrap_or_default(),
        },
        Err(err) => Recorded {
            status: err.status,
            body: serde_json::to_value(err.body()).unwrap_or_default(),
        },
    };
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => {
            let key = value
                .to_str()
                .map_err(|_| ApiError::bad_request("Idempotency-Key must be visible ASCII"))?;
            if key.is_empty() || key.len() > MAX_KEY_LEN {
                return Err(ApiError::bad_request(format!(
                    "Idempotency-Key must be 1 to {MAX_KEY_LEN} characters"
                )));
            }
            Some(key.to_string())
        }
    };
    // Actions and controls keep their keys apart: a flood of unmetered controls must not push
    // out the key of a scale whose retry would then apply twice.
    let store = match metered {
        Some(_) => gw.action_keys.clone(),
        None => gw.control_keys.clone(),
    };
    // A request the store would refuse as busy is refused before it counts against the action
    // limit, so a client that waits as told (Retry-After) is not then rate-limited for it.
    if key.as_deref().is_some_and(|k| store.busy_for(k)) {
        return Err(busy());
    }
    // Replays are answered from the store and do not count against the action limit.
    if let Some(actor) = metered
        && !key.as_deref().is_some_and(|k| store.knows(k))
    {
        rate_limit(gw, actor)?;
    }
    let Some(key) = key else {
        let recorded = match tokio::spawn(apply).await {
            Ok(result) => record(result),
            Err(err) => record(Err(internal(&err))),
        };
        return Ok((recorded.status, Json(recorded.body)).into_response());
    };
    let cell = match store.claim(&key, &fingerprint) {
        Claim::Mismatch => {
            return Err(ApiError::validation(format!(
                "Idempotency-Key {key:?} was already used for a different request"
            )));
        }
        Claim::Busy => return Err(busy()),
        Claim::Run(cell) => cell,
    };
    let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // The task that computes the answer also decides whether it is kept, so a client that
    // drops its request does not leave the key running for ever; and if computing it panics,
    // the guard lets the key go as the task unwinds.
    let task = {
        let (cell, ran, store, key) = (cell.clone(), ran.clone(), store.clone(), key.clone());
        tokio::spawn(async move {
            let mut guard = ForgetUnlessSettled {
                store: store.clone(),
                key: key.clone(),
                settled: false,
            };
            let recorded = cell
                .get_or_init(|| async {
                    ran.store(true, std::sync::atomic::Ordering::Relaxed);
                    record(apply.await)
                })
                .await
                .clone();
            if ran.load(std::sync::atomic::Ordering::Relaxed) {
                if is_kept(recorded.status) {
                    store.keep(&key);
                } else {
                    store.forget(&key);
                }
            }
            guard.settled = true;
            recorded
        })
    };
    let recorded = match task.await {
        Ok(recorded) => recorded,
        // The task's guard has let the key go.
        Err(err) => record(Err(internal(&err))),
    };
    if !ran.load(std::sync::atomic::Ordering::Relaxed) {
        gw.stats.idempotent_replay();
    }
    Ok((recorded.status, Json(recorded.body)).into_response())
}

/// Whether an answer is kept under its key. Server-side failures (5xx) are not, so a retry
/// after a blip runs again; nor are 404s, which applied nothing to an unknown resource and
/// would otherwise let anyone fill the store with keys for things that do not exist.
fn is_kept(status: StatusCode) -> bool {
    !status.is_server_error() && status != StatusCode::NOT_FOUND
}

fn internal(err: &tokio::task::JoinError) -> ApiError {
    tracing::error!(%err, "action task failed");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "the action failed inside the gateway",
    )
}

/// A JSON value for an error message, cut to a readable length.
fn shorten(value: &serde_json::Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(40) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_while_applying_lets_the_key_go() {
        let store = Arc::new(IdempotencyStore::new(4));
        assert!(matches!(store.claim("k", "scale a 3"), Claim::Run(_)));
        let (held, key) = (store.clone(), "k".to_string());
        let task = tokio::spawn(async move {
            let _guard = ForgetUnlessSettled {
                store: held,
                key,
                settled: false,
            };
            panic!("applying the action panicked");
        });
        assert!(task.await.is_err());
        assert!(!store.knows("k"), "the key is free for a retry");
        // A settled guard leaves the key to whoever settled it.
        assert!(matches!(store.claim("k", "scale a 3"), Claim::Run(_)));
        store.keep("k");
        drop(ForgetUnlessSettled {
            store: store.clone(),
            key: "k".into(),
            settled: true,
        });
        assert!(store.knows("k"));
    }
}
