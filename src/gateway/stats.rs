//! The gateway's own counters, exposed at GET /metrics in the Prometheus text format
//! (version 0.0.4).
//!
//! The metrics live in a `prometheus-client` registry, which writes the exposition (names,
//! `# HELP`/`# TYPE` lines, label escaping, the `_total` suffix of counters). The per-topic
//! counters are taken out of their family once, so counting an event is one atomic add with
//! no label lookup.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::prometheus_text;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use crate::protocol::Topic;

/// The label of the per-topic families: `{topic="logs"}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TopicLabel {
    topic: &'static str,
}

/// The label of the actions family: `{action="scale",result="ok"}`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabel {
    action: String,
    result: &'static str,
}

#[derive(Debug)]
pub struct Stats {
    registry: Registry,
    /// Changes applied (or failed), by action and result.
    actions: Family<ActionLabel, Counter>,
    /// By [`Topic::index`].
    published: [Counter; Topic::COUNT],
    /// By [`Topic::index`].
    dropped: [Counter; Topic::COUNT],
    gaps: Counter,
    frames_sent: Counter,
    bytes_sent: Counter,
    clients: Gauge,
    connections: Counter,
    client_errors: Counter,
    closed_slow: Counter,
    http_requests: Counter,
    idempotent_replays: Counter,
    auth_failures: Counter,
    auth_throttled: Counter,
}

impl Default for Stats {
    fn default() -> Self {
        Stats::new()
    }
}

/// A family with one counter per topic, every topic present (at 0) from the start; its
/// counters by [`Topic::index`].
fn per_topic() -> (Family<TopicLabel, Counter>, [Counter; Topic::COUNT]) {
    let family = Family::<TopicLabel, Counter>::default();
    let counters = Topic::ALL.map(|topic| {
        family.get_or_create_owned(&TopicLabel {
            topic: topic.as_str(),
        })
    });
    (family, counters)
}

/// A new metric of type `M` (a counter, a gauge), registered under `name`.
fn register<M>(registry: &mut Registry, name: &str, help: &str) -> M
where
    M: prometheus_client::registry::Metric + Clone + Default,
{
    let metric = M::default();
    registry.register(name, help, metric.clone());
    metric
}

impl Stats {
    /// Every metric at zero. Names are given without the `_total` of counters, which the
    /// encoder adds, and help texts without their final full stop, which it adds too.
    pub fn new() -> Stats {
        let mut registry = Registry::with_prefix("opsdeck_gateway");
        let (published_family, published) = per_topic();
        registry.register(
            "events_published",
            "Events sequenced and buffered, by topic",
            published_family,
        );
        let (dropped_family, dropped) = per_topic();
        registry.register(
            "events_dropped",
            "Events discarded for clients that fell behind, by topic",
            dropped_family,
        );
        let mut counter = |name: &str, help: &str| register(&mut registry, name, help);
        let gaps = counter(
            "gaps",
            "Gap frames sent because a resume point had left the buffer",
        );
        let frames_sent = counter("frames_sent", "Stream frames written to clients");
        let bytes_sent = counter("bytes_sent", "Stream bytes written to clients");
        let clients = register(
            &mut registry,
            "stream_clients",
            "Stream connections open now",
        );
        let mut counter = |name: &str, help: &str| register(&mut registry, name, help);
        let connections = counter("stream_connections", "Stream connections accepted");
        let client_errors = counter("client_errors", "Malformed or unacceptable client frames");
        let closed_slow = counter(
            "slow_clients_closed",
            "Connections closed because the client never caught up or stopped answering",
        );
        let http_requests = counter("http_requests", "HTTP requests served");
        let idempotent_replays = counter(
            "idempotent_replays",
            "Action requests answered from the idempotency store instead of being applied again",
        );
        let auth_failures = counter(
            "auth_failures",
            "Requests refused with 401: no token, or one the gateway does not know",
        );
        let auth_throttled = counter(
            "auth_throttled",
            "Requests refused with 429 because their address failed authentication too often",
        );
        let actions = Family::<ActionLabel, Counter>::default();
        registry.register(
            "actions",
            "Changes applied through the actions layer, by action and result",
            actions.clone(),
        );
        Stats {
            registry,
            actions,
            published,
            dropped,
            gaps,
            frames_sent,
            bytes_sent,
            clients,
            connections,
            client_errors,
            closed_slow,
            http_requests,
            idempotent_replays,
            auth_failures,
            auth_throttled,
        }
    }

    pub fn published(&self, topic: Topic) {
        self.published[topic.index()].inc();
    }
    pub fn dropped(&self, topic: Topic, count: u64) {
        self.dropped[topic.index()].inc_by(count);
    }
    pub fn gap(&self) {
        self.gaps.inc();
    }
    pub fn frame_sent(&self, bytes: usize) {
        self.frames_sent.inc();
        self.bytes_sent.inc_by(bytes as u64);
    }
    pub fn client_connected(&self) {
        self.clients.inc();
        self.connections.inc();
    }
    pub fn client_disconnected(&self) {
        self.clients.dec();
    }
    pub fn client_error(&self) {
        self.client_errors.inc();
    }
    pub fn closed_slow(&self) {
        self.closed_slow.inc();
    }
    /// A change went through the actions layer (`action` as the audit names it).
    pub fn action(&self, action: &str, ok: bool) {
        self.actions
            .get_or_create(&ActionLabel {
                action: action.to_string(),
                result: if ok { "ok" } else { "failed" },
            })
            .inc();
    }
    pub fn http_request(&self) {
        self.http_requests.inc();
    }
    pub fn idempotent_replay(&self) {
        self.idempotent_replays.inc();
    }
    pub fn auth_failed(&self) {
        self.auth_failures.inc();
    }
    pub fn auth_throttle(&self) {
        self.auth_throttled.inc();
    }
    /// Requests refused with 401 so far.
    pub fn auth_failures(&self) -> u64 {
        self.auth_failures.get()
    }
    /// Requests refused with 429 for failed authentications so far.
    pub fn auth_throttled(&self) -> u64 {
        self.auth_throttled.get()
    }
    pub fn clients(&self) -> i64 {
        self.clients.get()
    }

    /// Render every metric in the Prometheus text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(2048);
        // Writing to a String cannot fail; the encoder only passes on the writer's errors.
        let _ = prometheus_text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every metric the gateway has always exposed, by the name scrapers and dashboards use.
    const FAMILIES: [(&str, &str); 13] = [
        ("opsdeck_gateway_events_published_total", "counter"),
        ("opsdeck_gateway_events_dropped_total", "counter"),
        ("opsdeck_gateway_gaps_total", "counter"),
        ("opsdeck_gateway_frames_sent_total", "counter"),
        ("opsdeck_gateway_bytes_sent_total", "counter"),
        ("opsdeck_gateway_stream_clients", "gauge"),
        ("opsdeck_gateway_stream_connections_total", "counter"),
        ("opsdeck_gateway_client_errors_total", "counter"),
        ("opsdeck_gateway_slow_clients_closed_total", "counter"),
        ("opsdeck_gateway_http_requests_total", "counter"),
        ("opsdeck_gateway_idempotent_replays_total", "counter"),
        ("opsdeck_gateway_auth_failures_total", "counter"),
        ("opsdeck_gateway_auth_throttled_total", "counter"),
    ];

    #[test]
    fn every_family_has_help_and_type_and_counts_what_happened() {
        let stats = Stats::new();
        stats.published(Topic::Logs);
        stats.published(Topic::Logs);
        stats.dropped(Topic::Metrics, 3);
        stats.client_connected();
        stats.client_connected();
        stats.client_disconnected();
        stats.frame_sent(100);
        stats.idempotent_replay();
        let text = stats.render();
        for (name, kind) in FAMILIES {
            assert!(
                text.contains(&format!("# TYPE {name} {kind}\n")),
                "{name}\n{text}"
            );
            let help = format!("# HELP {name} ");
            let help_line = text.lines().find(|l| l.starts_with(&help));
            assert!(
                help_line.is_some_and(|l| l.ends_with('.') && !l.ends_with("..")),
                "{name}\n{text}"
            );
        }
        for sample in [
            "opsdeck_gateway_events_published_total{topic=\"logs\"} 2",
            "opsdeck_gateway_events_published_total{topic=\"runs\"} 0",
            "opsdeck_gateway_events_dropped_total{topic=\"metrics\"} 3",
            "opsdeck_gateway_stream_clients 1",
            "opsdeck_gateway_stream_connections_total 2",
            "opsdeck_gateway_frames_sent_total 1",
            "opsdeck_gateway_bytes_sent_total 100",
            "opsdeck_gateway_idempotent_replays_total 1",
            "opsdeck_gateway_gaps_total 0",
        ] {
            assert!(text.lines().any(|l| l == sample), "{sample}\n{text}");
        }
        assert_eq!(stats.clients(), 1);
        // Text format 0.0.4: every other line is one sample, `name{labels} value`, of a family
        // declared above it; no OpenMetrics `# EOF`.
        assert!(!text.contains("# EOF"));
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (series, value) = line.rsplit_once(' ').unwrap_or_default();
            let name = series.split('{').next().unwrap_or_default();
            assert!(FAMILIES.iter().any(|(family, _)| *family == name), "{line}");
            assert!(value.parse::<f64>().is_ok(), "{line}");
        }
    }
}
