//! `opsdeck scale ID N`, `opsdeck rollback ID [--to RELEASE]` (with `--wait`) and
//! `opsdeck releases ID`: POST /v1/apps/{app}/scale|rollback, GET /v1/actions/{id} while
//! waiting, GET /v1/apps/{app}/releases.

use std::time::Duration;

use clap::Args;
use serde_json::Value;

use super::{ClientArgs, POLL, get, note, poll, post, typed};
use crate::cli::ConnectionArgs;
use crate::cli::confirm::{ChangeArgs, confirm};
use crate::cli::connection::Connection;
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::output::{Output, Table, state};
use crate::protocol::{ActionState, ActionStatus, AppSummary, Release, RollbackRequest};

/// Options of a change that can be followed to its end.
#[derive(Args, Debug, Clone)]
pub struct WaitArgs {
    /// Follow the change until it succeeds (exit 0) or fails (exit 10).
    #[arg(long)]
    pub wait: bool,
    /// With --wait: give up after this long (exit 8); the change itself goes on.
    #[arg(long, default_value = "5m", value_parser = super::duration)]
    pub timeout: Duration,
}

#[derive(Args, Debug, Clone)]
pub struct Scale {
    /// The app's id.
    pub id: String,
    /// Replicas wanted (within the app's min and max).
    pub replicas: u32,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub change: ChangeArgs,
    #[command(flatten)]
    pub client: ClientArgs,
}

impl Scale {
    pub async fn run(self, top: &ConnectionArgs) -> CliResult {
        let (conn, out) = self.client.open(top)?;
        let app: AppSummary = typed(&get(&conn, &["v1", "apps", &self.id]).await?)?;
        let what = format!(
            "scale {} {} -> {}",
            self.id, app.replicas.desired, self.replicas
        );
        confirm(&conn, &self.change, &what, &self.id)?;
        let body = serde_json::json!({ "replicas": self.replicas });
        let path = ["v1", "apps", self.id.as_str(), "scale"];
        let value = post(&conn, &path, &body, &self.change.key()).await?;
        finish(&conn, &out, value, &self.wait).await
    }
}

#[derive(Args, Debug, Clone)]
pub struct Rollback {
    /// The app's id.
    pub id: String,
    /// The release to go back to (`opsdeck releases ID`); default: the previous good one.
    #[arg(long, value_name = "RELEASE")]
    pub to: Option<String>,
    #[command(flatten)]
    pub wait: WaitArgs,
    #[command(flatten)]
    pub change: ChangeArgs,
    #[command(flatten)]
    pub client: ClientArgs,
}

impl Rollback {
    pub async fn run(self, top: &ConnectionArgs) -> CliResult {
        let (conn, out) = self.client.open(top)?;
        let app: AppSummary = typed(&get(&conn, &["v1", "apps", &self.id]).await?)?;
        let target = self
            .to
            .clone()
            .unwrap_or_else(|| "its previous good release".into());
        let what = format!(
            "roll back {} from {} ({}) to {target}",
            self.id, app.release, app.version
        );
        confirm(&conn, &self.change, &what, &self.id)?;
        let body = RollbackRequest {
            to: self.to.clone(),
        };
        let path = ["v1", "apps", self.id.as_str(), "rollback"];
        let value = post(&conn, &path, &body, &self.change.key()).await?;
        finish(&conn, &out, value, &self.wait).await
    }
}

/// Print the accepted action, or follow it to its end with `--wait`.
async fn finish(conn: &Connection, out: &Output, accepted: Value, wait: &WaitArgs) -> CliResult {
    if !wait.wait {
        return print_action(out, &accepted);
    }
    let status: ActionStatus = typed(&accepted)?;
    let deadline = tokio::time::Instant::now() + wait.timeout;
    let mut last = accepted;
    let mut said = String::new();
    loop {
        let current: ActionStatus = typed(&last)?;
        let line = progress_line(&current);
        if line != said {
            note(&line);
            said = line;
        }
        match current.state {
            ActionState::Succeeded => return print_action(out, &last),
            ActionState::Failed => {
                print_action(out, &last)?;
                return Err(CliError::new(
                    Exit::RunFailed,
                    format!(
                        "{} {} failed: {}",
                        current.description, current.app, current.message
                    ),
                ));
            }
            ActionState::Accepted | ActionState::InProgress => {}
        }
        if tokio::time::Instant::now() >= deadline {
            print_action(out, &last)?;
            return Err(CliError::new(
                Exit::TimedOut,
                format!(
                    "gave up waiting after {} s: {} {} is still {}; it goes on (opsdeck app {})",
                    wait.timeout.as_secs(),
                    current.description,
                    current.app,
                    state_word(current.state),
                    current.app
                ),
            ));
        }
        tokio::time::sleep(POLL).await;
        if let Some(value) = poll(conn, &["v1", "actions", &status.id]).await? {
            last = value;
        }
    }
}

fn state_word(s: ActionState) -> &'static str {
    match s {
        ActionState::Accepted => "accepted",
        ActionState::InProgress => "in_progress",
        ActionState::Succeeded => "succeeded",
        ActionState::Failed => "failed",
    }
}

fn progress_line(a: &ActionStatus) -> String {
    let progress = a
        .progress
        .map(|p| format!(" ready {}/{}", p.ready, p.desired))
        .unwrap_or_default();
    format!(
        "{} {}: {}{progress}",
        a.app,
        a.description,
        state_word(a.state)
    )
}

fn print_action(out: &Output, value: &Value) -> CliResult {
    out.print(value, || {
        let a: ActionStatus = typed(value)?;
        let mut table = Table::new(&["ACTION", "APP", "CHANGE", "STATE", "PROGRESS", "MESSAGE"]);
        table.row(vec![
            a.id.as_str().into(),
            a.app.as_str().into(),
            a.description.as_str().into(),
            state(state_word(a.state)),
            a.progress
                .map(|p| format!("{}/{}", p.ready, p.desired))
                .unwrap_or_default()
                .into(),
            a.message.as_str().into(),
        ]);
        Ok(table)
    })
}

#[derive(Args, Debug, Clone)]
pub struct Releases {
    /// The app's id.
    pub id: String,
    #[command(flatten)]
    pub client: ClientArgs,
}

impl Releases {
    pub async fn run(self, top: &ConnectionArgs) -> CliResult {
        let (conn, out) = self.client.open(top)?;
        let value = get(&conn, &["v1", "apps", &self.id, "releases"]).await?;
        out.print(&value, || {
            let releases: Vec<Release> = typed(&value)?;
            let mut table = Table::new(&["RELEASE", "VERSION", "STATUS", "CREATED", "CAUSE"]);
            for r in &releases {
                table.row(vec![
                    r.id.as_str().into(),
                    r.version.as_str().into(),
                    state(r.status.as_str()),
                    super::time(&r.created_at).into(),
                    r.change_cause.as_str().into(),
                ]);
            }
            Ok(table)
        })
    }
}
