//! The scripting commands: everything the console can do, as commands that compose with pipes.
//! Each group is a file; they all connect through [`super::connection`], print through
//! [`super::output`], ask through [`super::confirm`] and exit through [`super::exit`].

pub mod alerts;
pub mod apps;
pub mod changes;
pub mod completions;
pub mod events;
pub mod logs;
pub mod metrics;
pub mod runbook;

use std::time::Duration;

use clap::{Args, Subcommand};
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::ConnectionArgs;
use super::connection::{self, Connection};
use super::exit::{CliError, CliResult};
use super::output::{Format, Output};

#[derive(Subcommand, Debug)]
pub enum Scripting {
    /// List the apps: status, replicas, release, latest metrics.
    Apps(apps::List),
    /// Show one app and its pods.
    App(apps::Show),
    /// List alerts, optionally only some severities, apps or states.
    Alerts(alerts::List),
    /// Acknowledge an alert.
    Ack(alerts::Ack),
    /// Silence an alert for a while.
    Silence(alerts::Silence),
    /// Scale an app to N replicas; --wait follows it to the end.
    Scale(changes::Scale),
    /// Roll an app back to its previous good release (or --to one); --wait follows it.
    Rollback(changes::Rollback),
    /// List an app's releases, newest first.
    Releases(changes::Releases),
    /// Print apps' recent log lines; -f follows them.
    Logs(logs::Logs),
    /// Print an app's metric samples; --watch follows them.
    Metrics(metrics::Metrics),
    /// Print the platform's timeline; -f follows it.
    Events(events::Events),
    /// Runbooks and their runs: list, show, run, status, approve, abort, resume.
    #[command(subcommand)]
    Runbook(runbook::RunbookCommand),
    /// Print a shell completion script: bash, zsh, fish, powershell.
    Completions(completions::Completions),
    /// Print opsdeck's manual page (roff), e.g. `opsdeck man | man -l -`.
    Man,
    /// Ids for shell completion, one a line (used by the completion scripts).
    #[command(name = "__complete", hide = true)]
    Complete(completions::Complete),
}

/// Run a scripting command; `top` holds the connection options given before the command.
pub async fn run(command: Scripting, top: &ConnectionArgs) -> CliResult {
    match command {
        Scripting::Apps(c) => c.run(top).await,
        Scripting::App(c) => c.run(top).await,
        Scripting::Alerts(c) => c.run(top).await,
        Scripting::Ack(c) => c.run(top).await,
        Scripting::Silence(c) => c.run(top).await,
        Scripting::Scale(c) => c.run(top).await,
        Scripting::Rollback(c) => c.run(top).await,
        Scripting::Releases(c) => c.run(top).await,
        Scripting::Logs(c) => c.run(top).await,
        Scripting::Metrics(c) => c.run(top).await,
        Scripting::Events(c) => c.run(top).await,
        Scripting::Runbook(c) => c.run(top).await,
        Scripting::Completions(c) => c.run(),
        Scripting::Man => completions::man(),
        Scripting::Complete(c) => c.run(top).await,
    }
}

/// Options every command that reads a gateway takes.
#[derive(Args, Debug, Clone)]
pub struct ClientArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    /// Output format: table (for people; plain when piped), json (the API's own shapes) or yaml.
    #[arg(short = 'o', long = "output", value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

impl ClientArgs {
    /// The connection (these options over `top`'s) and the output.
    pub fn open(&self, top: &ConnectionArgs) -> CliResult<(Connection, Output)> {
        let conn = connection::resolve(&self.connection.or(top))?;
        Ok((conn, Output::detect(self.output)))
    }
}

/// GET a path of the /v1 API, the answer as it came.
pub async fn get(conn: &Connection, path: &[&str]) -> CliResult<Value> {
    conn.http
        .get_query(path, &[])
        .await
        .map_err(|e| located(conn, e))
}

/// An HTTP failure as a command reports it: a transport failure names the gateway.
pub fn located(conn: &Connection, err: crate::app::HttpError) -> CliError {
    let mut err = CliError::from(err);
    if err.exit == super::exit::Exit::Unreachable {
        err.message = format!("{} ({})", err.message, conn.url);
    }
    err
}

/// POST a change with its Idempotency-Key, the answer as it came.
pub async fn post(
    conn: &Connection,
    path: &[&str],
    body: &impl serde::Serialize,
    key: &str,
) -> CliResult<Value> {
    conn.http
        .post_as(path, body, Some(&key.to_string()), Some(&conn.actor))
        .await
        .map_err(|e| located(conn, e))
}

/// GET while waiting for something to end: a failure that may pass (the gateway unreachable
/// for a moment, a 5xx) is said on stderr and answered with `None`, so the wait goes on until
/// its deadline; any other failure ends it.
pub async fn poll(conn: &Connection, path: &[&str]) -> CliResult<Option<Value>> {
    match conn.http.get_query(path, &[]).await {
        Ok(value) => Ok(Some(value)),
        Err(err) if err.is_transient() => {
            note(&format!("(will retry: {err})"));
            Ok(None)
        }
        Err(err) => Err(located(conn, err)),
    }
}

/// Each app in `ids` exists, else the 404 for the first that does not.
pub async fn check_apps(conn: &Connection, ids: &[String]) -> CliResult {
    for id in ids {
        get(conn, &["v1", "apps", id]).await?;
    }
    Ok(())
}

/// The typed view of an answer, for tables.
pub fn typed<T: DeserializeOwned>(value: &Value) -> CliResult<T> {
    Ok(T::deserialize(value)?)
}

/// A duration option (`30s`, `5m`, `2h`, `1d`).
pub fn duration(text: &str) -> Result<Duration, String> {
    crate::protocol::parse_duration_secs(text)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("{text:?} is not a duration such as 30s, 5m, 2h or 1d"))
}

/// How often `--wait` reads the state of what it waits for.
pub const POLL: Duration = Duration::from_millis(400);

/// A line on stderr (progress while waiting, notes): never mixed into what scripts read.
pub fn note(text: &str) {
    eprintln!("{text}");
}

/// `Err` for an answer that is not what it should be.
pub fn unexpected(what: &str) -> CliError {
    CliError::failure(format!("unexpected reply from the gateway: {what}"))
}

/// A timestamp as tables show it: UTC, to the second.
pub fn time(ts: &chrono::DateTime<chrono::Utc>) -> String {
    ts.format("%Y-%m-%d %H:%M:%S").to_string()
}
