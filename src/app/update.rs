//! `update()`: the one place state changes. Dispatches each [`Action`] to the module that
//! handles its kind, then keeps derived state (display order) current.

use chrono::{DateTime, Duration, Utc};

use super::action::Action;
use super::effect::{Effect, Request, RequestKind};
use super::state::{
    Connection, MAX_NOTIFICATIONS, NOTIFICATION_SECS, NoticeLevel, Notification, Pending,
    STALE_AFTER_SECS, State,
};
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
            super::in_flight::check_quiet(state, &mut effects);
            return effects;
        }
        Action::Resize { width, height } => {
            state.size = (width, height);
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
            state.notify(
                NoticeLevel::Error,
                format!("theme {name} not loaded: {error}; keeping {kept}"),
            );
            state.theme = kept;
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
    state.now = now;
    state.rate.roll(now);
    let cutoff = now - Duration::seconds(NOTIFICATION_SECS);
    state.notifications.retain(|n| n.at > cutoff);
    if let (
        Connection::Reconnecting {
            attempt,
            next_try_at,
        },
        Some(since),
    ) = (&state.connection, state.down_since)
        && now - since >= Duration::seconds(STALE_AFTER_SECS)
    {
        state.connection = Connection::Stale {
            since,
            attempt: *attempt,
            next_try_at: *next_try_at,
        };
    }
}

fn on_stream_down(state: &mut State, reason: String, retry_in_ms: u64, at: DateTime<Utc>) {
    let since = *state.down_since.get_or_insert(at);
    let attempt = match &state.connection {
        Connection::Reconnecting { attempt, .. } | Connection::Stale { attempt, .. } => {
            attempt.saturating_add(1)
        }
        Connection::Connecting | Connection::Live => 1,
    };
    let retry = i64::try_from(retry_in_ms).unwrap_or(i64::MAX / 2);
    let next_try_at = at + Duration::milliseconds(retry);
    state.connection = if at - since >= Duration::seconds(STALE_AFTER_SECS) {
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
    state.down_reason = Some(reason);
}

impl State {
    /// Post a notification for the operator.
    pub(crate) fn notify(&mut self, level: NoticeLevel, text: impl Into<String>) {
        if self.notifications.len() == MAX_NOTIFICATIONS {
            self.notifications.pop_front();
        }
        self.notifications.push_back(Notification {
            level,
            text: text.into(),
            at: self.now,
        });
    }

    /// Queue an HTTP call, remembering it so its reply can be matched. A newer read of the
    /// same resource makes older pending reads stale.
    pub(crate) fn send(&mut self, kind: RequestKind, effects: &mut Vec<Effect>) -> u64 {
        let id = self.next_request;
        self.next_request += 1;
        self.pending.retain(|_, p| !kind.supersedes(&p.kind));
        self.pending.insert(
            id,
            Pending {
                kind: kind.clone(),
                sent_at: self.now,
            },
        );
        effects.push(Effect::Http(Request { id, kind }));
        id
    }

    /// Whether a request of this kind is already on its way.
    pub(crate) fn is_pending(&self, kind: &RequestKind) -> bool {
        self.pending.values().any(|p| &p.kind == kind)
    }

    /// A fresh idempotency key, shaped like a UUID v4, derived from the session seed.
    pub(crate) fn new_idempotency_key(&mut self) -> String {
        self.keys_issued += 1;
        let a = splitmix64(self.key_seed ^ self.keys_issued.wrapping_mul(0x9E37_79B9));
        let b = splitmix64(a);
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0x0fff,
            0x8000 | ((b >> 48) & 0x3fff),
            b & 0xffff_ffff_ffff
        )
    }
}

fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
