//! The overview: every app in one table, worst first by default, with health colours and a
//! small rps sparkline per row. Only the rows that fit are built.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Cell, HighlightSpacing, Paragraph, Row, Table, TableState};

use crate::app::logs::LogCommand;
use crate::app::{AppEntry, ClickTarget, Command, Connection, Health, Layer, SortColumn, State};
use crate::protocol::{Metric, MetricSample};
use crate::ui::format;
use crate::ui::theme::{Role, Theme};
use crate::ui::widgets::hints::{self, Keys};

/// A column of the overview table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Column {
    Name,
    /// The app's id, which `:` commands, production confirmations and runbook parameters take.
    Id,
    Region,
    Version,
    Ready,
    Rps,
    P99,
    Errors,
    Cpu,
    Alerts,
    Trend,
}

/// Columns in display order with their width (the id column's is the longest id's);
/// `drop_rank` says which go first when the terminal is narrow (1 drops first; 0 never drops).
/// The id outlives the sparkline and CPU: it is what an operator types.
fn columns(id_width: u16) -> [(Column, u16, u8); 11] {
    [
        (Column::Name, 0, 0),
        (Column::Id, id_width, 4),
        (Column::Region, 14, 1),
        (Column::Version, 9, 5),
        (Column::Ready, 6, 0),
        (Column::Rps, 6, 0),
        (Column::P99, 6, 7),
        (Column::Errors, 6, 0),
        (Column::Cpu, 4, 3),
        (Column::Alerts, 6, 6),
        (Column::Trend, 10, 2),
    ]
}

/// Widest the id column gets; a longer id is cut.
const ID_MAX: u16 = 24;

/// Narrowest the name column gets before other columns are dropped.
const NAME_MIN: u16 = 14;
/// Widest the name column gets; the rest goes to the sparkline.
const NAME_MAX: u16 = 32;
const SPACING: u16 = 1;
/// The selected row's marker, ASCII so it is one column in every terminal.
const MARKER: &str = ">";
const MARKER_WIDTH: u16 = 1;

impl Column {
    fn title(self) -> &'static str {
        match self {
            Column::Name => "APP",
            Column::Id => "ID",
            Column::Region => "REGION",
            Column::Version => "VERSION",
            Column::Ready => "READY",
            Column::Rps => "RPS",
            Column::P99 => "P99",
            Column::Errors => "ERR%",
            Column::Cpu => "CPU",
            Column::Alerts => "ALERTS",
            Column::Trend => "RPS TREND",
        }
    }

    fn sorted_by(self) -> Option<SortColumn> {
        match self {
            Column::Name => Some(SortColumn::Name),
            Column::Rps => Some(SortColumn::Rps),
            Column::P99 => Some(SortColumn::P99),
            Column::Errors => Some(SortColumn::Errors),
            Column::Cpu => Some(SortColumn::Cpu),
            Column::Alerts => Some(SortColumn::Alerts),
            _ => None,
        }
    }

    fn right_aligned(self) -> bool {
        matches!(
            self,
            Column::Ready
                | Column::Rps
                | Column::P99
                | Column::Errors
                | Column::Cpu
                | Column::Alerts
        )
    }
}

/// The columns that fit `width`, with the width each gets.
fn fit_columns(width: u16, id_width: u16) -> Vec<(Column, u16)> {
    let mut kept: Vec<(Column, u16, u8)> = columns(id_width).to_vec();
    let used = |cols: &[(Column, u16, u8)]| -> u16 {
        let fixed: u16 = cols.iter().map(|c| c.1).sum();
        fixed + NAME_MIN + SPACING * (cols.len() as u16 - 1)
    };
    while used(&kept) > width {
        let Some(pos) = kept
            .iter()
            .enumerate()
            .filter(|(_, c)| c.2 > 0)
            .min_by_key(|(_, c)| c.2)
            .map(|(i, _)| i)
        else {
            break;
        };
        kept.remove(pos);
    }
    let spare = width.saturating_sub(used(&kept));
    let name_width = (NAME_MIN + spare).min(NAME_MAX);
    let extra = NAME_MIN + spare - name_width;
    kept.iter()
        .map(|&(col, w, _)| match col {
            Column::Name => (col, name_width),
            Column::Trend => (col, w + extra),
            _ => (col, w),
        })
        .collect()
}

/// Rows below which the overview has no hint line: the apps come first.
const HINT_MIN_HEIGHT: u16 = 6;

/// The table's part of the overview's `area`; the last row holds the key hints.
fn table_area(area: Rect) -> Rect {
    if area.height < HINT_MIN_HEIGHT {
        return area;
    }
    Rect {
        height: area.height - 1,
        ..area
    }
}

/// The incident's tasks on the selected app first, the way out last.
fn render_hints(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    if area.height < HINT_MIN_HEIGHT {
        return;
    }
    let first = |cmd| [Keys::First(cmd)];
    let pairs: [hints::Hint; 10] = [
        (&first(Command::OpenApp), "open"),
        (&first(Command::Logs(LogCommand::OpenLogs)), "logs"),
        (&first(Command::OpenScale), "scale"),
        (&first(Command::OpenRollback), "roll back"),
        (&first(Command::OpenRunbook), "runbook"),
        (&first(Command::OpenAlerts), "alerts"),
        (&first(Command::StartFilter), "filter"),
        (&first(Command::CycleSort), "sort"),
        (&first(Command::OpenCommand), "command"),
        (&first(Command::Quit), "quit"),
    ];
    let mut spans = vec![Span::raw(" ")];
    spans.extend(hints::spans_within(
        &state.core.keymap,
        Layer::Overview,
        &pairs,
        "  ",
        theme,
        usize::from(area.width.saturating_sub(1)),
    ));
    let row = Rect {
        y: area.bottom() - 1,
        height: 1,
        ..area
    };
    frame.render_widget(Paragraph::new(Line::from(spans)), row);
}

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    if area.height == 0 {
        return;
    }
    render_hints(state, theme, frame, area);
    let area = table_area(area);
    if state.core.apps.is_empty() {
        render_placeholder(state, theme, frame, area);
        return;
    }
    let id_width = state
        .core
        .apps
        .keys()
        .map(|id| format::width(id))
        .max()
        .unwrap_or(2)
        .clamp(2, usize::from(ID_MAX));
    let columns = fit_columns(
        area.width.saturating_sub(MARKER_WIDTH),
        u16::try_from(id_width).unwrap_or(ID_MAX),
    );
    let header = Row::new(columns.iter().map(|&(col, _)| {
        let mut title = col.title().to_string();
        if col.sorted_by() == Some(state.overview.sort) {
            title.push('▼');
        }
        let text = Text::from(title);
        Cell::from(if col.right_aligned() {
            text.right_aligned()
        } else {
            text
        })
    }))
    .style(theme.style(Role::ColumnHeader));
    let body_rows = usize::from(area.height.saturating_sub(1));

    if state.overview.order.is_empty() {
        let table = Table::new(Vec::<Row>::new(), widths(&columns)).header(header);
        frame.render_widget(table, area);
        let msg = format!(
            "No app matches \"{}\" — {} clears the filter",
            state.overview.filter.text,
            hints::key(&state.core.keymap, Layer::Overview, Command::Back)
        );
        let rest = Rect {
            y: area.y + 1,
            height: area.height.saturating_sub(1),
            ..area
        };
        frame.render_widget(
            Paragraph::new(msg)
                .style(theme.style(Role::Muted))
                .centered(),
            rest,
        );
        return;
    }

    let selected = state.overview.selected_index().unwrap_or(0);
    let offset = first_shown(state.overview.top, selected, body_rows);
    let stale = matches!(state.core.connection, Connection::Stale { .. });
    let rows: Vec<Row> = state
        .overview
        .order
        .iter()
        .enumerate()
        .skip(offset)
        .take(body_rows)
        .filter_map(|(i, id)| state.core.apps.get(id).map(|app| (i, app)))
        .map(|(i, app)| build_row(app, &columns, theme, stale, i == selected))
        .collect();
    let table = Table::new(rows, widths(&columns))
        .header(header)
        .column_spacing(SPACING)
        .highlight_symbol(MARKER)
        .highlight_spacing(HighlightSpacing::Always)
        .row_highlight_style(theme.style(Role::Selection));
    let mut table_state = TableState::default().with_selected(Some(selected - offset));
    frame.render_stateful_widget(table, area, &mut table_state);
}

/// The first app shown when `body_rows` fit: where it was last (`top`), moved only as far as
/// needed to keep the selection in sight.
fn first_shown(top: usize, selected: usize, body_rows: usize) -> usize {
    top.clamp(
        selected.saturating_sub(body_rows.saturating_sub(1)),
        selected,
    )
}

/// The overview's clickable rows when drawn in `area`: each shown app's screen row, with the
/// app and the first shown app.
pub fn hits(state: &State, area: Rect) -> Vec<(u16, ClickTarget)> {
    let area = table_area(area);
    let body_rows = usize::from(area.height.saturating_sub(1));
    if state.core.apps.is_empty() || state.overview.order.is_empty() || body_rows == 0 {
        return Vec::new();
    }
    let top = top(state, area);
    state
        .overview
        .order
        .iter()
        .skip(top)
        .take(body_rows)
        .zip(area.y + 1..)
        .map(|(app, y)| {
            (
                y,
                ClickTarget::OverviewRow {
                    app: app.clone(),
                    top,
                },
            )
        })
        .collect()
}

/// The overview's first shown app when drawn in `area`.
pub fn top(state: &State, area: Rect) -> usize {
    let area = table_area(area);
    let body_rows = usize::from(area.height.saturating_sub(1));
    let selected = state.overview.selected_index().unwrap_or(0);
    first_shown(state.overview.top, selected, body_rows)
}

fn widths(columns: &[(Column, u16)]) -> Vec<Constraint> {
    columns
        .iter()
        .map(|&(_, w)| Constraint::Length(w))
        .collect()
}

pub(crate) fn health_role(h: Health) -> Role {
    match h {
        Health::Healthy => Role::Healthy,
        Health::Busy => Role::Busy,
        Health::Degraded => Role::Degraded,
        Health::Down => Role::Down,
    }
}

pub(crate) fn health_mark(h: Health) -> &'static str {
    match h {
        Health::Healthy => "●",
        Health::Busy => "◐",
        Health::Degraded => "▲",
        Health::Down => "✖",
    }
}

fn build_row<'a>(
    app: &'a AppEntry,
    columns: &[(Column, u16)],
    theme: &Theme,
    stale: bool,
    selected: bool,
) -> Row<'a> {
    let s = &app.summary;
    let m = app.latest.as_ref();
    // A value the source has no series for is shown as absent, not as its 0.
    let value =
        |metric: Metric, get: fn(&MetricSample) -> f64| m.filter(|m| m.has(metric)).map(get);
    let health = app.health();
    // Values that could not be read this round are last round's: muted like a stale stream.
    // So are the apps themselves while the platform cannot read them (`stale_since`).
    let stale = stale || app.metrics_problem.is_some() || app.summary.stale_since.is_some();
    let role = |r: Role| theme.cell(if stale { Role::Muted } else { r }, selected);
    let text = role(Role::Text);
    let num = |v: Option<f64>, fmt: fn(f64) -> String, bad: Option<bool>| -> (String, Style) {
        match v {
            None => ("—".to_string(), role(Role::Muted)),
            Some(v) => {
                let style = match bad {
                    Some(true) => role(Role::Down),
                    _ => text,
                };
                (fmt(v), style)
            }
        }
    };
    let with_id = columns.iter().any(|&(col, _)| col == Column::Id);
    let cells = columns.iter().map(|&(col, width)| {
        let (content, style): (String, Style) = match col {
            Column::Name => {
                let room = usize::from(width).saturating_sub(2);
                let name = format::truncate(&s.name, room);
                let mut spans = vec![
                    Span::styled(health_mark(health), role(health_role(health))),
                    Span::raw(" "),
                ];
                // Without an id column, the id follows the name where it fits whole.
                let id_after = !with_id
                    && !s.name.contains(s.id.as_str())
                    && format::width(&name) + 1 + format::width(&s.id) <= room;
                spans.push(Span::styled(name, text));
                if id_after {
                    spans.push(Span::styled(format!(" {}", s.id), role(Role::Muted)));
                }
                return Cell::from(Line::from(spans));
            }
            Column::Id => (
                format::truncate(&s.id, usize::from(width)),
                role(Role::Muted),
            ),
            Column::Region => (
                format::truncate(&s.region, usize::from(width)),
                role(Role::Muted),
            ),
            Column::Version => (format::truncate(&s.version, usize::from(width)), text),
            Column::Ready => {
                let r = s.replicas;
                let style = if r.ready < r.desired {
                    role(Role::Degraded)
                } else {
                    text
                };
                (format!("{}/{}", r.ready, r.desired), style)
            }
            Column::Rps => num(value(Metric::Rps, |m| m.rps), format::rps, None),
            Column::P99 => {
                let v = value(Metric::P99, |m| m.latency_ms.p99);
                num(v, format::latency_ms, v.map(|v| v >= 1000.0))
            }
            Column::Errors => {
                let v = value(Metric::ErrorRatio, |m| m.error_ratio);
                let (t, st) = num(v, format::percent2, v.map(|v| v >= 0.05));
                let st = match v {
                    Some(v) if (0.01..0.05).contains(&v) => role(Role::Degraded),
                    _ => st,
                };
                (t, st)
            }
            Column::Cpu => {
                let v = value(Metric::Cpu, |m| m.cpu);
                let (t, st) = num(v, format::percent0, None);
                let st = match v {
                    Some(v) if v >= 0.9 => role(Role::Degraded),
                    _ => st,
                };
                (t, st)
            }
            Column::Alerts => {
                if app.firing_alerts > 0 {
                    (app.firing_alerts.to_string(), role(Role::AlertCritical))
                } else {
                    ("·".into(), role(Role::Muted))
                }
            }
            Column::Trend => (
                format::sparkline(app.rps_history.last(usize::from(width)), usize::from(width)),
                role(Role::Sparkline),
            ),
        };
        let t = Text::styled(content, style);
        Cell::from(if col.right_aligned() {
            t.right_aligned()
        } else {
            t
        })
    });
    Row::new(cells.collect::<Vec<_>>())
}

/// Before the first app list, or when there are no apps: say why, plainly.
fn render_placeholder(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let (role, lines): (Role, Vec<String>) = match (&state.core.connection, state.core.apps_loaded)
    {
        (Connection::Connecting, _) => (
            Role::Muted,
            vec![format!("Connecting to {} …", state.core.gateway)],
        ),
        (Connection::Live, false) => (Role::Muted, vec!["Loading apps …".to_string()]),
        (Connection::Live, true) => (
            Role::Muted,
            vec!["No apps on this platform yet.".to_string()],
        ),
        (
            Connection::Reconnecting {
                attempt,
                next_try_at,
            }
            | Connection::Stale {
                attempt,
                next_try_at,
                ..
            },
            _,
        ) => {
            let secs = (*next_try_at - state.core.wall).num_seconds().max(0);
            (
                Role::Error,
                vec![
                    format!("Cannot reach the gateway at {}", state.core.gateway),
                    state.core.down_reason.clone().unwrap_or_default(),
                    format!(
                        "Retrying in {secs}s (attempt {attempt}) — {}",
                        hints::text(
                            &state.core.keymap,
                            Layer::Overview,
                            &[(&[Keys::First(Command::Quit)], "quits")],
                            "",
                        )
                    ),
                ],
            )
        }
    };
    let top = area.height.saturating_sub(lines.len() as u16) / 2;
    let mut text = Text::default();
    for _ in 0..top {
        text.lines.push(Line::default());
    }
    for l in lines {
        text.lines.push(Line::from(l));
    }
    frame.render_widget(
        Paragraph::new(text).style(theme.style(role)).centered(),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_every_width_from_80_to_200() {
        for width in 80..=200u16 {
            let cols = fit_columns(width, 15);
            let total: u16 = cols.iter().map(|c| c.1).sum::<u16>() + (cols.len() as u16 - 1);
            assert!(total <= width, "{width}: {total}");
            assert_eq!(cols[0].0, Column::Name);
        }
        assert!(!fit_columns(79, 15).iter().any(|c| c.0 == Column::Region));
        assert!(fit_columns(160, 15).iter().any(|c| c.0 == Column::Region));
        // The id an operator types stays at 80 columns, even with the longest simulated id.
        assert!(fit_columns(79, 15).iter().any(|c| c.0 == Column::Id));
    }
}
