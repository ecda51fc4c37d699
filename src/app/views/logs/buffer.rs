//! The log ring buffer: the newest `capacity` log lines and loss markers, in the gateway's
//! sequence order, with a count of what fell off the front.
//!
//! Every item has an absolute position (0 for the first item ever pushed), so views and
//! filtered indexes can point at items without caring how many have fallen off since.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::protocol::{Level, LogLine, Seq};

/// Lines held when nothing else is configured.
pub const DEFAULT_CAPACITY: usize = 100_000;
/// Distinct app and pod names remembered for sharing; past this the set starts afresh (pods
/// come and go, and the set must not grow for ever).
const MAX_INTERNED: usize = 4096;

/// One log line as the console keeps it: names shared, message and fields moved from the wire.
#[derive(Clone, Debug, PartialEq)]
pub struct LogEntry {
    pub seq: Seq,
    pub ts: DateTime<Utc>,
    pub app: Arc<str>,
    pub pod: Arc<str>,
    pub level: Level,
    pub message: String,
    /// Structured fields in key order, as the wire carries them.
    pub fields: Vec<(String, String)>,
}

/// Lines the console knows it does not have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogMarker {
    /// The gateway discarded `count` lines because the console fell behind.
    Dropped { count: u64, at: DateTime<Utc> },
    /// Lines `from..=to` were gone from the gateway's buffer when the console resumed.
    Gap {
        from: Seq,
        to: Seq,
        at: DateTime<Utc>,
    },
}

impl LogMarker {
    /// "── 42 lines dropped by the gateway ──"
    pub fn describe(&self) -> String {
        match self {
            LogMarker::Dropped { count, .. } => {
                format!("── {} lines dropped by the gateway ──", thousands(*count))
            }
            LogMarker::Gap { from, to, .. } => {
                format!("── gap: lines {from}–{to} lost during reconnect ──")
            }
        }
    }
}

/// What the buffer holds: a line, or a marker for lines that are missing.
#[derive(Clone, Debug, PartialEq)]
pub enum LogItem {
    Line(LogEntry),
    Marker(LogMarker),
}

/// The bounded buffer of log items.
#[derive(Clone, Debug)]
pub struct LogBuffer {
    items: VecDeque<LogItem>,
    capacity: usize,
    /// Items that fell off the front: also the absolute position of the oldest item held.
    fallen_off: u64,
    names: HashSet<Arc<str>>,
}

impl LogBuffer {
    pub fn new(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        LogBuffer {
            items: VecDeque::with_capacity(capacity.min(DEFAULT_CAPACITY)),
            capacity,
            fallen_off: 0,
            names: HashSet::new(),
        }
    }

    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Items that no longer fit and were let go, oldest first.
    pub fn fallen_off(&self) -> u64 {
        self.fallen_off
    }

    /// Absolute position of the oldest item held.
    pub fn first_pos(&self) -> u64 {
        self.fallen_off
    }

    /// Absolute position the next pushed item will get.
    pub fn end_pos(&self) -> u64 {
        self.fallen_off + self.items.len() as u64
    }

    /// The item at absolute position `pos`, if still held.
    pub fn get(&self, pos: u64) -> Option<&LogItem> {
        let i = usize::try_from(pos.checked_sub(self.fallen_off)?).ok()?;
        self.items.get(i)
    }

    /// Items from the oldest held, with their absolute positions.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (u64, &LogItem)> {
        let first = self.fallen_off;
        self.items
            .iter()
            .enumerate()
            .map(move |(i, item)| (first + i as u64, item))
    }

    /// A shared copy of `name`, so a million lines from one pod hold its name once.
    pub fn intern(&mut self, name: &str) -> Arc<str> {
        if let Some(n) = self.names.get(name) {
            return Arc::clone(n);
        }
        if self.names.len() >= MAX_INTERNED {
            self.names.clear();
        }
        let n: Arc<str> = Arc::from(name);
        self.names.insert(Arc::clone(&n));
        n
    }

    /// Turn a wire line into an entry, sharing app and pod names.
    pub fn entry(&mut self, seq: Seq, ts: DateTime<Utc>, app: &str, line: LogLine) -> LogEntry {
        LogEntry {
            seq,
            ts,
            app: self.intern(app),
            pod: self.intern(&line.pod),
            level: line.level,
            message: line.message,
            fields: line.fields.into_iter().collect(),
        }
    }

    /// Append an item, letting the oldest go when full. Returns the new item's position.
    pub fn push(&mut self, item: LogItem) -> u64 {
        if self.items.len() >= self.capacity {
            self.items.pop_front();
            self.fallen_off += 1;
        }
        let pos = self.end_pos();
        self.items.push_back(item);
        pos
    }
}

/// `12345` as `12,345`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: u64) -> LogItem {
        LogItem::Marker(LogMarker::Dropped {
            count: n,
            at: DateTime::<Utc>::MIN_UTC,
        })
    }

    #[test]
    fn caps_at_capacity_and_counts_what_falls_off() {
        let mut b = LogBuffer::new(3);
        for n in 0..5 {
            assert_eq!(b.push(line(n)), n);
        }
        assert_eq!((b.len(), b.fallen_off(), b.first_pos()), (3, 2, 2));
        assert_eq!(b.get(1), None);
        assert_eq!(b.get(2), Some(&line(2)));
        assert_eq!(b.get(4), Some(&line(4)));
        assert_eq!(b.get(5), None);
    }

    #[test]
    fn interns_names_and_formats_thousands() {
        let mut b = LogBuffer::new(1);
        let a = b.intern("pod-1");
        assert!(Arc::ptr_eq(&a, &b.intern("pod-1")));
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(12_345), "12,345");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
