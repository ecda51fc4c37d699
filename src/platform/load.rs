//! A synthetic firehose platform for benchmarks and stream tests: it emits metrics and log lines
//! for `apps` synthetic apps at a fixed total rate, and supports nothing else. It measures the
//! gateway, not a model of anything.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;

use super::{ActionRequest, Emission, EventSink, Platform, PlatformError, RollbackPlan};
use crate::protocol::{
    Alert, AppDetail, AppStatus, AppSummary, Body, Latency, Level, LogLine, MetricSample, Release,
    Replicas, TimelineEntry,
};

#[derive(Clone, Debug)]
pub struct LoadConfig {
    /// Events per second across all apps and topics.
    pub rate: u64,
    pub apps: usize,
    /// Stop after this many events (None: run until the gateway stops).
    pub limit: Option<u64>,
}

pub struct LoadPlatform {
    config: LoadConfig,
}

impl LoadPlatform {
    pub fn new(config: LoadConfig) -> Self {
        LoadPlatform { config }
    }

    fn app_id(&self, i: usize) -> String {
        format!("load-{i}")
    }

    fn summary(&self, i: usize) -> AppSummary {
        AppSummary {
            id: self.app_id(i),
            name: format!("负载 {i}"),
            region: "loopback".into(),
            release: "r-1".into(),
            version: "v1".into(),
            replicas: Replicas {
                desired: 1,
                ready: 1,
                min: 1,
                max: 1,
            },
            status: AppStatus::Healthy,
            metrics: None,
            stale_since: None,
            stale_reason: None,
            runbooks: Vec::new(),
        }
    }

    fn unsupported(&self) -> PlatformError {
        PlatformError::Unsupported("the load generator supports no actions".into())
    }
}

/// The `n`-th synthetic event: one metric sample in every ten, log lines otherwise.
pub fn synthetic(n: u64, app: String) -> Emission {
    let body = if n.is_multiple_of(10) {
        Body::Metrics(MetricSample {
            rps: (n % 1000) as f64,
            latency_ms: Latency {
                p50: 12.0,
                p95: 40.0,
                p99: 85.0,
            },
            error_ratio: 0.001,
            cpu: 0.42,
            memory_mb: 512.0,
            replicas_ready: 1,
            replicas_desired: 1,
            extras: BTreeMap::new(),
            absent: Vec::new(),
            problem: None,
        })
    } else {
        let mut fields = BTreeMap::new();
        fields.insert("status".to_string(), "200".to_string());
        fields.insert("latency_ms".to_string(), (n % 97).to_string());
        Body::Logs(LogLine {
            pod: format!("{app}-7f9c4-x2lqp"),
            level: if n % 50 == 1 {
                Level::Warn
            } else {
                Level::Info
            },
            // The emission time leads the message, so a reader of the screen can tell how old
            // the newest line it sees is (`cargo bench --bench glass`).
            message: format!(
                "t={} GET /api/v1/cart/items 200 line {n}",
                Utc::now().timestamp_millis()
            ),
            fields,
        })
    };
    Emission {
        ts: Utc::now(),
        app,
        body,
    }
}

#[async_trait]
impl Platform for LoadPlatform {
    fn name(&self) -> &str {
        "load"
    }

    async fn run(&self, sink: EventSink) {
        let apps = self.config.apps.max(1);
        // Emit in slices every 5 ms to approximate a smooth rate.
        let slice = Duration::from_millis(5);
        let per_slice = (self.config.rate as f64 * slice.as_secs_f64()).max(1.0);
        let mut ticker = tokio::time::interval(slice);
        let mut n: u64 = 0;
        let mut owed = 0.0;
        loop {
            ticker.tick().await;
            owed += per_slice;
            while owed >= 1.0 {
                owed -= 1.0;
                if self.config.limit.is_some_and(|limit| n >= limit) {
                    sink.closed().await;
                    return;
                }
                // Ten events per app in turn, so metric samples (every tenth) rotate through all apps.
                let app = self.app_id(((n / 10) as usize) % apps);
                if sink.send(synthetic(n, app)).await.is_err() {
                    return;
                }
                n += 1;
            }
        }
    }

    async fn apps(&self) -> Result<Vec<AppSummary>, PlatformError> {
        Ok((0..self.config.apps).map(|i| self.summary(i)).collect())
    }
    async fn app(&self, app: &str) -> Result<AppDetail, PlatformError> {
        (0..self.config.apps)
            .find(|i| self.app_id(*i) == app)
            .map(|i| AppDetail {
                summary: self.summary(i),
                pods: Vec::new(),
            })
            .ok_or_else(|| PlatformError::NotFound(format!("unknown app {app:?}")))
    }
    async fn releases(&self, app: &str) -> Result<Vec<Release>, PlatformError> {
        self.app(app).await.map(|_| Vec::new())
    }
    async fn scale(&self, _: &str, _: u32, _: ActionRequest) -> Result<(), PlatformError> {
        Err(self.unsupported())
    }
    async fn rollback(
        &self,
        _: &str,
        _: Option<&str>,
        _: ActionRequest,
    ) -> Result<RollbackPlan, PlatformError> {
        Err(self.unsupported())
    }
    async fn alerts(&self) -> Result<Vec<Alert>, PlatformError> {
        Ok(Vec::new())
    }
    async fn acknowledge(&self, _: &str, _: &str) -> Result<Alert, PlatformError> {
        Err(self.unsupported())
    }
    async fn silence(&self, _: &str, _: u64, _: &str, _: &str) -> Result<Alert, PlatformError> {
        Err(self.unsupported())
    }
    async fn events(&self) -> Result<Vec<TimelineEntry>, PlatformError> {
        Ok(Vec::new())
    }
    fn now(&self) -> chrono::DateTime<Utc> {
        Utc::now()
    }
}
