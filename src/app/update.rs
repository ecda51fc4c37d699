//! `update()`: the one place state changes. Dispatches each [`Action`] to the module that
//! handles its kind, then keeps derived state (display order) current.

use chrono::{DateTime, Duration, Utc};

use super::views::{alerts, logs};
use super::{keys, replies, stream};
use crate::app::core::action::Action;
use crate::app::core::effect::Effect;
use crate::app::core::{Connection, NOTIFICATION_SECS, NoticeLevel, STALE_AFTER_SECS};
use crate::app::state::State;

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
        Action::Clock {
            platform_time,
            rate,
            at,
        } => {
            stream::on_clock(state, platform_time, rate, at);
            return effects;
        }
        Action::Tick(now) => {
            on_tick(state, now);
            crate::app::views::app_view::on_tick(state, &mut effects);
            crate::app::core::in_flight::check_quiet(&mut state.core, &mut effects);
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
            state.overview.top = top;
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
        Action::ContextFailed { name, error } => {
            state.core.notify(
                NoticeLevel::Error,
                format!("not switched to {name}: {error}"),
            );
            return effects;
        }
    }
    state.overview.refresh(&state.core);
    alerts::refresh(state);
    crate::app::views::timeline::clamp_offset(state);
    if key {
        crate::app::views::runs::refresh(state);
    }
    // Filters, replies and alerts change which releases and runbooks show: keep the cursor of
    // the view on screen on its row (the other list follows when it is shown again).
    match state.view {
        crate::app::state::View::Releases => {
            crate::app::views::app_view::move_release_cursor(state, 0)
        }
        crate::app::state::View::Runbooks => crate::app::views::runbooks::move_cursor(state, 0),
        _ => {}
    }
    effects
}

/// The console's clock moved to `now`; platform time follows at the platform's rate.
fn on_tick(state: &mut State, now: DateTime<Utc>) {
    state.core.wall = now;
    state.core.now = state.core.clock.at(now);
    state.core.rate.roll(now);
    let cutoff = now - Duration::seconds(NOTIFICATION_SECS);
    state.core.notifications.retain(|n| n.posted > cutoff);
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
