//! `update()`: the one place state changes. Dispatches each [`Action`] to the module that
//! handles its kind, then keeps derived state (display order) current.

use chrono::{DateTime, Duration, Utc};

use super::action::Action;
use super::core::{Connection, NOTIFICATION_SECS, NoticeLevel, STALE_AFTER_SECS};
use super::effect::Effect;
use super::state::State;
use super::{alerts, keys, logs, order, replies, stream};

/// Apply one action to the state and return what the outside world should do about it.
pub fn update(state: &mut State, action: Action) -> Vec<Effect> {
    let mut effects = Vec::new();
    // Only keys change a list's `/` filter.
    let key = matches!(action, Action::Key(_));
    match action {
        Action::Key(key) => keys::handle_key(state, key, &mut effects),
        Action::StreamConnected(hello) => stream::on_connected(state, hello, &mut effects),
        Action::StreamFrame(msg) => stream::apply_frame(state, msg, &mut effects),
        Action::StreamDown {
            reason,
            retry_in_ms,
            at,
        } => on_stream_down(state, reason, retry_in_ms, at),
        Action::HttpReply { request_id, result } => {
            replies::apply_reply(state, request_id, result, &mut effects)
        }
        Action::Tick(now) => {
            on_tick(state, now);
            super::app_view::on_tick(state, &mut effects);
            super::in_flight::check_quiet(&mut state.core, &mut effects);
            return effects;
        }
        Action::Resize { width, height } => {
            state.core.size = (width, height);
            return effects;
        }
        Action::LogsSaved(result) => {
            logs::on_saved(state, result);
            return effects;
        }
        Action::Wheel { down } => keys::wheel(state, down, &mut effects),
        Action::Click(target) => keys::click(state, target, &mut effects),
        Action::OverviewScrolled { top } => {
            state.overview_top = top;
            return effects;
        }
        Action::ThemeFailed { name, kept, error } => {
            state.core.notify(
                NoticeLevel::Error,
                format!("theme {name} not loaded: {error}; keeping {kept}"),
            );
            state.core.theme = kept;
            return effects;
        }
    }
    order::refresh(state);
    alerts::refresh(state);
    super::timeline::clamp_offset(state);
    if key {
        super::runs::refresh(state);
    }
    // Filters, replies and alerts change which releases and runbooks show: keep the cursor of
    // the view on screen on its row (the other list follows when it is shown again).
    match state.view {
        super::state::View::Releases => super::app_view::move_release_cursor(state, 0),
        super::state::View::Runbooks => super::runbooks::move_cursor(state, 0),
        _ => {}
    }
    effects
}

fn on_tick(state: &mut State, now: DateTime<Utc>) {
    state.core.now = now;
    state.core.rate.roll(now);
    let cutoff = now - Duration::seconds(NOTIFICATION_SECS);
    state.core.notifications.retain(|n| n.at > cutoff);
    if let (
        Connection::Reconnecting {
            attempt,
            next_try_at,
        },
        Some(since),
    ) = (&state.core.connection, state.core.down_since)
        && now - since >= Duration::seconds(STALE_AFTER_SECS)
    {
        state.core.connection = Connection::Stale {
            since,
            attempt: *attempt,
            next_try_at: *next_try_at,
        };
    }
}

fn on_stream_down(state: &mut State, reason: String, retry_in_ms: u64, at: DateTime<Utc>) {
    let since = *state.core.down_since.get_or_insert(at);
    let attempt = match &state.core.connection {
        Connection::Reconnecting { attempt, .. } | Connection::Stale { attempt, .. } => {
            attempt.saturating_add(1)
        }
        Connection::Connecting | Connection::Live => 1,
    };
    let retry = i64::try_from(retry_in_ms).unwrap_or(i64::MAX / 2);
    let next_try_at = at + Duration::milliseconds(retry);
    state.core.connection = if at - since >= Duration::seconds(STALE_AFTER_SECS) {
        Connection::Stale {
            since,
            attempt,
            next_try_at,
        }
    } else {
        Connection::Reconnecting {
            attempt,
            next_try_at,
        }
    };
    tracing::info!(%reason, attempt, "stream down");
    state.core.down_reason = Some(reason);
}
