//! Resume after an outage (TARGETS P8).
//!
//! `cargo bench --bench resume -- [--outage 60] [--rate 1000]`
//!
//! `opsdeck serve --load-rate RATE` runs as its own process. A client subscribes to every topic,
//! reads for 2 s, drops its connection for OUTAGE seconds, reconnects with its last sequence per
//! topic and reads until events emitted after the reconnect arrive on every busy topic. Reports
//! the catch-up time,
//! events replayed, and any gap, dropped notice, duplicate or hole in the sequence.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use opsdeck::protocol::{ClientMsg, Filter, Seq, ServerMsg, Topic, decode_server_msg};
use tokio_tungstenite::tungstenite::Message;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[tokio::main]
async fn main() {
    let (outage, rate) = (arg("--outage", 60), arg("--rate", 1000));
    let mut child = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--load-rate",
            &rate.to_string(),
        ])
        .env("OPSDECK_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = format!(
        "ws://{}/v1/stream",
        line.trim().rsplit("http://").next().unwrap()
    );

    let mut last: BTreeMap<Topic, Seq> = BTreeMap::new();
    let (mut holes, mut duplicates, mut notices) = (0u64, 0u64, Vec::new());
    let mut take = |events: Vec<opsdeck::protocol::Event>, last: &mut BTreeMap<Topic, Seq>| {
        let n = events.len() as u64;
        for e in events {
            match last.get(&e.topic()) {
                Some(&prev) if e.seq <= prev => duplicates += 1,
                Some(&prev) if e.seq != prev + 1 => holes += 1,
                _ => {}
            }
            last.insert(e.topic(), e.seq);
        }
        n
    };

    let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let subscribe = |resume: BTreeMap<Topic, Seq>| ClientMsg::Subscribe {
        topics: Topic::ALL.to_vec(),
        filter: Filter::default(),
        resume,
    };
    let text = serde_json::to_string(&subscribe(BTreeMap::new())).unwrap();
    ws.send(Message::Text(text.into())).await.unwrap();
    let warm = Instant::now() + Duration::from_secs(2);
    while Instant::now() < warm {
        if let Some(Ok(Message::Text(t))) = ws.next().await
            && let Ok(ServerMsg::Events { events }) = decode_server_msg(&t)
        {
            take(events, &mut last);
        }
    }
    drop(ws);
    println!("outage of {outage} s at {rate} events/s ...");
    tokio::time::sleep(Duration::from_secs(outage)).await;

    let reconnect = Instant::now();
    let reconnected_at = chrono::Utc::now();
    let (mut ws, _) = tokio_tungstenite::connect_async(&url).await.unwrap();
    let text = serde_json::to_string(&subscribe(last.clone())).unwrap();
    ws.send(Message::Text(text.into())).await.unwrap();
    // Caught up: for every topic that had traffic, an event emitted after the reconnect arrived.
    let busy: Vec<Topic> = last.keys().copied().collect();
    let mut live: BTreeMap<Topic, bool> = BTreeMap::new();
    let mut replayed = 0;
    loop {
        let Some(Ok(Message::Text(t))) = ws.next().await else {
            continue;
        };
        match decode_server_msg(&t).unwrap() {
            ServerMsg::Events { events } => {
                for e in &events {
                    if e.ts >= reconnected_at {
                        live.insert(e.topic(), true);
                    }
                }
                replayed += take(events, &mut last);
            }
            other @ (ServerMsg::Gap { .. } | ServerMsg::Dropped { .. }) => notices.push(other),
            _ => {}
        }
        if busy.iter().all(|t| live.contains_key(t)) {
            break;
        }
    }
    println!(
        "caught up in {:.0} ms after reconnecting; {replayed} events replayed; {holes} holes, \
         {duplicates} duplicates, notices: {notices:?}",
        reconnect.elapsed().as_secs_f64() * 1000.0
    );
    let _ = child.kill();
    let _ = child.wait();
}
