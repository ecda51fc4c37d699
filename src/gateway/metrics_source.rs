//! Live metrics read from a real Prometheus (`opsdeck serve --prometheus URL`): every interval,
//! one sample per app through PromQL, published on the `metrics` topic in place of the
//! platform's own samples. However many consoles watch, each app is queried once per interval;
//! at most [`CONCURRENT_APPS`] apps are asked at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use futures_util::StreamExt;

use super::Gateway;
use crate::platform::Emission;
use crate::platform::prometheus::{DEFAULT_NAMESPACE, Queries, QueryError, Templates};
use crate::protocol::{Body, MetricSample};

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
    /// Each app's PromQL templates and `{{namespace}}`.
    pub queries: Queries,
}

impl PrometheusSource {
    pub fn new(url: &str) -> PrometheusSource {
        PrometheusSource {
            url: url.to_string(),
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            queries: Queries::uniform(Templates::opsdeck(), DEFAULT_NAMESPACE),
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
    // When each app's metrics were last read well (platform time), for the age of stale data.
    let mut last_good: HashMap<String, DateTime<Utc>> = HashMap::new();
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
        let answers: Vec<(String, Result<MetricSample, QueryError>)> =
            futures_util::stream::iter(apps)
                .map(|app| {
                    let prometheus = &prometheus;
                    let source = &source;
                    async move {
                        let (templates, namespace) = source.queries.for_app(&app.id);
                        let sample = prometheus.sample(templates, &app.id, namespace).await;
                        (app.id, sample)
                    }
                })
                .buffer_unordered(CONCURRENT_APPS)
                .collect()
                .await;
        let now = gateway.platform.now();
        let samples: Vec<Emission> = answers
            .into_iter()
            .map(|(app, answer)| {
                let sample = round_sample(&mut last_good, &app, now, answer);
                Emission {
                    ts: now,
                    app,
                    body: Body::Metrics(sample),
                }
            })
            .collect();
        if !samples.is_empty() {
            gateway.publish(samples);
        }
    }
}

/// What one round publishes for `app`: the sample read, or a sample that only carries the
/// problem and how old the last good values are (so every console shows the error where the
/// data would be, and stale data with its age).
fn round_sample(
    last_good: &mut HashMap<String, DateTime<Utc>>,
    app: &str,
    now: DateTime<Utc>,
    answer: Result<MetricSample, QueryError>,
) -> MetricSample {
    match answer {
        Ok(sample) => {
            last_good.insert(app.to_string(), now);
            sample
        }
        Err(err) => {
            tracing::warn!(%app, %err, "Prometheus query failed");
            MetricSample {
                problem: Some(err.problem(last_good.get(app).copied())),
                ..MetricSample::default()
            }
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
        let (templates, namespace) = source.queries.for_app(app);
        let points = prometheus
            .sample_range(templates, app, namespace, start, end, step)
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;

    use super::*;
    use crate::protocol::MetricsProblemKind;

    #[test]
    fn a_failed_round_carries_the_problem_and_the_age_of_the_last_good_values() {
        let mut last_good = HashMap::new();
        let t0 = Utc.with_ymd_and_hms(2026, 12, 6, 3, 0, 0).unwrap();
        let t1 = t0 + chrono::Duration::seconds(5);
        // Never read: the problem says so.
        let s = round_sample(
            &mut last_good,
            "shop-cart",
            t0,
            Err(QueryError::Unavailable("refused".into())),
        );
        let p = s.problem.unwrap();
        assert_eq!(
            (p.kind, p.last_good),
            (MetricsProblemKind::Unavailable, None)
        );
        let good = MetricSample {
            rps: 9.0,
            ..MetricSample::default()
        };
        assert_eq!(
            round_sample(&mut last_good, "shop-cart", t0, Ok(good.clone())),
            good
        );
        let s = round_sample(
            &mut last_good,
            "shop-cart",
            t1,
            Err(QueryError::BadQuery("p99 — parse error".into())),
        );
        assert_eq!(s.rps, 0.0, "a problem is not a reading");
        let p = s.problem.unwrap();
        assert_eq!(p.kind, MetricsProblemKind::BadQuery);
        assert_eq!(p.last_good, Some(t0));
        // Another app's last good read is its own.
        let s = round_sample(
            &mut last_good,
            "pay-gateway",
            t1,
            Err(QueryError::Unavailable("refused".into())),
        );
        assert_eq!(s.problem.unwrap().last_good, None);
    }
}
