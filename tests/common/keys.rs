//! Keys for pure `update()` tests: `press(&mut state, "jj<Enter>")` feeds each key as an
//! `Action::Key` and returns every effect, so a key-driven test reads like what an operator
//! types.
//!
//! The notation is the keymap's ([`KeyInput::parse`]): a plain character is itself; a name in
//! angle brackets is a named key — `<Enter>`, `<Esc>`, `<Backspace>`, `<Tab>`, `<Up>`,
//! `<Down>`, `<Left>`, `<Right>`, `<Home>`, `<End>`, `<PageUp>`, `<PageDown>`, `<Delete>`,
//! `<Space>`, `<lt>` (a literal `<`) — with optional `C-`/`A-` for Ctrl and Alt (`<C-c>`).
//! A single [`KeyInput`] may be pressed too. `type_text` types text as it is, `<` included.
#![allow(dead_code)]

use opsdeck::app::{Action, Effect, KeyInput, State, update};

/// Something that stands for a sequence of key presses.
pub trait Keys {
    fn into_keys(self) -> Vec<KeyInput>;
}

impl Keys for KeyInput {
    fn into_keys(self) -> Vec<KeyInput> {
        vec![self]
    }
}

impl Keys for &str {
    /// Parses the keymap notation; panics on an unknown `<name>` so a typo fails the test.
    fn into_keys(self) -> Vec<KeyInput> {
        let mut keys = Vec::new();
        let mut rest = self;
        while let Some(c) = rest.chars().next() {
            let len = match rest.find('>') {
                Some(end) if c == '<' && end > 1 => end + 1,
                _ => c.len_utf8(),
            };
            let (token, tail) = rest.split_at(len);
            let key = KeyInput::parse(token)
                .unwrap_or_else(|| panic!("{token:?} is not a key in {self:?}"));
            keys.push(key);
            rest = tail;
        }
        keys
    }
}

impl Keys for &String {
    fn into_keys(self) -> Vec<KeyInput> {
        self.as_str().into_keys()
    }
}

/// Press `keys` one after another; every effect, in order.
pub fn press(state: &mut State, keys: impl Keys) -> Vec<Effect> {
    keys.into_keys()
        .into_iter()
        .flat_map(|key| update(state, Action::Key(key)))
        .collect()
}

/// Type `text` character by character (no key names); every effect, in order.
pub fn type_text(state: &mut State, text: &str) -> Vec<Effect> {
    text.chars()
        .flat_map(|c| update(state, Action::Key(KeyInput::char(c))))
        .collect()
}
