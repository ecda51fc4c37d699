//! Hints are read from the keymap: a binding changed in the keymap shows in the views' and
//! dialogs' hints, and the key it replaced is no longer offered.
#![allow(clippy::unwrap_used)]

mod common;

use common::keys::press;
use common::screen::screen;
use common::view_fixtures::app_view_state;
use opsdeck::app::{DEFAULT_KEYMAP, Keymap};

/// The default keymap with scale on `Z` instead of `S` and confirm on `o` instead of `y`.
fn overridden() -> Keymap {
    let text = DEFAULT_KEYMAP
        .replace(
            "on = [\"S\"]\nrun = \"scale\"",
            "on = [\"Z\"]\nrun = \"scale\"",
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
    let mut state = app_view_state(false, false);
    assert!(
        screen(&state, 120, 40).contains("S scale"),
        "the default first"
    );
    state.core.keymap = overridden();
    let app = screen(&state, 120, 40);
    assert!(app.contains("Z scale"), "{app}");
    assert!(!app.contains("S scale"), "{app}");

    press(&mut state, "Z+<Enter>");
    let confirm = screen(&state, 120, 40);
    assert!(confirm.contains("? o/N"), "{confirm}");
    assert!(confirm.contains("o scale now"), "{confirm}");
    assert!(!confirm.contains("y scale now"), "{confirm}");
}
