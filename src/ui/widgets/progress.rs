//! Actions in flight ("scaling shop-cart ready 7/12", "rolling back shop-cart ready 8/8 ·
//! updated 2/8"), shown on every view until they finish.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::State;
use crate::protocol::{ActionKind, ActionStatus, Replicas};
use crate::ui::theme::{Role, Theme};

/// Most progress lines shown at once.
pub const MAX_LINES: u16 = 3;

/// Lines the progress area needs.
pub fn height(state: &State) -> u16 {
    (state.core.actions.len() as u16).min(MAX_LINES)
}

/// What an action is doing. An app's replica counts come from where the App header and the
/// overview read them (the app's latest sample), so one frame never gives two answers; a
/// rollback adds what only the action knows, how many replicas already run the target release.
fn describe(a: &ActionStatus, replicas: Option<&Replicas>) -> String {
    let verb = match a.kind {
        ActionKind::Scale => "scaling",
        ActionKind::Rollback => "rolling back",
    };
    let ready = replicas
        .map(|r| (r.ready, r.desired))
        .or(a.progress.map(|p| (p.ready, p.desired)));
    let mut text = format!("{verb} {}", a.app);
    if let Some((ready, desired)) = ready {
        text.push_str(&format!(" ready {ready}/{desired}"));
    }
    if let (ActionKind::Rollback, Some(p)) = (a.kind, a.progress) {
        text.push_str(&format!(" · updated {}/{}", p.ready, p.desired));
    }
    text
}

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let mut actions: Vec<&ActionStatus> = state.core.actions.values().collect();
    actions.sort_by_key(|a| a.created_at);
    for (i, a) in actions.iter().take(usize::from(area.height)).enumerate() {
        let line = Line::from(vec![
            Span::styled(" ⟳ ", theme.style(Role::Busy)),
            Span::styled(
                describe(a, state.core.apps.get(&a.app).map(|e| &e.summary.replicas)),
                theme.style(Role::Accent),
            ),
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
