//! The help overlay scrolls: at 80x24 every binding of the layer in use and of `global` can be
//! brought on screen with `j`, and the border says when more lines wait below.
#![allow(clippy::unwrap_used)]

mod common;

use common::fixtures;
use common::keys::press;
use common::screen::rows;
use fixtures::*;
use opsdeck::app::{Action, KeyCode, KeyInput, Layer, State, context_layer, update};

/// Open help over whatever `state` shows, then scroll to the end with `j`, collecting every
/// screen on the way. Returns the screens.
fn scroll_through_help(state: &mut State, width: u16, height: u16) -> Vec<Vec<String>> {
    update(state, Action::Resize { width, height });
    press(state, KeyInput::char('?'));
    assert!(state.help_open);
    let mut screens = vec![rows(state, width, height)];
    for _ in 0..400 {
        let before = state.help_scroll;
        press(state, KeyInput::char('j'));
        if state.help_scroll == before {
            break;
        }
        screens.push(rows(state, width, height));
    }
    screens
}

fn assert_layers_reachable(state: &mut State, what: &str) {
    let context = context_layer(state);
    let keymap = state.core.keymap.clone();
    let screens = scroll_through_help(state, 80, 24);
    assert!(
        screens[0].iter().any(|r| r.contains("more ↓")),
        "{what}: the first screen should say more lines wait below"
    );
    let last = screens.last().unwrap();
    assert!(
        !last.iter().any(|r| r.contains("more ↓")),
        "{what}: the end of help still says more ↓"
    );
    // Each screen's text inside the box, rows joined, blanks collapsed: a description wrapped
    // onto the rows under it reads whole.
    let inside: Vec<String> = screens
        .iter()
        .map(|screen| {
            let rows: Vec<&str> = screen
                .iter()
                .filter_map(|r| {
                    let start = r.find('│')? + '│'.len_utf8();
                    let end = r.rfind('│')?;
                    (end > start).then(|| &r[start..end])
                })
                .collect();
            collapse(&rows.join(" "))
        })
        .collect();
    for layer in [context, Layer::Global] {
        for b in keymap.bindings(layer) {
            let keys =
                b.on.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ");
            let line = collapse(&format!("{keys} {}", b.desc));
            assert!(
                inside.iter().any(|text| text.contains(&line)),
                "{what}: {layer:?} binding {line:?} never shows whole while scrolling"
            );
        }
    }
}

/// `text` with every run of blanks one space.
fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[test]
fn every_binding_of_the_active_layers_is_reachable_at_80x24() {
    let cases: [(&str, Vec<KeyInput>); 6] = [
        ("overview", vec![]),
        ("logs", vec![KeyInput::char('l')]),
        ("alerts", vec![KeyInput::char('a')]),
        ("app view", vec![KeyInput::plain(KeyCode::Enter)]),
        ("releases", vec![KeyInput::char('r')]),
        ("scale dialog", vec![KeyInput::char('S')]),
    ];
    for (what, keys) in cases {
        let mut state = loaded_state(false);
        for k in keys {
            press(&mut state, k);
        }
        assert_layers_reachable(&mut state, what);
    }
}

#[test]
fn scrolling_is_clamped_and_closing_resets_it() {
    let mut state = loaded_state(false);
    let screens = scroll_through_help(&mut state, 80, 24);
    let end = state.help_scroll;
    assert!(end > 0 && screens.len() > 1);
    press(&mut state, KeyInput::plain(KeyCode::PageDown));
    assert_eq!(state.help_scroll, end, "cannot scroll past the end");
    press(&mut state, KeyInput::char('k'));
    assert_eq!(state.help_scroll, end - 1);
    press(&mut state, KeyInput::char('g'));
    assert_eq!(state.help_scroll, 0);
    press(&mut state, KeyInput::char('G'));
    assert_eq!(state.help_scroll, end);
    assert!(rows(&state, 80, 24).iter().any(|r| r.contains("↑ more")));
    press(&mut state, KeyInput::plain(KeyCode::Esc));
    assert!(!state.help_open);
    press(&mut state, KeyInput::char('?'));
    assert_eq!(state.help_scroll, 0);
}

#[test]
fn help_that_fits_does_not_scroll() {
    let mut state = loaded_state(false);
    update(
        &mut state,
        Action::Resize {
            width: 200,
            height: 400,
        },
    );
    press(&mut state, KeyInput::char('?'));
    press(&mut state, KeyInput::char('j'));
    assert_eq!(state.help_scroll, 0);
    assert!(
        !rows(&state, 200, 400)
            .iter()
            .any(|r| r.contains("more ↓") || r.contains("↑ more"))
    );
}

#[test]
fn help_ends_with_the_terminal_keys_that_the_keymap_does_not_hold() {
    let mut state = common::fixtures::loaded_state(false);
    common::keys::press(&mut state, "?G");
    let screen = common::screen::screen(&state, 80, 24);
    assert!(screen.contains("Terminal"), "{screen}");
    assert!(screen.contains("Ctrl-z"), "{screen}");
}
