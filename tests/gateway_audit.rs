//! The audit trail end to end: every change is in the audit file exactly once, even when the
//! gateway is killed mid-burst; `opsdeck audit verify` names tampering; the gateway refuses a
//! broken chain unless told to start a new one; GET /v1/audit filters; the `audit` topic;
//! `opsdeck audit export` from a real gateway.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use common::gateway::{http, loopback_config, start, url};
use common::stream::Client;
use common::wait::{poll_until, wait_until};
use opsdeck::gateway::{self, GatewayConfig};
use opsdeck::platform::sim::{SimConfig, SimPlatform};
use opsdeck::protocol::{AuditRecord, AuditResult, Body, ClientMsg, Filter, ServerMsg, Topic};

const OPSDECK: &str = env!("CARGO_BIN_EXE_opsdeck");

/// A child gateway, killed (SIGKILL) when dropped, so a failing test leaves none behind.
struct Serving(Child);

impl Serving {
    fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `opsdeck serve` as a child process on a loopback ephemeral port over `data_dir`; its address
/// as it prints it. A thread keeps reading its output so it never blocks on a full pipe.
fn serve(data_dir: &Path) -> (Serving, SocketAddr) {
    let mut child = Command::new(OPSDECK)
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--actions-per-minute",
            "100000",
        ])
        .arg("--data-dir")
        .arg(data_dir)
        .env("OPSDECK_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let child = Serving(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { return };
            if let Some(addr) = line.strip_prefix("opsdeck gateway listening on http://") {
                let _ = tx.send(addr.trim().to_string());
            }
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(30)).unwrap();
    (child, addr.parse().unwrap())
}

fn sim_gateway_config(data_dir: &Path) -> GatewayConfig {
    GatewayConfig {
        data_dir: Some(data_dir.to_path_buf()),
        ..loopback_config()
    }
}

fn sim() -> Arc<SimPlatform> {
    Arc::new(SimPlatform::new(SimConfig {
        seed: 7,
        ..SimConfig::default()
    }))
}

async fn audit(addr: SocketAddr, query: &str) -> Vec<AuditRecord> {
    http()
        .get(format!("http://{addr}/v1/audit{query}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn verify(file: &Path) -> std::process::Output {
    Command::new(OPSDECK)
        .args(["audit", "verify"])
        .arg(file)
        // Never the user's console config.
        .env("OPSDECK_CONFIG", "/dev/null")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_kill_during_a_burst_loses_no_answered_action_and_records_none_twice() {
    let dir = tempdir("kill");
    let (mut child, addr) = serve(&dir);
    let answered = Arc::new(AtomicUsize::new(0));
    let apps = ["shop-cart", "live-chat", "crm", "auth"];
    let mut clients = Vec::new();
    for (c, app) in apps.into_iter().enumerate() {
        let answered = answered.clone();
        clients.push(tokio::spawn(async move {
            let client = http();
            let detail: opsdeck::protocol::AppDetail = client
                .get(format!("http://{addr}/v1/apps/{app}"))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let min = detail.summary.replicas.min;
            let mut ok = Vec::new();
            for n in 0..50 {
                let key = format!("burst-{c}-{n}");
                let sent = client
                    .post(format!("http://{addr}/v1/apps/{app}/scale"))
                    .header("Idempotency-Key", &key)
                    .header("X-Opsdeck-User", format!("client-{c}"))
                    .json(&serde_json::json!({"replicas": min + n % 3}))
                    .send()
                    .await;
                answered.fetch_add(1, Ordering::Relaxed);
                match sent {
                    Ok(reply) if reply.status().is_success() => ok.push(key),
                    Ok(reply) => panic!("{key}: {}", reply.status()),
                    // The gateway is gone: what follows cannot have been answered either.
                    Err(_) => break,
                }
            }
            ok
        }));
    }
    wait_until(Duration::from_secs(60), "half the burst answered", || {
        answered.load(Ordering::Relaxed) >= 100
    })
    .await;
    child.kill(); // SIGKILL, mid-burst
    let mut acknowledged = Vec::new();
    for client in clients {
        acknowledged.extend(client.await.unwrap());
    }
    assert!(acknowledged.len() < 200, "the kill came after the burst");
    assert!(
        acknowledged.len() >= 50,
        "only {} answered 2xx",
        acknowledged.len()
    );

    let (mut child, addr) = serve(&dir);
    let records = audit(addr, "").await;
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for r in &records {
        if let Some(key) = &r.idempotency_key {
            assert_eq!(r.result, AuditResult::Ok, "{r:?}");
            *seen.entry(key.as_str()).or_default() += 1;
        }
    }
    for key in &acknowledged {
        assert_eq!(
            seen.get(key.as_str()),
            Some(&1),
            "action {key} answered 2xx"
        );
    }
    let out = verify(&dir.join("audit.jsonl"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    child.kill();
    let _ = std::fs::remove_dir_all(&dir);
}

/// An audit file of a real gateway: a chain start and `n` scales.
async fn written_chain(dir: &Path, n: u32) -> Vec<String> {
    let gw = start(sim_gateway_config(dir), sim()).await;
    for i in 0..n {
        let reply = http()
            .post(url(&gw, "/v1/apps/shop-cart/scale"))
            .json(&serde_json::json!({"replicas": 2 + i}))
            .send()
            .await
            .unwrap();
        assert!(reply.status().is_success());
    }
    gw.stop().await;
    let text = std::fs::read_to_string(dir.join("audit.jsonl")).unwrap();
    text.lines().map(str::to_string).collect()
}

#[tokio::test]
async fn verify_names_the_first_edited_removed_reordered_or_truncated_record() {
    let dir = tempdir("tamper");
    let lines = written_chain(&dir, 5).await;
    assert_eq!(lines.len(), 6);
    let file = dir.join("audit.jsonl");
    let out = verify(&file);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("6 records"),
        "{stdout}"
    );

    let joined = |lines: &[String]| lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    let mut edited = lines.clone();
    edited[3] = edited[3].replace("\"result\":\"ok\"", "\"result\":\"failed\"");
    let mut removed = lines.clone();
    removed.remove(2);
    let mut reordered = lines.clone();
    reordered.swap(3, 4);
    let mut truncated = joined(&lines);
    truncated.truncate(truncated.len() - 30);
    for (name, text, expected) in [
        ("edited", joined(&edited), "line 4 (record 4): edited"),
        (
            "removed",
            joined(&removed),
            "line 3 (record 4): removed: record 3",
        ),
        (
            "reordered",
            joined(&reordered),
            "line 4 (record 5): reordered",
        ),
        ("truncated", truncated, "line 6: truncated tail"),
    ] {
        let copy = dir.join(format!("{name}.jsonl"));
        std::fs::write(&copy, text).unwrap();
        let out = verify(&copy);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name} passed verify");
        assert!(stderr.contains(expected), "{name}: {stderr}");
    }
}

#[tokio::test]
async fn a_broken_chain_stops_the_gateway_unless_a_new_chain_is_asked_for() {
    let dir = tempdir("broken");
    let mut lines = written_chain(&dir, 3).await;
    lines.remove(1);
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(dir.join("audit.jsonl"), text).unwrap();

    let refused = gateway::start(sim_gateway_config(&dir), sim()).await;
    let err = refused.err().unwrap().to_string();
    assert!(
        err.contains("audit") && err.contains("--audit-new-chain"),
        "{err}"
    );
    assert!(err.contains("removed"), "{err}");

    let config = GatewayConfig {
        audit_new_chain: true,
        ..sim_gateway_config(&dir)
    };
    let gw = start(config, sim()).await;
    let records = audit(gw.addr, "").await;
    assert_eq!(records[0].seq, 1);
    assert_eq!(records[0].action, "audit_chain_start");
    assert!(
        records[0].message.contains("was broken at"),
        "{}",
        records[0].message
    );
    gw.stop().await;
    let aside = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("audit.jsonl.broken-")
        });
    assert!(aside, "the broken file is kept aside");
    assert!(verify(&dir.join("audit.jsonl")).status.success());
}

#[tokio::test]
async fn a_record_torn_by_a_crash_is_cut_off_and_the_cut_recorded() {
    let dir = tempdir("torn");
    let lines = written_chain(&dir, 2).await;
    let mut text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    text.push_str(&lines[2][..40]);
    std::fs::write(dir.join("audit.jsonl"), text).unwrap();

    let gw = start(sim_gateway_config(&dir), sim()).await;
    let records = audit(gw.addr, "").await;
    assert_eq!(records.len(), 4);
    assert_eq!(records[3].action, "audit_recovered");
    assert!(
        records[3].message.contains("40 bytes"),
        "{}",
        records[3].message
    );
    gw.stop().await;
    assert!(verify(&dir.join("audit.jsonl")).status.success());
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn get_audit_filters_by_since_app_and_actor() {
    let dir = tempdir("filters");
    let gw = start(sim_gateway_config(&dir), sim()).await;
    let post = |path: &str, who: &str, body: serde_json::Value| {
        http()
            .post(url(&gw, path))
            .header("X-Opsdeck-User", who)
            .header("Idempotency-Key", format!("{who}-{path}"))
            .json(&body)
            .send()
    };
    let ok = post(
        "/v1/apps/shop-cart/scale",
        "li.wei",
        serde_json::json!({"replicas": 3}),
    )
    .await
    .unwrap();
    let request_id = ok.headers()["x-request-id"].to_str().unwrap().to_string();
    post(
        "/v1/apps/live-chat/scale",
        "wang.fang",
        serde_json::json!({"replicas": 999}),
    )
    .await
    .unwrap();
    let records = audit(gw.addr, "?actor=li.wei").await;
    assert_eq!(records.len(), 1);
    let r = &records[0];
    assert_eq!(
        (r.action.as_str(), r.target.as_str()),
        ("scale", "shop-cart")
    );
    assert_eq!((r.from.as_deref(), r.to.as_deref()), (Some("4"), Some("3")));
    assert_eq!(
        r.role, "admin",
        "without --tokens every caller has every right"
    );
    assert_eq!(r.result, AuditResult::Ok);
    assert_eq!(r.request_id.as_deref(), Some(request_id.as_str()));
    assert_eq!(
        r.idempotency_key.as_deref(),
        Some("li.wei-/v1/apps/shop-cart/scale")
    );
    assert!(
        r.client
            .as_deref()
            .is_some_and(|c| c.starts_with("127.0.0.1:"))
    );

    let refused = audit(gw.addr, "?app=live-chat").await;
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].actor, "wang.fang");
    assert_eq!(refused[0].result, AuditResult::Failed);
    assert!(
        refused[0].message.contains("between"),
        "{}",
        refused[0].message
    );
    // The refusal is on the timeline, with who; the scale that happened is there once.
    let events: Vec<opsdeck::protocol::TimelineEntry> =
        common::gateway::get_json(&gw, "/v1/events").await;
    let by = |who: &str| {
        events
            .iter()
            .filter(|e| e.event.actor.as_deref() == Some(who))
            .count()
    };
    assert_eq!((by("li.wei"), by("wang.fang")), (1, 1));

    assert_eq!(
        audit(gw.addr, "?since=1h").await.len(),
        3,
        "chain start and both scales"
    );
    assert!(
        audit(gw.addr, "?since=2999-01-01T00:00:00Z")
            .await
            .is_empty()
    );
    // Simulator controls are changes too.
    let scenario = http()
        .post(url(&gw, "/v1/sim/scenarios"))
        .header("X-Opsdeck-User", "zhao.lei")
        .json(&serde_json::json!({"name": "flash-sale"}))
        .send()
        .await
        .unwrap();
    assert_eq!(scenario.status().as_u16(), 202);
    let started = audit(gw.addr, "?actor=zhao.lei").await;
    assert_eq!(started.len(), 1);
    assert_eq!(
        (started[0].action.as_str(), started[0].target.as_str()),
        ("scenario", "flash-sale")
    );

    let bad = http()
        .get(url(&gw, "/v1/audit?since=yesterday"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status().as_u16(), 422);
    gw.stop().await;
}

#[tokio::test]
async fn ack_and_silence_are_audited_and_on_the_timeline_once_with_who() {
    let gw = common::gateway::start_sim(42, 50.0, Some("bad-release")).await;
    let alert = common::gateway::firing_alert(&gw, "bad-release", 30).await;
    let post = |path: String, body: serde_json::Value| {
        http()
            .post(url(&gw, &path))
            .header("X-Opsdeck-User", "zhao.lei")
            .json(&body)
            .send()
    };
    let ack = post(
        format!("/v1/alerts/{}/ack", alert.id),
        serde_json::json!({}),
    );
    assert!(ack.await.unwrap().status().is_success());
    let body = serde_json::json!({"duration": "30m", "comment": "rolling back"});
    let silence = post(format!("/v1/alerts/{}/silence", alert.id), body);
    assert!(silence.await.unwrap().status().is_success());

    let records = audit(gw.addr, "?actor=zhao.lei").await;
    let seen: Vec<_> = records
        .iter()
        .map(|r| (r.action.as_str(), r.target.as_str(), r.app.as_deref()))
        .collect();
    let app = Some(alert.app.as_str());
    assert_eq!(
        seen,
        [
            ("ack", alert.id.as_str(), app),
            ("silence", alert.id.as_str(), app)
        ]
    );
    assert_eq!(records[0].to.as_deref(), Some("acknowledged"));
    assert!(
        records[1]
            .to
            .as_deref()
            .unwrap()
            .starts_with("silenced until")
    );
    // The Events view's source: each change once, with who.
    let events: Vec<opsdeck::protocol::TimelineEntry> =
        common::gateway::get_json(&gw, "/v1/events").await;
    let mine: Vec<&str> = events
        .iter()
        .filter(|e| e.event.actor.as_deref() == Some("zhao.lei"))
        .map(|e| e.event.message.as_str())
        .collect();
    assert_eq!(mine.len(), 2, "{mine:?}");
    assert!(
        mine[0].contains("silenced") && mine[1].contains("acknowledged"),
        "{mine:?}"
    );
    gw.stop().await;
}

#[tokio::test]
async fn audit_records_are_sent_on_the_audit_topic() {
    let gw = start(loopback_config(), sim()).await;
    let mut client = Client::connect(gw.addr).await;
    client
        .send(&ClientMsg::Subscribe {
            topics: vec![Topic::Audit],
            filter: Filter::default(),
            resume: BTreeMap::new(),
        })
        .await;
    assert!(matches!(client.recv().await, ServerMsg::Subscribed { .. }));
    http()
        .post(url(&gw, "/v1/apps/shop-cart/scale"))
        .header("X-Opsdeck-User", "li.wei")
        .json(&serde_json::json!({"replicas": 5}))
        .send()
        .await
        .unwrap();
    let record = poll_until(
        Duration::from_secs(10),
        "the scale on the audit topic",
        async || match client.try_recv(Duration::from_millis(200)).await {
            Some(ServerMsg::Events { events }) => events.into_iter().find_map(|e| match e.body {
                Body::Audit(r) if r.action == "scale" => Some(r),
                _ => None,
            }),
            _ => None,
        },
    )
    .await;
    assert_eq!(record.actor, "li.wei");
    assert_eq!(record.to.as_deref(), Some("5"));
    gw.stop().await;
}

#[tokio::test]
async fn export_prints_the_incident_timeline_of_a_real_gateway() {
    let gw = start(loopback_config(), sim()).await;
    for (path, body) in [
        (
            "/v1/apps/shop-cart/scale",
            serde_json::json!({"replicas": 6}),
        ),
        ("/v1/apps/shop-cart/rollback", serde_json::json!({})),
    ] {
        let reply = http()
            .post(url(&gw, path))
            .header("X-Opsdeck-User", "li.wei")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(reply.status().is_success(), "{path}");
    }
    let ws = format!("ws://{}", gw.addr);
    let export = |format: &'static str| {
        let ws = ws.clone();
        tokio::task::spawn_blocking(move || {
            Command::new(OPSDECK)
                .args([
                    "audit", "export", "--url", &ws, "--since", "1h", "--format", format,
                ])
                .env("OPSDECK_CONFIG", "/dev/null")
                .output()
                .unwrap()
        })
    };
    let out = export("json").await.unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    let actions: Vec<&str> = lines
        .iter()
        .filter(|l| l["source"] == "audit")
        .map(|l| l["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["scale", "rollback"],
        "in time order, chain records left out"
    );
    assert!(
        lines
            .iter()
            .all(|l| l["source"] == "audit" || l["kind"] != "scale"),
        "no duplicates"
    );
    let times: Vec<&str> = lines.iter().map(|l| l["ts"].as_str().unwrap()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");

    let out = export("markdown").await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("## Incident timeline"), "{text}");
    let scale = text
        .find("scale shop-cart 4 -> 6 | li.wei (admin) | ok")
        .unwrap();
    let rollback = text.find("rollback shop-cart v").unwrap();
    assert!(scale < rollback, "{text}");
    gw.stop().await;
}

/// A fresh folder under the system temp dir for one test.
fn tempdir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "opsdeck-audit-{name}-{}-{:x}",
        std::process::id(),
        fastrand::u64(..)
    ));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `audit export` against a gateway with tokens sends the console's token (OPSDECK_TOKEN
/// here), records the token's name and role, and without a token says the gateway needs one.
#[tokio::test]
async fn export_sends_the_consoles_token() {
    use opsdeck::gateway::Tokens;
    use opsdeck::protocol::Role;
    let token = opsdeck::gateway::tokens::generate().unwrap();
    let config = GatewayConfig {
        tokens: Some(Arc::new(Tokens::single("li.wei", Role::Operator, &token))),
        ..loopback_config()
    };
    let gw = start(config, sim()).await;
    let reply = http()
        .post(url(&gw, "/v1/apps/shop-cart/scale"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"replicas": 6}))
        .send()
        .await
        .unwrap();
    assert!(reply.status().is_success());
    let ws = format!("ws://{}", gw.addr);
    let run = |token: Option<String>| {
        let ws = ws.clone();
        tokio::task::spawn_blocking(move || {
            let mut cmd = Command::new(OPSDECK);
            cmd.args(["audit", "export", "--url", &ws, "--format", "markdown"])
                .env("OPSDECK_CONFIG", "/dev/null")
                .env_remove("OPSDECK_TOKEN")
                .env_remove("OPSDECK_TOKEN_FILE")
                .env_remove("OPSDECK_TOKEN_COMMAND");
            if let Some(token) = token {
                cmd.env("OPSDECK_TOKEN", token);
            }
            cmd.output().unwrap()
        })
    };
    let out = run(Some(token.clone())).await.unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("li.wei (operator)"), "{text}");
    assert!(!text.contains(&token));
    let refused = run(None).await.unwrap();
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("401"), "{err}");
    assert!(!err.contains(&token));
    gw.stop().await;
}
