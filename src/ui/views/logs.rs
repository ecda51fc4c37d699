//! The Logs view: a header with scope, follow/pause state and every kind of loss, the lines
//! that fit (built bottom-up from the view's bottom line, nothing more), and a hint or search
//! line. Widths are display widths, so CJK text is cut and wrapped without garbling.

use std::borrow::Cow;

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use unicode_width::UnicodeWidthChar;

use crate::app::logs::LogCommand;
use crate::app::logs::{LogEntry, LogItem, LogView, TimestampMode, thousands};
use crate::app::{Command, Keymap, Layer, State};
use crate::protocol::Level;
use crate::ui::format;
use crate::ui::theme::{Role, Theme};
use crate::ui::widgets::hints::{self, Keys};

/// Below this width the pod column shows only the pod's own suffix.
const WIDE: u16 = 100;
/// Indent of continuation rows (stack trace lines, wrapped text, pretty fields).
const INDENT: usize = 2;

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    if area.height == 0 {
        return;
    }
    let logs = &state.logs;
    let loss = loss_line(logs, usize::from(area.width));
    let header_rows = 1 + u16::from(loss.is_some());
    let hint_rows = u16::from(area.height > header_rows + 1);
    let mut y = area.y;
    let row = |y: u16| Rect {
        y,
        height: 1,
        ..area
    };

    frame.render_widget(header(state, theme, area.width), row(y));
    y += 1;
    if let Some(text) = loss
        && y < area.bottom()
    {
        let text = format::truncate(&text, usize::from(area.width));
        frame.render_widget(
            Paragraph::new(text).style(theme.style(Role::Notice)),
            row(y),
        );
        y += 1;
    }
    let body = Rect {
        y,
        height: area.bottom().saturating_sub(y + hint_rows),
        ..area
    };
    render_lines(state, theme, frame, body);
    if hint_rows == 1 {
        frame.render_widget(
            hint(logs, &state.core.keymap, theme, area.width),
            row(area.bottom() - 1),
        );
    }
}

/// "shop-cart · 12,345 lines · ● following", filters and display modes on the right.
fn header(state: &State, theme: &Theme, width: u16) -> Paragraph<'static> {
    let logs = &state.logs;
    let scope = match logs.filter.apps.as_slice() {
        [] => "all apps".to_string(),
        [one] => one.to_string(),
        many => format!("{} apps", many.len()),
    };
    let mut left = vec![
        Span::styled(format!(" {scope}"), theme.style(Role::Accent)),
        Span::styled(
            format!(" · {} lines ", thousands(logs.shown_len() as u64)),
            theme.style(Role::Muted),
        ),
    ];
    match logs.paused {
        None => left.push(Span::styled(" ● following ", theme.style(Role::Live))),
        Some(_) => left.push(Span::styled(
            format!(
                " ‖ paused · {} new · {} follows ",
                thousands(logs.waiting() as u64),
                hints::key(
                    &state.core.keymap,
                    Layer::Logs,
                    Command::Logs(LogCommand::Follow)
                )
            ),
            theme.style(Role::Reconnecting),
        )),
    }
    let mut right = Vec::new();
    if let Some(level) = logs.filter.min_level {
        right.push(format!("≥{}", level.as_str()));
    }
    if logs.filter.regex.is_some() {
        right.push(format!("/{}/", logs.filter.pattern()));
    }
    if !logs.filter.pod.is_empty() {
        right.push(format!("pod~{}", logs.filter.pod));
    }
    if logs.wrap {
        right.push("wrap".into());
    }
    right.push(match logs.timestamps {
        TimestampMode::Utc => "UTC".into(),
        TimestampMode::Local => format!("local {}", logs.local_offset),
        TimestampMode::Off => "no time".into(),
    });
    let left_line = Line::from(left);
    let room = usize::from(width).saturating_sub(left_line.width() + 1);
    let right = format::truncate(&right.join(" · "), room);
    let pad = room.saturating_sub(Line::from(right.as_str()).width());
    let mut spans = left_line.spans;
    spans.push(Span::raw(" ".repeat(pad)));
    spans.push(Span::styled(right, theme.style(Role::Muted)));
    spans.push(Span::raw(" "));
    Paragraph::new(Line::from(spans))
}

/// Every loss in one line, or `None` when nothing was lost: the full wording when it fits
/// `width`, a shorter one when not.
fn loss_line(logs: &LogView, width: usize) -> Option<String> {
    let mut parts: Vec<(String, String)> = Vec::new();
    let fallen = logs.buffer.fallen_off();
    if fallen > 0 {
        let cap = short_count(logs.buffer.capacity());
        parts.push((
            format!(
                "{} older lines dropped from the {cap} buffer",
                thousands(fallen)
            ),
            format!("{} fell off ({cap} buffer)", thousands(fallen)),
        ));
    }
    if logs.dropped > 0 {
        parts.push((
            format!("{} lines dropped by the gateway", thousands(logs.dropped)),
            format!("{} dropped by gateway", thousands(logs.dropped)),
        ));
    }
    if logs.gaps > 0 {
        let s = if logs.gaps == 1 { "" } else { "s" };
        let lost = thousands(logs.gap_lines);
        parts.push((
            format!("{} gap{s} ({lost} lines lost)", logs.gaps),
            format!("{} gap{s} ({lost} lost)", logs.gaps),
        ));
    }
    if parts.is_empty() {
        return None;
    }
    let long: Vec<&str> = parts.iter().map(|p| p.0.as_str()).collect();
    let long = format!(" ⚠ {}", long.join(" · "));
    if Line::from(long.as_str()).width() <= width {
        return Some(long);
    }
    let short: Vec<&str> = parts.iter().map(|p| p.1.as_str()).collect();
    Some(format!(" ⚠ {}", short.join(" · ")))
}

/// `100000` as `100k`, `1000000` as `1M`.
fn short_count(n: usize) -> String {
    match n {
        n if n >= 1_000_000 && n.is_multiple_of(1_000_000) => format!("{}M", n / 1_000_000),
        n if n >= 1000 && n.is_multiple_of(1000) => format!("{}k", n / 1000),
        n => thousands(n as u64),
    }
}

/// The bottom line: the search being typed, the search in force, or key hints.
fn hint(logs: &LogView, keymap: &Keymap, theme: &Theme, width: u16) -> Paragraph<'static> {
    let width = usize::from(width);
    let log = |cmd| Keys::First(Command::Logs(cmd));
    let search = &logs.search;
    let line = if search.editing || search.regex.is_some() || search.error.is_some() {
        let mut spans = vec![Span::styled(
            format!("/{}", search.text),
            theme.style(Role::Accent),
        )];
        if search.editing {
            spans.push(Span::styled("▏", theme.style(Role::Accent)));
        }
        match (&search.error, search.editing) {
            (Some(err), _) => {
                spans.push(Span::styled(format!("  {err}"), theme.style(Role::Error)))
            }
            (None, true) => spans.push(Span::styled(
                format!(
                    "  {}",
                    hints::text(
                        keymap,
                        Layer::LogSearch,
                        &[
                            (&[log(LogCommand::SearchSubmit)], "keeps"),
                            (&[log(LogCommand::SearchCancel)], "cancels"),
                        ],
                        " · ",
                    )
                ),
                theme.style(Role::Muted),
            )),
            (None, false) => spans.push(Span::styled(
                format!(
                    "  {}",
                    hints::text(
                        keymap,
                        Layer::Logs,
                        &[
                            (&[log(LogCommand::NextMatch)], "newer"),
                            (&[log(LogCommand::PrevMatch)], "older"),
                            (&[log(LogCommand::CloseLogs)], "clears"),
                        ],
                        " · ",
                    )
                ),
                theme.style(Role::Muted),
            )),
        }
        Line::from(spans)
    } else {
        let text = hints::text(
            keymap,
            Layer::Logs,
            &[
                // The common task first: errors only, then from error to error.
                (&[log(LogCommand::MinLevelError)], "errors only"),
                (
                    &[log(LogCommand::NextError), log(LogCommand::PrevError)],
                    "next/prev error",
                ),
                (&[log(LogCommand::Follow)], "follow"),
                (&[log(LogCommand::StartSearch)], "search"),
                (&[log(LogCommand::OpenLogFilter)], "filter"),
                (&[log(LogCommand::CycleLevel)], "level"),
                (&[log(LogCommand::ToggleWrap)], "wrap"),
                (&[log(LogCommand::SaveLogs)], "save"),
                (&[Keys::First(Command::ToggleHelp)], "help"),
            ],
            " · ",
        );
        Line::styled(format::truncate(&text, width), theme.style(Role::Muted))
    };
    Paragraph::new(line)
}

fn render_lines(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    if area.height == 0 {
        return;
    }
    let logs = &state.logs;
    let Some(bottom) = logs.bottom_index() else {
        let why = if logs.buffer.is_empty() {
            "Waiting for log lines …".to_string()
        } else {
            "No line matches the filter — c clears it".to_string()
        };
        let top = area.height / 2;
        let rect = Rect {
            y: area.y + top,
            height: area.height - top,
            ..area
        };
        frame.render_widget(
            Paragraph::new(why)
                .style(theme.style(Role::Muted))
                .centered(),
            rect,
        );
        return;
    };
    let height = usize::from(area.height);
    let ctx = RowContext {
        theme,
        width: usize::from(area.width),
        logs,
        show_app: logs.filter.apps.len() != 1,
        short_pod: area.width < WIDE,
    };
    // Newest first, until the screen is full: only what shows is ever built.
    let mut blocks: Vec<Vec<Line<'static>>> = Vec::new();
    let mut rows = 0;
    for i in (0..=bottom).rev() {
        let Some((pos, item)) = logs.shown_item(i) else {
            continue;
        };
        let lines = ctx.rows(pos, item);
        rows += lines.len();
        blocks.push(lines);
        if rows >= height {
            break;
        }
    }
    let mut lines: Vec<Line<'static>> = blocks.into_iter().rev().flatten().collect();
    let extra = lines.len().saturating_sub(height);
    lines.drain(..extra);
    // Paused near the oldest lines held (or after its bottom line fell off the buffer): fill
    // the rest of the screen with the lines after it rather than leave it blank.
    let mut next = bottom + 1;
    while lines.len() < height
        && logs.paused.is_some()
        && let Some((pos, item)) = logs.shown_item(next)
    {
        lines.extend(ctx.rows(pos, item));
        next += 1;
    }
    lines.truncate(height);
    frame.render_widget(Paragraph::new(lines), area);
}

/// What building one item's rows needs.
struct RowContext<'a> {
    theme: &'a Theme,
    width: usize,
    logs: &'a LogView,
    show_app: bool,
    short_pod: bool,
}

type Segment = (Cow<'static, str>, Style);

impl RowContext<'_> {
    /// The rows of the item at `pos`, highlighted when a jump landed on it.
    fn rows(&self, pos: u64, item: &LogItem) -> Vec<Line<'static>> {
        let mut rows = self.item_rows(item);
        if self.logs.focus == Some(pos) {
            for l in &mut rows {
                l.style = self.theme.style(Role::Selection);
            }
        }
        rows
    }

    fn item_rows(&self, item: &LogItem) -> Vec<Line<'static>> {
        match item {
            LogItem::Marker(m) => fit(
                &[(m.describe().into(), self.theme.style(Role::Notice))],
                self.width,
                false,
            ),
            LogItem::Line(e) => self.line_rows(e),
        }
    }

    fn line_rows(&self, e: &LogEntry) -> Vec<Line<'static>> {
        let t = self.theme;
        let logs = self.logs;
        let mut head: Vec<Segment> = Vec::new();
        if let Some(ts) = self.timestamp(e.ts) {
            head.push((format!("{ts} ").into(), t.style(Role::Muted)));
        }
        if self.show_app {
            head.push((format!("{} ", e.app).into(), t.style(Role::Accent)));
        }
        head.push((format!("{} ", self.pod(e)).into(), t.style(Role::Muted)));
        let role = level_role(e.level);
        head.push((level_label(e.level).into(), t.style(role)));
        head.push((" ".into(), Style::default()));

        let text_style = if e.level >= Level::Warn {
            t.style(role)
        } else {
            t.style(Role::Text)
        };
        let mut message_lines = e.message.lines();
        let first = message_lines.next().unwrap_or("");
        head.extend(self.highlighted(first, text_style));
        let more: Vec<&str> = message_lines.collect();

        let inline_fields = !logs.pretty_fields && !e.fields.is_empty();
        if !logs.wrap {
            if !more.is_empty() {
                head.push((" …".into(), t.style(Role::Muted)));
            }
            if inline_fields {
                head.push((inline(&e.fields).into(), t.style(Role::Muted)));
            }
            let mut rows = fit(&head, self.width, false);
            if logs.pretty_fields {
                rows.extend(self.field_rows(e));
            }
            return rows;
        }
        if inline_fields && more.is_empty() {
            head.push((inline(&e.fields).into(), t.style(Role::Muted)));
        }
        let mut rows = fit(&head, self.width, true);
        for l in &more {
            let mut segs: Vec<Segment> = vec![(" ".repeat(INDENT).into(), Style::default())];
            segs.extend(self.highlighted(l, text_style));
            rows.extend(fit(&segs, self.width, true));
        }
        if inline_fields && !more.is_empty() {
            let segs: Vec<Segment> = vec![(
                format!("{}{}", " ".repeat(INDENT - 1), inline(&e.fields)).into(),
                t.style(Role::Muted),
            )];
            rows.extend(fit(&segs, self.width, true));
        }
        if logs.pretty_fields {
            rows.extend(self.field_rows(e));
        }
        rows
    }

    /// Fields as an indented block; JSON values pretty-printed over several rows.
    fn field_rows(&self, e: &LogEntry) -> Vec<Line<'static>> {
        let muted = self.theme.style(Role::Muted);
        let text = self.theme.style(Role::Text);
        let pad = " ".repeat(INDENT * 2);
        let mut rows = Vec::new();
        for (k, v) in &e.fields {
            let value = pretty_json(v).unwrap_or_else(|| v.clone());
            let mut lines = value.lines();
            let first = lines.next().unwrap_or("");
            let segs: Vec<Segment> = vec![
                (format!("{pad}{k}: ").into(), muted),
                (first.to_string().into(), text),
            ];
            rows.extend(fit(&segs, self.width, self.logs.wrap));
            for l in lines {
                let segs: Vec<Segment> = vec![(format!("{pad}{l}").into(), text)];
                rows.extend(fit(&segs, self.width, self.logs.wrap));
            }
        }
        rows
    }

    fn timestamp(&self, ts: DateTime<Utc>) -> Option<String> {
        match self.logs.timestamps {
            TimestampMode::Utc => Some(ts.format("%H:%M:%S%.3f").to_string()),
            TimestampMode::Local => Some(
                ts.with_timezone(&self.logs.local_offset)
                    .format("%H:%M:%S%.3f")
                    .to_string(),
            ),
            TimestampMode::Off => None,
        }
    }

    /// The pod without its app prefix (`7f9c4-x2lqp`), or just its own suffix when narrow.
    fn pod<'e>(&self, e: &'e LogEntry) -> &'e str {
        let pod: &str = &e.pod;
        let own = pod
            .strip_prefix(&*e.app)
            .and_then(|r| r.strip_prefix('-'))
            .filter(|r| !r.is_empty())
            .unwrap_or(pod);
        if self.short_pod {
            own.rsplit('-')
                .next()
                .filter(|s| !s.is_empty())
                .unwrap_or(own)
        } else {
            own
        }
    }

    /// `text` split into plain and search-match segments.
    fn highlighted(&self, text: &str, style: Style) -> Vec<Segment> {
        let Some(re) = &self.logs.search.regex else {
            return vec![(text.to_string().into(), style)];
        };
        let hit = self.theme.style(Role::SearchMatch);
        let mut out = Vec::new();
        let mut at = 0;
        for m in re.regex().find_iter(text) {
            if m.start() == m.end() {
                continue;
            }
            if m.start() > at {
                out.push((text[at..m.start()].to_string().into(), style));
            }
            out.push((m.as_str().to_string().into(), hit));
            at = m.end();
        }
        if at < text.len() {
            out.push((text[at..].to_string().into(), style));
        }
        out
    }
}

fn level_role(level: Level) -> Role {
    match level {
        Level::Error => Role::Error,
        Level::Warn => Role::Notice,
        Level::Info => Role::Healthy,
        Level::Debug | Level::Trace => Role::Muted,
    }
}

fn level_label(level: Level) -> &'static str {
    match level {
        Level::Error => "ERROR",
        Level::Warn => "WARN ",
        Level::Info => "INFO ",
        Level::Debug => "DEBUG",
        Level::Trace => "TRACE",
    }
}

fn inline(fields: &[(String, String)]) -> String {
    let mut out = String::new();
    for (k, v) in fields {
        out.push(' ');
        out.push_str(k);
        out.push('=');
        out.push_str(v);
    }
    out
}

/// A JSON object or array value, pretty-printed; `None` for anything else.
fn pretty_json(value: &str) -> Option<String> {
    let v = value.trim_start();
    if !(v.starts_with('{') || v.starts_with('[')) {
        return None;
    }
    let parsed: serde_json::Value = serde_json::from_str(value).ok()?;
    serde_json::to_string_pretty(&parsed).ok()
}

/// A character as drawn: tabs become a space, other control characters are dropped.
fn drawn(c: char) -> Option<(char, usize)> {
    match c {
        '\t' => Some((' ', 1)),
        c if c.is_control() => None,
        c => Some((c, c.width().unwrap_or(0))),
    }
}

/// Lay styled segments out in rows of at most `width` columns: cut with `…` (one row), or
/// wrapped onto as many rows as it takes, continuation rows indented. Wide characters are
/// never split.
fn fit(segments: &[Segment], width: usize, wrap: bool) -> Vec<Line<'static>> {
    if width <= INDENT {
        return vec![Line::default()];
    }
    let total: usize = segments
        .iter()
        .flat_map(|(t, _)| t.chars())
        .filter_map(drawn)
        .map(|(_, w)| w)
        .sum();
    let cut = !wrap && total > width;
    let limit = if cut { width - 1 } else { width };
    let mut rows: Vec<Vec<Span<'static>>> = vec![Vec::new()];
    let mut used = 0;
    'segments: for (text, style) in segments {
        let mut piece = String::new();
        for (c, w) in text.chars().filter_map(drawn) {
            if used + w > limit {
                if let Some(row) = rows.last_mut() {
                    row.push(Span::styled(std::mem::take(&mut piece), *style));
                }
                if !wrap {
                    break 'segments;
                }
                rows.push(vec![Span::raw(" ".repeat(INDENT))]);
                used = INDENT;
            }
            piece.push(c);
            used += w;
        }
        if let Some(row) = rows.last_mut()
            && !piece.is_empty()
        {
            row.push(Span::styled(piece, *style));
        }
    }
    if cut && let Some(row) = rows.last_mut() {
        row.push(Span::raw("…"));
    }
    rows.into_iter().map(Line::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(lines: &[Line]) -> Vec<String> {
        lines.iter().map(|l| l.to_string()).collect()
    }

    #[test]
    fn fit_cuts_and_wraps_by_display_width() {
        let segs: Vec<Segment> = vec![("购物车下单失败 order".into(), Style::default())];
        assert_eq!(texts(&fit(&segs, 8, false)), vec!["购物车…"]);
        assert_eq!(
            texts(&fit(&segs, 8, true)),
            vec!["购物车下", "  单失败", "   order"]
        );
        assert_eq!(texts(&fit(&segs, 30, false)), vec!["购物车下单失败 order"]);
        // Exactly the width: no ellipsis.
        let exact: Vec<Segment> = vec![("abcd".into(), Style::default())];
        assert_eq!(texts(&fit(&exact, 4, false)), vec!["abcd"]);
    }

    #[test]
    fn short_counts() {
        assert_eq!(short_count(100_000), "100k");
        assert_eq!(short_count(1_000_000), "1M");
        assert_eq!(short_count(1234), "1,234");
    }
}
