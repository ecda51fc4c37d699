//! The Events view: the platform timeline (the core's), newest first, for every app or one,
//! narrowed by its `/` filter.

use chrono::{DateTime, Utc};

use crate::app::core::Handled;
use crate::app::core::keymap::Command;
use crate::app::core::list::{self, PAGE};
use crate::app::state::{State, View};
use crate::protocol::{PlatformEvent, TimelineEntry};

/// Where the Events view is in the platform timeline (the events themselves are the core's,
/// [`Core::timeline`](crate::app::core::Core::timeline), which the App view reads too).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EventsView {
    /// The Events view shows only this app's events.
    pub filter_app: Option<String>,
    /// Index (among shown events) of the top row of the Events view.
    pub offset: usize,
    /// The app `a` narrows to: the App view's, which the router tells the view before a key.
    pub toggle_app: Option<String>,
}

impl State {
    /// Events the Events view shows: the events of its app (or all) narrowed by its `/` filter, a
    /// regex over app, kind, message, actor and run ([`RowPattern`](crate::app::list_filter::RowPattern)), newest first.
    pub fn shown_events(&self) -> impl Iterator<Item = &TimelineEntry> + '_ {
        let pattern = self.filter_pattern(View::Events);
        let app = self.events.filter_app.as_deref();
        self.core.timeline.for_app(app).filter(move |e| {
            let fields = [
                e.app.as_str(),
                e.event.kind.label(),
                e.event.message.as_str(),
            ];
            // The APP column shows the display name: it matches as well as the id.
            let name = self.core.apps.get(&e.app).map(|a| a.summary.name.as_str());
            let more = [e.event.actor.as_deref(), e.event.run.as_deref(), name];
            pattern.matches(fields.into_iter().chain(more.into_iter().flatten()))
        })
    }
}

/// Keep the Events view's first row within the filtered events.
pub(crate) fn clamp_offset(state: &mut State) {
    if state.view != View::Events || state.events.offset == 0 {
        return;
    }
    let last = state.shown_events().count().saturating_sub(1);
    state.events.offset = state.events.offset.min(last);
}

/// A live event from the `events` topic: into the core's timeline, and the Events view keeps
/// the rows the operator scrolled to where they are.
pub(crate) fn on_event(state: &mut State, ts: DateTime<Utc>, app: String, event: PlatformEvent) {
    let view = &mut state.events;
    let shown = view.filter_app.as_ref().is_none_or(|a| *a == app);
    state
        .core
        .timeline
        .push_live(TimelineEntry { ts, app, event });
    if shown && view.offset > 0 {
        view.offset += 1;
    }
}

/// Scroll the Events view by `delta` rows.
pub(crate) fn scroll(state: &mut State, delta: isize) {
    let count = state.shown_events().count();
    state.events.offset = list::moved(state.events.offset, delta, count);
}

/// The Events view's own commands.
pub(crate) fn run(state: &mut State, cmd: Command) -> Handled {
    match cmd {
        Command::MoveDown => scroll(state, 1),
        Command::MoveUp => scroll(state, -1),
        Command::PageDown => scroll(state, PAGE),
        Command::PageUp => scroll(state, -PAGE),
        Command::Top => scroll(state, isize::MIN / 2),
        Command::Bottom => scroll(state, isize::MAX / 2),
        Command::ToggleEventsFilter => {
            let view = &mut state.events;
            view.filter_app = match view.filter_app {
                Some(_) => None,
                None => view.toggle_app.clone(),
            };
            view.offset = 0;
        }
        Command::Back => state.go_back(),
        _ => return Handled::No,
    }
    Handled::Yes
}
