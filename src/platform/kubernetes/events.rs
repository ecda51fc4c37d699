//! Kubernetes Events (events.k8s.io/v1) about an app's Deployment, ReplicaSets and Pods, as
//! timeline entries on the `events` topic. The first full list is only remembered; events that
//! arrive after it are sent, and so are those a re-list (after 410 Gone) shows that the watch
//! missed. Each event is sent once (by uid).

use std::collections::{HashSet, VecDeque};

use chrono::Utc;
use k8s_openapi::api::events::v1::Event as KubeEvent;

use super::Cache;
use super::shape::{self, name_of, namespace_of};
use super::watch::Change;
use crate::protocol::{EventKind, PlatformEvent, TimelineEntry};

/// Uids of events already taken, bounded.
#[derive(Default)]
pub struct Seen {
    uids: HashSet<String>,
    order: VecDeque<String>,
}

const SEEN: usize = 5_000;

impl Seen {
    /// Whether `uid` is new; remembers it.
    fn first_time(&mut self, uid: &str) -> bool {
        if !self.uids.insert(uid.to_string()) {
            return false;
        }
        self.order.push_back(uid.to_string());
        if self.order.len() > SEEN
            && let Some(old) = self.order.pop_front()
        {
            self.uids.remove(&old);
        }
        true
    }
}

/// The timeline entries a change brings (only events that arrived after the `first` list).
pub fn observe(
    cache: &mut Cache,
    change: Change<KubeEvent>,
    label: &str,
    first: bool,
) -> Vec<TimelineEntry> {
    match change {
        Change::Listed(items) => {
            let mut known: Vec<TimelineEntry> = Vec::new();
            for e in items {
                let uid = e.metadata.uid.clone().unwrap_or_default();
                if cache.events_seen.first_time(&uid)
                    && let Some(entry) = entry(cache, &e, label)
                {
                    known.push(entry);
                }
            }
            known.sort_by_key(|e| e.ts);
            if !first {
                return known;
            }
            for entry in known {
                cache.remember(entry);
            }
            Vec::new()
        }
        Change::Applied(e) => {
            let uid = e.metadata.uid.clone().unwrap_or_default();
            if !cache.events_seen.first_time(&uid) {
                return Vec::new();
            }
            entry(cache, &e, label).into_iter().collect()
        }
        Change::Deleted(_) | Change::Lost(_) | Change::Answering => Vec::new(),
    }
}

/// The entry for `e`, when it is about an app's objects.
fn entry(cache: &Cache, e: &KubeEvent, label: &str) -> Option<TimelineEntry> {
    let about = e.regarding.as_ref()?;
    let object = about.name.as_deref()?;
    let ns = about
        .namespace
        .as_deref()
        .unwrap_or(namespace_of(&e.metadata));
    let d = cache.deployments.values().find(|d| {
        let name = name_of(&d.metadata);
        namespace_of(&d.metadata) == ns
            && (object == name || object.starts_with(&format!("{name}-")))
    })?;
    let reason = e.reason.clone().unwrap_or_default();
    let kind = match reason.as_str() {
        "ScalingReplicaSet" | "SuccessfulRescale" => EventKind::Scale,
        "BackOff" | "Killing" | "Unhealthy" => EventKind::PodRestart,
        "Started" => EventKind::PodReady,
        _ => EventKind::Other,
    };
    let ts = e
        .event_time
        .as_ref()
        .map(|t| shape::time(&k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(t.0)))
        .or(e.deprecated_last_timestamp.as_ref().map(shape::time))
        .or(e.metadata.creation_timestamp.as_ref().map(shape::time))
        .unwrap_or_else(Utc::now);
    let note = e.note.clone().unwrap_or_default();
    let warning = if e.type_.as_deref() == Some("Warning") {
        "warning: "
    } else {
        ""
    };
    Some(TimelineEntry {
        ts,
        app: shape::app_id(d, label),
        event: PlatformEvent {
            kind,
            message: format!(
                "{warning}{} {object}: {reason} {note}",
                about.kind.as_deref().unwrap_or("object")
            )
            .trim_end()
            .to_string(),
            actor: None,
            run: None,
        },
    })
}
