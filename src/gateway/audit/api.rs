//! GET /v1/audit: the audit records the gateway keeps in memory (the latest
//! [`super::KEPT`]), oldest first, filtered by `since`, `app` and `actor`.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Query as QueryString, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::Query;
use crate::gateway::Gateway;
use crate::gateway::error::ApiError;
use crate::protocol::parse_duration_secs;

#[derive(Deserialize)]
pub struct AuditParams {
    since: Option<String>,
    app: Option<String>,
    actor: Option<String>,
}

pub async fn list_audit(
    State(gw): State<Arc<Gateway>>,
    QueryString(params): QueryString<AuditParams>,
) -> Result<Response, ApiError> {
    let since = match params.since.as_deref() {
        None | Some("") => None,
        Some(text) => Some(since(text, gw.platform.now()).ok_or_else(|| {
            ApiError::validation(format!(
                "since {text:?} is neither a time (RFC 3339, e.g. 2026-12-06T10:00:00Z) nor a duration back from now (e.g. 2h)"
            ))
        })?),
    };
    let query = Query {
        since,
        app: params.app.filter(|a| !a.is_empty()),
        actor: params.actor.filter(|a| !a.is_empty()),
    };
    Ok(Json(gw.audit.list(&query)).into_response())
}

/// `text` as a time, or as a duration back from `now` (platform time).
pub fn since(text: &str, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&Utc));
    }
    let secs = i64::try_from(parse_duration_secs(text)?).ok()?;
    now.checked_sub_signed(chrono::Duration::seconds(secs))
}
