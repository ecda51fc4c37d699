//! The stream hub: gives each platform emission its per-topic sequence number, encodes it to
//! JSON once, keeps a bounded replay buffer per topic, and wakes subscribers with shared batches.
//!
//! Subscribers do not own queues of copied events. Each holds a cursor per topic into the shared
//! buffers; a caught-up, unfiltered subscriber sends the batch's pre-built frame as is (one encode,
//! shared bytes), everyone else assembles its frame from the buffer. A subscriber that falls more
//! than its lag limit behind gets metrics coalesced to the latest per app and a `dropped` count for
//! the rest, so its memory stays bounded and nobody else waits for it.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

use crate::platform::Emission;
use crate::protocol::{Body, Event, Level, Seq, Topic};

use super::stats::Stats;

/// One encoded event in a replay buffer.
#[derive(Debug)]
pub struct Stored {
    pub seq: Seq,
    pub app: Arc<str>,
    /// Set for log lines, so level filters need no decoding.
    pub level: Option<Level>,
    pub json: Box<str>,
}

/// The events one ingest round published, as subscribers are woken with it.
#[derive(Debug)]
pub struct Batch {
    /// Per topic, the first and last sequence in this batch.
    pub ranges: [Option<(Seq, Seq)>; Topic::COUNT],
    /// `{"type":"events","events":[...]}` holding every event of the batch in order.
    pub frame: axum::extract::ws::Utf8Bytes,
}

struct TopicBuffer {
    events: VecDeque<Stored>,
    capacity: usize,
    /// Sequence number the next event gets.
    next: Seq,
}

impl TopicBuffer {
    fn head(&self) -> Seq {
        self.next - 1
    }

    fn oldest(&self) -> Seq {
        self.events.front().map_or(self.next, |e| e.seq)
    }

    fn get(&self, seq: Seq) -> Option<&Stored> {
        let first = self.events.front()?.seq;
        let idx = usize::try_from(seq.checked_sub(first)?).ok()?;
        self.events.get(idx)
    }
}

/// Where a subscriber's cursor stands relative to a topic's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Oldest sequence still held.
    pub oldest: Seq,
    /// Newest sequence published (oldest - 1 when empty).
    pub head: Seq,
}

pub struct Hub {
    buffers: [RwLock<TopicBuffer>; Topic::COUNT],
    wake: broadcast::Sender<Arc<Batch>>,
    stats: Arc<Stats>,
}

/// Longest frame the hub assembles for one subscriber, in events.
pub const MAX_EVENTS_PER_FRAME: usize = 256;

impl Hub {
    /// `capacity` events are kept per topic for replay. Sequence numbers start above
    /// `seq_base`, so a restarted gateway (with a later base) never reuses old numbers and a
    /// client resuming from before the restart gets an explicit gap.
    pub fn new(capacity: usize, seq_base: Seq, stats: Arc<Stats>) -> Hub {
        let buffer = || {
            RwLock::new(TopicBuffer {
                events: VecDeque::with_capacity(capacity.min(4096)),
                capacity: capacity.max(1),
                next: seq_base + 1,
            })
        };
        let (wake, _) = broadcast::channel(256);
        Hub {
            buffers: std::array::from_fn(|_| buffer()),
            wake,
            stats,
        }
    }

    pub fn subscribe_batches(&self) -> broadcast::Receiver<Arc<Batch>> {
        self.wake.subscribe()
    }

    pub fn window(&self, topic: Topic) -> Window {
        let buf = read(&self.buffers[topic.index()]);
        Window {
            oldest: buf.oldest(),
            head: buf.head(),
        }
    }

    pub fn heads(&self) -> [Seq; Topic::COUNT] {
        Topic::ALL.map(|t| read(&self.buffers[t.index()]).head())
    }

    /// Sequence, encode and store `emissions`, then wake subscribers. Returns the events as
    /// published (with their sequence numbers) for bookkeeping such as the action registry.
    pub fn publish(&self, emissions: Vec<Emission>) -> Vec<Event> {
        let mut ranges: [Option<(Seq, Seq)>; Topic::COUNT] = [None; Topic::COUNT];
        let mut frame = String::with_capacity(64 + emissions.len() * 256);
        frame.push_str(r#"{"type":"events","events":["#);
        let mut published = Vec::with_capacity(emissions.len());
        for emission in emissions {
            let topic = emission.body.topic();
            let mut buf = write(&self.buffers[topic.index()]);
            // The number is taken only once the event is encoded, so a failure leaves no hole.
            let seq = buf.next;
            let event = Event {
                seq,
                ts: emission.ts,
                app: emission.app,
                body: emission.body,
            };
            let json = match serde_json::to_string(&event) {
                Ok(json) => json,
                Err(err) => {
                    // Our own types always serialize; a failure here is a bug, not input.
                    tracing::error!(%err, "could not encode event");
                    continue;
                }
            };
            buf.next += 1;
            if !published.is_empty() {
                frame.push(',');
            }
            frame.push_str(&json);
            let level = match &event.body {
                Body::Logs(line) => Some(line.level),
                _ => None,
            };
            if buf.events.len() >= buf.capacity {
                buf.events.pop_front();
            }
            buf.events.push_back(Stored {
                seq,
                app: Arc::from(event.app.as_str()),
                level,
                json: json.into_boxed_str(),
            });
            drop(buf);
            let range = &mut ranges[topic.index()];
            *range = Some(range.map_or((seq, seq), |(first, _)| (first, seq)));
            self.stats.published(topic);
            published.push(event);
        }
        frame.push_str("]}");
        if !published.is_empty() {
            // No receivers is fine: nobody is subscribed yet.
            let _ = self.wake.send(Arc::new(Batch {
                ranges,
                frame: frame.into(),
            }));
        }
        published
    }

    /// Collect, for one subscriber, the events of `topic` after `cursor` (at most
    /// `MAX_EVENTS_PER_FRAME`) that `admit` accepts, appending their JSON to `out` with commas.
    /// Returns the new cursor and how many events were lost because they had already left the
    /// buffer (the caller reports those as dropped).
    pub fn collect(
        &self,
        topic: Topic,
        cursor: Seq,
        admit: &dyn Fn(&Stored) -> bool,
        out: &mut String,
        appended: &mut usize,
    ) -> (Seq, u64) {
        let buf = read(&self.buffers[topic.index()]);
        let mut seq = cursor.max(buf.oldest().saturating_sub(1));
        let lost = seq - cursor;
        while seq < buf.head() && *appended < MAX_EVENTS_PER_FRAME {
            seq += 1;
            if let Some(stored) = buf.get(seq)
                && admit(stored)
            {
                if *appended > 0 {
                    out.push(',');
                }
                out.push_str(&stored.json);
                *appended += 1;
            }
        }
        (seq, lost)
    }

    /// The held events of `topic` about `app`, oldest first, as encoded.
    pub fn held_for(&self, topic: Topic, app: &str) -> Vec<Box<str>> {
        let buf = read(&self.buffers[topic.index()]);
        buf.events
            .iter()
            .filter(|e| &*e.app == app)
            .map(|e| e.json.clone())
            .collect()
    }

    /// Skip a lagging subscriber forward to `to`: returns, for metrics, the latest event per app in
    /// `(cursor, to]` (to send instead of the skipped ones), and how many events were discarded.
    pub fn skip(
        &self,
        topic: Topic,
        cursor: Seq,
        to: Seq,
        admit: &dyn Fn(&Stored) -> bool,
    ) -> (Vec<Box<str>>, u64) {
        let buf = read(&self.buffers[topic.index()]);
        let from = cursor.max(buf.oldest().saturating_sub(1));
        // Events that already fell out of the buffer are lost too.
        let mut discarded = from - cursor;
        let mut latest: HashMap<&str, &Stored> = HashMap::new();
        for seq in from + 1..=to.min(buf.head()) {
            if let Some(stored) = buf.get(seq)
                && admit(stored)
            {
                discarded += 1;
                if topic == Topic::Metrics {
                    latest.insert(&stored.app, stored);
                }
            }
        }
        let mut kept: Vec<&Stored> = latest.into_values().collect();
        kept.sort_by_key(|s| s.seq);
        discarded -= kept.len() as u64;
        (
            kept.into_iter().map(|s| s.json.clone()).collect(),
            discarded,
        )
    }
}

/// The first sequence base for a gateway started at `now`: milliseconds since the epoch times
/// 1000, so numbers grow across restarts while staying below 2^53 (safe in JavaScript) for
/// centuries.
pub fn seq_base_at(now: DateTime<Utc>) -> Seq {
    u64::try_from(now.timestamp_millis()).unwrap_or(0) * 1000
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
