//! Actions in flight ("scaling shop-cart ready 7/12"), shown on every view until they finish.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::State;
use crate::protocol::{ActionKind, ActionStatus};
use crate::ui::theme::{Role, Theme};

/// Most progress lines shown at once.
pub const MAX_LINES: u16 = 3;

/// Lines the progress area needs.
pub fn height(state: &State) -> u16 {
    (state.core.actions.len() as u16).min(MAX_LINES)
}

fn describe(a: &ActionStatus) -> String {
    let verb = match a.kind {
        ActionKind::Scale => "scaling",
        ActionKind::Rollback => "rolling back",
    };
    match a.progress {
        Some(p) => format!("{verb} {} ready {}/{}", a.app, p.ready, p.desired),
        None => format!("{verb} {}", a.app),
    }
}

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let mut actions: Vec<&ActionStatus> = state.core.actions.values().collect();
    actions.sort_by_key(|a| a.created_at);
    for (i, a) in actions.iter().take(usize::from(area.height)).enumerate() {
        let line = Line::from(vec![
            Span::styled(" ⟳ ", theme.style(Role::Busy)),
            Span::styled(describe(a), theme.style(Role::Accent)),
            Span::styled(format!("  ({})", a.description), theme.style(Role::Muted)),
        ]);
        let row = Rect {
            y: area.y + i as u16,
            height: 1,
            ..area
        };
        frame.render_widget(Paragraph::new(line), row);
    }
}
