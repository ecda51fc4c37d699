//! The scale dialog: edit step ("from 6 to 12 replicas", min/max, errors), on production the
//! typed-name step ("PRODUCTION — type shop-cart to scale 6 → 12"), and the explicit
//! confirmation step ("Scale shop-cart from 6 to 12? y/N").

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::{centered, clear_popup, typed_name_field};
use crate::app::{Command, Keymap, Layer, ScaleDialog, ScaleStep};
use crate::ui::format;
use crate::ui::theme::{Role, Theme};
use crate::ui::widgets::hints::{self, Keys};

const WIDTH: u16 = 60;

pub fn render(dialog: &ScaleDialog, keymap: &Keymap, theme: &Theme, frame: &mut Frame, area: Rect) {
    let hint = |layer, pairs: &[hints::Hint]| hints::line(keymap, layer, pairs, theme);
    let title_name = format::truncate(&dialog.app_name, usize::from(WIDTH).saturating_sub(12));
    let block = Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(Span::styled(
            format!(" Scale {title_name} "),
            theme.style(Role::DialogTitle),
        ));
    let text_style = theme.style(Role::Text);
    let mut lines: Vec<Line> = vec![
        Line::from(vec![
            Span::styled("App       ", theme.style(Role::Muted)),
            Span::styled(dialog.app.as_str(), text_style),
        ]),
        Line::default(),
    ];
    let target = dialog.target();
    match &dialog.step {
        ScaleStep::Edit => {
            let cursor = Span::styled("▏", theme.style(Role::Accent));
            lines.push(Line::from(vec![
                Span::styled("Replicas  ", theme.style(Role::Muted)),
                Span::styled("[", theme.style(Role::Accent)),
                // The count the dialog opened with shows selected: a digit replaces it.
                Span::styled(
                    format!("{:>5}", dialog.input),
                    theme.cell(Role::Accent, dialog.prefilled),
                ),
                cursor,
                Span::styled("]", theme.style(Role::Accent)),
                Span::styled(
                    format!("   min {} · max {}", dialog.min, dialog.max),
                    theme.style(Role::Muted),
                ),
            ]));
            if let Some(failure) = &dialog.failure {
                lines.push(Line::styled(
                    format!("✖ gateway refused: {failure}"),
                    theme.style(Role::Error),
                ));
            }
            match &target {
                Ok(n) => lines.push(Line::styled(
                    format!("from {} to {n} replicas", dialog.from),
                    text_style,
                )),
                Err(problem) => lines.push(Line::styled(
                    format!("✖ {problem} (now {})", dialog.from),
                    theme.style(Role::Error),
                )),
            }
            lines.push(Line::default());
            let review: hints::Hint = if target.is_ok() {
                (&[Keys::First(Command::Submit)], "review")
            } else {
                (&[Keys::Digits], "fix the count")
            };
            let adjust = [
                Keys::First(Command::Increment),
                Keys::First(Command::Decrement),
            ];
            lines.push(hint(
                Layer::Scale,
                &[
                    review,
                    (&adjust, "adjust"),
                    (&[Keys::First(Command::Back)], "cancel"),
                ],
            ));
        }
        ScaleStep::TypeName => {
            let to = target.as_ref().map(|n| n.to_string()).unwrap_or_default();
            lines.push(Line::from(vec![
                Span::styled("PRODUCTION", theme.style(Role::Down)),
                Span::styled(" — type ", text_style),
                Span::styled(dialog.app.as_str(), theme.style(Role::DialogTitle)),
                Span::styled(format!(" to scale {} → {to}:", dialog.from), text_style),
            ]));
            let room = usize::from(WIDTH).saturating_sub(24);
            lines.push(typed_name_field(
                &dialog.typed,
                dialog.name_matches(),
                room,
                theme,
            ));
            lines.push(Line::default());
            let enter = if dialog.name_matches() {
                "continue to the confirmation"
            } else {
                "(type the app id exactly)"
            };
            lines.push(hint(
                Layer::ScaleName,
                &[
                    (&[Keys::First(Command::Submit)], enter),
                    (&[Keys::First(Command::Back)], "back"),
                ],
            ));
        }
        ScaleStep::Confirm | ScaleStep::Sending { .. } => {
            let to = target.as_ref().map(|n| n.to_string()).unwrap_or_default();
            lines.push(Line::from(vec![
                Span::styled(
                    format!("Scale {} from {} to {to}? ", dialog.app, dialog.from),
                    theme.style(Role::DialogTitle),
                ),
                Span::styled(hints::yes_no(keymap), theme.style(Role::Key)),
            ]));
            match (&dialog.step, &dialog.failure) {
                (ScaleStep::Sending { .. }, _) => {
                    lines.push(Line::styled("Sending…", theme.style(Role::Busy)));
                    lines.push(Line::default());
                    lines.push(hint(
                        Layer::Confirm,
                        &[(&[Keys::All(Command::Cancel)], "close (request continues)")],
                    ));
                }
                (_, Some(failure)) => {
                    lines.push(Line::styled(
                        format!("✖ last try failed: {failure}"),
                        theme.style(Role::Error),
                    ));
                    lines.push(Line::default());
                    lines.push(hint(
                        Layer::Confirm,
                        &[
                            (&[Keys::First(Command::Confirm)], "try again (same request)"),
                            (&[Keys::All(Command::Cancel)], "back"),
                        ],
                    ));
                }
                _ => {
                    lines.push(Line::default());
                    lines.push(Line::default());
                    lines.push(hint(
                        Layer::Confirm,
                        &[
                            (&[Keys::First(Command::Confirm)], "scale now"),
                            (&[Keys::All(Command::Cancel)], "back"),
                        ],
                    ));
                }
            }
        }
    }
    lines.push(Line::styled(
        format!("request key {}", dialog.idempotency_key),
        theme.style(Role::Muted),
    ));
    // Size to the content, counting lines that wrap.
    let inner = usize::from(WIDTH.min(area.width).saturating_sub(2)).max(1);
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(inner).max(1)).sum();
    let height = u16::try_from(rows + 2).unwrap_or(u16::MAX);
    let rect = centered(area, WIDTH, height);
    clear_popup(frame, rect);
    frame.render_widget(
        Paragraph::new(Text::from(lines))
            .block(block)
            .wrap(Wrap { trim: false }),
        rect,
    );
}
