//! Terminal glue: starts the drivers, owns the terminal, runs the one event loop.
//!
//! [`run_console`] is the console's entry point; `main.rs` calls it (after starting the
//! embedded gateway, in demo mode).

pub mod event_loop;
pub mod input;
pub mod logging;
pub mod pacing;
pub mod reader;
pub mod save_logs;
pub mod terminal;
pub mod writer;

use std::path::PathBuf;

use anyhow::Context;
use chrono::{Offset, Utc};
use etcetera::BaseStrategy;
use tokio::sync::mpsc;

use crate::app::logs::LogsConfig;
use crate::app::{Keymap, State, StateConfig};
use crate::client::http::HttpClient;
use crate::client::{BearerToken, stream, tls};
use crate::ui::color_depth::ColorDepth;
use crate::ui::theme::{BUILTIN_THEMES, Theme};

/// Capacity of the channel that carries driver results to the UI loop.
const ACTION_QUEUE: usize = 1024;

/// How to run the console.
#[derive(Clone, Debug, PartialEq, Eq)]
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
}

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

/// Run the console until the operator quits or a signal arrives. The terminal is restored on
/// every way out.
pub async fn run_console(opts: ConsoleOptions) -> anyhow::Result<()> {
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
    let user_themes = user_theme_dir();
    let theme = Theme::resolve_in(opts.theme.as_deref(), no_color, user_themes.as_deref())
        .context("loading the theme")?
        .adapted(depth)
        .with_ascii(ascii);
    let keymap = Keymap::builtin().context("loading the keymap")?;
    tls::install_crypto_provider();
    let tls = tls::client_config(opts.ca_cert.as_deref()).context("setting up TLS")?;
    let http = HttpClient::with_tls(&opts.url, tls.clone())
        .context("gateway URL")?
        .with_token(opts.token.clone());

    let (action_tx, action_rx) = mpsc::channel(ACTION_QUEUE);
    let (stream_tx, stream_rx) = tokio::sync::watch::channel(None);
    let stream_task = stream::spawn(
        opts.url.clone(),
        tls,
        opts.token.clone(),
        action_tx.clone(),
        stream_rx,
    );

    let mut state = State::new(StateConfig {
        gateway: opts.url.clone(),
        demo: opts.demo,
        readonly: opts.readonly,
        production: opts.production,
        keymap,
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
    if let Some(dir) = &user_themes {
        state.core.themes.extend(Theme::user_theme_names(dir));
    }
    state.core.actor = actor_name();
    tracing::info!(url = %opts.url, demo = opts.demo, readonly = opts.readonly, "console starting");

    let mut tui = terminal::init(opts.mouse).context("setting up the terminal")?;
    let drivers = event_loop::Drivers {
        http,
        stream: stream_tx,
        actions: action_tx,
    };
    let themes = event_loop::Themes::new(theme, state.core.theme.clone(), no_color, depth)
        .with_user_dir(user_themes);
    let result = event_loop::run(&mut tui, state, themes, drivers, action_rx).await;
    stream_task.abort();
    drop(tui);
    terminal::restore();
    if terminal::panicked() {
        anyhow::bail!("the console stopped after an internal error (reported above)");
    }
    tracing::info!("console stopped");
    result
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
