//! The Alerts view: every alert in one table — firing first by severity and age, then
//! acknowledged and silenced, resolved dimmed at the bottom — with a detail pane for the
//! selected alert. Only the rows that fit are built.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{
    Block, Borders, Cell, HighlightSpacing, Padding, Paragraph, Row, Table, TableState,
};

use crate::app::logs::LogCommand;
use crate::app::{Command, Layer, State, View};
use crate::protocol::{Alert, AlertState, Severity};
use crate::ui::format;
use crate::ui::theme::{Role, Theme};
use crate::ui::widgets::hints::{self, Keys};

const SPACING: u16 = 1;
/// The selected row's marker, ASCII so it is one column in every terminal.
const MARKER: &str = ">";
const MARKER_WIDTH: u16 = 1;
/// Rows the detail pane takes, its top border included.
const DETAIL_HEIGHT: u16 = 6;
/// The detail pane is shown only when at least this many rows are left for the table.
const MIN_TABLE_ROWS: u16 = 6;

/// Column widths for a body `width` columns wide: severity, state, app, summary, age, runbook.
/// The summary takes what is left; the runbook column goes first when narrow.
fn widths(width: u16) -> [u16; 6] {
    let wide = width >= 120;
    let app = if wide { 20 } else { 12 };
    let mut runbook = if wide { 20 } else { 12 };
    let fixed = |runbook: u16| 3 + 8 + app + 6 + runbook + SPACING * 5;
    if width < fixed(runbook) + 20 {
        runbook = 0;
    }
    let summary = width.saturating_sub(fixed(runbook));
    [3, 8, app, summary, 6, runbook]
}

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    if area.height == 0 {
        return;
    }
    if state.alerts_view.order.is_empty() {
        render_empty(state, theme, frame, area);
        return;
    }
    let detail = if area.height >= DETAIL_HEIGHT + MIN_TABLE_ROWS {
        DETAIL_HEIGHT
    } else {
        0
    };
    let [table_area, detail_area] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(detail)]).areas(area);
    render_table(state, theme, frame, table_area);
    if detail > 0
        && let Some(alert) = state.selected_alert()
    {
        render_detail(state, alert, theme, frame, detail_area);
    }
}

fn render_table(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let w = widths(area.width.saturating_sub(MARKER_WIDTH));
    let titles = ["SEV", "STATE", "APP", "SUMMARY", "AGE", "RUNBOOK"];
    let header = Row::new(
        titles
            .iter()
            .zip(w)
            .filter(|(_, width)| *width > 0)
            .map(|(t, _)| Cell::from(*t)),
    )
    .style(theme.style(Role::ColumnHeader));
    let body_rows = usize::from(area.height.saturating_sub(1));
    let view = &state.alerts_view;
    let selected = view.selected_index().unwrap_or(0);
    let offset = selected.saturating_sub(body_rows.saturating_sub(1));
    let rows: Vec<Row> = view
        .order
        .iter()
        .enumerate()
        .skip(offset)
        .take(body_rows)
        .filter_map(|(i, id)| state.core.alerts.get(id).map(|a| (i, a)))
        .map(|(i, a)| build_row(a, &w, state.core.now, theme, i == selected))
        .collect();
    let constraints: Vec<Constraint> = w
        .iter()
        .filter(|width| **width > 0)
        .map(|width| Constraint::Length(*width))
        .collect();
    let table = Table::new(rows, constraints)
        .header(header)
        .column_spacing(SPACING)
        .highlight_symbol(MARKER)
        .highlight_spacing(HighlightSpacing::Always)
        .row_highlight_style(theme.style(Role::Selection));
    let mut table_state = TableState::default().with_selected(Some(selected - offset));
    frame.render_stateful_widget(table, area, &mut table_state);
}

pub fn severity_role(s: Severity) -> Role {
    match s {
        Severity::P0 | Severity::P1 => Role::AlertCritical,
        Severity::P2 | Severity::P3 => Role::AlertWarning,
    }
}

fn state_label(s: AlertState) -> (&'static str, Role) {
    match s {
        AlertState::Firing => ("FIRING", Role::AlertCritical),
        AlertState::Acknowledged => ("ACKED", Role::Accent),
        AlertState::Silenced => ("SILENCED", Role::Muted),
        AlertState::Resolved => ("RESOLVED", Role::Muted),
    }
}

/// Time since `since`, short: `45s`, `12m`, `3h05m`, `2d3h`.
pub fn age(now: DateTime<Utc>, since: DateTime<Utc>) -> String {
    crate::duration::age(crate::duration::clamp((now - since).num_seconds()))
}

fn build_row<'a>(
    a: &'a Alert,
    w: &[u16; 6],
    now: DateTime<Utc>,
    theme: &Theme,
    selected: bool,
) -> Row<'a> {
    let resolved = a.state == AlertState::Resolved;
    let role = |r: Role| theme.cell(if resolved { Role::Muted } else { r }, selected);
    let (label, label_role) = state_label(a.state);
    let fit = |text: &str, width: u16| format::truncate(text, usize::from(width));
    let runbook = a.runbook.as_deref().unwrap_or("—");
    let cells: [(String, Style); 6] = [
        (format!("{:?}", a.severity), role(severity_role(a.severity))),
        (label.to_string(), role(label_role)),
        (fit(&a.app, w[2]), role(Role::Text)),
        match a.stale_since {
            // The source cannot be read: say so before the summary, with the data's age.
            Some(t) => (
                fit(&format!("(stale {}) {}", age(now, t), a.summary), w[3]),
                role(Role::Notice),
            ),
            None => (fit(&a.summary, w[3]), role(Role::Text)),
        },
        (age(now, a.started_at), role(Role::Muted)),
        (fit(runbook, w[5]), role(Role::Muted)),
    ];
    Row::new(
        cells
            .into_iter()
            .zip(w)
            .filter(|(_, width)| **width > 0)
            .map(|((text, style), _)| Cell::from(Text::styled(text, style))),
    )
}

fn render_detail(state: &State, a: &Alert, theme: &Theme, frame: &mut Frame, area: Rect) {
    let muted = theme.style(Role::Muted);
    let text = theme.style(Role::Text);
    let width = usize::from(area.width.saturating_sub(2)); // the padding
    let block = Block::default()
        .borders(Borders::TOP)
        .padding(Padding::horizontal(1))
        .border_style(theme.style(Role::Border))
        .title(Span::styled(
            format!(" {} · {} ", a.id, a.rule),
            theme.style(Role::DialogTitle),
        ));
    let status = match a.state {
        AlertState::Firing => format!("firing since {} UTC", format::clock(a.started_at)),
        AlertState::Acknowledged => format!(
            "acknowledged by {}",
            a.acknowledged_by.as_deref().unwrap_or("someone")
        ),
        AlertState::Silenced => match a.silenced_until {
            Some(t) => format!("silenced until {} UTC", format::clock(t)),
            None => "silenced".into(),
        },
        AlertState::Resolved => match a.resolved_at {
            Some(t) => format!("resolved at {} UTC", format::clock(t)),
            None => "resolved".into(),
        },
    };
    let mut status_line = vec![Span::styled(status, text)];
    if let Some(c) = a.comment.as_deref().filter(|c| !c.is_empty()) {
        status_line.push(Span::styled(format!(" — “{c}”"), muted));
    }
    if let Some(t) = a.stale_since {
        status_line.push(Span::styled(
            format!(
                " — stale: the alert source last answered {} ago",
                age(state.core.now, t)
            ),
            theme.style(Role::Notice),
        ));
    }
    let runbook = match (&a.runbook, &state.alerts_view.note) {
        (Some(r), Some(note)) if note.runbook == *r => Line::styled(
            format!(
                "runbook {r}: opened for {} ({} opens it again)",
                note.app,
                hints::key(&state.core.keymap, Layer::Alerts, Command::OpenRunbook)
            ),
            theme.style(Role::Accent),
        ),
        (Some(r), _) => Line::from(vec![
            Span::styled("runbook ", muted),
            Span::styled(r.as_str(), text),
        ]),
        (None, _) => Line::styled("no runbook for this rule", muted),
    };
    let lines = vec![
        Line::styled(format::truncate(&a.summary, width), text),
        Line::from(status_line),
        runbook,
        hints(state, theme, width),
    ];
    frame.render_widget(Paragraph::new(Text::from(lines)).block(block), area);
}

fn hints<'a>(state: &State, theme: &Theme, width: usize) -> Line<'a> {
    let first = |cmd| [Keys::First(cmd)];
    // On a silenced alert the same key ends the silence.
    let silenced = state
        .selected_alert()
        .is_some_and(|a| a.state == AlertState::Silenced);
    let pairs: [hints::Hint; 8] = [
        (&first(Command::OpenRunbook), "runbook"),
        (&first(Command::Logs(LogCommand::OpenLogs)), "logs"),
        (&first(Command::JumpToApp), "app"),
        (&first(Command::Acknowledge), "ack"),
        (
            &first(Command::OpenSilence),
            if silenced { "unsilence" } else { "silence" },
        ),
        (&first(Command::OpenRollback), "roll back"),
        (&first(Command::OpenCommand), "command"),
        (&first(Command::Back), "back"),
    ];
    let mut spans = Vec::new();
    let mut room = width;
    if state.core.readonly {
        const READONLY: &str = "READ-ONLY: no ack or silence  ";
        spans.push(Span::styled(READONLY, theme.style(Role::Notice)));
        room = room.saturating_sub(format::width(READONLY));
    }
    spans.extend(hints::spans_within(
        &state.core.keymap,
        Layer::Alerts,
        &pairs,
        "  ",
        theme,
        room,
    ));
    Line::from(spans)
}

fn render_empty(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let filter = state
        .filter_of(View::Alerts)
        .map_or("", |f| f.text.as_str());
    let text = if state.core.alerts_loading() {
        "Loading alerts …".to_string()
    } else if !state.core.alerts.is_empty() && !filter.is_empty() {
        let keymap = &state.core.keymap;
        let hidden = state.core.alerts.len();
        hints::filter_hides_all(keymap, Layer::Alerts, "alert", filter, hidden)
    } else {
        "No alerts — nothing is firing.".to_string()
    };
    let top = area.height.saturating_sub(1) / 2;
    let mut lines = vec![Line::default(); usize::from(top)];
    lines.push(Line::from(text));
    lines.push(Line::styled(
        format!(
            "{} back to the overview",
            hints::key(&state.core.keymap, Layer::Alerts, Command::Back)
        ),
        theme.style(Role::Muted),
    ));
    frame.render_widget(
        Paragraph::new(Text::from(lines))
            .style(theme.style(Role::Muted))
            .centered(),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_every_width_from_60_to_200() {
        for width in 60..=200u16 {
            let w = widths(width);
            let used: u16 = w.iter().sum::<u16>() + SPACING * 5;
            assert!(used <= width, "{width}: {used}");
            assert!(w[3] >= 20, "{width}: summary {}", w[3]);
        }
        assert_eq!(widths(79)[5], 12);
        assert_eq!(widths(50)[5], 0);
    }

    #[test]
    fn ages_are_short() {
        let t = DateTime::<Utc>::UNIX_EPOCH;
        let later = |s| t + chrono::Duration::seconds(s);
        assert_eq!(age(later(45), t), "45s");
        assert_eq!(age(later(12 * 60 + 5), t), "12m");
        assert_eq!(age(later(3 * 3600 + 5 * 60), t), "3h05m");
        assert_eq!(age(later(2 * 86_400 + 3 * 3600), t), "2d3h");
        assert_eq!(age(t, later(10)), "0s");
    }
}
