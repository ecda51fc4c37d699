//! HTTP surface of runbooks and runs: list and read runbooks, start a run (or a dry run), list and
//! read runs, approve, abort, resume.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};

use super::engine;
use super::world;
use crate::gateway::Gateway;
use crate::gateway::auth::Actor;
use crate::gateway::error::ApiError;
use crate::gateway::routes::{canonical, idempotent, idempotent_unmetered, parse_body};
use crate::protocol::{ApproveRequest, RunRequest, RunState, RunStatus, StepState, StepStatus};
use crate::runbook::{ParamKind, Params, Runbook, plan};

type ApiResult = Result<Response, ApiError>;

/// Longest the API waits for a run's task to act on an abort or an approval before answering.
const SETTLE: Duration = Duration::from_secs(5);

fn conflict(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::CONFLICT, "conflict", message)
}

pub async fn list_runbooks(State(gw): State<Arc<Gateway>>) -> ApiResult {
    Ok(Json(gw.runs.catalog().summaries()).into_response())
}

/// The runbook, or why it cannot be used.
fn runbook(gw: &Gateway, id: &str) -> Result<Arc<Runbook>, ApiError> {
    let catalog = gw.runs.catalog();
    if let Some(runbook) = catalog.get(id) {
        return Ok(runbook);
    }
    match catalog.problem_of(id) {
        Some(problem) => Err(ApiError::validation(format!(
            "runbook {id} is invalid and cannot run: {}",
            problem.error
        ))),
        None => Err(ApiError::not_found(format!("unknown runbook {id:?}"))),
    }
}

pub async fn get_runbook(State(gw): State<Arc<Gateway>>, Path(id): Path<String>) -> ApiResult {
    Ok(Json(runbook(&gw, &id)?.detail()).into_response())
}

pub async fn start_run(
    State(gw): State<Arc<Gateway>>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let req: RunRequest = if body.iter().all(u8::is_ascii_whitespace) {
        RunRequest::default()
    } else {
        parse_body(&body)?
    };
    let fingerprint = format!("run {id} {}", canonical(&body));
    let success = if req.dry_run {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let apply = {
        let (gw, actor) = (gw.clone(), actor.clone());
        async move { create_run(&gw, &id, req, &actor.0).await }
    };
    idempotent(&gw, &actor, &headers, fingerprint, success, apply).await
}

/// Check everything a run needs before anything runs: parameters, apps, every step resolved.
async fn create_run(
    gw: &Arc<Gateway>,
    id: &str,
    req: RunRequest,
    actor: &str,
) -> Result<RunStatus, ApiError> {
    let runbook = runbook(gw, id)?;
    let params = Params::resolve(&runbook.params, &req.params).map_err(ApiError::validation)?;
    for spec in runbook.params.iter().filter(|p| p.kind == ParamKind::App) {
        let app = params.text(&spec.name).unwrap_or_default();
        if let Err(err) = gw.platform.app(&app).await {
            return Err(ApiError::validation(format!(
                "parameter `{}`: {err}",
                spec.name
            )));
        }
    }
    let steps = runbook.resolve(&params).map_err(ApiError::validation)?;
    let now = gw.platform.now();
    let mut status = RunStatus {
        id: gw.runs.next_id(),
        runbook: runbook.id.clone(),
        params: params.values().clone(),
        state: RunState::Pending,
        dry_run: req.dry_run,
        steps: steps
            .iter()
            .map(|s| StepStatus {
                id: s.id.clone(),
                kind: s.kind.name().to_string(),
                state: StepState::Pending,
                attempts: 0,
                started_at: None,
                finished_at: None,
                output: Vec::new(),
                waiting_on: None,
                fallback: s.fallback,
            })
            .collect(),
        current_step: None,
        message: String::new(),
        created_at: now,
        updated_at: now,
        started_by: actor.to_string(),
        plan: None,
    };
    if req.dry_run {
        let snapshots = world::snapshots(&*gw.platform, &steps).await;
        let plan = plan(&steps, &snapshots);
        for (step, planned) in status.steps.iter_mut().zip(&plan.steps) {
            step.state = StepState::Skipped;
            step.output.push(planned.action.clone());
            step.output.extend(planned.evaluation.clone());
        }
        status.state = RunState::Succeeded;
        status.message = "dry run: nothing was changed".into();
        status.plan = Some(plan);
        let status = gw.runs.insert(status).await;
        gw.runs.publish(status.clone()).await;
        return Ok(status);
    }
    let cap = gw.config.max_unfinished_runs;
    if gw.runs.unfinished() >= cap {
        // 503, not 4xx: it is not remembered under an Idempotency-Key, so a retry can succeed.
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_runs",
            format!("{cap} runs are unfinished; finish, approve or abort some first"),
        ));
    }
    let status = gw.runs.insert(status).await;
    tracing::info!(run = %status.id, runbook = %status.runbook, by = %actor, "run started");
    gw.runs.publish(status.clone()).await;
    engine::spawn(gw, &status.id, steps, runbook.steps.len());
    Ok(status)
}

pub async fn list_runs(State(gw): State<Arc<Gateway>>) -> ApiResult {
    Ok(Json(gw.runs.list()).into_response())
}

fn run(gw: &Gateway, id: &str) -> Result<RunStatus, ApiError> {
    gw.runs
        .get(id)
        .ok_or_else(|| ApiError::not_found(format!("unknown run {id:?}")))
}

pub async fn get_run(State(gw): State<Arc<Gateway>>, Path(id): Path<String>) -> ApiResult {
    Ok(Json(run(&gw, &id)?).into_response())
}

/// Poll until `done` holds for the run or [`SETTLE`] passes; returns the latest status.
async fn settle(
    gw: &Gateway,
    id: &str,
    done: impl Fn(&RunStatus) -> bool,
) -> Result<RunStatus, ApiError> {
    let start = tokio::time::Instant::now();
    loop {
        let status = run(gw, id)?;
        if done(&status) || start.elapsed() >= SETTLE {
            return Ok(status);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Approve, abort or resume: at most once per Idempotency-Key, like actions.
async fn control_once<Fut>(
    gw: &Arc<Gateway>,
    verb: &str,
    id: &str,
    headers: &HeaderMap,
    body: &Bytes,
    success: StatusCode,
    apply: Fut,
) -> ApiResult
where
    Fut: std::future::Future<Output = Result<RunStatus, ApiError>> + Send + 'static,
{
    let fingerprint = format!("{verb} {id} {}", canonical(body));
    idempotent_unmetered(gw, headers, fingerprint, success, apply).await
}

/// Let a run waiting at an approval step go on. The body names the step being approved
/// (`{"step": "approve-rollback"}`), so a retry or a decision taken on stale state cannot pass
/// another gate: 409 unless that step is the one waiting. Any operator may approve for now,
/// including the one who started it; `auth.rs` is where roles will restrict this.
pub async fn approve_run(
    State(gw): State<Arc<Gateway>>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let req: ApproveRequest = if body.iter().all(u8::is_ascii_whitespace) {
        ApproveRequest::default()
    } else {
        parse_body(&body)?
    };
    let step = req.step.ok_or_else(|| {
        ApiError::validation(
            "approve needs the step being approved: {\"step\": \"<id of the step waiting for approval>\"}",
        )
    })?;
    let apply = approve(gw.clone(), id.clone(), step, actor);
    control_once(&gw, "approve", &id, &headers, &body, StatusCode::OK, apply).await
}

async fn approve(
    gw: Arc<Gateway>,
    id: String,
    step: String,
    actor: Actor,
) -> Result<RunStatus, ApiError> {
    let status = run(&gw, &id)?;
    let control = gw.runs.control(&id);
    match control {
        Some(control) if status.state == RunState::WaitingApproval && gw.runs.is_live(&id) => {
            let waiting = status.current_step.clone();
            if waiting.as_deref() != Some(step.as_str()) {
                return Err(conflict(format!(
                    "run {id} is waiting for approval of step {}, not {step}; nothing was approved",
                    waiting.as_deref().unwrap_or("(none)")
                )));
            }
            if !control.approve(&step, &actor.0) {
                return Err(conflict(format!(
                    "step {step} of run {id} is no longer waiting for approval; nothing was approved"
                )));
            }
            tracing::info!(run = %id, %step, by = %actor.0, "run approved");
            settle(&gw, &id, |s| {
                s.state != RunState::WaitingApproval || s.current_step != waiting
            })
            .await
        }
        _ => Err(conflict(format!(
            "run {id} is {}, not waiting for approval",
            status.state.as_str()
        ))),
    }
}

/// Stop a run: its current step stops at its next poll, and the run ends `aborted`.
pub async fn abort_run(
    State(gw): State<Arc<Gateway>>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let apply = abort(gw.clone(), id.clone(), actor);
    control_once(&gw, "abort", &id, &headers, &body, StatusCode::OK, apply).await
}

async fn abort(gw: Arc<Gateway>, id: String, actor: Actor) -> Result<RunStatus, ApiError> {
    let status = run(&gw, &id)?;
    if status.state.is_final() {
        return Err(conflict(format!(
            "run {id} is already {}",
            status.state.as_str()
        )));
    }
    if gw.runs.is_live(&id)
        && let Some(control) = gw.runs.control(&id)
    {
        control.request_abort(&actor.0);
        tracing::info!(run = %id, by = %actor.0, "run abort requested");
        return settle(&gw, &id, |s| s.state.is_final()).await;
    }
    // Nothing drives it (interrupted, or never started): end it here.
    let by = actor.0.clone();
    let ended = gw
        .runs
        .try_update(&id, gw.platform.now(), |r| {
            if r.status.state.is_final() {
                return false;
            }
            r.status.state = RunState::Aborted;
            r.status.message = format!("aborted by {by}");
            r.status.current_step = None;
            for step in &mut r.status.steps {
                if step.state == StepState::Pending {
                    step.state = StepState::Skipped;
                }
            }
            true
        })
        .await;
    match ended {
        Some(status) => {
            gw.runs.publish(status.clone()).await;
            Ok(status)
        }
        None => Err(conflict(format!("run {id} has already ended"))),
    }
}

/// Continue an interrupted run from the step that did not finish.
pub async fn resume_run(
    State(gw): State<Arc<Gateway>>,
    Extension(actor): Extension<Actor>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult {
    let apply = resume(gw.clone(), id.clone(), actor);
    control_once(
        &gw,
        "resume",
        &id,
        &headers,
        &body,
        StatusCode::ACCEPTED,
        apply,
    )
    .await
}

async fn resume(gw: Arc<Gateway>, id: String, actor: Actor) -> Result<RunStatus, ApiError> {
    let status = run(&gw, &id)?;
    if status.state != RunState::Interrupted {
        return Err(conflict(format!(
            "run {id} is {}; only an interrupted run can be resumed",
            status.state.as_str()
        )));
    }
    let runbook = gw.runs.catalog().get(&status.runbook).ok_or_else(|| {
        conflict(format!(
            "runbook {} is no longer loaded; the run cannot be resumed",
            status.runbook
        ))
    })?;
    let same_steps = runbook
        .all_steps()
        .map(|s| s.id.as_str())
        .eq(status.steps.iter().map(|s| s.id.as_str()));
    if !same_steps {
        return Err(conflict(format!(
            "runbook {} changed since run {id} started (its steps differ); start a new run",
            status.runbook
        )));
    }
    let params = Params::resolve(&runbook.params, &status.params).map_err(conflict)?;
    let steps = runbook.resolve(&params).map_err(conflict)?;
    let by = actor.0.clone();
    let resumed = gw
        .runs
        .try_update(&id, gw.platform.now(), |r| {
            if r.status.state != RunState::Interrupted {
                return false;
            }
            r.status.state = RunState::Pending;
            r.status.message = format!("resumed by {by}");
            let next = r.status.current_step.clone();
            if let Some(step) = r
                .status
                .steps
                .iter_mut()
                .find(|s| Some(&s.id) == next.as_ref())
            {
                step.output.push(format!("resumed by {by}"));
            }
            true
        })
        .await;
    let Some(status) = resumed else {
        return Err(conflict(format!("run {id} is already being resumed")));
    };
    tracing::info!(run = %id, by = %actor.0, "run resumed");
    gw.runs.publish(status.clone()).await;
    engine::spawn(&gw, &id, steps, runbook.steps.len());
    Ok(status)
}
