//! The Logs view's filter bar (`F`): a regex over the message and a pod substring, edited
//! as a copy and applied on Enter; an invalid regex is refused inline.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph};

use super::{centered, clear_popup};
use crate::app::logs::{FilterBar, FilterField, LogCommand, LogView};
use crate::app::{Command, Keymap, Layer};
use crate::ui::format;
use crate::ui::theme::{Role, Theme};
use crate::ui::widgets::hints::{self, Keys};

const WIDTH: u16 = 60;
const HEIGHT: u16 = 7;
const LABEL: usize = 8;

pub fn render(
    logs: &LogView,
    bar: &FilterBar,
    keymap: &Keymap,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    let log = |cmd| Keys::First(Command::Logs(cmd));
    let rect = centered(area, WIDTH, HEIGHT);
    clear_popup(frame, rect);
    let room = usize::from(rect.width.saturating_sub(2 + LABEL as u16 + 1));
    let field = |label: &str, value: &str, active: bool| {
        let shown = tail(value, room);
        let mut spans = vec![
            Span::styled(format!("{label:<LABEL$}"), theme.style(Role::Muted)),
            Span::styled(shown, theme.style(Role::Text)),
        ];
        if active {
            spans.push(Span::styled("▏", theme.style(Role::Accent)));
        }
        Line::from(spans)
    };
    let level_keys = hints::label(
        keymap,
        Layer::Logs,
        &[
            log(LogCommand::CycleLevel),
            log(LogCommand::MinLevelTrace),
            log(LogCommand::MinLevelDebug),
            log(LogCommand::MinLevelInfo),
            log(LogCommand::MinLevelWarn),
            log(LogCommand::MinLevelError),
        ],
    )
    .map(|k| format!(" ({} in the view)", k.replacen('/', " / ", 1)))
    .unwrap_or_default();
    let level = logs.filter.min_level.map_or_else(
        || format!("all{level_keys}"),
        |l| format!("≥ {}{level_keys}", l.as_str()),
    );
    let mut lines = vec![
        field("regex", &bar.pattern, bar.field == FilterField::Pattern),
        field("pod", &bar.pod, bar.field == FilterField::Pod),
        Line::from(vec![
            Span::styled(format!("{:<LABEL$}", "level"), theme.style(Role::Muted)),
            Span::styled(level, theme.style(Role::Muted)),
        ]),
    ];
    lines.push(match &bar.error {
        Some(err) => Line::styled(
            format::truncate(err, usize::from(rect.width.saturating_sub(2))),
            theme.style(Role::Error),
        ),
        None => Line::default(),
    });
    let block = Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(Span::styled(
            " Filter logs ",
            theme.style(Role::DialogTitle),
        ))
        .title_bottom(Span::styled(
            format!(
                " {} ",
                hints::text(
                    keymap,
                    Layer::LogFilter,
                    &[
                        (&[log(LogCommand::FilterNextField)], "field"),
                        (&[log(LogCommand::FilterApply)], "apply"),
                        (&[log(LogCommand::FilterCancel)], "cancel"),
                    ],
                    " · ",
                )
            ),
            theme.style(Role::Muted),
        ));
    frame.render_widget(Paragraph::new(Text::from(lines)).block(block), rect);
}

/// The end of `text` that fits `max` columns: the cursor end stays visible while typing.
fn tail(text: &str, max: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let mut used = 0;
    let mut start = text.len();
    for (i, c) in text.char_indices().rev() {
        let w = c.width().unwrap_or(0);
        if used + w > max {
            break;
        }
        used += w;
        start = i;
    }
    text[start..].to_string()
}
