//! End to end: the real `opsdeck` binary in a pseudo-terminal against a gateway on 127.0.0.1:0.
//! Keys go in as bytes, the screen comes back through a VT100 parser.
#![allow(clippy::unwrap_used)]

mod common;

use common::gateway::{firing_alert, start_sim};
use common::pty;
use opsdeck::protocol::{AppDetail, Release, ReleaseStatus, RunStatus};
use pty::Console;

/// The screen's header line (the view name is in it).
fn header(screen: &str) -> &str {
    screen.lines().next().unwrap_or("")
}

/// Rows of the Logs view that look like log lines: a level word after the pod.
fn log_rows(screen: &str) -> usize {
    screen
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .any(|w| matches!(w, "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR"))
        })
        .count()
}

/// `(n, m)` of the first "ready n/m" on a line about `app`: the action progress line
/// ("scaling shop-cart ready 7/8") or the notice when it is done ("…: done: ready 8/8").
fn ready_of(screen: &str, app: &str) -> Option<(u32, u32)> {
    screen.lines().filter(|l| l.contains(app)).find_map(|l| {
        let words: Vec<&str> = l.split_whitespace().collect();
        words.windows(2).find_map(|w| {
            let (n, m) = w[1].split_once('/')?;
            (w[0] == "ready").then_some((n.parse().ok()?, m.parse().ok()?))
        })
    })
}

fn replicas_on_row(screen: &str, name: &str) -> Option<String> {
    let row = screen.lines().find(|l| l.contains(name))?;
    row.split_whitespace()
        .find(|w| {
            w.split_once('/')
                .is_some_and(|(a, b)| a.parse::<u32>().is_ok() && b.parse::<u32>().is_ok())
        })
        .map(str::to_string)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_scales_an_app_from_the_keyboard_and_sees_the_new_count() {
    let gateway = start_sim(11, 20.0, None).await;
    let before: AppDetail = common::gateway::http()
        .get(format!("http://{}/v1/apps/shop-cart", gateway.addr))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let name = before.summary.name.clone();
    let from = before.summary.replicas.desired;
    let to = from + 2;
    assert!(to <= before.summary.replicas.max);
    let (min, max) = (before.summary.replicas.min, before.summary.replicas.max);

    let result = tokio::task::spawn_blocking(move || {
        let mut console = Console::spawn(&["--url", &format!("ws://{}", gateway.addr)], 30, 120);
        console.wait_for(20, "the overview to go live", |s| {
            s.contains("live") && s.contains(&name)
        });
        // Filter to the cart, open the scale dialog, two more replicas, review, confirm.
        console.keys("/shop-cart\r");
        console.keys("S");
        // Text only the dialog's edit step shows (a bare digit would match the clock).
        console.wait_for(10, "the scale dialog", |s| {
            s.contains(&format!("Scale {name}"))
                && s.contains(&format!("[{from:>5}▏]   min {min} · max {max}"))
        });
        console.keys("++");
        console.wait_for(10, "the new target in the dialog", |s| {
            s.contains(&format!("from {from} to {to} replicas"))
        });
        console.keys("\r");
        console.wait_for(10, "the confirmation", |s| {
            s.contains(&format!("Scale shop-cart from {from} to {to}? y/N"))
        });
        console.keys("y");
        // The action's progress ("scaling shop-cart ready 7/8") or, if the rollout beat the
        // next poll, its "done: ready 8/8" notice: either way ready n/to for this app.
        let progress = console.wait_for(30, "the progress line", |s| {
            ready_of(s, "shop-cart").is_some_and(|(_, desired)| desired == to)
        });
        let (ready, _) = ready_of(&progress, "shop-cart").unwrap();
        assert!(ready <= to, "ready {ready} of {to}:\n{progress}");
        let wanted = format!("{to}/{to}");
        let screen = console.wait_for(60, "the new replica count", |s| {
            replicas_on_row(s, &name).as_deref() == Some(wanted.as_str())
        });
        console.keys("q");
        let status = console.wait_exit(10);
        assert!(status.success(), "exit status {status:?}");
        console.assert_terminal_restored();
        (gateway, screen)
    })
    .await
    .unwrap();
    let (gateway, _screen) = result;
    let after: AppDetail = common::gateway::http()
        .get(format!("http://{}/v1/apps/shop-cart", gateway.addr))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        after.summary.replicas.desired, to,
        "the gateway applied the change"
    );
    gateway.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_terminal_is_restored_after_sigterm_sighup_sigint_ctrl_c_and_q() {
    let gateway = start_sim(11, 20.0, None).await;
    let gateway = tokio::task::spawn_blocking(move || {
        for signal in [libc::SIGTERM, libc::SIGHUP, libc::SIGINT] {
            let mut console = Console::spawn(&["--url", &format!("ws://{}", gateway.addr)], 24, 80);
            console.wait_for(20, "the overview", |s| s.contains("live"));
            let pid = i32::try_from(console.child.process_id().unwrap()).unwrap();
            // SAFETY: signalling a child process we spawned and still own.
            assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
            console.wait_exit(10);
            console.assert_terminal_restored();
        }
        // In raw mode Ctrl-c arrives as a key (0x03), bound to quit like `q`.
        for keys in ["\x03", "q"] {
            let mut console = Console::spawn(&["--url", &format!("ws://{}", gateway.addr)], 24, 80);
            console.wait_for(20, "the overview", |s| s.contains("live"));
            console.keys(keys);
            let status = console.wait_exit(10);
            assert!(status.success(), "{keys:?}: exit status {status:?}");
            console.assert_terminal_restored();
        }
        gateway
    })
    .await
    .unwrap();
    gateway.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_tails_an_apps_logs_then_looks_at_alerts_and_comes_back() {
    let gateway = start_sim(11, 20.0, None).await;
    let before: AppDetail = common::gateway::get_json(&gateway, "/v1/apps/shop-cart").await;
    let name = before.summary.name.clone();

    let gateway = tokio::task::spawn_blocking(move || {
        let mut console = Console::spawn(&["--url", &format!("ws://{}", gateway.addr)], 30, 120);
        console.wait_for(20, "the overview to go live", |s| {
            s.contains("live") && s.contains(&name)
        });
        // Pick the cart, open its logs: lines stream in live.
        console.keys("/shop-cart\r");
        console.keys("l");
        let first = console.wait_for(20, "log lines of shop-cart", |s| {
            header(s).contains("Logs") && s.contains("shop-cart") && log_rows(s) >= 3
        });
        assert!(
            first.contains("following"),
            "the tail is followed:\n{first}"
        );
        // Back to the overview, then the Alerts view and back again.
        console.keys("\x1b");
        console.wait_for(10, "the overview again", |s| header(s).contains("Overview"));
        console.keys("a");
        console.wait_for(10, "the Alerts view", |s| {
            header(s).contains("Alerts") && (s.contains("SEV") || s.contains("No alerts"))
        });
        console.keys("\x1b");
        console.wait_for(10, "the overview after Esc", |s| {
            header(s).contains("Overview") && s.contains(&name)
        });
        console.keys("q");
        let status = console.wait_exit(10);
        assert!(status.success(), "exit status {status:?}");
        console.assert_terminal_restored();
        gateway
    })
    .await
    .unwrap();
    gateway.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_rolls_back_a_bad_release_from_the_app_view() {
    let gateway = start_sim(11, 20.0, Some("bad-release")).await;
    let app = firing_alert(&gateway, "bad-release", 60).await.app;
    let releases: Vec<Release> =
        common::gateway::get_json(&gateway, &format!("/v1/apps/{app}/releases")).await;
    let active = releases
        .iter()
        .position(|r| r.status == ReleaseStatus::Active)
        .unwrap();
    let bad = releases[active].clone();
    // The dialog's default: the newest good release older than the active one.
    let previous = releases[active + 1..]
        .iter()
        .find(|r| r.status == ReleaseStatus::Superseded)
        .unwrap()
        .clone();
    let detail: AppDetail = common::gateway::get_json(&gateway, &format!("/v1/apps/{app}")).await;
    let name = detail.summary.name.clone();

    let filter = format!("/{app}\r");
    let previous_id = previous.id.clone();
    let (gateway, screen) = tokio::task::spawn_blocking(move || {
        let mut console = Console::spawn(&["--url", &format!("ws://{}", gateway.addr)], 30, 120);
        console.wait_for(20, "the overview to go live", |s| {
            s.contains("live") && s.contains(&name)
        });
        console.keys(&filter);
        console.keys("\r");
        console.wait_for(10, "the App view on the bad release", |s| {
            header(s).contains("App") && s.contains(&bad.version)
        });
        console.keys("R");
        console.wait_for(10, "the rollback review", |s| {
            s.contains("Roll back") && s.contains(&previous.version)
        });
        console.keys("\r");
        console.wait_for(10, "the y/N question", |s| s.contains("y/N"));
        console.keys("y");
        // The App view's summary line names the active release: the previous one, soon.
        let wanted = format!("{} ({})", previous.version, previous.id);
        let screen = console.wait_for(60, "the previous version on the App view", |s| {
            !s.contains("y/N") && s.lines().nth(1).is_some_and(|l| l.contains(&wanted))
        });
        // And the overview row says so too.
        console.keys("\x1b");
        console.wait_for(10, "the previous version in the overview", |s| {
            header(s).contains("Overview")
                && s.lines()
                    .any(|l| l.contains(&name) && l.contains(&previous.version))
        });
        console.keys("q");
        let status = console.wait_exit(10);
        assert!(status.success(), "exit status {status:?}");
        console.assert_terminal_restored();
        (gateway, screen)
    })
    .await
    .unwrap();
    let after: Vec<Release> =
        common::gateway::get_json(&gateway, &format!("/v1/apps/{app}/releases")).await;
    let now_active = after
        .iter()
        .find(|r| r.status == ReleaseStatus::Active)
        .unwrap();
    assert_eq!(
        now_active.id, previous_id,
        "the gateway rolled back; screen:\n{screen}"
    );
    gateway.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_mouse_on_a_click_selects_an_app_and_a_second_click_opens_it() {
    let gateway = start_sim(11, 20.0, None).await;
    let result = tokio::task::spawn_blocking(move || {
        let url = format!("ws://{}", gateway.addr);
        let mut console = Console::spawn(&["--url", &url, "--mouse"], 24, 100);
        let screen = console.wait_for(20, "the overview to go live", |s| {
            s.contains("live") && s.lines().count() > 5
        });
        assert!(console.mouse_captured(), "--mouse turns capture on");
        // The third app row: header, column titles, then apps.
        let row = 4;
        let line = screen.lines().nth(row).unwrap().to_string();
        let name: String = line
            .split_whitespace()
            .nth(1)
            .expect("an app row")
            .to_string();
        // SGR mouse reports are 1-based: press and release of the left button.
        let click = format!("\x1b[<0;20;{r}M\x1b[<0;20;{r}m", r = row + 1);
        console.keys(&click);
        console.keys(&click);
        // The App view: its name in the header, the app's name on the line below.
        console.wait_for(10, "the App view of the clicked app", |s| {
            header(s).contains("│ App") && s.lines().nth(1).is_some_and(|l| l.contains(&name))
        });
        console.quit();
        console.assert_terminal_restored();
        // Diagnostics went to the daily log file, never onto the screen.
        assert!(
            console.log_text().contains("console starting"),
            "{}",
            console.log_text()
        );
    })
    .await;
    result.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_runs_an_alerts_runbook_and_reads_the_run_in_the_events_view() {
    let gateway = start_sim(11, 20.0, Some("bad-release")).await;
    firing_alert(&gateway, "bad-release", 60).await;
    let runtime = tokio::runtime::Handle::current();
    let (gateway, screen, narrowed) = tokio::task::spawn_blocking(move || {
        let mut cmd = portable_pty::CommandBuilder::new(env!("CARGO_BIN_EXE_opsdeck"));
        cmd.args(["--url", &format!("ws://{}", gateway.addr)]);
        cmd.env("OPSDECK_USER", "li.wei");
        let mut console = Console::spawn_command(cmd, 40, 120);
        console.wait_for(20, "the overview to go live", |s| s.contains("live"));
        console.keys("a");
        console.wait_for(10, "the alert with its runbook", |s| {
            header(s).contains("Alerts") && s.contains("bad-release")
        });
        console.keys("b");
        console.wait_for(10, "the runbook's form", |s| header(s).contains("Runbook"));
        console.keys("\r");
        console.wait_for(20, "the dry run's plan", |s| {
            s.contains("Nothing was changed")
        });
        console.keys("r");
        console.wait_for(10, "the y/N question", |s| s.contains("y/N"));
        console.keys("y");
        console.wait_for(30, "the run waiting for approval", |s| {
            header(s).contains("Run") && s.contains("WAITING APPROVAL")
        });
        // Another operator approves, from elsewhere.
        runtime.block_on(async {
            let runs: Vec<RunStatus> = common::gateway::get_json(&gateway, "/v1/runs").await;
            let run = runs.iter().find(|r| !r.dry_run).unwrap();
            let resp = common::gateway::http()
                .post(common::gateway::url(
                    &gateway,
                    &format!("/v1/runs/{}/approve", run.id),
                ))
                .header("X-Opsdeck-User", "wang.fang")
                .json(&serde_json::json!({ "step": run.current_step }))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{}", resp.text().await.unwrap());
        });
        console.wait_for(90, "the run to succeed", |s| s.contains("SUCCEEDED"));
        console.keys("E");
        let screen = console.wait_for(10, "the run's end in the Events view", |s| {
            header(s).contains("Events") && s.contains("bad-release SUCCEEDED")
        });
        console.keys("/wang\\.fang|^bad-release (started|dry)");
        let narrowed = console.wait_for(10, "the Events view narrowed by a regex", |s| {
            !s.contains("SUCCEEDED") && s.contains("approve-rollback approved")
        });
        console.quit();
        (gateway, screen, narrowed)
    })
    .await
    .unwrap();
    let row = |screen: &str, who: &str, what: &str| {
        screen.lines().any(|l| l.contains(who) && l.contains(what))
    };
    for (who, what) in [
        ("li.wei", "bad-release dry run"),
        ("li.wei", "bad-release started"),
        ("li.wei", "errors-after-release succeeded"),
        ("li.wei", "approve-rollback waits for approval"),
        ("wang.fang", "approve-rollback approved"),
        ("li.wei", "roll-back succeeded"),
        ("li.wei", "verify succeeded"),
        ("li.wei", "bad-release SUCCEEDED: every step finished"),
    ] {
        assert!(row(&screen, who, what), "no {what:?} by {who}:\n{screen}");
    }
    let rows: Vec<&str> = narrowed
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .collect();
    assert_eq!(rows.len(), 3, "{narrowed}");
    assert!(row(&narrowed, "wang.fang", "approve-rollback approved"));
    assert!(row(&narrowed, "li.wei", "bad-release started"));
    assert!(row(&narrowed, "li.wei", "bad-release dry run"));
    gateway.stop().await;
}
