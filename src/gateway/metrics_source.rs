//! Live metrics read from a real Prometheus (`opsdeck serve --prometheus URL`): every interval,
//! one sample per app through PromQL, published on the `metrics` topic in place of the
//! platform's own samples. However many consoles watch, each app is queried once per interval;
//! at most [`CONCURRENT_APPS`] apps are asked at once.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;

use super::Gateway;
use crate::platform::Emission;
use crate::platform::prometheus::Templates;
use crate::protocol::Body;

/// Apps whose queries are in flight at once.
pub const CONCURRENT_APPS: usize = 4;

/// Where the metrics come from and how often.
#[derive(Clone, Debug, PartialEq)]
pub struct PrometheusSource {
    /// Base URL, e.g. `http://127.0.0.1:9090`.
    pub url: String,
    /// Between two rounds of queries (real time).
    pub interval: Duration,
    /// Longest a query may take; Prometheus is told the same.
    pub timeout: Duration,
    pub templates: Templates,
    /// Filled into `{{namespace}}`.
    pub namespace: String,
}

impl PrometheusSource {
    pub fn new(url: &str) -> PrometheusSource {
        PrometheusSource {
            url: url.to_string(),
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            templates: Templates::opsdeck(),
            namespace: "default".into(),
        }
    }
}

/// Query every app every interval until the gateway stops.
pub async fn run(gateway: Arc<Gateway>, source: PrometheusSource) {
    let Some(prometheus) = gateway.prometheus.clone() else {
        return;
    };
    let mut tick = tokio::time::interval(source.interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut closing = gateway.closing.clone();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = closing.wait_for(|c| *c) => return,
        }
        let apps = match gateway.platform.apps().await {
            Ok(apps) => apps,
            Err(err) => {
                tracing::warn!(%err, "no app list for Prometheus queries");
                continue;
            }
        };
        let gw = &gateway;
        let samples: Vec<Emission> = futures_util::stream::iter(apps)
            .map(|app| {
                let prometheus = &prometheus;
                let source = &source;
                async move {
                    let sample = prometheus
                        .sample(&source.templates, &app.id, &source.namespace)
                        .await;
                    (app.id, sample)
                }
            })
            .buffer_unordered(CONCURRENT_APPS)
            .filter_map(|(app, sample)| async move {
                match sample {
                    Ok(sample) => Some(Emission {
                        ts: gw.platform.now(),
                        app,
                        body: Body::Metrics(sample),
                    }),
                    Err(err) => {
                        tracing::warn!(%app, %err, "Prometheus query failed");
                        None
                    }
                }
            })
            .collect()
            .await;
        if !samples.is_empty() {
            gateway.publish(samples);
        }
    }
}

/// Longest history one request may ask for.
pub const MAX_HISTORY_SECS: i64 = 86_400;
/// The step of a history range query when the window allows (about a chart's resolution).
const HISTORY_STEP_SECS: u64 = 5;

/// `app`'s samples over the last `window_secs` of platform time, oldest first: from
/// Prometheus's query_range when the gateway reads metrics there, else from the `metrics`
/// events the gateway still holds for replay.
pub async fn history(
    gateway: &Gateway,
    app: &str,
    window_secs: i64,
) -> Result<Vec<crate::protocol::TimedSample>, String> {
    use crate::protocol::{Event, TimedSample};
    let window = window_secs.clamp(1, MAX_HISTORY_SECS);
    let end = gateway.platform.now();
    let start = end - chrono::Duration::seconds(window);
    if let (Some(source), Some(prometheus)) = (&gateway.config.prometheus, &gateway.prometheus) {
        let (start, step) = crate::platform::prometheus::range_step(
            start,
            end,
            Duration::from_secs(HISTORY_STEP_SECS),
        );
        let points = prometheus
            .sample_range(&source.templates, app, &source.namespace, start, end, step)
            .await
            .map_err(|err| err.to_string())?;
        return Ok(points
            .into_iter()
            .map(|(ts, sample)| TimedSample { ts, sample })
            .collect());
    }
    Ok(gateway
        .hub
        .held_for(crate::protocol::Topic::Metrics, app)
        .iter()
        .filter_map(|json| serde_json::from_str::<Event>(json).ok())
        .filter(|e| e.ts >= start)
        .filter_map(|e| match e.body {
            Body::Metrics(sample) => Some(TimedSample { ts: e.ts, sample }),
            _ => None,
        })
        .collect())
}
