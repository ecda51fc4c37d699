//! Keys in the Logs view: the [`LogCommand`]s the keymap's `logs`, `log_search` and
//! `log_filter` layers (and `l`/`L` on the overview) name, and text typed into the search
//! and the filter bar.

use super::filter::compile;
use super::save::{save_file_name, shown_text};
use super::view::{FilterBar, FilterField};
use crate::app::core::NoticeLevel;
use crate::app::core::effect::Effect;
use crate::app::core::keymap::{Command, Layer, LogCommand};
use crate::app::core::list;
use crate::app::state::State;
use crate::protocol::Level;

/// Rows the view's own chrome takes (header, log header, hint line, status bar).
const CHROME_ROWS: usize = 4;

/// The layer whose bindings apply while the Logs view shows.
pub fn layer(state: &State) -> Layer {
    let logs = &state.logs;
    if logs.filter_bar.is_some() {
        Layer::LogFilter
    } else if logs.search.editing {
        Layer::LogSearch
    } else {
        Layer::Logs
    }
}

/// Lines in a page of the log view.
fn page(state: &State) -> usize {
    list::page_rows(state.core.size.1, CHROME_ROWS)
}

fn signed(n: usize) -> isize {
    isize::try_from(n).unwrap_or(isize::MAX / 4)
}

pub fn run(state: &mut State, cmd: LogCommand, effects: &mut Vec<Effect>) {
    let page = page(state);
    let logs = &mut state.logs;
    match cmd {
        LogCommand::CloseLogs => {
            if logs.search.regex.is_some() || !logs.search.text.is_empty() {
                logs.search = Default::default();
                logs.focus = None;
            } else {
                state.go_back();
            }
        }
        LogCommand::ScrollDown => logs.scroll(1),
        LogCommand::ScrollUp => logs.scroll(-1),
        LogCommand::LogPageDown => logs.scroll(signed(page)),
        LogCommand::LogPageUp => logs.scroll(-signed(page)),
        LogCommand::LogTop => logs.scroll_to_top(),
        LogCommand::Follow => logs.follow(),
        LogCommand::TogglePause => {
            if logs.paused.is_some() {
                logs.follow();
            } else {
                logs.pause();
            }
        }
        LogCommand::StartSearch => {
            logs.search = Default::default();
            logs.search.editing = true;
        }
        LogCommand::NextMatch | LogCommand::PrevMatch => {
            let forward = cmd == LogCommand::NextMatch;
            if logs.search.regex.is_none() {
                let keys = state
                    .core
                    .keymap
                    .keys_for(Layer::Logs, Command::Logs(LogCommand::StartSearch));
                let key = keys.first().map_or("/".to_string(), ToString::to_string);
                let text = format!("no search: {key} starts one");
                state.core.notify(NoticeLevel::Info, text);
            } else if !logs.jump_to_match(forward, page) {
                let which = if forward { "later" } else { "earlier" };
                state
                    .core
                    .notify(NoticeLevel::Info, format!("no {which} match"));
            }
        }
        LogCommand::NextError | LogCommand::PrevError => {
            let forward = cmd == LogCommand::NextError;
            if !logs.jump_to_error(forward, page) {
                let which = if forward { "later" } else { "earlier" };
                state
                    .core
                    .notify(NoticeLevel::Info, format!("no {which} error line"));
            }
        }
        LogCommand::OpenLogFilter => {
            logs.filter_bar = Some(FilterBar {
                pattern: logs.filter.pattern().to_string(),
                pod: logs.filter.pod.clone(),
                ..FilterBar::default()
            });
        }
        LogCommand::ClearLogFilter => {
            logs.filter.regex = None;
            logs.filter.min_level = None;
            logs.filter.pod.clear();
            logs.refilter();
        }
        LogCommand::CycleLevel => {
            logs.filter.min_level = match logs.filter.min_level {
                None | Some(Level::Trace) => Some(Level::Debug),
                Some(Level::Debug) => Some(Level::Info),
                Some(Level::Info) => Some(Level::Warn),
                Some(Level::Warn) => Some(Level::Error),
                Some(Level::Error) => None,
            };
            logs.refilter();
        }
        LogCommand::MinLevelTrace => set_level(state, None),
        LogCommand::MinLevelDebug => set_level(state, Some(Level::Debug)),
        LogCommand::MinLevelInfo => set_level(state, Some(Level::Info)),
        LogCommand::MinLevelWarn => set_level(state, Some(Level::Warn)),
        LogCommand::MinLevelError => set_level(state, Some(Level::Error)),
        LogCommand::ToggleWrap => logs.wrap = !logs.wrap,
        LogCommand::CycleTimestamps => logs.timestamps = logs.timestamps.next(),
        LogCommand::ToggleFields => logs.pretty_fields = !logs.pretty_fields,
        // Opening the Logs view is navigation: the router does it.
        LogCommand::OpenLogs | LogCommand::OpenAllLogs => {}
        LogCommand::SaveLogs => {
            let lines = shown_text(logs);
            if lines.is_empty() {
                state
                    .core
                    .notify(NoticeLevel::Info, "nothing to save: no lines shown");
                return;
            }
            let file_name = save_file_name(&logs.filter.apps, state.core.now);
            effects.push(Effect::SaveLogs { file_name, lines });
        }
        LogCommand::SearchSubmit => {
            logs.search.editing = false;
            if logs.search.text.is_empty() {
                logs.search = Default::default();
            }
        }
        LogCommand::SearchCancel => {
            logs.search = Default::default();
            logs.focus = None;
        }
        LogCommand::SearchDeleteChar => {
            logs.search.text.pop();
            logs.search_incrementally(page);
        }
        LogCommand::FilterApply => apply_filter_bar(state),
        LogCommand::FilterCancel => logs.filter_bar = None,
        LogCommand::FilterDeleteChar => {
            if let Some(bar) = &mut logs.filter_bar {
                field_text(bar).pop();
                bar.error = None;
            }
        }
        LogCommand::FilterNextField => {
            if let Some(bar) = &mut logs.filter_bar {
                bar.field = match bar.field {
                    FilterField::Pattern => FilterField::Pod,
                    FilterField::Pod => FilterField::Pattern,
                };
            }
        }
    }
}

fn set_level(state: &mut State, level: Option<Level>) {
    state.logs.filter.min_level = level;
    state.logs.refilter();
}

fn field_text(bar: &mut FilterBar) -> &mut String {
    match bar.field {
        FilterField::Pattern => &mut bar.pattern,
        FilterField::Pod => &mut bar.pod,
    }
}

/// Enter in the filter bar: apply it, unless the pattern does not compile; then say why and
/// keep the filter in force as it was.
fn apply_filter_bar(state: &mut State) {
    let logs = &mut state.logs;
    let Some(bar) = &mut logs.filter_bar else {
        return;
    };
    let regex = if bar.pattern.is_empty() {
        None
    } else {
        match compile(&bar.pattern) {
            Ok(re) => Some(re),
            Err(e) => {
                bar.error = Some(e.to_string());
                bar.field = FilterField::Pattern;
                return;
            }
        }
    };
    logs.filter.regex = regex;
    logs.filter.pod = bar.pod.trim().to_string();
    logs.filter_bar = None;
    logs.refilter();
}

/// Type `c` into the search or the filter bar; false when neither takes text now.
pub fn type_char(state: &mut State, layer: Layer, c: char) -> bool {
    let page = page(state);
    let logs = &mut state.logs;
    match layer {
        Layer::LogSearch => {
            logs.search.text.push(c);
            logs.search_incrementally(page);
            true
        }
        Layer::LogFilter => match &mut logs.filter_bar {
            Some(bar) => {
                field_text(bar).push(c);
                bar.error = None;
                true
            }
            None => false,
        },
        _ => false,
    }
}
