//! WebSocket frames: what the client sends, what the gateway sends.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Body, Identity, Level, Seq};

mod event_serde;

/// A stream of events the gateway offers. Each topic has its own sequence numbers.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Topic {
    Metrics,
    Logs,
    Alerts,
    Actions,
    Events,
    Runs,
    /// Audited changes (GET /v1/audit), as each is written.
    Audit,
}

impl Topic {
    /// How many topics there are: the length of per-topic arrays.
    pub const COUNT: usize = 7;

    pub const ALL: [Topic; Topic::COUNT] = [
        Topic::Metrics,
        Topic::Logs,
        Topic::Alerts,
        Topic::Actions,
        Topic::Events,
        Topic::Runs,
        Topic::Audit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Topic::Metrics => "metrics",
            Topic::Logs => "logs",
            Topic::Alerts => "alerts",
            Topic::Actions => "actions",
            Topic::Events => "events",
            Topic::Runs => "runs",
            Topic::Audit => "audit",
        }
    }

    /// Index into per-topic arrays (`[T; Topic::COUNT]`), in the order of [`Topic::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Topic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One event on a topic, as it travels inside an `events` frame:
/// `{"topic":"logs","seq":1235,"ts":"…","app":"shop-cart","data":{…}}`.
///
/// Serialized by hand rather than with `#[serde(flatten)]`, which buffers every field through an
/// intermediate tree and doubled decode time (see benches/codec.rs).
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    pub seq: Seq,
    pub ts: DateTime<Utc>,
    pub app: String,
    pub body: Body,
}

impl Event {
    pub fn topic(&self) -> Topic {
        self.body.topic()
    }
}

/// Which events a subscription wants. Absent fields mean "everything".
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Filter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub apps: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_level: Option<Level>,
}

/// Frames the client sends.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMsg {
    /// Start (or change) a subscription. `resume` gives, per topic, the last sequence the
    /// client saw; the gateway replays everything after it that its buffer still holds.
    Subscribe {
        topics: Vec<Topic>,
        #[serde(default)]
        filter: Filter,
        #[serde(default)]
        resume: BTreeMap<Topic, Seq>,
    },
    Unsubscribe {
        topics: Vec<Topic>,
    },
}

/// Frames the gateway sends.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMsg {
    /// First frame on every connection.
    Hello {
        protocol: u32,
        gateway_id: String,
        server_time: DateTime<Utc>,
        topics: Vec<Topic>,
        /// The platform behind the gateway, e.g. "sim".
        platform: String,
        /// Interval of the gateway's WebSocket pings.
        heartbeat_ms: u64,
        /// Frames larger than this close the connection with code 1009.
        max_frame_bytes: usize,
        /// Who the gateway took this client for (its token's name and role); absent when the
        /// gateway checks no tokens (loopback without `--tokens`), where everyone has full rights.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        identity: Option<Identity>,
    },
    /// The platform's clock: its time as the gateway sent this frame, and how many platform
    /// seconds pass per real second (1 on a real platform, the speed of a simulator, 0 while
    /// time stands still). Sent right after `hello` and with every heartbeat; every time the
    /// console shows is read from it, never from the clock of the machine it runs on.
    Clock {
        platform_time: DateTime<Utc>,
        rate: f64,
    },
    /// Reply to `subscribe`: the topics now active and, per topic, the newest sequence number.
    Subscribed {
        topics: Vec<Topic>,
        head: BTreeMap<Topic, Seq>,
    },
    /// One or more events, in sequence order per topic.
    Events {
        events: Vec<Event>,
    },
    /// Events `from..=to` on `topic` are gone from the gateway's buffer and cannot be replayed;
    /// the next event on `topic` is `to + 1`. With `reset`, the client's resume point came
    /// from another gateway's numbering (e.g. before a restart on a host whose clock is behind):
    /// the client must drop it and continue from `to + 1`, even though that is lower.
    Gap {
        topic: Topic,
        from: Seq,
        to: Seq,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        reset: bool,
    },
    /// The client fell behind and the gateway discarded `count` events on `topic`.
    Dropped {
        topic: Topic,
        count: u64,
    },
    Error {
        code: String,
        message: String,
    },
}

/// WebSocket close codes the gateway uses (RFC 6455 section 7.4.1).
pub mod close_code {
    /// A client frame exceeded the size cap.
    pub const TOO_BIG: u16 = 1009;
    /// The client stopped answering pings or never drained its queue.
    pub const POLICY: u16 = 1008;
    /// The gateway is shutting down.
    pub const GOING_AWAY: u16 = 1001;
}

/// The prefix every `events` frame from the gateway starts with.
pub const EVENTS_FRAME_PREFIX: &str = r#"{"type":"events","events":["#;

#[derive(Deserialize)]
struct EventsFrame {
    events: Vec<Event>,
}

/// Decode a server frame. `events` frames as the gateway writes them take a direct path;
/// anything else goes through the general (buffering) internally-tagged decoder.
pub fn decode_server_msg(text: &str) -> Result<ServerMsg, serde_json::Error> {
    if text.starts_with(EVENTS_FRAME_PREFIX)
        && let Ok(frame) = serde_json::from_str::<EventsFrame>(text)
    {
        return Ok(ServerMsg::Events {
            events: frame.events,
        });
    }
    serde_json::from_str(text)
}
