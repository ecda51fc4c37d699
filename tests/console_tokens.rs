//! The console with a token: it learns its name and role from `hello`, shows them in the
//! status bar, and as a viewer offers no action (as `--readonly`). End to end, the real
//! `opsdeck serve --tokens` and the real console in a pty, with a token made by
//! `opsdeck token new`; neither's logs ever contain the token.

#![allow(clippy::unwrap_used)]

mod common;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use opsdeck::app::{Action, Command as KeyCommand, Layer, update};
use opsdeck::protocol::{Identity, Role, ServerMsg};

use common::fixtures::{hello, loaded_state};
use common::keys::press;
use common::pty::{Console, TempDir};
use common::screen::screen;

fn hello_as(name: &str, role: Role) -> ServerMsg {
    match hello() {
        ServerMsg::Hello {
            protocol,
            gateway_id,
            server_time,
            topics,
            platform,
            heartbeat_ms,
            max_frame_bytes,
            ..
        } => ServerMsg::Hello {
            protocol,
            gateway_id,
            server_time,
            topics,
            platform,
            heartbeat_ms,
            max_frame_bytes,
            identity: Some(Identity {
                name: name.into(),
                role,
            }),
        },
        other => other,
    }
}

#[test]
fn a_viewer_token_shows_in_the_status_bar_and_takes_the_actions_away() {
    let mut state = loaded_state(false);
    update(
        &mut state,
        Action::StreamConnected(hello_as("wang.fang", Role::Viewer)),
    );
    let text = screen(&state, 160, 48);
    assert!(text.contains("wang.fang · viewer"), "{text}");
    assert!(
        text.contains("READ-ONLY") && !text.contains("S scale"),
        "{text}"
    );
    for layer in Layer::ALL {
        for binding in state.core.keymap.bindings(layer) {
            assert!(
                !binding.run.changes_platform(),
                "{layer:?} still binds {:?}",
                binding.run
            );
        }
    }
    assert!(
        !state
            .core
            .keymap
            .binds(Layer::Overview, KeyCommand::OpenScale)
    );
    press(&mut state, "S");
    assert!(state.dialog.is_none(), "S must not open the scale dialog");
    let notice = &state.core.notifications.back().unwrap().text;
    assert!(notice.starts_with("READ-ONLY (viewer token): "), "{notice}");
}

#[test]
fn an_operator_token_keeps_the_actions_and_shows_its_name() {
    let mut state = loaded_state(false);
    update(
        &mut state,
        Action::StreamConnected(hello_as("li.wei", Role::Operator)),
    );
    let text = screen(&state, 160, 48);
    assert!(
        text.contains("li.wei · operator") && text.contains("S scale"),
        "{text}"
    );
    assert!(
        state
            .core
            .keymap
            .binds(Layer::Overview, KeyCommand::OpenScale)
    );
    press(&mut state, "S");
    assert!(state.dialog.is_some(), "S opens the scale dialog");
}

/// `opsdeck token new`, run for real: (the token, the `[[token]]` entry).
fn new_token(name: &str, role: &str) -> (String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["token", "new", "--name", name, "--role", role])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let token = text
        .lines()
        .find(|l| l.starts_with("opsdeck_"))
        .unwrap()
        .to_string();
    let entry = text[text.find("[[token]]").unwrap()..].to_string();
    (token, entry)
}

/// A running `opsdeck serve`, its stdout read on a thread; stopped with SIGTERM on drop.
struct Gateway {
    child: std::process::Child,
    addr: String,
    output: std::sync::Arc<std::sync::Mutex<String>>,
}

impl Gateway {
    fn start(tokens: &std::path::Path) -> Gateway {
        let mut child = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
            .args([
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--no-journal",
                "--tokens",
            ])
            .arg(tokens)
            .env("OPSDECK_LOG", "trace")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let output = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        for pipe in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let sink = output.clone();
            std::thread::spawn(move || {
                let mut pipe = pipe;
                let mut buf = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    sink.lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        let addr = loop {
            let text = output.lock().unwrap().clone();
            if let Some(rest) = text.split("listening on http://").nth(1) {
                break rest.split_whitespace().next().unwrap().to_string();
            }
            assert!(
                Instant::now() < deadline,
                "the gateway did not start:\n{text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        Gateway {
            child,
            addr,
            output,
        }
    }

    /// Stop it (SIGTERM, so it logs its way out) and return everything it printed.
    fn stop(mut self) -> String {
        let pid = i32::try_from(self.child.id()).unwrap();
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let _ = self.child.wait();
        // The reader threads end at EOF; give them the pipe's last bytes.
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline && !self.output.lock().unwrap().contains("shutting down") {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.output.lock().unwrap().clone()
    }
}

#[test]
fn a_viewer_console_against_a_gateway_with_tokens_and_no_token_in_any_log() {
    let dir = TempDir::new("tokens");
    let (viewer, viewer_entry) = new_token("wang.fang", "viewer");
    let (operator, operator_entry) = new_token("li.wei", "operator");
    let file = dir.0.join("tokens.toml");
    std::fs::write(&file, format!("{viewer_entry}\n{operator_entry}")).unwrap();
    let gateway = Gateway::start(&file);
    let url = format!("ws://{}", gateway.addr);

    // A wrong token and a right one over plain HTTP, so the failure path logs too.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let status = |token: String| {
        let url = format!("http://{}/v1/apps", gateway.addr);
        runtime.block_on(async move {
            let resp = common::gateway::http()
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            resp.status().as_u16()
        })
    };
    assert_eq!(status(format!("{operator}x")), 401);
    assert_eq!(status(operator.clone()), 200);

    let mut cmd = portable_pty::CommandBuilder::new(env!("CARGO_BIN_EXE_opsdeck"));
    cmd.args(["--url", &url]);
    cmd.env("OPSDECK_TOKEN", &viewer);
    cmd.env("OPSDECK_LOG", "trace");
    let mut console = Console::spawn_command(cmd, 30, 120);
    // The apps come only from GET /v1/apps: on screen, the HTTP calls carry the token too.
    let text = console.wait_for(20, "the viewer's name and role, and the apps", |s| {
        s.contains("live") && s.contains("wang.fang · viewer") && s.contains("shop-cart")
    });
    assert!(text.contains("READ-ONLY"), "{text}");
    assert!(!text.contains("S scale"), "no hint offers scaling:\n{text}");
    console.keys("S");
    console.wait_for(10, "the viewer's refusal", |s| {
        s.contains("READ-ONLY (viewer token): S")
    });
    console.quit();
    let console_log = console.log_text();
    let gateway_log = gateway.stop();

    assert!(console_log.contains("console starting"), "{console_log}");
    assert!(
        gateway_log.contains("authentication failed"),
        "{gateway_log}"
    );
    for token in [&viewer, &operator] {
        let secret = &token["opsdeck_".len()..];
        for (who, log) in [("console", &console_log), ("gateway", &gateway_log)] {
            let leaks: Vec<&str> = log.lines().filter(|l| l.contains(secret)).collect();
            assert!(
                leaks.is_empty(),
                "the {who} logged a token:\n{}",
                leaks.join("\n")
            );
        }
    }
}

#[test]
fn the_demo_makes_its_own_token_and_its_console_may_act() {
    let mut cmd = portable_pty::CommandBuilder::new(env!("CARGO_BIN_EXE_opsdeck"));
    cmd.arg("demo");
    cmd.env("OPSDECK_USER", "li.wei");
    cmd.env_remove("OPSDECK_TOKEN");
    let mut console = Console::spawn_command(cmd, 30, 120);
    console.wait_for(20, "the demo live, as its user", |s| {
        s.contains("live")
            && s.contains("li.wei · operator")
            && s.contains("S scale")
            && s.contains("shop-cart")
    });
    console.keys("S");
    console.wait_for(10, "the scale dialog", |s| s.contains("Scale "));
    console.keys("\x1b");
    console.quit();
}

/// The stream driver with a missing or wrong `token` against a gateway that checks tokens:
/// the first thing it reports (the gateway saw one failure).
async fn first_report(token: Option<&str>) -> Action {
    let known = opsdeck::gateway::tokens::generate().unwrap();
    let tokens = opsdeck::gateway::Tokens::single("li.wei", Role::Operator, &known);
    let config = opsdeck::gateway::GatewayConfig {
        tokens: Some(std::sync::Arc::new(tokens)),
        ..common::gateway::loopback_config()
    };
    let sim = opsdeck::platform::sim::SimPlatform::new(Default::default());
    let gw = common::gateway::start(config, std::sync::Arc::new(sim)).await;
    let (action_tx, mut actions) = tokio::sync::mpsc::channel(16);
    let (_stream_tx, stream_rx) = tokio::sync::watch::channel(None);
    let tls = opsdeck::client::tls::client_config(None).unwrap();
    let token = token.map(opsdeck::client::BearerToken::new);
    let task = opsdeck::client::stream::spawn(
        format!("ws://{}", gw.addr),
        tls,
        token,
        action_tx,
        stream_rx,
    );
    let report = tokio::time::timeout(Duration::from_secs(10), actions.recv())
        .await
        .unwrap()
        .unwrap();
    task.abort();
    assert_eq!(gw.gateway.stats.auth_failures(), 1);
    gw.stop().await;
    report
}

#[tokio::test]
async fn a_refused_token_is_said_plainly_and_retried_only_once_a_minute() {
    for (token, says) in [
        (None, "the gateway needs a token (401): set OPSDECK_TOKEN"),
        (Some("opsdeck_wrong"), "the gateway refused the token (401)"),
    ] {
        match first_report(token).await {
            Action::StreamDown {
                reason,
                retry_in_ms,
                ..
            } => {
                assert!(reason.starts_with(says), "{reason}");
                assert!(!reason.contains("opsdeck_wrong"), "{reason}");
                assert_eq!(
                    retry_in_ms, 60_000,
                    "one try a minute stays under the limit"
                );
            }
            other => panic!("expected the refusal, got {other:?}"),
        }
    }
}
