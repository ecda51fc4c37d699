//! Changes to alerts: acknowledge and silence. Controls, not platform actions: applied once per
//! key, not counted against the action limit.

use std::sync::Arc;

use super::audited::{Draft, audited};
use super::once::{Metering, once};
use super::{ActionError, Actor, Operation, Outcome, Source, authorize};
use crate::gateway::Gateway;
use crate::protocol::{Alert, MAX_DURATION_SECS, parse_duration_secs};

/// Silence alert `alert` for `duration_secs` (1 s to a year), with a comment for the record.
#[derive(Clone, Debug, PartialEq)]
pub struct Silence {
    pub alert: String,
    pub duration_secs: u64,
    pub comment: String,
}

impl Silence {
    /// A silence of `duration` as an operator writes it ("30m", "2h", "90s", "1d").
    pub fn parse(alert: String, duration: &str, comment: String) -> Result<Silence, ActionError> {
        let duration_secs = parse_duration_secs(duration).ok_or_else(|| {
            ActionError::Invalid(format!(
                "duration {duration:?} is not valid: use a positive number with s, m, h or d, at most a year, e.g. \"30m\""
            ))
        })?;
        Ok(Silence {
            alert,
            duration_secs,
            comment,
        })
    }
}

/// Acknowledge alert `alert`: someone is on it.
pub async fn acknowledge(
    gw: &Arc<Gateway>,
    actor: &Actor,
    alert: String,
    source: Source,
) -> Result<Alert, ActionError> {
    authorize(actor, Operation::Acknowledge)?;
    let what = format!("ack {alert}");
    let draft = Draft {
        action: "ack",
        target: alert.clone(),
        app: None,
        to: None,
    };
    let (platform, by) = (gw.platform.clone(), actor.name().to_string());
    let apply = async move { platform.acknowledge(&alert, &by).await };
    control(gw, actor, source, draft, &what, apply).await
}

/// End an alert's silence now, wherever it was made.
pub async fn expire_silence(
    gw: &Arc<Gateway>,
    actor: &Actor,
    alert: String,
    source: Source,
) -> Result<Alert, ActionError> {
    authorize(actor, Operation::Silence)?;
    let what = format!("expire the silence of {alert}");
    let draft = Draft {
        action: "unsilence",
        target: alert.clone(),
        app: None,
        to: None,
    };
    let (platform, by) = (gw.platform.clone(), actor.name().to_string());
    let apply = async move { platform.expire_silence(&alert, &by).await };
    control(gw, actor, source, draft, &what, apply).await
}

/// A change to one alert, already authorized: audited, applied once per key, not counted
/// against the action limit.
async fn control<Fut>(
    gw: &Arc<Gateway>,
    actor: &Actor,
    source: Source,
    draft: Draft,
    what: &str,
    apply: Fut,
) -> Result<Alert, ActionError>
where
    Fut: Future<Output = Result<Alert, crate::platform::PlatformError>> + Send + 'static,
{
    let apply = async move { Ok(Outcome::Alert(apply.await?)) };
    let apply = audited(gw, actor, &source, draft, apply);
    match once(gw, source, Metering::Free, what, apply).await? {
        Outcome::Alert(alert) => Ok(alert),
        _ => Err(ActionError::Internal),
    }
}

/// Silence an alert for a while.
pub async fn silence(
    gw: &Arc<Gateway>,
    actor: &Actor,
    req: Silence,
    source: Source,
) -> Result<Alert, ActionError> {
    authorize(actor, Operation::Silence)?;
    if !(1..=MAX_DURATION_SECS).contains(&req.duration_secs) {
        return Err(ActionError::Invalid(format!(
            "a silence lasts 1 s to {MAX_DURATION_SECS} s, not {} s",
            req.duration_secs
        )));
    }
    let what = format!("silence {}", req.alert);
    let draft = Draft {
        action: "silence",
        target: req.alert.clone(),
        app: None,
        to: Some(format!("silenced for {} s", req.duration_secs)),
    };
    let (platform, by) = (gw.platform.clone(), actor.name().to_string());
    let apply = async move {
        platform
            .silence(&req.alert, req.duration_secs, &req.comment, &by)
            .await
    };
    control(gw, actor, source, draft, &what, apply).await
}
