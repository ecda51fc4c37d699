//! Changes to runbook runs: start one (or a dry run), approve the step it waits on, abort it,
//! resume it after a restart. Starting is counted against the action limit; the controls are
//! not.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use super::audited::{Draft, audited};
use super::once::{Metering, once};
use super::{ActionError, Actor, Operation, Outcome, Source, authorize};
use crate::gateway::Gateway;
use crate::gateway::runs::{RunEvent, snapshots, spawn_engine};
use crate::protocol::{RunState, RunStatus, StepState, StepStatus};
use crate::runbook::{ParamKind, Params, ResolvedStep, Runbook, plan};

/// Longest an approve or abort waits for the run's task to act on it before answering.
const SETTLE: Duration = Duration::from_secs(5);

/// Run runbook `runbook` with `params`; a dry run resolves and evaluates but changes nothing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StartRun {
    pub runbook: String,
    pub params: BTreeMap<String, serde_json::Value>,
    pub dry_run: bool,
}

/// Approve step `step` of run `run`: it must be the step waiting, so a retry or a decision taken
/// on stale state cannot pass another gate.
#[derive(Clone, Debug, PartialEq)]
pub struct Approve {
    pub run: String,
    pub step: String,
}

impl Approve {
    /// An approval of run `run`, which must name the step it approves.
    pub fn new(run: String, step: Option<String>) -> Result<Approve, ActionError> {
        let step = step.ok_or_else(|| {
            ActionError::Invalid(
                "approve needs the step being approved: {\"step\": \"<id of the step waiting for approval>\"}".into(),
            )
        })?;
        Ok(Approve { run, step })
    }
}

/// The runbook `id`, or why it cannot be used.
pub fn runbook(gw: &Gateway, id: &str) -> Result<Arc<Runbook>, ActionError> {
    let catalog = gw.runs.catalog();
    if let Some(runbook) = catalog.get(id) {
        return Ok(runbook);
    }
    match catalog.problem_of(id) {
        Some(problem) => Err(ActionError::Invalid(format!(
            "runbook {id} is invalid and cannot run: {}",
            problem.error
        ))),
        None => Err(ActionError::NotFound(format!("unknown runbook {id:?}"))),
    }
}

/// Start a run, after checking everything it needs: parameters, apps, every step resolved.
pub async fn start_run(
    gw: &Arc<Gateway>,
    actor: &Actor,
    req: StartRun,
    source: Source,
) -> Result<RunStatus, ActionError> {
    authorize(actor, Operation::StartRun)?;
    let what = format!("run {}", req.runbook);
    let draft = Draft {
        action: "run_start",
        target: req.runbook.clone(),
        app: req
            .params
            .get("app")
            .and_then(|v| v.as_str())
            .map(str::to_string),
        to: None,
    };
    // The checks read the catalog and the platform, so they run under the key: a retry gets the
    // first answer, not a new verdict.
    let apply = {
        let (gw, actor) = (gw.clone(), actor.clone());
        async move {
            let runbook = runbook(&gw, &req.runbook)?;
            let params =
                Params::resolve(&runbook.params, &req.params).map_err(ActionError::Invalid)?;
            for spec in runbook.params.iter().filter(|p| p.kind == ParamKind::App) {
                let app = params.text(&spec.name).unwrap_or_default();
                if let Err(err) = gw.platform.app(&app).await {
                    return Err(ActionError::Invalid(format!(
                        "parameter `{}`: {err}",
                        spec.name
                    )));
                }
            }
            let steps = runbook.resolve(&params).map_err(ActionError::Invalid)?;
            let run = create_run(&gw, &runbook, &params, steps, req.dry_run, &actor).await?;
            Ok(Outcome::Run(run))
        }
    };
    let apply = audited(gw, actor, &source, draft, apply);
    run_of(once(gw, source, Metering::Counted(actor), &what, apply).await)
}

/// Record the run (and run a dry run through), or hand it to a task of its own.
async fn create_run(
    gw: &Arc<Gateway>,
    runbook: &Runbook,
    params: &Params,
    steps: Vec<ResolvedStep>,
    dry_run: bool,
    actor: &Actor,
) -> Result<RunStatus, ActionError> {
    let now = gw.platform.now();
    let mut status = RunStatus {
        id: gw.runs.next_id(),
        runbook: runbook.id.clone(),
        params: params.values().clone(),
        state: RunState::Pending,
        dry_run,
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
        started_by: actor.name().to_string(),
        plan: None,
    };
    if dry_run {
        let snapshots = snapshots(&*gw.platform, &steps).await;
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
        gw.runs
            .record(&status, RunEvent::Started, Some(actor.name()))
            .await;
        gw.runs.publish(status.clone()).await;
        return Ok(status);
    }
    let cap = gw.config.max_unfinished_runs;
    if gw.runs.unfinished() >= cap {
        // Not remembered under an Idempotency-Key, so a retry can succeed once room is made.
        return Err(ActionError::TooManyRuns { cap });
    }
    let status = gw.runs.insert(status).await;
    tracing::info!(run = %status.id, runbook = %status.runbook, by = %actor.name(), "run started");
    gw.runs
        .record(&status, RunEvent::Started, Some(actor.name()))
        .await;
    gw.runs.publish(status.clone()).await;
    spawn_engine(gw, &status.id, steps, runbook.steps.len());
    Ok(status)
}

/// Let a run waiting at an approval step go on. An operator may approve, the one who started
/// the run too, unless the step is marked `four_eyes = true`.
pub async fn approve_run(
    gw: &Arc<Gateway>,
    actor: &Actor,
    req: Approve,
    source: Source,
) -> Result<RunStatus, ActionError> {
    authorize(actor, Operation::ApproveRun)?;
    let what = format!("approve {}", req.run);
    let draft = run_draft(gw, "run_approve", &req.run, Some(req.step.clone()));
    let apply = {
        let (gw, actor) = (gw.clone(), actor.clone());
        async move {
            approve(&gw, &req.run, &req.step, &actor)
                .await
                .map(Outcome::Run)
        }
    };
    let apply = audited(gw, actor, &source, draft, apply);
    run_of(once(gw, source, Metering::Free, &what, apply).await)
}

async fn approve(
    gw: &Gateway,
    id: &str,
    step: &str,
    actor: &Actor,
) -> Result<RunStatus, ActionError> {
    let status = run(gw, id)?;
    let control = gw.runs.control(id);
    match control {
        Some(control) if status.state == RunState::WaitingApproval && gw.runs.is_live(id) => {
            let waiting = status.current_step.clone();
            if waiting.as_deref() != Some(step) {
                return Err(ActionError::Conflict(format!(
                    "run {id} is waiting for approval of step {}, not {step}; nothing was approved",
                    waiting.as_deref().unwrap_or("(none)")
                )));
            }
            if needs_four_eyes(gw, &status.runbook, step) && status.started_by == actor.name() {
                return Err(ActionError::Forbidden(format!(
                    "step {step} of run {id} needs four eyes: someone other than {}, who \
                     started the run, must approve it; nothing was approved",
                    status.started_by
                )));
            }
            if !control.approve(step, actor.name()) {
                return Err(ActionError::Conflict(format!(
                    "step {step} of run {id} is no longer waiting for approval; nothing was approved"
                )));
            }
            tracing::info!(run = %id, %step, by = %actor.name(), "run approved");
            settle(gw, id, |s| {
                s.state != RunState::WaitingApproval || s.current_step != waiting
            })
            .await
        }
        _ => Err(ActionError::Conflict(format!(
            "run {id} is {}, not waiting for approval",
            status.state.as_str()
        ))),
    }
}

/// Whether step `step` of runbook `runbook` is marked `four_eyes = true`: approved only by
/// someone other than the run's starter.
fn needs_four_eyes(gw: &Gateway, runbook: &str, step: &str) -> bool {
    gw.runs
        .catalog()
        .get(runbook)
        .is_some_and(|r| r.all_steps().any(|s| s.id == step && s.four_eyes()))
}

/// Stop run `run`: its current step stops at its next poll, and the run ends `aborted`.
pub async fn abort_run(
    gw: &Arc<Gateway>,
    actor: &Actor,
    run: String,
    source: Source,
) -> Result<RunStatus, ActionError> {
    authorize(actor, Operation::AbortRun)?;
    let what = format!("abort {run}");
    let draft = run_draft(gw, "run_abort", &run, None);
    let apply = {
        let (gw, actor) = (gw.clone(), actor.clone());
        async move { abort(&gw, &run, &actor).await.map(Outcome::Run) }
    };
    let apply = audited(gw, actor, &source, draft, apply);
    run_of(once(gw, source, Metering::Free, &what, apply).await)
}

async fn abort(gw: &Gateway, id: &str, actor: &Actor) -> Result<RunStatus, ActionError> {
    let status = run(gw, id)?;
    if status.state.is_final() {
        return Err(ActionError::Conflict(format!(
            "run {id} is already {}",
            status.state.as_str()
        )));
    }
    if gw.runs.is_live(id)
        && let Some(control) = gw.runs.control(id)
    {
        control.request_abort(actor.name());
        tracing::info!(run = %id, by = %actor.name(), "run abort requested");
        return settle(gw, id, |s| s.state.is_final()).await;
    }
    // Nothing drives it (interrupted, or never started): end it here.
    let by = actor.name().to_string();
    let ended = gw
        .runs
        .try_update(id, gw.platform.now(), |r| {
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
            gw.runs.record_end(&status, Some(actor.name())).await;
            Ok(status)
        }
        None => Err(ActionError::Conflict(format!("run {id} has already ended"))),
    }
}

/// Continue interrupted run `run` from the step that did not finish.
pub async fn resume_run(
    gw: &Arc<Gateway>,
    actor: &Actor,
    run: String,
    source: Source,
) -> Result<RunStatus, ActionError> {
    authorize(actor, Operation::ResumeRun)?;
    let what = format!("resume {run}");
    let draft = run_draft(gw, "run_resume", &run, None);
    let apply = {
        let (gw, actor) = (gw.clone(), actor.clone());
        async move { resume(&gw, &run, &actor).await.map(Outcome::Run) }
    };
    let apply = audited(gw, actor, &source, draft, apply);
    run_of(once(gw, source, Metering::Free, &what, apply).await)
}

async fn resume(gw: &Arc<Gateway>, id: &str, actor: &Actor) -> Result<RunStatus, ActionError> {
    let status = run(gw, id)?;
    if status.state != RunState::Interrupted {
        return Err(ActionError::Conflict(format!(
            "run {id} is {}; only an interrupted run can be resumed",
            status.state.as_str()
        )));
    }
    let runbook = gw.runs.catalog().get(&status.runbook).ok_or_else(|| {
        ActionError::Conflict(format!(
            "runbook {} is no longer loaded; the run cannot be resumed",
            status.runbook
        ))
    })?;
    let same_steps = runbook
        .all_steps()
        .map(|s| s.id.as_str())
        .eq(status.steps.iter().map(|s| s.id.as_str()));
    if !same_steps {
        return Err(ActionError::Conflict(format!(
            "runbook {} changed since run {id} started (its steps differ); start a new run",
            status.runbook
        )));
    }
    let params = Params::resolve(&runbook.params, &status.params).map_err(ActionError::Conflict)?;
    let steps = runbook.resolve(&params).map_err(ActionError::Conflict)?;
    let by = actor.name().to_string();
    let resumed = gw
        .runs
        .try_update(id, gw.platform.now(), |r| {
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
        return Err(ActionError::Conflict(format!(
            "run {id} is already being resumed"
        )));
    };
    tracing::info!(run = %id, by = %actor.name(), "run resumed");
    let step = status.current_step.as_deref();
    gw.runs
        .record(&status, RunEvent::Resumed { step }, Some(actor.name()))
        .await;
    gw.runs.publish(status.clone()).await;
    spawn_engine(gw, id, steps, runbook.steps.len());
    Ok(status)
}

/// The draft record of a control of run `id` (its app, when the run is known).
fn run_draft(gw: &Gateway, action: &'static str, id: &str, to: Option<String>) -> Draft {
    Draft {
        action,
        target: id.to_string(),
        app: gw.runs.get(id).map(|r| crate::gateway::runs::app_of(&r)),
        to,
    }
}

/// The run `id` as it is now.
fn run(gw: &Gateway, id: &str) -> Result<RunStatus, ActionError> {
    gw.runs
        .get(id)
        .ok_or_else(|| ActionError::NotFound(format!("unknown run {id:?}")))
}

/// Poll until `done` holds for the run or [`SETTLE`] passes; returns the latest status.
async fn settle(
    gw: &Gateway,
    id: &str,
    done: impl Fn(&RunStatus) -> bool,
) -> Result<RunStatus, ActionError> {
    let start = tokio::time::Instant::now();
    loop {
        let status = run(gw, id)?;
        if done(&status) || start.elapsed() >= SETTLE {
            return Ok(status);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The run in an answer kept for a run change.
fn run_of(answer: super::Answer) -> Result<RunStatus, ActionError> {
    match answer? {
        Outcome::Run(run) => Ok(run),
        _ => Err(ActionError::Internal),
    }
}
