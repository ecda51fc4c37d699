//! The seam between the gateway and the systems it shows: the [`Platform`] trait.
//!
//! The simulated mini-program cloud ([`sim`]) and a real cluster ([`kubernetes`]) implement it. [`alertmanager::WithAlertmanager`] wraps one to take its alerts from a real
//! Alertmanager. The gateway reaches the world only through this trait: reads are request/response, live data is pushed into an [`EventSink`] by the
//! platform's own task ([`Platform::run`]), and the gateway assigns sequence numbers.

pub mod alertmanager;
pub mod kubernetes;
pub mod load;
pub mod prometheus;
pub mod sim;

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::protocol::{Alert, AppDetail, AppSummary, Body, Release, TimelineEntry};

/// Something the platform observed, before the gateway gives it a sequence number.
#[derive(Clone, Debug, PartialEq)]
pub struct Emission {
    pub ts: DateTime<Utc>,
    pub app: String,
    pub body: Body,
}

/// Where a platform pushes its live data. Bounded: a platform that outruns the gateway waits.
pub type EventSink = mpsc::Sender<Emission>;

/// Why a platform refused or failed a request. The gateway maps each to an HTTP status.
#[derive(Clone, Debug, thiserror::Error, PartialEq)]
pub enum PlatformError {
    /// 404: no such app, release, alert or scenario.
    #[error("{0}")]
    NotFound(String),
    /// 422: the request is well-formed but not acceptable (e.g. replicas out of range).
    #[error("{0}")]
    Invalid(String),
    /// 409: the request conflicts with the current state (e.g. roll back to the active release).
    #[error("{0}")]
    Conflict(String),
    /// 501: this platform cannot do that (e.g. scenarios outside the simulator).
    #[error("{0}")]
    Unsupported(String),
    /// 503: the platform could not be reached or failed.
    #[error("{0}")]
    Unavailable(String),
}

/// What an HTTP probe got back.
#[derive(Clone, Debug, PartialEq)]
pub struct ProbeResponse {
    pub status: u16,
    pub body: String,
}

/// Longest probe body kept, in bytes.
pub const PROBE_BODY_LIMIT: usize = 64 * 1024;

/// A request to change the platform, with the id the gateway gave it. The platform reports the
/// action's progress on the `actions` topic under that id.
#[derive(Clone, Debug, PartialEq)]
pub struct ActionRequest {
    pub id: String,
    /// Who asked (user name once auth exists; "operator" until then).
    pub actor: String,
}

/// What a platform started in response to a rollback request.
#[derive(Clone, Debug, PartialEq)]
pub struct RollbackPlan {
    pub from: Release,
    pub to: Release,
}

#[async_trait]
pub trait Platform: Send + Sync + 'static {
    /// Short name announced in `hello`, e.g. "sim".
    fn name(&self) -> &str;

    /// Push live data into `sink` until it is closed. Called once, on its own task.
    async fn run(&self, sink: EventSink);

    async fn apps(&self) -> Result<Vec<AppSummary>, PlatformError>;
    async fn app(&self, app: &str) -> Result<AppDetail, PlatformError>;
    /// Newest first.
    async fn releases(&self, app: &str) -> Result<Vec<Release>, PlatformError>;
    /// Start scaling; `replicas` is already known to be an integer but not range-checked.
    async fn scale(
        &self,
        app: &str,
        replicas: u32,
        action: ActionRequest,
    ) -> Result<(), PlatformError>;
    /// Start a rollback to `to`, or to the previous good release when `None`.
    async fn rollback(
        &self,
        app: &str,
        to: Option<&str>,
        action: ActionRequest,
    ) -> Result<RollbackPlan, PlatformError>;

    /// Active and recently resolved alerts.
    async fn alerts(&self) -> Result<Vec<Alert>, PlatformError>;
    async fn acknowledge(&self, alert: &str, by: &str) -> Result<Alert, PlatformError>;
    async fn silence(
        &self,
        alert: &str,
        secs: u64,
        comment: &str,
        by: &str,
    ) -> Result<Alert, PlatformError>;

    /// End alert `alert`'s silence now: it pages again (or stays acknowledged).
    async fn expire_silence(&self, alert: &str, by: &str) -> Result<Alert, PlatformError> {
        let _ = by;
        Err(PlatformError::Unsupported(format!(
            "this platform cannot expire the silence of {alert}"
        )))
    }

    /// Recent platform events, newest first.
    async fn events(&self) -> Result<Vec<TimelineEntry>, PlatformError>;

    /// Platform time now. Runbook steps measure durations (`for`, `timeout`, `sleep`, backoff)
    /// in it, so they follow the simulator's accelerated clock. Real platforms use the wall clock.
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }

    /// Platform seconds per real second: how fast [`Platform::now`] moves. Consoles read their
    /// clock from it between the gateway's `clock` frames.
    fn clock_rate(&self) -> f64 {
        1.0
    }

    /// GET `url` for a runbook's `http_probe` step. The default makes a real HTTP request
    /// (plain HTTP; this build has no TLS); the simulator also answers `sim://{app}/...` itself.
    async fn probe(&self, url: &str, timeout: Duration) -> Result<ProbeResponse, PlatformError> {
        probe_http(url, timeout).await
    }

    /// Start an incident scenario. Only the simulator supports this.
    async fn start_scenario(&self, name: &str) -> Result<(), PlatformError> {
        Err(PlatformError::Unsupported(format!(
            "scenario {name:?}: scenarios exist only on the simulated platform"
        )))
    }
}

/// A plain HTTP GET with a timeout; the body is cut at [`PROBE_BODY_LIMIT`].
pub async fn probe_http(url: &str, timeout: Duration) -> Result<ProbeResponse, PlatformError> {
    // One client for every probe: building one loads the system's trust roots from disk, which
    // is slow and blocking, and a connection pool is worth keeping.
    static CLIENT: std::sync::OnceLock<Result<reqwest::Client, String>> =
        std::sync::OnceLock::new();
    let client = CLIENT
        .get_or_init(|| {
            // reqwest is built without a default TLS provider; install ring (idempotent).
            let _ = rustls::crypto::ring::default_provider().install_default();
            reqwest::Client::builder()
                .no_proxy()
                .build()
                .map_err(|err| err.to_string())
        })
        .as_ref()
        .map_err(|err| PlatformError::Unavailable(format!("cannot build an HTTP client: {err}")))?;
    let response = client
        .get(url)
        .timeout(timeout)
        .send()
        .await
        .map_err(|err| PlatformError::Unavailable(format!("GET {url}: {err}")))?;
    let status = response.status().as_u16();
    let bytes = response
        .bytes()
        .await
        .map_err(|err| PlatformError::Unavailable(format!("GET {url}: reading the body: {err}")))?;
    let cut = bytes.len().min(PROBE_BODY_LIMIT);
    Ok(ProbeResponse {
        status,
        body: String::from_utf8_lossy(&bytes[..cut]).into_owned(),
    })
}
