//! The Events view: the platform timeline, newest first — time, kind, app, who, what. All
//! apps, or one (`a` toggles). Only the rows that fit are built.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Cell, Paragraph, Row, Table};

use crate::app::{Command, Layer, State, View};
use crate::protocol::EventKind;
use crate::ui::format;
use crate::ui::theme::{Role, Theme};
use crate::ui::widgets::hints::{self, Keys};

fn kind_role(kind: EventKind) -> Role {
    match kind {
        EventKind::Deploy | EventKind::Scale => Role::Accent,
        EventKind::Rollback | EventKind::PodRestart => Role::Degraded,
        EventKind::Alert => Role::AlertWarning,
        EventKind::PodReady => Role::Healthy,
        EventKind::Run => Role::Busy,
        EventKind::RunStep => Role::Text,
        EventKind::Source => Role::Notice,
        EventKind::Scenario | EventKind::Other => Role::Muted,
    }
}

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let view = &state.events;
    let timeline = &state.core.timeline;
    let [title_area, table_area] =
        Layout::vertical([Constraint::Length(1), Constraint::Min(0)]).areas(area);
    let scope = match &view.filter_app {
        Some(app) => state
            .core
            .apps
            .get(app)
            .map_or(app.clone(), |a| a.summary.name.clone()),
        None => "all apps".to_string(),
    };
    let mut title = vec![
        Span::styled(" Events of ", theme.style(Role::Muted)),
        Span::styled(format::truncate(&scope, 30), theme.style(Role::DialogTitle)),
    ];
    // A filter that is not a regex says so where the hints were: it is what the operator
    // needs to read while typing it.
    match state.filter_pattern(View::Events).error() {
        Some(err) => {
            title.push(Span::styled(" · ", theme.style(Role::Muted)));
            let room = usize::from(area.width).saturating_sub(Line::from(title.clone()).width());
            title.push(Span::styled(
                format::truncate(&format!("{err}; read as plain text"), room),
                theme.style(Role::Error),
            ));
        }
        None => {
            title.push(Span::styled(" · newest first · ", theme.style(Role::Muted)));
            title.extend(hints::spans(
                &state.core.keymap,
                Layer::Events,
                &[
                    (&[Keys::First(Command::ToggleEventsFilter)], "this app/all"),
                    (&[Keys::First(Command::Back)], "back"),
                ],
                " · ",
                theme,
            ));
        }
    }
    let title = Line::from(title);
    frame.render_widget(Paragraph::new(title), title_area);

    let wide = area.width >= 120;
    let (app_width, who_width): (u16, u16) = if wide { (24, 16) } else { (12, 10) };
    // What is left of the row for WHAT, after the other columns and a space between each.
    let what_width = table_area
        .width
        .saturating_sub(8 + 11 + app_width + who_width + 4);
    // A cell cut short ends with `…`, so a cut is never mistaken for the whole text.
    let cell = |text: &str, width: usize, role: Role| {
        Cell::from(Span::styled(
            format::truncate(text, width),
            theme.style(role),
        ))
    };
    let body_rows = usize::from(table_area.height.saturating_sub(1));
    let rows: Vec<Row> = state
        .shown_events()
        .skip(view.offset)
        .take(body_rows)
        .map(|e| {
            let app = state
                .core
                .apps
                .get(&e.app)
                .map_or(e.app.as_str(), |a| a.summary.name.as_str());
            let who = e.event.actor.as_deref().unwrap_or("·");
            Row::new(vec![
                Cell::from(Span::styled(format::clock(e.ts), theme.style(Role::Muted))),
                Cell::from(Span::styled(
                    e.event.kind.label(),
                    theme.style(kind_role(e.event.kind)),
                )),
                cell(app, usize::from(app_width), Role::Text),
                cell(who, usize::from(who_width), Role::Key),
                cell(&e.event.message, usize::from(what_width), Role::Text),
            ])
        })
        .collect();
    if rows.is_empty() {
        let (msg, role) = match (&timeline.error, timeline.loaded) {
            (Some(e), _) => (format!("Cannot load events: {e}"), Role::Error),
            (None, false) => ("Loading events …".to_string(), Role::Muted),
            (None, true) => {
                let filter = state
                    .filter_of(View::Events)
                    .map_or("", |f| f.text.as_str());
                let hidden = timeline.for_app(view.filter_app.as_deref()).count();
                if hidden > 0 && !filter.is_empty() {
                    let keymap = &state.core.keymap;
                    let text =
                        hints::filter_hides_all(keymap, Layer::Events, "event", filter, hidden);
                    (text, Role::Muted)
                } else {
                    ("Nothing has happened yet.".to_string(), Role::Muted)
                }
            }
        };
        frame.render_widget(
            Paragraph::new(msg).style(theme.style(role)).centered(),
            table_area,
        );
        return;
    }
    let widths = [
        Constraint::Length(8),
        Constraint::Length(11),
        Constraint::Length(app_width),
        Constraint::Length(who_width),
        Constraint::Fill(1),
    ];
    let header = Row::new(["TIME", "KIND", "APP", "WHO", "WHAT"].map(Cell::from))
        .style(theme.style(Role::ColumnHeader));
    let table = Table::new(rows, widths).header(header).column_spacing(1);
    frame.render_widget(table, table_area);
}
