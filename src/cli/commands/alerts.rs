//! `opsdeck alerts`, `opsdeck ack ALERT`, `opsdeck silence ALERT --for 30m`: GET /v1/alerts and
//! POST /v1/alerts/{id}/ack|silence.

use clap::Args;
use serde_json::Value;

use super::{ClientArgs, get, post, typed};
use crate::cli::ConnectionArgs;
use crate::cli::confirm::{ChangeArgs, confirm};
use crate::cli::exit::{CliError, CliResult};
use crate::cli::output::{Output, Table, state};
use crate::protocol::{Alert, SilenceRequest};

#[derive(Args, Debug, Clone)]
pub struct List {
    /// Only these severities (P0 to P3); repeat or separate with commas.
    #[arg(long, value_delimiter = ',')]
    pub severity: Vec<String>,
    /// Only the alerts of these apps; repeat or separate with commas.
    #[arg(long, value_delimiter = ',')]
    pub app: Vec<String>,
    /// Only these states (firing, acknowledged, silenced, resolved).
    #[arg(long, value_delimiter = ',')]
    pub state: Vec<String>,
    #[command(flatten)]
    pub client: ClientArgs,
}

impl List {
    pub async fn run(self, top: &ConnectionArgs) -> CliResult {
        let (conn, out) = self.client.open(top)?;
        let value = get(&conn, &["v1", "alerts"]).await?;
        let Value::Array(all) = value else {
            return Err(super::unexpected("/v1/alerts is not a list"));
        };
        let wanted = |field: &str, allowed: &[String], alert: &Value| {
            allowed.is_empty()
                || alert[field]
                    .as_str()
                    .is_some_and(|v| allowed.iter().any(|a| a.eq_ignore_ascii_case(v)))
        };
        let kept: Vec<Value> = all
            .into_iter()
            .filter(|a| {
                wanted("severity", &self.severity, a)
                    && wanted("app", &self.app, a)
                    && wanted("state", &self.state, a)
            })
            .collect();
        let value = Value::Array(kept);
        out.print(&value, || {
            let alerts: Vec<Alert> = typed(&value)?;
            let mut table =
                Table::new(&["ALERT", "SEV", "STATE", "APP", "RULE", "SINCE", "SUMMARY"]);
            for a in &alerts {
                table.row(alert_row(a)?);
            }
            Ok(table)
        })
    }
}

fn alert_row(a: &Alert) -> CliResult<Vec<crate::cli::output::Cell>> {
    let severity = serde_json::to_value(a.severity)?;
    let alert_state = serde_json::to_value(a.state)?;
    Ok(vec![
        a.id.as_str().into(),
        state(severity.as_str().unwrap_or("")),
        state(alert_state.as_str().unwrap_or("")),
        a.app.as_str().into(),
        a.rule.as_str().into(),
        super::time(&a.started_at).into(),
        a.summary.as_str().into(),
    ])
}

fn print_alert(out: &Output, value: &Value) -> CliResult {
    out.print(value, || {
        let alert: Alert = typed(value)?;
        let mut table = Table::new(&["ALERT", "SEV", "STATE", "APP", "RULE", "SINCE", "SUMMARY"]);
        table.row(alert_row(&alert)?);
        Ok(table)
    })
}

#[derive(Args, Debug, Clone)]
pub struct Ack {
    /// The alert's id (`opsdeck alerts` lists them).
    pub alert: String,
    #[command(flatten)]
    pub change: ChangeArgs,
    #[command(flatten)]
    pub client: ClientArgs,
}

impl Ack {
    pub async fn run(self, top: &ConnectionArgs) -> CliResult {
        let (conn, out) = self.client.open(top)?;
        confirm(
            &conn,
            &self.change,
            &format!("acknowledge {}", self.alert),
            &self.alert,
        )?;
        let path = ["v1", "alerts", self.alert.as_str(), "ack"];
        let value = post(&conn, &path, &serde_json::json!({}), &self.change.key()).await?;
        print_alert(&out, &value)
    }
}

#[derive(Args, Debug, Clone)]
pub struct Silence {
    /// The alert's id (`opsdeck alerts` lists them).
    pub alert: String,
    /// How long: 30s, 30m, 2h, 1d.
    #[arg(long = "for", value_name = "DURATION")]
    pub duration: String,
    /// Why, for whoever looks next.
    #[arg(long, default_value = "")]
    pub comment: String,
    #[command(flatten)]
    pub change: ChangeArgs,
    #[command(flatten)]
    pub client: ClientArgs,
}

impl Silence {
    pub async fn run(self, top: &ConnectionArgs) -> CliResult {
        let (conn, out) = self.client.open(top)?;
        if crate::protocol::parse_duration_secs(&self.duration).is_none() {
            return Err(CliError::usage(format!(
                "--for {:?} is not a duration such as 30m, 2h or 1d",
                self.duration
            )));
        }
        let what = format!("silence {} for {}", self.alert, self.duration);
        confirm(&conn, &self.change, &what, &self.alert)?;
        let body = SilenceRequest {
            duration: self.duration.clone(),
            comment: self.comment.clone(),
        };
        let path = ["v1", "alerts", self.alert.as_str(), "silence"];
        let value = post(&conn, &path, &body, &self.change.key()).await?;
        print_alert(&out, &value)
    }
}
