//! Terminal events to console actions: the keys the terminal reader parsed (`tui::reader`)
//! become the core's own [`KeyInput`]. Ctrl-Z is the terminal's own key, not the core's:
//! [`is_suspend`] picks it out first.

use termina::Event;
use termina::event::{
    KeyCode as Ct, KeyEvent, KeyEventKind, Modifiers as KeyModifiers, MouseButton, MouseEventKind,
};

use crate::app::{Action, KeyCode, KeyInput};

/// Whether the event is Ctrl-Z, which suspends the console to the shell. In raw mode the
/// terminal sends it as a key rather than stopping us, so the console does what the terminal
/// would have done; it is the same in every view and dialog, and not in the keymap.
pub fn is_suspend(event: &Event) -> bool {
    matches!(
        event,
        Event::Key(KeyEvent {
            code: Ct::Char('z' | 'Z'),
            modifiers,
            kind: KeyEventKind::Press | KeyEventKind::Repeat,
            ..
        }) if modifiers.contains(KeyModifiers::CONTROL) && !modifiers.contains(KeyModifiers::ALT)
    )
}

/// The action a terminal event means, if any. A left click asks `click_at` what is on the
/// screen there (the UI knows, the terminal does not).
pub fn to_action(
    event: Event,
    click_at: impl FnOnce(u16, u16) -> Option<crate::app::ClickTarget>,
) -> Option<Action> {
    match event {
        Event::Key(key) => to_key(key).map(Action::Key),
        Event::WindowResized(size) => Some(Action::Resize {
            width: size.cols,
            height: size.rows,
        }),
        Event::Mouse(mouse) => match mouse.kind {
            MouseEventKind::ScrollDown => Some(Action::Wheel { down: true }),
            MouseEventKind::ScrollUp => Some(Action::Wheel { down: false }),
            MouseEventKind::Down(MouseButton::Left) => {
                click_at(mouse.column, mouse.row).map(Action::Click)
            }
            _ => None,
        },
        _ => None,
    }
}

/// A terminal key press as a [`KeyInput`]. Releases, and keys the console has no use for,
/// are `None`.
pub fn to_key(key: KeyEvent) -> Option<KeyInput> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let code = match key.code {
        Ct::Char(c) => KeyCode::Char(c),
        Ct::Enter => KeyCode::Enter,
        Ct::Escape => KeyCode::Esc,
        Ct::Backspace => KeyCode::Backspace,
        Ct::Tab => KeyCode::Tab,
        Ct::Up => KeyCode::Up,
        Ct::Down => KeyCode::Down,
        Ct::Left => KeyCode::Left,
        Ct::Right => KeyCode::Right,
        Ct::Home => KeyCode::Home,
        Ct::End => KeyCode::End,
        Ct::PageUp => KeyCode::PageUp,
        Ct::PageDown => KeyCode::PageDown,
        Ct::Delete => KeyCode::Delete,
        _ => return None,
    };
    // Esc pressed twice quickly arrives as Alt-Esc; it still means Esc.
    let alt = key.modifiers.contains(KeyModifiers::ALT) && code != KeyCode::Esc;
    Some(KeyInput {
        code,
        ctrl: key.modifiers.contains(KeyModifiers::CONTROL),
        alt,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::ClickTarget;
    use termina::event::MouseEvent;

    fn mouse(kind: MouseEventKind, column: u16, row: u16) -> Event {
        Event::Mouse(MouseEvent {
            kind,
            column,
            row,
            modifiers: KeyModifiers::NONE,
        })
    }

    fn target() -> ClickTarget {
        ClickTarget::OverviewRow {
            app: "shop-cart".into(),
            top: 0,
        }
    }

    #[test]
    fn the_wheel_scrolls_and_a_left_click_asks_the_screen_what_it_hit() {
        let nothing = |_, _| None;
        assert_eq!(
            to_action(mouse(MouseEventKind::ScrollDown, 3, 4), nothing),
            Some(Action::Wheel { down: true })
        );
        assert_eq!(
            to_action(mouse(MouseEventKind::ScrollUp, 3, 4), nothing),
            Some(Action::Wheel { down: false })
        );
        let mut asked = None;
        let hit = to_action(
            mouse(MouseEventKind::Down(MouseButton::Left), 7, 5),
            |x, y| {
                asked = Some((x, y));
                Some(target())
            },
        );
        assert_eq!(hit, Some(Action::Click(target())));
        assert_eq!(asked, Some((7, 5)));
        assert_eq!(
            to_action(
                mouse(MouseEventKind::Down(MouseButton::Left), 7, 0),
                nothing
            ),
            None,
            "a click on nothing does nothing"
        );
        assert_eq!(to_action(mouse(MouseEventKind::Moved, 1, 1), nothing), None);
        assert_eq!(
            to_action(
                mouse(MouseEventKind::Down(MouseButton::Right), 7, 5),
                |_, _| { Some(target()) }
            ),
            None
        );
    }

    #[test]
    fn ctrl_z_suspends_and_a_plain_z_or_a_release_does_not() {
        let press = |c, m| Event::Key(KeyEvent::new(Ct::Char(c), m));
        assert!(is_suspend(&press('z', KeyModifiers::CONTROL)));
        assert!(is_suspend(&press(
            'Z',
            KeyModifiers::CONTROL | KeyModifiers::SHIFT
        )));
        assert!(!is_suspend(&press('z', KeyModifiers::NONE)));
        assert!(!is_suspend(&press(
            'z',
            KeyModifiers::CONTROL | KeyModifiers::ALT
        )));
        assert!(!is_suspend(&press('c', KeyModifiers::CONTROL)));
        let mut release = KeyEvent::new(Ct::Char('z'), KeyModifiers::CONTROL);
        release.kind = KeyEventKind::Release;
        assert!(!is_suspend(&Event::Key(release)));
    }

    #[test]
    fn shift_is_folded_into_the_character_and_ctrl_kept() {
        let g = KeyEvent::new(Ct::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(to_key(g), Some(KeyInput::char('G')));
        let c = KeyEvent::new(Ct::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(to_key(c), Some(KeyInput::ctrl('c')));
        let mut up = KeyEvent::new(Ct::Up, KeyModifiers::NONE);
        up.kind = KeyEventKind::Release;
        assert_eq!(to_key(up), None);
    }
}
