//! End to end: the real `opsdeck` binary in a pseudo-terminal against a gateway on 127.0.0.1:0.
//! Keys go in as bytes, the screen comes back through a VT100 parser.
#![allow(clippy::unwrap_used)]

mod support;

use std::io::{Read, Write};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use opsdeck::gateway::Running;
use opsdeck::platform::sim::{SimConfig, SimPlatform};
use opsdeck::protocol::{AlertState, AppDetail, Release, ReleaseStatus};
use portable_pty::{Child, CommandBuilder, PtySize, native_pty_system};

struct Console {
    screen: Arc<Mutex<vt100::Parser>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    _state_dir: tempdir::Dir,
}

/// A temporary directory removed on drop (for the console's log file).
mod tempdir {
    pub struct Dir(pub std::path::PathBuf);
    impl Dir {
        pub fn new(tag: &str) -> Dir {
            let path = std::env::temp_dir().join(format!(
                "opsdeck-e2e-{tag}-{}-{}",
                std::process::id(),
                fastrand::u64(..)
            ));
            std::fs::create_dir_all(&path).unwrap();
            Dir(path)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Console {
    fn spawn(gateway: &Running, rows: u16, cols: u16) -> Console {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .unwrap();
        let state_dir = tempdir::Dir::new("state");
        let mut cmd = CommandBuilder::new(env!("CARGO_BIN_EXE_opsdeck"));
        cmd.args(["--url", &format!("ws://{}", gateway.addr)]);
        cmd.env("TERM", "xterm-256color");
        cmd.env("XDG_STATE_HOME", &state_dir.0);
        cmd.env_remove("NO_COLOR");
        let child = pty.slave.spawn_command(cmd).unwrap();
        drop(pty.slave);
        let mut reader = pty.master.try_clone_reader().unwrap();
        let writer = pty.master.take_writer().unwrap();
        let screen = Arc::new(Mutex::new(vt100::Parser::new(
            std::num::NonZeroU16::new(rows).unwrap(),
            std::num::NonZeroU16::new(cols).unwrap(),
            0,
        )));
        let feed = screen.clone();
        std::thread::spawn(move || {
            let _master = pty.master; // keep the pty open while reading
            let mut buf = [0u8; 8192];
            while let Ok(n) = reader.read(&mut buf) {
                if n == 0 {
                    break;
                }
                feed.lock().unwrap().process(&buf[..n]);
            }
        });
        Console {
            screen,
            writer,
            child,
            _state_dir: state_dir,
        }
    }

    fn text(&self) -> String {
        self.screen.lock().unwrap().screen().contents()
    }

    fn keys(&mut self, keys: &str) {
        self.writer.write_all(keys.as_bytes()).unwrap();
        self.writer.flush().unwrap();
        std::thread::sleep(Duration::from_millis(150));
    }

    /// Wait until the screen satisfies `pred`, failing with the screen after `secs`.
    fn wait_for(&self, secs: u64, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            let text = self.text();
            if pred(&text) {
                return text;
            }
            assert!(
                Instant::now() < deadline,
                "waited {secs} s for {what}; screen:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_exit(&mut self, secs: u64) -> portable_pty::ExitStatus {
        let deadline = Instant::now() + Duration::from_secs(secs);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the console did not exit");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// After exit: the alternate screen is left and the cursor is visible again.
    fn assert_terminal_restored(&self) {
        // Give the reader thread a moment to take the last bytes.
        std::thread::sleep(Duration::from_millis(200));
        let parser = self.screen.lock().unwrap();
        assert!(
            !parser.screen().alternate_screen(),
            "still on the alternate screen"
        );
        assert!(!parser.screen().hide_cursor(), "cursor still hidden");
    }
}

async fn start_sim() -> Running {
    start_scenario(20.0, None).await
}

async fn start_scenario(speed: f64, scenario: Option<&str>) -> Running {
    let sim = SimPlatform::new(SimConfig {
        seed: 11,
        speed,
        scenario: scenario.map(str::to_string),
        ..SimConfig::default()
    });
    support::start(support::loopback_config(), Arc::new(sim)).await
}

async fn get<T: serde::de::DeserializeOwned>(gateway: &Running, path: &str) -> T {
    support::http()
        .get(format!("http://{}{path}", gateway.addr))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Wait until the gateway reports a firing alert whose runbook is `runbook`; its app.
async fn firing_alert_app(gateway: &Running, runbook: &str, secs: u64) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        let alerts: Vec<opsdeck::protocol::Alert> = get(gateway, "/v1/alerts").await;
        if let Some(alert) = alerts
            .into_iter()
            .find(|a| a.runbook.as_deref() == Some(runbook) && a.state == AlertState::Firing)
        {
            return alert.app;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no firing {runbook} alert within {secs} s"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

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
    let gateway = start_sim().await;
    let before: AppDetail = support::http()
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

    let result = tokio::task::spawn_blocking(move || {
        let mut console = Console::spawn(&gateway, 30, 120);
        console.wait_for(20, "the overview to go live", |s| {
            s.contains("live") && s.contains(&name)
        });
        // Filter to the cart, open the scale dialog, two more replicas, review, confirm.
        console.keys("/shop-cart\r");
        console.keys("S");
        console.wait_for(10, "the scale dialog", |s| s.contains(&format!("{from}")));
        console.keys("++");
        console.keys("\r");
        console.wait_for(10, "the confirmation", |s| s.contains("y/N"));
        console.keys("y");
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
    let after: AppDetail = support::http()
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
    let gateway = start_sim().await;
    let gateway = tokio::task::spawn_blocking(move || {
        for signal in [libc::SIGTERM, libc::SIGHUP, libc::SIGINT] {
            let mut console = Console::spawn(&gateway, 24, 80);
            console.wait_for(20, "the overview", |s| s.contains("live"));
            let pid = i32::try_from(console.child.process_id().unwrap()).unwrap();
            // SAFETY: signalling a child process we spawned and still own.
            assert_eq!(unsafe { libc::kill(pid, signal) }, 0);
            console.wait_exit(10);
            console.assert_terminal_restored();
        }
        // In raw mode Ctrl-c arrives as a key (0x03), bound to quit like `q`.
        for keys in ["\x03", "q"] {
            let mut console = Console::spawn(&gateway, 24, 80);
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
    let gateway = start_sim().await;
    let before: AppDetail = get(&gateway, "/v1/apps/shop-cart").await;
    let name = before.summary.name.clone();

    let gateway = tokio::task::spawn_blocking(move || {
        let mut console = Console::spawn(&gateway, 30, 120);
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
    let gateway = start_scenario(20.0, Some("bad-release")).await;
    let app = firing_alert_app(&gateway, "bad-release", 60).await;
    let releases: Vec<Release> = get(&gateway, &format!("/v1/apps/{app}/releases")).await;
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
    let detail: AppDetail = get(&gateway, &format!("/v1/apps/{app}")).await;
    let name = detail.summary.name.clone();

    let filter = format!("/{app}\r");
    let previous_id = previous.id.clone();
    let (gateway, screen) = tokio::task::spawn_blocking(move || {
        let mut console = Console::spawn(&gateway, 30, 120);
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
    let after: Vec<Release> = get(&gateway, &format!("/v1/apps/{app}/releases")).await;
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
