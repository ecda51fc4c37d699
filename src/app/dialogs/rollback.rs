//! The rollback flow: pick a target release, review what differs, confirm deliberately, send
//! once with an Idempotency-Key, and follow it on the action-progress line.
//!
//! Steps: **review** (from → to and what differs) → Enter → **confirm** ("Roll back shop-cart
//! v2.3.1 → v2.3.0? y/N", `y` sends) — or, in a production context, **type the app name**
//! (Enter sends only when it matches exactly). No single key ever sends.
//!
//! The review relates the target to the incident on the app (its first firing alert): whether it
//! is the release that ran before the incident began, or why rolling back to it may not help.
//!
//! Retries follow the scale flow: a transient failure (unreachable, 5xx, 429) goes back to the
//! confirmation and `y` sends again with the same key; a refusal (409 already active, 404, 422)
//! goes back to the review with the reason, and the next try gets a fresh key, since the
//! gateway stores the refusal under the old one.

use crate::app::core::action::{HttpError, Reply};
use crate::app::core::effect::{Effect, RequestId, RequestKind};
use crate::app::core::keymap::{Command, Layer};
use crate::app::core::{Core, NoticeLevel};
use crate::app::state::{Dialog, State};
use chrono::{DateTime, Utc};

use crate::protocol::{Alert, AlertState, Release, ReleaseStatus};

/// A release that went live this long (or less) before the first alert is the one the incident
/// is blamed on: the release before it is the one to go back to.
pub const SHORTLY_BEFORE_SECS: i64 = 30 * 60;

/// Where the operator is in the rollback flow.
#[derive(Clone, Debug, PartialEq)]
pub enum RollbackStep {
    /// From → to and what differs; Enter goes on.
    Review,
    /// "Roll back shop-cart v2.3.1 → v2.3.0? y/N"
    Confirm,
    /// Production: type the app id to confirm.
    TypeName,
    /// Sent; waiting for the gateway to accept it.
    Sending { request_id: RequestId },
}

/// The rollback dialog for one app.
#[derive(Clone, Debug, PartialEq)]
pub struct RollbackDialog {
    pub app: String,
    /// Display name, possibly Chinese.
    pub app_name: String,
    /// The active release.
    pub from: Release,
    /// The release to go back to.
    pub to: Release,
    pub step: RollbackStep,
    /// Typing the app name is required to confirm.
    pub production: bool,
    /// The app name as typed (production only).
    pub typed: String,
    /// Sent with every try of this rollback, so the gateway applies it once.
    pub idempotency_key: String,
    /// Why the last try failed, shown until the next step.
    pub failure: Option<String>,
    /// How the target relates to the incident on the app; `None` when no alert fires on it.
    pub incident: Option<Incident>,
}

/// The incident on the app as the rollback dialog reads it: when its first firing alert began,
/// and what that says about the target.
#[derive(Clone, Debug, PartialEq)]
pub struct Incident {
    /// The earliest `started_at` of the app's firing alerts.
    pub started_at: DateTime<Utc>,
    pub fit: IncidentFit,
}

/// A release named in the dialog's incident line.
#[derive(Clone, Debug, PartialEq)]
pub struct ReleaseMark {
    pub id: String,
    pub version: String,
}

impl From<&Release> for ReleaseMark {
    fn from(r: &Release) -> Self {
        ReleaseMark {
            id: r.id.clone(),
            version: r.version.clone(),
        }
    }
}

/// Whether rolling back to the target undoes what started the incident.
#[derive(Clone, Debug, PartialEq)]
pub enum IncidentFit {
    /// `suspect` went live shortly before the first alert, and the target is the release that
    /// ran before it, until `live_until` (when `suspect` replaced it).
    BeforeIncident {
        suspect: ReleaseMark,
        live_until: DateTime<Utc>,
    },
    /// `suspect` went live shortly before the first alert, but the target is not the release
    /// that ran before it: `before` is (live until `live_until`).
    NotBeforeIncident {
        suspect: ReleaseMark,
        before: ReleaseMark,
        live_until: DateTime<Utc>,
    },
    /// The active release already is the one that ran before the incident, until
    /// `live_until` (the suspect was rolled back): going further back may not help.
    AlreadyBefore {
        suspect: ReleaseMark,
        live_until: DateTime<Utc>,
    },
    /// The release live when the incident began had been live since `live_since`, long before
    /// it: no deploy to blame, and rolling back may not help.
    LiveLongBefore {
        release: ReleaseMark,
        live_since: DateTime<Utc>,
    },
    /// The active release went live at `live_since`, after the incident began.
    CurrentAfterStart { live_since: DateTime<Utc> },
}

/// The incident on `app` as its firing `alerts` tell it, and how rolling back `from` → `to`
/// relates to it. `releases` are newest first; a failed release never ran, so it is skipped.
pub fn incident<'a>(
    app: &str,
    alerts: impl IntoIterator<Item = &'a Alert>,
    releases: &[Release],
    from: &Release,
    to: &Release,
) -> Option<Incident> {
    let started_at = alerts
        .into_iter()
        .filter(|a| a.app == app && a.state == AlertState::Firing)
        .map(|a| a.started_at)
        .min()?;
    let fit = incident_fit(started_at, releases, from, to);
    Some(Incident { started_at, fit })
}

fn incident_fit(
    start: DateTime<Utc>,
    releases: &[Release],
    from: &Release,
    to: &Release,
) -> IncidentFit {
    if from.created_at > start {
        return IncidentFit::CurrentAfterStart {
            live_since: from.created_at,
        };
    }
    let mut ran: Vec<&Release> = releases
        .iter()
        .filter(|r| r.status != ReleaseStatus::Failed)
        .collect();
    ran.sort_by_key(|r| std::cmp::Reverse(r.created_at));
    // The release running when the incident began (the active one went live before it).
    let Some(at_start) = ran.iter().position(|r| r.created_at <= start) else {
        return IncidentFit::LiveLongBefore {
            release: from.into(),
            live_since: from.created_at,
        };
    };
    let live = ran[at_start];
    let before = ran.get(at_start + 1);
    let recent = (start - live.created_at).num_seconds() <= SHORTLY_BEFORE_SECS;
    let (true, Some(before)) = (recent, before) else {
        return IncidentFit::LiveLongBefore {
            release: live.into(),
            live_since: live.created_at,
        };
    };
    let suspect = ReleaseMark::from(live);
    if to.id == before.id {
        IncidentFit::BeforeIncident {
            suspect,
            live_until: live.created_at,
        }
    } else if from.id == before.id {
        IncidentFit::AlreadyBefore {
            suspect,
            live_until: live.created_at,
        }
    } else {
        IncidentFit::NotBeforeIncident {
            suspect,
            before: (*before).into(),
            live_until: live.created_at,
        }
    }
}

impl RollbackDialog {
    /// Whether the typed name confirms (always true outside production).
    pub fn name_matches(&self) -> bool {
        crate::app::core::typed_name::confirms(self.production, &self.typed, &self.app)
    }
}

/// The release a plain rollback goes back to: the newest superseded release older than the
/// active one. Failed and rolled-back releases are skipped (both were bad), the same choice the
/// gateway makes for a rollback without `to`.
pub fn default_target(releases: &[Release]) -> Option<&Release> {
    let active = releases
        .iter()
        .position(|r| r.status == ReleaseStatus::Active)?;
    releases[active + 1..]
        .iter()
        .find(|r| r.status == ReleaseStatus::Superseded)
}

/// The dialog for rolling `app` back to `release` (else the previous good one) among its
/// `releases`, or None after saying why not.
pub(crate) fn open(
    core: &mut Core,
    app: &str,
    release: Option<&str>,
    releases: &[Release],
) -> Option<RollbackDialog> {
    if core.readonly {
        return None;
    }
    let Some(from) = releases.iter().find(|r| r.status == ReleaseStatus::Active) else {
        core.notify(NoticeLevel::Warn, format!("{app} has no active release"));
        return None;
    };
    let to = match release {
        Some(wanted) => releases
            .iter()
            .find(|r| r.id == wanted || r.version == wanted),
        None => default_target(releases),
    };
    let Some(to) = to else {
        let why = match release {
            Some(wanted) => format!("{app} has no release {wanted:?}"),
            None => format!("{app} has no earlier good release to roll back to"),
        };
        core.notify(NoticeLevel::Warn, why);
        return None;
    };
    if to.id == from.id {
        core.notify(
            NoticeLevel::Warn,
            format!("{} ({}) is already active on {app}", to.id, to.version),
        );
        return None;
    }
    if to.status == ReleaseStatus::Failed {
        core.notify(
            NoticeLevel::Warn,
            format!("{} ({}) failed; pick a good release", to.id, to.version),
        );
        return None;
    }
    let incident = incident(app, core.alerts.values(), releases, from, to);
    let (from, to) = (from.clone(), to.clone());
    let app_name = core
        .apps
        .get(app)
        .map_or_else(|| app.to_string(), |a| a.summary.name.clone());
    Some(RollbackDialog {
        app: app.to_string(),
        app_name,
        from,
        to,
        step: RollbackStep::Review,
        production: core.production,
        typed: String::new(),
        idempotency_key: core.new_idempotency_key(),
        failure: None,
        incident,
    })
}

/// The keymap layer the dialog's step uses.
pub fn layer(dialog: &RollbackDialog) -> Layer {
    match dialog.step {
        RollbackStep::Review => Layer::Rollback,
        RollbackStep::Confirm | RollbackStep::Sending { .. } => Layer::Confirm,
        RollbackStep::TypeName => Layer::RollbackName,
    }
}

/// Run a command while the rollback dialog is open. False when the command is not the
/// dialog's (help, quit), so the caller runs it.
pub(crate) fn run(state: &mut State, cmd: Command, effects: &mut Vec<Effect>) -> bool {
    let Some(Dialog::Rollback(d)) = &mut state.dialog else {
        return false;
    };
    match (cmd, &d.step) {
        (Command::Submit, RollbackStep::Review) => {
            d.failure = None;
            d.step = if d.production {
                RollbackStep::TypeName
            } else {
                RollbackStep::Confirm
            };
        }
        // Production: the typed id, then the same y/N as everywhere (as scale asks).
        (Command::Submit, RollbackStep::TypeName) if d.name_matches() => {
            d.step = RollbackStep::Confirm;
        }
        (Command::Confirm, RollbackStep::Confirm) => send(state, effects),
        (Command::Back | Command::Cancel, RollbackStep::Review) => state.dialog = None,
        (Command::Back | Command::Cancel, RollbackStep::Confirm | RollbackStep::TypeName) => {
            d.step = RollbackStep::Review;
        }
        (Command::Back | Command::Cancel, RollbackStep::Sending { .. }) => {
            state.dialog = None;
            state.core.notify(
                NoticeLevel::Info,
                "rollback request still on its way; progress shows below",
            );
        }
        (Command::DeleteChar, RollbackStep::TypeName) => {
            d.typed.pop();
        }
        (Command::Quit | Command::ToggleHelp, _) => return false,
        _ => {}
    }
    true
}

/// Type a character into the production confirmation.
pub(crate) fn type_char(state: &mut State, c: char) -> bool {
    match &mut state.dialog {
        Some(Dialog::Rollback(d)) if d.step == RollbackStep::TypeName => {
            crate::app::core::typed_name::push(&mut d.typed, c)
        }
        _ => false,
    }
}

/// The deliberate last step: send the rollback, once.
fn send(state: &mut State, effects: &mut Vec<Effect>) {
    if state.core.readonly {
        return;
    }
    let Some(Dialog::Rollback(d)) = &state.dialog else {
        return;
    };
    if d.step != RollbackStep::Confirm || !d.name_matches() {
        return;
    }
    let kind = RequestKind::Rollback {
        app: d.app.clone(),
        to: Some(d.to.id.clone()),
        idempotency_key: d.idempotency_key.clone(),
        actor: state.core.actor.clone(),
    };
    let request_id = state.core.send(kind, effects);
    if let Some(Dialog::Rollback(d)) = &mut state.dialog {
        d.failure = None;
        d.step = RollbackStep::Sending { request_id };
    }
}

/// POST /v1/apps/{app}/rollback answered.
pub(crate) fn on_reply(
    state: &mut State,
    request_id: RequestId,
    app: &str,
    result: Result<Reply, HttpError>,
) {
    let waiting = matches!(
        &state.dialog,
        Some(Dialog::Rollback(d)) if d.step == RollbackStep::Sending { request_id }
    );
    match result {
        Ok(reply) => {
            let what = match &state.dialog {
                Some(Dialog::Rollback(d)) if waiting => {
                    format!("{} → {}", d.from.version, d.to.version)
                }
                _ => String::new(),
            };
            if waiting {
                state.dialog = None;
            }
            if let Reply::Action(status) = reply {
                crate::app::core::in_flight::track(&mut state.core, *status);
            }
            state.core.notify(
                NoticeLevel::Info,
                format!("rollback {app} {what} accepted").replace("  ", " "),
            );
        }
        Err(err) => {
            if !waiting {
                state
                    .core
                    .notify(NoticeLevel::Error, format!("rollback {app} failed: {err}"));
                return;
            }
            let fresh_key = (!err.is_transient()).then(|| state.core.new_idempotency_key());
            if let Some(Dialog::Rollback(d)) = &mut state.dialog {
                d.failure = Some(err.to_string());
                d.step = match (fresh_key, d.production) {
                    (Some(key), _) => {
                        d.idempotency_key = key;
                        RollbackStep::Review
                    }
                    (None, true) => RollbackStep::TypeName,
                    (None, false) => RollbackStep::Confirm,
                };
            }
        }
    }
}
