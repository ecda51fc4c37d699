//! The simulated mini-program cloud: the embedded default platform.
//! (Skeleton: replaced by the full model.)

use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use super::{ActionRequest, EventSink, Platform, PlatformError, RollbackPlan};
use crate::protocol::{Alert, AppDetail, AppSummary, Release, TimelineEntry};

/// Names accepted by `--scenario` and POST /v1/sim/scenarios.
pub const SCENARIOS: &[&str] = &[
    "flash-sale",
    "bad-release",
    "cache-degradation",
    "az-outage",
    "memory-leak",
];

/// How the simulator is set up.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Same seed, same events.
    pub seed: u64,
    /// Platform seconds per real second.
    pub speed: f64,
    /// A scenario to start at once.
    pub scenario: Option<String>,
    /// Virtual clock at start.
    pub start: DateTime<Utc>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 42,
            speed: 1.0,
            scenario: None,
            start: Utc::now(),
        }
    }
}

pub struct SimPlatform {
    _cfg: Mutex<SimConfig>,
}

impl SimPlatform {
    pub fn new(cfg: SimConfig) -> Self {
        SimPlatform {
            _cfg: Mutex::new(cfg),
        }
    }
}

#[async_trait]
impl Platform for SimPlatform {
    fn name(&self) -> &str {
        "sim"
    }
    async fn run(&self, sink: EventSink) {
        sink.closed().await;
    }
    async fn apps(&self) -> Result<Vec<AppSummary>, PlatformError> {
        Ok(Vec::new())
    }
    async fn app(&self, app: &str) -> Result<AppDetail, PlatformError> {
        Err(PlatformError::NotFound(format!("unknown app {app:?}")))
    }
    async fn releases(&self, app: &str) -> Result<Vec<Release>, PlatformError> {
        Err(PlatformError::NotFound(format!("unknown app {app:?}")))
    }
    async fn scale(&self, app: &str, _: u32, _: ActionRequest) -> Result<(), PlatformError> {
        Err(PlatformError::NotFound(format!("unknown app {app:?}")))
    }
    async fn rollback(
        &self,
        app: &str,
        _: Option<&str>,
        _: ActionRequest,
    ) -> Result<RollbackPlan, PlatformError> {
        Err(PlatformError::NotFound(format!("unknown app {app:?}")))
    }
    async fn alerts(&self) -> Result<Vec<Alert>, PlatformError> {
        Ok(Vec::new())
    }
    async fn acknowledge(&self, alert: &str, _: &str) -> Result<Alert, PlatformError> {
        Err(PlatformError::NotFound(format!("unknown alert {alert:?}")))
    }
    async fn silence(&self, alert: &str, _: u64, _: &str, _: &str) -> Result<Alert, PlatformError> {
        Err(PlatformError::NotFound(format!("unknown alert {alert:?}")))
    }
    async fn events(&self) -> Result<Vec<TimelineEntry>, PlatformError> {
        Ok(Vec::new())
    }
}
