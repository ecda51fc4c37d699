//! tracing to a file, never to the screen: `$XDG_STATE_HOME/opsdeck/console.YYYY-MM-DD.log`
//! (or under `~/.local/state/opsdeck/`; dates in UTC), one file a day, the last [`KEEP_DAYS`]
//! kept, with `console.log` pointing at today's; level from `OPSDECK_LOG` (default `info`).
//! Installed once, by `main`, before the embedded gateway starts.

use std::path::PathBuf;

use etcetera::BaseStrategy;
use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Daily log files kept; older ones are deleted, so a console left open for weeks does not fill
/// the disk.
pub const KEEP_DAYS: usize = 7;

/// Where the console's log goes (and, by default, the gateway's run journal): the XDG state
/// dir, `$XDG_STATE_HOME/opsdeck`, else `~/.local/state/opsdeck`; the temporary directory
/// when there is no home directory at all.
pub fn log_dir() -> PathBuf {
    etcetera::choose_base_strategy()
        .ok()
        .and_then(|dirs| dirs.state_dir())
        .unwrap_or_else(std::env::temp_dir)
        .join("opsdeck")
}

/// Send tracing to the log file. Returns the guard that flushes it (keep it alive), or `None`
/// when a global subscriber is already installed or the directory cannot be made. In that case
/// whoever installed the subscriber must make sure it does not write to the terminal.
pub fn init_file_logging() -> Option<WorkerGuard> {
    let dir = log_dir();
    std::fs::create_dir_all(&dir).ok()?;
    // An older opsdeck wrote one never-rotated console.log; keep it (pruned with the rest in
    // time) rather than let the link to today's file replace it.
    let latest = dir.join("console.log");
    if std::fs::symlink_metadata(&latest).is_ok_and(|m| m.is_file()) {
        let _ = std::fs::rename(&latest, dir.join("console.0000-00-00.log"));
    }
    let appender = tracing_appender::rolling::RollingFileAppender::builder()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("console")
        .filename_suffix("log")
        .max_log_files(KEEP_DAYS)
        .latest_symlink("console.log")
        .build(&dir)
        .ok()?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_env("OPSDECK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let filter = without_secrets(filter);
    tracing_subscriber::fmt()
        .with_writer(writer)
        .with_ansi(false)
        .with_env_filter(filter)
        .try_init()
        .ok()?;
    Some(guard)
}

/// `filter`, whatever level it asks for, with the libraries that write raw requests (and so
/// the `Authorization: Bearer` token) at trace level held at debug: tungstenite's client
/// handshake logs its whole request. A test greps a full session's logs for the token.
pub fn without_secrets(filter: EnvFilter) -> EnvFilter {
    match "tungstenite::handshake=debug".parse() {
        Ok(directive) => filter.add_directive(directive),
        Err(_) => filter,
    }
}
