//! Actions in flight: the progress lines ("⟳ scaling shop-cart 6 → 12 · ready 7/12") and how
//! they end.
//!
//! The `actions` topic normally reports every step up to the final one. When the stream may
//! have lost some of it — a `gap`, a reconnect, or simply nothing heard about an action for
//! [`ACTION_CHECK_SECS`] — the console asks `GET /v1/actions/{id}` and settles the action from
//! the answer: a final state removes the line with the outcome, a 404 (the gateway no longer
//! knows it, e.g. after a restart) removes it with a notice. A reply that arrives after the
//! action was settled another way, or after a newer ask, is dropped.

use chrono::Duration;

use crate::app::core::action::{HttpError, Reply};
use crate::app::core::effect::{Effect, RequestId, RequestKind};
use crate::app::core::{Core, NoticeLevel};
use crate::protocol::{ActionState, ActionStatus};

/// An action not heard of for this long is asked about, seconds.
pub const ACTION_CHECK_SECS: i64 = 5;
/// Ended actions remembered, so late news of them is recognised as late.
pub const MAX_SETTLED: usize = 64;

/// A status of an action, from the stream or a reply: in flight, it updates the line (an older
/// status than the one shown is ignored); final, it ends a known action with its outcome.
pub(crate) fn track(core: &mut Core, status: ActionStatus) {
    let known = core.actions.get(&status.id);
    if status.state.is_final() {
        if known.is_some() {
            finish(core, &status);
        } else if !core.actions_settled.contains(&status.id) {
            // Ended before the console knew of it (the POST's answer is still on its way):
            // that answer must not bring it back.
            settled(core, &status.id);
        }
        return;
    }
    if known.is_none() && core.actions_settled.contains(&status.id) {
        tracing::debug!(action = %status.id, "late status of an ended action dropped");
        return;
    }
    core.action_heard.insert(status.id.clone(), core.wall);
    if known.is_some_and(|k| k.updated_at > status.updated_at) {
        return;
    }
    core.actions.insert(status.id.clone(), status);
}

/// Remove a finished action and say how it ended. A question about it still on its way is
/// forgotten, so its answer is dropped.
fn finish(core: &mut Core, status: &ActionStatus) {
    forget(core, &status.id);
    settled(core, &status.id);
    let (level, outcome) = match status.state {
        ActionState::Failed => (NoticeLevel::Error, "failed"),
        _ => (NoticeLevel::Info, "done"),
    };
    let detail = if status.message.is_empty() {
        String::new()
    } else {
        format!(": {}", status.message)
    };
    core.notify(
        level,
        format!("{} {}: {outcome}{detail}", status.app, status.description),
    );
}

/// Remember that `id` ended.
fn settled(core: &mut Core, id: &str) {
    if core.actions_settled.len() >= MAX_SETTLED {
        core.actions_settled.pop_front();
    }
    core.actions_settled.push_back(id.to_string());
}

fn forget(core: &mut Core, id: &str) {
    core.actions.remove(id);
    core.action_heard.remove(id);
    core.pending
        .retain(|_, p| !matches!(&p.kind, RequestKind::FetchAction { action } if action == id));
}

/// The stream may have missed action updates (a gap, a reconnect): ask about every action in
/// flight.
pub(crate) fn check_all(core: &mut Core, effects: &mut Vec<Effect>) {
    let ids: Vec<String> = core.actions.keys().cloned().collect();
    for id in ids {
        ask(core, id, effects);
    }
}

/// On the clock: ask about actions not heard of for [`ACTION_CHECK_SECS`].
pub(crate) fn check_quiet(core: &mut Core, effects: &mut Vec<Effect>) {
    let cutoff = core.wall - Duration::seconds(ACTION_CHECK_SECS);
    let quiet: Vec<String> = core
        .actions
        .keys()
        .filter(|id| core.action_heard.get(*id).is_none_or(|at| *at <= cutoff))
        .cloned()
        .collect();
    for id in quiet {
        ask(core, id, effects);
    }
}

/// `GET /v1/actions/{id}`, unless that question is already on its way.
fn ask(core: &mut Core, action: String, effects: &mut Vec<Effect>) {
    let kind = RequestKind::FetchAction {
        action: action.clone(),
    };
    if core.is_pending(&kind) {
        return;
    }
    // Counts as heard, so the clock does not ask again before the answer could arrive.
    core.action_heard.insert(action, core.wall);
    core.send(kind, effects);
}

/// `GET /v1/actions/{id}` answered.
pub(crate) fn on_reply(
    core: &mut Core,
    request_id: RequestId,
    action: &str,
    result: Result<Reply, HttpError>,
) {
    if !core.actions.contains_key(action) {
        tracing::debug!(request_id, action, "reply about a settled action dropped");
        return;
    }
    match result {
        Ok(Reply::Action(status)) if status.id == action => track(core, *status),
        Ok(_) => {}
        Err(err) if err.status == Some(404) => {
            let line = core
                .actions
                .get(action)
                .map(|a| format!("{} {}", a.app, a.description))
                .unwrap_or_default();
            forget(core, action);
            settled(core, action);
            core.notify(
                NoticeLevel::Warn,
                format!(
                    "{line}: the gateway no longer knows action {action} (restarted?); \
                     check the app for the outcome"
                ),
            );
        }
        // Unreachable or failing: the clock asks again after ACTION_CHECK_SECS.
        Err(err) => tracing::debug!(action, %err, "action check failed"),
    }
}
