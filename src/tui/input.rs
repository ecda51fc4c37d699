//! Terminal events to console actions: crossterm's keys become the core's own [`KeyInput`].

use crossterm::event::{Event, KeyCode as Ct, KeyEvent, KeyEventKind, KeyModifiers};

use crate::app::{Action, KeyCode, KeyInput};

/// The action a terminal event means, if any.
pub fn to_action(event: Event) -> Option<Action> {
    match event {
        Event::Key(key) => to_key(key).map(Action::Key),
        Event::Resize(width, height) => Some(Action::Resize { width, height }),
        _ => None,
    }
}

/// A crossterm key press as a [`KeyInput`]. Releases, and keys the console has no use for,
/// are `None`.
pub fn to_key(key: KeyEvent) -> Option<KeyInput> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let code = match key.code {
        Ct::Char(c) => KeyCode::Char(c),
        Ct::Enter => KeyCode::Enter,
        Ct::Esc => KeyCode::Esc,
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
