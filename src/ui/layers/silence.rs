//! The alert dialogs: "Acknowledge …? y/N", and silence (duration with presets, comment, then
//! "Silence … for 1h30m? y/N").

use chrono::{DateTime, Duration, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::{centered, clear_popup, question, question_footer};
use crate::app::{
    AckDialog, AlertQuestion, AlertStep, AlertTarget, Command, Keymap, Layer, SILENCE_PRESETS,
    SilenceDialog, SilenceField, describe_secs,
};
use crate::ui::format;
use crate::ui::theme::{Role, Theme};
use crate::ui::widgets::hints::{self, Keys};

const WIDTH: u16 = 64;
const LABEL: &str = "Duration  ";

/// "P1 al-3 on shop-cart" and the summary, cut to the dialog's width.
fn alert_lines<'a>(alert: &AlertTarget, theme: &Theme) -> Vec<Line<'a>> {
    let inner = usize::from(WIDTH - 2);
    vec![
        Line::from(vec![
            Span::styled(
                format!("{:?} ", alert.severity),
                theme.style(crate::ui::views::alerts::severity_role(alert.severity)),
            ),
            Span::styled(
                format!("{} on {}", alert.id, alert.app),
                theme.style(Role::Text),
            ),
        ]),
        Line::styled(
            format::truncate(&alert.summary, inner),
            theme.style(Role::Muted),
        ),
        Line::default(),
    ]
}

pub fn render_ack(
    dialog: &AckDialog,
    actor: &str,
    keymap: &Keymap,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    let (ask, note, verb, title) = match dialog.question {
        AlertQuestion::Acknowledge => (
            "Acknowledge",
            format!("as {actor}; the alert stops paging but stays listed"),
            "acknowledge",
            " Acknowledge alert ",
        ),
        AlertQuestion::ExpireSilence => (
            "Expire the silence of",
            format!("as {actor}; the alert pages again while it fires"),
            "expire",
            " Expire silence ",
        ),
    };
    let mut lines = alert_lines(&dialog.alert, theme);
    lines.push(question(
        format!("{ask} {} on {}? ", dialog.alert.id, dialog.alert.app),
        keymap,
        theme,
    ));
    lines.push(Line::styled(note, theme.style(Role::Muted)));
    question_footer(
        &mut lines,
        matches!(dialog.step, AlertStep::Sending { .. }),
        dialog.failure.as_deref(),
        verb,
        keymap,
        theme,
    );
    draw(title, lines, theme, frame, area);
}

pub fn render_silence(
    dialog: &SilenceDialog,
    now: DateTime<Utc>,
    keymap: &Keymap,
    theme: &Theme,
    frame: &mut Frame,
    area: Rect,
) {
    let mut lines = alert_lines(&dialog.alert, theme);
    let secs = dialog.duration_secs();
    let until = |s: u64| {
        let t = now + Duration::seconds(i64::try_from(s).unwrap_or(0));
        format!("{} UTC", t.format("%m-%d %H:%M"))
    };
    match dialog.step {
        AlertStep::Edit => {
            lines.push(field_line(
                LABEL,
                &dialog.duration,
                dialog.field == SilenceField::Duration,
                theme,
            ));
            let mut presets = vec![Span::raw(" ".repeat(LABEL.len()))];
            for p in SILENCE_PRESETS {
                let role = if dialog.duration == p {
                    Role::Accent
                } else {
                    Role::Muted
                };
                presets.push(Span::styled(format!("{p:<5}"), theme.style(role)));
            }
            let preset = [
                Keys::First(Command::Increment),
                Keys::First(Command::Decrement),
            ];
            if let Some(keys) = hints::label(keymap, Layer::Silence, &preset) {
                presets.push(Span::styled(
                    format!("{keys} preset"),
                    theme.style(Role::Muted),
                ));
            }
            lines.push(Line::from(presets));
            lines.push(field_line(
                "Comment   ",
                &dialog.comment,
                dialog.field == SilenceField::Comment,
                theme,
            ));
            lines.push(Line::default());
            match &secs {
                Ok(s) => lines.push(Line::styled(
                    format!("silence for {} — until {}", describe_secs(*s), until(*s)),
                    theme.style(Role::Text),
                )),
                Err(problem) => lines.push(Line::styled(
                    format!("✖ {problem}"),
                    theme.style(Role::Error),
                )),
            }
            let other = match dialog.field {
                SilenceField::Duration => "comment",
                SilenceField::Comment => "duration",
            };
            let tab: hints::Hint = (&[Keys::First(Command::NextField)], other);
            let cancel: hints::Hint = (&[Keys::First(Command::Back)], "cancel");
            // Enter is offered only when it can go on.
            let pairs = if secs.is_ok() {
                vec![(&[Keys::First(Command::Submit)][..], "review"), tab, cancel]
            } else {
                vec![tab, cancel]
            };
            lines.push(hints::line(keymap, Layer::Silence, &pairs, theme));
        }
        AlertStep::Confirm | AlertStep::Sending { .. } => {
            let d = secs.as_ref().map(|s| describe_secs(*s)).unwrap_or_default();
            lines.push(question(
                format!("Silence {} for {d}? ", dialog.alert.id),
                keymap,
                theme,
            ));
            let until = secs.as_ref().map(|s| until(*s)).unwrap_or_default();
            let comment = if dialog.comment.trim().is_empty() {
                "no comment".to_string()
            } else {
                format!("“{}”", dialog.comment.trim())
            };
            lines.push(Line::styled(
                format!("until {until}; {comment}"),
                theme.style(Role::Muted),
            ));
            question_footer(
                &mut lines,
                matches!(dialog.step, AlertStep::Sending { .. }),
                dialog.failure.as_deref(),
                "silence",
                keymap,
                theme,
            );
        }
    }
    draw(" Silence alert ", lines, theme, frame, area);
}

/// `Label  [text▏]`, the cursor shown only in the focused field.
fn field_line<'a>(label: &'a str, value: &str, focused: bool, theme: &Theme) -> Line<'a> {
    let room = usize::from(WIDTH) - 2 - label.len() - 3;
    let shown = tail(value, room);
    let role = if focused { Role::Accent } else { Role::Text };
    let mut spans = vec![
        Span::styled(label, theme.style(Role::Muted)),
        Span::styled(format!("[{shown}"), theme.style(role)),
    ];
    if focused {
        spans.push(Span::styled("▏", theme.style(Role::Accent)));
    }
    spans.push(Span::styled("]", theme.style(role)));
    Line::from(spans)
}

/// The end of `text` that fits `max` columns (the end is where the operator types).
fn tail(text: &str, max: usize) -> String {
    use unicode_width::UnicodeWidthChar;
    let mut used = 0;
    let mut out: Vec<char> = Vec::new();
    for c in text.chars().rev() {
        let w = c.width().unwrap_or(0);
        if used + w > max {
            break;
        }
        used += w;
        out.push(c);
    }
    out.into_iter().rev().collect()
}

fn draw(title: &str, lines: Vec<Line>, theme: &Theme, frame: &mut Frame, area: Rect) {
    let block = Block::bordered()
        .border_style(theme.style(Role::Border))
        .title(Span::styled(
            title.to_string(),
            theme.style(Role::DialogTitle),
        ));
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
