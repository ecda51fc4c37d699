//! "Quit anyway?" while a run the operator started waits for approval.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::{centered, clear_popup, question};
use crate::app::{Command, Keymap, Layer, QuitDialog};
use crate::ui::theme::{Role, Theme};
use crate::ui::widgets::hints::{self, Keys};

const WIDTH: u16 = 64;
/// Runs named one by one; more are counted.
const NAMED: usize = 3;

pub fn render(
    dialog: &QuitDialog,
    demo: bool,
    keymap: &Keymap,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    let n = dialog.waiting.len();
    let mut lines = vec![Line::styled(
        if n == 1 {
            "A run you started waits for approval:".to_string()
        } else {
            format!("{n} runs you started wait for approval:")
        },
        theme.style(Role::AlertWarning),
    )];
    for run in dialog.waiting.iter().take(NAMED) {
        let on = run
            .app
            .as_deref()
            .map(|a| format!(" on {a}"))
            .unwrap_or_default();
        let at = run
            .step
            .as_deref()
            .map(|s| format!(", at {s}"))
            .unwrap_or_default();
        lines.push(Line::from(vec![
            Span::styled(format!("  {} ", run.id), theme.style(Role::Text)),
            Span::styled(format!("{}{on}{at}", run.runbook), theme.style(Role::Muted)),
        ]));
    }
    if n > NAMED {
        lines.push(Line::styled(
            format!("  and {} more", n - NAMED),
            theme.style(Role::Muted),
        ));
    }
    lines.push(Line::default());
    lines.push(question("Quit anyway? ".to_string(), keymap, theme));
    lines.push(Line::styled(
        if demo {
            "The demo's gateway stops with this console, and the run with it."
        } else {
            "It keeps waiting on the gateway; any console can approve it."
        },
        theme.style(Role::Muted),
    ));
    lines.push(Line::default());
    lines.push(hints::line(
        keymap,
        Layer::Confirm,
        &[
            (&[Keys::First(Command::Confirm)], "quit"),
            (&[Keys::All(Command::Cancel)], "stay"),
        ],
        theme,
    ));
    let block = Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(Span::styled(" Quit ", theme.style(Role::DialogTitle)));
    let inner = usize::from(WIDTH.min(area.width).saturating_sub(2)).max(1);
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(inner).max(1)).sum();
    let rect = centered(area, WIDTH, u16::try_from(rows + 2).unwrap_or(u16::MAX));
    clear_popup(frame, rect);
    frame.render_widget(
        Paragraph::new(Text::from(lines))
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}
