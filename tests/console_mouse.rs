//! The mouse (`--mouse`): the wheel scrolls the view as Down/Up would, a click on an overview
//! row selects the app and a click on the selected app opens it; neither touches a dialog.
#![allow(clippy::unwrap_used)]

mod fixtures;

use fixtures::*;
use opsdeck::app::{Action, ClickTarget, KeyCode, KeyInput, State, View, update};
use ratatui::layout::Rect;

fn selected_index(state: &State) -> usize {
    state.selected_index().unwrap()
}

#[test]
fn the_wheel_moves_the_overview_selection_three_rows() {
    let mut state = loaded_state(false);
    assert_eq!(selected_index(&state), 0);
    update(&mut state, Action::Wheel { down: true });
    assert_eq!(selected_index(&state), 3);
    update(&mut state, Action::Wheel { down: false });
    assert_eq!(selected_index(&state), 0);
}

#[test]
fn the_wheel_does_nothing_while_a_dialog_is_open() {
    let mut state = loaded_state(false);
    update(&mut state, Action::Key(KeyInput::char('S')));
    let dialog = state.dialog.clone();
    assert!(dialog.is_some(), "S opens the scale dialog");
    update(&mut state, Action::Wheel { down: true });
    update(&mut state, Action::Wheel { down: false });
    assert_eq!(state.dialog, dialog, "the replica count was not touched");
    assert_eq!(selected_index(&state), 0);
}

#[test]
fn a_click_selects_an_app_and_a_second_click_opens_it() {
    let mut state = loaded_state(false);
    let target = state.order[2].clone();
    let fx = update(&mut state, Action::Click(ClickTarget::OverviewRow(2)));
    assert!(fx.is_empty());
    assert_eq!(state.selected.as_ref(), Some(&target));
    assert_eq!(state.view, View::Overview);
    update(&mut state, Action::Click(ClickTarget::OverviewRow(2)));
    assert_eq!(state.view, View::App);
    assert_eq!(state.app_view.app, target);
    // A row that does not exist (the list shrank) does nothing.
    update(&mut state, Action::Key(KeyInput::plain(KeyCode::Esc)));
    update(&mut state, Action::Click(ClickTarget::OverviewRow(999)));
    assert_eq!(state.selected.as_ref(), Some(&target));
}

#[test]
fn a_click_lands_on_the_row_the_screen_shows_there() {
    let mut state = loaded_state(false);
    let screen = Rect::new(0, 0, 80, 24);
    update(
        &mut state,
        Action::Resize {
            width: 80,
            height: 24,
        },
    );
    // Header on row 0, the table's column titles on row 1, the first app on row 2.
    assert_eq!(opsdeck::ui::click_target(&state, screen, 10, 0), None);
    assert_eq!(opsdeck::ui::click_target(&state, screen, 10, 1), None);
    assert_eq!(
        opsdeck::ui::click_target(&state, screen, 10, 2),
        Some(ClickTarget::OverviewRow(0))
    );
    assert_eq!(
        opsdeck::ui::click_target(&state, screen, 10, 4),
        Some(ClickTarget::OverviewRow(2))
    );
    // Below the last app: nothing.
    let below = 2 + state.order.len() as u16;
    assert_eq!(opsdeck::ui::click_target(&state, screen, 10, below), None);

    // On a screen too short for every app the list scrolls with the selection, and so do clicks.
    let short = Rect::new(0, 0, 80, 6);
    let last = state.order.len() - 1;
    state.selected = Some(state.order[last].clone());
    let rows = (0..6)
        .filter_map(|y| opsdeck::ui::click_target(&state, short, 10, y))
        .collect::<Vec<_>>();
    assert_eq!(rows.last(), Some(&ClickTarget::OverviewRow(last)));
    assert!(!rows.contains(&ClickTarget::OverviewRow(0)), "{rows:?}");

    // Nothing is clickable under a dialog.
    update(&mut state, Action::Key(KeyInput::char('S')));
    assert_eq!(opsdeck::ui::click_target(&state, screen, 10, 2), None);
}
