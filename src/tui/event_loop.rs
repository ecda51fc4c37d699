//! The one loop: `select! { biased; signals, keys, the writer, driver results, clock }`, then
//! drain what is queued, then draw at most once, and only if something changed: when the writer
//! is free and the terminal has answered for the frames before (`tui::pacing`), at most every
//! 16 ms. The loop never writes to the terminal itself, so keys are read and handled while a
//! frame is on its way. Ctrl-Z, or SIGTSTP from outside, suspends to the shell from here and
//! redraws on return.

use std::time::Duration;

use chrono::Utc;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::{mpsc, watch};
use tokio::time::{Instant, MissedTickBehavior, interval, sleep_until};

use super::Session;
use super::input;
use super::pacing::{self, Pacer};
use super::reader::{self, Input};
use super::save_logs;
use super::terminal::{self, Tui};
use super::writer::Writer;
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

/// How the loop ended.
enum Exit {
    /// The operator quit, or a signal asked us to: the terminal is still there.
    Quit,
    /// The terminal is gone (SIGHUP, end of input) or a panic has given it back already.
    Gone,
    /// `:ctx NAME`: the next context's session, made by `switch`.
    Switch(Box<Session>),
}

/// How long the way out (quit, Ctrl-Z) waits for the frame being written and the answers
/// still due, so that no answer lands in the shell after the terminal is given back.
const SETTLE_PATIENCE: Duration = Duration::from_secs(2);

/// The terminal's side of the loop: the writer, its input, and when the next frame may go.
/// One for the console's life: a context switch keeps it (one reader of the terminal).
pub(crate) struct Glass {
    writer: Writer,
    input: mpsc::Receiver<Input>,
    pacer: Pacer,
}

impl Glass {
    /// Start the writer and the reader of the terminal.
    pub(crate) fn new() -> anyhow::Result<Glass> {
        let limit = Pacer::limit_from(std::env::var("OPSDECK_FRAMES_IN_FLIGHT").ok().as_deref());
        Ok(Glass {
            writer: Writer::spawn()?,
            input: reader::spawn()?,
            pacer: Pacer::new(limit),
        })
    }

    /// Let the frame being written go out, then hear the answers still due (keys typed
    /// meanwhile are dropped), each for a while at most.
    async fn settle(&mut self) {
        let deadline = Instant::now() + SETTLE_PATIENCE;
        if !self.writer.wait_free(SETTLE_PATIENCE).await {
            return;
        }
        let deadline = self
            .pacer
            .deadline()
            .map_or(deadline, |d| deadline.min(Instant::from_std(d)));
        while self.pacer.in_flight() > 0 {
            match tokio::time::timeout_at(deadline, self.input.recv()).await {
                Ok(Some(Input::Answer)) => self.pacer.answered(std::time::Instant::now()),
                Ok(Some(Input::Event(_))) => {}
                Ok(None) | Err(_) => return,
            }
        }
    }
}

/// Run until the operator quits (`None`) or switches context with `:ctx` (the next session,
/// which `switch` made; when it cannot, the operator is told why and the loop goes on).
pub(crate) async fn run(
    tui: &mut Tui,
    state: State,
    themes: Themes,
    drivers: Drivers,
    actions: mpsc::Receiver<Action>,
    switch: &mut dyn FnMut(&str) -> anyhow::Result<Session>,
    glass: &mut Glass,
) -> anyhow::Result<Option<Session>> {
    match serve(tui, state, themes, drivers, actions, switch, glass).await? {
        Exit::Quit => {
            glass.settle().await;
            Ok(None)
        }
        Exit::Gone => Ok(None),
        Exit::Switch(next) => {
            glass.settle().await;
            Ok(Some(*next))
        }
    }
}

async fn serve(
    tui: &mut Tui,
    mut state: State,
    mut themes: Themes,
    drivers: Drivers,
    mut actions: mpsc::Receiver<Action>,
    switch: &mut dyn FnMut(&str) -> anyhow::Result<Session>,
    glass: &mut Glass,
) -> anyhow::Result<Exit> {
    let mut terminate = signal(SignalKind::terminate())?;
    let mut hangup = signal(SignalKind::hangup())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut resized = signal(SignalKind::window_change())?;
    // `kill -TSTP` from outside: give the terminal back before stopping, as Ctrl-Z does.
    let mut stop = signal(SignalKind::from_raw(libc::SIGTSTP))?;
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
    // The change to draw answers a key (or a click): its frame need not wait for the answer to
    // the frame in flight (`Pacer::open`).
    let mut for_key = false;
    // What the last frame drew where, for mouse clicks.
    let mut hits = ui::HitMap::default();
    let mut last_tick = Instant::now();

    loop {
        if terminal::panicked() {
            return Ok(Exit::Gone);
        }
        let now = std::time::Instant::now();
        let may_draw = dirty && !glass.writer.busy() && glass.pacer.open(for_key);
        if may_draw && now >= glass.pacer.next_frame_at(now, for_key) {
            if let Some(failed) = themes.follow(&state) {
                drivers.perform(update(&mut state, failed));
            }
            let theme = &themes.theme;
            let mut frame = tui.draw(|frame| ui::render(&state, theme, frame))?;
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
            if glass.pacer.frame_sent(now, frame.len() as u64) {
                frame.extend_from_slice(pacing::QUERY);
            }
            glass.writer.send(frame)?;
            dirty = false;
            for_key = false;
        }
        let may_draw = dirty && !glass.writer.busy() && glass.pacer.open(for_key);
        let draw_at = Instant::from_std(glass.pacer.next_frame_at(now, for_key));
        let deadline = glass.pacer.deadline().map(Instant::from_std);
        let busy = glass.writer.busy();

        let mut go_on = true;
        // A `:ctx NAME` typed by the operator.
        let mut switch_to = None;
        tokio::select! {
            biased;
            _ = terminate.recv() => return Ok(Exit::Quit),
            _ = hangup.recv() => return Ok(Exit::Gone),
            _ = interrupt.recv() => return Ok(Exit::Quit),
            _ = stop.recv() => {
                suspend(tui, &mut state, glass).await?;
                dirty = true;
            }
            input = glass.input.recv() => match input {
                Some(Input::Answer) => glass.pacer.answered(std::time::Instant::now()),
                Some(Input::Event(event)) if input::is_suspend(&event) => {
                    suspend(tui, &mut state, glass).await?;
                    dirty = true;
                }
                Some(Input::Event(event)) => {
                    let click_at = |x, y| hits.at(x, y);
                    if let Some(action) = input::to_action(event, click_at) {
                        let effects = update(&mut state, action);
                        switch_to = take_switch(&effects);
                        go_on = drivers.perform(effects);
                        dirty = true;
                        for_key = true;
                    }
                }
                None => return Ok(Exit::Gone), // the terminal is gone
            },
            _ = resized.recv() => {
                tui.autoresize()?;
                let (width, height) = tui.size()?;
                go_on = drivers.perform(update(&mut state, Action::Resize { width, height }));
                dirty = true;
            }
            written = glass.writer.written(), if busy => match written {
                Some(written) => {
                    written.result?;
                    glass.pacer.frame_written(written.took, written.bytes);
                }
                None => anyhow::bail!("the terminal writer stopped"),
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
            _ = sleep_until(draw_at), if may_draw => {}
            _ = sleep_until(deadline.unwrap_or(draw_at)), if deadline.is_some() => {
                glass.pacer.timed_out(std::time::Instant::now());
            }
        }
        if !go_on || state.quitting {
            return Ok(Exit::Quit);
        }
        if let Some(name) = switch_to {
            match switch(&name) {
                Ok(next) => return Ok(Exit::Switch(Box::new(next))),
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

/// Suspend to the shell and come back: the frame in flight and its answer are let through,
/// the terminal is given back, the process stops until `fg`, and the core learns the screen's
/// size, which may have changed meanwhile.
async fn suspend(tui: &mut Tui, state: &mut State, glass: &mut Glass) -> std::io::Result<()> {
    tracing::info!("suspending to the shell");
    glass.settle().await;
    tui.suspend()?;
    glass.pacer.forget_in_flight();
    tracing::info!("continued");
    let (width, height) = tui.size()?;
    update(state, Action::Resize { width, height });
    Ok(())
}
