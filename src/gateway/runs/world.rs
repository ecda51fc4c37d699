//! What run steps and dry runs read of the platform: an [`AppSnapshot`] per app, fetched through
//! the `Platform` trait like everything else the gateway reads.

use std::collections::BTreeMap;

use crate::platform::{Platform, PlatformError};
use crate::protocol::AlertState;
use crate::runbook::{AppSnapshot, ResolvedStep};

/// The app's summary, plus its releases and unresolved alerts when asked for.
pub async fn snapshot(
    platform: &dyn Platform,
    app: &str,
    releases: bool,
    alerts: bool,
) -> Result<AppSnapshot, PlatformError> {
    let summary = platform.app(app).await?.summary;
    let releases = if releases {
        platform.releases(app).await?
    } else {
        Vec::new()
    };
    let alerts = if alerts {
        platform
            .alerts()
            .await?
            .into_iter()
            .filter(|a| a.app == app && a.state != AlertState::Resolved)
            .collect()
    } else {
        Vec::new()
    };
    Ok(AppSnapshot {
        summary,
        releases,
        alerts,
        now: platform.now(),
    })
}

/// Full snapshots of every app the steps name, for a dry run. Apps the platform does not know
/// are left out (the plan says so).
pub async fn snapshots(
    platform: &dyn Platform,
    steps: &[ResolvedStep],
) -> BTreeMap<String, AppSnapshot> {
    let mut out = BTreeMap::new();
    for app in steps.iter().filter_map(|s| s.action.app()) {
        if out.contains_key(app) {
            continue;
        }
        if let Ok(snap) = snapshot(platform, app, true, true).await {
            out.insert(app.to_string(), snap);
        }
    }
    out
}
