//! The log view's state: the buffer, the filtered index kept current as lines arrive, follow
//! or pause, search, jumps and display toggles.
//!
//! Positions are absolute buffer positions (see [`LogBuffer`]); `shown` lists the positions
//! that pass the filter, oldest first, and is only rebuilt when the filter changes.

use std::collections::VecDeque;

use chrono::{DateTime, FixedOffset, Offset, Utc};
use std::ops::Range;

use super::buffer::{LogBuffer, LogEntry, LogItem, LogMarker};
use super::filter::{LogFilter, compile};
use crate::app::core::pattern::Pattern;
use crate::protocol::{Level, LogLine, Seq};

/// How timestamps are shown, in the order `t` cycles through them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum TimestampMode {
    #[default]
    Utc,
    Local,
    Off,
}

impl TimestampMode {
    pub fn next(self) -> Self {
        match self {
            TimestampMode::Utc => TimestampMode::Local,
            TimestampMode::Local => TimestampMode::Off,
            TimestampMode::Off => TimestampMode::Utc,
        }
    }
}

/// Frozen view: the line at the bottom of the screen, and where the buffer ended at the pause.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Paused {
    /// Absolute position of the bottom line shown.
    pub bottom: u64,
    /// `end_pos()` of the buffer when the view paused: lines from here on are waiting.
    pub head: u64,
}

/// The `/` search.
#[derive(Clone, Debug, Default)]
pub struct LogSearch {
    pub text: String,
    /// Keys are being typed into the search.
    pub editing: bool,
    /// The last pattern that compiled; highlights and `n`/`N` use it.
    pub regex: Option<Pattern>,
    /// Why `text` does not compile, shown under the lines.
    pub error: Option<String>,
}

/// Which field of the filter bar has the cursor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FilterField {
    #[default]
    Pattern,
    Pod,
}

/// The `F` filter bar: edits a copy, applied on Enter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FilterBar {
    pub pattern: String,
    pub pod: String,
    pub field: FilterField,
    /// Why the last Enter was refused; the filter in force stays as it was.
    pub error: Option<String>,
}

/// Shown lines searched per step of a jump: a jump to a near match stops early.
const SEARCH_CHUNK: usize = 4096;

/// Fixed facts for the log view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LogsConfig {
    /// Lines (and markers) held; older ones fall off.
    pub capacity: usize,
    /// The operator's UTC offset, for local timestamps; read at start-up by the terminal side.
    pub local_offset: FixedOffset,
}

impl Default for LogsConfig {
    fn default() -> Self {
        LogsConfig {
            capacity: super::buffer::DEFAULT_CAPACITY,
            local_offset: Utc.fix(),
        }
    }
}

/// Everything the log view knows.
#[derive(Clone, Debug)]
pub struct LogView {
    pub buffer: LogBuffer,
    pub filter: LogFilter,
    /// Positions passing the filter, oldest first.
    shown: VecDeque<u64>,
    /// `None` while following the tail.
    pub paused: Option<Paused>,
    /// The line a search or error jump landed on, highlighted.
    pub focus: Option<u64>,
    pub search: LogSearch,
    pub filter_bar: Option<FilterBar>,
    pub wrap: bool,
    pub timestamps: TimestampMode,
    /// Fields as an indented block under the line instead of `key=value` after it.
    pub pretty_fields: bool,
    pub local_offset: FixedOffset,
    /// Lines the gateway reported dropped.
    pub dropped: u64,
    /// Gap markers seen, and the lines they cover.
    pub gaps: u64,
    pub gap_lines: u64,
}

impl LogView {
    pub fn new(config: LogsConfig) -> Self {
        LogView {
            buffer: LogBuffer::new(config.capacity),
            filter: LogFilter::default(),
            shown: VecDeque::new(),
            paused: None,
            focus: None,
            search: LogSearch::default(),
            filter_bar: None,
            wrap: false,
            timestamps: TimestampMode::default(),
            pretty_fields: false,
            local_offset: config.local_offset,
            dropped: 0,
            gaps: 0,
            gap_lines: 0,
        }
    }

    // ---- ingest -------------------------------------------------------------------------

    /// Add one line from the stream.
    pub fn push_line(&mut self, seq: Seq, ts: DateTime<Utc>, app: &str, line: LogLine) {
        let entry = self.buffer.entry(seq, ts, app, line);
        self.push(LogItem::Line(entry));
    }

    /// The gateway dropped `count` lines: say so where they would have been.
    pub fn push_dropped(&mut self, count: u64, at: DateTime<Utc>) {
        self.dropped += count;
        self.push(LogItem::Marker(LogMarker::Dropped { count, at }));
    }

    /// Lines `from..=to` cannot be replayed: say so where they would have been.
    pub fn push_gap(&mut self, from: Seq, to: Seq, at: DateTime<Utc>) {
        self.gaps += 1;
        self.gap_lines += to.saturating_sub(from).saturating_add(1);
        self.push(LogItem::Marker(LogMarker::Gap { from, to, at }));
    }

    fn push(&mut self, item: LogItem) {
        let admitted = self.filter.admits(&item);
        let first_before = self.buffer.first_pos();
        let pos = self.buffer.push(item);
        if self.buffer.first_pos() != first_before && self.shown.front() == Some(&first_before) {
            self.shown.pop_front();
        }
        if admitted {
            self.shown.push_back(pos);
        }
    }

    // ---- filtered index -----------------------------------------------------------------

    /// Rebuild the filtered index after the filter changed.
    pub fn refilter(&mut self) {
        self.shown.clear();
        let filter = &self.filter;
        self.shown.extend(
            self.buffer
                .iter()
                .filter(|(_, item)| filter.admits(item))
                .map(|(pos, _)| pos),
        );
        if self.focus.is_some_and(|f| self.index_of(f).is_none()) {
            self.focus = None;
        }
    }

    /// Lines (and markers) passing the filter.
    pub fn shown_len(&self) -> usize {
        self.shown.len()
    }

    /// Absolute position of the `i`-th shown item.
    pub fn shown_pos(&self, i: usize) -> Option<u64> {
        self.shown.get(i).copied()
    }

    /// The `i`-th shown item.
    pub fn shown_item(&self, i: usize) -> Option<(u64, &LogItem)> {
        let pos = self.shown_pos(i)?;
        Some((pos, self.buffer.get(pos)?))
    }

    /// All shown items, oldest first.
    pub fn shown_items(&self) -> impl Iterator<Item = &LogItem> {
        self.shown.iter().filter_map(|&p| self.buffer.get(p))
    }

    fn index_of(&self, pos: u64) -> Option<usize> {
        self.shown.binary_search(&pos).ok()
    }

    /// Index of the last shown item at or before `pos` (the first one if all are later).
    fn index_at_or_before(&self, pos: u64) -> Option<usize> {
        if self.shown.is_empty() {
            return None;
        }
        Some(self.shown.partition_point(|&p| p <= pos).saturating_sub(1))
    }

    /// Index of the shown item at the bottom of the screen.
    pub fn bottom_index(&self) -> Option<usize> {
        match self.paused {
            None => self.shown.len().checked_sub(1),
            Some(p) => self.index_at_or_before(p.bottom),
        }
    }

    /// Shown lines that arrived since the view paused.
    pub fn waiting(&self) -> usize {
        match self.paused {
            None => 0,
            Some(p) => self.shown.len() - self.shown.partition_point(|&s| s < p.head),
        }
    }

    // ---- moving -------------------------------------------------------------------------

    /// Freeze the view where it is (a no-op when already paused).
    pub fn pause(&mut self) {
        if self.paused.is_some() {
            return;
        }
        let bottom = self
            .shown
            .back()
            .copied()
            .unwrap_or_else(|| self.buffer.end_pos().saturating_sub(1));
        self.paused = Some(Paused {
            bottom,
            head: self.buffer.end_pos(),
        });
    }

    /// Back to following the tail: everything waiting shows.
    pub fn follow(&mut self) {
        self.paused = None;
        self.focus = None;
    }

    /// Move the bottom line by `delta` shown lines (negative is up, older). Moving up pauses;
    /// moving down onto the newest line follows again.
    pub fn scroll(&mut self, delta: isize) {
        let Some(current) = self.bottom_index() else {
            return;
        };
        let last = self.shown.len() - 1;
        let next = current.saturating_add_signed(delta).min(last);
        if next == last && delta > 0 {
            self.follow();
            return;
        }
        if next == current && self.paused.is_none() {
            return;
        }
        self.set_bottom(next);
    }

    /// Show the oldest lines held.
    pub fn scroll_to_top(&mut self) {
        if !self.shown.is_empty() {
            self.set_bottom(0);
        }
    }

    fn set_bottom(&mut self, index: usize) {
        let Some(&bottom) = self.shown.get(index) else {
            return;
        };
        self.pause();
        if let Some(p) = &mut self.paused {
            p.bottom = bottom;
        }
    }

    /// Pause with `index` focused and about `page / 2` lines below it.
    fn land_on(&mut self, index: usize, page: usize) {
        let Some(&pos) = self.shown.get(index) else {
            return;
        };
        self.focus = Some(pos);
        let below = index.saturating_add(page / 2).min(self.shown.len() - 1);
        self.set_bottom(below);
    }

    /// Where jumps start from: the focused line, else the bottom line.
    fn cursor(&self) -> Option<usize> {
        self.focus
            .and_then(|f| self.index_of(f))
            .or_else(|| self.bottom_index())
    }

    /// Index of the nearest shown item from `start` in `forward` direction (`start` itself
    /// included when `inclusive`) for which `wanted` holds.
    fn find(
        &self,
        start: usize,
        forward: bool,
        inclusive: bool,
        wanted: impl Fn(&LogEntry) -> bool,
    ) -> Option<usize> {
        let is_hit =
            |i: usize| matches!(self.shown_item(i), Some((_, LogItem::Line(e))) if wanted(e));
        if forward {
            let from = if inclusive { start } else { start + 1 };
            (from..self.shown.len()).find(|&i| is_hit(i))
        } else {
            let to = if inclusive { start + 1 } else { start };
            (0..to.min(self.shown.len())).rev().find(|&i| is_hit(i))
        }
    }

    /// Jump to the next (`forward`, newer) or previous error line. False when there is none.
    pub fn jump_to_error(&mut self, forward: bool, page: usize) -> bool {
        let Some(start) = self.cursor() else {
            return false;
        };
        match self.find(start, forward, false, |e| e.level >= Level::Error) {
            Some(i) => {
                self.land_on(i, page);
                true
            }
            None => false,
        }
    }

    /// Jump to the next (`forward`, newer) or previous search match. False when there is none.
    pub fn jump_to_match(&mut self, forward: bool, page: usize) -> bool {
        let Some(pattern) = self.search.regex.clone() else {
            return false;
        };
        let Some(start) = self.cursor() else {
            return false;
        };
        match self.find_match(start, forward, false, &pattern) {
            Some(i) => {
                self.land_on(i, page);
                true
            }
            None => false,
        }
    }

    /// After each key typed into the search: compile, and land on the newest match at or
    /// before where the operator is looking (then the oldest after it).
    pub fn search_incrementally(&mut self, page: usize) {
        if self.search.text.is_empty() {
            self.search.regex = None;
            self.search.error = None;
            return;
        }
        match compile(&self.search.text) {
            Err(e) => self.search.error = Some(e.to_string()),
            Ok(pattern) => {
                self.search.error = None;
                let hit = self.bottom_index().and_then(|s| {
                    self.find_match(s, false, true, &pattern)
                        .or_else(|| self.find_match(s, true, false, &pattern))
                });
                self.search.regex = Some(pattern);
                if let Some(i) = hit {
                    self.land_on(i, page);
                }
            }
        }
    }

    /// Like `find` for a pattern over messages, scanning batches of lines at once.
    fn find_match(
        &self,
        start: usize,
        forward: bool,
        inclusive: bool,
        pattern: &Pattern,
    ) -> Option<usize> {
        let len = self.shown.len();
        if forward {
            let mut from = if inclusive { start } else { start + 1 };
            while from < len {
                let to = (from + SEARCH_CHUNK).min(len);
                if let Some(&first) = self.matches_in(from..to, pattern).first() {
                    return Some(first);
                }
                from = to;
            }
        } else {
            let mut to = (if inclusive { start + 1 } else { start }).min(len);
            while to > 0 {
                let from = to.saturating_sub(SEARCH_CHUNK);
                if let Some(&last) = self.matches_in(from..to, pattern).last() {
                    return Some(last);
                }
                to = from;
            }
        }
        None
    }

    /// Indexes of the shown lines in `range` whose message matches, in order.
    fn matches_in(&self, range: Range<usize>, pattern: &Pattern) -> Vec<usize> {
        let lines: Vec<(usize, &str)> = range
            .filter_map(|i| match self.shown_item(i) {
                Some((_, LogItem::Line(e))) => Some((i, e.message.as_str())),
                _ => None,
            })
            .collect();
        let mut out = Vec::new();
        pattern.scan(lines.iter().map(|l| l.1), |k| {
            if let Some(&(i, _)) = lines.get(k) {
                out.push(i);
            }
        });
        out
    }

    /// How many shown lines match `pattern` (a full scan).
    pub fn count_matches(&self, pattern: &Pattern) -> usize {
        let mut n = 0;
        let messages = self.shown_items().filter_map(|item| match item {
            LogItem::Line(e) => Some(e.message.as_str()),
            LogItem::Marker(_) => None,
        });
        pattern.scan(messages, |_| n += 1);
        n
    }
}
