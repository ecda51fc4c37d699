//! The Logs view's pure core: a bounded ring buffer of log lines fed by the `logs` topic,
//! merged across apps in the gateway's sequence order, with follow/pause, search, filters,
//! error jumps and saving. Loss is never silent: lines that fall off the buffer are counted,
//! and `dropped`/`gap` frames become marker lines.
//!
//! The rest of the core reaches it through a few entry points: [`open_logs`] (also for the
//! command mode's `:logs NAME…`), the `ingest_*` functions called by the stream handling,
//! [`layer`] for key lookup and [`run`] for the [`LogCommand`]s the keymap names.

mod buffer;
mod commands;
mod filter;
mod save;
mod view;

pub use crate::app::core::action::SavedLogs;
pub use crate::app::core::keymap::LogCommand;
pub use crate::app::core::pattern::{Pattern, PatternError};
pub use buffer::{DEFAULT_CAPACITY, LogBuffer, LogEntry, LogItem, LogMarker, thousands};
pub use commands::{layer, run, type_char};
pub use filter::{LogFilter, compile};
pub use save::{format_entry, save_file_name};
pub use view::{FilterBar, FilterField, LogSearch, LogView, LogsConfig, Paused, TimestampMode};

use chrono::{DateTime, Utc};

use crate::app::core::NoticeLevel;
use crate::app::state::{State, View};
use crate::protocol::{LogLine, Seq};

/// Show the Logs view for `apps` (every app when empty), following the tail.
pub fn open_logs(state: &mut State, apps: Vec<String>) {
    let logs = &mut state.logs;
    logs.filter.apps = apps.iter().map(|a| logs.buffer.intern(a)).collect();
    logs.refilter();
    logs.follow();
    logs.search.editing = false;
    logs.filter_bar = None;
    state.push_view(View::Logs);
}

/// A log line from the stream.
pub fn ingest_line(state: &mut State, seq: Seq, ts: DateTime<Utc>, app: &str, line: LogLine) {
    state.logs.push_line(seq, ts, app, line);
}

/// A `dropped` frame on the `logs` topic.
pub fn ingest_dropped(state: &mut State, count: u64) {
    let now = state.core.now;
    state.logs.push_dropped(count, now);
}

/// A `gap` frame on the `logs` topic.
pub fn ingest_gap(state: &mut State, from: Seq, to: Seq) {
    let now = state.core.now;
    state.logs.push_gap(from, to, now);
}

/// The tui layer wrote (or failed to write) the file a `SaveLogs` effect asked for.
pub fn on_saved(state: &mut State, result: Result<SavedLogs, String>) {
    match result {
        Ok(saved) => state.core.notify(
            NoticeLevel::Info,
            format!(
                "saved {} lines to {}",
                thousands(saved.lines as u64),
                saved.path
            ),
        ),
        Err(reason) => state
            .core
            .notify(NoticeLevel::Error, format!("saving logs failed: {reason}")),
    }
}
