//! The run engine through the HTTP API, against a small scripted platform whose clock runs 600
//! times faster than real time: timeouts, retries with backoff, each on_failure mode, approval
//! gates, abort mid-step, dry runs, idempotent starts, the `runs` topic, and a restart mid-run
//! that resumes from the step that did not finish.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use common::gateway::{get_json, http, loopback_config, url};
use common::stream::Client;
use common::wait::{poll_until_ok, wait_until};
use opsdeck::gateway::{GatewayConfig, Running};
use opsdeck::platform::{ActionRequest, EventSink, Platform, PlatformError, RollbackPlan};
use opsdeck::protocol::{
    Alert, AppDetail, AppStatus, AppSummary, Body, ClientMsg, ErrorBody, Filter, Latency,
    MetricSample, Release, ReleaseStatus, Replicas, RunState, RunStatus, ServerMsg, StepState,
    TimelineEntry, Topic,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// Platform seconds per real second.
const SPEED: f64 = 600.0;

#[derive(Default)]
struct World {
    /// p99 values handed out one per read of the app; the last one repeats.
    p99: VecDeque<f64>,
    desired: u32,
    /// Replicas that become ready at most (`None`: all of them, at once).
    ready_cap: Option<u32>,
    scaled_to: Vec<u32>,
    rolled_back: Vec<Option<String>>,
}

/// One app, `shop-cart`, whose p99 follows a script and whose scale and rollback take effect at
/// once; time runs at [`SPEED`].
struct Scripted {
    world: Mutex<World>,
    base: DateTime<Utc>,
    started: Instant,
}

impl Scripted {
    fn new(p99: &[f64]) -> Arc<Scripted> {
        Arc::new(Scripted {
            world: Mutex::new(World {
                p99: p99.iter().copied().collect(),
                desired: 4,
                ..World::default()
            }),
            base: "2026-11-11T12:00:00Z".parse().unwrap(),
            started: Instant::now(),
        })
    }

    fn cap_ready(&self, cap: Option<u32>) {
        self.world.lock().unwrap().ready_cap = cap;
    }

    fn scaled_to(&self) -> Vec<u32> {
        self.world.lock().unwrap().scaled_to.clone()
    }

    fn rolled_back(&self) -> Vec<Option<String>> {
        self.world.lock().unwrap().rolled_back.clone()
    }

    fn summary(&self) -> AppSummary {
        let mut world = self.world.lock().unwrap();
        let p99 = if world.p99.len() > 1 {
            world.p99.pop_front().unwrap()
        } else {
            world.p99.front().copied().unwrap_or(100.0)
        };
        let ready = world
            .ready_cap
            .map_or(world.desired, |cap| cap.min(world.desired));
        AppSummary {
            id: "shop-cart".into(),
            name: "购物车".into(),
            region: "cn-shanghai".into(),
            release: "r-42".into(),
            version: "v2.3.1".into(),
            replicas: Replicas {
                desired: world.desired,
                ready,
                min: 2,
                max: 10,
            },
            status: AppStatus::Healthy,
            metrics: Some(MetricSample {
                latency_ms: Latency {
                    p50: p99 / 4.0,
                    p95: p99 / 2.0,
                    p99,
                },
                replicas_ready: ready,
                replicas_desired: world.desired,
                ..MetricSample::default()
            }),
            stale_since: None,
            stale_reason: None,
            runbooks: Vec::new(),
        }
    }
}

#[async_trait]
impl Platform for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }
    async fn run(&self, sink: EventSink) {
        sink.closed().await;
    }
    fn now(&self) -> DateTime<Utc> {
        let elapsed = self.started.elapsed().as_secs_f64() * SPEED;
        self.base + chrono::Duration::milliseconds((elapsed * 1000.0) as i64)
    }
    async fn apps(&self) -> Result<Vec<AppSummary>, PlatformError> {
        Ok(vec![self.summary()])
    }
    async fn app(&self, app: &str) -> Result<AppDetail, PlatformError> {
        if app != "shop-cart" {
            return Err(PlatformError::NotFound(format!("unknown app {app:?}")));
        }
        Ok(AppDetail {
            summary: self.summary(),
            pods: Vec::new(),
        })
    }
    async fn releases(&self, _: &str) -> Result<Vec<Release>, PlatformError> {
        Ok(vec![Release {
            id: "r-42".into(),
            version: "v2.3.1".into(),
            created_at: self.base,
            status: ReleaseStatus::Active,
            change_cause: "feat".into(),
            artifact: "shop/cart:v2.3.1".into(),
        }])
    }
    async fn scale(&self, _: &str, replicas: u32, _: ActionRequest) -> Result<(), PlatformError> {
        let mut world = self.world.lock().unwrap();
        world.desired = replicas;
        world.scaled_to.push(replicas);
        Ok(())
    }
    async fn rollback(
        &self,
        _: &str,
        to: Option<&str>,
        _: ActionRequest,
    ) -> Result<RollbackPlan, PlatformError> {
        self.world
            .lock()
            .unwrap()
            .rolled_back
            .push(to.map(str::to_string));
        Err(PlatformError::Conflict("no earlier good release".into()))
    }
    async fn alerts(&self) -> Result<Vec<Alert>, PlatformError> {
        Ok(Vec::new())
    }
    async fn acknowledge(&self, _: &str, _: &str) -> Result<Alert, PlatformError> {
        Err(PlatformError::NotFound("no alerts".into()))
    }
    async fn silence(&self, _: &str, _: u64, _: &str, _: &str) -> Result<Alert, PlatformError> {
        Err(PlatformError::NotFound("no alerts".into()))
    }
    async fn events(&self) -> Result<Vec<TimelineEntry>, PlatformError> {
        Ok(Vec::new())
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "opsdeck-engine-{name}-{}-{}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A gateway on `platform` offering `runbook` (TOML) besides the shipped ones.
async fn gateway(
    platform: Arc<Scripted>,
    runbook: &str,
    data_dir: Option<PathBuf>,
) -> (Running, PathBuf) {
    let dir = temp_dir("runbooks");
    std::fs::write(dir.join("test.toml"), runbook).unwrap();
    let config = GatewayConfig {
        runbook_dirs: vec![dir.clone()],
        data_dir,
        run_poll: Duration::from_millis(5),
        ..loopback_config()
    };
    (common::gateway::start(config, platform).await, dir)
}

async fn start_run(gw: &Running, body: Value) -> RunStatus {
    let resp = http()
        .post(url(gw, "/v1/runbooks/test/runs"))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    resp.json().await.unwrap()
}

async fn get_run(gw: &Running, id: &str) -> RunStatus {
    get_json(gw, &format!("/v1/runs/{id}")).await
}

/// Poll the run until `done`, failing after 10 s of real time.
async fn until(gw: &Running, id: &str, done: impl Fn(&RunStatus) -> bool) -> RunStatus {
    poll_until_ok(
        Duration::from_secs(10),
        "the run to get there",
        async || {
            let run = get_run(gw, id).await;
            if done(&run) { Ok(run) } else { Err(run) }
        },
    )
    .await
}

async fn finished(gw: &Running, id: &str) -> RunStatus {
    until(gw, id, |r| r.state.is_final()).await
}

async fn post(gw: &Running, path: &str, user: &str) -> reqwest::Response {
    http()
        .post(url(gw, path))
        .header("X-Opsdeck-User", user)
        .send()
        .await
        .unwrap()
}

/// POST /v1/runs/{run}/approve as `user`, approving `step`, under `key` if given.
async fn approve(
    gw: &Running,
    run: &str,
    step: &str,
    user: &str,
    key: Option<&str>,
) -> reqwest::Response {
    let mut req = http()
        .post(url(gw, &format!("/v1/runs/{run}/approve")))
        .header("X-Opsdeck-User", user)
        .json(&json!({ "step": step }));
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    req.send().await.unwrap()
}

fn step<'a>(run: &'a RunStatus, id: &str) -> &'a opsdeck::protocol::StepStatus {
    run.steps.iter().find(|s| s.id == id).unwrap()
}

fn output(run: &RunStatus, id: &str) -> String {
    step(run, id).output.join("\n")
}

const HEADER: &str = r#"id = "test"
title = "Engine test"
[params.app]
type = "app"
default = "shop-cart"
"#;

#[tokio::test]
async fn a_step_that_outlives_its_timeout_fails_with_what_it_last_saw() {
    let platform = Scripted::new(&[500.0]);
    let runbook = format!(
        r#"{HEADER}
[[steps]]
id = "recover"
kind = "wait_for"
app = "{{{{app}}}}"
condition = "p99 < 300ms"
for = "1m"
timeout = "2m"

[[steps]]
id = "after"
kind = "note"
message = "never"
"#
    );
    let (gw, _) = gateway(platform, &runbook, None).await;
    let run = start_run(&gw, json!({})).await;
    let run = finished(&gw, &run.id).await;
    assert_eq!(run.state, RunState::Failed);
    let recover = step(&run, "recover");
    assert_eq!(recover.state, StepState::Failed);
    assert!(
        output(&run, "recover").contains(
            "attempt 1 failed: timed out after 2 min (p99 = 500 ms, want < 300 ms for 1 min)"
        ),
        "{}",
        output(&run, "recover")
    );
    let took = recover.finished_at.unwrap() - recover.started_at.unwrap();
    assert!(
        (120..600).contains(&took.num_seconds()),
        "timeout is platform time: took {took}"
    );
    assert_eq!(step(&run, "after").state, StepState::Skipped);
    assert!(
        run.message.contains("step `recover` failed"),
        "{}",
        run.message
    );
    gw.stop().await;
}

#[tokio::test]
async fn retries_back_off_doubling_in_platform_time_until_an_attempt_succeeds() {
    // Starting the run reads the app once (it must exist); then each attempt reads it once:
    // two bad readings, then a good one.
    let platform = Scripted::new(&[100.0, 500.0, 450.0, 200.0]);
    let runbook = format!(
        r#"{HEADER}
[[steps]]
id = "healthy"
kind = "check"
app = "{{{{app}}}}"
condition = "p99 < 300ms"
retries = 3
backoff = "30s"
"#
    );
    let (gw, _) = gateway(platform, &runbook, None).await;
    let run = start_run(&gw, json!({})).await;
    let run = finished(&gw, &run.id).await;
    assert_eq!(run.state, RunState::Succeeded, "{run:#?}");
    let healthy = step(&run, "healthy");
    assert_eq!(healthy.attempts, 3);
    let log = output(&run, "healthy");
    for line in [
        "attempt 1 failed: does not hold: p99 = 500 ms, want < 300 ms",
        "retrying in 30 s",
        "attempt 2 of 4",
        "attempt 2 failed: does not hold: p99 = 450 ms, want < 300 ms",
        "retrying in 1 min",
        "attempt 3 of 4",
        "holds: p99 = 200 ms, want < 300 ms",
    ] {
        assert!(log.contains(line), "missing {line:?} in:\n{log}");
    }
    let took = healthy.finished_at.unwrap() - healthy.started_at.unwrap();
    assert!(took.num_seconds() >= 90, "backoff 30 s + 60 s, took {took}");
    gw.stop().await;
}

/// A failing check, then a note; `on_failure` is spliced in.
fn failing_check(on_failure: &str) -> String {
    format!(
        r#"{HEADER}
[[steps]]
id = "healthy"
kind = "check"
app = "{{{{app}}}}"
condition = "p99 < 300ms"
{on_failure}

[[steps]]
id = "after"
kind = "note"
message = "carried on"

[[fallbacks]]
id = "more-replicas"
kind = "scale"
app = "{{{{app}}}}"
replicas = "+50%"

[[fallbacks]]
id = "roll-back"
kind = "rollback"
app = "{{{{app}}}}"
on_failure = "continue"
"#
    )
}

#[tokio::test]
async fn on_failure_abort_stops_the_run_and_skips_the_rest() {
    let platform = Scripted::new(&[500.0]);
    let (gw, _) = gateway(platform.clone(), &failing_check(""), None).await;
    let run = finished(&gw, &start_run(&gw, json!({})).await.id).await;
    assert_eq!(run.state, RunState::Failed);
    assert_eq!(step(&run, "healthy").state, StepState::Failed);
    assert_eq!(step(&run, "after").state, StepState::Skipped);
    assert_eq!(step(&run, "more-replicas").state, StepState::Skipped);
    assert!(platform.scaled_to().is_empty());
    gw.stop().await;
}

#[tokio::test]
async fn on_failure_continue_keeps_going_and_the_run_succeeds() {
    let platform = Scripted::new(&[500.0]);
    let (gw, _) = gateway(platform, &failing_check("on_failure = \"continue\""), None).await;
    let run = finished(&gw, &start_run(&gw, json!({})).await.id).await;
    assert_eq!(run.state, RunState::Succeeded);
    assert_eq!(step(&run, "healthy").state, StepState::Failed);
    assert!(output(&run, "healthy").contains("failed; on_failure = continue: the run goes on"));
    assert_eq!(step(&run, "after").state, StepState::Succeeded);
    assert!(output(&run, "after").contains("carried on"));
    gw.stop().await;
}

#[tokio::test]
async fn fallbacks_run_in_order_then_stop_or_continue() {
    // then = "stop": fallbacks run (a failing one with on_failure = continue included), the run
    // fails, the next main step is skipped.
    let platform = Scripted::new(&[500.0]);
    let spec = "on_failure = { fallback = [\"more-replicas\", \"roll-back\"] }";
    let (gw, _) = gateway(platform.clone(), &failing_check(spec), None).await;
    let run = finished(&gw, &start_run(&gw, json!({})).await.id).await;
    assert_eq!(run.state, RunState::Failed, "{run:#?}");
    assert!(
        run.message
            .contains("step `healthy` failed; its fallbacks ran (more-replicas, roll-back)"),
        "{}",
        run.message
    );
    assert_eq!(platform.scaled_to(), vec![6], "+50% of 4");
    assert_eq!(platform.rolled_back(), vec![None]);
    assert_eq!(step(&run, "more-replicas").state, StepState::Succeeded);
    assert_eq!(step(&run, "roll-back").state, StepState::Failed);
    assert_eq!(step(&run, "after").state, StepState::Skipped);
    assert!(output(&run, "more-replicas").contains("scale shop-cart 4 -> 6 (+50% of 4 = 6"));
    gw.stop().await;

    // then = "continue": after the fallbacks the run goes on with the next main step.
    let platform = Scripted::new(&[500.0]);
    let spec = "on_failure = { fallback = [\"more-replicas\"], then = \"continue\" }";
    let (gw, _) = gateway(platform.clone(), &failing_check(spec), None).await;
    let run = finished(&gw, &start_run(&gw, json!({})).await.id).await;
    assert_eq!(run.state, RunState::Succeeded, "{run:#?}");
    assert_eq!(step(&run, "after").state, StepState::Succeeded);
    assert_eq!(step(&run, "roll-back").state, StepState::Skipped);
    gw.stop().await;
}

const GATED: &str = r#"
[[steps]]
id = "more"
kind = "scale"
app = "{{app}}"
replicas = "+100%"

[[steps]]
id = "gate"
kind = "approval"
message = "Roll {{app}} back?"

[[steps]]
id = "after"
kind = "note"
message = "approved and done"
"#;

#[tokio::test]
async fn an_approval_gate_waits_for_an_operator_and_refuses_approvals_out_of_turn() {
    let platform = Scripted::new(&[100.0]);
    let (gw, _) = gateway(platform.clone(), &format!("{HEADER}{GATED}"), None).await;
    let run = start_run(&gw, json!({})).await;
    let waiting = until(&gw, &run.id, |r| r.state == RunState::WaitingApproval).await;
    assert_eq!(waiting.current_step.as_deref(), Some("gate"));
    assert_eq!(step(&waiting, "gate").state, StepState::WaitingApproval);
    assert_eq!(
        step(&waiting, "gate").waiting_on.as_deref(),
        Some("Roll shop-cart back?")
    );
    // It keeps waiting: a minute of platform time later (on the platform's own clock) it still
    // waits, and the approval below is taken by the task from the gate it kept open.
    let a_minute_later = platform.now() + chrono::Duration::minutes(1);
    wait_until(Duration::from_secs(10), "a minute of platform time", || {
        platform.now() >= a_minute_later
    })
    .await;
    assert_eq!(get_run(&gw, &run.id).await.state, RunState::WaitingApproval);
    assert_eq!(
        platform.scaled_to(),
        vec![8],
        "+100% of 4, below the maximum 10"
    );

    let resp = approve(&gw, &run.id, "gate", "wang.fang", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let run = finished(&gw, &run.id).await;
    assert_eq!(run.state, RunState::Succeeded);
    assert!(output(&run, "gate").contains("approved by wang.fang"));
    assert_eq!(step(&run, "after").state, StepState::Succeeded);

    let resp = approve(&gw, &run.id, "gate", "wang.fang", None).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let body: ErrorBody = resp.json().await.unwrap();
    assert!(body.error.message.contains("not waiting for approval"));
    assert_eq!(
        approve(&gw, "run-nope", "gate", "x", None).await.status(),
        StatusCode::NOT_FOUND
    );
    gw.stop().await;
}

const TWO_GATES: &str = r#"
[[steps]]
id = "gate"
kind = "approval"
message = "Scale {{app}} up?"

[[steps]]
id = "second-gate"
kind = "approval"
message = "Roll {{app}} back?"

[[steps]]
id = "after"
kind = "note"
message = "both approved"
"#;

#[tokio::test]
async fn an_approval_names_its_gate_and_cannot_pass_another() {
    let platform = Scripted::new(&[100.0]);
    let (gw, _) = gateway(platform, &format!("{HEADER}{TWO_GATES}"), None).await;
    let run = start_run(&gw, json!({})).await;
    until(&gw, &run.id, |r| r.state == RunState::WaitingApproval).await;

    // The step is required.
    for body in ["", "{}"] {
        let resp = http()
            .post(url(&gw, &format!("/v1/runs/{}/approve", run.id)))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY, "{body:?}");
        let err: ErrorBody = resp.json().await.unwrap();
        assert!(err.error.message.contains("step"), "{}", err.error.message);
    }
    // Approving a gate that is not the one waiting is refused, and changes nothing.
    let resp = approve(&gw, &run.id, "second-gate", "li.wei", None).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    let err: ErrorBody = resp.json().await.unwrap();
    assert!(
        err.error
            .message
            .contains("waiting for approval of step gate"),
        "{}",
        err.error.message
    );
    let still = get_run(&gw, &run.id).await;
    assert_eq!(still.state, RunState::WaitingApproval);
    assert_eq!(still.current_step.as_deref(), Some("gate"));
    assert!(!output(&still, "gate").contains("approved by"));

    // The right gate proceeds, to the next one.
    let resp = approve(&gw, &run.id, "gate", "li.wei", Some("k-gate")).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let next = until(&gw, &run.id, |r| {
        r.state == RunState::WaitingApproval && r.current_step.as_deref() == Some("second-gate")
    })
    .await;
    assert!(output(&next, "gate").contains("approved by li.wei"));
    // A retry of that decision under its key is a replay; under a new key (its answer lost or
    // forgotten) it is refused: either way the second gate still waits.
    let replay = approve(&gw, &run.id, "gate", "li.wei", Some("k-gate")).await;
    assert_eq!(replay.status(), StatusCode::OK);
    let retry = approve(&gw, &run.id, "gate", "li.wei", Some("k-gate-again")).await;
    assert_eq!(retry.status(), StatusCode::CONFLICT);
    let still = get_run(&gw, &run.id).await;
    assert_eq!(still.state, RunState::WaitingApproval);
    assert_eq!(still.current_step.as_deref(), Some("second-gate"));
    assert!(!output(&still, "second-gate").contains("approved by"));

    let resp = approve(&gw, &run.id, "second-gate", "wang.fang", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let done = finished(&gw, &run.id).await;
    assert_eq!(done.state, RunState::Succeeded, "{done:#?}");
    assert!(output(&done, "second-gate").contains("approved by wang.fang"));
    gw.stop().await;
}

#[tokio::test]
async fn abort_stops_the_current_step_at_its_next_poll() {
    let platform = Scripted::new(&[500.0]);
    let runbook = format!(
        r#"{HEADER}
[[steps]]
id = "recover"
kind = "wait_for"
app = "{{{{app}}}}"
condition = "p99 < 300ms"
timeout = "24h"

[[steps]]
id = "after"
kind = "scale"
app = "{{{{app}}}}"
replicas = "max"
"#
    );
    let (gw, _) = gateway(platform.clone(), &runbook, None).await;
    let run = start_run(&gw, json!({})).await;
    let waiting = until(&gw, &run.id, |r| {
        r.steps[0]
            .waiting_on
            .as_deref()
            .is_some_and(|w| w.starts_with("p99 = 500 ms, want < 300 ms"))
    })
    .await;
    assert_eq!(waiting.state, RunState::Running);
    let resp = post(&gw, &format!("/v1/runs/{}/abort", run.id), "li.wei").await;
    assert_eq!(resp.status(), StatusCode::OK);
    let aborted: RunStatus = resp.json().await.unwrap();
    assert_eq!(
        aborted.state,
        RunState::Aborted,
        "answered once the task stopped"
    );
    assert_eq!(aborted.message, "aborted by li.wei during step `recover`");
    assert_eq!(step(&aborted, "recover").state, StepState::Failed);
    assert_eq!(step(&aborted, "after").state, StepState::Skipped);
    assert!(platform.scaled_to().is_empty());
    let again = post(&gw, &format!("/v1/runs/{}/abort", run.id), "li.wei").await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    gw.stop().await;
}

#[tokio::test]
async fn a_dry_run_plans_with_current_data_and_changes_nothing() {
    let platform = Scripted::new(&[412.0]);
    let runbook = format!(
        r#"{HEADER}
[[steps]]
id = "more"
kind = "scale"
app = "{{{{app}}}}"
replicas = "+200%"

[[steps]]
id = "recover"
kind = "wait_for"
app = "{{{{app}}}}"
condition = "p99 < 300ms"
for = "1m"

[[steps]]
id = "back"
kind = "rollback"
app = "{{{{app}}}}"
"#
    );
    let (gw, _) = gateway(platform.clone(), &runbook, None).await;
    let resp = http()
        .post(url(&gw, "/v1/runbooks/test/runs"))
        .json(&json!({"dry_run": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    let run: RunStatus = resp.json().await.unwrap();
    assert!(run.dry_run);
    assert_eq!(run.state, RunState::Succeeded);
    assert_eq!(run.params["app"], json!("shop-cart"));
    let plan = run.plan.as_ref().unwrap();
    assert_eq!(
        plan.steps[0].action,
        "would scale shop-cart 4 -> 10 (+200% of 4 = 12, capped at the maximum 10)"
    );
    assert_eq!(
        plan.steps[1].evaluation.as_deref(),
        Some("now: p99 = 412 ms, want < 300 ms (does not hold)")
    );
    assert_eq!(
        plan.steps[2].action,
        "would roll shop-cart back r-42 (v2.3.1) -> no earlier good release!"
    );
    assert!(run.steps.iter().all(|s| s.state == StepState::Skipped));
    // Nothing acts on it later: no task drives a dry run, and by its answer (and the answer
    // to the next request) it has changed nothing.
    assert!(!gw.gateway.runs.is_live(&run.id), "a task drives a dry run");
    // It is on record like any run.
    let runs: Vec<RunStatus> = get_json(&gw, "/v1/runs").await;
    assert_eq!(runs[0].id, run.id);
    assert!(platform.scaled_to().is_empty(), "a dry run scales nothing");
    assert!(
        platform.rolled_back().is_empty(),
        "a dry run rolls nothing back"
    );
    gw.stop().await;
}

#[tokio::test]
async fn bad_parameters_unknown_runbooks_and_unknown_apps_are_refused_before_anything_runs() {
    let platform = Scripted::new(&[100.0]);
    let (gw, _) = gateway(platform.clone(), &format!("{HEADER}{GATED}"), None).await;
    for (body, status, wanted) in [
        (
            json!({"params": {"app": "no-such-app"}}),
            422,
            "parameter `app`: unknown app \"no-such-app\"",
        ),
        (
            json!({"params": {"replicas": 3}}),
            422,
            "unknown parameter `replicas`; this runbook takes app",
        ),
        (json!({"params": "app"}), 422, "invalid request body"),
    ] {
        let resp = http()
            .post(url(&gw, "/v1/runbooks/test/runs"))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), status, "{body}");
        let err: ErrorBody = resp.json().await.unwrap();
        assert!(err.error.message.contains(wanted), "{}", err.error.message);
    }
    let resp = http()
        .post(url(&gw, "/v1/runbooks/nope/runs"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    assert!(platform.scaled_to().is_empty());
    let runs: Vec<RunStatus> = get_json(&gw, "/v1/runs").await;
    assert!(runs.is_empty(), "refused runs leave no record");
    gw.stop().await;
}

#[tokio::test]
async fn starting_a_run_is_idempotent_under_a_key() {
    let platform = Scripted::new(&[100.0]);
    let (gw, _) = gateway(platform.clone(), &format!("{HEADER}{GATED}"), None).await;
    let start = || {
        http()
            .post(url(&gw, "/v1/runbooks/test/runs"))
            .header("Idempotency-Key", "incident-7")
            .json(&json!({"params": {"app": "shop-cart"}}))
            .send()
    };
    let (a, b) = tokio::join!(start(), start());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.status(), StatusCode::ACCEPTED);
    assert_eq!(b.status(), StatusCode::ACCEPTED);
    let a: RunStatus = a.json().await.unwrap();
    let b: RunStatus = b.json().await.unwrap();
    assert_eq!(a.id, b.id, "one run for one key");
    until(&gw, &a.id, |r| r.state == RunState::WaitingApproval).await;
    assert_eq!(platform.scaled_to(), vec![8], "applied once");
    gw.stop().await;
}

#[tokio::test]
async fn run_and_step_transitions_stream_on_the_runs_topic() {
    let platform = Scripted::new(&[100.0]);
    let (gw, _) = gateway(platform, &failing_check("on_failure = \"continue\""), None).await;
    let mut client = Client::connect(gw.addr).await;
    client
        .send(&ClientMsg::Subscribe {
            topics: vec![Topic::Runs],
            filter: Filter::default(),
            resume: Default::default(),
        })
        .await;
    assert!(matches!(client.recv().await, ServerMsg::Subscribed { .. }));
    let run = start_run(&gw, json!({})).await;
    let mut seen = Vec::new();
    loop {
        let events = client.events(1, |_| {}).await;
        let mut done = false;
        for event in events {
            assert_eq!(event.app, "shop-cart");
            let Body::Runs(status) = event.body else {
                panic!("only runs were subscribed: {event:?}");
            };
            assert_eq!(status.id, run.id);
            done |= status.state.is_final();
            seen.push((status.state, status.current_step.clone()));
        }
        if done {
            break;
        }
    }
    assert_eq!(seen.first().unwrap().0, RunState::Pending);
    assert!(seen.contains(&(RunState::Running, Some("healthy".into()))));
    assert!(seen.contains(&(RunState::Running, Some("after".into()))));
    assert_eq!(seen.last().unwrap(), &(RunState::Succeeded, None));
    gw.stop().await;
}

#[tokio::test]
async fn http_probes_expect_a_status_and_a_body() {
    let platform = Scripted::new(&[100.0]);
    let runbook = r#"id = "test"
[params.base]
type = "string"

[[steps]]
id = "health"
kind = "http_probe"
url = "{{base}}/healthz"
expect_status = 200
expect_body = "ok"
# Platform time runs 600x: a real HTTP round trip must not race the default 30 s.
timeout = "1h"

[[steps]]
id = "missing"
kind = "http_probe"
url = "{{base}}/no-such-page"
timeout = "1h"
on_failure = "continue"
"#;
    let (gw, _) = gateway(platform, runbook, None).await;
    let base = format!("http://{}", gw.addr);
    let run = start_run(&gw, json!({"params": {"base": base}})).await;
    let run = finished(&gw, &run.id).await;
    assert_eq!(run.state, RunState::Succeeded, "{run:#?}");
    assert!(output(&run, "health").contains(r#"/healthz: 200 {"status":"ok"}"#));
    assert_eq!(step(&run, "missing").state, StepState::Failed);
    assert!(output(&run, "missing").contains("/no-such-page: 404 (want 200)"));
    gw.stop().await;
}

#[tokio::test]
async fn a_restarted_gateway_reports_the_run_interrupted_and_resumes_it_where_it_stopped() {
    let platform = Scripted::new(&[100.0]);
    let data = temp_dir("journal");
    let runbook = format!("{HEADER}{GATED}");
    let (first, _) = gateway(platform.clone(), &runbook, Some(data.clone())).await;
    let run = start_run(&first, json!({})).await;
    until(&first, &run.id, |r| r.state == RunState::WaitingApproval).await;
    assert_eq!(platform.scaled_to(), vec![8]);
    first.stop().await;

    let (second, _) = gateway(platform.clone(), &runbook, Some(data.clone())).await;
    let back = get_run(&second, &run.id).await;
    assert_eq!(back.state, RunState::Interrupted);
    assert_eq!(back.current_step.as_deref(), Some("gate"));
    assert_eq!(step(&back, "more").state, StepState::Succeeded);
    assert_eq!(step(&back, "gate").state, StepState::Pending);
    assert!(output(&back, "gate").contains("interrupted"));
    // The timeline says so, without an actor (the restart did it), and only that: the
    // first gateway's entries went with it.
    let entries = timeline(&second).await;
    assert_eq!(entries.len(), 1, "{entries:#?}");
    let (kind, app, actor, id, message) = &entries[0];
    assert_eq!(
        (kind.as_str(), app.as_str(), actor.as_str()),
        ("run", "shop-cart", "")
    );
    assert_eq!(id, &run.id);
    assert!(
        message.starts_with("test INTERRUPTED: the gateway stopped"),
        "{message}"
    );
    // Approving an interrupted run is refused: nothing is waiting.
    let resp = approve(&second, &run.id, "gate", "li.wei", None).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);

    let resp = post(&second, &format!("/v1/runs/{}/resume", run.id), "li.wei").await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let resumed = (
        "run".to_string(),
        "shop-cart".to_string(),
        "li.wei".to_string(),
        run.id.clone(),
        "test resumed at step gate".to_string(),
    );
    assert!(timeline(&second).await.contains(&resumed));
    let again = post(&second, &format!("/v1/runs/{}/resume", run.id), "li.wei").await;
    assert_eq!(
        again.status(),
        StatusCode::CONFLICT,
        "only interrupted runs resume"
    );
    until(&second, &run.id, |r| r.state == RunState::WaitingApproval).await;
    let resp = approve(&second, &run.id, "gate", "li.wei", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let done = finished(&second, &run.id).await;
    assert_eq!(done.state, RunState::Succeeded, "{done:#?}");
    assert_eq!(
        platform.scaled_to(),
        vec![8],
        "the finished step did not run again"
    );
    assert!(output(&done, "gate").contains("resumed by li.wei"));
    assert!(output(&done, "gate").contains("approved by li.wei"));
    assert_eq!(step(&done, "more").attempts, 1);
    second.stop().await;

    // A third start finds the run finished, not interrupted.
    let (third, _) = gateway(platform, &runbook, Some(data.clone())).await;
    assert_eq!(get_run(&third, &run.id).await.state, RunState::Succeeded);
    third.stop().await;
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test]
async fn runbooks_are_listed_with_their_source_and_broken_ones_with_their_error() {
    let platform = Scripted::new(&[100.0]);
    let (gw, dir) = gateway(platform, &format!("{HEADER}{GATED}"), None).await;
    std::fs::write(
        dir.join("broken.toml"),
        "id = \"broken\"\n[[steps]]\nid = \"x\"\n",
    )
    .unwrap();
    gw.stop().await;
    let (gw, _) = {
        let config = GatewayConfig {
            runbook_dirs: vec![dir.clone()],
            ..loopback_config()
        };
        (
            common::gateway::start(config, Scripted::new(&[100.0])).await,
            (),
        )
    };
    let list: Vec<opsdeck::protocol::RunbookSummary> = get_json(&gw, "/v1/runbooks").await;
    let by_id = |id: &str| list.iter().find(|r| r.id == id).unwrap();
    assert_eq!(by_id("bad-release").source, "embedded");
    assert_eq!(
        by_id("test").source,
        dir.join("test.toml").display().to_string()
    );
    let broken = by_id("broken");
    assert!(
        broken
            .error
            .as_deref()
            .unwrap()
            .ends_with("broken.toml:2:1: step `x`: needs a `kind`"),
        "{broken:?}"
    );
    let detail: opsdeck::protocol::RunbookDetail = get_json(&gw, "/v1/runbooks/bad-release").await;
    assert!(detail.text.contains("id = \"bad-release\""));
    assert!(detail.step_list.iter().any(|s| s.kind == "approval"));
    let resp = http()
        .post(url(&gw, "/v1/runbooks/broken/runs"))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    gw.stop().await;
}

#[tokio::test]
async fn a_relative_scale_interrupted_mid_step_is_not_applied_twice_on_resume() {
    let platform = Scripted::new(&[100.0]);
    platform.cap_ready(Some(4));
    let data = temp_dir("journal-scale");
    let runbook = format!(
        r#"{HEADER}
[[steps]]
id = "more"
kind = "scale"
app = "{{{{app}}}}"
replicas = "+50%"
timeout = "24h"

[[steps]]
id = "after"
kind = "note"
message = "scaled"
"#
    );
    let (first, _) = gateway(platform.clone(), &runbook, Some(data.clone())).await;
    let run = start_run(&first, json!({})).await;
    until(&first, &run.id, |r| {
        r.steps[0].waiting_on.as_deref() == Some("shop-cart ready 4/6")
    })
    .await;
    first.stop().await;
    assert_eq!(platform.scaled_to(), vec![6]);

    let (second, _) = gateway(platform.clone(), &runbook, Some(data.clone())).await;
    let back = get_run(&second, &run.id).await;
    assert_eq!(back.state, RunState::Interrupted);
    assert_eq!(back.current_step.as_deref(), Some("more"));
    platform.cap_ready(None);
    let resp = post(&second, &format!("/v1/runs/{}/resume", run.id), "li.wei").await;
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    let done = finished(&second, &run.id).await;
    assert_eq!(done.state, RunState::Succeeded, "{done:#?}");
    assert_eq!(
        platform.scaled_to(),
        vec![6],
        "+50% is not applied again to the 6 already asked for"
    );
    let log = output(&done, "more");
    assert!(
        log.contains("resuming: shop-cart already asked for 6 replicas"),
        "{log}"
    );
    assert_eq!(step(&done, "more").attempts, 2);
    second.stop().await;
    let _ = std::fs::remove_dir_all(&data);
}

#[tokio::test]
async fn the_simulator_answers_sim_probes_from_its_model() {
    use opsdeck::platform::sim::{SimConfig, SimPlatform};
    let sim = SimPlatform::new(SimConfig {
        seed: 3,
        speed: 50.0,
        ..SimConfig::default()
    });
    let ok = sim
        .probe("sim://shop-cart/healthz", Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(ok.status, 200);
    assert!(
        ok.body.contains(r#""status":"ok","app":"shop-cart""#),
        "{}",
        ok.body
    );
    let missing = sim
        .probe("sim://no-such-app/", Duration::from_secs(1))
        .await
        .unwrap();
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn unfinished_runs_are_capped_and_a_refused_start_can_be_retried_later() {
    let platform = Scripted::new(&[100.0]);
    let dir = temp_dir("runbooks");
    std::fs::write(dir.join("test.toml"), format!("{HEADER}{GATED}")).unwrap();
    let config = GatewayConfig {
        runbook_dirs: vec![dir],
        run_poll: Duration::from_millis(5),
        max_unfinished_runs: 1,
        ..loopback_config()
    };
    let gw = common::gateway::start(config, platform).await;
    let first = start_run(&gw, json!({})).await;
    until(&gw, &first.id, |r| r.state == RunState::WaitingApproval).await;
    let start = || {
        http()
            .post(url(&gw, "/v1/runbooks/test/runs"))
            .header("idempotency-key", "second-run")
            .json(&json!({}))
            .send()
    };
    let refused = start().await.unwrap();
    assert_eq!(refused.status(), 503, "a second unfinished run is refused");
    let aborted = http()
        .post(url(&gw, &format!("/v1/runs/{}/abort", first.id)))
        .send()
        .await
        .unwrap();
    assert!(aborted.status().is_success());
    until(&gw, &first.id, |r| r.state == RunState::Aborted).await;
    assert!(
        start().await.unwrap().status().is_success(),
        "the same key works once room is made"
    );
    gw.stop().await;
}

#[tokio::test]
async fn an_abort_under_a_key_is_answered_the_same_when_retried() {
    let platform = Scripted::new(&[100.0]);
    let (gw, _) = gateway(platform.clone(), &format!("{HEADER}{GATED}"), None).await;
    let run = start_run(&gw, json!({})).await;
    until(&gw, &run.id, |r| r.state == RunState::WaitingApproval).await;
    let abort = |run: String, key: &'static str| {
        http()
            .post(url(&gw, &format!("/v1/runs/{run}/abort")))
            .header("Idempotency-Key", key)
            .header("X-Opsdeck-User", "li.wei")
            .send()
    };
    let first = abort(run.id.clone(), "abort-1").await.unwrap();
    assert_eq!(first.status(), StatusCode::OK);
    let first: RunStatus = first.json().await.unwrap();
    assert_eq!(first.state, RunState::Aborted);
    // Without the key a second abort is 409 (already ended); with it, the first answer.
    let retry = abort(run.id.clone(), "abort-1").await.unwrap();
    assert_eq!(retry.status(), StatusCode::OK);
    assert_eq!(retry.json::<RunStatus>().await.unwrap(), first);
    let fresh = abort(run.id.clone(), "abort-2").await.unwrap();
    assert_eq!(fresh.status(), StatusCode::CONFLICT);

    // The same key on another run is another request: 422.
    let other = start_run(&gw, json!({})).await;
    let reused = abort(other.id.clone(), "abort-1").await.unwrap();
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(!get_run(&gw, &other.id).await.state.is_final());
    gw.stop().await;
}

#[tokio::test]
async fn an_abort_in_progress_when_the_gateway_stops_is_journaled_before_it_stops() {
    let platform = Scripted::new(&[100.0]);
    let data = temp_dir("stop-drain");
    let runbook = format!("{HEADER}{GATED}");
    let (first, _) = gateway(platform.clone(), &runbook, Some(data.clone())).await;
    let run = start_run(&first, json!({})).await;
    until(&first, &run.id, |r| r.state == RunState::WaitingApproval).await;
    let url = format!("http://{}/v1/runs/{}/abort", first.addr, run.id);
    let abort = tokio::spawn(async move {
        common::gateway::http()
            .post(url)
            .header("X-Opsdeck-User", "li.wei")
            .send()
            .await
    });
    // The abort reached the gateway (its handler now waits for the run to end) before the stop.
    let control = first.gateway.runs.control(&run.id).unwrap();
    wait_until(
        Duration::from_secs(10),
        "the abort to reach the run",
        || control.abort_requested().is_some(),
    )
    .await;
    first.stop().await;
    let answer = abort.await.unwrap().unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    let answered: RunStatus = answer.json().await.unwrap();
    assert_eq!(answered.state, RunState::Aborted, "{answered:#?}");

    // What the client was told is what a new gateway finds.
    let (second, _) = gateway(platform, &runbook, Some(data.clone())).await;
    assert_eq!(get_run(&second, &run.id).await.state, RunState::Aborted);
    second.stop().await;
    let _ = std::fs::remove_dir_all(&data);
}

/// The timeline as GET /v1/events answers it: (kind, app, actor, run, message), newest first.
async fn timeline(gw: &Running) -> Vec<(String, String, String, String, String)> {
    let entries: Vec<TimelineEntry> = get_json(gw, "/v1/events").await;
    entries
        .into_iter()
        .map(|e| {
            (
                e.event.kind.label().to_string(),
                e.app,
                e.event.actor.unwrap_or_default(),
                e.event.run.unwrap_or_default(),
                e.event.message,
            )
        })
        .collect()
}

/// A check that holds, an approval, a check that fails and lets the run go on, a note.
fn gated_runbook() -> String {
    format!(
        r#"{HEADER}
[[steps]]
id = "healthy"
kind = "check"
app = "{{{{app}}}}"
condition = "p99 < 300ms"

[[steps]]
id = "go-ahead"
kind = "approval"
message = "Carry on with shop-cart?"

[[steps]]
id = "fast"
kind = "check"
app = "{{{{app}}}}"
condition = "p99 < 100ms"
on_failure = "continue"

[[steps]]
id = "done"
kind = "note"
message = "all done"
"#
    )
}

async fn start_as(gw: &Running, user: &str) -> RunStatus {
    let resp = http()
        .post(url(gw, "/v1/runbooks/test/runs"))
        .header("X-Opsdeck-User", user)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::ACCEPTED);
    resp.json().await.unwrap()
}

#[tokio::test]
async fn runs_and_their_steps_are_on_the_timeline_with_their_actors() {
    let platform = Scripted::new(&[200.0]);
    let (gw, _) = gateway(platform, &gated_runbook(), None).await;
    let mut client = Client::connect(gw.addr).await;
    client
        .send(&ClientMsg::Subscribe {
            topics: vec![Topic::Events],
            filter: Filter::default(),
            resume: Default::default(),
        })
        .await;
    assert!(matches!(client.recv().await, ServerMsg::Subscribed { .. }));

    // Started by li.wei, approved by wang.fang, and through to the end.
    let run = start_as(&gw, "li.wei").await;
    until(&gw, &run.id, |r| r.state == RunState::WaitingApproval).await;
    let resp = approve(&gw, &run.id, "go-ahead", "wang.fang", None).await;
    assert_eq!(resp.status(), StatusCode::OK);
    let done = finished(&gw, &run.id).await;
    assert_eq!(done.state, RunState::Succeeded, "{done:#?}");
    let entry = |kind: &str, actor: &str, message: &str| {
        (
            kind.to_string(),
            "shop-cart".to_string(),
            actor.to_string(),
            run.id.clone(),
            message.to_string(),
        )
    };
    let expected = vec![
        entry("run", "li.wei", "test SUCCEEDED: every step finished"),
        entry("run step", "li.wei", "done succeeded"),
        entry(
            "run step",
            "li.wei",
            "fast failed: does not hold: p99 = 200 ms, want < 100 ms",
        ),
        entry("run step", "wang.fang", "go-ahead approved"),
        entry(
            "run step",
            "li.wei",
            "go-ahead waits for approval: Carry on with shop-cart?",
        ),
        entry("run step", "li.wei", "healthy succeeded"),
        entry("run", "li.wei", "test started"),
    ];
    assert_eq!(timeline(&gw).await, expected);

    // The same entries went out live on the `events` topic, oldest first.
    let live: Vec<_> = client
        .events(expected.len(), |_| {})
        .await
        .into_iter()
        .map(|e| {
            let Body::Events(event) = e.body else {
                panic!("only events were subscribed: {e:?}");
            };
            (
                event.kind.label().to_string(),
                e.app,
                event.actor.unwrap_or_default(),
                event.run.unwrap_or_default(),
                event.message,
            )
        })
        .collect();
    assert_eq!(live, expected.into_iter().rev().collect::<Vec<_>>());

    // Aborted while it waits: the one who aborted it, the steps it skipped.
    let run = start_as(&gw, "li.wei").await;
    until(&gw, &run.id, |r| r.state == RunState::WaitingApproval).await;
    let resp = post(&gw, &format!("/v1/runs/{}/abort", run.id), "zhao.lei").await;
    assert_eq!(resp.status(), StatusCode::OK);
    finished(&gw, &run.id).await;
    let newest: Vec<_> = timeline(&gw)
        .await
        .into_iter()
        .take(4)
        .map(|(kind, _, actor, id, message)| {
            assert_eq!(id, run.id);
            (kind, actor, message)
        })
        .collect();
    let entry = |kind: &str, actor: &str, message: &str| {
        (kind.to_string(), actor.to_string(), message.to_string())
    };
    assert_eq!(
        newest,
        vec![
            entry("run", "zhao.lei", "test ABORTED"),
            entry("run step", "li.wei", "done skipped"),
            entry("run step", "li.wei", "fast skipped"),
            entry(
                "run step",
                "zhao.lei",
                "go-ahead failed: aborted by zhao.lei"
            ),
        ]
    );
    gw.stop().await;
}

#[tokio::test]
async fn a_run_and_the_steps_that_act_are_audited_with_who_and_the_run() {
    let platform = Scripted::new(&[100.0]);
    let runbook = format!(
        r#"{HEADER}
[[steps]]
id = "more"
kind = "scale"
app = "{{{{app}}}}"
replicas = "6"
"#
    );
    let (gw, _) = gateway(platform.clone(), &runbook, None).await;
    let run = start_as(&gw, "li.wei").await;
    assert_eq!(finished(&gw, &run.id).await.state, RunState::Succeeded);
    let records: Vec<opsdeck::protocol::AuditRecord> =
        get_json(&gw, "/v1/audit?app=shop-cart").await;
    let seen: Vec<_> = records
        .iter()
        .map(|r| {
            (
                r.action.as_str(),
                r.actor.as_str(),
                r.run.as_deref(),
                r.to.as_deref(),
            )
        })
        .collect();
    let by_run = format!("runbook:{} (started by li.wei)", run.id);
    assert_eq!(
        seen,
        vec![
            (
                "run_start",
                "li.wei",
                Some(run.id.as_str()),
                Some("pending")
            ),
            ("scale", by_run.as_str(), Some(run.id.as_str()), Some("6")),
        ]
    );
    // The step's scale came from the engine, not a request.
    assert_eq!(records[1].request_id, None);
    assert!(records[0].request_id.is_some() && records[0].client.is_some());
    gw.stop().await;
}
