//! Terminal glue: starts the drivers, owns the terminal, runs the one event loop.
//!
//! [`run_console`] is the console's entry point; `main.rs` calls it (after starting the
//! embedded gateway, in demo mode).

pub mod event_loop;
pub mod input;
pub mod link;
pub mod logging;
pub mod pacing;
pub mod reader;
pub mod save_logs;
pub mod scroll;
pub mod terminal;
pub mod writer;

use std::path::PathBuf;

use anyhow::Context;
use chrono::{Offset, Utc};
use etcetera::BaseStrategy;
use tokio::sync::mpsc;

use crate::app::logs::LogsConfig;
use crate::app::{Keymap, Navigate, State, StateConfig, navigate};
use crate::client::http::HttpClient;
use crate::client::{BearerToken, stream, tls};
use crate::config::console::{Settings, StartView};
use crate::ui::color_depth::ColorDepth;
use crate::ui::theme::{BUILTIN_THEMES, Theme};

/// Capacity of the channel that carries driver results to the UI loop.
const ACTION_QUEUE: usize = 1024;

/// How to run the console.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsoleOptions {
    /// Gateway WebSocket base URL, e.g. `ws://127.0.0.1:7070` (the stream is `{url}/v1/stream`,
    /// HTTP calls go to the same host over `http://`). `wss://` means TLS for both
    /// (`https://`).
    pub url: String,
    /// Sent as `Authorization: Bearer` on every call and stream, when given.
    pub token: Option<BearerToken>,
    /// A PEM file of CA certificates trusted for `wss://`, in addition to the system roots.
    pub ca_cert: Option<PathBuf>,
    /// Talking to the embedded simulator: the header says DEMO.
    pub demo: bool,
    /// No actions: the header says READ-ONLY and dialogs that change things do not open.
    pub readonly: bool,
    /// A production context: a rollback needs the app name typed to confirm.
    pub production: bool,
    /// A built-in theme name (`dark`, `light`, `high-contrast`, `colorblind`) or a path to a
    /// theme `.toml`. `NO_COLOR` overrides it.
    pub theme: Option<String>,
    /// Log lines held for the Logs view (default 100,000).
    pub log_buffer: usize,
    /// Capture the mouse: the wheel scrolls, a click selects (and on the selected app, opens).
    pub mouse: bool,
    /// The keymap, with the config file's overrides applied.
    pub keymap: Keymap,
    /// The config file's context in use (shown in the status bar), if any.
    pub context: Option<String>,
    /// The contexts `:ctx` may switch to.
    pub contexts: Vec<String>,
    /// Where the console opens; the overview when none.
    pub view: Option<Navigate>,
}

impl ConsoleOptions {
    /// Options for the gateway at `url` with the built-in keymap and nothing else set.
    pub fn new(url: String) -> anyhow::Result<ConsoleOptions> {
        Ok(ConsoleOptions {
            url,
            token: None,
            ca_cert: None,
            demo: false,
            readonly: false,
            production: false,
            theme: None,
            log_buffer: crate::app::logs::DEFAULT_CAPACITY,
            mouse: false,
            keymap: Keymap::builtin().context("loading the keymap")?,
            context: None,
            contexts: Vec::new(),
            view: None,
        })
    }

    /// Options from the effective `settings` (config file, context, flags), for `url`; the
    /// token is read here (a file, a variable, a command).
    pub fn from_settings(settings: &Settings, url: String) -> anyhow::Result<ConsoleOptions> {
        let token = match &settings.token.value {
            Some(source) => Some(BearerToken::new(source.read()?)),
            None => None,
        };
        Ok(ConsoleOptions {
            token,
            ca_cert: settings.ca_cert.value.clone(),
            readonly: settings.readonly.value,
            production: settings.production.value,
            theme: settings.theme.value.clone(),
            log_buffer: settings.log_buffer.value,
            mouse: settings.mouse.value,
            keymap: settings.keymap()?,
            context: settings.context.value.clone(),
            contexts: settings.context_names(),
            view: settings.view.value.map(StartView::navigate),
            ..ConsoleOptions::new(url)?
        })
    }
}

/// Makes the options for the context `:ctx NAME` names, or says why it cannot.
pub type SwitchContext = Box<dyn FnMut(&str) -> anyhow::Result<ConsoleOptions> + Send>;

/// Whether charts plot in ASCII rather than braille: `OPSDECK_ASCII=1` asks for it and
/// `OPSDECK_ASCII=0` refuses it; otherwise a locale that is set and is not UTF-8 (`LANG=C`,
/// `en_US.ISO-8859-1`), where braille cells come out as garbage, turns it on. `locale` is the
/// first of `LC_ALL`, `LC_CTYPE`, `LANG` that is set.
pub fn ascii_charts(opsdeck_ascii: Option<&str>, locale: Option<&str>) -> bool {
    match opsdeck_ascii.filter(|v| !v.is_empty()) {
        Some("0") => false,
        Some(_) => true,
        None => locale.is_some_and(|l| {
            let l = l.to_ascii_lowercase();
            !(l.contains("utf-8") || l.contains("utf8"))
        }),
    }
}

/// What the environment says about the terminal, read once.
struct Terminal {
    no_color: bool,
    ascii: bool,
    depth: ColorDepth,
    user_themes: Option<PathBuf>,
}

impl Terminal {
    fn read() -> Terminal {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let locale = ["LC_ALL", "LC_CTYPE", "LANG"]
            .iter()
            .filter_map(|name| std::env::var(name).ok())
            .find(|v| !v.is_empty());
        let ascii = ascii_charts(
            std::env::var("OPSDECK_ASCII").ok().as_deref(),
            locale.as_deref(),
        );
        // The only place the colour depth is read; rendering gets a theme already adapted to it.
        let depth = ColorDepth::detect(
            std::env::var("COLORTERM").ok().as_deref(),
            std::env::var("TERM").ok().as_deref(),
        );
        Terminal {
            no_color,
            ascii,
            depth,
            user_themes: user_theme_dir(),
        }
    }
}

/// One context's connection, ready to run: checked before the previous one is left, so a
/// `:ctx` that cannot work changes nothing.
pub(crate) struct Session {
    opts: ConsoleOptions,
    theme: Theme,
    tls: std::sync::Arc<rustls::ClientConfig>,
    http: HttpClient,
}

impl Session {
    fn prepare(opts: ConsoleOptions, term: &Terminal) -> anyhow::Result<Session> {
        let theme = Theme::resolve_in(
            opts.theme.as_deref(),
            term.no_color,
            term.user_themes.as_deref(),
        )
        .context("loading the theme")?
        .adapted(term.depth)
        .with_ascii(term.ascii);
        let tls = tls::client_config(opts.ca_cert.as_deref()).context("setting up TLS")?;
        let http = HttpClient::with_tls(&opts.url, tls.clone())
            .context("gateway URL")?
            .with_token(opts.token.clone());
        Ok(Session {
            opts,
            theme,
            tls,
            http,
        })
    }
}

/// Run the console until the operator quits or a signal arrives. The terminal is restored on
/// every way out. `switch` makes the options for `:ctx NAME`; without it `:ctx` says there is
/// nothing to switch to.
pub async fn run_console(
    opts: ConsoleOptions,
    mut switch: Option<SwitchContext>,
) -> anyhow::Result<()> {
    tls::install_crypto_provider();
    let term = Terminal::read();
    let mut session = Session::prepare(opts, &term)?;
    let mut tui = terminal::init(session.opts.mouse).context("setting up the terminal")?;
    let mut glass = match event_loop::Glass::new() {
        Ok(glass) => glass,
        Err(e) => {
            drop(tui);
            terminal::restore();
            return Err(e.context("starting the terminal's writer and reader"));
        }
    };
    let result = loop {
        let Session {
            opts,
            theme,
            tls,
            http,
        } = session;
        let (action_tx, action_rx) = mpsc::channel(ACTION_QUEUE);
        let (stream_tx, stream_rx) = tokio::sync::watch::channel(None);
        let stream_task = stream::spawn(
            opts.url.clone(),
            tls,
            opts.token.clone(),
            action_tx.clone(),
            stream_rx,
        );
        let mut state = new_state(&opts, &term);
        tracing::info!(url = %opts.url, context = ?opts.context, demo = opts.demo,
            readonly = opts.readonly, "console starting");
        let drivers = event_loop::Drivers {
            http,
            stream: stream_tx,
            actions: action_tx,
        };
        if let Some(view) = opts.view.clone() {
            let mut effects = Vec::new();
            navigate(&mut state, view, &mut effects);
            drivers.perform(effects);
        }
        let themes =
            event_loop::Themes::new(theme, state.core.theme.clone(), term.no_color, term.depth)
                .with_user_dir(term.user_themes.clone());
        let mut next = |name: &str| -> anyhow::Result<Session> {
            let make = switch
                .as_mut()
                .context("this console was not started from a config file")?;
            Session::prepare(make(name)?, &term)
        };
        let outcome = event_loop::run(
            &mut tui, state, themes, drivers, action_rx, &mut next, &mut glass,
        )
        .await;
        // Nothing of the old context goes on: its stream stops, and its replies find no one.
        stream_task.abort();
        match outcome {
            Ok(Some(next)) => {
                tracing::info!(context = ?next.opts.context, "switching context");
                // The next context's `mouse`, as it would have been at start.
                if let Err(e) = tui.set_mouse(next.opts.mouse) {
                    tracing::warn!(error = %e, "mouse capture not switched");
                }
                session = next;
            }
            Ok(None) => break Ok(()),
            Err(e) => break Err(e),
        }
    };
    drop(tui);
    terminal::restore();
    if terminal::panicked() {
        anyhow::bail!("the console stopped after an internal error (reported above)");
    }
    tracing::info!("console stopped");
    result
}

/// A fresh state for `opts`: nothing carried over from another context.
fn new_state(opts: &ConsoleOptions, term: &Terminal) -> State {
    let mut state = State::new(StateConfig {
        gateway: opts.url.clone(),
        demo: opts.demo,
        readonly: opts.readonly,
        production: opts.production,
        keymap: opts.keymap.clone(),
        key_seed: fastrand::u64(..),
        now: Utc::now(),
    })
    .with_logs(LogsConfig {
        capacity: opts.log_buffer,
        // The only place the local offset is read; the core gets it injected.
        local_offset: chrono::Local::now().offset().fix(),
    });
    state.core.theme = opts.theme.clone().unwrap_or_else(|| "dark".into());
    state.core.themes = BUILTIN_THEMES.iter().map(|(n, _)| n.to_string()).collect();
    if let Some(dir) = &term.user_themes {
        state.core.themes.extend(Theme::user_theme_names(dir));
    }
    state.core.actor = actor_name();
    state.core.context = opts.context.clone();
    state.core.contexts = opts.contexts.clone();
    state
}

/// Who the operator is, for the gateway's audit trail: `OPSDECK_USER`, else the login name,
/// else "operator". Only printable ASCII is kept, as an HTTP header needs.
pub fn actor_name() -> String {
    let raw = std::env::var("OPSDECK_USER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_default();
    let clean: String = raw
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(64)
        .collect();
    if clean.is_empty() {
        "operator".into()
    } else {
        clean
    }
}

/// The user's theme folder, in the XDG config dir: `$XDG_CONFIG_HOME/opsdeck/themes`, else
/// `~/.config/opsdeck/themes`; none without a home directory.
pub fn user_theme_dir() -> Option<PathBuf> {
    let dirs = etcetera::choose_base_strategy().ok()?;
    Some(dirs.config_dir().join("opsdeck").join("themes"))
}

#[cfg(test)]
mod tests {
    use super::ascii_charts;

    #[test]
    fn charts_fall_back_to_ascii_where_the_locale_is_not_utf8() {
        assert!(!ascii_charts(None, Some("en_US.UTF-8")));
        assert!(!ascii_charts(None, Some("zh_CN.utf8")));
        assert!(
            !ascii_charts(None, None),
            "no locale at all: trust the terminal"
        );
        assert!(ascii_charts(None, Some("C")));
        assert!(ascii_charts(None, Some("en_US.ISO-8859-1")));
        assert!(ascii_charts(Some("1"), Some("en_US.UTF-8")));
        assert!(!ascii_charts(Some("0"), Some("C")));
        assert!(!ascii_charts(Some(""), Some("C.UTF-8")));
    }
}
