//! The Releases view: one app's release history, newest first, with status, version, age,
//! change cause and artifact, narrowed by its `/` filter. Enter or `R` rolls back to the
//! selected release (through the rollback dialog). Only the rows that fit are built.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, HighlightSpacing, Paragraph, Row, Table, TableState, Wrap};

use super::app::release_status;
use crate::app::{Command, Layer, State, View};
use crate::ui::format;
use crate::ui::theme::{Role, Theme};
use crate::ui::widgets::hints::{self, Keys};

/// "Releases of NAME · newest first · Enter/R roll back · / filter · Esc back", the keys only
/// where the keymap binds them (`--readonly` has no roll back); "newest first" goes first when
/// the line is too long.
fn title<'a>(state: &State, name: &str, theme: &Theme, width: u16) -> Line<'a> {
    let keys: [hints::Hint; 3] = [
        (&[Keys::All(Command::OpenRollback)], "roll back"),
        (&[Keys::First(Command::StartFilter)], "filter"),
        (&[Keys::First(Command::Back)], "back"),
    ];
    let mut hints = hints::spans(&state.core.keymap, Layer::Releases, &keys, " · ", theme);
    if !hints.is_empty() {
        hints.insert(0, Span::styled(" · ", theme.style(Role::Muted)));
    }
    let head = vec![
        Span::styled(" Releases of ", theme.style(Role::Muted)),
        Span::styled(format::truncate(name, 30), theme.style(Role::DialogTitle)),
    ];
    let full = Line::from(
        [
            head.clone(),
            vec![Span::styled(" · newest first", theme.style(Role::Muted))],
            hints.clone(),
        ]
        .concat(),
    );
    if full.width() <= usize::from(width) {
        full
    } else {
        Line::from([head, hints].concat())
    }
}

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let view = &state.app_view;
    let name = state
        .core
        .apps
        .get(&view.app)
        .map_or(view.app.as_str(), |a| a.summary.name.as_str());
    let [title_area, table_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    frame.render_widget(
        Paragraph::new(title(state, name, theme, area.width)),
        title_area,
    );

    let shown = state.shown_releases();
    let list = match (&view.releases, &view.releases_error) {
        (Some(list), _) if !list.is_empty() && shown.is_empty() => {
            let filter = state
                .filter_of(View::Releases)
                .map_or("", |f| f.text.as_str());
            let keymap = &state.core.keymap;
            let msg =
                hints::filter_hides_all(keymap, Layer::Releases, "release", filter, list.len());
            frame.render_widget(
                Paragraph::new(msg)
                    .style(theme.style(Role::Muted))
                    .wrap(Wrap { trim: true })
                    .centered(),
                table_area,
            );
            return;
        }
        (Some(list), _) if !list.is_empty() => &shown,
        (other, err) => {
            let (msg, role) = match (other, err) {
                (None, Some(e)) => (format!("Cannot load releases: {e}"), Role::Error),
                (None, None) => ("Loading releases …".to_string(), Role::Muted),
                _ => ("No releases.".to_string(), Role::Muted),
            };
            frame.render_widget(
                Paragraph::new(msg).style(theme.style(role)).centered(),
                table_area,
            );
            return;
        }
    };
    let wide = area.width >= 120;
    let mut widths = vec![
        Constraint::Length(14),
        Constraint::Length(9),
        Constraint::Length(5),
    ];
    let mut header = vec!["STATUS", "VERSION", "AGE"];
    if wide {
        widths.push(Constraint::Length(7));
        header.push("ID");
    }
    widths.push(Constraint::Fill(2));
    header.push("CHANGE CAUSE");
    if area.width >= 100 {
        widths.push(Constraint::Fill(3));
        header.push("ARTIFACT");
    }
    let header =
        Row::new(header.into_iter().map(Cell::from)).style(theme.style(Role::ColumnHeader));
    let body_rows = usize::from(table_area.height.saturating_sub(1)).max(1);
    let cursor = view.release_cursor.min(list.len().saturating_sub(1));
    let offset = cursor.saturating_sub(body_rows - 1);
    let rows: Vec<Row> = list
        .iter()
        .enumerate()
        .skip(offset)
        .take(body_rows)
        .map(|(i, r)| {
            let selected = i == cursor;
            let text = theme.cell(Role::Text, selected);
            let muted = theme.cell(Role::Muted, selected);
            let (label, role) = release_status(r.status);
            let mut cells = vec![
                Cell::from(Span::styled(label, theme.cell(role, selected))),
                Cell::from(Span::styled(r.version.as_str(), text)),
                Cell::from(Span::styled(
                    format::age(state.core.now, r.created_at),
                    muted,
                )),
            ];
            if wide {
                cells.push(Cell::from(Span::styled(r.id.as_str(), muted)));
            }
            cells.push(Cell::from(Span::styled(r.change_cause.as_str(), text)));
            if area.width >= 100 {
                cells.push(Cell::from(Span::styled(r.artifact.as_str(), muted)));
            }
            Row::new(cells)
        })
        .collect();
    let table = Table::new(rows, widths)
        .header(header)
        .column_spacing(1)
        .highlight_symbol(">")
        .highlight_spacing(HighlightSpacing::Always)
        .row_highlight_style(theme.style(Role::Selection));
    let mut table_state = TableState::default().with_selected(Some(cursor - offset));
    frame.render_stateful_widget(table, table_area, &mut table_state);
}
