//! `wss://`: the real `opsdeck` binary in a pseudo-terminal against the real gateway serving
//! TLS (`serve --tls-cert --tls-key`) with a certificate for `localhost` from a test CA, all on
//! 127.0.0.1. With `--ca-cert` the console goes live and lists apps (stream over wss, HTTP over
//! https); without it, the untrusted certificate is shown as the reason; with `ws://`, the
//! gateway's answer that it speaks TLS only. The console stays usable throughout.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::pki::{TestCa, client_tls, files_in, install, start_tls_sim};
use common::pty;
use opsdeck::app::{Reply, RequestKind};
use opsdeck::client::http::HttpClient;
use pty::{Console, TempDir};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_goes_live_over_wss_with_the_ca_and_shows_why_not_without() {
    let dir = TempDir::new("tls");
    let ca = TestCa::new("opsdeck test CA");
    let files = files_in(&dir.0, Duration::from_secs(60));
    install(&files, &ca.issue(1));
    let ca_path = ca.write(&dir.0, "ca.pem");
    let gateway = start_tls_sim(&files).await;
    let url = format!("wss://localhost:{}", gateway.addr.port());
    let plain = format!("ws://localhost:{}", gateway.addr.port());
    let http = HttpClient::with_tls(&url, client_tls(Some(&ca_path))).unwrap();
    let app = RequestKind::FetchApp {
        app: "shop-cart".into(),
    };
    let Ok(Reply::App(app)) = http.execute(&app).await else {
        panic!("no shop-cart");
    };
    let name = app.summary.name;

    tokio::task::spawn_blocking(move || {
        let ca = ca_path.to_str().unwrap();
        // Trusted: `live` needs the wss stream, an app name needs the https API.
        let mut console = Console::spawn(&["--url", &url, "--ca-cert", ca], 30, 160);
        console.wait_for(20, "the overview to go live over wss", |s| {
            s.contains("live") && s.contains(&name)
        });
        console.quit();

        // Not trusted: no hang, no panic, the reason on screen.
        let mut console = Console::spawn(&["--url", &url], 30, 160);
        let screen = console.wait_for(20, "the certificate error", |s| {
            s.contains("Cannot reach the gateway") && s.contains("certificate")
        });
        assert!(!screen.contains(&name), "{screen}");
        console.quit();

        // Plain ws:// to the TLS gateway: its answer, not a reset or a hang.
        let mut console = Console::spawn(&["--url", &plain, "--ca-cert", ca], 30, 160);
        let screen = console.wait_for(20, "the TLS-only answer", |s| {
            s.contains("Cannot reach the gateway") && s.contains("serves TLS only")
        });
        assert!(screen.contains("wss://"), "{screen}");
        console.quit();
    })
    .await
    .unwrap();
    gateway.stop().await;
}

#[test]
fn a_missing_ca_file_stops_the_console_at_startup_with_a_clear_error() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args([
            "--url",
            "wss://localhost:1",
            "--ca-cert",
            "/nonexistent/opsdeck-ca.pem",
        ])
        .env_remove("OPSDECK_CA_CERT")
        // Never the user's console config.
        .env("OPSDECK_CONFIG", "/dev/null")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot read the CA certificate /nonexistent/opsdeck-ca.pem"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}
