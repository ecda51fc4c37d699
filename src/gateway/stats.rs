//! The gateway's own counters, exposed at GET /metrics in the Prometheus text format.
//!
//! A handful of atomics and one formatting function: smaller than a metrics crate and its
//! registry, and the exposition format for counters and gauges is three lines each.

use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

use crate::protocol::Topic;

#[derive(Debug, Default)]
pub struct Stats {
    published: [AtomicU64; Topic::COUNT],
    dropped: [AtomicU64; Topic::COUNT],
    gaps: AtomicU64,
    frames_sent: AtomicU64,
    bytes_sent: AtomicU64,
    clients: AtomicI64,
    connections: AtomicU64,
    client_errors: AtomicU64,
    closed_slow: AtomicU64,
    http_requests: AtomicU64,
    idempotent_replays: AtomicU64,
}

impl Stats {
    pub fn published(&self, topic: Topic) {
        self.published[topic.index()].fetch_add(1, Relaxed);
    }
    pub fn dropped(&self, topic: Topic, count: u64) {
        self.dropped[topic.index()].fetch_add(count, Relaxed);
    }
    pub fn gap(&self) {
        self.gaps.fetch_add(1, Relaxed);
    }
    pub fn frame_sent(&self, bytes: usize) {
        self.frames_sent.fetch_add(1, Relaxed);
        self.bytes_sent.fetch_add(bytes as u64, Relaxed);
    }
    pub fn client_connected(&self) {
        self.clients.fetch_add(1, Relaxed);
        self.connections.fetch_add(1, Relaxed);
    }
    pub fn client_disconnected(&self) {
        self.clients.fetch_sub(1, Relaxed);
    }
    pub fn client_error(&self) {
        self.client_errors.fetch_add(1, Relaxed);
    }
    pub fn closed_slow(&self) {
        self.closed_slow.fetch_add(1, Relaxed);
    }
    pub fn http_request(&self) {
        self.http_requests.fetch_add(1, Relaxed);
    }
    pub fn idempotent_replay(&self) {
        self.idempotent_replays.fetch_add(1, Relaxed);
    }
    pub fn clients(&self) -> i64 {
        self.clients.load(Relaxed)
    }

    /// Render every metric in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(2048);
        let mut family = |name: &str, kind: &str, help: &str, samples: &[(String, u64)]| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for (labels, value) in samples {
                let _ = writeln!(out, "{name}{labels} {value}");
            }
        };
        let per_topic = |counters: &[AtomicU64; Topic::COUNT]| -> Vec<(String, u64)> {
            Topic::ALL
                .iter()
                .map(|t| {
                    (
                        format!("{{topic=\"{t}\"}}"),
                        counters[t.index()].load(Relaxed),
                    )
                })
                .collect()
        };
        let one = |v: u64| vec![(String::new(), v)];
        family(
            "opsdeck_gateway_events_published_total",
            "counter",
            "Events sequenced and buffered, by topic.",
            &per_topic(&self.published),
        );
        family(
            "opsdeck_gateway_events_dropped_total",
            "counter",
            "Events discarded for clients that fell behind, by topic.",
            &per_topic(&self.dropped),
        );
        family(
            "opsdeck_gateway_gaps_total",
            "counter",
            "Gap frames sent because a resume point had left the buffer.",
            &one(self.gaps.load(Relaxed)),
        );
        family(
            "opsdeck_gateway_frames_sent_total",
            "counter",
            "Stream frames written to clients.",
            &one(self.frames_sent.load(Relaxed)),
        );
        family(
            "opsdeck_gateway_bytes_sent_total",
            "counter",
            "Stream bytes written to clients.",
            &one(self.bytes_sent.load(Relaxed)),
        );
        family(
            "opsdeck_gateway_stream_clients",
            "gauge",
            "Stream connections open now.",
            &one(u64::try_from(self.clients.load(Relaxed)).unwrap_or(0)),
        );
        family(
            "opsdeck_gateway_stream_connections_total",
            "counter",
            "Stream connections accepted.",
            &one(self.connections.load(Relaxed)),
        );
        family(
            "opsdeck_gateway_client_errors_total",
            "counter",
            "Malformed or unacceptable client frames.",
            &one(self.client_errors.load(Relaxed)),
        );
        family(
            "opsdeck_gateway_slow_clients_closed_total",
            "counter",
            "Connections closed because the client never caught up or stopped answering.",
            &one(self.closed_slow.load(Relaxed)),
        );
        family(
            "opsdeck_gateway_http_requests_total",
            "counter",
            "HTTP requests served.",
            &one(self.http_requests.load(Relaxed)),
        );
        family(
            "opsdeck_gateway_idempotent_replays_total",
            "counter",
            "Action requests answered from the idempotency store instead of being applied again.",
            &one(self.idempotent_replays.load(Relaxed)),
        );
        out
    }
}
