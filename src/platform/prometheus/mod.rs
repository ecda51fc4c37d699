//! Metrics read from a real Prometheus through its HTTP API: per-app PromQL templates with
//! `{{app}}` and `{{namespace}}` substituted, instant queries for the live values, and the
//! step a range query needs so no series exceeds Prometheus's 11,000 points.
//!
//! Values arrive as strings ("NaN" and "+Inf" included); every failure maps to a
//! [`QueryError`] that says what went wrong in the words an operator needs: the PromQL error
//! for a bad query (400 `bad_data`), the execution error (422), or that Prometheus is
//! unreachable or slow (503, a timeout), so the data can be marked stale rather than wrong.

mod queries;

pub use queries::{DEFAULT_NAMESPACE, Queries};

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::protocol::{Latency, Metric, MetricSample, MetricsProblem, MetricsProblemKind};

/// The most points Prometheus returns per series from a range query.
pub const MAX_POINTS: i64 = 11_000;

/// What one app's sample is made of: a PromQL template per value.
#[derive(Clone, Debug, PartialEq)]
pub struct Templates {
    pub rps: String,
    pub p50: String,
    pub p95: String,
    pub p99: String,
    pub error_ratio: String,
    pub cpu: String,
    pub memory_bytes: String,
    pub replicas_ready: String,
    pub replicas_desired: String,
}

impl Templates {
    /// For apps exported as opsdeck's `/metrics` names them (the simulator behind a gateway).
    pub fn opsdeck() -> Templates {
        let quantile = |q: &str| {
            format!(
                "histogram_quantile({q}, sum by (le) (rate(opsdeck_app_request_duration_seconds_bucket{{app=\"{{{{app}}}}\"}}[1m]))) * 1000"
            )
        };
        Templates {
            rps: r#"sum(rate(opsdeck_app_requests_total{app="{{app}}"}[1m]))"#.into(),
            p50: quantile("0.5"),
            p95: quantile("0.95"),
            p99: quantile("0.99"),
            error_ratio: r#"sum(rate(opsdeck_app_errors_total{app="{{app}}"}[1m])) / sum(rate(opsdeck_app_requests_total{app="{{app}}"}[1m]))"#.into(),
            cpu: r#"max(opsdeck_app_cpu_ratio{app="{{app}}"})"#.into(),
            memory_bytes: r#"max(opsdeck_app_memory_bytes{app="{{app}}"})"#.into(),
            replicas_ready: r#"max(opsdeck_app_replicas_ready{app="{{app}}"})"#.into(),
            replicas_desired: r#"max(opsdeck_app_replicas_desired{app="{{app}}"})"#.into(),
        }
    }

    /// For apps on Kubernetes with the usual exporters: an HTTP server histogram named
    /// `http_request_duration_seconds` and `http_requests_total{code}` labelled by `app`,
    /// cAdvisor's container metrics and kube-state-metrics' Deployment status.
    pub fn kubernetes() -> Templates {
        let quantile = |q: &str| {
            format!(
                "histogram_quantile({q}, sum by (le) (rate(http_request_duration_seconds_bucket{{namespace=\"{{{{namespace}}}}\",app=\"{{{{app}}}}\"}}[1m]))) * 1000"
            )
        };
        Templates {
            rps: r#"sum(rate(http_requests_total{namespace="{{namespace}}",app="{{app}}"}[1m]))"#.into(),
            p50: quantile("0.5"),
            p95: quantile("0.95"),
            p99: quantile("0.99"),
            error_ratio: r#"sum(rate(http_requests_total{namespace="{{namespace}}",app="{{app}}",code=~"5.."}[1m])) / sum(rate(http_requests_total{namespace="{{namespace}}",app="{{app}}"}[1m]))"#.into(),
            cpu: r#"sum(rate(container_cpu_usage_seconds_total{namespace="{{namespace}}",pod=~"{{app}}-.*"}[1m])) / sum(kube_pod_container_resource_requests{namespace="{{namespace}}",pod=~"{{app}}-.*",resource="cpu"})"#.into(),
            memory_bytes: r#"sum(container_memory_working_set_bytes{namespace="{{namespace}}",pod=~"{{app}}-.*"})"#.into(),
            replicas_ready: r#"max(kube_deployment_status_replicas_ready{namespace="{{namespace}}",deployment="{{app}}"})"#.into(),
            replicas_desired: r#"max(kube_deployment_spec_replicas{namespace="{{namespace}}",deployment="{{app}}"})"#.into(),
        }
    }

    /// Every template with the value it gives, in a fixed order.
    fn each(&self) -> [(Metric, &str); 9] {
        [
            (Metric::Rps, &self.rps),
            (Metric::P50, &self.p50),
            (Metric::P95, &self.p95),
            (Metric::P99, &self.p99),
            (Metric::ErrorRatio, &self.error_ratio),
            (Metric::Cpu, &self.cpu),
            (Metric::Memory, &self.memory_bytes),
            (Metric::ReplicasReady, &self.replicas_ready),
            (Metric::ReplicasDesired, &self.replicas_desired),
        ]
    }
}

/// A sample from one value per metric; a metric without a finite value is absent (0 here).
fn assemble(values: &BTreeMap<Metric, f64>) -> MetricSample {
    let all = [
        Metric::Rps,
        Metric::P50,
        Metric::P95,
        Metric::P99,
        Metric::ErrorRatio,
        Metric::Cpu,
        Metric::Memory,
        Metric::ReplicasReady,
        Metric::ReplicasDesired,
    ];
    let get = |m: Metric| values.get(&m).copied().filter(|v| v.is_finite());
    let value = |m: Metric| get(m).unwrap_or(0.0);
    let count = |m: Metric| value(m).round().clamp(0.0, f64::from(u32::MAX)) as u32;
    MetricSample {
        rps: value(Metric::Rps),
        latency_ms: Latency {
            p50: value(Metric::P50),
            p95: value(Metric::P95),
            p99: value(Metric::P99),
        },
        error_ratio: value(Metric::ErrorRatio),
        cpu: value(Metric::Cpu),
        memory_mb: value(Metric::Memory) / (1024.0 * 1024.0),
        replicas_ready: count(Metric::ReplicasReady),
        replicas_desired: count(Metric::ReplicasDesired),
        extras: BTreeMap::new(),
        absent: all.into_iter().filter(|&m| get(m).is_none()).collect(),
        problem: None,
    }
}

/// `template` with `{{app}}` and `{{namespace}}` filled in. A value is escaped as a PromQL
/// string (a quote or backslash in it cannot end the string early).
pub fn render(template: &str, app: &str, namespace: &str) -> String {
    let esc = |v: &str| v.replace('\\', "\\\\").replace('"', "\\\"");
    template
        .replace("{{app}}", &esc(app))
        .replace("{{namespace}}", &esc(namespace))
}

/// The step of a range query over `start..end`: at least `wanted`, widened so no series has
/// more than [`MAX_POINTS`] points, in whole seconds. The start is aligned down to the step,
/// so consecutive refreshes ask for the same points and Prometheus's cache answers them.
pub fn range_step(
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    wanted: Duration,
) -> (DateTime<Utc>, i64) {
    let span = (end - start).num_seconds().max(0);
    let wanted = i64::try_from(wanted.as_secs()).unwrap_or(i64::MAX).max(1);
    // points = span / step + 1 must stay within MAX_POINTS.
    let needed = (span + MAX_POINTS - 2) / (MAX_POINTS - 1);
    let step = wanted.max(needed).max(1);
    let aligned = start.timestamp().div_euclid(step) * step;
    let start = DateTime::from_timestamp(aligned, 0).unwrap_or(start);
    (start, step)
}

/// Why a query gave no value.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum QueryError {
    /// 400 `bad_data`: the PromQL itself is wrong; Prometheus says where.
    #[error("bad PromQL: {0}")]
    BadQuery(String),
    /// 422: the query could not be executed.
    #[error("query failed: {0}")]
    Execution(String),
    /// 503, a timeout or no connection: the data is stale, not wrong.
    #[error("Prometheus unavailable: {0}")]
    Unavailable(String),
    /// Anything else Prometheus answered that opsdeck cannot read.
    #[error("unexpected answer from Prometheus: {0}")]
    Unexpected(String),
}

impl QueryError {
    /// Whether the data is only old (Prometheus may answer later), not wrong.
    pub fn is_stale(&self) -> bool {
        matches!(self, QueryError::Unavailable(_))
    }

    /// The error with the value whose query made it named first (`p99 — parse error …`);
    /// whether Prometheus is down does not depend on the query, so that stays as it is.
    fn for_metric(self, metric: Metric) -> QueryError {
        let named = |text: String| format!("{} — {text}", metric.as_str());
        match self {
            QueryError::BadQuery(t) => QueryError::BadQuery(named(t)),
            QueryError::Execution(t) => QueryError::Execution(named(t)),
            QueryError::Unexpected(t) => QueryError::Unexpected(named(t)),
            unavailable @ QueryError::Unavailable(_) => unavailable,
        }
    }

    /// The error as consoles are told it, with when the last good values were read.
    pub fn problem(&self, last_good: Option<DateTime<Utc>>) -> MetricsProblem {
        let kind = match self {
            QueryError::BadQuery(_) => MetricsProblemKind::BadQuery,
            QueryError::Execution(_) => MetricsProblemKind::Execution,
            QueryError::Unavailable(_) => MetricsProblemKind::Unavailable,
            QueryError::Unexpected(_) => MetricsProblemKind::Unexpected,
        };
        MetricsProblem {
            kind,
            message: self.to_string(),
            last_good,
        }
    }
}

#[derive(Deserialize)]
struct Envelope {
    status: String,
    #[serde(default)]
    data: Option<Data>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Deserialize)]
struct Data {
    #[serde(rename = "resultType")]
    result_type: String,
    result: serde_json::Value,
}

#[derive(Deserialize)]
struct VectorItem {
    value: (f64, String),
}

/// A value as Prometheus writes it: a number, or "NaN", "+Inf", "-Inf".
pub fn parse_value(text: &str) -> Result<f64, QueryError> {
    match text {
        "NaN" => Ok(f64::NAN),
        "+Inf" | "Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        _ => text
            .parse()
            .map_err(|_| QueryError::Unexpected(format!("not a sample value: {text:?}"))),
    }
}

/// The answer's envelope; a body that is not one is an error (a proxy's 502 page: unavailable).
fn envelope(status: u16, body: &str) -> Result<Envelope, QueryError> {
    serde_json::from_str(body).map_err(|err| match status {
        502..=504 => QueryError::Unavailable(format!("HTTP {status}")),
        _ => QueryError::Unexpected(format!("HTTP {status}: {err}")),
    })
}

/// The data of a successful answer, or the error Prometheus reported, mapped to what an
/// operator needs to know.
fn success(status: u16, envelope: Envelope) -> Result<Data, QueryError> {
    if envelope.status != "success" {
        let message = envelope.error.unwrap_or_else(|| "no reason given".into());
        return Err(match (status, envelope.error_type.as_deref()) {
            (400, _) | (_, Some("bad_data")) => QueryError::BadQuery(message),
            (422, _) | (_, Some("execution")) => QueryError::Execution(message),
            (503, _) | (_, Some("timeout" | "canceled" | "unavailable")) => {
                QueryError::Unavailable(message)
            }
            _ => QueryError::Unexpected(format!("HTTP {status}: {message}")),
        });
    }
    envelope
        .data
        .ok_or_else(|| QueryError::Unexpected("a success without data".into()))
}

/// What an instant query's answer holds: `None` when the result is empty (no such series,
/// or a series gone stale: it disappears rather than freezing at its last value).
pub fn read_instant(status: u16, body: &str) -> Result<Option<f64>, QueryError> {
    let envelope = envelope(status, body)?;
    let data = success(status, envelope)?;
    match data.result_type.as_str() {
        "vector" => {
            let items: Vec<VectorItem> = serde_json::from_value(data.result)
                .map_err(|err| QueryError::Unexpected(err.to_string()))?;
            match items.as_slice() {
                [] => Ok(None),
                [one] => parse_value(&one.value.1).map(Some),
                _ => Err(QueryError::Unexpected(format!(
                    "{} series where one was wanted: aggregate the query (sum, max)",
                    items.len()
                ))),
            }
        }
        "scalar" => {
            let (_, v): (f64, String) = serde_json::from_value(data.result)
                .map_err(|err| QueryError::Unexpected(err.to_string()))?;
            parse_value(&v).map(Some)
        }
        other => Err(QueryError::Unexpected(format!(
            "a {other} result where an instant vector was wanted"
        ))),
    }
}

#[derive(Deserialize)]
struct MatrixItem {
    values: Vec<(f64, String)>,
}

/// What a range query's answer holds: one series' points (unix seconds, value), oldest first;
/// empty when there is no series. Errors map as for [`read_instant`].
pub fn read_range(status: u16, body: &str) -> Result<Vec<(i64, f64)>, QueryError> {
    let data = success(status, envelope(status, body)?)?;
    if data.result_type != "matrix" {
        return Err(QueryError::Unexpected(format!(
            "a {} result where a range was wanted",
            data.result_type
        )));
    }
    let items: Vec<MatrixItem> = serde_json::from_value(data.result)
        .map_err(|err| QueryError::Unexpected(err.to_string()))?;
    match items.as_slice() {
        [] => Ok(Vec::new()),
        [one] => one
            .values
            .iter()
            .map(|(t, v)| Ok((t.floor() as i64, parse_value(v)?)))
            .collect(),
        _ => Err(QueryError::Unexpected(format!(
            "{} series where one was wanted: aggregate the query (sum, max)",
            items.len()
        ))),
    }
}

/// Why a request failed, in the words of its innermost cause ("Connection refused (os error
/// 111)"): reqwest's own message repeats the whole query URL.
fn cause(err: &reqwest::Error) -> String {
    let mut last: &dyn std::error::Error = err;
    while let Some(next) = last.source() {
        last = next;
    }
    let text = last.to_string();
    // "Connection refused (os error 111)": the number tells an operator nothing more.
    match text.find(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    }
}

/// A Prometheus server and how to ask it.
#[derive(Clone, Debug)]
pub struct Prometheus {
    base: String,
    client: reqwest::Client,
    timeout: Duration,
}

impl Prometheus {
    pub fn new(base: &str, timeout: Duration) -> Result<Prometheus, String> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(Duration::from_secs(3))
            .build()
            .map_err(|err| format!("cannot build an HTTP client: {err}"))?;
        Ok(Prometheus {
            base: base.trim_end_matches('/').to_string(),
            client,
            timeout,
        })
    }

    /// An instant query at the server's now.
    pub async fn instant(&self, query: &str) -> Result<Option<f64>, QueryError> {
        let (status, body) = self.get("query", &[("query", query.to_string())]).await?;
        read_instant(status, &body)
    }

    /// A range query over `start..=end` every `step` seconds.
    pub async fn range(
        &self,
        query: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step: i64,
    ) -> Result<Vec<(i64, f64)>, QueryError> {
        let params = [
            ("query", query.to_string()),
            ("start", start.timestamp().to_string()),
            ("end", end.timestamp().to_string()),
            ("step", step.to_string()),
        ];
        let (status, body) = self.get("query_range", &params).await?;
        read_range(status, &body)
    }

    /// GET `/api/v1/{endpoint}` with `params` and the server-side timeout: the status and the
    /// body, or why there is none (no answer in time, no connection).
    async fn get(
        &self,
        endpoint: &str,
        params: &[(&str, String)],
    ) -> Result<(u16, String), QueryError> {
        let mut url = reqwest::Url::parse(&format!("{}/api/v1/{endpoint}", self.base))
            .map_err(|err| QueryError::Unexpected(format!("bad Prometheus URL: {err}")))?;
        let timeout = format!("{}s", self.timeout.as_secs().max(1));
        url.query_pairs_mut()
            .extend_pairs(params.iter().map(|(k, v)| (*k, v.as_str())))
            .append_pair("timeout", &timeout);
        let sent = self
            .client
            .get(url)
            .timeout(self.timeout + Duration::from_secs(1))
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(err) if err.is_timeout() => {
                return Err(QueryError::Unavailable(format!(
                    "no answer within {}s",
                    self.timeout.as_secs()
                )));
            }
            Err(err) => return Err(QueryError::Unavailable(cause(&err))),
        };
        let status = response.status().as_u16();
        let body = response
            .text()
            .await
            .map_err(|err| QueryError::Unavailable(cause(&err)))?;
        Ok((status, body))
    }

    /// One app's samples over `start..=end`, one per step where any value has a point; a
    /// value without a point at that step is absent from its sample.
    pub async fn sample_range(
        &self,
        templates: &Templates,
        app: &str,
        namespace: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        step: i64,
    ) -> Result<Vec<(DateTime<Utc>, MetricSample)>, QueryError> {
        let queries = templates
            .each()
            .map(|(metric, t)| (metric, render(t, app, namespace)));
        let answers = futures_util::future::join_all(
            queries.iter().map(|(_, q)| self.range(q, start, end, step)),
        )
        .await;
        let mut by_time: BTreeMap<i64, BTreeMap<Metric, f64>> = BTreeMap::new();
        for ((metric, _), answer) in queries.iter().zip(answers) {
            for (t, v) in answer.map_err(|e| e.for_metric(*metric))? {
                by_time.entry(t).or_default().insert(*metric, v);
            }
        }
        Ok(by_time
            .into_iter()
            .filter_map(|(t, values)| Some((DateTime::from_timestamp(t, 0)?, assemble(&values))))
            .collect())
    }

    /// One app's sample: every template queried at once. A value Prometheus has no series for
    /// (the series went stale, or no traffic yet) is absent; the first error of any query is
    /// the answer.
    pub async fn sample(
        &self,
        templates: &Templates,
        app: &str,
        namespace: &str,
    ) -> Result<MetricSample, QueryError> {
        let queries = templates
            .each()
            .map(|(metric, t)| (metric, render(t, app, namespace)));
        let answers =
            futures_util::future::join_all(queries.iter().map(|(_, q)| self.instant(q))).await;
        let mut values = BTreeMap::new();
        for ((metric, _), answer) in queries.iter().zip(answers) {
            if let Some(v) = answer.map_err(|e| e.for_metric(*metric))? {
                values.insert(*metric, v);
            }
        }
        Ok(assemble(&values))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn templates_fill_in_the_app_and_namespace_escaped() {
        let t = r#"sum(rate(x{namespace="{{namespace}}",app="{{app}}"}[1m]))"#;
        assert_eq!(
            render(t, "shop-cart", "shop"),
            r#"sum(rate(x{namespace="shop",app="shop-cart"}[1m]))"#
        );
        assert_eq!(
            render(t, r#"a"}) or vector(1) #"#, "n"),
            r#"sum(rate(x{namespace="n",app="a\"}) or vector(1) #"}[1m]))"#
        );
        let q = render(&Templates::opsdeck().p99, "shop-cart", "");
        assert!(q.starts_with("histogram_quantile(0.99,"), "{q}");
        assert!(q.contains(r#"{app="shop-cart"}"#), "{q}");
    }

    #[test]
    fn the_step_keeps_every_series_under_11000_points_and_the_start_aligned() {
        let end = Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 7).unwrap();
        // An hour at 15 s: 241 points, step as wanted, start on a multiple of 15 s.
        let (start, step) = range_step(
            end - chrono::Duration::hours(1),
            end,
            Duration::from_secs(15),
        );
        assert_eq!(step, 15);
        assert_eq!(start.timestamp() % 15, 0);
        assert!(start <= end - chrono::Duration::hours(1));
        // Thirty days at 1 s would be 2.6 M points: widened.
        let from = end - chrono::Duration::days(30);
        let (start, step) = range_step(from, end, Duration::from_secs(1));
        assert!(
            (end - start).num_seconds() / step < MAX_POINTS,
            "step {step}"
        );
        assert_eq!(start.timestamp() % step, 0);
        assert!(step <= 30 * 86_400 / (MAX_POINTS - 1) + 1);
    }

    #[test]
    fn values_come_as_strings_nan_and_inf_included() {
        assert_eq!(parse_value("1.5").unwrap(), 1.5);
        assert!(parse_value("NaN").unwrap().is_nan());
        assert_eq!(parse_value("+Inf").unwrap(), f64::INFINITY);
        assert_eq!(parse_value("-Inf").unwrap(), f64::NEG_INFINITY);
        assert!(matches!(parse_value("x"), Err(QueryError::Unexpected(_))));
        let body = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000.1,"NaN"]}]}}"#;
        assert!(read_instant(200, body).unwrap().unwrap().is_nan());
        let scalar =
            r#"{"status":"success","data":{"resultType":"scalar","result":[1700000000,"42"]}}"#;
        assert_eq!(read_instant(200, scalar).unwrap(), Some(42.0));
    }

    #[test]
    fn a_range_answer_is_one_series_of_points() {
        let body = r#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1700000000,"1"],[1700000015,"NaN"]]}]}}"#;
        let points = read_range(200, body).unwrap();
        assert_eq!(points[0], (1_700_000_000, 1.0));
        assert!(points[1].1.is_nan());
        let empty = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        assert!(read_range(200, empty).unwrap().is_empty());
        let bad = r#"{"status":"error","errorType":"bad_data","error":"exceeded maximum resolution of 11,000 points per timeseries"}"#;
        assert!(
            matches!(read_range(400, bad), Err(QueryError::BadQuery(m)) if m.contains("11,000"))
        );
    }

    #[test]
    fn a_series_gone_stale_is_no_value_not_the_last_one() {
        let empty = r#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert_eq!(read_instant(200, empty).unwrap(), None);
    }

    #[test]
    fn each_error_maps_to_what_an_operator_needs_to_know() {
        let bad = r#"{"status":"error","errorType":"bad_data","error":"1:5: parse error: unexpected \")\""}"#;
        assert_eq!(
            read_instant(400, bad),
            Err(QueryError::BadQuery(
                "1:5: parse error: unexpected \")\"".into()
            ))
        );
        let exec = r#"{"status":"error","errorType":"execution","error":"many-to-many matching not allowed"}"#;
        assert!(
            matches!(read_instant(422, exec), Err(QueryError::Execution(m)) if m.contains("many-to-many"))
        );
        let busy = r#"{"status":"error","errorType":"unavailable","error":"too many queries"}"#;
        let e = read_instant(503, busy).unwrap_err();
        assert!(e.is_stale(), "{e:?}");
        assert!(
            read_instant(502, "<html>bad gateway</html>")
                .unwrap_err()
                .is_stale()
        );
        assert!(matches!(
            read_instant(200, "not json"),
            Err(QueryError::Unexpected(_))
        ));
        let two = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"1"]},{"metric":{"a":"2"},"value":[1,"2"]}]}}"#;
        assert!(
            matches!(read_instant(200, two), Err(QueryError::Unexpected(m)) if m.contains("aggregate"))
        );
        let matrix = r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#;
        assert!(matches!(
            read_instant(200, matrix),
            Err(QueryError::Unexpected(_))
        ));
    }

    #[test]
    fn a_value_without_a_series_or_a_number_is_absent_not_zero() {
        let values: BTreeMap<Metric, f64> = [
            (Metric::Rps, 12.5),
            (Metric::P99, f64::NAN),
            (Metric::Cpu, f64::INFINITY),
            (Metric::Memory, 64.0 * 1024.0 * 1024.0),
            (Metric::ReplicasReady, 3.0),
        ]
        .into();
        let s = assemble(&values);
        assert_eq!(s.rps, 12.5);
        assert_eq!(s.memory_mb, 64.0);
        assert_eq!(s.replicas_ready, 3);
        assert!(s.has(Metric::Rps) && s.has(Metric::Memory));
        assert_eq!(
            s.absent,
            vec![
                Metric::P50,
                Metric::P95,
                Metric::P99,
                Metric::ErrorRatio,
                Metric::Cpu,
                Metric::ReplicasDesired
            ]
        );
        // On the wire, only when something is absent.
        let full: BTreeMap<Metric, f64> = [
            Metric::Rps,
            Metric::P50,
            Metric::P95,
            Metric::P99,
            Metric::ErrorRatio,
            Metric::Cpu,
            Metric::Memory,
            Metric::ReplicasReady,
            Metric::ReplicasDesired,
        ]
        .map(|m| (m, 1.0))
        .into();
        let json = serde_json::to_string(&assemble(&full)).unwrap();
        assert!(
            !json.contains("absent") && !json.contains("problem"),
            "{json}"
        );
    }

    #[test]
    fn a_failed_query_becomes_a_problem_naming_the_value() {
        let t = Utc.with_ymd_and_hms(2026, 12, 6, 3, 0, 0).unwrap();
        let p = QueryError::BadQuery("1:5: parse error".into())
            .for_metric(Metric::P99)
            .problem(Some(t));
        assert_eq!(p.kind, MetricsProblemKind::BadQuery);
        assert_eq!(p.message, "bad PromQL: p99 — 1:5: parse error");
        assert_eq!(p.last_good, Some(t));
        let p = QueryError::Execution("x".into())
            .for_metric(Metric::Cpu)
            .problem(None);
        assert_eq!(
            (p.kind, p.message.as_str()),
            (MetricsProblemKind::Execution, "query failed: cpu — x")
        );
        // Prometheus being down is not about one query.
        let p = QueryError::Unavailable("connection refused".into())
            .for_metric(Metric::Rps)
            .problem(Some(t));
        assert_eq!(p.message, "Prometheus unavailable: connection refused");
        assert!(p.kind.is_stale());
        let p = QueryError::Unexpected("x".into()).problem(None);
        assert_eq!(p.kind, MetricsProblemKind::Unexpected);
        assert!(!p.kind.is_stale());
    }
}
