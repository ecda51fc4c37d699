//! Fixed runbooks and runs for the runbook tests: three runbooks (one broken), a dry-run plan,
//! runs in every interesting state, times relative to the shared fixed clock.
#![allow(dead_code, clippy::unwrap_used)]

use std::collections::BTreeMap;

use opsdeck::app::{Action, Effect, Reply, RequestKind, State, update};
use opsdeck::protocol::{
    Body, Event, ParamInfo, Plan, PlannedStep, RunState, RunStatus, RunbookDetail, RunbookSummary,
    ServerMsg, StepState, StepStatus,
};
use serde_json::Value;

use super::fixtures::at;

fn param(name: &str, kind: &str, default: Option<Value>, description: &str) -> ParamInfo {
    ParamInfo {
        name: name.into(),
        kind: kind.into(),
        required: default.is_none(),
        default,
        description: description.into(),
    }
}

pub fn runbooks() -> Vec<RunbookSummary> {
    vec![
        RunbookSummary {
            id: "bad-release".into(),
            title: "Bad release: roll back (发布故障回滚)".into(),
            description: "Check that errors began after the latest release, roll back once an operator approves, verify.".into(),
            source: "runbooks/bad-release.toml".into(),
            params: vec![
                param("app", "app", Some("shop-cart".into()), "The app with the failing release."),
                param("release", "release", Some("previous".into()), "Release to roll back to."),
            ],
            steps: 5,
            error: None,
        },
        RunbookSummary {
            id: "flash-sale-spike".into(),
            title: "Flash sale spike: scale out (大促扩容)".into(),
            description: "Scale out by a percentage, wait for p99 to settle, cap at a maximum.".into(),
            source: "embedded".into(),
            params: vec![
                param("app", "app", None, "The app under load."),
                param("extra", "percent", Some("50%".into()), "How much to add."),
                param("max_replicas", "integer", Some(24.into()), "Never more than this."),
                param("settle", "duration", Some("5m".into()), "How long p99 must hold."),
            ],
            steps: 4,
            error: None,
        },
        RunbookSummary {
            id: "cache-degradation".into(),
            title: String::new(),
            description: String::new(),
            source: "runbooks/cache-degradation.toml".into(),
            params: vec![],
            steps: 0,
            error: Some("runbooks/cache-degradation.toml:12:3: unknown key `conditon` in step `check-hit-ratio`".into()),
        },
    ]
}

pub fn detail(id: &str) -> RunbookDetail {
    let summary = runbooks().into_iter().find(|r| r.id == id).unwrap();
    RunbookDetail {
        summary,
        step_list: vec![],
        text: String::new(),
    }
}

fn planned(id: &str, kind: &str, action: &str, evaluation: Option<&str>) -> PlannedStep {
    PlannedStep {
        id: id.into(),
        kind: kind.into(),
        action: action.into(),
        evaluation: evaluation.map(str::to_string),
        holds: evaluation.and_then(|e| {
            if e.ends_with("(does not hold)") {
                Some(false)
            } else {
                e.ends_with("(holds)").then_some(true)
            }
        }),
        fallback: false,
    }
}

pub fn params(pairs: &[(&str, Value)]) -> BTreeMap<String, Value> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_string(), v.clone()))
        .collect()
}

/// The answer to a dry run of bad-release on `app`.
pub fn dry_run(app: &str) -> RunStatus {
    let mut run = run(
        "run-dry-1",
        "bad-release",
        app,
        RunState::Succeeded,
        -5,
        vec![],
    );
    run.dry_run = true;
    let mut fallback = planned(
        "escalate",
        "note",
        "would write: errors did not fall after the rollback; escalate to the owning team",
        None,
    );
    fallback.fallback = true;
    run.plan = Some(Plan {
        steps: vec![
            planned(
                "errors-after-release",
                "check",
                &format!("would check error_ratio > 2% and alert_age <= release_age on {app}"),
                Some(
                    "now: error_ratio = 3.4%, want > 2%; alert_age = 5 min, release_age = 41 min (holds)",
                ),
            ),
            planned(
                "approve-rollback",
                "approval",
                &format!("would wait for an operator: roll {app} back (target: previous)?"),
                None,
            ),
            planned(
                "roll-back",
                "rollback",
                &format!("would roll back {app} v2.14.0 -> v2.13.2 (r-41)"),
                None,
            ),
            planned(
                "verify",
                "wait_for",
                &format!("would wait until error_ratio < 1% on {app} for 2 min"),
                Some("now: error_ratio = 3.4%, want < 1% (does not hold)"),
            ),
            fallback,
        ],
    });
    run
}

/// The answer to a dry run of bad-release on `app` after a manual rollback: the errors have
/// fallen, so its first check does not hold, and the plan would roll back a second time.
pub fn failing_dry_run(app: &str) -> RunStatus {
    let mut run = dry_run(app);
    let plan = run.plan.as_mut().unwrap();
    plan.steps[0] = planned(
        "errors-after-release",
        "check",
        &format!("would check that error_ratio > 2% and alert_age <= release_age holds on {app}"),
        Some(
            "now: error_ratio = 0.4%, want > 2%; alert_age = 14 min 5 s, release_age = 7 h 2 min, want alert_age <= release_age (does not hold)",
        ),
    );
    plan.steps[2] = planned(
        "roll-back",
        "rollback",
        &format!("would roll {app} back r-41 (v2.3.0) -> r-40 (v2.2.9)"),
        None,
    );
    run
}

pub fn step(
    id: &str,
    kind: &str,
    state: StepState,
    started: Option<i64>,
    finished: Option<i64>,
    output: &[&str],
) -> StepStatus {
    StepStatus {
        id: id.into(),
        kind: kind.into(),
        state,
        attempts: u32::from(started.is_some()),
        started_at: started.map(at),
        finished_at: finished.map(at),
        output: output.iter().map(|s| s.to_string()).collect(),
        waiting_on: None,
        fallback: false,
    }
}

pub fn run(
    id: &str,
    runbook: &str,
    app: &str,
    state: RunState,
    created: i64,
    steps: Vec<StepStatus>,
) -> RunStatus {
    RunStatus {
        id: id.into(),
        runbook: runbook.into(),
        params: params(&[("app", app.into())]),
        state,
        dry_run: false,
        current_step: None,
        message: String::new(),
        created_at: at(created),
        updated_at: at(0),
        started_by: "li.wei".into(),
        steps,
        plan: None,
    }
}

/// bad-release on shop-cart, waiting at its approval step.
pub fn waiting_run() -> RunStatus {
    let mut approve = step(
        "approve-rollback",
        "approval",
        StepState::WaitingApproval,
        Some(-40),
        None,
        &[
            "asked: Errors on shop-cart began after its latest release. Roll it back (target: previous)?",
        ],
    );
    approve.waiting_on = Some(
        "Errors on shop-cart began after its latest release. Roll it back (target: previous)?"
            .into(),
    );
    let mut escalate = step("escalate", "note", StepState::Pending, None, None, &[]);
    escalate.fallback = true;
    let mut r = run(
        "run-9f2c1a7e-3",
        "bad-release",
        "shop-cart",
        RunState::WaitingApproval,
        -65,
        vec![
            step(
                "errors-after-release",
                "check",
                StepState::Succeeded,
                Some(-65),
                Some(-64),
                &[
                    "Errors began after the latest release: check that error_ratio > 2% and alert_age <= release_age holds on shop-cart",
                    "holds: error_ratio = 3.4%, want > 2%; alert_age = 5 min, release_age = 41 min",
                ],
            ),
            approve,
            step("roll-back", "rollback", StepState::Pending, None, None, &[]),
            step("verify", "wait_for", StepState::Pending, None, None, &[]),
            step("done", "note", StepState::Pending, None, None, &[]),
            escalate,
        ],
    );
    r.params.insert("release".into(), "previous".into());
    r.current_step = Some("approve-rollback".into());
    r
}

/// flash-sale-spike on search (商品搜索服务), scaled and waiting for p99 to settle.
pub fn running_run() -> RunStatus {
    let mut wait = step(
        "settle",
        "wait_for",
        StepState::Running,
        Some(-72),
        None,
        &[
            "waiting until p99 < 300 ms holds on search for 5 min",
            "商品搜索服务: p99 = 412 ms, not yet",
        ],
    );
    wait.waiting_on = Some("p99 = 412 ms, want < 300 ms for 5 min, held 12 s".into());
    let mut r = run(
        "run-9f2c1a7e-2",
        "flash-sale-spike",
        "search",
        RunState::Running,
        -190,
        vec![
            step(
                "scale-out",
                "scale",
                StepState::Succeeded,
                Some(-190),
                Some(-75),
                &[
                    "scale search 3 -> 5 (+50% of 3 = 5; limits 2..=24)",
                    "5/5 replicas ready after 1 min 55 s",
                ],
            ),
            wait,
            step("notify", "note", StepState::Pending, None, None, &[]),
        ],
    );
    r.params.insert("extra".into(), "50%".into());
    r.current_step = Some("settle".into());
    r
}

/// app-down on coupon, interrupted by a gateway restart.
pub fn interrupted_run() -> RunStatus {
    let mut r = run(
        "run-9f2c1a7e-1",
        "app-down",
        "coupon",
        RunState::Interrupted,
        -3600,
        vec![step(
            "restart",
            "scale",
            StepState::Running,
            Some(-3500),
            None,
            &["scale coupon 0 -> 2"],
        )],
    );
    r.current_step = Some("restart".into());
    r.message = "the gateway stopped while this run was in flight; resume continues it".into();
    r
}

pub fn runs() -> Vec<RunStatus> {
    vec![interrupted_run(), waiting_run(), running_run()]
}

/// Requests of a kind among `effects`.
pub fn requests(effects: &[Effect]) -> Vec<(u64, RequestKind)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Http(r) => Some((r.id, r.kind.clone())),
            _ => None,
        })
        .collect()
}

/// The newest pending request matching `pred`.
pub fn pending(state: &State, pred: impl Fn(&RequestKind) -> bool) -> u64 {
    *state
        .core
        .pending
        .iter()
        .filter(|(_, p)| pred(&p.kind))
        .map(|(id, _)| id)
        .next_back()
        .expect("no such pending request")
}

pub fn reply(state: &mut State, request_id: u64, reply: Reply) -> Vec<Effect> {
    update(
        state,
        Action::HttpReply {
            request_id,
            result: Ok(reply),
        },
    )
}

pub fn answer_runbooks(state: &mut State) {
    let id = pending(state, |k| *k == RequestKind::FetchRunbooks);
    reply(state, id, Reply::Runbooks(runbooks()));
}

pub fn answer_detail(state: &mut State) {
    let id = pending(state, |k| matches!(k, RequestKind::FetchRunbook { .. }));
    let runbook = match &state.core.pending[&id].kind {
        RequestKind::FetchRunbook { runbook } => runbook.clone(),
        _ => unreachable!(),
    };
    reply(state, id, Reply::Runbook(Box::new(detail(&runbook))));
}

pub fn answer_runs(state: &mut State) {
    let id = pending(state, |k| *k == RequestKind::FetchRuns);
    reply(state, id, Reply::Runs(runs()));
}

/// A `runs` topic event.
pub fn run_event(seq: u64, status: RunStatus) -> Action {
    let app = status
        .params
        .get("app")
        .and_then(Value::as_str)
        .unwrap_or("platform")
        .to_string();
    Action::StreamFrame(ServerMsg::Events {
        events: vec![Event {
            seq,
            ts: status.updated_at,
            app,
            body: Body::Runs(status),
        }],
    })
}
