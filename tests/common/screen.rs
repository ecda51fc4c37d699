//! The console drawn into a `TestBackend` of a fixed size, as text for assertions and insta
//! snapshots (`insta::assert_snapshot!` stays in the test, so snapshot names keep following
//! the test binary and test function).
#![allow(dead_code, clippy::unwrap_used)]

use opsdeck::app::State;
use opsdeck::ui::render;
use opsdeck::ui::theme::Theme;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// `state` drawn once at `width`x`height` in the default theme; the terminal, for tests that
/// look at styles in its buffer.
pub fn draw(state: &State, width: u16, height: u16) -> Terminal<TestBackend> {
    draw_with(state, &Theme::default(), width, height)
}

/// `state` drawn once at `width`x`height` in `theme`.
pub fn draw_with(state: &State, theme: &Theme, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| render(state, theme, f)).unwrap();
    terminal
}

/// The screen as `TestBackend` prints it (rows in quotes), for snapshots.
pub fn screen(state: &State, width: u16, height: u16) -> String {
    draw(state, width, height).backend().to_string()
}

/// The screen in `theme`, as [`screen`] prints it.
pub fn screen_with(state: &State, theme: &Theme, width: u16, height: u16) -> String {
    draw_with(state, theme, width, height).backend().to_string()
}

/// The screen's rows as plain text.
pub fn rows(state: &State, width: u16, height: u16) -> Vec<String> {
    let terminal = draw(state, width, height);
    let buf = terminal.backend().buffer();
    (0..height)
        .map(|y| (0..width).map(|x| buf[(x, y)].symbol()).collect())
        .collect()
}
