//! The platform timeline: what happened and who did what, newest first.
//!
//! Filled from GET /v1/events when the Events or App view opens, and kept current by the live
//! `events` topic. Bounded at [`TIMELINE_CAP`] entries; the oldest fall off.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use super::action::{HttpError, Reply};
use super::core::NoticeLevel;
use super::effect::{Effect, RequestId, RequestKind};
use super::list_filter;
use super::state::{State, View};
use crate::protocol::{PlatformEvent, TimelineEntry};

/// Most events kept.
pub const TIMELINE_CAP: usize = 1000;

/// Recent platform events and where the Events view is in them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Timeline {
    /// Newest first.
    pub entries: VecDeque<TimelineEntry>,
    /// GET /v1/events has answered at least once.
    pub loaded: bool,
    /// Why the last load failed, until the next one succeeds.
    pub error: Option<String>,
    /// The Events view shows only this app's events.
    pub filter_app: Option<String>,
    /// Index (among shown events) of the top row of the Events view.
    pub offset: usize,
    pub(crate) request: Option<RequestId>,
}

impl Timeline {
    /// Events the Events view shows (all, or the filtered app's), newest first.
    pub fn shown(&self) -> impl Iterator<Item = &TimelineEntry> + '_ {
        let app = self.filter_app.as_deref();
        self.for_app(app)
    }

    /// Events of `app` (all events for `None`), newest first.
    pub fn for_app<'a>(&'a self, app: Option<&'a str>) -> impl Iterator<Item = &'a TimelineEntry> {
        self.entries
            .iter()
            .filter(move |e| app.is_none_or(|a| e.app == a))
    }

    fn push_live(&mut self, entry: TimelineEntry) {
        let shown = self.filter_app.as_ref().is_none_or(|a| *a == entry.app);
        self.entries.push_front(entry);
        self.entries.truncate(TIMELINE_CAP);
        // Keep the rows the operator scrolled to where they are.
        if shown && self.offset > 0 {
            self.offset += 1;
        }
    }

    /// Replace the list with a fresh snapshot, keeping live events newer than its newest.
    fn replace(&mut self, mut list: Vec<TimelineEntry>) {
        list.sort_by_key(|e| std::cmp::Reverse(e.ts));
        let newest = list.first().map(|e| e.ts);
        let mut merged: VecDeque<TimelineEntry> = self
            .entries
            .iter()
            .filter(|e| newest.is_none_or(|n| e.ts > n || (e.ts == n && !list.contains(e))))
            .cloned()
            .collect();
        merged.extend(list);
        merged.truncate(TIMELINE_CAP);
        self.entries = merged;
        self.loaded = true;
        self.error = None;
    }
}

impl State {
    /// Events the Events view shows: [`Timeline::shown`] narrowed by its `/` filter (app,
    /// kind, message or actor), newest first.
    pub fn shown_events(&self) -> impl Iterator<Item = &TimelineEntry> + '_ {
        let needle = self.filter_needle(View::Events);
        self.timeline.shown().filter(move |e| {
            let fields = [
                e.app.as_str(),
                e.event.kind.label(),
                e.event.message.as_str(),
            ];
            list_filter::matches(&needle, fields.into_iter().chain(e.event.actor.as_deref()))
        })
    }
}

/// Keep the Events view's first row within the filtered events.
pub(crate) fn clamp_offset(state: &mut State) {
    if state.view != View::Events || state.timeline.offset == 0 {
        return;
    }
    let last = state.shown_events().count().saturating_sub(1);
    state.timeline.offset = state.timeline.offset.min(last);
}

/// Open the Events view on every app's events, and fetch the recent ones.
pub fn open_events(state: &mut State) -> Vec<Effect> {
    open_events_for(state, None)
}

/// Open the Events view filtered to one app (`None`: every app).
pub fn open_events_for(state: &mut State, app: Option<String>) -> Vec<Effect> {
    let mut effects = Vec::new();
    if state.timeline.filter_app != app {
        state.timeline.offset = 0;
    }
    state.timeline.filter_app = app;
    state.push_view(View::Events);
    refresh(state, &mut effects);
    effects
}

/// Ask for GET /v1/events.
pub(crate) fn refresh(state: &mut State, effects: &mut Vec<Effect>) {
    let id = state.core.send(RequestKind::FetchTimeline, effects);
    state.timeline.request = Some(id);
}

/// The reply to GET /v1/events; an older request's reply is dropped.
pub(crate) fn on_reply(state: &mut State, request_id: RequestId, result: Result<Reply, HttpError>) {
    if state.timeline.request != Some(request_id) {
        return;
    }
    state.timeline.request = None;
    match result {
        Ok(Reply::Timeline(list)) => state.timeline.replace(list),
        Ok(_) => {}
        Err(err) => {
            state
                .core
                .notify(NoticeLevel::Warn, format!("loading events: {err}"));
            state.timeline.error = Some(err.to_string());
        }
    }
}

/// A live event from the `events` topic.
pub(crate) fn on_event(state: &mut State, ts: DateTime<Utc>, app: String, event: PlatformEvent) {
    state.timeline.push_live(TimelineEntry { ts, app, event });
}

/// Scroll the Events view by `delta` rows.
pub(crate) fn scroll(state: &mut State, delta: isize) {
    let count = state.shown_events().count();
    let last = count.saturating_sub(1);
    state.timeline.offset = state.timeline.offset.saturating_add_signed(delta).min(last);
}
