//! The top bar: product, view, DEMO / PRODUCTION / READ-ONLY markers, app and alert counts,
//! sort, filter.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{State, View};
use crate::ui::theme::{Role, Theme};

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let bar = theme.style(Role::Header);
    let view = match state.view {
        View::Overview => "Overview",
        View::Logs => "Logs",
        View::App => "App",
        View::Releases => "Releases",
        View::Events => "Events",
    };
    let mut left = vec![
        Span::raw(" opsdeck "),
        Span::raw("│ "),
        Span::raw(view),
        Span::raw(" "),
    ];
    if state.demo {
        left.push(Span::styled(" DEMO ", theme.style(Role::Demo)));
        left.push(Span::raw(" "));
    }
    if state.production {
        left.push(Span::styled(" PRODUCTION ", theme.style(Role::ReadOnly)));
        left.push(Span::raw(" "));
    }
    if state.readonly {
        left.push(Span::styled(" READ-ONLY ", theme.style(Role::ReadOnly)));
        left.push(Span::raw(" "));
    }

    let mut right = format!(
        "{} apps · {} firing · sort {}",
        state.apps.len(),
        state.firing_total(),
        state.sort.label()
    );
    if state.filter.editing || !state.filter.text.is_empty() {
        right.push_str(" · /");
        right.push_str(&state.filter.text);
        if state.filter.editing {
            right.push('▏');
        }
    }
    right.push(' ');

    let left_line = Line::from(left);
    frame.render_widget(Paragraph::new(left_line.clone()).style(bar), area);
    let right_width = Line::from(right.as_str()).width() as u16;
    if left_line.width() as u16 + right_width < area.width {
        let r = Rect {
            x: area.x + area.width - right_width,
            width: right_width,
            ..area
        };
        frame.render_widget(Paragraph::new(right).style(bar), r);
    }
}
