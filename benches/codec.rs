//! Wire codec benchmark (TARGETS P7): encode and decode ~200-byte metric and log events with
//! serde_json, as the gateway encodes and the console decodes them.
//!
//! `cargo bench --bench codec` — prints the median of 15 runs of 100,000 events each.
#![allow(clippy::unwrap_used)]

use std::hint::black_box;
use std::time::Instant;

use opsdeck::platform::load::synthetic;
use opsdeck::protocol::{Event, ServerMsg, decode_server_msg};

fn median_ns_per_event(runs: usize, n: usize, mut f: impl FnMut() -> usize) -> f64 {
    let mut samples: Vec<f64> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            let count = f();
            start.elapsed().as_nanos() as f64 / count.max(1) as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    let _ = n;
    samples[samples.len() / 2]
}

fn main() {
    const N: usize = 100_000;
    let events: Vec<Event> = (0..N as u64)
        .map(|n| {
            let e = synthetic(n, format!("shop-cart-{}", n % 10));
            Event {
                seq: n,
                ts: e.ts,
                app: e.app,
                body: e.body,
            }
        })
        .collect();
    let encoded: Vec<String> = events
        .iter()
        .map(|e| serde_json::to_string(e).unwrap())
        .collect();
    let avg_len = encoded.iter().map(String::len).sum::<usize>() / N;
    let frame = format!(
        r#"{{"type":"events","events":[{}]}}"#,
        encoded[..256].join(",")
    );

    let encode = median_ns_per_event(15, N, || {
        let mut bytes = 0;
        for e in &events {
            bytes += serde_json::to_string(black_box(e)).unwrap().len();
        }
        black_box(bytes);
        N
    });
    let decode = median_ns_per_event(15, N, || {
        for text in &encoded {
            black_box(serde_json::from_str::<Event>(black_box(text)).unwrap());
        }
        N
    });
    let decode_frame = median_ns_per_event(15, N, || {
        let mut count = 0;
        for _ in 0..N / 256 {
            if let ServerMsg::Events { events } = decode_server_msg(black_box(&frame)).unwrap() {
                count += events.len();
            }
        }
        count
    });
    println!("average event: {avg_len} bytes (90% log lines, 10% metric samples)");
    println!("encode Event:                 {encode:7.0} ns/event");
    println!("decode Event:                 {decode:7.0} ns/event");
    println!("decode 256-event frame:       {decode_frame:7.0} ns/event");
}
