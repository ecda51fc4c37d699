//! The Runbooks view: every runbook the gateway loaded — id, title, the alerts that point at it,
//! where it came from — narrowed by its `/` filter, with broken ones marked and their error
//! shown, and a detail pane for the selected runbook.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{
    Block, Borders, Cell, HighlightSpacing, Padding, Paragraph, Row, Table, TableState, Wrap,
};

use crate::app::{Command, Layer, State, View};
use crate::protocol::RunbookSummary;
use crate::ui::format;
use crate::ui::theme::{Role, Theme};
use crate::ui::widgets::hints::{self, Keys};

/// Rows the detail pane takes, its top border included.
const DETAIL_HEIGHT: u16 = 7;
const MIN_TABLE_ROWS: u16 = 5;

/// A short message in the middle of an empty view.
pub fn message(text: &str, role: Role, theme: &Theme, frame: &mut Frame, area: Rect) {
    let para = Paragraph::new(Line::styled(text.to_string(), theme.style(role)))
        .block(Block::default().padding(Padding::new(1, 1, 1, 0)))
        .wrap(Wrap { trim: false });
    frame.render_widget(para, area);
}

/// The alerts pointing at `runbook`, shortly: `al-1 shop-cart, al-7 coupon`.
fn alerts_of(state: &State, runbook: &str) -> String {
    let mut alerts: Vec<_> = state.alerts_for_runbook(runbook).collect();
    alerts.sort_by(|a, b| crate::app::compare_alerts(a, b));
    match alerts.as_slice() {
        [] => "—".into(),
        [only] => format!("{:?} {}", only.severity, only.app),
        [first, rest @ ..] => format!("{:?} {} +{}", first.severity, first.app, rest.len()),
    }
}

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    if area.height == 0 {
        return;
    }
    let view = &state.runbooks;
    let Some(list) = &view.list else {
        let (text, role) = match &view.error {
            Some(e) => (format!("Runbooks did not load: {e}"), Role::Error),
            None => ("Loading runbooks…".to_string(), Role::Muted),
        };
        message(&text, role, theme, frame, area);
        return;
    };
    if list.is_empty() {
        message(
            "No runbooks: the gateway loaded none (see runbooks/ and docs/runbooks.md).",
            Role::Muted,
            theme,
            frame,
            area,
        );
        return;
    }
    let shown = state.shown_runbooks();
    if shown.is_empty() {
        let filter = state
            .filter_of(View::Runbooks)
            .map_or("", |f| f.text.as_str());
        message(
            &hints::filter_hides_all(
                &state.core.keymap,
                Layer::Runbooks,
                "runbook",
                filter,
                list.len(),
            ),
            Role::Muted,
            theme,
            frame,
            area,
        );
        return;
    }
    let detail = if area.height >= DETAIL_HEIGHT + MIN_TABLE_ROWS {
        DETAIL_HEIGHT
    } else {
        0
    };
    let [table_area, detail_area] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(detail)]).areas(area);
    render_table(state, &shown, theme, frame, table_area);
    // The row the table highlights (its cursor kept within the shown rows).
    let selected = state.runbooks.selected.min(shown.len().saturating_sub(1));
    if detail > 0
        && let Some(r) = shown.get(selected).copied()
    {
        render_detail(state, r, theme, frame, detail_area);
    }
}

fn render_table(
    state: &State,
    list: &[&RunbookSummary],
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    let wide = area.width >= 120;
    let (id_w, alerts_w, source_w) = if wide { (22, 24, 34) } else { (18, 16, 0) };
    let header = Row::new(
        ["RUNBOOK", "TITLE", "ALERTS", "SOURCE"]
            .into_iter()
            .take(if wide { 4 } else { 3 })
            .map(Cell::from),
    )
    .style(theme.style(Role::ColumnHeader));
    let body_rows = usize::from(area.height.saturating_sub(1));
    let selected = state.runbooks.selected.min(list.len().saturating_sub(1));
    let offset = selected.saturating_sub(body_rows.saturating_sub(1));
    let rows: Vec<Row> = list
        .iter()
        .skip(offset)
        .take(body_rows)
        .map(|r| {
            let (title, role) = match &r.error {
                Some(_) => ("✖ broken: cannot run".to_string(), Role::Error),
                None => (r.title.clone(), Role::Text),
            };
            let alerts = alerts_of(state, &r.id);
            let alerts_role = if alerts == "—" {
                Role::Muted
            } else {
                Role::AlertCritical
            };
            let mut cells = vec![
                Cell::from(Span::styled(r.id.clone(), theme.style(role))),
                Cell::from(Span::styled(title, theme.style(role))),
                Cell::from(Span::styled(alerts, theme.style(alerts_role))),
            ];
            if wide {
                cells.push(Cell::from(Span::styled(
                    r.source.clone(),
                    theme.style(Role::Muted),
                )));
            }
            Row::new(cells)
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(id_w),
        Constraint::Min(10),
        Constraint::Length(alerts_w),
    ];
    if wide {
        widths.push(Constraint::Length(source_w));
    }
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .highlight_symbol(">")
        .highlight_spacing(HighlightSpacing::Always)
        .row_highlight_style(theme.style(Role::Selection));
    let mut table_state = TableState::default().with_selected(Some(selected - offset));
    frame.render_stateful_widget(table, area, &mut table_state);
}

fn render_detail(state: &State, r: &RunbookSummary, theme: &Theme, frame: &mut Frame, area: Rect) {
    let muted = theme.style(Role::Muted);
    let text = theme.style(Role::Text);
    let width = usize::from(area.width.saturating_sub(2));
    let block = Block::default()
        .borders(Borders::TOP)
        .padding(Padding::horizontal(1))
        .border_style(theme.style(Role::Border))
        .title(Span::styled(
            format!(" {} · {} steps · {} ", r.id, r.steps, r.source),
            theme.style(Role::DialogTitle),
        ));
    let mut lines = Vec::new();
    if let Some(err) = &r.error {
        lines.push(Line::styled(
            format::truncate(&format!("✖ {err}"), width),
            theme.style(Role::Error),
        ));
    } else if !r.description.is_empty() {
        lines.push(Line::styled(format::truncate(&r.description, width), text));
    }
    let params: Vec<String> = r
        .params
        .iter()
        .map(|p| match &p.default {
            Some(d) => format!("{} ({}) = {}", p.name, p.kind, plain(d)),
            None => format!("{} ({}, required)", p.name, p.kind),
        })
        .collect();
    if !params.is_empty() {
        lines.push(Line::from(vec![
            Span::styled("params  ", muted),
            Span::styled(
                format::truncate(&params.join(", "), width.saturating_sub(8)),
                text,
            ),
        ]));
    }
    let mut alerts: Vec<_> = state.alerts_for_runbook(&r.id).collect();
    alerts.sort_by(|a, b| crate::app::compare_alerts(a, b));
    let alerts: Vec<String> = alerts
        .into_iter()
        .map(|a| format!("{} {:?} {} {}", a.id, a.severity, a.app, a.summary))
        .collect();
    for a in alerts.iter().take(2) {
        lines.push(Line::styled(
            format::truncate(&format!("alert   {a}"), width),
            theme.style(Role::AlertCritical),
        ));
    }
    let mut spans = Vec::new();
    let mut pairs: Vec<hints::Hint> = Vec::new();
    if r.error.is_some() {
        spans.push(Span::styled("✖", theme.style(Role::Error)));
        spans.push(Span::styled(
            " broken: fix the file, then restart the gateway  ",
            theme.style(Role::Muted),
        ));
    } else {
        pairs.push((&[Keys::First(Command::Submit)], "parameters, dry run first"));
    }
    pairs.extend([
        (&[Keys::First(Command::OpenRuns)][..], "runs"),
        (&[Keys::First(Command::Back)][..], "back"),
    ]);
    spans.extend(hints::spans(
        &state.core.keymap,
        Layer::Runbooks,
        &pairs,
        "  ",
        theme,
    ));
    lines.push(Line::from(spans));
    frame.render_widget(Paragraph::new(Text::from(lines)).block(block), area);
}

/// A JSON value as an operator types it: strings without quotes.
pub fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
