//! Changes from the command line against a real gateway on loopback: asked y/N on a terminal,
//! refused to a script without --yes, refused to a script against production without a named
//! context, typed-name confirmation on a production terminal; one exit code per failure class;
//! `--wait` ending on success, on failure and on its timeout.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::cli::{Served, opsdeck, opsdeck_with, wait_for};
use common::pty::Console;
use opsdeck::gateway::{GatewayConfig, Tokens};
use opsdeck::protocol::{ActionStatus, AppDetail, Release, ReleaseStatus, Role, RunStatus};

fn desired(served: &Served, app: &str) -> u32 {
    let detail: AppDetail = served.get(&format!("/v1/apps/{app}"));
    detail.summary.replicas.desired
}

#[test]
fn a_script_is_refused_a_change_without_yes_and_makes_it_with_yes() {
    let served = Served::default_sim(1.0);
    let before = desired(&served, "shop-cart");
    let ran = opsdeck(&["scale", "shop-cart", "5", "--url", &served.url]);
    assert_eq!(ran.code, 2, "{ran:?}");
    assert!(
        ran.stderr.contains("--yes") && ran.stderr.contains("nothing was sent"),
        "{}",
        ran.stderr
    );
    assert_eq!(desired(&served, "shop-cart"), before, "nothing changed");

    let ran = opsdeck(&[
        "scale",
        "shop-cart",
        "5",
        "--yes",
        "--url",
        &served.url,
        "-o",
        "json",
    ]);
    assert_eq!(ran.code, 0, "{ran:?}");
    let action: ActionStatus = serde_json::from_value(ran.json()).unwrap();
    assert_eq!(action.app, "shop-cart");
    assert_eq!(desired(&served, "shop-cart"), 5);
    served.stop();
}

#[test]
fn a_retry_under_the_same_idempotency_key_applies_once() {
    let served = Served::default_sim(1.0);
    let args = |n: &'static str| {
        vec![
            "scale",
            "shop-cart",
            n,
            "--yes",
            "--idempotency-key",
            "nightly-42",
            "-o",
            "json",
        ]
    };
    let mut first = args("5");
    first.extend(["--url", served.url.as_str()]);
    let a = opsdeck(&first).json();
    let b = opsdeck(&first).json();
    assert_eq!(a["id"], b["id"], "the retry gets the first answer");
    // The same key with another request is refused as invalid.
    let mut other = args("6");
    other.extend(["--url", served.url.as_str()]);
    assert_eq!(opsdeck(&other).code, 5);
    served.stop();
}

#[test]
fn a_production_gateway_refuses_a_script_that_did_not_name_its_context() {
    let served = Served::default_sim(1.0);
    let before = desired(&served, "shop-cart");
    for args in [
        vec!["scale", "shop-cart", "5", "--yes", "--production"],
        vec!["rollback", "shop-cart", "--yes", "--production"],
    ] {
        let mut args = args;
        args.extend(["--url", served.url.as_str()]);
        let ran = opsdeck(&args);
        assert_eq!(ran.code, 2, "{ran:?}");
        assert!(ran.stderr.contains("--context"), "{}", ran.stderr);
    }
    // OPSDECK_PRODUCTION marks it just the same.
    let ran = opsdeck_with(
        &["scale", "shop-cart", "5", "--yes", "--url", &served.url],
        &[("OPSDECK_PRODUCTION", "1")],
    );
    assert_eq!(ran.code, 2, "{ran:?}");
    assert_eq!(desired(&served, "shop-cart"), before, "nothing changed");
    served.stop();
}

/// A production context from the config file: a script that lands there by the file's
/// current-context is refused; naming it with --context makes the change.
#[test]
fn a_script_against_a_production_context_must_name_it() {
    let served = Served::default_sim(1.0);
    let dir = std::env::temp_dir().join(format!("opsdeck-cli-ctx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!(
            "current-context = \"prod\"\n[contexts.prod]\nurl = \"{}\"\nproduction = true\n",
            served.url
        ),
    )
    .unwrap();
    let env = [("OPSDECK_CONFIG", config.to_str().unwrap())];
    let before = desired(&served, "shop-cart");
    let ran = opsdeck_with(&["scale", "shop-cart", "5", "--yes"], &env);
    assert_eq!(ran.code, 2, "{ran:?}");
    assert!(ran.stderr.contains("--context"), "{}", ran.stderr);
    assert_eq!(desired(&served, "shop-cart"), before, "nothing changed");
    let ran = opsdeck_with(
        &["scale", "shop-cart", "5", "--yes", "--context", "prod"],
        &env,
    );
    assert_eq!(ran.code, 0, "{ran:?}");
    assert_eq!(
        desired(&served, "shop-cart"),
        5,
        "the context's gateway was changed"
    );
    std::fs::remove_dir_all(&dir).ok();
    served.stop();
}

#[test]
fn on_a_terminal_a_change_is_asked_and_only_yes_makes_it() {
    let served = Served::default_sim(1.0);
    let before = desired(&served, "shop-cart");
    let mut no = Console::spawn(&["scale", "shop-cart", "5", "--url", &served.url], 24, 100);
    no.wait_for(10, "the question", |s| {
        s.contains("scale shop-cart") && s.contains("[y/N]")
    });
    no.keys("\r");
    assert_eq!(no.wait_exit(10).exit_code(), 2);
    assert_eq!(desired(&served, "shop-cart"), before, "a plain Enter is no");

    let mut yes = Console::spawn(&["scale", "shop-cart", "5", "--url", &served.url], 24, 100);
    yes.wait_for(10, "the question", |s| s.contains("[y/N]"));
    yes.keys("y\r");
    assert!(yes.wait_exit(10).success(), "{}", yes.text());
    assert_eq!(desired(&served, "shop-cart"), 5);
    served.stop();
}

#[test]
fn on_a_production_terminal_the_app_id_must_be_typed() {
    let served = Served::default_sim(1.0);
    let args = [
        "scale",
        "shop-cart",
        "5",
        "--production",
        "--yes",
        "--url",
        &served.url,
    ];
    let mut wrong = Console::spawn(&args, 24, 100);
    wrong.wait_for(10, "the typed-name prompt", |s| {
        s.contains("PRODUCTION") && s.contains("Type shop-cart")
    });
    wrong.keys("y\r");
    assert_eq!(
        wrong.wait_exit(10).exit_code(),
        2,
        "--yes does not replace the typed name"
    );
    assert_eq!(desired(&served, "shop-cart"), 4);

    let mut right = Console::spawn(&args, 24, 100);
    right.wait_for(10, "the typed-name prompt", |s| {
        s.contains("Type shop-cart")
    });
    right.keys("shop-cart\r");
    assert!(right.wait_exit(10).success(), "{}", right.text());
    assert_eq!(desired(&served, "shop-cart"), 5);
    served.stop();
}

#[test]
fn each_failure_class_exits_with_its_own_code() {
    let served = Served::default_sim(1.0);
    let url = served.url.as_str();
    let code = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--url", url]);
        opsdeck(&all).code
    };
    assert_eq!(code(&["scale", "shop-cart"]), 2, "usage (clap)");
    assert_eq!(code(&["app", "no-such-app"]), 4, "not found");
    assert_eq!(
        code(&["logs", "shop-cart", "no-such-app"]),
        4,
        "not found (logs)"
    );
    assert_eq!(
        code(&["scale", "shop-cart", "500", "--yes"]),
        5,
        "validation"
    );
    let releases: Vec<Release> = served.get("/v1/apps/shop-cart/releases");
    let active = releases
        .iter()
        .find(|r| r.status == ReleaseStatus::Active)
        .unwrap();
    assert_eq!(
        code(&["rollback", "shop-cart", "--to", &active.id, "--yes"]),
        6,
        "conflict"
    );
    assert_eq!(
        code(&["runbook", "abort", "run-nope", "--yes"]),
        4,
        "not found (run)"
    );

    // Gateway unreachable: a loopback port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let ran = opsdeck(&["apps", "--url", &format!("ws://{closed}")]);
    assert_eq!(ran.code, 9, "{ran:?}");
    assert!(ran.stderr.contains("unreachable") && ran.stderr.contains(&closed.to_string()));
    served.stop();
}

#[test]
fn auth_and_rate_limits_have_their_own_codes() {
    let viewer = "opsdeck_viewer_token_for_cli_tests_0001";
    let operator = "opsdeck_operator_token_for_cli_tests_0002";
    let file = [
        opsdeck::gateway::tokens::entry_for("wang.fang", Role::Viewer, viewer),
        opsdeck::gateway::tokens::entry_for("li.wei", Role::Operator, operator),
    ]
    .join("\n");
    let config = GatewayConfig {
        tokens: Some(Arc::new(Tokens::parse(&file).unwrap())),
        actions_per_minute: 1,
        ..common::gateway::loopback_config()
    };
    let served = Served::sim(7, 1.0, None, config);
    let url = served.url.as_str();
    assert_eq!(opsdeck(&["apps", "--url", url]).code, 3, "no token: 401");
    let as_viewer = [("OPSDECK_TOKEN", viewer)];
    assert_eq!(opsdeck_with(&["apps", "--url", url], &as_viewer).code, 0);
    let scale = ["scale", "shop-cart", "5", "--yes", "--url", url];
    let ran = opsdeck_with(&scale, &as_viewer);
    assert_eq!(ran.code, 3, "a viewer may not scale: 403 {ran:?}");
    let as_operator = [("OPSDECK_TOKEN", operator)];
    assert_eq!(opsdeck_with(&scale, &as_operator).code, 0);
    let again = ["scale", "shop-cart", "6", "--yes", "--url", url];
    assert_eq!(
        opsdeck_with(&again, &as_operator).code,
        7,
        "over actions_per_minute: 429"
    );
    served.stop();
}

#[test]
fn scale_wait_ends_when_the_replicas_are_ready_or_at_its_timeout() {
    let served = Served::default_sim(20.0);
    let ran = opsdeck(&[
        "scale",
        "shop-cart",
        "6",
        "--yes",
        "--wait",
        "--url",
        &served.url,
        "-o",
        "json",
    ]);
    assert_eq!(ran.code, 0, "{ran:?}");
    let done: ActionStatus = serde_json::from_value(ran.json()).unwrap();
    assert_eq!(serde_json::to_value(done.state).unwrap(), "succeeded");
    assert!(
        ran.stderr.contains("in_progress") || ran.stderr.contains("succeeded"),
        "{}",
        ran.stderr
    );
    assert_eq!(desired(&served, "shop-cart"), 6);
    let detail: AppDetail = served.get("/v1/apps/shop-cart");
    assert_eq!(
        detail.summary.replicas.ready, 6,
        "it waited until every replica was ready"
    );

    // Pods take several platform seconds to start: a one-second wait at this speed runs out.
    let slow = Served::default_sim(1.0);
    let ran = opsdeck(&[
        "scale",
        "shop-cart",
        "30",
        "--yes",
        "--wait",
        "--timeout",
        "1s",
        "--url",
        &slow.url,
    ]);
    assert_eq!(ran.code, 8, "{ran:?}");
    assert!(ran.stderr.contains("gave up waiting"), "{}", ran.stderr);
    slow.stop();
    served.stop();
}

#[test]
fn rollback_wait_succeeds_and_fails_when_superseded() {
    let served = Served::default_sim(20.0);
    let ran = opsdeck(&[
        "rollback",
        "shop-cart",
        "--yes",
        "--wait",
        "--url",
        &served.url,
        "-o",
        "json",
    ]);
    assert_eq!(ran.code, 0, "{ran:?}");
    assert_eq!(ran.json()["state"], "succeeded");

    // A rollout superseded by another rollback fails too (as it does on Kubernetes when a newer
    // rollout replaces it).
    let slow = Served::default_sim(1.0);
    let releases: Vec<Release> = slow.get("/v1/apps/shop-cart/releases");
    let older = releases
        .iter()
        .filter(|r| r.status != ReleaseStatus::Active && r.status != ReleaseStatus::Failed)
        .nth(1)
        .unwrap()
        .id
        .clone();
    let url = slow.url.clone();
    let waiting = std::thread::spawn(move || {
        opsdeck(&[
            "rollback",
            "shop-cart",
            "--yes",
            "--wait",
            "--url",
            &url,
            "-o",
            "json",
        ])
    });
    wait_for(10, "the first rollback in flight", || {
        let detail: AppDetail = slow.get("/v1/apps/shop-cart");
        (serde_json::to_value(detail.summary.status).unwrap() == "rolling-back").then_some(())
    });
    let second = opsdeck(&[
        "rollback",
        "shop-cart",
        "--to",
        &older,
        "--yes",
        "--url",
        &slow.url,
    ]);
    assert_eq!(second.code, 0, "{second:?}");
    let ran = waiting.join().unwrap();
    assert_eq!(ran.code, 10, "{ran:?}");
    assert_eq!(ran.json()["state"], "failed");
    assert!(ran.stderr.contains("superseded"), "{}", ran.stderr);
    slow.stop();
    served.stop();
}

#[test]
fn rollback_wait_to_a_release_that_cannot_start_fails_its_health_check() {
    let served = Served::default_sim(20.0);
    // The seeded history's rolled-back release is the one whose pods exit while starting.
    let releases: Vec<Release> = served.get("/v1/apps/shop-cart/releases");
    let bad = releases
        .iter()
        .find(|r| r.status == ReleaseStatus::RolledBack)
        .unwrap()
        .id
        .clone();
    let ran = opsdeck(&[
        "rollback",
        "shop-cart",
        "--to",
        &bad,
        "--yes",
        "--wait",
        "--url",
        &served.url,
        "-o",
        "json",
    ]);
    assert_eq!(ran.code, 10, "{ran:?}");
    let done: ActionStatus = serde_json::from_value(ran.json()).unwrap();
    assert_eq!(serde_json::to_value(done.state).unwrap(), "failed");
    assert!(
        ran.stderr.contains("health check failed: 0/4 ready after"),
        "{}",
        ran.stderr
    );
    // The gateway says the same to anyone who asks after the script.
    let status: ActionStatus = served.get(&format!("/v1/actions/{}", done.id));
    assert_eq!(serde_json::to_value(status.state).unwrap(), "failed");
    assert!(
        status.message.starts_with("health check failed"),
        "{}",
        status.message
    );
    // The old pods kept serving through it.
    let detail: AppDetail = served.get("/v1/apps/shop-cart");
    assert_eq!(detail.summary.replicas.ready, 4);
    served.stop();
}

#[test]
fn runbook_run_wait_exits_by_the_runs_end_state() {
    let served = Served::default_sim(50.0);
    // On a calm platform, bad-release's first check (errors began after the release) fails.
    let ran = opsdeck(&[
        "runbook",
        "run",
        "bad-release",
        "-p",
        "app=shop-cart",
        "--yes",
        "--wait",
        "--url",
        &served.url,
        "-o",
        "json",
    ]);
    assert_eq!(ran.code, 10, "{ran:?}");
    let run: RunStatus = serde_json::from_value(ran.json()).unwrap();
    assert_eq!(run.state.as_str(), "failed");
    assert!(
        ran.stderr.contains("errors-after-release: failed"),
        "{}",
        ran.stderr
    );

    served.stop();
}

#[test]
fn runbook_run_wait_follows_an_approval_to_success() {
    let served = Served::sim(
        7,
        30.0,
        Some("bad-release"),
        common::gateway::loopback_config(),
    );
    wait_for(60, "the bad release's alert", || {
        let alerts: Vec<opsdeck::protocol::Alert> = served.get("/v1/alerts");
        alerts.iter().any(|a| a.app == "shop-cart").then_some(())
    });
    let url = served.url.clone();
    let waiting = std::thread::spawn(move || {
        opsdeck(&[
            "runbook",
            "run",
            "bad-release",
            "-p",
            "app=shop-cart",
            "--yes",
            "--wait",
            "--url",
            &url,
        ])
    });
    let run = wait_for(30, "the run waiting for approval", || {
        let runs: Vec<RunStatus> = served.get("/v1/runs");
        runs.into_iter()
            .find(|r| r.state.as_str() == "waiting_approval")
    });
    let approve = opsdeck(&["runbook", "approve", &run.id, "--yes", "--url", &served.url]);
    assert_eq!(approve.code, 0, "{approve:?}");
    let ran = waiting.join().unwrap();
    assert_eq!(ran.code, 0, "{ran:?}");
    assert!(ran.stdout.contains("succeeded"), "{}", ran.stdout);
    // Each step's progress went to stderr, away from what a script reads.
    assert!(ran.stderr.contains("verify: succeeded"), "{}", ran.stderr);
    served.stop();
}

#[test]
fn each_change_prints_the_apis_own_json_shape() {
    let served = Served::sim(
        7,
        30.0,
        Some("bad-release"),
        common::gateway::loopback_config(),
    );
    let alert = wait_for(60, "the bad release's alert", || {
        let alerts: Vec<opsdeck::protocol::Alert> = served.get("/v1/alerts");
        alerts.into_iter().find(|a| a.app == "shop-cart")
    });
    let change = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--yes", "--url", served.url.as_str(), "-o", "json"]);
        let ran = opsdeck(&all);
        assert_eq!(ran.code, 0, "{args:?}: {ran:?}");
        let value = ran.json();
        (
            serde_json::to_string_pretty(&common::cli::shape(&value)).unwrap(),
            value,
        )
    };
    insta::assert_snapshot!("scale", change(&["scale", "order-service", "5"]).0);
    insta::assert_snapshot!("rollback", change(&["rollback", "live-chat"]).0);
    insta::assert_snapshot!("ack", change(&["ack", &alert.id]).0);
    insta::assert_snapshot!(
        "silence",
        change(&[
            "silence",
            &alert.id,
            "--for",
            "30m",
            "--comment",
            "rolling back"
        ])
        .0
    );
    let (run_shape, run) = change(&["runbook", "run", "bad-release", "-p", "app=shop-cart"]);
    insta::assert_snapshot!("runbook_run", run_shape);
    let id = run["id"].as_str().unwrap();
    // Aborted where it waits for approval, so which steps ran is the same every time.
    wait_for(30, "the run waiting for approval", || {
        let status: RunStatus = served.get(&format!("/v1/runs/{id}"));
        (status.state.as_str() == "waiting_approval").then_some(())
    });
    let (abort_shape, aborted) = change(&["runbook", "abort", id]);
    assert_eq!(aborted["state"], "aborted");
    insta::assert_snapshot!("runbook_abort", abort_shape);
    served.stop();
}

/// A RunStatus's shape without the keys that come and go with the run's moment (the run's
/// `current_step` and `message`, a step's `waiting_on`), so a reply taken while the run moves
/// is the same every time.
fn run_shape(value: &serde_json::Value) -> String {
    let mut shape = common::cli::shape(value);
    if let Some(map) = shape.as_object_mut() {
        map.remove("current_step");
        map.remove("message");
    }
    if let Some(steps) = shape["steps"].as_array_mut() {
        for step in steps.iter_mut().filter_map(|s| s.as_object_mut()) {
            step.remove("waiting_on");
        }
    }
    serde_json::to_string_pretty(&shape).unwrap()
}

#[test]
fn status_resume_and_approve_print_the_apis_own_json_shape() {
    let data = common::pty::TempDir::new("cli-resume");
    let config = || GatewayConfig {
        data_dir: Some(data.0.clone()),
        ..common::gateway::loopback_config()
    };
    let first = Served::sim(7, 30.0, Some("bad-release"), config());
    wait_for(60, "the bad release's alert", || {
        let alerts: Vec<opsdeck::protocol::Alert> = first.get("/v1/alerts");
        alerts.iter().any(|a| a.app == "shop-cart").then_some(())
    });
    let json = |served: &Served, args: &[&str]| {
        let mut all = args.to_vec();
        if args[1] != "status" {
            all.push("--yes");
        }
        all.extend(["--url", served.url.as_str(), "-o", "json"]);
        let ran = opsdeck(&all);
        assert_eq!(ran.code, 0, "{args:?}: {ran:?}");
        ran.json()
    };
    let run = json(
        &first,
        &["runbook", "run", "bad-release", "-p", "app=shop-cart"],
    );
    let id = run["id"].as_str().unwrap().to_string();
    wait_for(30, "the run waiting for approval", || {
        let status: RunStatus = first.get(&format!("/v1/runs/{id}"));
        (status.state.as_str() == "waiting_approval").then_some(())
    });
    // The gateway stops while the run waits: the next one finds it interrupted.
    first.stop();
    let second = Served::sim(7, 30.0, None, config());
    let status = json(&second, &["runbook", "status", &id]);
    assert_eq!(status["state"], "interrupted");
    insta::assert_snapshot!("runbook_status_run", run_shape(&status));
    let resumed = json(&second, &["runbook", "resume", &id]);
    assert_ne!(resumed["state"], "interrupted");
    insta::assert_snapshot!("runbook_resume", run_shape(&resumed));
    wait_for(30, "the resumed run waiting for approval", || {
        let status: RunStatus = second.get(&format!("/v1/runs/{id}"));
        (status.state.as_str() == "waiting_approval").then_some(())
    });
    let approved = json(&second, &["runbook", "approve", &id]);
    assert_ne!(approved["state"], "waiting_approval");
    insta::assert_snapshot!("runbook_approve", run_shape(&approved));
    second.stop();
}

#[test]
fn each_change_prints_a_plain_table_when_piped() {
    let served = Served::sim(
        7,
        30.0,
        Some("bad-release"),
        common::gateway::loopback_config(),
    );
    let alert = wait_for(60, "the bad release's alert", || {
        let alerts: Vec<opsdeck::protocol::Alert> = served.get("/v1/alerts");
        alerts.into_iter().find(|a| a.app == "shop-cart")
    });
    for args in [
        vec!["scale", "order-service", "5"],
        vec!["rollback", "live-chat"],
        vec!["ack", &alert.id],
        vec!["silence", &alert.id, "--for", "30m", "--comment", "looking"],
        vec!["runbook", "run", "bad-release", "-p", "app=shop-cart"],
    ] {
        let mut all = args.clone();
        all.extend(["--yes", "--url", served.url.as_str()]);
        let ran = opsdeck(&all);
        assert_eq!(ran.code, 0, "{args:?}: {ran:?}");
        assert!(!ran.stdout.trim().is_empty(), "{args:?} printed nothing");
        assert!(!ran.stdout.contains('\x1b'), "{args:?}: {:?}", ran.stdout);
        assert!(
            ran.stdout.lines().all(|l| l == l.trim_end()),
            "{args:?}: no padding after the last cell:\n{}",
            ran.stdout
        );
    }
    served.stop();
}
