//! Live stream frames: connection, events in sequence order, gaps, drops and errors.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::SUBSCRIBED_TOPICS;
use crate::app::core::effect::{Effect, RequestKind};
use crate::app::core::{AppEntry, Connection, GapMark, NoticeLevel};
use crate::app::state::State;
use crate::app::views::logs;
use crate::protocol::{
    AppStatus, AppSummary, Body, Event, EventKind, Metric, MetricSample, Replicas, ServerMsg, Topic,
};

/// The driver read `hello`: subscribe, resuming after what we already applied, and refresh
/// the snapshots the stream does not carry.
pub fn on_connected(state: &mut State, hello: ServerMsg, effects: &mut Vec<Effect>) {
    let offered = match hello {
        ServerMsg::Hello {
            topics,
            platform,
            identity,
            ..
        } => {
            state.core.platform = Some(platform);
            if let Some(identity) = identity {
                state.core.identify(identity);
            }
            topics
        }
        _ => SUBSCRIBED_TOPICS.to_vec(),
    };
    if let Some(since) = state.core.down_since.take() {
        let secs = (state.core.wall - since).num_seconds().max(0);
        state.core.notify(
            NoticeLevel::Info,
            format!("reconnected after {secs}s; resuming"),
        );
    }
    state.core.down_reason = None;
    state.core.connection = Connection::Live;
    let topics: Vec<_> = SUBSCRIBED_TOPICS
        .iter()
        .copied()
        .filter(|t| offered.contains(t))
        .collect();
    let resume: BTreeMap<_, _> = state
        .core
        .last_seq
        .iter()
        .filter(|(t, _)| topics.contains(t))
        .map(|(t, s)| (*t, *s))
        .collect();
    effects.push(Effect::Subscribe { topics, resume });
    state.core.send(RequestKind::FetchApps, effects);
    state.core.send(RequestKind::FetchAlerts, effects);
    // Action updates published while we were away may not be replayed: ask.
    crate::app::core::in_flight::check_all(&mut state.core, effects);
}

/// The gateway's `clock` frame, which arrived at `at` on the console's clock.
pub fn on_clock(state: &mut State, platform_time: DateTime<Utc>, rate: f64, at: DateTime<Utc>) {
    state.core.clock.set(platform_time, rate, at);
    state.core.now = state.core.clock.at(state.core.wall.max(at));
}

pub fn apply_frame(state: &mut State, msg: ServerMsg, effects: &mut Vec<Effect>) {
    match msg {
        ServerMsg::Hello { .. } => on_connected(state, msg, effects),
        // Arrives as `Action::Clock` from the stream driver; a bare frame arrived just now.
        ServerMsg::Clock {
            platform_time,
            rate,
        } => {
            let at = state.core.wall;
            on_clock(state, platform_time, rate, at);
        }
        ServerMsg::Subscribed { head, .. } => {
            state.core.connection = Connection::Live;
            // Where each topic starts for us: a topic with no event yet still resumes from
            // here after a reconnect, so nothing published during an outage is missed.
            for (topic, seq) in head {
                state.core.last_seq.entry(topic).or_insert(seq);
            }
        }
        ServerMsg::Events { events } => {
            state.core.rate.count(events.len() as u64);
            state.core.last_data_at = Some(state.core.wall);
            for event in events {
                apply_event(state, event, effects);
            }
        }
        ServerMsg::Gap {
            topic,
            from,
            to,
            reset,
        } => {
            if topic == Topic::Logs {
                logs::ingest_gap(state, from, to);
            }
            state.core.gaps.push(GapMark {
                topic,
                from,
                to,
                at: state.core.now,
            });
            let last = state.core.last_seq.entry(topic).or_insert(to);
            // After a reset the numbering is another gateway's: continue from `to`.
            *last = if reset { to } else { (*last).max(to) };
            state.core.notify(
                NoticeLevel::Warn,
                format!("lost {topic} events {from}–{to}; refreshing"),
            );
            state.core.send(RequestKind::FetchApps, effects);
            state.core.send(RequestKind::FetchAlerts, effects);
            // A lost `actions` event may have been the final one: ask about each in flight.
            crate::app::core::in_flight::check_all(&mut state.core, effects);
        }
        ServerMsg::Dropped { topic, count } => {
            if topic == Topic::Logs {
                logs::ingest_dropped(state, count);
            }
            *state.core.dropped.entry(topic).or_insert(0) += count;
            state.core.notify(
                NoticeLevel::Warn,
                format!("gateway dropped {count} {topic} events: console too slow"),
            );
        }
        ServerMsg::Error { code, message } => {
            state
                .core
                .notify(NoticeLevel::Error, format!("gateway: {code}: {message}"));
        }
    }
}

fn apply_event(state: &mut State, event: Event, effects: &mut Vec<Effect>) {
    let topic = event.topic();
    if let Some(&last) = state.core.last_seq.get(&topic)
        && event.seq <= last
    {
        state.core.duplicates += 1;
        return;
    }
    state.core.last_seq.insert(topic, event.seq);
    match event.body {
        Body::Metrics(sample) => apply_metrics(state, event.app, event.ts, sample, effects),
        Body::Alerts(alert) => {
            let app = alert.app.clone();
            state.core.alerts.insert(alert.id.clone(), alert);
            state.core.recount_firing(&app);
        }
        Body::Actions(status) => crate::app::core::in_flight::track(&mut state.core, status),
        Body::Logs(line) => logs::ingest_line(state, event.seq, event.ts, &event.app, line),
        Body::Events(ev) => {
            let kind = ev.kind;
            // The apps went stale or are fresh again: their `stale_since` is in the list.
            if kind == EventKind::Source && !state.core.is_pending(&RequestKind::FetchApps) {
                state.core.send(RequestKind::FetchApps, effects);
            }
            crate::app::views::app_view::on_platform_event(state, &event.app, kind, effects);
            crate::app::views::timeline::on_event(state, event.ts, event.app, ev);
        }
        Body::Runs(status) => crate::app::views::runs::upsert(state, status),
        // Not subscribed: audited changes reach the Events view through the platform's, the
        // runs' and the audit's timeline entries on `events`.
        Body::Audit(_) => {}
    }
}

fn apply_metrics(
    state: &mut State,
    app: String,
    ts: DateTime<Utc>,
    sample: MetricSample,
    effects: &mut Vec<Effect>,
) {
    if !state.core.apps.contains_key(&app) {
        // An app we have not listed yet: show it now, learn its details from a fresh list.
        state
            .core
            .apps
            .insert(app.clone(), AppEntry::new(placeholder(&app, &sample)));
        if !state.core.is_pending(&RequestKind::FetchApps) {
            state.core.send(RequestKind::FetchApps, effects);
        }
    }
    if let Some(entry) = state.core.apps.get_mut(&app) {
        if let Some(problem) = sample.problem {
            // Not a reading: what was last read stays, marked with why it is not newer.
            entry.metrics_problem = Some(problem);
            return;
        }
        entry.metrics_problem = None;
        if sample.has(Metric::ReplicasReady) {
            entry.summary.replicas.ready = sample.replicas_ready;
        }
        if sample.has(Metric::ReplicasDesired) {
            entry.summary.replicas.desired = sample.replicas_desired;
        }
        entry.rps_history.push(sample.rps);
        entry.metrics_history.push(ts, &sample);
        entry.latest = Some(sample);
    }
}

fn placeholder(app: &str, sample: &MetricSample) -> AppSummary {
    AppSummary {
        id: app.to_string(),
        name: app.to_string(),
        region: String::new(),
        release: String::new(),
        version: String::new(),
        replicas: Replicas {
            desired: sample.replicas_desired,
            ready: sample.replicas_ready,
            min: 0,
            max: sample.replicas_desired.max(1),
        },
        status: AppStatus::Healthy,
        metrics: None,
        stale_since: None,
        stale_reason: None,
        runbooks: Vec::new(),
    }
}
