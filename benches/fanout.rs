//! Gateway fan-out benchmark (TARGETS P6).
//!
//! `cargo bench --bench fanout -- [--clients 100,500,1000] [--rate 20000] [--secs 10]`
//!
//! Starts `opsdeck serve --load-rate RATE` as its own process on 127.0.0.1:0, connects N
//! WebSocket clients subscribed to every topic (10 % of them throttled: they sleep 100 ms after
//! each frame), and reports, for the healthy clients, delivered events/s and the p50/p99 delay
//! from the event's timestamp (stamped when the platform emitted it) to its arrival, plus the
//! gateway process's RSS and peak RSS. Results go in docs/performance.md.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::sync::Mutex;
use tokio_tungstenite::tungstenite::Message;

#[derive(Deserialize)]
struct Frame {
    #[serde(default)]
    events: Vec<Lite>,
}

#[derive(Deserialize)]
struct Lite {
    ts: DateTime<Utc>,
}

struct Options {
    clients: Vec<usize>,
    rate: u64,
    secs: u64,
}

fn options() -> Options {
    let mut opts = Options {
        clients: vec![100, 500, 1000],
        rate: 20_000,
        secs: 10,
    };
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        let value = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--clients" => {
                opts.clients = value.split(',').filter_map(|v| v.parse().ok()).collect();
                i += 1;
            }
            "--rate" => {
                opts.rate = value.parse().unwrap_or(opts.rate);
                i += 1;
            }
            "--secs" => {
                opts.secs = value.parse().unwrap_or(opts.secs);
                i += 1;
            }
            _ => {}
        }
        i += 1;
    }
    opts
}

fn rss_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn main() {
    let opts = options();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "| clients | in events/s | delivered events/s (healthy) | per healthy client | p50 ms | p99 ms | gateway RSS MiB | peak RSS MiB |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for &n in &opts.clients {
        runtime.block_on(run(n, opts.rate, opts.secs));
    }
}

async fn run(clients: usize, rate: u64, secs: u64) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["serve", "--listen", "127.0.0.1:0", "--load-rate"])
        .arg(rate.to_string())
        .env("OPSDECK_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().rsplit("http://").next().unwrap().to_string();

    let delivered = Arc::new(AtomicU64::new(0));
    let measuring = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let delays = Arc::new(Mutex::new(Vec::<u32>::new()));
    let mut tasks = Vec::new();
    for i in 0..clients {
        let throttled = i % 10 == 9;
        let url = format!("ws://{addr}/v1/stream");
        let (delivered, measuring, delays) = (delivered.clone(), measuring.clone(), delays.clone());
        tasks.push(tokio::spawn(async move {
            let Ok((mut ws, _)) = tokio_tungstenite::connect_async(&url).await else {
                return;
            };
            let sub =
                r#"{"type":"subscribe","topics":["metrics","logs","alerts","actions","events"]}"#;
            if ws.send(Message::Text(sub.into())).await.is_err() {
                return;
            }
            let mut local = Vec::new();
            while let Some(Ok(msg)) = ws.next().await {
                let Message::Text(text) = msg else { continue };
                if throttled {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
                if !measuring.load(Ordering::Relaxed) {
                    if !local.is_empty() {
                        delays.lock().await.append(&mut local);
                    }
                    continue;
                }
                let Ok(frame) = serde_json::from_str::<Frame>(&text) else {
                    continue;
                };
                delivered.fetch_add(frame.events.len() as u64, Ordering::Relaxed);
                if let Some(last) = frame.events.last() {
                    let delay = (Utc::now() - last.ts).num_microseconds().unwrap_or(0);
                    local.push(u32::try_from(delay.max(0)).unwrap_or(u32::MAX));
                }
                if local.len() >= 16 {
                    delays.lock().await.append(&mut local);
                }
            }
        }));
    }
    // Warm up: let every client connect and the stream settle.
    tokio::time::sleep(Duration::from_secs(3)).await;
    delays.lock().await.clear();
    delivered.store(0, Ordering::Relaxed);
    measuring.store(true, Ordering::Relaxed);
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs(secs)).await;
    measuring.store(false, Ordering::Relaxed);
    let elapsed = start.elapsed().as_secs_f64();
    let total = delivered.load(Ordering::Relaxed) as f64;
    // Let clients hand in the delays they still hold.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss = rss_kib(pid, "VmRSS:") / 1024;
    let peak = rss_kib(pid, "VmHWM:") / 1024;
    let mut all = delays.lock().await.clone();
    all.sort_unstable();
    let pct = |p: f64| -> f64 {
        if all.is_empty() {
            return f64::NAN;
        }
        let idx = ((all.len() as f64 - 1.0) * p) as usize;
        f64::from(all[idx]) / 1000.0
    };
    let healthy = clients - clients / 10;
    println!(
        "| {clients} | {rate} | {:.0} | {:.0} | {:.1} | {:.1} | {rss} | {peak} |",
        total / elapsed,
        total / elapsed / healthy.max(1) as f64,
        pct(0.50),
        pct(0.99),
    );
    for task in tasks {
        task.abort();
    }
    let _ = child.kill();
    let _ = child.wait();
}
