//! The Runs list: every run the gateway knows (and the `runs` topic announced), newest first,
//! with its state, runbook, app parameter and current step.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, HighlightSpacing, Row, Table, TableState};

use super::run::run_state_label;
use super::runbooks::{message, plain};
use crate::app::{Command, Layer, State, View};
use crate::protocol::RunState;
use crate::ui::format;
use crate::ui::theme::{Role, Theme};
use crate::ui::widgets::hints;

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let view = &state.runs;
    if view.order.is_empty() {
        let (text, role) = match (&view.error, view.loaded) {
            (Some(e), _) => (format!("Runs did not load: {e}"), Role::Error),
            (None, false) => ("Loading runs…".to_string(), Role::Muted),
            (None, true) if !view.runs.is_empty() => {
                let filter = state.filter_of(View::Runs).map_or("", |f| f.text.as_str());
                let keymap = &state.core.keymap;
                let hidden = view.runs.len();
                (
                    hints::filter_hides_all(keymap, Layer::Runs, "run", filter, hidden),
                    Role::Muted,
                )
            }
            (None, true) => (
                format!(
                    "No runs yet: {} opens the runbooks, {} on one prepares a run.",
                    hints::key(&state.core.keymap, Layer::Overview, Command::OpenRunbooks),
                    hints::key(&state.core.keymap, Layer::Runbooks, Command::Submit),
                ),
                Role::Muted,
            ),
        };
        message(&text, role, theme, frame, area);
        return;
    }
    // The last row: the keys, the way out last.
    let (area, hint_row) = if area.height > 3 {
        let table = Rect {
            height: area.height - 1,
            ..area
        };
        let hint = Rect {
            y: area.bottom() - 1,
            height: 1,
            ..area
        };
        (table, Some(hint))
    } else {
        (area, None)
    };
    if let Some(row) = hint_row {
        let first = |cmd| [hints::Keys::First(cmd)];
        let pairs: [hints::Hint; 3] = [
            (&first(Command::Submit), "open the run"),
            (&first(Command::StartFilter), "filter"),
            (&first(Command::Back), "back"),
        ];
        let mut spans = vec![Span::raw(" ")];
        spans.extend(hints::spans_within(
            &state.core.keymap,
            Layer::Runs,
            &pairs,
            "  ",
            theme,
            usize::from(row.width.saturating_sub(1)),
        ));
        frame.render_widget(ratatui::widgets::Paragraph::new(Line::from(spans)), row);
    }
    let wide = area.width >= 120;
    let mut titles = vec!["RUN", "STATE", "RUNBOOK", "APP", "STEP", "AGE"];
    if wide {
        titles.push("BY");
    }
    let header =
        Row::new(titles.into_iter().map(Cell::from)).style(theme.style(Role::ColumnHeader));
    let body_rows = usize::from(area.height.saturating_sub(1));
    let offset = view.cursor.saturating_sub(body_rows.saturating_sub(1));
    let rows: Vec<Row> = view
        .order
        .iter()
        .skip(offset)
        .take(body_rows)
        .filter_map(|id| view.runs.get(id))
        .map(|r| {
            let (label, role) = match (r.dry_run, r.state) {
                (true, _) => ("dry run", Role::Muted),
                // The list's column is narrow; the Run view spells it out.
                (false, RunState::WaitingApproval) if !wide => ("APPROVAL?", Role::AlertWarning),
                (false, s) => run_state_label(s),
            };
            let app = r.params.get("app").map(plain).unwrap_or_else(|| "—".into());
            let app = match state.core.apps.get(&app) {
                Some(a) if a.summary.name != app => format!("{app} {}", a.summary.name),
                _ => app,
            };
            let mut cells = vec![
                Cell::from(Span::styled(r.id.clone(), theme.style(Role::Text))),
                Cell::from(Span::styled(label, theme.style(role))),
                Cell::from(Span::styled(r.runbook.clone(), theme.style(Role::Text))),
                Cell::from(Span::styled(
                    format::truncate(&app, 28),
                    theme.style(Role::Text),
                )),
                Cell::from(Span::styled(
                    r.current_step.clone().unwrap_or_else(|| "—".into()),
                    theme.style(Role::Muted),
                )),
                Cell::from(Span::styled(
                    format::age(r.updated_at.max(state.core.now), r.created_at),
                    theme.style(Role::Muted),
                )),
            ];
            if wide {
                cells.push(Cell::from(Span::styled(
                    r.started_by.clone(),
                    theme.style(Role::Muted),
                )));
            }
            Row::new(cells)
        })
        .collect();
    let mut widths = vec![
        Constraint::Length(if wide { 24 } else { 15 }),
        Constraint::Length(if wide { 17 } else { 11 }),
        Constraint::Length(if wide { 22 } else { 16 }),
        Constraint::Min(8),
        Constraint::Length(if wide { 22 } else { 12 }),
        Constraint::Length(4),
    ];
    if wide {
        widths.push(Constraint::Length(12));
    }
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .highlight_symbol(">")
        .highlight_spacing(HighlightSpacing::Always)
        .row_highlight_style(theme.style(Role::Selection));
    let mut table_state = TableState::default().with_selected(Some(view.cursor - offset));
    frame.render_stateful_widget(table, area, &mut table_state);
}
