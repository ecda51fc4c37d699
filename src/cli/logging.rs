//! Where diagnostics go. The gateway logs structured lines to stdout; the console logs to a file
//! in the XDG state directory (never to the screen it draws on), through a non-blocking writer
//! whose guard the caller keeps until exit. The level comes from `OPSDECK_LOG` (default info).

use std::path::PathBuf;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

fn filter() -> EnvFilter {
    EnvFilter::try_from_env("OPSDECK_LOG").unwrap_or_else(|_| EnvFilter::new("info"))
}

/// Structured log lines on stdout, for `opsdeck serve`.
pub fn to_stdout() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .try_init();
}

/// `$XDG_STATE_HOME/opsdeck`, else `~/.local/state/opsdeck`, else the temp directory.
pub fn state_dir() -> PathBuf {
    std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))
        .unwrap_or_else(std::env::temp_dir)
        .join("opsdeck")
}

/// Log to `state_dir()/opsdeck.log`. Returns the guard that flushes on drop, and the path; or
/// None when the directory cannot be created (the console then runs without a log).
pub fn to_file() -> Option<(WorkerGuard, PathBuf)> {
    let dir = state_dir();
    std::fs::create_dir_all(&dir).ok()?;
    let appender = tracing_appender::rolling::never(&dir, "opsdeck.log");
    let (writer, guard) = tracing_appender::non_blocking(appender);
    tracing_subscriber::fmt()
        .with_env_filter(filter())
        .with_ansi(false)
        .with_writer(writer)
        .try_init()
        .ok()?;
    Some((guard, dir.join("opsdeck.log")))
}
