//! An incident, key by key (#23): the real `opsdeck` binary in a pseudo-terminal against a
//! gateway on 127.0.0.1:0 running the `bad-release` scenario, doing the six tasks of the first
//! minutes with the shortest keys — see what is on fire, find the app's errors in its logs,
//! scale it out, roll back, run the matching runbook to SUCCEEDED, read the timeline — at
//! 120x40 and 80x24, and with `--production`.
//!
//! Each step sends exactly the keys the README's "An incident, key by key" gives, then waits
//! for what the screen must show: a step that needs more keys, or acts on the wrong app, fails.
#![allow(clippy::unwrap_used)]

mod common;

use common::gateway::{firing_alert, get_json, start_sim};
use common::pty::Console;
use opsdeck::gateway::Running;
use opsdeck::protocol::{AppDetail, Release, ReleaseStatus};

/// Platform seconds per real second: the alert fires within seconds, a rollout takes a few.
const SPEED: f64 = 20.0;

/// The screen's header line (the view name is in it).
fn header(screen: &str) -> &str {
    screen.lines().next().unwrap_or("")
}

/// The row the cursor is on: the overview and lists mark it with `>`.
fn cursor_row(screen: &str) -> Option<&str> {
    screen.lines().find(|l| l.starts_with('>'))
}

/// The level words of the Logs view's rows.
fn levels(screen: &str) -> Vec<&str> {
    screen
        .lines()
        .filter_map(|l| {
            l.split_whitespace()
                .find(|w| matches!(*w, "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR"))
        })
        .collect()
}

/// `n/m` on the overview row of `app`.
fn ready_on_row(screen: &str, app: &str) -> Option<String> {
    let row = screen
        .lines()
        .find(|l| l.split_whitespace().any(|w| w == app))?;
    row.split_whitespace()
        .find(|w| {
            w.split_once('/')
                .is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok())
        })
        .map(str::to_string)
}

/// What the test knows of the incident before the console starts.
struct Incident {
    gateway: Running,
    app: String,
    desired: u32,
    bad: Release,
    previous: Release,
}

async fn incident() -> Incident {
    let gateway = start_sim(42, SPEED, Some("bad-release")).await;
    let app = firing_alert(&gateway, "bad-release", 60).await.app;
    let detail: AppDetail = get_json(&gateway, &format!("/v1/apps/{app}")).await;
    let desired = detail.summary.replicas.desired;
    assert!(
        desired * 2 <= detail.summary.replicas.max,
        "x2 must fit the app's max"
    );
    let releases: Vec<Release> = get_json(&gateway, &format!("/v1/apps/{app}/releases")).await;
    let active = releases
        .iter()
        .position(|r| r.status == ReleaseStatus::Active)
        .unwrap();
    let previous = releases[active + 1..]
        .iter()
        .find(|r| r.status == ReleaseStatus::Superseded)
        .unwrap()
        .clone();
    Incident {
        gateway,
        app,
        desired,
        bad: releases[active].clone(),
        previous,
    }
}

fn console(gateway: &Running, extra: &[&str], rows: u16, cols: u16) -> Console {
    let url = format!("ws://{}", gateway.addr);
    let mut args = vec!["--url", url.as_str()];
    args.extend_from_slice(extra);
    Console::spawn(&args, rows, cols)
}

/// Task 1: What is on fire: the failing app is on top with its alert, and the cursor is on it.
fn on_fire(c: &mut Console, app: &str) {
    let screen = c.wait_for(30, "the failing app on top with the cursor on it", |s| {
        s.contains("live")
            && header(s).contains("P1 1")
            && cursor_row(s).is_some_and(|row| row.split_whitespace().any(|w| w == app))
    });
    let first_app_row = screen.lines().nth(2).unwrap_or("");
    assert!(first_app_row.contains(app), "not on top:\n{screen}");
}

/// Task 2: Its errors: `l` opens the selected app's logs, `5` keeps errors only.
fn errors_in_logs(c: &mut Console, app: &str) {
    c.keys("l");
    c.wait_for(20, "the app's logs", |s| {
        header(s).contains("Logs") && s.contains(app) && levels(s).len() >= 3
    });
    c.keys("5");
    c.wait_for(20, "errors only", |s| {
        let levels = levels(s);
        !levels.is_empty() && levels.iter().all(|l| *l == "ERROR")
    });
    c.keys("q");
    c.wait_for(10, "the overview again", |s| header(s).contains("Overview"));
}

/// Task 3: Scale out x2: `S`, the new count replaces the prefilled one, Enter, then `y` (in
/// production the app id and Enter come before it).
fn scale_twice(c: &mut Console, app: &str, from: u32, production: bool) {
    let to = from * 2;
    c.keys("S");
    c.wait_for(10, "the scale dialog", |s| {
        s.contains(&format!("[{from:>5}▏]"))
    });
    c.keys(&format!("{to}\r"));
    if production {
        c.wait_for(10, "the production confirmation", |s| {
            s.contains("PRODUCTION")
        });
        c.keys(&format!("{app}\r"));
    }
    c.wait_for(10, "the y/N question", |s| {
        s.contains(&format!("Scale {app} from {from} to {to}? y/N"))
    });
    c.keys("y");
    let want = format!("{to}/{to}");
    c.wait_for(60, "the new replica count", |s| {
        header(s).contains("Overview") && ready_on_row(s, app).as_deref() == Some(want.as_str())
    });
}

/// Task 4: Roll back: `R` reviews the release before the bad one, Enter, then `y` (in production
/// the app id and Enter come before it).
fn roll_back(c: &mut Console, app: &str, bad: &Release, previous: &Release, production: bool) {
    c.keys("R");
    c.wait_for(10, "the rollback review", |s| {
        s.contains("Roll back") && s.contains(&bad.version) && s.contains(&previous.version)
    });
    c.keys("\r");
    if production {
        c.wait_for(10, "the production confirmation", |s| {
            s.contains("PRODUCTION")
        });
        c.keys(&format!("{app}\r"));
    }
    c.wait_for(10, "the y/N question", |s| s.contains("y/N"));
    c.keys("y");
    c.wait_for(60, "the previous version on the overview", |s| {
        !s.contains("y/N")
            && s.lines()
                .any(|l| l.split_whitespace().any(|w| w == app) && l.contains(&previous.version))
    });
}

/// Task 6: The timeline: `E` lists what happened, who did it, newest first.
fn timeline(c: &mut Console, wanted: &[&str]) {
    c.keys("E");
    c.wait_for(20, "the timeline", |s| {
        header(s).contains("Events") && wanted.iter().all(|w| s.contains(w))
    });
    c.keys("q");
    c.wait_for(10, "the overview again", |s| header(s).contains("Overview"));
}

/// Tasks 1–4 and the timeline on one console.
async fn by_hand(rows: u16, cols: u16, production: bool) {
    let Incident {
        gateway,
        app,
        desired,
        bad,
        previous,
    } = incident().await;
    let previous_id = previous.id.clone();
    let gateway = tokio::task::spawn_blocking(move || {
        let extra: &[&str] = if production { &["--production"] } else { &[] };
        let mut c = console(&gateway, extra, rows, cols);
        on_fire(&mut c, &app);
        errors_in_logs(&mut c, &app);
        scale_twice(&mut c, &app, desired, production);
        roll_back(&mut c, &app, &bad, &previous, production);
        timeline(
            &mut c,
            &[
                &format!("scale {desired} -> {}", desired * 2),
                "rollback",
                "operator",
            ],
        );
        c.keys("q");
        let status = c.wait_exit(10);
        assert!(status.success(), "exit status {status:?}");
        c.assert_terminal_restored();
        gateway
    })
    .await
    .unwrap();
    let after: AppDetail = get_json(&gateway, "/v1/apps/shop-cart").await;
    assert_eq!(
        after.summary.release, previous_id,
        "the gateway rolled back"
    );
    assert_eq!(after.summary.replicas.desired, desired * 2);
    gateway.stop().await;
}

/// Tasks 1, 5 and 6: the alert's runbook from the overview to SUCCEEDED, then the timeline.
async fn by_runbook(rows: u16, cols: u16) {
    let Incident { gateway, app, .. } = incident().await;
    let gateway = tokio::task::spawn_blocking(move || {
        let mut c = console(&gateway, &[], rows, cols);
        on_fire(&mut c, &app);
        // `b`: the runbook of the selected app's alert, the app filled in.
        c.keys("b");
        c.wait_for(10, "the runbook form", |s| {
            s.contains("Runbook bad-release") && s.contains(&format!("[{app}"))
        });
        // Enter: the dry run; `r` then `y` start it for real.
        c.keys("\r");
        c.wait_for(20, "the dry run", |s| {
            s.contains(&format!("Dry run with app={app}")) && !s.contains("✖ Precondition")
        });
        c.keys("r");
        c.wait_for(10, "the start question", |s| s.contains("y/N"));
        c.keys("y");
        c.wait_for(20, "the run waiting for approval", |s| {
            s.contains("WAITING APPROVAL")
        });
        // `A` then `y`: approve the rollback step.
        c.keys("A");
        c.wait_for(10, "the approval question", |s| s.contains("y/N"));
        c.keys("y");
        c.wait_for(90, "the run to succeed", |s| s.contains("SUCCEEDED"));
        // Back out: the Run view, the plan, the form, to the overview; then the timeline.
        c.keys("\x1b");
        c.wait_for(10, "the plan again", |s| header(s).contains("Runbook"));
        c.keys("\x1b");
        c.keys("\x1b");
        c.wait_for(10, "the overview again", |s| header(s).contains("Overview"));
        timeline(
            &mut c,
            &[
                "bad-release started",
                "approve-rollback approved",
                "SUCCEEDED",
            ],
        );
        c.keys("q");
        let status = c.wait_exit(10);
        assert!(status.success(), "exit status {status:?}");
        c.assert_terminal_restored();
        gateway
    })
    .await
    .unwrap();
    gateway.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_hand_at_120x40() {
    by_hand(40, 120, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_hand_at_80x24() {
    by_hand(24, 80, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_hand_in_production_at_80x24() {
    by_hand(24, 80, true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_runbook_at_120x40() {
    by_runbook(40, 120).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_runbook_at_80x24() {
    by_runbook(24, 80).await;
}
