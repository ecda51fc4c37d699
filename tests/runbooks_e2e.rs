//! Each shipped runbook against its simulator scenario, end to end through the HTTP API: start
//! the scenario on an accelerated clock, wait for the alert that names the runbook, start the
//! runbook for the alert's app, approve its approval steps as an operator would, and check that
//! the run succeeds and the alert resolves.
//!
//! The scenarios run one at a time (they share two cores); each takes a few seconds.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::gateway::{get_json, http, loopback_config, url};
use common::wait::{poll_until, poll_until_ok};
use opsdeck::gateway::{GatewayConfig, Running};
use opsdeck::platform::sim::{SimConfig, SimPlatform};
use opsdeck::protocol::{Alert, AlertState, RunState, RunStatus, StepState};
use serde_json::json;

/// Platform seconds per real second.
/// Platform seconds per real second. A step's `timeout` is platform time: at 300x a 10m timeout
/// was 2 s of real time, which a loaded CI machine could spend between two polls (a flake seen
/// once); at 100x it is 6 s.
const SPEED: f64 = 100.0;

/// One scenario at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn alerts(gw: &Running) -> Vec<Alert> {
    get_json(gw, "/v1/alerts").await
}

/// Real time to wait for each thing, however slow the machine.
const PATIENCE: Duration = Duration::from_secs(120);

async fn run_scenario(scenario: &str, runbook: &str, app: Option<&str>) {
    let _serial = SERIAL.lock().await;
    let sim = SimPlatform::new(SimConfig {
        seed: 5,
        speed: SPEED,
        ..SimConfig::default()
    });
    let config = GatewayConfig {
        run_poll: Duration::from_millis(20),
        ..loopback_config()
    };
    let gw = common::gateway::start(config, Arc::new(sim)).await;
    let started = Instant::now();
    let resp = http()
        .post(url(&gw, "/v1/sim/scenarios"))
        .json(&json!({ "name": scenario }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202);

    // The alert that names this runbook.
    let what = format!("{scenario}: a firing {runbook} alert");
    let alert = poll_until(PATIENCE, &what, async || {
        alerts(&gw).await.into_iter().find(|a| {
            a.state == AlertState::Firing
                && a.runbook.as_deref() == Some(runbook)
                && app.is_none_or(|app| a.app == app)
        })
    })
    .await;

    let resp = http()
        .post(url(&gw, &format!("/v1/runbooks/{runbook}/runs")))
        .header("X-Opsdeck-User", "li.wei")
        .json(&json!({ "params": { "app": alert.app } }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 202, "{}", resp.text().await.unwrap());
    let run: RunStatus = resp.json().await.unwrap();

    let mut approvals = 0;
    let what = format!("{runbook} to finish");
    let run = poll_until_ok(PATIENCE, &what, async || {
        let run: RunStatus = get_json(&gw, &format!("/v1/runs/{}", run.id)).await;
        if run.state.is_final() {
            return Ok(run);
        }
        if run.state == RunState::WaitingApproval {
            let resp = http()
                .post(url(&gw, &format!("/v1/runs/{}/approve", run.id)))
                .header("X-Opsdeck-User", "wang.fang")
                .json(&json!({ "step": run.current_step }))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            approvals += 1;
        }
        Err(run)
    })
    .await;
    assert_eq!(run.state, RunState::Succeeded, "{runbook}: {run:#?}");
    let main_steps = run.steps.iter().filter(|s| !s.fallback);
    assert!(
        main_steps.clone().all(|s| s.state == StepState::Succeeded),
        "{run:#?}"
    );
    let expected_approvals = run.steps.iter().filter(|s| s.kind == "approval").count();
    assert_eq!(approvals, expected_approvals, "{run:#?}");

    // The alert resolves.
    let what = format!(
        "{runbook}: alert {} to resolve after run {}",
        alert.id, run.id
    );
    poll_until_ok(PATIENCE, &what, async || {
        let now = alerts(&gw).await.into_iter().find(|a| a.id == alert.id);
        match now {
            Some(a) if a.state == AlertState::Resolved => Ok(()),
            other => Err(other),
        }
    })
    .await;
    eprintln!(
        "{scenario}: run {} succeeded, alert {} {} on {} resolved, {:.1} s real",
        run.id,
        alert.id,
        alert.rule,
        alert.app,
        started.elapsed().as_secs_f64()
    );
    for step in &run.steps {
        eprintln!(
            "  {} [{:?}, {} attempt(s)]",
            step.id, step.state, step.attempts
        );
        for line in &step.output {
            eprintln!("    {line}");
        }
    }
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flash_sale_spike_scales_out_until_p99_recovers() {
    run_scenario("flash-sale", "flash-sale-spike", Some("flash-sale")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_release_rolls_back_after_approval_and_errors_fall() {
    run_scenario("bad-release", "bad-release", Some("shop-cart")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_degradation_absorbs_load_until_the_cache_is_warm() {
    run_scenario("cache-degradation", "cache-degradation", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn az_outage_adds_headroom_until_lost_pods_are_replaced() {
    run_scenario("az-outage", "az-outage", None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_leak_rolls_back_after_approval_and_the_crash_loop_ends() {
    run_scenario("memory-leak", "memory-leak", Some("live-chat")).await;
}
