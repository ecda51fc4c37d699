//! Rendering only: draws a frame from `&State` and `&Theme`, changes nothing.
//!
//! Layout, top to bottom: header, banner (while the stream is down and data is shown, or an
//! app's metrics cannot be read), the view, action progress lines, the newest notification, status bar (the command line while
//! it is open); dialogs and help on top.

pub mod color_depth;
pub mod format;
pub mod layers;
pub mod svg;
pub mod theme;
pub mod views;
pub mod widgets;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Position, Rect};

use crate::app::{ClickTarget, Dialog, State, View, context_layer};
use theme::Theme;

/// The screen's bands, top to bottom: header, disconnected banner, the view, action progress
/// lines, the newest notification, status bar.
fn bands(state: &State, area: Rect) -> [Rect; 6] {
    let banner = u16::from(widgets::status::has_banner(state));
    let progress = widgets::progress::height(state);
    let notice = u16::from(!state.core.notifications.is_empty());
    Layout::vertical([
        Constraint::Length(1),
        Constraint::Length(banner),
        Constraint::Min(0),
        Constraint::Length(progress),
        Constraint::Length(notice),
        Constraint::Length(1),
    ])
    .areas(area)
}

/// Where the things a click can land on were drawn in one frame.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HitMap {
    rows: Vec<(Rect, ClickTarget)>,
}

impl HitMap {
    /// What is at (`x`, `y`).
    pub fn at(&self, x: u16, y: u16) -> Option<ClickTarget> {
        self.rows
            .iter()
            .find(|(r, _)| r.contains(Position { x, y }))
            .map(|(_, t)| t.clone())
    }
}

/// The clickable places of the frame `render` draws from `state` on a screen of `area`.
/// Computed right after drawing (with `--mouse` only), so a click is resolved against what the
/// operator saw, not against a state that has moved on since.
pub fn hit_map(state: &State, area: Rect) -> HitMap {
    let [_, _, body, ..] = bands(state, area);
    if state.view != View::Overview
        || state.dialog.is_some()
        || state.help_open
        || state.prompt.is_some()
    {
        return HitMap::default();
    }
    let rows = views::overview::hits(state, body)
        .into_iter()
        .map(|(y, t)| (Rect::new(body.x, y, body.width, 1), t))
        .collect();
    HitMap { rows }
}

/// The overview's first shown app in the frame drawn from `state` on a screen of `area`, when
/// the overview is the view; the next frame starts from there (`Action::OverviewScrolled`).
/// Allocates nothing, so it can run after every frame.
pub fn overview_top(state: &State, area: Rect) -> Option<usize> {
    let [_, _, body, ..] = bands(state, area);
    (state.view == View::Overview).then(|| views::overview::top(state, body))
}

/// What a mouse click at (`x`, `y`) on a screen of `area` lands on, in the frame drawn from
/// `state`.
pub fn click_target(state: &State, area: Rect, x: u16, y: u16) -> Option<ClickTarget> {
    hit_map(state, area).at(x, y)
}

/// Draw the whole screen.
pub fn render(state: &State, theme: &Theme, frame: &mut Frame) {
    let area = frame.area();
    let [
        header,
        banner_area,
        body,
        progress_area,
        notice_area,
        status,
    ] = bands(state, area);

    widgets::header::render(state, theme, frame, header);
    widgets::status::render_banner(state, theme, frame, banner_area);
    match state.view {
        View::Overview => views::overview::render(state, theme, frame, body),
        View::Logs => views::logs::render(state, theme, frame, body),
        View::App => views::app::render(state, theme, frame, body),
        View::Releases => views::releases::render(state, theme, frame, body),
        View::Events => views::events::render(state, theme, frame, body),
        View::Alerts => views::alerts::render(state, theme, frame, body),
        View::Runbooks => views::runbooks::render(state, theme, frame, body),
        View::Runbook => views::runbook::render(state, theme, frame, body),
        View::Runs => views::runs::render(state, theme, frame, body),
        View::Run => views::run::render(state, theme, frame, body),
    }
    widgets::progress::render(state, theme, frame, progress_area);
    widgets::status::render_notification(state, theme, frame, notice_area);
    widgets::status::render(state, theme, frame, status);

    match &state.dialog {
        Some(Dialog::Scale(d)) => layers::scale::render(d, &state.core.keymap, theme, frame, body),
        Some(Dialog::Rollback(d)) => {
            layers::rollback::render(d, state.core.now, &state.core.keymap, theme, frame, body)
        }
        Some(Dialog::Ack(d)) => layers::silence::render_ack(
            d,
            &state.core.actor,
            &state.core.keymap,
            theme,
            frame,
            body,
        ),
        Some(Dialog::Silence(d)) => layers::silence::render_silence(
            d,
            state.core.now,
            &state.core.keymap,
            theme,
            frame,
            body,
        ),
        Some(Dialog::Run(d)) => layers::run_confirm::render(d, state, theme, frame, body),
        Some(Dialog::Quit(d)) => {
            layers::quit::render(d, state.core.demo, &state.core.keymap, theme, frame, body)
        }
        None => {}
    }
    if state.view == View::Logs
        && let Some(bar) = &state.logs.filter_bar
    {
        layers::log_filter::render(&state.logs, bar, &state.core.keymap, theme, frame, body);
    }
    if let Some(prompt) = &state.prompt {
        // Candidates sit right above the prompt, over progress lines and notifications.
        let above = ratatui::layout::Rect {
            height: status.y.saturating_sub(body.y),
            ..body
        };
        layers::command::render(prompt, &state.core.keymap, theme, frame, status, above);
    }
    if state.help_open {
        layers::help::render(
            &state.core.keymap,
            state.core.readonly,
            context_layer(state),
            state.help_scroll,
            theme,
            frame,
            area,
        );
    }
}
