//! Read-only views of the simulator in the shapes the API serves: apps, one app with its
//! pods, releases, alerts and the timeline.

use super::deployment::Deployment;
use super::engine::Sim;
use crate::platform::PlatformError;
use crate::protocol::{Alert, AppDetail, AppSummary, Release, Replicas, TimelineEntry};

fn summary(d: &Deployment) -> AppSummary {
    let active = d.releases.active();
    AppSummary {
        id: d.spec.id.to_string(),
        name: d.spec.name.to_string(),
        region: d.spec.region.to_string(),
        release: active.map(|r| r.release.id.clone()).unwrap_or_default(),
        version: active
            .map(|r| r.release.version.clone())
            .unwrap_or_default(),
        replicas: Replicas {
            desired: d.desired,
            ready: d.ready(),
            min: d.spec.min,
            max: d.spec.max,
        },
        status: d.status(),
        metrics: Some(d.sample.clone()),
        stale_since: None,
        stale_reason: None,
        runbooks: Vec::new(),
    }
}

impl Sim {
    /// Every app, in catalogue order.
    pub fn apps(&self) -> Vec<AppSummary> {
        self.apps.iter().map(summary).collect()
    }

    /// One app with its pods.
    pub fn app(&self, app: &str) -> Result<AppDetail, PlatformError> {
        let d = &self.apps[self.index_of(app)?];
        Ok(AppDetail {
            summary: summary(d),
            pods: d.pods.iter().map(|p| p.to_pod()).collect(),
        })
    }

    /// An app's releases, newest first.
    pub fn releases(&self, app: &str) -> Result<Vec<Release>, PlatformError> {
        Ok(self.apps[self.index_of(app)?].releases.list())
    }

    /// Active alerts, most urgent first, then recently resolved ones, newest first.
    pub fn alerts(&self) -> Vec<Alert> {
        self.alerts.list()
    }

    /// Recent platform events, newest first.
    pub fn events(&self) -> Vec<TimelineEntry> {
        self.timeline.list()
    }
}
