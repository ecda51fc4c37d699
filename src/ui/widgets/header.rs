//! The top bar: product, view, DEMO / PRODUCTION / READ-ONLY markers, app count, firing
//! alerts by severity (" P0 1 " " P1 2 " badges, on every view), sort, filter.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{State, View};
use crate::ui::theme::{Role, Theme};

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    // A production console cannot be mistaken for another: the whole bar changes colour.
    let bar = theme.style(if state.core.production {
        Role::Production
    } else {
        Role::Header
    });
    let view = match state.view {
        View::Overview => "Overview",
        View::Logs => "Logs",
        View::App => "App",
        View::Releases => "Releases",
        View::Events => "Events",
        View::Alerts => "Alerts",
        View::Runbooks => "Runbooks",
        View::Runbook => "Runbook",
        View::Runs => "Runs",
        View::Run => "Run",
    };
    let mut left = vec![
        Span::raw(" opsdeck "),
        Span::raw("│ "),
        Span::raw(view),
        Span::raw(" "),
    ];
    if state.core.demo {
        left.push(Span::styled(" DEMO ", theme.style(Role::Demo)));
        left.push(Span::raw(" "));
    }
    if state.core.production {
        left.push(Span::styled(" PRODUCTION ", theme.style(Role::ReadOnly)));
        left.push(Span::raw(" "));
    }
    if state.core.readonly {
        left.push(Span::styled(" READ-ONLY ", theme.style(Role::ReadOnly)));
        left.push(Span::raw(" "));
    }

    let firing = firing_spans(state, theme);
    // The badges carry their own padding, so they need no dots around them.
    let (right, mut right_tail) = if firing.is_empty() {
        (
            format!("{} apps · 0 firing", state.core.apps.len()),
            format!(" · sort {}", state.overview.sort.label()),
        )
    } else {
        (
            format!("{} apps ", state.core.apps.len()),
            format!(" sort {}", state.overview.sort.label()),
        )
    };
    // The filter outlasts the app count and sort when the bar is short.
    let mut filter_tail = String::new();
    if let Some(filter) = state.filter_of(state.view)
        && (filter.editing || !filter.text.is_empty())
    {
        filter_tail.push_str(" /");
        filter_tail.push_str(&filter.text);
        if filter.editing {
            filter_tail.push('▏');
        }
        right_tail.push_str(" ·");
        right_tail.push_str(&filter_tail);
    }
    right_tail.push(' ');
    filter_tail.push(' ');
    let left_line = Line::from(left);
    frame.render_widget(Paragraph::new(left_line.clone()).style(bar), area);
    // Widest version that fits; the firing counts go last.
    let full = [
        vec![Span::raw(right)],
        firing.clone(),
        vec![Span::raw(right_tail)],
    ]
    .concat();
    let filtered = [firing.clone(), vec![Span::raw(filter_tail)]].concat();
    let counts = [firing, vec![Span::raw(" ")]].concat();
    let Some(right) = [full, filtered, counts]
        .into_iter()
        .map(Line::from)
        .find(|l| left_line.width() + l.width() < usize::from(area.width))
    else {
        return;
    };
    let right_width = right.width() as u16;
    {
        let r = Rect {
            x: area.x + area.width - right_width,
            width: right_width,
            ..area
        };
        frame.render_widget(Paragraph::new(right).style(bar), r);
    }
}

/// " P0 1 " " P1 2 ": firing alerts per severity, as badges in the header alert roles (readable
/// on the bar's background); empty when none fire.
fn firing_spans<'a>(state: &State, theme: &Theme) -> Vec<Span<'a>> {
    let mut spans = Vec::new();
    for (i, n) in state.core.firing_by_severity().into_iter().enumerate() {
        if n == 0 {
            continue;
        }
        if !spans.is_empty() {
            spans.push(Span::raw(" "));
        }
        let role = if i < 2 {
            Role::HeaderAlert
        } else {
            Role::HeaderWarning
        };
        spans.push(Span::styled(format!(" P{i} {n} "), theme.style(role)));
    }
    spans
}
