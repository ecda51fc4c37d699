//! `wss://`: the real `opsdeck` binary in a pseudo-terminal, connected through a TLS-terminating
//! proxy (a self-signed certificate for `localhost`) to a plain gateway, all on 127.0.0.1.
//! With `--ca-cert` the console goes live and lists apps (stream over wss, HTTP over https);
//! without it, the untrusted certificate is shown as the reason, and the console stays usable.
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::sync::Arc;

use common::gateway::start_sim;
use common::pty;
use opsdeck::protocol::AppDetail;
use pty::{Console, TempDir};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// A TLS proxy on 127.0.0.1:0 in front of `upstream`, serving a fresh self-signed certificate
/// for `localhost`. Returns its address and the certificate as PEM.
async fn start_tls_proxy(upstream: SocketAddr) -> (SocketAddr, String) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![certified.cert.der().clone()], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that rejects the certificate ends the handshake: nothing to proxy.
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(upstream).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (addr, certified.cert.pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_goes_live_over_wss_with_the_ca_and_shows_the_certificate_error_without() {
    let gateway = start_sim(11, 20.0, None).await;
    let app: AppDetail = common::gateway::get_json(&gateway, "/v1/apps/shop-cart").await;
    let name = app.summary.name;
    let (proxy, cert_pem) = start_tls_proxy(gateway.addr).await;
    let dir = TempDir::new("tls");
    let ca = dir.0.join("ca.pem");
    std::fs::write(&ca, cert_pem).unwrap();
    let url = format!("wss://localhost:{}", proxy.port());

    tokio::task::spawn_blocking(move || {
        let ca = ca.to_str().unwrap();
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
