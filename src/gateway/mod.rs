//! The gateway (`opsdeck serve`): HTTP/JSON for reads and actions, a WebSocket stream with
//! sequence numbers, resume and bounded per-client lag, in front of one [`Platform`].

mod action_book;
pub mod actions;
pub mod app_metrics;
pub mod audit;
mod auth;
mod error;
mod http;
mod hub;
mod idempotency;
mod in_process;
mod limits;
pub mod metrics_source;
mod routes;
pub mod runs;
mod session;
mod stats;
mod tls;
pub mod tokens;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::platform::Platform;
use crate::protocol::Body;

pub use auth::{Actor, BEARER_PROTOCOL_PREFIX, STREAM_PROTOCOL, actor_from};
pub use error::ApiError;
pub use hub::{Hub, MAX_EVENTS_PER_FRAME, seq_base_at};
pub use in_process::InProcess;
pub use routes::{OPENAPI_YAML, RouteSpec, routes};
pub use stats::Stats;
pub use tls::{CertError, CertStore, TlsFiles};
pub use tokens::Tokens;

/// Everything that tunes the gateway. One struct, so config files and flags have one target.
#[derive(Clone, Debug)]
pub struct GatewayConfig {
    pub listen: SocketAddr,
    /// Events kept per topic for replay on resume.
    pub replay_buffer: usize,
    /// How far (in events per topic) a client may lag before it gets coalesced metrics and a
    /// `dropped` notice instead of everything. This is the bound of each client's queue.
    pub client_lag_limit: usize,
    /// Largest client frame accepted; larger closes the connection with 1009.
    pub max_frame_bytes: usize,
    /// Interval of WebSocket pings; a client silent for two intervals is dropped.
    pub heartbeat: Duration,
    /// A single frame the socket does not accept within this time drops the client.
    pub send_timeout: Duration,
    /// A client still skipping events after this long is closed with 1008.
    pub slow_client_grace: Duration,
    /// Idempotency keys remembered for platform-changing actions: scale, rollback, run start.
    pub idempotency_keys: usize,
    /// Idempotency keys remembered for alert and run controls (ack, silence, approve, abort,
    /// resume). A store of their own, so these unmetered requests cannot push action keys out.
    pub control_idempotency_keys: usize,
    /// Stream connections served at once; more are refused with 503.
    pub max_clients: usize,
    /// Actions (scale, rollback, scenario, runbook run) one actor may start per minute; more get 429.
    pub actions_per_minute: u32,
    /// Where runs are journaled (`runs.jsonl`); `None` keeps runs in memory only, so they do
    /// not survive a restart.
    pub data_dir: Option<PathBuf>,
    /// Folders of `*.toml` runbooks, loaded after the shipped ones; a file with a shipped
    /// runbook's id replaces it.
    pub runbook_dirs: Vec<PathBuf>,
    /// How often (real time) a run's task looks at the platform while a step waits.
    pub run_poll: Duration,
    /// Runs not yet finished (running, waiting for approval, interrupted) kept at once; starting
    /// another is refused with 503 until some finish or are aborted.
    pub max_unfinished_runs: usize,
    /// Serve https and wss with this certificate and key; `None` serves plain http and ws.
    pub tls: Option<TlsFiles>,
    /// Said at start by the caller and in every `/healthz` answer (e.g. `--insecure-listen`).
    pub warnings: Vec<String>,
    /// Read live metrics from this Prometheus instead of the platform's own samples.
    pub prometheus: Option<metrics_source::PrometheusSource>,
    /// Read alerts from this Alertmanager instead of the platform's own.
    pub alertmanager: Option<crate::platform::alertmanager::AlertmanagerSource>,
    /// When the audit file's chain is broken, set it aside and start a new chain (recorded as
    /// its first record) instead of refusing to start.
    pub audit_new_chain: bool,
    /// The bearer tokens accepted (`--tokens FILE`); `None` checks none and lets everyone act
    /// with every right (loopback only).
    pub tokens: Option<Arc<Tokens>>,
    /// Failed authentications one client address may make per minute; more get 429.
    pub auth_failures_per_minute: u32,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        GatewayConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 7070)),
            replay_buffer: 100_000,
            client_lag_limit: 8_192,
            max_frame_bytes: 1 << 20,
            heartbeat: Duration::from_secs(15),
            send_timeout: Duration::from_secs(30),
            slow_client_grace: Duration::from_secs(60),
            idempotency_keys: 10_000,
            control_idempotency_keys: 10_000,
            max_clients: 10_000,
            actions_per_minute: 60,
            data_dir: None,
            runbook_dirs: Vec::new(),
            run_poll: Duration::from_millis(100),
            max_unfinished_runs: 100,
            tls: None,
            warnings: Vec::new(),
            prometheus: None,
            alertmanager: None,
            audit_new_chain: false,
            tokens: None,
            auth_failures_per_minute: 10,
        }
    }
}

/// Shared state of a running gateway.
pub struct Gateway {
    pub config: GatewayConfig,
    pub id: String,
    pub platform: Arc<dyn Platform>,
    pub hub: Hub,
    pub stats: Arc<Stats>,
    action_book: action_book::ActionBook,
    /// Keys of scale, rollback and run start.
    action_keys: Arc<idempotency::IdempotencyStore<actions::Answer>>,
    /// Keys of alert and run controls, apart from `action_keys`.
    control_keys: Arc<idempotency::IdempotencyStore<actions::Answer>>,
    limiter: limits::ActionLimiter,
    /// Failed authentications per client address.
    auth_failures: limits::ActionLimiter,
    action_seq: AtomicU64,
    /// Turns true when the gateway stops; stream sessions close with 1001.
    closing: watch::Receiver<bool>,
    /// One permit per stream connection, `max_clients` in all.
    stream_permits: Arc<tokio::sync::Semaphore>,
    /// Runbooks and their runs.
    pub runs: runs::Runs,
    /// The apps' samples as counters and gauges, for `GET /metrics`.
    pub app_metrics: app_metrics::AppMetrics,
    /// The client of `config.prometheus`, one for the poller and every history request.
    pub prometheus: Option<crate::platform::prometheus::Prometheus>,
    /// Every change, recorded before it is answered.
    pub audit: audit::Audit,
    /// The alerts read from Alertmanager, when `config.alertmanager` is set (its webhook
    /// feeds them).
    pub alertmanager: Option<Arc<crate::platform::alertmanager::Alerts>>,
}

impl Gateway {
    fn next_action_id(&self) -> String {
        let n = self.action_seq.fetch_add(1, Ordering::Relaxed) + 1;
        format!("act-{}-{n}", self.id)
    }
}

/// A gateway serving on a bound address. Dropping it does not stop it; call [`Running::stop`].
pub struct Running {
    pub addr: SocketAddr,
    pub gateway: Arc<Gateway>,
    /// The certificate being served, when TLS is on: [`CertStore::reload`] renews it.
    pub tls: Option<Arc<CertStore>>,
    shutdown: watch::Sender<bool>,
    server: JoinHandle<std::io::Result<()>>,
    tasks: Vec<JoinHandle<()>>,
}

impl Running {
    /// Stop accepting, close streams, and wait for the server to finish.
    pub async fn stop(self) {
        let _ = self.shutdown.send(true);
        // Requests in progress finish first, so what they answered is in the journal.
        let _ = self.server.await;
        // Runs in flight are left as the journal last saw them: a new gateway on the same data
        // dir reports them interrupted.
        self.gateway.runs.stop_tasks();
        self.gateway.runs.close_journal().await;
        for task in &self.tasks {
            task.abort();
        }
    }

    /// Wait until the server ends (it ends on stop or on a fatal I/O error).
    pub async fn wait(self) -> std::io::Result<()> {
        match self.server.await {
            Ok(result) => result,
            Err(err) => Err(std::io::Error::other(err)),
        }
    }
}

/// Bind `config.listen`, start the platform's feed and the HTTP/WebSocket server (over TLS when
/// `config.tls` is set; its certificate is loaded before anything binds).
pub async fn start(config: GatewayConfig, platform: Arc<dyn Platform>) -> std::io::Result<Running> {
    let tls = match &config.tls {
        Some(files) => {
            let store = CertStore::open(files.clone()).map_err(std::io::Error::other)?;
            let server_config = tls::server_config(store.clone()).map_err(std::io::Error::other)?;
            Some((store, server_config))
        }
        None => None,
    };
    let listener = TcpListener::bind(config.listen).await?;
    let addr = listener.local_addr()?;
    let id = format!("{:08x}", fastrand::u32(..));
    let seq_base = seq_base_at(chrono::Utc::now());
    let Parts {
        gateway,
        shutdown,
        sink,
        feed,
    } = Gateway::build(config, platform, id, seq_base)?;

    let feeder = {
        let platform = gateway.platform.clone();
        tokio::spawn(async move { platform.run(sink).await })
    };
    let ingest = tokio::spawn(ingest(gateway.clone(), feed));
    let mut tasks = vec![feeder, ingest];
    if let Some(source) = gateway.config.prometheus.clone() {
        tasks.push(tokio::spawn(metrics_source::run(gateway.clone(), source)));
    }

    let mut stopped = shutdown.subscribe();
    let stopped = async move {
        let _ = stopped.wait_for(|s| *s).await;
    };
    // Handlers may ask for `ConnectInfo<SocketAddr>`, the client's address.
    let app = routes::router(gateway.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let (server, store) = match tls {
        None => (
            tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(stopped)
                    .await
            }),
            None,
        ),
        Some((store, server_config)) => {
            use axum::serve::ListenerExt;
            // `tap_io` is what gives a listener other than TcpListener its `ConnectInfo`.
            let listener = tls::TlsListener::new(listener, server_config)?.tap_io(|_| {});
            tasks.push(tokio::spawn(store.clone().watch()));
            let server = tokio::spawn(async move {
                axum::serve(listener, app)
                    .with_graceful_shutdown(stopped)
                    .await
            });
            (server, Some(store))
        }
    };
    tracing::info!(%addr, tls = store.is_some(), platform = gateway.platform.name(), id = %gateway.id, "gateway listening");
    Ok(Running {
        addr,
        gateway,
        tls: store,
        shutdown,
        server,
        tasks,
    })
}

/// A gateway before anything runs it: its state, the switch that stops its streams, and the
/// feed its platform and runs publish into.
struct Parts {
    gateway: Arc<Gateway>,
    shutdown: watch::Sender<bool>,
    sink: crate::platform::EventSink,
    feed: mpsc::Receiver<crate::platform::Emission>,
}

impl Gateway {
    /// Everything but the server and the tasks: `id` names the gateway (in action and run ids),
    /// `seq_base` is where sequence numbers start.
    fn build(
        mut config: GatewayConfig,
        platform: Arc<dyn Platform>,
        id: String,
        seq_base: crate::protocol::Seq,
    ) -> std::io::Result<Parts> {
        // A client can never lag further than the buffer holds.
        config.client_lag_limit = config
            .client_lag_limit
            .clamp(1, config.replay_buffer.max(1));
        let stats = Arc::new(Stats::default());
        let (shutdown, closing) = watch::channel(false);
        let (sink, feed) = mpsc::channel(4096);
        let (platform, alertmanager) = match &config.alertmanager {
            Some(source) => {
                use crate::platform::alertmanager::{Alerts, WithAlertmanager};
                let alerts = Arc::new(Alerts::new(source.clone()).map_err(std::io::Error::other)?);
                let wrapped: Arc<dyn Platform> =
                    Arc::new(WithAlertmanager::new(platform, alerts.clone()));
                (wrapped, Some(alerts))
            }
            None => (platform, None),
        };
        let runs = runs::Runs::open(
            &config.runbook_dirs,
            config.data_dir.as_deref(),
            config.run_poll,
            sink.clone(),
            &id,
            platform.now(),
        )?;
        let audit = audit::Audit::open(
            config.data_dir.as_deref(),
            config.audit_new_chain,
            sink.clone(),
            platform.now(),
        )
        .map_err(std::io::Error::other)?;
        // A client that cannot be built (it never fails in practice) turns Prometheus off,
        // saying so: the gateway still serves the platform's own metrics.
        let prometheus = config.prometheus.as_ref().and_then(|source| {
            crate::platform::prometheus::Prometheus::new(&source.url, source.timeout)
                .map_err(|err| tracing::error!(%err, "Prometheus metrics are off"))
                .ok()
        });
        let gateway = Arc::new(Gateway {
            audit,
            closing,
            stream_permits: Arc::new(tokio::sync::Semaphore::new(
                config.max_clients.min(tokio::sync::Semaphore::MAX_PERMITS),
            )),
            id,
            runs,
            hub: Hub::new(config.replay_buffer, seq_base, stats.clone()),
            action_book: action_book::ActionBook::new(1024),
            action_keys: Arc::new(idempotency::IdempotencyStore::new(config.idempotency_keys)),
            control_keys: Arc::new(idempotency::IdempotencyStore::new(
                config.control_idempotency_keys,
            )),
            limiter: limits::ActionLimiter::new(config.actions_per_minute, Duration::from_secs(60)),
            auth_failures: limits::ActionLimiter::new(
                config.auth_failures_per_minute,
                Duration::from_secs(60),
            ),
            action_seq: AtomicU64::new(0),
            platform,
            stats,
            config,
            app_metrics: app_metrics::AppMetrics::default(),
            prometheus,
            alertmanager,
        });
        Ok(Parts {
            gateway,
            shutdown,
            sink,
            feed,
        })
    }

    /// The latest known status of action `id`, as GET /v1/actions/{id} answers it.
    pub fn action(&self, id: &str) -> Option<crate::protocol::ActionStatus> {
        self.action_book.get(id)
    }

    /// The platform timeline as GET /v1/events answers it: the platform's events, what runs
    /// and their steps did, and changes that failed (the gateway's own records), newest first.
    pub async fn timeline(
        &self,
    ) -> Result<Vec<crate::protocol::TimelineEntry>, crate::platform::PlatformError> {
        let mut entries = self.platform.events().await?;
        entries.extend(self.runs.timeline());
        entries.extend(self.audit.timeline());
        entries.sort_by_key(|e| std::cmp::Reverse(e.ts));
        Ok(entries)
    }

    /// The first message of every stream, stamped `server_time`, telling the client who the
    /// gateway took it for when it checks tokens.
    pub fn hello(
        &self,
        server_time: chrono::DateTime<chrono::Utc>,
        identity: Option<crate::protocol::Identity>,
    ) -> crate::protocol::ServerMsg {
        crate::protocol::ServerMsg::Hello {
            protocol: crate::protocol::PROTOCOL_VERSION,
            gateway_id: self.id.clone(),
            server_time,
            topics: crate::protocol::Topic::ALL.to_vec(),
            platform: self.platform.name().to_string(),
            heartbeat_ms: u64::try_from(self.config.heartbeat.as_millis()).unwrap_or(u64::MAX),
            max_frame_bytes: self.config.max_frame_bytes,
            identity,
        }
    }

    /// The platform's clock as of now, for the `clock` frame.
    pub fn clock(&self) -> crate::protocol::ServerMsg {
        crate::protocol::ServerMsg::Clock {
            platform_time: self.platform.now(),
            rate: self.platform.clock_rate(),
        }
    }

    /// Sequence and encode `emissions` into the hub, and keep the action book current.
    fn publish(&self, emissions: Vec<crate::platform::Emission>) {
        for event in self.hub.publish(emissions) {
            if let Body::Actions(status) = event.body {
                self.action_book.record(status);
            }
        }
    }
}

/// Move emissions from the platform into the hub, as many at a time as are queued.
async fn ingest(gateway: Arc<Gateway>, mut feed: mpsc::Receiver<crate::platform::Emission>) {
    let mut batch = Vec::with_capacity(MAX_EVENTS_PER_FRAME);
    // A sample covers one platform second: this much real time, for /metrics' counters.
    let rate = gateway.platform.clock_rate();
    let real_secs = if rate > 0.0 { 1.0 / rate } else { 1.0 };
    let from_prometheus = gateway.prometheus.is_some();
    while feed.recv_many(&mut batch, MAX_EVENTS_PER_FRAME).await > 0 {
        for e in &batch {
            if let Body::Metrics(sample) = &e.body {
                gateway.app_metrics.observe(&e.app, sample, real_secs);
            }
        }
        if from_prometheus {
            // The metrics topic carries what Prometheus says, not the platform's own samples.
            batch.retain(|e| !matches!(e.body, Body::Metrics(_)));
        }
        gateway.publish(std::mem::take(&mut batch));
    }
    tracing::info!("platform feed ended");
}
