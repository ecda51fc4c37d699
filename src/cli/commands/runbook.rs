//! `opsdeck runbook list|show|run|status|approve|abort|resume`: GET /v1/runbooks[/{id}], POST
//! /v1/runbooks/{id}/runs, GET /v1/runs[/{id}], POST /v1/runs/{id}/approve|abort|resume.
//! `run --dry-run` prints the plan; `run --wait` follows the steps and exits by the run's end.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use clap::{Args, Subcommand};
use serde_json::Value;

use super::{ClientArgs, POLL, get, note, poll, post, typed};
use crate::cli::ConnectionArgs;
use crate::cli::confirm::{ChangeArgs, confirm};
use crate::cli::exit::{CliError, CliResult, Exit};
use crate::cli::output::{Output, Table, state};
use crate::protocol::{
    ApproveRequest, RunRequest, RunState, RunStatus, RunbookDetail, RunbookSummary, StepState,
};

#[derive(Subcommand, Debug)]
pub enum RunbookCommand {
    /// List the runbooks the gateway has.
    List {
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Show a runbook: its parameters and steps.
    Show {
        /// The runbook's id.
        id: String,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Start a run: `opsdeck runbook run bad-release --param app=shop-cart`.
    Run(Run),
    /// List the runs, or show one with its steps.
    Status {
        /// The run's id; without it, every run, newest first.
        run: Option<String>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Approve the step a run waits at (its current step unless --step names it).
    Approve {
        run: String,
        /// The step to approve; the run must wait at exactly this one.
        #[arg(long)]
        step: Option<String>,
        #[command(flatten)]
        change: ChangeArgs,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Abort a run.
    Abort {
        run: String,
        #[command(flatten)]
        change: ChangeArgs,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Resume an interrupted run from the step that did not finish.
    Resume {
        run: String,
        #[command(flatten)]
        change: ChangeArgs,
        #[command(flatten)]
        client: ClientArgs,
    },
}

#[derive(Args, Debug, Clone)]
pub struct Run {
    /// The runbook's id (`opsdeck runbook list`).
    pub id: String,
    /// A parameter, NAME=VALUE; repeat for more. Integer parameters are sent as numbers.
    #[arg(long = "param", short = 'p', value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Print what the run would do, with each condition judged now; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Follow the steps until the run ends: exit 0 when it succeeds, 10 when it fails or is
    /// aborted.
    #[arg(long)]
    pub wait: bool,
    /// With --wait: give up after this long (exit 8); the run goes on.
    #[arg(long, default_value = "30m", value_parser = super::duration)]
    pub timeout: Duration,
    #[command(flatten)]
    pub change: ChangeArgs,
    #[command(flatten)]
    pub client: ClientArgs,
}

impl RunbookCommand {
    pub async fn run(self, top: &ConnectionArgs) -> CliResult {
        match self {
            RunbookCommand::List { client } => {
                let (conn, out) = client.open(top)?;
                let value = get(&conn, &["v1", "runbooks"]).await?;
                out.print(&value, || {
                    let books: Vec<RunbookSummary> = typed(&value)?;
                    let mut table = Table::new(&["RUNBOOK", "STEPS", "PARAMS", "TITLE"]);
                    for b in &books {
                        let params: Vec<&str> = b.params.iter().map(|p| p.name.as_str()).collect();
                        let title = match &b.error {
                            Some(error) => format!("INVALID: {error}"),
                            None => b.title.clone(),
                        };
                        table.row(vec![
                            b.id.as_str().into(),
                            b.steps.to_string().into(),
                            params.join(",").into(),
                            title.into(),
                        ]);
                    }
                    Ok(table)
                })
            }
            RunbookCommand::Show { id, client } => {
                let (conn, out) = client.open(top)?;
                let value = get(&conn, &["v1", "runbooks", &id]).await?;
                out.print_text(&value, || show_runbook(&out, &value))
            }
            RunbookCommand::Run(run) => run.run(top).await,
            RunbookCommand::Status { run: None, client } => {
                let (conn, out) = client.open(top)?;
                let value = get(&conn, &["v1", "runs"]).await?;
                out.print(&value, || {
                    let runs: Vec<RunStatus> = typed(&value)?;
                    let mut table =
                        Table::new(&["RUN", "RUNBOOK", "STATE", "STEP", "STARTED BY", "UPDATED"]);
                    for r in &runs {
                        table.row(vec![
                            r.id.as_str().into(),
                            r.runbook.as_str().into(),
                            state(r.state.as_str()),
                            r.current_step.clone().unwrap_or_default().into(),
                            r.started_by.as_str().into(),
                            super::time(&r.updated_at).into(),
                        ]);
                    }
                    Ok(table)
                })
            }
            RunbookCommand::Status {
                run: Some(run),
                client,
            } => {
                let (conn, out) = client.open(top)?;
                let value = get(&conn, &["v1", "runs", &run]).await?;
                print_run(&out, &value)
            }
            RunbookCommand::Approve {
                run,
                step,
                change,
                client,
            } => {
                let (conn, out) = client.open(top)?;
                let step = match step {
                    Some(step) => step,
                    None => {
                        let current: RunStatus = typed(&get(&conn, &["v1", "runs", &run]).await?)?;
                        match (current.state, current.current_step) {
                            (RunState::WaitingApproval, Some(step)) => step,
                            (s, _) => {
                                return Err(CliError::new(
                                    Exit::Conflict,
                                    format!(
                                        "run {run} is {}, not waiting for approval",
                                        s.as_str()
                                    ),
                                ));
                            }
                        }
                    }
                };
                let what = format!("approve step {step} of run {run}");
                confirm(&conn, &change, &what, &run)?;
                let body = ApproveRequest { step: Some(step) };
                let value = post(
                    &conn,
                    &["v1", "runs", &run, "approve"],
                    &body,
                    &change.key(),
                )
                .await?;
                print_run(&out, &value)
            }
            RunbookCommand::Abort {
                run,
                change,
                client,
            } => control(top, client, change, &run, "abort").await,
            RunbookCommand::Resume {
                run,
                change,
                client,
            } => control(top, client, change, &run, "resume").await,
        }
    }
}

async fn control(
    top: &ConnectionArgs,
    client: ClientArgs,
    change: ChangeArgs,
    run: &str,
    verb: &str,
) -> CliResult {
    let (conn, out) = client.open(top)?;
    confirm(&conn, &change, &format!("{verb} run {run}"), run)?;
    let value = post(
        &conn,
        &["v1", "runs", run, verb],
        &ApproveRequest::default(),
        &change.key(),
    )
    .await?;
    print_run(&out, &value)
}

impl Run {
    async fn run(self, top: &ConnectionArgs) -> CliResult {
        let (conn, out) = self.client.open(top)?;
        let book: RunbookDetail = typed(&get(&conn, &["v1", "runbooks", &self.id]).await?)?;
        let mut params = BTreeMap::new();
        for param in &self.params {
            let Some((name, text)) = param.split_once('=') else {
                return Err(CliError::usage(format!(
                    "--param {param:?} should be NAME=VALUE, e.g. app=shop-cart"
                )));
            };
            let integer = book
                .summary
                .params
                .iter()
                .any(|p| p.name == name && p.kind == "integer");
            let value = match text.parse::<i64>() {
                Ok(n) if integer => Value::from(n),
                _ => Value::from(text),
            };
            params.insert(name.to_string(), value);
        }
        if !self.dry_run {
            let name = params
                .get("app")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| self.id.clone());
            let shown: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let what = format!("run {} ({})", self.id, shown.join(", "));
            confirm(&conn, &self.change, &what, &name)?;
        }
        let body = RunRequest {
            params,
            dry_run: self.dry_run,
        };
        let value = post(
            &conn,
            &["v1", "runbooks", &self.id, "runs"],
            &body,
            &self.change.key(),
        )
        .await?;
        if !self.wait || self.dry_run {
            return print_run(&out, &value);
        }
        let id: RunStatus = typed(&value)?;
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut last = value;
        let mut said: BTreeMap<String, StepState> = BTreeMap::new();
        loop {
            let run: RunStatus = typed(&last)?;
            for step in &run.steps {
                if said.get(&step.id) != Some(&step.state) && step.state != StepState::Pending {
                    let waiting = step
                        .waiting_on
                        .as_deref()
                        .map(|w| format!(": {w}"))
                        .unwrap_or_default();
                    note(&format!(
                        "{} {}: {}{waiting}",
                        run.id,
                        step.id,
                        step_word(step.state)
                    ));
                    said.insert(step.id.clone(), step.state);
                }
            }
            if run.state.is_final() {
                print_run(&out, &last)?;
                return match run.state {
                    RunState::Succeeded => Ok(()),
                    s => Err(CliError::new(
                        Exit::RunFailed,
                        format!("run {} {}: {}", run.id, s.as_str(), run.message),
                    )),
                };
            }
            if tokio::time::Instant::now() >= deadline {
                print_run(&out, &last)?;
                return Err(CliError::new(
                    Exit::TimedOut,
                    format!(
                        "gave up waiting after {} s: run {} is still {}; it goes on (opsdeck runbook status {})",
                        self.timeout.as_secs(),
                        run.id,
                        run.state.as_str(),
                        run.id
                    ),
                ));
            }
            tokio::time::sleep(POLL).await;
            if let Some(value) = poll(&conn, &["v1", "runs", &id.id]).await? {
                last = value;
            }
        }
    }
}

fn step_word(s: StepState) -> &'static str {
    match s {
        StepState::Pending => "pending",
        StepState::Running => "running",
        StepState::WaitingApproval => "waiting_approval",
        StepState::Succeeded => "succeeded",
        StepState::Failed => "failed",
        StepState::Skipped => "skipped",
    }
}

fn show_runbook(out: &Output, value: &Value) -> CliResult<String> {
    let book: RunbookDetail = typed(value)?;
    let s = &book.summary;
    let mut text = String::new();
    let _ = writeln!(text, "runbook: {} ({})", s.id, s.source);
    if !s.title.is_empty() {
        let _ = writeln!(text, "title:   {}", s.title);
    }
    if let Some(error) = &s.error {
        let _ = writeln!(text, "INVALID: {error}");
    }
    if !s.description.is_empty() {
        let _ = writeln!(text, "\n{}", s.description.trim_end());
    }
    text.push('\n');
    let mut params = Table::new(&["PARAM", "TYPE", "REQUIRED", "DEFAULT", "DESCRIPTION"]);
    for p in &s.params {
        params.row(vec![
            p.name.as_str().into(),
            p.kind.as_str().into(),
            if p.required { "yes" } else { "no" }.into(),
            p.default
                .as_ref()
                .map(Value::to_string)
                .unwrap_or_default()
                .into(),
            p.description.as_str().into(),
        ]);
    }
    text.push_str(&params.render(out.width, out.color));
    text.push('\n');
    let mut steps = Table::new(&["STEP", "KIND", "ON FAILURE", "SUMMARY"]);
    for step in &book.step_list {
        let id = if step.fallback {
            format!("{} (fallback)", step.id)
        } else {
            step.id.clone()
        };
        steps.row(vec![
            id.into(),
            step.kind.as_str().into(),
            step.on_failure.as_str().into(),
            step.summary.as_str().into(),
        ]);
    }
    text.push_str(&steps.render(out.width, out.color));
    Ok(text)
}

fn print_run(out: &Output, value: &Value) -> CliResult {
    out.print_text(value, || {
        let run: RunStatus = typed(value)?;
        let mut text = String::new();
        let params: Vec<String> = run.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(
            text,
            "run {} of {} ({}){}: {}",
            run.id,
            run.runbook,
            params.join(", "),
            if run.dry_run { " DRY RUN" } else { "" },
            out.paint(
                run.state.as_str(),
                crate::cli::output::Tone::of_state(run.state.as_str())
            )
        );
        if !run.message.is_empty() {
            let _ = writeln!(text, "{}", run.message);
        }
        text.push('\n');
        if let Some(plan) = &run.plan {
            let mut table = Table::new(&["STEP", "KIND", "WOULD", "NOW"]);
            for step in &plan.steps {
                let now = match (step.holds, &step.evaluation) {
                    (Some(false), Some(e)) => format!("{e} [fails]"),
                    (_, Some(e)) => e.clone(),
                    (_, None) => String::new(),
                };
                table.row(vec![
                    step.id.as_str().into(),
                    step.kind.as_str().into(),
                    step.action.as_str().into(),
                    now.into(),
                ]);
            }
            text.push_str(&table.render(out.width, out.color));
            return Ok(text);
        }
        let mut table = Table::new(&["STEP", "KIND", "STATE", "ATTEMPTS", "LAST OUTPUT"]);
        for step in &run.steps {
            let last = step
                .waiting_on
                .clone()
                .or_else(|| step.output.last().cloned())
                .unwrap_or_default();
            let id = if step.fallback {
                format!("{} (fallback)", step.id)
            } else {
                step.id.clone()
            };
            table.row(vec![
                id.into(),
                step.kind.as_str().into(),
                state(step_word(step.state)),
                step.attempts.to_string().into(),
                last.into(),
            ]);
        }
        text.push_str(&table.render(out.width, out.color));
        Ok(text)
    })
}
