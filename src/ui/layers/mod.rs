//! Things drawn over a view: the scale, rollback and alert dialogs, the log filter bar, the
//! command line and the help overlay.

pub mod command;
pub mod help;
pub mod log_filter;
pub mod quit;
pub mod rollback;
pub mod run_confirm;
pub mod scale;
pub mod silence;

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Clear;
use unicode_width::UnicodeWidthStr;

use crate::app::{Command, Keymap, Layer};
use crate::ui::format;
use crate::ui::theme::{Role, Theme};
use crate::ui::widgets::hints::{self, Keys};

/// The production confirmation's field, shared by the scale and rollback dialogs:
/// `[shop-car▏]  ✖ does not match`, the typed text cut to `room` columns.
pub fn typed_name_field(typed: &str, matches: bool, room: usize, theme: &Theme) -> Line<'static> {
    let (mark, role) = if typed.is_empty() {
        ("", Role::Muted)
    } else if matches {
        ("  ✓ matches", Role::Healthy)
    } else {
        ("  ✖ does not match", Role::Error)
    };
    Line::from(vec![
        Span::styled("[", theme.style(Role::Accent)),
        Span::styled(format::truncate(typed, room), theme.style(Role::Accent)),
        Span::styled("▏]", theme.style(Role::Accent)),
        Span::styled(mark, theme.style(role)),
    ])
}

/// "Acknowledge A-17 on shop-cart? y/N": a question and its answer keys.
pub fn question(text: String, keymap: &Keymap, theme: &Theme) -> Line<'static> {
    Line::from(vec![
        Span::styled(text, theme.style(Role::DialogTitle)),
        Span::styled(hints::yes_no(keymap), theme.style(Role::Key)),
    ])
}

/// Below a y/N question: "Sending…" while the request is out, the last failure and a retry, or
/// the keys to answer (`yes` says what the confirm key does).
pub fn question_footer(
    lines: &mut Vec<Line<'static>>,
    sending: bool,
    failure: Option<&str>,
    yes: &str,
    keymap: &Keymap,
    theme: &Theme,
) {
    let hint = |pairs: &[hints::Hint]| hints::line(keymap, Layer::Confirm, pairs, theme);
    let cancel = [Keys::All(Command::Cancel)];
    let confirm = [Keys::First(Command::Confirm)];
    match (sending, failure) {
        (true, _) => {
            lines.push(Line::styled("Sending…", theme.style(Role::Busy)));
            lines.push(hint(&[(&cancel, "close (request continues)")]));
        }
        (false, Some(f)) => {
            lines.push(Line::styled(
                format!("✖ last try failed: {f}"),
                theme.style(Role::Error),
            ));
            lines.push(hint(&[(&confirm, "try again"), (&cancel, "back")]));
        }
        (false, None) => {
            lines.push(Line::default());
            lines.push(hint(&[(&confirm, yes), (&cancel, "cancel")]));
        }
    }
}

/// Blank `rect` for a popup. A wide (CJK) character just left of the popup would spill its
/// second half under the border and garble it, so it is blanked too.
pub fn clear_popup(frame: &mut Frame, rect: Rect) {
    frame.render_widget(Clear, rect);
    if rect.x == 0 {
        return;
    }
    let buf = frame.buffer_mut();
    for y in rect.top()..rect.bottom() {
        if let Some(cell) = buf.cell_mut((rect.x - 1, y))
            && cell.symbol().width() > 1
        {
            cell.set_symbol(" ");
        }
    }
}

/// A `width` x `height` rectangle centred in `area`, shrunk to fit.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}
