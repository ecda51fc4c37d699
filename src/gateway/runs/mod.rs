//! Runbook runs: they live in the gateway, not in a console, so closing the console or losing
//! the link does not stop them. [`Runs`] holds every run's latest record, writes each
//! transition to the journal (when a data dir is configured) and announces it on the `runs`
//! topic; `engine` drives one tokio task per run; `api` is the HTTP surface. Starting and
//! controlling runs are changes like any other, in `gateway::actions`.
//!
//! After a restart, runs that were in flight come back `interrupted`, with a cursor that says
//! which step did not finish; `POST /v1/runs/{id}/resume` continues from there.

mod api;
mod engine;
mod journal;
mod timeline;
mod world;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::platform::{Emission, EventSink};
use crate::protocol::{Body, RunState, RunStatus, StepState, TimelineEntry};
use crate::runbook::Catalog;

pub use journal::{COMPACT_AT, Cursor, Journal, JournalWriter, Record};
pub use timeline::{RunEvent, TIMELINE_CAP, app_of};

pub(super) use api::{
    abort_run, approve_run, get_run, get_runbook, list_runbooks, list_runs, resume_run, start_run,
};
pub(super) use engine::spawn as spawn_engine;
pub(super) use world::snapshots;

/// Finished runs kept in memory (and in the journal); older ones are forgotten first.
pub const MAX_RUNS: usize = 1000;

/// Least real time between two `waiting_on` updates of one run on the stream.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);

/// Signals from the API to a run's task: abort, approval. The task checks them at every poll.
#[derive(Default)]
pub struct Control {
    abort: Mutex<Option<String>>,
    approval: Mutex<Gate>,
    wake: Notify,
}

/// The approval gate of a run: the step waiting, and the approval given for it.
#[derive(Default)]
struct Gate {
    waiting: Option<String>,
    /// The step approved and who approved it.
    given: Option<(String, String)>,
}

impl Control {
    pub fn request_abort(&self, by: &str) {
        let mut abort = self.abort.lock().unwrap_or_else(|p| p.into_inner());
        abort.get_or_insert_with(|| by.to_string());
        drop(abort);
        self.wake.notify_waiters();
    }

    pub fn abort_requested(&self) -> Option<String> {
        self.abort.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The run's task starts waiting for approval of `step`; an approval given earlier (for
    /// another gate) is dropped.
    pub fn open_gate(&self, step: &str) {
        let mut gate = self.approval.lock().unwrap_or_else(|p| p.into_inner());
        gate.waiting = Some(step.to_string());
        gate.given = None;
    }

    /// Approve `step` on behalf of `by`, if it is the step waiting — checked under the same
    /// lock the task takes the approval with, so an approval judged on a gate that has passed
    /// meanwhile is refused (false) rather than stored over the next gate's.
    pub fn approve(&self, step: &str, by: &str) -> bool {
        let mut gate = self.approval.lock().unwrap_or_else(|p| p.into_inner());
        if gate.waiting.as_deref() != Some(step) {
            return false;
        }
        gate.given = Some((step.to_string(), by.to_string()));
        drop(gate);
        self.wake.notify_waiters();
        true
    }

    /// Who approved `step`, if someone did; taking it closes the gate.
    pub fn take_approval(&self, step: &str) -> Option<String> {
        let mut gate = self.approval.lock().unwrap_or_else(|p| p.into_inner());
        if gate.given.as_ref().is_none_or(|(s, _)| s != step) {
            return None;
        }
        gate.waiting = None;
        gate.given.take().map(|(_, by)| by)
    }

    /// Wait for the next signal, or `poll`, whichever comes first.
    pub async fn pause(&self, poll: Duration) {
        let _ = tokio::time::timeout(poll, self.wake.notified()).await;
    }
}

struct Entry {
    record: Record,
    control: Arc<Control>,
    task: Option<JoinHandle<()>>,
    last_progress: Option<Instant>,
}

impl Entry {
    fn live(&self) -> bool {
        self.task.as_ref().is_some_and(|t| !t.is_finished())
    }
}

/// Every run the gateway knows, with its journal and its line to the stream.
pub struct Runs {
    catalog: Catalog,
    entries: Mutex<BTreeMap<String, Entry>>,
    journal: Option<JournalWriter>,
    sink: EventSink,
    seq: AtomicU64,
    prefix: String,
    poll: Duration,
    /// What runs and their steps did, for the platform timeline.
    timeline: Mutex<timeline::RunTimeline>,
}

impl Runs {
    /// Load the runbooks and the journal. Runs that were in flight when the journal was last
    /// written become `interrupted`.
    pub fn open(
        runbook_dirs: &[PathBuf],
        data_dir: Option<&std::path::Path>,
        poll: Duration,
        sink: EventSink,
        gateway_id: &str,
        now: DateTime<Utc>,
    ) -> std::io::Result<Runs> {
        let catalog = Catalog::load(runbook_dirs);
        let (mut journal, mut records) = match data_dir {
            Some(dir) => {
                let (journal, records) = Journal::open(dir)?;
                tracing::info!(journal = %journal.path().display(), runs = records.len(), "run journal opened");
                (Some(journal), records)
            }
            None => (None, Vec::new()),
        };
        // The timeline says which runs the restart interrupted.
        let mut interrupted = Vec::new();
        for record in &mut records {
            if !record.status.state.is_final() && record.status.state != RunState::Interrupted {
                interrupt(record, now);
                let event = RunEvent::Ended {
                    state: record.status.state,
                    message: &record.status.message,
                };
                interrupted.push(event.entry(&record.status, None));
                if let Some(journal) = &mut journal
                    && let Err(err) = journal.append(record)
                {
                    tracing::error!(run = %record.status.id, %err, "could not write the run journal");
                }
            }
        }
        let journal = journal.map(JournalWriter::spawn).transpose()?;
        let runs = Runs {
            catalog,
            entries: Mutex::new(BTreeMap::new()),
            journal,
            sink,
            seq: AtomicU64::new(0),
            prefix: format!("run-{gateway_id}"),
            poll,
            timeline: Mutex::default(),
        };
        for entry in interrupted {
            // Nothing reads the feed yet; what it cannot queue is still on the timeline.
            let _ = runs.sink.try_send(runs.remember(entry));
        }
        for record in records {
            runs.lock().insert(
                record.status.id.clone(),
                Entry {
                    record,
                    control: Arc::default(),
                    task: None,
                    last_progress: None,
                },
            );
        }
        Ok(runs)
    }

    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// How often run tasks look at the platform.
    pub fn poll(&self) -> Duration {
        self.poll
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queue `record` for the journal. Called under the runs lock, so records are queued in
    /// version order; await [`written`] on the result, outside the lock.
    fn queue(&self, record: &Record) -> Option<Written> {
        let journal = self.journal.as_ref()?;
        Some((record.status.id.clone(), journal.append(record.clone())))
    }

    pub fn next_id(&self) -> String {
        let n = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        format!("{}-{n}", self.prefix)
    }

    /// Newest first.
    pub fn list(&self) -> Vec<RunStatus> {
        let mut runs: Vec<RunStatus> = self
            .lock()
            .values()
            .map(|e| e.record.status.clone())
            .collect();
        runs.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        runs
    }

    pub fn get(&self, id: &str) -> Option<RunStatus> {
        self.lock().get(id).map(|e| e.record.status.clone())
    }

    pub fn cursor(&self, id: &str) -> Option<Cursor> {
        self.lock().get(id).map(|e| e.record.cursor.clone())
    }

    pub fn control(&self, id: &str) -> Option<Arc<Control>> {
        self.lock().get(id).map(|e| e.control.clone())
    }

    /// Whether a task is driving the run.
    pub fn is_live(&self, id: &str) -> bool {
        self.lock().get(id).is_some_and(Entry::live)
    }

    /// Runs that have not finished: running, waiting for approval, pending or interrupted.
    pub fn unfinished(&self) -> usize {
        self.lock()
            .values()
            .filter(|e| !e.record.status.state.is_final())
            .count()
    }

    /// Record a new run (journal first), evicting the oldest finished runs beyond [`MAX_RUNS`].
    pub async fn insert(&self, status: RunStatus) -> RunStatus {
        let record = Record {
            version: 1,
            status,
            cursor: Cursor::default(),
        };
        let snapshot = record.status.clone();
        let queued = {
            let mut entries = self.lock();
            let queued = self.queue(&record);
            self.admit(&mut entries, record);
            queued
        };
        written(queued).await;
        snapshot
    }

    fn admit(&self, entries: &mut BTreeMap<String, Entry>, record: Record) {
        entries.insert(
            record.status.id.clone(),
            Entry {
                record,
                control: Arc::default(),
                task: None,
                last_progress: None,
            },
        );
        if entries.len() > MAX_RUNS {
            let mut finished: Vec<(DateTime<Utc>, String)> = entries
                .values()
                .filter(|e| e.record.status.state.is_final())
                .map(|e| (e.record.status.created_at, e.record.status.id.clone()))
                .collect();
            finished.sort();
            let excess = entries.len() - MAX_RUNS;
            for (_, id) in finished.into_iter().take(excess) {
                entries.remove(&id);
                if let Some(journal) = &self.journal {
                    journal.forget(&id);
                }
            }
        }
    }

    /// Apply a transition to run `id`, stamp it, journal it; returns the new status.
    pub async fn update(
        &self,
        id: &str,
        now: DateTime<Utc>,
        change: impl FnOnce(&mut Record),
    ) -> Option<RunStatus> {
        self.try_update(id, now, |r| {
            change(r);
            true
        })
        .await
    }

    /// Like [`Runs::update`], but `change` may decline (return false, changing nothing), checked
    /// and applied under one lock: e.g. resume only what is still interrupted.
    pub async fn try_update(
        &self,
        id: &str,
        now: DateTime<Utc>,
        change: impl FnOnce(&mut Record) -> bool,
    ) -> Option<RunStatus> {
        let (status, queued) = {
            let mut entries = self.lock();
            let entry = entries.get_mut(id)?;
            if !change(&mut entry.record) {
                return None;
            }
            entry.record.version += 1;
            entry.record.status.updated_at = now;
            let queued = self.queue(&entry.record);
            (entry.record.status.clone(), queued)
        };
        written(queued).await;
        Some(status)
    }

    /// Change what step `idx` is waiting on. Not a transition: not journaled, and announced at
    /// most every [`PROGRESS_EVERY`]; returns the status when it should be announced.
    pub fn progress(&self, id: &str, idx: usize, waiting_on: String) -> Option<RunStatus> {
        let mut entries = self.lock();
        let entry = entries.get_mut(id)?;
        let step = entry.record.status.steps.get_mut(idx)?;
        if step.waiting_on.as_deref() == Some(waiting_on.as_str()) {
            return None;
        }
        step.waiting_on = Some(waiting_on);
        let due = entry
            .last_progress
            .is_none_or(|t| t.elapsed() >= PROGRESS_EVERY);
        if due {
            entry.last_progress = Some(Instant::now());
            Some(entry.record.status.clone())
        } else {
            None
        }
    }

    /// Announce `status` on the `runs` topic.
    pub async fn publish(&self, status: RunStatus) {
        let emission = Emission {
            ts: status.updated_at,
            app: app_of(&status),
            body: Body::Runs(status),
        };
        if self.sink.send(emission).await.is_err() {
            tracing::warn!("the stream is closed; a run transition was not announced");
        }
    }

    /// Put what `run` (as it is after the change) or a step of it did on the platform
    /// timeline, done by `actor`, and announce it on the `events` topic.
    pub async fn record(&self, run: &RunStatus, event: RunEvent<'_>, actor: Option<&str>) {
        let emission = self.remember(event.entry(run, actor));
        if self.sink.send(emission).await.is_err() {
            tracing::warn!("the stream is closed; a run event was not announced");
        }
    }

    /// Put a run's end on the timeline: the main steps it skipped, then its final state, done
    /// by `actor` (who aborted it; else the one who started it).
    pub async fn record_end(&self, run: &RunStatus, actor: Option<&str>) {
        let skipped = run
            .steps
            .iter()
            .filter(|s| s.state == StepState::Skipped && !s.fallback);
        for step in skipped {
            let event = RunEvent::StepSkipped { step: &step.id };
            self.record(run, event, Some(&run.started_by)).await;
        }
        let event = RunEvent::Ended {
            state: run.state,
            message: &run.message,
        };
        self.record(run, event, actor).await;
    }

    /// Keep `entry` on the timeline; the emission that announces it.
    fn remember(&self, entry: TimelineEntry) -> Emission {
        let emission = Emission {
            ts: entry.ts,
            app: entry.app.clone(),
            body: Body::Events(entry.event.clone()),
        };
        self.timeline
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(entry);
        emission
    }

    /// What runs and their steps did, newest first (at most [`TIMELINE_CAP`]).
    pub fn timeline(&self) -> Vec<TimelineEntry> {
        self.timeline
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .list()
    }

    fn set_task(&self, id: &str, task: JoinHandle<()>) {
        if let Some(entry) = self.lock().get_mut(id) {
            entry.task = Some(task);
        }
    }

    /// Finish the journal's queued writes and close it (the gateway is stopping).
    pub async fn close_journal(&self) {
        if let Some(journal) = &self.journal {
            journal.close().await;
        }
    }

    /// Abort every run task without recording anything: what a crash or a stop looks like to the
    /// journal, so those runs come back `interrupted`.
    pub fn stop_tasks(&self) {
        for entry in self.lock().values_mut() {
            if let Some(task) = entry.task.take() {
                task.abort();
            }
        }
    }
}

/// A record queued for the journal: its run, and the acknowledgement to await.
type Written = (String, tokio::sync::oneshot::Receiver<std::io::Result<()>>);

/// Wait until a queued record is on disk. A failure is logged: the run goes on, and the
/// operator learns from the log that it may not survive a restart.
async fn written(queued: Option<Written>) {
    let Some((run, ack)) = queued else { return };
    let err = match ack.await {
        Ok(Ok(())) => return,
        Ok(Err(err)) => err,
        Err(_) => std::io::Error::other("the journal thread has stopped"),
    };
    tracing::error!(%run, %err, "could not write the run journal");
}

/// Mark an in-flight run interrupted: its unfinished step goes back to pending.
fn interrupt(record: &mut Record, now: DateTime<Utc>) {
    let status = &mut record.status;
    status.state = RunState::Interrupted;
    status.updated_at = now;
    status.message =
        "the gateway stopped while the run was in flight; resume it to continue".into();
    for step in &mut status.steps {
        if matches!(step.state, StepState::Running | StepState::WaitingApproval) {
            step.state = StepState::Pending;
            step.waiting_on = None;
            step.output
                .push("interrupted: the gateway stopped before this step finished".into());
        }
    }
    record.version += 1;
}

#[cfg(test)]
mod tests {
    use super::Control;

    #[test]
    fn an_approval_is_taken_only_for_the_gate_that_waits() {
        let control = Control::default();
        assert!(!control.approve("gate-a", "li.wei"), "nothing waits yet");
        control.open_gate("gate-a");
        assert!(!control.approve("gate-b", "li.wei"), "gate-b does not wait");
        assert!(control.approve("gate-a", "wang.fang"));
        assert_eq!(control.take_approval("gate-b"), None);
        assert_eq!(
            control.take_approval("gate-a").as_deref(),
            Some("wang.fang")
        );
        // Gate a has passed: an approval judged on it (a slow or retried request) is refused,
        // and cannot sit there to pass gate b.
        assert!(!control.approve("gate-a", "li.wei"));
        control.open_gate("gate-b");
        assert_eq!(control.take_approval("gate-b"), None);
        assert!(control.approve("gate-b", "li.wei"));
        assert_eq!(control.take_approval("gate-b").as_deref(), Some("li.wei"));
    }
}
