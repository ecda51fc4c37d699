//! The bottom bar: gateway address, connection state, who is at the console and in which
//! role, events per second, clock. A banner for a lost connection, and the latest
//! notification, live here too.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{Command, Connection, Layer, NoticeLevel, State, View};
use crate::ui::format;
use crate::ui::theme::{Role, Theme};
use crate::ui::widgets::hints::{self, Keys};

/// "live", "reconnecting, next try in 3s", "stale since 03:12:40", with the role to show it in.
fn connection_label(state: &State) -> (String, Role) {
    match &state.core.connection {
        Connection::Connecting => ("connecting…".into(), Role::Reconnecting),
        Connection::Live => ("● live".into(), Role::Live),
        Connection::Reconnecting {
            attempt,
            next_try_at,
        } => {
            let secs = (*next_try_at - state.core.wall).num_seconds().max(0);
            (
                format!("reconnecting, next try in {secs}s (#{attempt})"),
                Role::Reconnecting,
            )
        }
        Connection::Stale { since, .. } => (
            format!("stale since {}", format::clock(*since)),
            Role::Stale,
        ),
    }
}

/// The role shown when the gateway checks no tokens: every session has an operator's rights
/// (and more). With tokens, the role is the one `hello` reported for the console's token.
pub const ROLE_WITHOUT_AUTH: &str = "operator";

/// Longest user name shown; longer ones end in `…`.
const USER_WIDTH: usize = 20;

pub fn render(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let bar = theme.style(Role::StatusBar);
    let (label, role) = connection_label(state);
    let mut left = vec![Span::raw(" ")];
    // The context's name first, in the production colours on a production console.
    if let Some(context) = &state.core.context {
        let role = if state.core.production {
            Role::Production
        } else {
            Role::Accent
        };
        left.push(Span::styled(format!(" {context} "), theme.style(role)));
        left.push(Span::raw(" "));
    }
    let left = Line::from(
        [
            left,
            vec![
                Span::raw(state.core.gateway.as_str()),
                Span::raw(" │ "),
                Span::styled(format!(" {label} "), theme.style(role)),
            ],
        ]
        .concat(),
    );
    let clock = format!("{} UTC ", format::clock(state.core.now));
    let rate = format!("{} ev/s │ ", state.core.rate.per_sec);
    let role = state.core.role.map_or(ROLE_WITHOUT_AUTH, |r| r.as_str());
    let who = format!(
        "{} · {role} │ ",
        format::truncate(&state.core.actor, USER_WIDTH)
    );
    let room = usize::from(area.width).saturating_sub(left.width() + 1);
    let help = hints::text(
        &state.core.keymap,
        Layer::Global,
        &[(&[Keys::First(Command::ToggleHelp)], "help")],
        "",
    );
    let help = if help.is_empty() {
        help
    } else {
        format!("│ {help} ")
    };
    // Widest version that fits: the event rate goes first, then user and role; the way to
    // help and the clock stay to the last (at 80x24 too).
    let right = [
        format!("{who}{rate}{clock}{help}"),
        format!("{who}{clock}{help}"),
        format!("{clock}{help}"),
        clock,
    ]
    .into_iter()
    .find(|r| Line::from(r.as_str()).width() <= room)
    .unwrap_or_default();
    frame.render_widget(Paragraph::new(left).style(bar), area);
    let right_width = Line::from(right.as_str()).width() as u16;
    if right_width > 0 {
        let r = Rect {
            x: area.x + area.width - right_width,
            width: right_width,
            ..area
        };
        frame.render_widget(Paragraph::new(right).style(bar), r);
    }
}

/// Whether [`banner`] has something to say, without building its text: the layout asks this
/// several times a frame (drawing, hit map, overview scroll), and must not allocate.
pub fn has_banner(state: &State) -> bool {
    !state.core.apps.is_empty()
        && (state.core.is_down()
            || state
                .core
                .apps
                .values()
                .any(|a| a.summary.stale_since.is_some() || a.metrics_problem.is_some()))
}

/// The full-width warning, if one is due: the stream is down while old data is on screen,
/// the apps themselves could not be read, or some app's metrics could not be (the one in
/// view first).
pub fn banner(state: &State) -> Option<(String, Role)> {
    if state.core.apps.is_empty() {
        return None;
    }
    match &state.core.connection {
        Connection::Reconnecting {
            attempt,
            next_try_at,
        } => {
            let secs = (*next_try_at - state.core.wall).num_seconds().max(0);
            Some((
                format!(
                    " DISCONNECTED — reconnecting in {secs}s (attempt {attempt}); figures may be behind"
                ),
                Role::Reconnecting,
            ))
        }
        Connection::Stale {
            since,
            attempt,
            next_try_at,
        } => {
            let secs = (*next_try_at - state.core.wall).num_seconds().max(0);
            Some((
                format!(
                    " STALE — no data since {} UTC; retry in {secs}s (attempt {attempt})",
                    format::clock(*since)
                ),
                Role::Stale,
            ))
        }
        Connection::Live | Connection::Connecting => {
            apps_banner(state).or_else(|| metrics_banner(state))
        }
    }
}

/// "APPS STALE 45s (as of 03:12:40 UTC) — Kubernetes API unavailable: …": the platform
/// cannot read what it lists apps from; the oldest `stale_since` of any app is shown.
fn apps_banner(state: &State) -> Option<(String, Role)> {
    let (since, reason) = state
        .core
        .apps
        .values()
        .filter_map(|a| Some((a.summary.stale_since?, a.summary.stale_reason.as_deref())))
        .min_by_key(|(since, _)| *since)?;
    let reason = reason.unwrap_or("the platform cannot read the apps");
    Some((
        format!(
            " APPS STALE {} (as of {} UTC) — {reason}",
            format::age(state.core.now, since),
            format::clock(since)
        ),
        Role::Stale,
    ))
}

/// "METRICS STALE 45s — shop-cart: Prometheus unavailable: …", or for a query that fails
/// "METRICS UNREADABLE — 5 apps: bad PromQL: p99 — …" (the message is the app in view's).
fn metrics_banner(state: &State) -> Option<(String, Role)> {
    let focus = match state.view {
        View::Overview => state.overview.selected.as_deref(),
        View::App | View::Releases => Some(state.app_view.app.as_str()),
        _ => None,
    };
    let (app, problem, count) = state.core.metrics_problem(focus)?;
    let who = if count > 1 {
        format!("{count} apps")
    } else {
        app.to_string()
    };
    let head = match (problem.kind.is_stale(), problem.last_good) {
        (true, Some(t)) => format!(
            "METRICS STALE {} (as of {} UTC)",
            format::age(state.core.now, t),
            format::clock(t)
        ),
        (true, None) => "NO METRICS YET".to_string(),
        (false, _) => "METRICS UNREADABLE".to_string(),
    };
    Some((format!(" {head} — {who}: {}", problem.message), Role::Stale))
}

/// Draw [`banner`] into its band.
pub fn render_banner(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let shown = banner(state);
    debug_assert_eq!(
        shown.is_some(),
        has_banner(state),
        "banner and its band disagree"
    );
    let Some((text, role)) = shown else {
        return;
    };
    // A long reason ends in `…` rather than mid-word at the edge (80 columns too).
    let text = format::truncate(&text, usize::from(area.width));
    frame.render_widget(Paragraph::new(text).style(theme.style(role)), area);
}

/// The newest notification, if any.
pub fn render_notification(state: &State, theme: &Theme, frame: &mut Frame, area: Rect) {
    let Some(n) = state.core.notifications.back() else {
        return;
    };
    let role = match n.level {
        NoticeLevel::Info => Role::Accent,
        NoticeLevel::Warn => Role::Notice,
        NoticeLevel::Error => Role::Error,
    };
    let line = format!(" {} {}", format::clock(n.at), n.text);
    frame.render_widget(Paragraph::new(line).style(theme.style(role)), area);
}
