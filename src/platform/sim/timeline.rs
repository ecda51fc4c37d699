//! The platform's recent timeline: deploys, scaling, rollbacks, pod restarts, alerts and
//! scenarios, bounded so that a long run holds constant memory.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use crate::platform::Emission;
use crate::protocol::{Body, EventKind, PlatformEvent, TimelineEntry};

/// Timeline entries kept for `events()`.
pub const TIMELINE_CAP: usize = 500;

#[derive(Clone, Debug, Default)]
pub struct Timeline {
    entries: VecDeque<TimelineEntry>,
}

impl Timeline {
    /// Record an event and return it as an emission on the `events` topic.
    pub fn record(
        &mut self,
        ts: DateTime<Utc>,
        app: &str,
        kind: EventKind,
        message: String,
        actor: Option<&str>,
    ) -> Emission {
        let event = PlatformEvent {
            kind,
            message,
            actor: actor.map(str::to_string),
            run: None,
        };
        self.entries.push_back(TimelineEntry {
            ts,
            app: app.to_string(),
            event: event.clone(),
        });
        while self.entries.len() > TIMELINE_CAP {
            self.entries.pop_front();
        }
        Emission {
            ts,
            app: app.to_string(),
            body: Body::Events(event),
        }
    }

    /// Newest first.
    pub fn list(&self) -> Vec<TimelineEntry> {
        self.entries.iter().rev().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeline_is_newest_first_and_capped() {
        let mut timeline = Timeline::default();
        let t0 = DateTime::<Utc>::UNIX_EPOCH;
        for i in 0..TIMELINE_CAP + 10 {
            timeline.record(t0, "crm", EventKind::PodReady, format!("e{i}"), None);
        }
        assert_eq!(timeline.len(), TIMELINE_CAP);
        let list = timeline.list();
        assert_eq!(list[0].event.message, format!("e{}", TIMELINE_CAP + 9));
    }
}
