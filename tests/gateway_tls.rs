//! The gateway serving TLS (`serve --tls-cert --tls-key`) with a test CA made in the test, and
//! the console's own drivers against it, all on 127.0.0.1: trusted with the CA, refused without
//! it, a clear error for plain ws:// and http://, a renewed certificate picked up by new
//! connections while an open stream stays; and `opsdeck serve` itself: refusing a non-loopback
//! address before binding, reloading on SIGHUP, refusing a bad certificate and keeping the old.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::fixtures::config;
use common::pki::{TestCa, client_tls, files_in, install, replace, start_tls_sim};
use common::pty::TempDir;
use common::stream::Client;
use common::wait::{poll_until, poll_until_ok, wait_until};
use opsdeck::app::{Action, Connection, Reply, RequestKind, State, update};
use opsdeck::client::http::HttpClient;
use opsdeck::client::stream;
use opsdeck::protocol::{Body, ClientMsg, ServerMsg, Topic};
use opsdeck::tui::event_loop::Drivers;
use tokio::sync::mpsc;
use tokio::time::timeout;
use tokio_tungstenite::Connector;

const PATIENCE: Duration = Duration::from_secs(20);

/// The console's core and drivers, as in its real loop, without a terminal.
struct Console {
    state: State,
    drivers: Drivers,
    actions: mpsc::Receiver<Action>,
    /// Stream frames carrying events, seen so far.
    event_frames: usize,
}

impl Console {
    fn start(url: &str, tls: Arc<rustls::ClientConfig>) -> Console {
        let (action_tx, actions) = mpsc::channel(256);
        let (stream_tx, stream_rx) = tokio::sync::watch::channel(None);
        stream::spawn(
            url.to_string(),
            tls.clone(),
            None,
            action_tx.clone(),
            stream_rx,
        );
        let mut state_config = config(false);
        state_config.gateway = url.to_string();
        Console {
            state: State::new(state_config),
            drivers: Drivers {
                http: HttpClient::with_tls(url, tls).unwrap(),
                stream: stream_tx,
                actions: action_tx,
            },
            actions,
            event_frames: 0,
        }
    }

    /// Apply driver results until `done` holds; fail after [`PATIENCE`].
    async fn run_until(&mut self, what: &str, done: impl Fn(&Console) -> bool) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !done(self) {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match timeout(left, self.actions.recv()).await {
                Ok(Some(action)) => {
                    if matches!(action, Action::StreamFrame(ServerMsg::Events { .. })) {
                        self.event_frames += 1;
                    }
                    let effects = update(&mut self.state, action);
                    self.drivers.perform(effects);
                }
                Ok(None) => panic!("drivers stopped"),
                Err(_) => panic!(
                    "waited {PATIENCE:?} for {what}; connection {:?}, down reason {:?}",
                    self.state.core.connection, self.state.core.down_reason
                ),
            }
        }
    }
}

/// A stream client over wss, trusting `tls`, subscribed to metrics and actions.
async fn wss_client(url: &str, tls: Arc<rustls::ClientConfig>) -> Result<Client, String> {
    let connect = tokio_tungstenite::connect_async_tls_with_config(
        format!("{url}/v1/stream"),
        None,
        false,
        Some(Connector::Rustls(tls)),
    );
    let (ws, _) = connect.await.map_err(|e| e.to_string())?;
    let mut client = Client { ws };
    match client.recv().await {
        ServerMsg::Hello { .. } => {}
        other => return Err(format!("expected hello, got {other:?}")),
    }
    client
        .send(&ClientMsg::Subscribe {
            topics: vec![Topic::Metrics, Topic::Actions],
            filter: Default::default(),
            resume: Default::default(),
        })
        .await;
    Ok(client)
}

/// Whether a new https connection trusting only `ca` is accepted.
async fn https_ok(port: u16, ca: &Path) -> Result<(), String> {
    let http = HttpClient::with_tls(&format!("wss://localhost:{port}"), client_tls(Some(ca)))
        .map_err(|e| e.to_string())?;
    http.execute(&RequestKind::FetchApps)
        .await
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

/// Scale an app over a new https connection trusting `ca`; the action's id.
async fn scale_something(port: u16, ca: &Path) -> String {
    let http =
        HttpClient::with_tls(&format!("wss://localhost:{port}"), client_tls(Some(ca))).unwrap();
    let Ok(Reply::Apps(apps)) = http.execute(&RequestKind::FetchApps).await else {
        panic!("no apps");
    };
    let app = &apps[0];
    let r = app.replicas;
    let replicas = if r.desired < r.max {
        r.desired + 1
    } else {
        r.desired - 1
    };
    let scale = RequestKind::ScaleApp {
        app: app.id.clone(),
        replicas,
        idempotency_key: format!("tls-{}", fastrand::u64(..)),
        actor: "li.wei".into(),
    };
    match http.execute(&scale).await {
        Ok(Reply::Action(status)) => status.id,
        other => panic!("scale answered {other:?}"),
    }
}

/// Read `client`'s stream until the action `id` shows up on it.
async fn see_action(client: &mut Client, id: &str) {
    loop {
        let events = client.events(1, |_| {}).await;
        if events
            .iter()
            .any(|e| matches!(&e.body, Body::Actions(status) if status.id == id))
        {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_goes_live_over_wss_and_https_with_the_test_ca() {
    let dir = TempDir::new("tls-live");
    let ca = TestCa::new("opsdeck test CA");
    let files = files_in(&dir.0, Duration::from_secs(60));
    install(&files, &ca.issue(1));
    let ca_path = ca.write(&dir.0, "ca.pem");
    let gw = start_tls_sim(&files).await;
    let port = gw.addr.port();

    // By name and by address: the certificate carries both.
    for url in [
        format!("wss://localhost:{port}"),
        format!("wss://127.0.0.1:{port}"),
    ] {
        let mut console = Console::start(&url, client_tls(Some(&ca_path)));
        console
            .run_until("live, apps loaded over https, events over wss", |c| {
                c.state.core.connection == Connection::Live
                    && c.state.core.apps_loaded
                    && !c.state.core.apps.is_empty()
                    && c.event_frames > 0
            })
            .await;
    }
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_ws_and_http_against_the_tls_gateway_fail_with_a_clear_reason() {
    let dir = TempDir::new("tls-plain");
    let ca = TestCa::new("opsdeck test CA");
    let files = files_in(&dir.0, Duration::from_secs(60));
    install(&files, &ca.issue(1));
    let gw = start_tls_sim(&files).await;
    let url = format!("ws://127.0.0.1:{}", gw.addr.port());

    let mut console = Console::start(&url, client_tls(None));
    console
        .run_until("the stream to go down with a reason", |c| {
            c.state.core.down_reason.is_some()
        })
        .await;
    let reason = console.state.core.down_reason.clone().unwrap();
    assert!(
        reason.contains("this gateway serves TLS only: connect with https:// or wss://"),
        "{reason}"
    );

    let http = HttpClient::new(&url).unwrap();
    let err = http.execute(&RequestKind::FetchApps).await.unwrap_err();
    assert_eq!(err.status, Some(400), "{err:?}");
    assert_eq!(err.code, "tls_required", "{err:?}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_the_ca_is_refused_and_says_why() {
    let dir = TempDir::new("tls-noca");
    let ca = TestCa::new("opsdeck test CA");
    let files = files_in(&dir.0, Duration::from_secs(60));
    install(&files, &ca.issue(1));
    let gw = start_tls_sim(&files).await;
    let url = format!("wss://localhost:{}", gw.addr.port());

    let mut console = Console::start(&url, client_tls(None));
    console
        .run_until("the stream to go down with a reason", |c| {
            c.state.core.down_reason.is_some()
        })
        .await;
    let reason = console.state.core.down_reason.clone().unwrap();
    assert!(reason.contains("certificate"), "{reason}");
    assert_ne!(console.state.core.connection, Connection::Live);

    let err = HttpClient::with_tls(&url, client_tls(None))
        .unwrap()
        .execute(&RequestKind::FetchApps)
        .await
        .unwrap_err();
    assert!(err.message.contains("certificate"), "{err:?}");

    // Trusting some other CA is no better.
    let other = TestCa::new("someone else");
    let other_path = other.write(&dir.0, "other.pem");
    let err = https_ok(gw.addr.port(), &other_path).await.unwrap_err();
    assert!(err.contains("certificate"), "{err}");
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_renewed_certificate_reaches_new_connections_while_an_open_stream_stays() {
    let dir = TempDir::new("tls-renew");
    let old_ca = TestCa::new("opsdeck test CA 1");
    let new_ca = TestCa::new("opsdeck test CA 2");
    let old_ca_path = old_ca.write(&dir.0, "ca1.pem");
    let new_ca_path = new_ca.write(&dir.0, "ca2.pem");
    // The files are looked at often, so the test waits on the watch, not on a timer.
    let files = files_in(&dir.0, Duration::from_millis(50));
    install(&files, &old_ca.issue(1));
    let gw = start_tls_sim(&files).await;
    let port = gw.addr.port();
    let url = format!("wss://localhost:{port}");

    let mut open = wss_client(&url, client_tls(Some(&old_ca_path)))
        .await
        .unwrap();
    open.events(1, |_| {}).await;
    https_ok(port, &old_ca_path).await.unwrap();

    install(&files, &new_ca.issue(2));
    poll_until_ok(
        PATIENCE,
        "a new connection to get the new certificate",
        async || https_ok(port, &new_ca_path).await,
    )
    .await;
    let err = https_ok(port, &old_ca_path).await.unwrap_err();
    assert!(err.contains("certificate"), "{err}");
    assert!(
        wss_client(&url, client_tls(Some(&old_ca_path)))
            .await
            .is_err()
    );

    // The stream opened under the old certificate carries what happens after the reload.
    let id = scale_something(port, &new_ca_path).await;
    see_action(&mut open, &id).await;
    let fresh = wss_client(&url, client_tls(Some(&new_ca_path))).await;
    assert!(fresh.is_ok(), "{:?}", fresh.err());
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_new_certificate_is_refused_and_the_old_one_kept() {
    let dir = TempDir::new("tls-bad");
    let ca = TestCa::new("opsdeck test CA");
    let ca_path = ca.write(&dir.0, "ca.pem");
    let files = files_in(&dir.0, Duration::from_secs(60));
    let first = ca.issue(1);
    install(&files, &first);
    let gw = start_tls_sim(&files).await;
    let store = gw.tls.clone().unwrap();
    let port = gw.addr.port();

    // Not PEM at all.
    replace(&files.cert, b"not a certificate\n");
    let err = store.reload().unwrap_err().to_string();
    assert!(
        err.ends_with("gateway.pem holds no PEM certificate"),
        "{err}"
    );
    https_ok(port, &ca_path).await.unwrap();

    // A certificate whose key is another one's (renewed cert, old key).
    replace(&files.cert, ca.issue(2).cert_pem.as_bytes());
    let err = store.reload().unwrap_err().to_string();
    assert!(err.contains("does not go with the key"), "{err}");
    https_ok(port, &ca_path).await.unwrap();

    // The key file gone.
    std::fs::remove_file(&files.key).unwrap();
    let err = store.reload().unwrap_err().to_string();
    assert!(
        err.starts_with("cannot read ") && err.contains("gateway-key.pem"),
        "{err}"
    );
    https_ok(port, &ca_path).await.unwrap();

    // A good pair again is taken.
    install(&files, &ca.issue(3));
    store.reload().unwrap();
    https_ok(port, &ca_path).await.unwrap();
    gw.stop().await;
}

#[tokio::test]
async fn a_gateway_that_cannot_load_its_certificate_does_not_start() {
    let dir = TempDir::new("tls-nostart");
    let files = files_in(&dir.0, Duration::from_secs(60));
    let config = opsdeck::gateway::GatewayConfig {
        tls: Some(files),
        ..common::gateway::loopback_config()
    };
    let sim = opsdeck::platform::sim::SimPlatform::new(Default::default());
    let err = opsdeck::gateway::start(config, Arc::new(sim))
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("cannot read") && err.contains("gateway.pem"),
        "{err}"
    );
}

#[tokio::test]
async fn healthz_carries_the_warnings_the_gateway_was_started_with() {
    let config = opsdeck::gateway::GatewayConfig {
        warnings: vec!["--insecure-listen: serving without TLS and tokens".into()],
        ..common::gateway::loopback_config()
    };
    let sim = opsdeck::platform::sim::SimPlatform::new(Default::default());
    let gw = common::gateway::start(config, Arc::new(sim)).await;
    let health: serde_json::Value = common::gateway::get_json(&gw, "/healthz").await;
    assert_eq!(health["status"], "ok");
    assert_eq!(
        health["warnings"],
        serde_json::json!(["--insecure-listen: serving without TLS and tokens"])
    );
    gw.stop().await;
}

/// `opsdeck serve` with `args`, its environment cleared of the flags' variables.
fn serve(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opsdeck"));
    cmd.arg("serve").args(args).args(["--no-journal"]);
    for var in [
        "OPSDECK_LISTEN",
        "OPSDECK_TLS_CERT",
        "OPSDECK_TLS_KEY",
        "OPSDECK_DATA_DIR",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

#[test]
fn serve_refuses_a_non_loopback_address_without_tls_and_tokens_and_says_how() {
    // Refused before binding: nothing listens on a public address, not even for a moment.
    let out = serve(&["--listen", "0.0.0.0:0"]).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refusing to listen on 0.0.0.0:0 without TLS and tokens"),
        "{stderr}"
    );
    for how in [
        "--tls-cert FILE --tls-key FILE and --tokens FILE",
        "docs/security.md",
        "--insecure-listen",
    ] {
        assert!(stderr.contains(how), "{how}: {stderr}");
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("listening"), "{stdout}");

    // TLS alone is not enough; the check comes before the certificate is even read.
    let out = serve(&[
        "--listen",
        "[::]:0",
        "--tls-cert",
        "/nonexistent/cert.pem",
        "--tls-key",
        "/nonexistent/key.pem",
    ])
    .output()
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("refusing to listen on [::]:0 without tokens"),
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn serve_with_an_unreadable_certificate_stops_with_a_clear_error() {
    let out = serve(&[
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        "/nonexistent/opsdeck-cert.pem",
        "--tls-key",
        "/nonexistent/opsdeck-key.pem",
    ])
    .output()
    .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("cannot read /nonexistent/opsdeck-cert.pem"),
        "{stderr}"
    );
}

/// A running `opsdeck serve`, its stdout lines collected; killed on drop.
struct Served {
    child: Child,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Served {
    fn spawn(mut cmd: Command) -> Served {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = lines.clone();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                sink.lock().unwrap().push(line);
            }
        });
        Served { child, lines }
    }

    fn count(&self, text: &str) -> usize {
        let lines = self.lines.lock().unwrap();
        lines.iter().filter(|l| l.contains(text)).count()
    }

    fn find(&self, text: &str) -> Option<String> {
        let lines = self.lines.lock().unwrap();
        lines.iter().find(|l| l.contains(text)).cloned()
    }

    fn hang_up(&self) {
        let pid = libc::pid_t::try_from(self.child.id()).unwrap();
        // SAFETY: sends a signal to the child this test started; no memory is involved.
        assert_eq!(unsafe { libc::kill(pid, libc::SIGHUP) }, 0);
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Replace `path` with `bytes` keeping its modification time, so only SIGHUP can notice.
fn replace_unseen(path: &Path, bytes: &[u8]) {
    let modified = std::fs::metadata(path).unwrap().modified().unwrap();
    let aside = path.with_extension("new");
    std::fs::write(&aside, bytes).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&aside)
        .unwrap()
        .set_modified(modified)
        .unwrap();
    std::fs::rename(&aside, path).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_reloads_on_sighup_refusing_a_bad_certificate_and_keeping_open_streams() {
    let dir = TempDir::new("tls-sighup");
    let old_ca = TestCa::new("opsdeck test CA 1");
    let new_ca = TestCa::new("opsdeck test CA 2");
    let old_ca_path = old_ca.write(&dir.0, "ca1.pem");
    let new_ca_path = new_ca.write(&dir.0, "ca2.pem");
    let files = files_in(&dir.0, Duration::from_secs(5));
    install(&files, &old_ca.issue(1));
    let served = Served::spawn(serve(&[
        "--listen",
        "127.0.0.1:0",
        "--tls-cert",
        files.cert.to_str().unwrap(),
        "--tls-key",
        files.key.to_str().unwrap(),
    ]));
    let line = poll_until(
        PATIENCE,
        "the gateway to say where it listens",
        async || served.find("opsdeck gateway listening on "),
    )
    .await;
    let port: u16 = line
        .rsplit(':')
        .next()
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    assert!(line.contains("https://127.0.0.1:"), "{line}");
    let url = format!("wss://localhost:{port}");
    let mut open = wss_client(&url, client_tls(Some(&old_ca_path)))
        .await
        .unwrap();
    open.events(1, |_| {}).await;

    // A broken certificate: refused, said so, the old one still served.
    replace_unseen(&files.cert, b"-----BEGIN CERTIFICATE-----\nbroken\n");
    served.hang_up();
    wait_until(PATIENCE, "the refusal in the log", || {
        served.count("the new TLS certificate is refused") == 1
    })
    .await;
    let refusal = served.find("the new TLS certificate is refused").unwrap();
    assert!(refusal.contains("gateway.pem"), "{refusal}");
    https_ok(port, &old_ca_path).await.unwrap();

    // A renewed one from another CA, its files' times unchanged: only SIGHUP can load it.
    let renewed = new_ca.issue(2);
    replace_unseen(&files.key, renewed.key_pem.as_bytes());
    replace_unseen(&files.cert, renewed.cert_pem.as_bytes());
    served.hang_up();
    wait_until(PATIENCE, "the reload in the log", || {
        served.count("TLS certificate reloaded") == 1
    })
    .await;
    https_ok(port, &new_ca_path).await.unwrap();
    assert!(https_ok(port, &old_ca_path).await.is_err());

    // The stream opened before both reloads carries what happens after them.
    let id = scale_something(port, &new_ca_path).await;
    see_action(&mut open, &id).await;
}
