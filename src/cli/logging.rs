//! Gateway diagnostics: structured lines on stdout, level from `OPSDECK_LOG` (default info). The
//! console logs to a file instead (`tui::logging`), never onto the screen it draws on.

use tracing_subscriber::EnvFilter;

fn filter() -> EnvFilter {
    let filter = EnvFilter::try_from_env("OPSDECK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    crate::tui::logging::without_secrets(filter)
}

/// Structured log lines on stdout, for `opsdeck serve`.
pub fn to_stdout() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter())
        .try_init();
}
