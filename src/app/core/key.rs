//! The console's own key type: what a key press means, independent of the terminal library.
//!
//! `tui/` translates the terminal's key events into [`KeyInput`]; the keymap TOML names keys in
//! the notation [`KeyInput::parse`] reads (`j`, `G`, `<Enter>`, `<C-c>`, `<Down>`).

use std::fmt;

/// A key without modifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCode {
    Char(char),
    Enter,
    Esc,
    Backspace,
    Tab,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
    Delete,
}

/// One key press. Shift is folded into the character (`G`, not shift+`g`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyInput {
    pub code: KeyCode,
    pub ctrl: bool,
    pub alt: bool,
}

impl KeyInput {
    pub const fn plain(code: KeyCode) -> Self {
        KeyInput {
            code,
            ctrl: false,
            alt: false,
        }
    }

    pub const fn char(c: char) -> Self {
        Self::plain(KeyCode::Char(c))
    }

    pub const fn ctrl(c: char) -> Self {
        KeyInput {
            code: KeyCode::Char(c),
            ctrl: true,
            alt: false,
        }
    }

    /// The printable character this key types, if it types one.
    pub fn typed_char(&self) -> Option<char> {
        match self.code {
            KeyCode::Char(c) if !self.ctrl && !self.alt => Some(c),
            _ => None,
        }
    }

    /// Parse the keymap notation: a single character (`j`, `?`), or a name in angle brackets
    /// with optional `C-`/`A-` prefixes (`<Enter>`, `<C-c>`, `<Down>`, `<Space>`).
    pub fn parse(text: &str) -> Option<KeyInput> {
        let mut chars = text.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return Some(Self::char(c));
        }
        let inner = text.strip_prefix('<')?.strip_suffix('>')?;
        let mut key = KeyInput::plain(KeyCode::Esc);
        let mut rest = inner;
        loop {
            if let Some(r) = rest.strip_prefix("C-") {
                key.ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("A-") {
                key.alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        key.code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCode::Char(c),
            _ => match rest {
                "Enter" => KeyCode::Enter,
                "Esc" => KeyCode::Esc,
                "Backspace" => KeyCode::Backspace,
                "Tab" => KeyCode::Tab,
                "Up" => KeyCode::Up,
                "Down" => KeyCode::Down,
                "Left" => KeyCode::Left,
                "Right" => KeyCode::Right,
                "Home" => KeyCode::Home,
                "End" => KeyCode::End,
                "PageUp" => KeyCode::PageUp,
                "PageDown" => KeyCode::PageDown,
                "Delete" => KeyCode::Delete,
                "Space" => KeyCode::Char(' '),
                "lt" => KeyCode::Char('<'),
                _ => return None,
            },
        };
        Some(key)
    }
}

impl fmt::Display for KeyInput {
    /// Writes the key the way the help overlay shows it: `j`, `Enter`, `Ctrl-c`, `↓`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("Ctrl-")?;
        }
        if self.alt {
            f.write_str("Alt-")?;
        }
        match self.code {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Delete => f.write_str("Del"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_chars_names_and_modifiers() {
        assert_eq!(KeyInput::parse("j"), Some(KeyInput::char('j')));
        assert_eq!(KeyInput::parse("G"), Some(KeyInput::char('G')));
        assert_eq!(KeyInput::parse("<C-c>"), Some(KeyInput::ctrl('c')));
        assert_eq!(
            KeyInput::parse("<Down>"),
            Some(KeyInput::plain(KeyCode::Down))
        );
        assert_eq!(KeyInput::parse("<Nope>"), None);
        assert_eq!(KeyInput::parse(""), None);
        assert_eq!(KeyInput::ctrl('c').to_string(), "Ctrl-c");
    }
}
