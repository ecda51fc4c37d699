//! The run engine: one tokio task per run walks its steps — retries with backoff, timeouts, the
//! failure policy of each step, fallbacks, approval gates, abort — and records every transition.
//!
//! Durations are platform time (`Platform::now`), so on the accelerated simulator a `for = "2m"`
//! takes two simulated minutes. The task polls every `poll` of real time (or sooner when the API
//! signals an abort or an approval) and compares platform timestamps.

use std::sync::Arc;

use chrono::{DateTime, Duration as TimeDelta, Utc};

use super::world::snapshot;
use super::{Control, Cursor, Record, RunEvent};
use crate::gateway::Gateway;
use crate::gateway::actions::{self, Actor, Source};
use crate::protocol::{ActionState, AppStatus, RunState, RunStatus, StepState};
use crate::runbook::{Action, AfterFallback, OnFailure, ResolvedStep, format_secs};

/// Longest real wait for one HTTP probe.
const PROBE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Start a task that drives run `id` from its cursor.
pub fn spawn(gw: &Arc<Gateway>, id: &str, steps: Vec<ResolvedStep>, main_len: usize) {
    let Some(control) = gw.runs.control(id) else {
        return;
    };
    let started_by = gw.runs.get(id).map(|s| s.started_by).unwrap_or_default();
    let engine = Engine {
        gw: gw.clone(),
        id: id.to_string(),
        steps,
        main_len,
        control,
        actor: Actor::new(
            format!("runbook:{id} (started by {started_by})"),
            crate::protocol::Role::Operator,
        ),
        started_by,
    };
    let task = tokio::spawn(engine.drive());
    gw.runs.set_task(id, task);
}

struct Engine {
    gw: Arc<Gateway>,
    id: String,
    /// Main steps, then fallbacks: the order of the run's step list.
    steps: Vec<ResolvedStep>,
    main_len: usize,
    control: Arc<Control>,
    /// Recorded on the actions the run starts.
    actor: Actor,
    /// Who started the run: the actor of what the run does on its own on the timeline.
    started_by: String,
}

/// Why a step ended.
enum StepEnd {
    Succeeded,
    Failed(String),
    Aborted(String),
}

/// Why an attempt stopped before its work was done.
enum Stop {
    Failed(String),
    TimedOut,
    Aborted(String),
}

impl Engine {
    fn now(&self) -> DateTime<Utc> {
        self.gw.platform.now()
    }

    /// Apply a transition, journal it and announce it; the run as it is after.
    async fn transition(&self, change: impl FnOnce(&mut Record)) -> Option<RunStatus> {
        let status = self.gw.runs.update(&self.id, self.now(), change).await?;
        self.gw.runs.publish(status.clone()).await;
        Some(status)
    }

    /// Put `event` of the run as it is after a transition on the timeline, done by `actor`.
    async fn record(&self, run: Option<RunStatus>, event: RunEvent<'_>, actor: &str) {
        if let Some(run) = run {
            self.gw.runs.record(&run, event, Some(actor)).await;
        }
    }

    /// Add a line to step `idx`'s output.
    async fn log(&self, idx: usize, line: String) {
        tracing::info!(run = %self.id, step = %self.steps[idx].id, "{line}");
        self.transition(|r| {
            if let Some(step) = r.status.steps.get_mut(idx) {
                step.output.push(line);
            }
        })
        .await;
    }

    async fn waiting(&self, idx: usize, text: String) {
        if let Some(status) = self.gw.runs.progress(&self.id, idx, text) {
            self.gw.runs.publish(status).await;
        }
    }

    async fn remember(&self, memo: serde_json::Value) {
        self.transition(|r| r.cursor.memo = Some(memo)).await;
    }

    fn memo(&self) -> Option<serde_json::Value> {
        self.gw.runs.cursor(&self.id).and_then(|c| c.memo)
    }

    fn index_of(&self, step: &str) -> Option<usize> {
        self.steps[self.main_len..]
            .iter()
            .position(|s| s.id == step)
            .map(|i| i + self.main_len)
    }

    async fn drive(self) {
        // Only a pending run starts: one aborted through the API before this task got going
        // stays aborted.
        let started = self
            .gw
            .runs
            .try_update(&self.id, self.now(), |r| {
                if r.status.state != RunState::Pending {
                    return false;
                }
                r.status.state = RunState::Running;
                r.status.message.clear();
                true
            })
            .await;
        let Some(status) = started else {
            tracing::info!(run = %self.id, "run ended before its task started");
            return;
        };
        self.gw.runs.publish(status).await;
        let mut cursor = self.gw.runs.cursor(&self.id).unwrap_or_default();
        let (state, message) = loop {
            if let Some(by) = self.control.abort_requested() {
                break (RunState::Aborted, format!("aborted by {by}"));
            }
            let (idx, in_fallback) = match cursor.fallback {
                Some((failed, done)) => {
                    let OnFailure::Fallback { steps, then } = &self.steps[failed].on_failure else {
                        break (RunState::Failed, "inconsistent fallback cursor".into());
                    };
                    if done >= steps.len() {
                        match then {
                            AfterFallback::Stop => {
                                break (
                                    RunState::Failed,
                                    format!(
                                        "step `{}` failed; its fallbacks ran ({}) and the run stops",
                                        self.steps[failed].id,
                                        steps.join(", ")
                                    ),
                                );
                            }
                            AfterFallback::Continue => {
                                cursor = Cursor {
                                    main: failed + 1,
                                    fallback: None,
                                    memo: None,
                                };
                                let next = cursor.clone();
                                self.transition(|r| r.cursor = next).await;
                                continue;
                            }
                        }
                    }
                    match self.index_of(&steps[done]) {
                        Some(idx) => (idx, true),
                        None => break (RunState::Failed, format!("no fallback `{}`", steps[done])),
                    }
                }
                None if cursor.main >= self.main_len => {
                    break (RunState::Succeeded, "every step finished".into());
                }
                None => (cursor.main, false),
            };

            let end = self.run_step(idx).await;
            let step = &self.steps[idx];
            let mut next = cursor.clone();
            next.memo = None;
            let advance = |c: &mut Cursor| match &mut c.fallback {
                Some((_, done)) => *done += 1,
                None => c.main += 1,
            };
            let (step_state, stop) = match &end {
                StepEnd::Succeeded => {
                    advance(&mut next);
                    (StepState::Succeeded, None)
                }
                StepEnd::Aborted(by) => (
                    StepState::Failed,
                    Some((
                        RunState::Aborted,
                        format!("aborted by {by} during step `{}`", step.id),
                    )),
                ),
                StepEnd::Failed(why) => match (&step.on_failure, in_fallback) {
                    (OnFailure::Continue, _) => {
                        advance(&mut next);
                        (StepState::Failed, None)
                    }
                    (OnFailure::Fallback { .. }, false) => {
                        next.fallback = Some((idx, 0));
                        (StepState::Failed, None)
                    }
                    _ => (
                        StepState::Failed,
                        Some((
                            RunState::Failed,
                            format!("step `{}` failed: {why}", step.id),
                        )),
                    ),
                },
            };
            let now = self.now();
            // The state says "succeeded"; the output says what a failure leads to.
            let note = match (&end, &step.on_failure) {
                (StepEnd::Succeeded, _) => None,
                (StepEnd::Aborted(by), _) => Some(format!("aborted by {by}")),
                (StepEnd::Failed(_), OnFailure::Continue) => {
                    Some("failed; on_failure = continue: the run goes on".into())
                }
                (StepEnd::Failed(_), OnFailure::Fallback { steps, .. }) if !in_fallback => {
                    Some(format!("failed; running fallbacks: {}", steps.join(", ")))
                }
                (StepEnd::Failed(_), _) => Some("failed".into()),
            };
            let saved = next.clone();
            let after = self
                .transition(|r| {
                    if let Some(s) = r.status.steps.get_mut(idx) {
                        s.state = step_state;
                        s.finished_at = Some(now);
                        s.waiting_on = None;
                        s.output.extend(note);
                    }
                    r.cursor = saved;
                })
                .await;
            let (action, step) = (&step.action, &step.id);
            match &end {
                // An approval's result is who approved it, already on the timeline.
                StepEnd::Succeeded if matches!(action, Action::Approval { .. }) => {}
                StepEnd::Succeeded => {
                    let event = RunEvent::StepSucceeded { step };
                    self.record(after, event, &self.started_by).await;
                }
                StepEnd::Failed(why) => {
                    let event = RunEvent::StepFailed { step, why };
                    self.record(after, event, &self.started_by).await;
                }
                StepEnd::Aborted(by) => {
                    let why = format!("aborted by {by}");
                    let event = RunEvent::StepFailed { step, why: &why };
                    self.record(after, event, by).await;
                }
            }
            if let Some(stop) = stop {
                break stop;
            }
            cursor = next;
        };
        self.finish(state, message).await;
    }

    async fn finish(&self, state: RunState, message: String) {
        tracing::info!(run = %self.id, state = state.as_str(), "{message}");
        let after = self
            .transition(|r| {
                r.status.state = state;
                r.status.message = message;
                r.status.current_step = None;
                for step in &mut r.status.steps {
                    if step.state == StepState::Pending {
                        step.state = StepState::Skipped;
                    }
                }
            })
            .await;
        let actor = match state {
            RunState::Aborted => self.control.abort_requested(),
            _ => None,
        };
        if let Some(run) = after {
            let actor = actor.as_deref().unwrap_or(&self.started_by);
            self.gw.runs.record_end(&run, Some(actor)).await;
        }
    }

    /// Run step `idx` with its retries; the caller records how it ended.
    async fn run_step(&self, idx: usize) -> StepEnd {
        let step = &self.steps[idx];
        let attempts = step.retries + 1;
        for attempt in 1..=attempts {
            let now = self.now();
            let first_line = if attempt == 1 {
                let title = if step.title.is_empty() {
                    String::new()
                } else {
                    format!("{}: ", step.title)
                };
                match &step.action {
                    // A note's message is its whole output.
                    Action::Note { message } => format!("{title}{message}"),
                    action => format!("{title}{}", action.describe()),
                }
            } else {
                format!("attempt {attempt} of {attempts}")
            };
            self.transition(|r| {
                r.status.state = RunState::Running;
                r.status.current_step = Some(step.id.clone());
                if let Some(s) = r.status.steps.get_mut(idx) {
                    s.state = StepState::Running;
                    s.attempts += 1;
                    s.started_at.get_or_insert(now);
                    s.finished_at = None;
                    s.output.push(first_line);
                }
            })
            .await;
            let deadline = step
                .timeout_secs
                .map(|t| now + TimeDelta::seconds(i64::try_from(t).unwrap_or(i64::MAX / 2)));
            let outcome = tokio::select! {
                result = self.attempt(idx) => result.map_err(Stop::Failed),
                stop = self.watch(deadline) => Err(stop),
            };
            let why = match outcome {
                Ok(()) => return StepEnd::Succeeded,
                Err(Stop::Aborted(by)) => return StepEnd::Aborted(by),
                Err(Stop::Failed(why)) => why,
                Err(Stop::TimedOut) => {
                    let seen = self
                        .gw
                        .runs
                        .get(&self.id)
                        .and_then(|s| s.steps.get(idx).and_then(|s| s.waiting_on.clone()))
                        .map(|w| format!(" ({w})"))
                        .unwrap_or_default();
                    format!(
                        "timed out after {}{seen}",
                        format_secs(step.timeout_secs.unwrap_or(0))
                    )
                }
            };
            self.log(idx, format!("attempt {attempt} failed: {why}"))
                .await;
            if attempt == attempts {
                return StepEnd::Failed(why);
            }
            let backoff = step.backoff_secs.saturating_mul(1 << (attempt - 1).min(16));
            self.log(idx, format!("retrying in {}", format_secs(backoff)))
                .await;
            let until = self.now() + TimeDelta::seconds(i64::try_from(backoff).unwrap_or(0));
            if let Stop::Aborted(by) = self.watch(Some(until)).await {
                return StepEnd::Aborted(by);
            }
        }
        StepEnd::Failed("no attempts".into())
    }

    /// Resolves when the run is aborted or platform time passes `deadline`.
    async fn watch(&self, deadline: Option<DateTime<Utc>>) -> Stop {
        loop {
            if let Some(by) = self.control.abort_requested() {
                return Stop::Aborted(by);
            }
            if deadline.is_some_and(|d| self.now() >= d) {
                return Stop::TimedOut;
            }
            self.control.pause(self.gw.runs.poll()).await;
        }
    }

    /// One attempt of step `idx`: Ok when its work is done.
    async fn attempt(&self, idx: usize) -> Result<(), String> {
        let step = &self.steps[idx];
        match &step.action {
            Action::Scale {
                app,
                replicas,
                wait,
            } => self.scale(idx, app, replicas, *wait).await,
            Action::Rollback { app, to, wait } => {
                self.rollback(idx, app, to.as_deref(), *wait).await
            }
            Action::WaitFor {
                app,
                condition,
                hold_secs,
            } => self.wait_for(idx, app, condition, *hold_secs).await,
            Action::Check { app, condition } => {
                let snap = snapshot(
                    &*self.gw.platform,
                    app,
                    condition.needs_releases(),
                    condition.needs_alerts(),
                )
                .await
                .map_err(|e| e.to_string())?;
                let obs = snap
                    .observation()
                    .ok_or_else(|| format!("{app} has reported no metrics yet"))?;
                let e = condition.evaluate(&obs);
                if e.holds {
                    self.log(idx, format!("holds: {}", e.observed)).await;
                    Ok(())
                } else {
                    Err(format!("does not hold: {}", e.observed))
                }
            }
            Action::HttpProbe {
                url,
                expect_status,
                expect_body,
            } => {
                let timeout = step
                    .timeout_secs
                    .map_or(PROBE_TIMEOUT, std::time::Duration::from_secs)
                    .min(PROBE_TIMEOUT);
                let response = self
                    .gw
                    .platform
                    .probe(url, timeout)
                    .await
                    .map_err(|e| e.to_string())?;
                let shown: String = response.body.chars().take(120).collect();
                if response.status != *expect_status {
                    return Err(format!(
                        "GET {url}: {} (want {expect_status}): {shown}",
                        response.status
                    ));
                }
                if let Some(want) = expect_body
                    && !response.body.contains(want.as_str())
                {
                    return Err(format!(
                        "GET {url}: {} but the body lacks {want:?}: {shown}",
                        response.status
                    ));
                }
                self.log(idx, format!("GET {url}: {} {shown}", response.status))
                    .await;
                Ok(())
            }
            Action::Approval { message } => self.approval(idx, message).await,
            Action::Silence {
                app,
                rule,
                duration_secs,
                comment,
            } => {
                let snap = snapshot(&*self.gw.platform, app, false, true)
                    .await
                    .map_err(|e| e.to_string())?;
                let targets = snap.silenceable(rule.as_deref());
                if targets.is_empty() {
                    self.log(
                        idx,
                        format!("no active alert on {app} matched; nothing to silence"),
                    )
                    .await;
                    return Ok(());
                }
                let comment = if comment.is_empty() {
                    format!("silenced by run {}", self.id)
                } else {
                    comment.clone()
                };
                for alert in targets {
                    let req = actions::Silence {
                        alert: alert.id.clone(),
                        duration_secs: *duration_secs,
                        comment: comment.clone(),
                    };
                    let silenced =
                        actions::silence(&self.gw, &self.actor, req, Source::Run(self.id.clone()))
                            .await
                            .map_err(|e| format!("silence {}: {e}", alert.id))?;
                    let until = silenced
                        .silenced_until
                        .map(|t| t.format(" until %H:%M:%S").to_string())
                        .unwrap_or_default();
                    self.log(
                        idx,
                        format!(
                            "silenced {} {} ({}){until}",
                            alert.id, alert.rule, alert.summary
                        ),
                    )
                    .await;
                }
                Ok(())
            }
            Action::Note { .. } => Ok(()),
            Action::Sleep { secs } => {
                let until = self.now() + TimeDelta::seconds(i64::try_from(*secs).unwrap_or(0));
                loop {
                    let left = (until - self.now()).num_seconds();
                    if left <= 0 {
                        return Ok(());
                    }
                    self.waiting(idx, format!("sleeping, {left} s left")).await;
                    self.control.pause(self.gw.runs.poll()).await;
                }
            }
        }
    }

    async fn scale(
        &self,
        idx: usize,
        app: &str,
        replicas: &crate::runbook::ReplicaTarget,
        wait: bool,
    ) -> Result<(), String> {
        let detail = self.gw.platform.app(app).await.map_err(|e| e.to_string())?;
        let r = detail.summary.replicas;
        // A resumed step keeps the count it asked for instead of applying "+50%" again.
        let remembered = self
            .memo()
            .and_then(|m| m.get("replicas").and_then(|v| v.as_u64()))
            .and_then(|n| u32::try_from(n).ok());
        let (target, action_id) = match remembered {
            Some(target) if r.desired == target => {
                self.log(
                    idx,
                    format!("resuming: {app} already asked for {target} replicas"),
                )
                .await;
                (target, None)
            }
            _ => {
                let (target, how) = match remembered {
                    Some(target) => (target, format!("{target}, as asked before the restart")),
                    None => replicas.resolve(r.desired, r.min, r.max),
                };
                if target == r.desired {
                    self.log(
                        idx,
                        format!("{app} already has {target} replicas desired ({how})"),
                    )
                    .await;
                    (target, None)
                } else {
                    self.remember(serde_json::json!({ "replicas": target }))
                        .await;
                    let req = actions::Scale {
                        app: app.to_string(),
                        replicas: target.into(),
                    };
                    let status =
                        actions::scale(&self.gw, &self.actor, req, Source::Run(self.id.clone()))
                            .await
                            .map_err(|e| e.to_string())?;
                    let how = if how.is_empty() {
                        String::new()
                    } else {
                        format!("{how}; ")
                    };
                    self.log(
                        idx,
                        format!(
                            "scale {app} {} -> {target} ({how}limits {}..={}); action {}",
                            r.desired, r.min, r.max, status.id
                        ),
                    )
                    .await;
                    (target, Some(status.id))
                }
            }
        };
        if !wait {
            return Ok(());
        }
        loop {
            let r = self
                .gw
                .platform
                .app(app)
                .await
                .map_err(|e| e.to_string())?
                .summary
                .replicas;
            if r.desired == target && r.ready >= target {
                self.log(idx, format!("{app} ready {}/{target}", r.ready))
                    .await;
                return Ok(());
            }
            if let Some(failed) = self.failed_action(action_id.as_deref()) {
                return Err(failed);
            }
            self.waiting(idx, format!("{app} ready {}/{target}", r.ready))
                .await;
            self.control.pause(self.gw.runs.poll()).await;
        }
    }

    /// The failure message of action `id`, if the action book says it failed.
    fn failed_action(&self, id: Option<&str>) -> Option<String> {
        let status = self.gw.action_book.get(id?)?;
        (status.state == ActionState::Failed).then(|| {
            format!(
                "action {} failed: {}",
                status.id,
                if status.message.is_empty() {
                    "no reason given"
                } else {
                    &status.message
                }
            )
        })
    }

    async fn rollback(
        &self,
        idx: usize,
        app: &str,
        to: Option<&str>,
        wait: bool,
    ) -> Result<(), String> {
        let remembered = self
            .memo()
            .and_then(|m| m.get("to").and_then(|v| v.as_str()).map(str::to_string));
        let active = self
            .gw
            .platform
            .app(app)
            .await
            .map_err(|e| e.to_string())?
            .summary
            .release;
        let (target, action_id) = match remembered {
            Some(target) if target == active => {
                self.log(idx, format!("resuming: {app} is already on {target}"))
                    .await;
                (target, None)
            }
            remembered => {
                let to = remembered.as_deref().or(to);
                let req = actions::Rollback {
                    app: app.to_string(),
                    to: to.map(str::to_string),
                };
                let (status, plan) =
                    actions::rollback(&self.gw, &self.actor, req, Source::Run(self.id.clone()))
                        .await
                        .map_err(|e| e.to_string())?;
                self.remember(serde_json::json!({ "to": plan.to.id })).await;
                self.log(
                    idx,
                    format!(
                        "rollback {app} {} ({}) -> {} ({}); action {}",
                        plan.from.id, plan.from.version, plan.to.id, plan.to.version, status.id
                    ),
                )
                .await;
                (plan.to.id, Some(status.id))
            }
        };
        if !wait {
            return Ok(());
        }
        loop {
            let s = self
                .gw
                .platform
                .app(app)
                .await
                .map_err(|e| e.to_string())?
                .summary;
            let done = s.release == target
                && s.status != AppStatus::RollingBack
                && s.replicas.ready >= s.replicas.desired;
            if done {
                self.log(
                    idx,
                    format!(
                        "{app} runs {target} ({}), ready {}/{}",
                        s.version, s.replicas.ready, s.replicas.desired
                    ),
                )
                .await;
                return Ok(());
            }
            if let Some(failed) = self.failed_action(action_id.as_deref()) {
                return Err(failed);
            }
            self.waiting(
                idx,
                format!(
                    "{app} {} on {}, ready {}/{}",
                    s.status.as_str(),
                    s.release,
                    s.replicas.ready,
                    s.replicas.desired
                ),
            )
            .await;
            self.control.pause(self.gw.runs.poll()).await;
        }
    }

    async fn wait_for(
        &self,
        idx: usize,
        app: &str,
        condition: &crate::runbook::Condition,
        hold_secs: u64,
    ) -> Result<(), String> {
        let mut held_since: Option<DateTime<Utc>> = None;
        let hold = format_secs(hold_secs);
        loop {
            let snap = snapshot(
                &*self.gw.platform,
                app,
                condition.needs_releases(),
                condition.needs_alerts(),
            )
            .await;
            let (holds, observed) = match &snap {
                Ok(snap) => match snap.observation() {
                    Some(obs) => {
                        let e = condition.evaluate(&obs);
                        (e.holds, e.observed)
                    }
                    None => (false, format!("{app} has reported no metrics yet")),
                },
                // A platform hiccup is waited out, not a failure; the timeout bounds it.
                Err(err) => (false, format!("cannot read {app}: {err}")),
            };
            let now = snap.as_ref().map_or_else(|_| self.now(), |s| s.now);
            if holds {
                let since = *held_since.get_or_insert(now);
                let held = u64::try_from((now - since).num_seconds()).unwrap_or(0);
                if held >= hold_secs {
                    self.log(idx, format!("holds: {observed}, for {}", format_secs(held)))
                        .await;
                    return Ok(());
                }
                self.waiting(idx, format!("{observed} for {hold}, held {held} s"))
                    .await;
            } else {
                held_since = None;
                self.waiting(idx, format!("{observed} for {hold}")).await;
            }
            self.control.pause(self.gw.runs.poll()).await;
        }
    }

    /// Wait for POST /v1/runs/{id}/approve. Any operator may approve, the one who started the
    /// run included; roles will narrow this in `auth.rs`.
    async fn approval(&self, idx: usize, message: &str) -> Result<(), String> {
        let step = self.steps[idx].id.clone();
        // Open before the run says it waits, so an approval sent on seeing that is taken; a
        // stale approval (sent for an earlier gate) does not pass this one.
        self.control.open_gate(&step);
        let waiting = message.to_string();
        let after = self
            .transition(|r| {
                r.status.state = RunState::WaitingApproval;
                if let Some(s) = r.status.steps.get_mut(idx) {
                    s.state = StepState::WaitingApproval;
                    s.waiting_on = Some(waiting);
                }
            })
            .await;
        let event = RunEvent::WaitingApproval {
            step: &step,
            message,
        };
        self.record(after, event, &self.started_by).await;
        loop {
            if let Some(by) = self.control.take_approval(&step) {
                let after = self
                    .transition(|r| {
                        r.status.state = RunState::Running;
                        if let Some(s) = r.status.steps.get_mut(idx) {
                            s.state = StepState::Running;
                            s.waiting_on = None;
                            s.output.push(format!("approved by {by}"));
                        }
                    })
                    .await;
                self.record(after, RunEvent::Approved { step: &step }, &by)
                    .await;
                return Ok(());
            }
            self.control.pause(self.gw.runs.poll()).await;
        }
    }
}
