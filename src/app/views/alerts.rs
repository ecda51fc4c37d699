//! The Alerts view's core: the display order, the selection, and the keys that act on an
//! alert (acknowledge, silence, jump to its app, open its runbook), plus the replies to those
//! actions.
//!
//! Order: firing first, then acknowledged, then silenced, each by severity (P0 first) and then
//! age (newest first, so a fresh P0 is on top); resolved alerts last, most recently resolved
//! first, and only the newest [`MAX_RESOLVED`] of them are kept.

use std::cmp::Ordering;

use crate::app::core::action::{HttpError, Reply};
use crate::app::core::effect::{Effect, RequestId, RequestKind};
use crate::app::core::keymap::{Command, Layer};
use crate::app::core::list;
use crate::app::core::{Navigate, NoticeLevel};
use crate::app::dialogs::alert_dialog::{
    AckDialog, AlertQuestion, AlertStep, AlertTarget, SilenceDialog, describe_secs,
};
use crate::app::list_filter;
use crate::app::state::{Dialog, State, View};
use crate::protocol::{Alert, AlertState};

/// Resolved alerts kept for the "recently resolved" part of the list.
pub const MAX_RESOLVED: usize = 50;

/// What the Alerts view shows and where its cursor is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertsView {
    /// Id of the selected alert.
    pub selected: Option<String>,
    /// Alert ids in display order; kept current by `update()`.
    pub order: Vec<String>,
    /// The runbook last asked for, shown in the detail pane.
    pub note: Option<AlertNote>,
    /// The operator has moved the cursor. Until then it stays on the first row (the worst
    /// alert) as alerts arrive and re-sort; after, it follows its alert.
    pub chosen: bool,
}

/// A runbook the operator asked to open (the runbook view arrives with its own issue).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertNote {
    pub runbook: String,
    pub app: String,
}

impl AlertsView {
    pub fn selected_index(&self) -> Option<usize> {
        let id = self.selected.as_ref()?;
        self.order.iter().position(|o| o == id)
    }
}

impl State {
    /// The alert under the cursor in the Alerts view.
    pub fn selected_alert(&self) -> Option<&Alert> {
        self.core.alerts.get(self.alerts_view.selected.as_ref()?)
    }
}

fn state_rank(s: AlertState) -> u8 {
    match s {
        AlertState::Firing => 0,
        AlertState::Acknowledged => 1,
        AlertState::Silenced => 2,
        AlertState::Resolved => 3,
    }
}

/// The display order described in the module docs.
pub fn compare(a: &Alert, b: &Alert) -> Ordering {
    state_rank(a.state)
        .cmp(&state_rank(b.state))
        .then_with(|| {
            if a.state == AlertState::Resolved {
                b.resolved_at.cmp(&a.resolved_at)
            } else {
                Ordering::Equal
            }
        })
        .then_with(|| a.severity.cmp(&b.severity))
        .then_with(|| b.started_at.cmp(&a.started_at))
        .then_with(|| a.id.cmp(&b.id))
}

/// Drop the oldest resolved alerts beyond [`MAX_RESOLVED`], recompute the order and keep the
/// selection on a listed alert.
pub fn refresh(state: &mut State) {
    let mut resolved: Vec<&Alert> = state
        .core
        .alerts
        .values()
        .filter(|a| a.state == AlertState::Resolved)
        .collect();
    if resolved.len() > MAX_RESOLVED {
        resolved.sort_by(|a, b| compare(a, b));
        let drop: Vec<String> = resolved[MAX_RESOLVED..]
            .iter()
            .map(|a| a.id.clone())
            .collect();
        for id in drop {
            state.core.alerts.remove(&id);
        }
    }
    let needle = state.filter_needle(View::Alerts);
    let core = &state.core;
    let mut rows: Vec<&Alert> = core
        .alerts
        .values()
        .filter(|a| {
            let name = core
                .apps
                .get(&a.app)
                .map_or("", |e| e.summary.name.as_str());
            matches_filter(a, name, &needle)
        })
        .collect();
    rows.sort_by(|a, b| compare(a, b));
    let view = &mut state.alerts_view;
    view.order.clear();
    view.order.extend(rows.iter().map(|a| a.id.clone()));
    let listed = view
        .selected
        .as_ref()
        .is_some_and(|id| view.order.contains(id));
    if !listed || !view.chosen {
        view.selected = view.order.first().cloned();
    }
}

/// The `/` filter: app (id or display name), summary, rule, severity or runbook.
fn matches_filter(a: &Alert, name: &str, needle: &str) -> bool {
    let severity = format!("{:?}", a.severity);
    let fields = [a.app.as_str(), name, &a.summary, &a.rule, &severity];
    list_filter::matches(needle, fields.into_iter().chain(a.runbook.as_deref()))
}

/// Show the Alerts view and refresh the list from GET /v1/alerts.
pub fn open_alerts(state: &mut State, effects: &mut Vec<Effect>) {
    state.push_view(View::Alerts);
    state.core.send(RequestKind::FetchAlerts, effects);
}

/// Keys of the Alerts layer, of the silence dialog, and of the y/N question while an alert
/// dialog is open. Returns false for commands this module does not handle (quit, help, …).
pub fn run(state: &mut State, layer: Layer, cmd: Command, effects: &mut Vec<Effect>) -> bool {
    match layer {
        Layer::Alerts => run_view(state, cmd),
        Layer::Silence => run_silence(state, cmd),
        Layer::Confirm => match state.dialog {
            Some(Dialog::Ack(_) | Dialog::Silence(_)) => run_confirm(state, cmd, effects),
            _ => false,
        },
        _ => false,
    }
}

/// Type into the silence dialog's focused field.
pub fn type_char(state: &mut State, c: char) -> bool {
    match &mut state.dialog {
        Some(Dialog::Silence(d)) if d.step == AlertStep::Edit => {
            d.push_char(c);
            true
        }
        _ => false,
    }
}

/// Where a command of the Alerts view goes: the selected alert's app, or its runbook's form
/// with the app filled in. None for a command that goes nowhere (or an alert without one).
pub(crate) fn destination(state: &mut State, cmd: Command) -> Option<Navigate> {
    let a = state.selected_alert()?;
    match cmd {
        Command::JumpToApp => Some(Navigate::App(a.app.clone())),
        Command::OpenRunbook => match a.runbook.clone() {
            Some(id) => Some(Navigate::Runbook {
                id,
                app: Some(a.app.clone()),
            }),
            None => {
                let text = format!("alert {} has no runbook", a.id);
                state.core.notify(NoticeLevel::Info, text);
                None
            }
        },
        _ => None,
    }
}

fn run_view(state: &mut State, cmd: Command) -> bool {
    match cmd {
        Command::MoveDown => move_selection(state, 1),
        Command::MoveUp => move_selection(state, -1),
        Command::Top => move_selection(state, isize::MIN / 2),
        Command::Bottom => move_selection(state, isize::MAX / 2),
        Command::PageDown => move_selection(state, page(state)),
        Command::PageUp => move_selection(state, -page(state)),
        Command::Acknowledge => open_ack(state),
        Command::OpenSilence => open_silence(state),
        Command::Back => state.go_back(),
        _ => return false,
    }
    true
}

fn page(state: &State) -> isize {
    // Header, column titles, detail pane and status take about ten rows.
    list::page(state.core.size.1, 10)
}

fn move_selection(state: &mut State, delta: isize) {
    let view = &mut state.alerts_view;
    if let Some(id) = list::moved_id(&view.order, view.selected.as_ref(), delta) {
        view.selected = Some(id);
        view.chosen = true;
    }
}

/// The selected alert, if it can still be acted on; says why not otherwise.
fn actionable(state: &mut State, verb: &str) -> Option<AlertTarget> {
    if state.core.readonly {
        let text = format!(
            "READ-ONLY: acknowledging and silencing are disabled in this session ({})",
            state.core.readonly_reason()
        );
        state.core.notify(NoticeLevel::Warn, text);
        return None;
    }
    let alert = state.selected_alert()?;
    if alert.state == AlertState::Resolved {
        let msg = format!("alert {} is already resolved: nothing to {verb}", alert.id);
        state.core.notify(NoticeLevel::Info, msg);
        return None;
    }
    Some(AlertTarget::of(alert))
}

fn open_ack(state: &mut State) {
    if let Some(a) = state.selected_alert()
        && a.state == AlertState::Acknowledged
        && !state.core.readonly
    {
        let by = a
            .acknowledged_by
            .clone()
            .unwrap_or_else(|| "someone".into());
        let msg = format!("alert {} is already acknowledged by {by}", a.id);
        state.core.notify(NoticeLevel::Info, msg);
        return;
    }
    if let Some(target) = actionable(state, "acknowledge") {
        let key = state.core.new_idempotency_key();
        state.dialog = Some(Dialog::Ack(AckDialog::new(target, key)));
    }
}

/// Silence the alert; on a silenced alert, offer to end its silence instead.
fn open_silence(state: &mut State) {
    let silenced = state
        .selected_alert()
        .is_some_and(|a| a.state == AlertState::Silenced);
    if silenced {
        if let Some(target) = actionable(state, "expire") {
            let key = state.core.new_idempotency_key();
            state.dialog = Some(Dialog::Ack(AckDialog::expire(target, key)));
        }
        return;
    }
    if let Some(target) = actionable(state, "silence") {
        let key = state.core.new_idempotency_key();
        state.dialog = Some(Dialog::Silence(SilenceDialog::new(target, key)));
    }
}

fn run_silence(state: &mut State, cmd: Command) -> bool {
    let Some(Dialog::Silence(d)) = &mut state.dialog else {
        return false;
    };
    if d.step != AlertStep::Edit {
        return false;
    }
    match cmd {
        // Enter moves to the question only with a valid duration.
        Command::Submit => {
            if d.duration_secs().is_ok() {
                d.step = AlertStep::Confirm;
            }
        }
        Command::Back => state.dialog = None,
        Command::DeleteChar => d.delete_char(),
        Command::NextField => d.next_field(),
        Command::Increment => d.cycle_preset(1),
        Command::Decrement => d.cycle_preset(-1),
        _ => return false,
    }
    true
}

fn run_confirm(state: &mut State, cmd: Command, effects: &mut Vec<Effect>) -> bool {
    match cmd {
        Command::Confirm => confirm(state, effects),
        Command::Cancel => cancel(state),
        _ => return false,
    }
    true
}

/// `y`: send the acknowledgement or the silence, once.
fn confirm(state: &mut State, effects: &mut Vec<Effect>) {
    if state.core.readonly {
        return;
    }
    let actor = state.core.actor.clone();
    let kind = match &state.dialog {
        Some(Dialog::Ack(d)) if d.step == AlertStep::Confirm => match d.question {
            AlertQuestion::Acknowledge => RequestKind::AckAlert {
                alert: d.alert.id.clone(),
                actor,
                idempotency_key: d.idempotency_key.clone(),
            },
            AlertQuestion::ExpireSilence => RequestKind::ExpireSilence {
                alert: d.alert.id.clone(),
                actor,
                idempotency_key: d.idempotency_key.clone(),
            },
        },
        Some(Dialog::Silence(d)) if d.step == AlertStep::Confirm => {
            let Ok(secs) = d.duration_secs() else {
                return;
            };
            let body = (describe_secs(secs), d.comment.trim().to_string());
            // The same silence retried keeps its key; another duration or comment is another
            // decision, and the gateway would refuse it under the old key.
            let (alert, old_key) = (d.alert.id.clone(), d.idempotency_key.clone());
            let fresh = d.sent.as_ref().is_some_and(|sent| *sent != body);
            let key = if fresh {
                state.core.new_idempotency_key()
            } else {
                old_key
            };
            if let Some(Dialog::Silence(d)) = &mut state.dialog {
                d.idempotency_key = key.clone();
                d.sent = Some(body.clone());
            }
            RequestKind::SilenceAlert {
                alert,
                duration: body.0,
                comment: body.1,
                actor,
                idempotency_key: key,
            }
        }
        _ => return,
    };
    let request_id = state.core.send(kind, effects);
    match &mut state.dialog {
        Some(Dialog::Ack(d)) => {
            d.step = AlertStep::Sending { request_id };
            d.failure = None;
        }
        Some(Dialog::Silence(d)) => {
            d.step = AlertStep::Sending { request_id };
            d.failure = None;
        }
        _ => {}
    }
}

/// `n`/Esc: back out without sending. A silence goes back to editing; an acknowledgement
/// closes. While sending, the dialog closes and the reply still arrives as a notification.
fn cancel(state: &mut State) {
    let step = match &mut state.dialog {
        Some(Dialog::Silence(d)) if d.step == AlertStep::Confirm => {
            d.step = AlertStep::Edit;
            return;
        }
        Some(Dialog::Ack(d)) => d.step,
        Some(Dialog::Silence(d)) => d.step,
        _ => return,
    };
    state.dialog = None;
    if matches!(step, AlertStep::Sending { .. }) {
        state.core.notify(
            NoticeLevel::Info,
            "request still on its way; the result shows here",
        );
    }
}

/// A reply to an acknowledgement or a silence.
pub fn on_reply(
    state: &mut State,
    request_id: RequestId,
    kind: &RequestKind,
    result: Result<Reply, HttpError>,
) {
    let (alert_id, verb, done) = match kind {
        RequestKind::AckAlert { alert, .. } => (alert, "acknowledge", "acknowledged".to_string()),
        RequestKind::ExpireSilence { alert, .. } => (
            alert,
            "expire the silence",
            "is no longer silenced".to_string(),
        ),
        RequestKind::SilenceAlert {
            alert, duration, ..
        } => (alert, "silence", format!("silenced for {duration}")),
        _ => return,
    };
    let dialog_step = match &state.dialog {
        Some(Dialog::Ack(d)) => Some(d.step),
        Some(Dialog::Silence(d)) => Some(d.step),
        _ => None,
    };
    let dialog_waits = dialog_step == Some(AlertStep::Sending { request_id });
    match result {
        Ok(reply) => {
            if dialog_waits {
                state.dialog = None;
            }
            if let Reply::Alert(alert) = reply {
                apply_alert_reply(state, *alert);
            }
            state
                .core
                .notify(NoticeLevel::Info, format!("alert {alert_id} {done}"));
        }
        Err(err) if err.is_transient() && dialog_waits => {
            // Back to the question: `y` tries again.
            let failure = Some(err.to_string());
            match &mut state.dialog {
                Some(Dialog::Ack(d)) => (d.step, d.failure) = (AlertStep::Confirm, failure),
                Some(Dialog::Silence(d)) => (d.step, d.failure) = (AlertStep::Confirm, failure),
                _ => {}
            }
        }
        Err(err) => {
            if dialog_waits {
                state.dialog = None;
            }
            let why = match err.status {
                Some(409) => format!("alert {alert_id} is already resolved ({})", err.message),
                Some(404) => format!("alert {alert_id} no longer exists"),
                _ => err.to_string(),
            };
            state
                .core
                .notify(NoticeLevel::Error, format!("cannot {verb}: {why}"));
        }
    }
}

/// An alert as an action's reply returned it. The stream may already have told us it was
/// resolved since; a reply never takes that back.
fn apply_alert_reply(state: &mut State, alert: Alert) {
    let resolved = state
        .core
        .alerts
        .get(&alert.id)
        .is_some_and(|a| a.state == AlertState::Resolved);
    if resolved {
        return;
    }
    let app = alert.app.clone();
    state.core.alerts.insert(alert.id.clone(), alert);
    state.core.recount_firing(&app);
}
