//! HTTP routes of the /v1 API, health, metrics and the OpenAPI document.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State, WebSocketUpgrade};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};

use crate::protocol::{Role, RollbackRequest, ScaleRequest, ScenarioRequest, SilenceRequest};

use super::Gateway;
use super::actions::{self, Origin, Source};
use super::auth::{self, Actor};
use super::error::ApiError;
use super::http::{answer, idempotency_key, parse_body, parse_optional_body};
use super::runs;

/// The OpenAPI document, served as is.
pub const OPENAPI_YAML: &str = include_str!("../../docs/openapi.yaml");

/// One route of the API: its method, its path as the router writes it, and the least role that
/// may use it (reads and the stream: any token; changes: what `actions::authorize` asks).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    pub method: &'static str,
    pub path: &'static str,
    pub role: Role,
}

/// Every route the router serves, built with the router itself, so none can be left out of
/// the list (tests go through it to check each one refuses callers without the right token).
pub fn routes() -> Vec<RouteSpec> {
    table().specs
}

/// The router and the list of its routes, from one table.
struct Table {
    router: Router<Arc<Gateway>>,
    specs: Vec<RouteSpec>,
}

impl Table {
    fn get<H, T>(self, path: &'static str, role: Role, handler: H) -> Table
    where
        H: axum::handler::Handler<T, Arc<Gateway>>,
        T: 'static,
    {
        self.add("GET", path, role, get(handler))
    }

    fn post<H, T>(self, path: &'static str, role: Role, handler: H) -> Table
    where
        H: axum::handler::Handler<T, Arc<Gateway>>,
        T: 'static,
    {
        self.add("POST", path, role, post(handler))
    }

    fn delete<H, T>(self, path: &'static str, role: Role, handler: H) -> Table
    where
        H: axum::handler::Handler<T, Arc<Gateway>>,
        T: 'static,
    {
        self.add("DELETE", path, role, axum::routing::delete(handler))
    }

    fn add(
        mut self,
        method: &'static str,
        path: &'static str,
        role: Role,
        route: axum::routing::MethodRouter<Arc<Gateway>>,
    ) -> Table {
        self.specs.push(RouteSpec { method, path, role });
        self.router = self.router.route(path, route);
        self
    }
}

fn table() -> Table {
    use Role::{Admin, Operator, Viewer};
    Table {
        router: Router::new(),
        specs: Vec::new(),
    }
    .get("/healthz", Viewer, healthz)
    .get("/readyz", Viewer, readyz)
    .get("/metrics", Viewer, metrics)
    .get("/v1/openapi.yaml", Viewer, openapi)
    .get("/v1/apps", Viewer, list_apps)
    .get("/v1/apps/{app}", Viewer, get_app)
    .get("/v1/apps/{app}/releases", Viewer, list_releases)
    .get("/v1/apps/{app}/metrics", Viewer, app_metrics_history)
    .post("/v1/apps/{app}/scale", Operator, scale)
    .post("/v1/apps/{app}/rollback", Operator, rollback)
    .get("/v1/actions/{id}", Viewer, get_action)
    .get("/v1/alerts", Viewer, list_alerts)
    .post("/v1/alerts/{id}/ack", Operator, ack_alert)
    .post("/v1/alerts/{id}/silence", Operator, silence_alert)
    .delete("/v1/alerts/{id}/silence", Operator, expire_silence)
    .post("/v1/hooks/alertmanager", Operator, alertmanager_hook)
    .get("/v1/events", Viewer, list_events)
    .get("/v1/audit", Viewer, super::audit::api::list_audit)
    .post("/v1/sim/scenarios", Admin, start_scenario)
    .get("/v1/runbooks", Viewer, runs::list_runbooks)
    .get("/v1/runbooks/{id}", Viewer, runs::get_runbook)
    .post("/v1/runbooks/{id}/runs", Operator, runs::start_run)
    .get("/v1/runs", Viewer, runs::list_runs)
    .get("/v1/runs/{id}", Viewer, runs::get_run)
    .post("/v1/runs/{id}/approve", Operator, runs::approve_run)
    .post("/v1/runs/{id}/abort", Operator, runs::abort_run)
    .post("/v1/runs/{id}/resume", Operator, runs::resume_run)
    .get("/v1/stream", Viewer, stream)
}

pub fn router(gateway: Arc<Gateway>) -> Router {
    table()
        .router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::from_fn_with_state(
            gateway.clone(),
            auth::identify,
        ))
        .layer(axum::middleware::from_fn(super::http::stamp))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(json_errors))
        .with_state(gateway)
}

type ApiResult = Result<Response, ApiError>;

/// `{"status":"ok"}`, with `"warnings"` when the gateway runs with a risk (`--insecure-listen`).
async fn healthz(State(gw): State<Arc<Gateway>>) -> impl IntoResponse {
    if gw.config.warnings.is_empty() {
        Json(serde_json::json!({"status": "ok"}))
    } else {
        Json(serde_json::json!({"status": "ok", "warnings": gw.config.warnings}))
    }
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
        gw.stats.render() + &runs_by_state(&gw) + &gw.app_metrics.render(),
    )
}

/// The runs the gateway knows, by state, in Prometheus text format (every state, 0 included).
fn runs_by_state(gw: &Gateway) -> String {
    use std::fmt::Write as _;
    let runs = gw.runs.list();
    let mut out = String::from(
        "# HELP opsdeck_gateway_runs Runbook runs the gateway knows, by state.\n# TYPE opsdeck_gateway_runs gauge\n",
    );
    for state in crate::protocol::RunState::ALL {
        let n = runs.iter().filter(|r| r.state == state).count();
        let _ = writeln!(
            out,
            "opsdeck_gateway_runs{{state=\"{}\"}} {n}",
            state.as_str()
        );
    }
    out
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

#[derive(serde::Deserialize)]
struct HistoryQuery {
    /// Seconds of platform time back from now; default an hour. Read as text, so that a bad
    /// value gets the API's own error body.
    window: Option<String>,
}

async fn app_metrics_history(
    State(gw): State<Arc<Gateway>>,
    Path(app): Path<String>,
    axum::extract::Query(query): axum::extract::Query<HistoryQuery>,
) -> ApiResult {
    // An unknown app is a 404, as for its detail.
    gw.platform.app(&app).await?;
    let max = super::metrics_source::MAX_HISTORY_SECS;
    let window = match query.window.as_deref() {
        None => 3_600,
        Some(text) => text
            .parse::<i64>()
            .ok()
            .filter(|w| (1..=max).contains(w))
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid_window",
                    format!("window must be whole seconds from 1 to {max}, not {text:?}"),
                )
            })?,
    };
    match super::metrics_source::history(&gw, &app, window).await {
        Ok(points) => Ok(Json(points).into_response()),
        Err(err) => Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics_unavailable",
            err,
        )),
    }
}

async fn get_action(State(gw): State<Arc<Gateway>>, Path(id): Path<String>) -> ApiResult {
    match gw.action_book.get(&id) {
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
    Extension(origin): Extension<Origin>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let key = idempotency_key(&headers, &body)?;
    let alert = actions::acknowledge(&gw, &actor, id, Source::Request(key, origin)).await?;
    Ok(answer(StatusCode::OK, &alert))
}

async fn silence_alert(
    State(gw): State<Arc<Gateway>>,
    Extension(actor): Extension<Actor>,
    Extension(origin): Extension<Origin>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let req: SilenceRequest = parse_body(&body)?;
    let key = idempotency_key(&headers, &body)?;
    let req = actions::Silence::parse(id, &req.duration, req.comment)?;
    let alert = actions::silence(&gw, &actor, req, Source::Request(key, origin)).await?;
    Ok(answer(StatusCode::OK, &alert))
}

async fn expire_silence(
    State(gw): State<Arc<Gateway>>,
    Extension(actor): Extension<Actor>,
    Extension(origin): Extension<Origin>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let key = idempotency_key(&headers, &body)?;
    let alert = actions::expire_silence(&gw, &actor, id, Source::Request(key, origin)).await?;
    Ok(answer(StatusCode::OK, &alert))
}

/// Alertmanager's webhook (payload version 4): its alerts reach every console at once. A
/// malformed body is refused with 400 and changes nothing.
async fn alertmanager_hook(
    State(gw): State<Arc<Gateway>>,
    Extension(actor): Extension<Actor>,
    body: Bytes,
) -> ApiResult {
    actions::authorize(&actor, actions::Operation::ReportAlerts)?;
    let Some(alerts) = &gw.alertmanager else {
        return Err(ApiError::not_found(
            "no Alertmanager configured: start the gateway with --alertmanager URL",
        ));
    };
    match alerts.hook(&body).await {
        Ok(n) => Ok(Json(serde_json::json!({"received": n})).into_response()),
        Err(why) => Err(ApiError::bad_request(why)),
    }
}

async fn list_events(State(gw): State<Arc<Gateway>>) -> ApiResult {
    Ok(Json(gw.timeline().await?).into_response())
}

async fn start_scenario(
    State(gw): State<Arc<Gateway>>,
    Extension(actor): Extension<Actor>,
    Extension(origin): Extension<Origin>,
    body: Bytes,
) -> ApiResult {
    let req: ScenarioRequest = parse_body(&body)?;
    actions::start_scenario(&gw, &actor, &req.name, Source::Request(None, origin)).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(serde_json::json!({"scenario": req.name})),
    )
        .into_response())
}

async fn stream(
    State(gw): State<Arc<Gateway>>,
    Extension(actor): Extension<Actor>,
    ws: WebSocketUpgrade,
) -> Response {
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
    let identity = gw.config.tokens.is_some().then(|| actor.identity());
    // A client that sent its token as a subprotocol gets `opsdeck` back, never the token.
    ws.protocols([auth::STREAM_PROTOCOL])
        .max_message_size(cap)
        .max_frame_size(cap)
        .on_upgrade(move |socket| async move {
            super::session::run(gw, socket, identity).await;
            drop(permit);
        })
}

async fn scale(
    State(gw): State<Arc<Gateway>>,
    Extension(actor): Extension<Actor>,
    Extension(origin): Extension<Origin>,
    Path(app): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let req: ScaleRequest = parse_body(&body)?;
    let key = idempotency_key(&headers, &body)?;
    let req = actions::Scale {
        app,
        replicas: req.replicas,
    };
    let status = actions::scale(&gw, &actor, req, Source::Request(key, origin)).await?;
    Ok(answer(StatusCode::ACCEPTED, &status))
}

async fn rollback(
    State(gw): State<Arc<Gateway>>,
    Extension(actor): Extension<Actor>,
    Extension(origin): Extension<Origin>,
    Path(app): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let req: RollbackRequest = parse_optional_body(&body)?;
    let key = idempotency_key(&headers, &body)?;
    let req = actions::Rollback { app, to: req.to };
    let (status, _) = actions::rollback(&gw, &actor, req, Source::Request(key, origin)).await?;
    Ok(answer(StatusCode::ACCEPTED, &status))
}
