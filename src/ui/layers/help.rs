//! The help overlay, generated from the keymap so it always says what the keys really do.
//! Shows the bindings of what the operator is doing first, then the rest as far as they fit.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph};

use super::{centered, clear_popup};
use crate::app::{Keymap, Layer};
use crate::ui::theme::{Role, Theme};

const KEYS_WIDTH: usize = 16;
const WIDTH: u16 = 64;

/// The help lines for one layer: a heading, then one line per binding.
fn layer_lines<'a>(keymap: &'a Keymap, layer: Layer, theme: &Theme) -> Vec<Line<'a>> {
    let mut lines = vec![Line::styled(layer.title(), theme.style(Role::DialogTitle))];
    for b in keymap.bindings(layer) {
        let keys =
            b.on.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
        lines.push(Line::from(vec![
            Span::styled(format!("  {keys:<KEYS_WIDTH$}"), theme.style(Role::Key)),
            Span::styled(b.desc.as_str(), theme.style(Role::Text)),
        ]));
    }
    lines
}

pub fn render(keymap: &Keymap, context: Layer, theme: &Theme, frame: &mut Frame, area: Rect) {
    let max_body = usize::from(area.height.saturating_sub(2));
    let mut order = vec![context, Layer::Global];
    for layer in Layer::ALL {
        if !order.contains(&layer) && layer != Layer::Help {
            order.push(layer);
        }
    }
    let mut lines: Vec<Line> = Vec::new();
    for layer in order {
        let block = layer_lines(keymap, layer, theme);
        let gap = usize::from(!lines.is_empty());
        if !lines.is_empty() && lines.len() + gap + block.len() > max_body {
            break;
        }
        if gap == 1 {
            lines.push(Line::default());
        }
        lines.extend(block);
    }
    let height = (lines.len() as u16).saturating_add(2);
    let rect = centered(area, WIDTH, height);
    clear_popup(frame, rect);
    let block = Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(Span::styled(" Keys ", theme.style(Role::DialogTitle)))
        .title_bottom(Span::styled(" Esc / ? close ", theme.style(Role::Muted)));
    frame.render_widget(Paragraph::new(Text::from(lines)).block(block), rect);
}
