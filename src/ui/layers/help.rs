//! The help overlay, generated from the keymap so it always says what the keys really do.
//! Shows the bindings of what the operator is doing first, then `global`, then the rest; it
//! scrolls when they do not fit. On a wide terminal each line also names its action, the name
//! the config's `[keys]` takes.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph};

use super::{centered, clear_popup};
use crate::app::{
    Command, HELP_KEYS_WIDTH, HELP_WIDE, HELP_WIDTH, Keymap, Layer, TERMINAL_KEYS, TERMINAL_TITLE,
    help_desc_width, help_layers, help_rows_visible,
};
use crate::ui::format::wrap;
use crate::ui::theme::{Role, Theme};
use crate::ui::widgets::hints::{self, Keys};

const KEYS_WIDTH: usize = HELP_KEYS_WIDTH;

/// The help lines for one layer: a heading, then one line per binding, its description wrapped
/// under itself when it is longer than the column; `named`: with the action's name at the right.
fn layer_lines<'a>(
    keymap: &'a Keymap,
    layer: Layer,
    (named, width): (bool, usize),
    theme: &Theme,
) -> Vec<Line<'a>> {
    let mut lines = vec![Line::styled(layer.title(), theme.style(Role::DialogTitle))];
    for b in keymap.bindings(layer) {
        let keys =
            b.on.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(", ");
        for (i, desc) in wrap(&b.desc, width).into_iter().enumerate() {
            let keys = if i == 0 { keys.as_str() } else { "" };
            let mut spans = vec![
                Span::styled(format!("  {keys:<KEYS_WIDTH$}"), theme.style(Role::Key)),
                Span::styled(format!("{desc:<width$}"), theme.style(Role::Text)),
            ];
            if named && i == 0 {
                spans.push(Span::raw("  "));
                spans.push(Span::styled(b.run.name(), theme.style(Role::Muted)));
            }
            lines.push(Line::from(spans));
        }
    }
    lines
}

/// Draw the overlay: every layer's bindings (see [`help_layers`]), from line `scroll` on, with
/// "↑ more" / "more ↓" on the border when lines are hidden above or below.
/// `readonly`: the keymap has no actions (`--readonly`); the title says so.
pub fn render(
    keymap: &Keymap,
    readonly: bool,
    context: Layer,
    scroll: usize,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    let layout = help_desc_width(area.width);
    let named = layout.0;
    let mut lines: Vec<Line> = Vec::new();
    for layer in help_layers(context) {
        if !lines.is_empty() {
            lines.push(Line::default());
        }
        lines.extend(layer_lines(keymap, layer, layout, theme));
    }
    lines.push(Line::default());
    lines.push(Line::styled(TERMINAL_TITLE, theme.style(Role::DialogTitle)));
    for (keys, does) in TERMINAL_KEYS {
        lines.push(Line::from(vec![
            Span::styled(format!("  {keys:<KEYS_WIDTH$}"), theme.style(Role::Key)),
            Span::styled(does, theme.style(Role::Text)),
        ]));
    }
    let visible = help_rows_visible(area.height);
    let scroll = scroll.min(lines.len().saturating_sub(visible));
    let more_below = scroll + visible < lines.len();
    let shown: Vec<Line> = lines.into_iter().skip(scroll).take(visible).collect();
    let height = (shown.len() as u16).saturating_add(2);
    let rect = centered(area, if named { HELP_WIDE } else { HELP_WIDTH }, height);
    clear_popup(frame, rect);
    let mut hint = format!(
        " {} / {} close ",
        hints::key(keymap, Layer::Help, Command::Back),
        hints::key(keymap, Layer::Help, Command::ToggleHelp)
    );
    if scroll > 0 || more_below {
        let scroll_keys = [Keys::First(Command::MoveDown), Keys::First(Command::MoveUp)];
        let text = hints::text(keymap, Layer::Help, &[(&scroll_keys, "scroll")], "");
        hint.push_str(&format!("· {text} "));
    }
    let mut block = Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(Span::styled(" Keys ", theme.style(Role::DialogTitle)))
        .title_bottom(Span::styled(hint, theme.style(Role::Muted)));
    if readonly {
        block = block.title(Span::styled(
            " READ-ONLY: no scale, rollback, ack, silence or runs ",
            theme.style(Role::ReadOnly),
        ));
    }
    if scroll > 0 {
        block = block.title(Line::styled(" ↑ more ", theme.style(Role::Key)).right_aligned());
    }
    if more_below {
        block =
            block.title_bottom(Line::styled(" more ↓ ", theme.style(Role::Key)).right_aligned());
    }
    frame.render_widget(Paragraph::new(Text::from(shown)).block(block), rect);
}
