//! The command line: `:` and what is typed on the status bar's row, the candidates Tab would
//! complete to in a box above it, or why the last command did nothing.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph};

use super::clear_popup;
use crate::app::{Command, Keymap, Layer, Prompt};
use crate::ui::format;
use crate::ui::theme::{Role, Theme};
use crate::ui::widgets::hints;

/// Most candidates listed at once in a small terminal; a tall one lists up to a third of its
/// height, so that every command fits at 160x48.
const MAX_CANDIDATES: usize = 8;
/// Widest the candidate box gets in a small terminal; half the width in a wide one.
const BOX_WIDTH: u16 = 72;
/// Column the candidates' details start at.
const TEXT_WIDTH: usize = 14;

/// Draw the prompt on `line` (the status bar's row) and its candidates or error above it,
/// over `body`.
pub fn render(
    prompt: &Prompt,
    keymap: &Keymap,
    theme: &Theme,
    frame: &mut Frame,
    line: Rect,
    body: Rect,
) {
    let width = usize::from(line.width);
    let input = format::truncate(&prompt.input, width.saturating_sub(3));
    let text = Line::from(vec![
        Span::styled(":", theme.style(Role::Key)),
        Span::styled(input, theme.style(Role::Text)),
        Span::styled("▏", theme.style(Role::Accent)),
    ]);
    frame.render_widget(Paragraph::new(" ".repeat(width)), line);
    frame.render_widget(Paragraph::new(text), line);

    if let Some(error) = &prompt.error {
        if body.height == 0 {
            return;
        }
        let row = Rect {
            y: body.bottom() - 1,
            height: 1,
            ..body
        };
        clear_popup(frame, row);
        frame.render_widget(
            Paragraph::new(format!(" ✖ {error}")).style(theme.style(Role::Error)),
            row,
        );
        return;
    }
    if prompt.candidates.is_empty() || body.height < 3 {
        return;
    }
    let shown = prompt
        .candidates
        .len()
        .min(MAX_CANDIDATES.max(usize::from(body.height) / 3))
        .min(usize::from(body.height - 2));
    let more = prompt.candidates.len() - shown;
    // Wider in a wide terminal, so that long usages are not cut.
    let w = BOX_WIDTH.max(body.width / 2).min(body.width);
    let inner = usize::from(w.saturating_sub(2));
    let mut lines: Vec<Line> = prompt
        .candidates
        .iter()
        .take(shown)
        .map(|c| {
            let name = format::truncate(&c.text, TEXT_WIDTH);
            let pad =
                TEXT_WIDTH.saturating_sub(unicode_width::UnicodeWidthStr::width(name.as_str()));
            let detail = format::truncate(&c.detail, inner.saturating_sub(TEXT_WIDTH + 2));
            Line::from(vec![
                Span::styled(
                    format!(" {name}{} ", " ".repeat(pad)),
                    theme.style(Role::Key),
                ),
                Span::styled(detail, theme.style(Role::Muted)),
            ])
        })
        .collect();
    if more > 0
        && let Some(last) = lines.last_mut()
    {
        *last = Line::styled(format!(" … {} more", more + 1), theme.style(Role::Muted));
    }
    let height = u16::try_from(lines.len() + 2).unwrap_or(u16::MAX);
    let rect = Rect {
        x: body.x,
        y: body.bottom().saturating_sub(height),
        width: w,
        height: height.min(body.height),
    };
    clear_popup(frame, rect);
    let block = Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(Span::styled(
            format!(
                " {} completes ",
                hints::key(keymap, Layer::Command, Command::Complete)
            ),
            theme.style(Role::DialogTitle),
        ));
    frame.render_widget(Paragraph::new(Text::from(lines)).block(block), rect);
}
