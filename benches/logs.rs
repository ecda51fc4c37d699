//! Log path benchmark (TARGETS P4): decode -> ring buffer -> filter, and regex search over the
//! lines held. No rendering.
//!
//! `cargo bench --bench logs` — prints medians of several runs:
//! - ingest: `events` frames of 256 realistic log lines (access lines with fields, Chinese
//!   messages, some stack traces) decoded with `decode_server_msg`, each line pushed into a
//!   `LogView` that already holds 100,000 lines (so every push also lets one fall off) with a
//!   level + app filter in force; the same with a regex filter; the same through `update()`;
//!   and buffer + filter alone, without decoding, for the ratio.
//! - search: a regex counted over 1,000,000 held lines, and `N` finding no earlier match.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::hint::black_box;
use std::time::Instant;

use chrono::{DateTime, TimeZone, Utc};
use opsdeck::app::logs::{LogView, LogsConfig, compile};
use opsdeck::app::{Action, Keymap, State, StateConfig, update};
use opsdeck::protocol::{Body, Event, Level, LogLine, ServerMsg, decode_server_msg};

const APPS: [&str; 8] = [
    "shop-cart",
    "user-center",
    "pay-gateway",
    "search",
    "coupon",
    "feed",
    "notify",
    "order-svc",
];

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 3, 14, 3, 12, 45).unwrap()
}

/// The `n`-th line: mostly access lines with fields, some Chinese, a stack trace now and then.
fn line(n: u64) -> Event {
    let app = APPS[(n % APPS.len() as u64) as usize];
    let mut fields = BTreeMap::new();
    let (level, message) = match n % 100 {
        0 => (
            Level::Error,
            format!(
                "支付回调处理失败: upstream timeout after 3000ms order={n}\n    at PayCallback.handle (pay/callback.js:88:13)\n    at Router.dispatch (core/router.js:214:9)"
            ),
        ),
        1..=4 => (
            Level::Warn,
            format!("慢查询 slow query on orders: {}ms", 800 + n % 400),
        ),
        5..=19 => (
            Level::Debug,
            format!("cache miss key=sku:{}", 10_000 + n % 90_000),
        ),
        _ => {
            fields.insert("status".to_string(), "200".to_string());
            fields.insert("latency_ms".to_string(), (n % 97).to_string());
            fields.insert(
                "trace_id".to_string(),
                format!("{:016x}", n.wrapping_mul(0x9E37_79B9_7F4A_7C15)),
            );
            (
                Level::Info,
                format!("GET /api/cart/{} 200 用户下单成功", 1000 + n % 9000),
            )
        }
    };
    Event {
        seq: n + 1,
        ts: t0() + chrono::Duration::microseconds(n as i64 * 50),
        app: app.to_string(),
        body: Body::Logs(LogLine {
            pod: format!("{app}-7f9c4-x{:04}", n % 7),
            level,
            message,
            fields,
        }),
    }
}

/// Frames as the gateway writes them: `{"type":"events","events":[…256 events…]}`.
fn frames(first: u64, count: u64) -> Vec<String> {
    let events: Vec<Event> = (first..first + count).map(line).collect();
    events
        .chunks(256)
        .map(|chunk| {
            let body: Vec<String> = chunk
                .iter()
                .map(|e| serde_json::to_string(e).unwrap())
                .collect();
            format!(r#"{{"type":"events","events":[{}]}}"#, body.join(","))
        })
        .collect()
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

/// A view holding `held` lines, with a level (info and up) and app (4 of 8) filter in force.
fn filled_view(capacity: usize, held: u64) -> LogView {
    let mut view = LogView::new(LogsConfig {
        capacity,
        ..LogsConfig::default()
    });
    view.filter.min_level = Some(Level::Info);
    view.filter.apps = APPS[..4].iter().map(|a| view.buffer.intern(a)).collect();
    for n in 0..held {
        push(&mut view, line(n));
    }
    view.refilter();
    view
}

fn push(view: &mut LogView, e: Event) {
    if let Body::Logs(l) = e.body {
        view.push_line(e.seq, e.ts, &e.app, l);
    }
}

/// Lines per second through decode + push + filter, median of `runs`.
fn ingest_rate(runs: usize, frames: &[String], make: impl Fn() -> LogView) -> f64 {
    let samples = (0..runs)
        .map(|_| {
            let mut view = make();
            let start = Instant::now();
            let mut lines = 0u64;
            for text in frames {
                if let Ok(ServerMsg::Events { events }) = decode_server_msg(black_box(text)) {
                    for e in events {
                        lines += 1;
                        push(&mut view, e);
                    }
                }
            }
            let secs = start.elapsed().as_secs_f64();
            black_box(view.shown_len());
            lines as f64 / secs
        })
        .collect();
    median(samples)
}

fn main() {
    const HELD: u64 = 100_000;
    const INCOMING: u64 = 200_000;
    const RUNS: usize = 7;
    let incoming = frames(HELD, INCOMING);
    let bytes: usize = incoming.iter().map(String::len).sum();
    println!(
        "frames: {} of 256 lines, {} bytes/line on the wire",
        incoming.len(),
        bytes / INCOMING as usize
    );

    let base = filled_view(100_000, HELD);
    let plain = ingest_rate(RUNS, &incoming, || base.clone());
    let mut with_regex = base.clone();
    with_regex.filter.regex = Some(compile(r"timeout|slow query|/api/cart/1\d{3}\b").unwrap());
    with_regex.refilter();
    let regex = ingest_rate(RUNS, &incoming, || with_regex.clone());

    // Buffer + filter alone, events already decoded: the part the Logs view adds.
    let decoded: Vec<Vec<Event>> = incoming
        .iter()
        .map(|t| match decode_server_msg(t).unwrap() {
            ServerMsg::Events { events } => events,
            _ => Vec::new(),
        })
        .collect();
    let push_only = median(
        (0..RUNS)
            .map(|_| {
                let mut view = base.clone();
                let batches = decoded.clone();
                let start = Instant::now();
                for batch in batches {
                    for e in batch {
                        push(&mut view, e);
                    }
                }
                INCOMING as f64 / start.elapsed().as_secs_f64()
            })
            .collect(),
    );

    // The whole core path: decode, then `update()` (sequence dedupe, buffer, filter).
    let mut state = State::new(StateConfig {
        gateway: "bench".into(),
        demo: false,
        readonly: true,
        production: false,
        keymap: Keymap::builtin().unwrap(),
        key_seed: 1,
        now: t0(),
    });
    state.logs = base.clone();
    let through_update = median(
        (0..RUNS)
            .map(|run| {
                let mut s = state.clone();
                let first = HELD + INCOMING * (run as u64 + 1);
                let frames = frames(first, INCOMING);
                let start = Instant::now();
                for text in &frames {
                    if let Ok(msg) = decode_server_msg(text) {
                        update(&mut s, Action::StreamFrame(msg));
                    }
                }
                let secs = start.elapsed().as_secs_f64();
                black_box(s.logs.shown_len());
                INCOMING as f64 / secs
            })
            .collect(),
    );

    println!(
        "ingest, 100k held, level+app filter:   {:>10.0} lines/s",
        plain
    );
    println!(
        "ingest, 100k held, + regex filter:     {:>10.0} lines/s",
        regex
    );
    println!(
        "ingest through update():               {:>10.0} lines/s",
        through_update
    );
    println!(
        "buffer + filter only (no decode):      {:>10.0} lines/s",
        push_only
    );

    // Search over 1M held lines.
    const MILLION: u64 = 1_000_000;
    let mut big = LogView::new(LogsConfig {
        capacity: MILLION as usize,
        ..LogsConfig::default()
    });
    for n in 0..MILLION {
        push(&mut big, line(n));
    }
    let patterns = [
        ("literal, rare", r"order=424242\b"),
        ("alternation", r"timeout after \d+ms|慢查询"),
        ("no match", r"segfault|panicked at"),
    ];
    for (name, pattern) in patterns {
        let re = compile(pattern).unwrap();
        let mut count = 0;
        let ms = median(
            (0..RUNS)
                .map(|_| {
                    let start = Instant::now();
                    count = big.count_matches(black_box(&re));
                    start.elapsed().as_secs_f64() * 1000.0
                })
                .collect(),
        );
        println!("search 1M lines, {name:<14} {ms:>7.1} ms ({count} matches)");
    }
    // `N` with nothing earlier: one full backwards scan.
    big.search.regex = Some(compile(r"segfault|panicked at").unwrap());
    let ms = median(
        (0..RUNS)
            .map(|_| {
                let start = Instant::now();
                black_box(big.jump_to_match(false, 20));
                start.elapsed().as_secs_f64() * 1000.0
            })
            .collect(),
    );
    println!("N with no earlier match over 1M:       {ms:>7.1} ms");
}
