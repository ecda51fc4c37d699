//! Hints are read from the keymap: a binding changed in the keymap shows in the views' and
//! dialogs' hints, and the key it replaced is no longer offered.
#![allow(clippy::unwrap_used)]

mod fixtures;
mod view_fixtures;

use opsdeck::app::{Action, DEFAULT_KEYMAP, KeyCode, KeyInput, Keymap, State, update};
use opsdeck::ui::render;
use opsdeck::ui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn screen(state: &State) -> String {
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    terminal
        .draw(|f| render(state, &Theme::default(), f))
        .unwrap();
    terminal.backend().to_string()
}

/// The default keymap with scale on `Z` instead of `S` and confirm on `o` instead of `y`.
fn overridden() -> Keymap {
    let text = DEFAULT_KEYMAP
        .replace(
            "on = [\"S\"]\nrun = \"open_scale\"",
            "on = [\"Z\"]\nrun = \"open_scale\"",
        )
        .replace(
            "on = [\"y\", \"Y\"]\nrun = \"confirm\"",
            "on = [\"o\"]\nrun = \"confirm\"",
        );
    assert_ne!(text, DEFAULT_KEYMAP);
    Keymap::from_toml(&text).unwrap()
}

#[test]
fn an_overridden_key_shows_in_the_hints_of_the_view_and_the_dialog() {
    let mut state = view_fixtures::app_view_state(false, false);
    assert!(screen(&state).contains("S scale"), "the default first");
    state.core.keymap = overridden();
    let app = screen(&state);
    assert!(app.contains("Z scale"), "{app}");
    assert!(!app.contains("S scale"), "{app}");

    update(&mut state, Action::Key(KeyInput::char('Z')));
    update(&mut state, Action::Key(KeyInput::char('+')));
    update(&mut state, Action::Key(KeyInput::plain(KeyCode::Enter)));
    let confirm = screen(&state);
    assert!(confirm.contains("? o/N"), "{confirm}");
    assert!(confirm.contains("o scale now"), "{confirm}");
    assert!(!confirm.contains("y scale now"), "{confirm}");
}
