//! HTTP surface of runbooks and runs: list and read runbooks and runs; start a run (or a dry
//! run), approve, abort and resume through the actions layer.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use crate::gateway::Gateway;
use crate::gateway::actions::{self, Actor, Origin, Source};
use crate::gateway::error::ApiError;
use crate::gateway::http::{answer, idempotency_key, parse_optional_body};
use crate::protocol::{ApproveRequest, RunRequest};

type ApiResult = Result<Response, ApiError>;

pub async fn list_runbooks(State(gw): State<Arc<Gateway>>) -> ApiResult {
    Ok(Json(gw.runs.catalog().summaries()).into_response())
}

pub async fn get_runbook(State(gw): State<Arc<Gateway>>, Path(id): Path<String>) -> ApiResult {
    Ok(Json(actions::runbook(&gw, &id)?.detail()).into_response())
}

pub async fn start_run(
    State(gw): State<Arc<Gateway>>,
    Extension(actor): Extension<Actor>,
    Extension(origin): Extension<Origin>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let req: RunRequest = parse_optional_body(&body)?;
    let key = idempotency_key(&headers, &body)?;
    let success = if req.dry_run {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let req = actions::StartRun {
        runbook: id,
        params: req.params,
        dry_run: req.dry_run,
    };
    let run = actions::start_run(&gw, &actor, req, Source::Request(key, origin)).await?;
    Ok(answer(success, &run))
}

pub async fn list_runs(State(gw): State<Arc<Gateway>>) -> ApiResult {
    Ok(Json(gw.runs.list()).into_response())
}

pub async fn get_run(State(gw): State<Arc<Gateway>>, Path(id): Path<String>) -> ApiResult {
    match gw.runs.get(&id) {
        Some(run) => Ok(Json(run).into_response()),
        None => Err(ApiError::not_found(format!("unknown run {id:?}"))),
    }
}

/// The body names the step being approved (`{"step": "approve-rollback"}`); 422 without it.
pub async fn approve_run(
    State(gw): State<Arc<Gateway>>,
    Extension(actor): Extension<Actor>,
    Extension(origin): Extension<Origin>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let req: ApproveRequest = parse_optional_body(&body)?;
    let approve = actions::Approve::new(id, req.step)?;
    let key = idempotency_key(&headers, &body)?;
    let run = actions::approve_run(&gw, &actor, approve, Source::Request(key, origin)).await?;
    Ok(answer(StatusCode::OK, &run))
}

pub async fn abort_run(
    State(gw): State<Arc<Gateway>>,
    Extension(actor): Extension<Actor>,
    Extension(origin): Extension<Origin>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let key = idempotency_key(&headers, &body)?;
    let run = actions::abort_run(&gw, &actor, id, Source::Request(key, origin)).await?;
    Ok(answer(StatusCode::OK, &run))
}

pub async fn resume_run(
    State(gw): State<Arc<Gateway>>,
    Extension(actor): Extension<Actor>,
    Extension(origin): Extension<Origin>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let key = idempotency_key(&headers, &body)?;
    let run = actions::resume_run(&gw, &actor, id, Source::Request(key, origin)).await?;
    Ok(answer(StatusCode::ACCEPTED, &run))
}
