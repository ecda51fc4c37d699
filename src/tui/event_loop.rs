//! The one loop: `select! { biased; signals, keys, driver results, clock }`, then drain what
//! is queued, then draw at most once, and only if something changed, at most every 16 ms.
//! Ctrl-Z, or SIGTSTP from outside, suspends to the shell from here and redraws on return.

use std::time::Duration;

use chrono::Utc;
use crossterm::event::EventStream;
use futures_util::StreamExt;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior, interval, sleep_until};

use super::Session;
use super::input;
use super::pacing::{self, next_frame_gap};
use super::save_logs;
use super::terminal::{self, Tui};
use crate::app::{Action, Effect, State, update};
use crate::client::http::HttpClient;
use crate::client::stream::StreamCommand;
use crate::ui::{self, color_depth::ColorDepth, theme::Theme};

/// Most queued actions applied before a frame is drawn, so a flood cannot starve the screen.
const MAX_DRAIN: usize = 4096;
/// How stale the clock may be when an action arrives before it is ticked again.
const FRESH_CLOCK: Duration = Duration::from_millis(100);

/// Where effects go.
pub struct Drivers {
    pub http: HttpClient,
    /// The subscription the core wants: the latest wins, none is ever dropped for lack of room.
    pub stream: watch::Sender<Option<StreamCommand>>,
    /// Handed to HTTP tasks so their replies come back.
    pub actions: mpsc::Sender<Action>,
}

impl Drivers {
    /// Hand effects to the drivers without waiting on the network. Returns false on Quit.
    pub fn perform(&self, effects: Vec<Effect>) -> bool {
        let mut go_on = true;
        for effect in effects {
            match effect {
                Effect::Subscribe { topics, resume } => {
                    let cmd = StreamCommand::Subscribe { topics, resume };
                    self.stream.send_replace(Some(cmd));
                }
                Effect::Http(request) => self.http.spawn(request, self.actions.clone()),
                Effect::SaveLogs { file_name, lines } => {
                    let actions = self.actions.clone();
                    tokio::task::spawn_blocking(move || {
                        let result = save_logs::write(&file_name, &lines);
                        // The console may have quit meanwhile; then nobody needs to know.
                        let _ = actions.blocking_send(Action::LogsSaved(result));
                    });
                }
                // The loop itself switches: see `take_switch`.
                Effect::SwitchContext(_) => {}
                Effect::Quit => go_on = false,
            }
        }
        go_on
    }
}

/// The context the effects ask to switch to (`:ctx`), if any: the loop, not a driver,
/// carries that out.
fn take_switch(effects: &[Effect]) -> Option<String> {
    effects.iter().rev().find_map(|e| match e {
        Effect::SwitchContext(name) => Some(name.clone()),
        _ => None,
    })
}

/// The theme in use, by name; `:theme` changes the name in the state and this follows.
pub struct Themes {
    theme: Theme,
    name: String,
    no_color: bool,
    /// The terminal's colour depth: every theme loaded is adapted to it.
    depth: ColorDepth,
    /// The user's theme folder, searched for names that are not built in.
    user_dir: Option<std::path::PathBuf>,
}

impl Themes {
    pub fn new(theme: Theme, name: String, no_color: bool, depth: ColorDepth) -> Self {
        Themes {
            theme,
            name,
            no_color,
            depth,
            user_dir: None,
        }
    }

    pub fn with_user_dir(mut self, dir: Option<std::path::PathBuf>) -> Self {
        self.user_dir = dir;
        self
    }

    /// Load the theme the state names, if it changed. A theme that fails to load keeps the
    /// old one, and the returned action tells the operator why (`:theme` accepts the built-in
    /// names and the user folder's).
    pub fn follow(&mut self, state: &State) -> Option<Action> {
        if state.core.theme == self.name {
            return None;
        }
        match Theme::resolve_in(
            Some(&state.core.theme),
            self.no_color,
            self.user_dir.as_deref(),
        ) {
            Ok(theme) => {
                // OPSDECK_ASCII is not part of a theme: keep it across switches.
                self.theme = theme.adapted(self.depth).with_ascii(self.theme.ascii());
                self.name = state.core.theme.clone();
                None
            }
            Err(e) => {
                tracing::warn!(theme = %state.core.theme, error = %e, "theme not switched");
                Some(Action::ThemeFailed {
                    name: state.core.theme.clone(),
                    kept: self.name.clone(),
                    error: e.to_string(),
                })
            }
        }
    }
}

/// Run until the operator quits (`None`) or switches context with `:ctx` (the next session,
/// which `switch` made; when it cannot, the operator is told why and the loop goes on).
pub(crate) async fn run(
    tui: &mut Tui,
    mut state: State,
    mut themes: Themes,
    drivers: Drivers,
    mut actions: mpsc::Receiver<Action>,
    switch: &mut dyn FnMut(&str) -> anyhow::Result<Session>,
) -> anyhow::Result<Option<Session>> {
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    // `kill -TSTP` from outside: give the terminal back before stopping, as Ctrl-Z does.
    let mut stop = signal(SignalKind::from_raw(libc::SIGTSTP))?;
    let mut keys = EventStream::new();
    let mut clock = interval(Duration::from_secs(1));
    clock.set_missed_tick_behavior(MissedTickBehavior::Skip);

    let (w, h) = tui.size()?;
    update(
        &mut state,
        Action::Resize {
            width: w,
            height: h,
        },
    );
    drivers.perform(update(&mut state, Action::Tick(Utc::now())));
    // The platform second on screen: the clock is redrawn when it moves.
    let mut shown_second = state.core.now.timestamp();
    let mut dirty = true;
    let mut last_draw: Option<Instant> = None;
    // What the last frame drew where, for mouse clicks.
    let mut hits = ui::HitMap::default();
    let mut gap = pacing::FRAME_GAP;
    let mut last_tick = Instant::now();

    loop {
        if terminal::panicked() {
            return Ok(None);
        }
        let now = Instant::now();
        let next_frame = last_draw.map_or(now, |t| t + gap);
        if dirty && now >= next_frame {
            if let Some(failed) = themes.follow(&state) {
                drivers.perform(update(&mut state, failed));
            }
            let theme = &themes.theme;
            let bytes = tui.draw(|frame| ui::render(&state, theme, frame))?;
            let (w, h) = state.core.size;
            let screen = ratatui::layout::Rect::new(0, 0, w, h);
            if tui.captures_mouse() {
                hits = ui::hit_map(&state, screen);
            }
            if let Some(top) = ui::overview_top(&state, screen)
                && top != state.overview.top
            {
                update(&mut state, Action::OverviewScrolled { top });
            }
            gap = next_frame_gap(now.elapsed(), bytes);
            dirty = false;
            last_draw = Some(now);
        }
        let draw_at = last_draw.map_or(now, |t| t + gap);

        let mut go_on = true;
        // A `:ctx NAME` typed by the operator.
        let mut switch_to = None;
        tokio::select! {
            biased;
            _ = terminate.recv() => return Ok(None),
            _ = hangup.recv() => return Ok(None),
            _ = interrupt.recv() => return Ok(None),
            _ = stop.recv() => {
                suspend(tui, &mut state)?;
                dirty = true;
            }
            event = keys.next() => match event {
                Some(Ok(event)) if input::is_suspend(&event) => {
                    suspend(tui, &mut state)?;
                    dirty = true;
                }
                Some(Ok(event)) => {
                    let click_at = |x, y| hits.at(x, y);
                    if let Some(action) = input::to_action(event, click_at) {
                        if matches!(action, Action::Resize { .. }) {
                            tui.autoresize()?;
                        }
                        let effects = update(&mut state, action);
                        switch_to = take_switch(&effects);
                        go_on = drivers.perform(effects);
                        dirty = true;
                    }
                }
                Some(Err(e)) => return Err(e.into()),
                None => return Ok(None), // the terminal is gone
            },
            Some(action) = actions.recv() => {
                // What arrives is stamped with the console's now (a notice's time, an action
                // heard of): bring the clock up to date first, so at --speed 10 a notice is
                // not up to ten platform seconds behind the run it reports.
                if last_tick.elapsed() >= FRESH_CLOCK {
                    last_tick = Instant::now();
                    go_on = drivers.perform(update(&mut state, Action::Tick(Utc::now())));
                }
                go_on &= drivers.perform(update(&mut state, action));
                for _ in 0..MAX_DRAIN {
                    let Ok(action) = actions.try_recv() else { break };
                    go_on &= drivers.perform(update(&mut state, action));
                }
                dirty = true;
            }
            _ = clock.tick() => {
                last_tick = Instant::now();
                let now = Utc::now();
                // A tick can ask for work (e.g. the App view's periodic pod refresh).
                go_on = drivers.perform(update(&mut state, Action::Tick(now)));
                if state.core.now.timestamp() != shown_second {
                    shown_second = state.core.now.timestamp();
                    dirty = true;
                }
            }
            _ = sleep_until(draw_at), if dirty => {}
        }
        if !go_on || state.quitting {
            return Ok(None);
        }
        if let Some(name) = switch_to {
            match switch(&name) {
                Ok(next) => return Ok(Some(next)),
                Err(e) => {
                    tracing::warn!(context = %name, error = %format!("{e:#}"), "context not switched");
                    let failed = Action::ContextFailed {
                        name,
                        error: format!("{e:#}"),
                    };
                    drivers.perform(update(&mut state, failed));
                    dirty = true;
                }
            }
        }
    }
}

/// Suspend to the shell and come back: the terminal is given back, the process stops until
/// `fg`, and the core learns the screen's size, which may have changed meanwhile.
fn suspend(tui: &mut Tui, state: &mut State) -> std::io::Result<()> {
    tracing::info!("suspending to the shell");
    tui.suspend()?;
    tracing::info!("continued");
    let (width, height) = tui.size()?;
    update(state, Action::Resize { width, height });
    Ok(())
}
