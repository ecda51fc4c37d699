//! The mouse (`--mouse`): the wheel scrolls the view as Down/Up would, a click on an overview
//! row selects the app and a click on the selected app opens it; neither touches a dialog.
#![allow(clippy::unwrap_used)]

mod common;

use common::fixtures;
use fixtures::*;
use opsdeck::app::{Action, ClickTarget, KeyCode, KeyInput, State, View, update};
use ratatui::layout::Rect;

fn selected_index(state: &State) -> usize {
    state.overview.selected_index().unwrap()
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

fn row(app: &str, top: usize) -> ClickTarget {
    ClickTarget::OverviewRow {
        app: app.to_string(),
        top,
    }
}

#[test]
fn a_click_selects_an_app_and_a_second_click_opens_it() {
    let mut state = loaded_state(false);
    let target = state.overview.order[2].clone();
    let fx = update(&mut state, Action::Click(row(&target, 0)));
    assert!(fx.is_empty());
    assert_eq!(state.overview.selected.as_ref(), Some(&target));
    assert_eq!(state.view, View::Overview);
    update(&mut state, Action::Click(row(&target, 0)));
    assert_eq!(state.view, View::App);
    assert_eq!(state.app_view.app, target);
    // An app that is no longer listed does nothing.
    update(&mut state, Action::Key(KeyInput::plain(KeyCode::Esc)));
    update(&mut state, Action::Click(row("gone-app", 0)));
    assert_eq!(state.overview.selected.as_ref(), Some(&target));
}

/// What the screen shows at row `y` (a click there), for a frame drawn from `state`.
fn click_at(state: &State, screen: Rect, y: u16) -> Option<ClickTarget> {
    opsdeck::ui::click_target(state, screen, 10, y)
}

/// Draw a frame the way the console does: the overview's first row is kept for the next one.
fn draw(state: &mut State, screen: Rect) {
    if let Some(top) = opsdeck::ui::overview_top(state, screen) {
        update(state, Action::OverviewScrolled { top });
    }
}

#[test]
fn a_click_lands_on_the_row_the_screen_shows_there() {
    let mut state = loaded_state(false);
    let screen = Rect::new(0, 0, 80, 24);
    // Header on row 0, the table's column titles on row 1, the first app on row 2.
    assert_eq!(click_at(&state, screen, 0), None);
    assert_eq!(click_at(&state, screen, 1), None);
    assert_eq!(
        click_at(&state, screen, 2),
        Some(row(&state.overview.order[0], 0))
    );
    assert_eq!(
        click_at(&state, screen, 4),
        Some(row(&state.overview.order[2], 0))
    );
    // Below the last app: nothing.
    let below = 2 + state.overview.order.len() as u16;
    assert_eq!(click_at(&state, screen, below), None);
    // Nothing is clickable under a dialog.
    update(&mut state, Action::Key(KeyInput::char('S')));
    assert_eq!(click_at(&state, screen, 2), None);
}

#[test]
fn on_a_scrolled_overview_a_second_click_in_the_same_place_opens_the_same_app() {
    let mut state = loaded_state(false);
    // Too short for every app: three app rows show.
    let screen = Rect::new(0, 0, 80, 6);
    let last = state.overview.order.len() - 1;
    assert!(last >= 4, "enough apps to scroll");
    state.overview.choose(state.overview.order[last].clone());
    draw(&mut state, screen);
    let shown: Vec<_> = (0..6).filter_map(|y| click_at(&state, screen, y)).collect();
    assert_eq!(shown.len(), 3, "{shown:?}");
    assert_eq!(
        shown.last(),
        Some(&row(&state.overview.order[last], last - 2))
    );
    // Click the top row: it is selected and the list stays where it was.
    let y = (0..6)
        .find(|y| click_at(&state, screen, *y).is_some())
        .unwrap();
    let first = click_at(&state, screen, y).unwrap();
    update(&mut state, Action::Click(first.clone()));
    draw(&mut state, screen);
    assert_eq!(
        state.overview.selected.as_ref(),
        Some(&state.overview.order[last - 2])
    );
    assert_eq!(click_at(&state, screen, y), Some(first.clone()));
    // The same place again opens it.
    let again = click_at(&state, screen, y).unwrap();
    update(&mut state, Action::Click(again));
    assert_eq!(state.view, View::App);
    assert_eq!(state.app_view.app, state.overview.order[last - 2]);
}

#[test]
fn keys_scroll_the_overview_only_as_far_as_the_selection_needs() {
    let mut state = loaded_state(false);
    let screen = Rect::new(0, 0, 80, 6);
    let last = state.overview.order.len() - 1;
    state.overview.choose(state.overview.order[last].clone());
    draw(&mut state, screen);
    assert_eq!(state.overview.top, last - 2);
    // Up within the shown rows: the list does not move.
    update(&mut state, Action::Key(KeyInput::char('k')));
    draw(&mut state, screen);
    assert_eq!(state.overview.top, last - 2);
    update(&mut state, Action::Key(KeyInput::char('k')));
    update(&mut state, Action::Key(KeyInput::char('k')));
    draw(&mut state, screen);
    assert_eq!(
        state.overview.top,
        last - 3,
        "up past the top scrolls by one"
    );
    update(&mut state, Action::Key(KeyInput::char('g')));
    draw(&mut state, screen);
    assert_eq!(state.overview.top, 0);
}
