//! `opsdeck serve`, and the embedded gateway the console starts when it has no URL.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use crate::gateway::metrics_source::PrometheusSource;
use crate::gateway::{self, CertStore, GatewayConfig, Running, TlsFiles, Tokens};
use crate::platform::Platform;
use crate::platform::alertmanager::{AlertmanagerSource, LabelNames};
use crate::platform::kubernetes::shape::Defaults;
use crate::platform::kubernetes::{KubePlatform, KubeSettings};
use crate::platform::load::{LoadConfig, LoadPlatform};
use crate::platform::prometheus::Queries;
use crate::platform::sim::{SCENARIOS, SimConfig, SimPlatform};
use crate::tui::logging::log_dir;

use super::ServeArgs;
use super::listen::{Protection, check_listen};

#[derive(Args, Debug, Clone)]
pub struct SimArgs {
    /// Start an incident scenario at once.
    #[arg(long, value_parser = clap::builder::PossibleValuesParser::new(SCENARIOS))]
    pub scenario: Option<String>,
    /// Seed of the simulator: the same seed gives the same events.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Platform seconds per real second.
    #[arg(long, default_value_t = 1.0, value_parser = parse_speed)]
    pub speed: f64,
}

pub(crate) fn parse_speed(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && v <= 100_000.0 => Ok(v),
        _ => Err(format!(
            "speed must be a number above 0 and at most 100000, got {text:?}"
        )),
    }
}

impl Default for SimArgs {
    fn default() -> Self {
        SimArgs {
            scenario: None,
            seed: 42,
            speed: 1.0,
        }
    }
}

impl SimArgs {
    pub fn sim_config(&self) -> SimConfig {
        SimConfig {
            seed: self.seed,
            speed: self.speed,
            scenario: self.scenario.clone(),
            ..SimConfig::default()
        }
    }
}

/// Run the gateway until Ctrl-C or SIGTERM.
pub async fn run_serve(args: ServeArgs) -> anyhow::Result<()> {
    let protection = Protection {
        tls: args.tls_cert.is_some() && args.tls_key.is_some(),
        tokens: args.tokens.is_some(),
        insecure_listen: args.insecure_listen,
    };
    // Before anything binds: an unprotected public port must never be open, even briefly.
    let warning = check_listen(args.listen, protection).map_err(anyhow::Error::msg)?;
    if let Some(warning) = &warning {
        tracing::warn!("{warning}");
    }
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles::new(cert.clone(), key.clone())),
        _ => None,
    };
    let prometheus = match &args.prometheus {
        Some(url) if !(url.starts_with("http://") || url.starts_with("https://")) => {
            anyhow::bail!("--prometheus {url}: give the server's http:// or https:// address");
        }
        Some(url) => Some(PrometheusSource {
            interval: Duration::from_secs(args.prometheus_interval.max(1)),
            queries: Queries::from_setting(
                &args.prometheus_queries,
                args.prometheus_namespace.as_deref(),
            )
            .map_err(anyhow::Error::msg)?,
            ..PrometheusSource::new(url)
        }),
        None => None,
    };
    let alertmanager = match &args.alertmanager {
        Some(url) if !(url.starts_with("http://") || url.starts_with("https://")) => {
            anyhow::bail!("--alertmanager {url}: give the server's http:// or https:// address");
        }
        Some(url) => Some(AlertmanagerSource {
            interval: Duration::from_secs(args.alertmanager_interval.max(1)),
            labels: LabelNames {
                severity: args.severity_label.clone(),
                runbook: args.runbook_label.clone(),
                app: args.app_label.clone(),
            },
            ..AlertmanagerSource::new(url)
        }),
        None => None,
    };
    let tokens = match &args.tokens {
        Some(path) => {
            let tokens = Tokens::load(path)?;
            tracing::info!(tokens = tokens.len(), file = %path.display(), "tokens loaded");
            Some(Arc::new(tokens))
        }
        None => None,
    };
    let config = GatewayConfig {
        prometheus,
        alertmanager,
        tokens,
        listen: args.listen,
        replay_buffer: args.replay_buffer,
        client_lag_limit: args.client_lag_limit,
        max_frame_bytes: args.max_frame_bytes,
        heartbeat: Duration::from_secs(args.heartbeat_secs.max(1)),
        max_clients: args.max_clients,
        actions_per_minute: args.actions_per_minute,
        data_dir: (!args.no_journal).then(|| args.data_dir.clone().unwrap_or_else(log_dir)),
        runbook_dirs: runbook_dirs(&args.runbooks),
        tls,
        warnings: warning.into_iter().collect(),
        audit_new_chain: args.audit_new_chain,
        ..GatewayConfig::default()
    };
    let platform: Arc<dyn Platform> = match (args.load_rate, args.platform.as_str()) {
        (Some(_), "kubernetes") => {
            anyhow::bail!(
                "--load-rate serves a synthetic platform: leave out --platform kubernetes"
            )
        }
        (_, "kubernetes") => Arc::new(kubernetes_platform(&args).await?),
        (Some(rate), _) => Arc::new(LoadPlatform::new(LoadConfig {
            rate,
            apps: 10,
            limit: None,
        })),
        (None, _) => Arc::new(SimPlatform::new(args.sim_args.sim_config())),
    };
    let running = gateway::start(config, platform)
        .await
        .map_err(|err| anyhow::anyhow!("cannot start the gateway on {}: {err}", args.listen))?;
    let scheme = match &running.tls {
        Some(store) => {
            reload_on_hangup(store.clone())?;
            "https"
        }
        None => "http",
    };
    println!("opsdeck gateway listening on {scheme}://{}", running.addr);
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.stop().await;
    Ok(())
}

/// The Kubernetes platform of `--platform kubernetes`: a client from the kubeconfig (or the
/// pod's service account) and the namespaces given, else the context's namespace.
async fn kubernetes_platform(args: &ServeArgs) -> anyhow::Result<KubePlatform> {
    let client = KubePlatform::connect(args.kubeconfig.as_deref(), args.kube_context.as_deref())
        .await
        .map_err(anyhow::Error::msg)?;
    let mut namespaces: Vec<String> = args
        .namespaces
        .iter()
        .map(|ns| ns.trim().to_string())
        .filter(|ns| !ns.is_empty())
        .collect();
    if namespaces.is_empty() {
        namespaces.push(client.default_namespace().to_string());
    }
    namespaces.sort();
    namespaces.dedup();
    if args.kube_min_replicas > args.kube_max_replicas {
        anyhow::bail!(
            "--kube-min-replicas {} is above --kube-max-replicas {}",
            args.kube_min_replicas,
            args.kube_max_replicas
        );
    }
    tracing::info!(namespaces = ?namespaces, label = %args.kube_app_label, "serving Kubernetes");
    Ok(KubePlatform::new(
        client,
        KubeSettings {
            app_label: args.kube_app_label.clone(),
            defaults: Defaults {
                min_replicas: args.kube_min_replicas,
                max_replicas: args.kube_max_replicas,
            },
            scale_hpa: args.kube_scale_hpa,
            ..KubeSettings::new(namespaces)
        },
    ))
}

/// The folders given, or the repo's `runbooks/` when none are and it exists here.
fn runbook_dirs(given: &[PathBuf]) -> Vec<PathBuf> {
    if !given.is_empty() {
        return given.to_vec();
    }
    let local = PathBuf::from("runbooks");
    if local.is_dir() {
        vec![local]
    } else {
        Vec::new()
    }
}

/// Start a simulator gateway on a loopback ephemeral port, for the console's embedded mode,
/// accepting only `tokens` (the one the demo made in memory for its console).
pub async fn start_sim_gateway(sim: SimConfig, tokens: Option<Tokens>) -> std::io::Result<Running> {
    let config = GatewayConfig {
        listen: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        tokens: tokens.map(Arc::new),
        ..GatewayConfig::default()
    };
    gateway::start(config, Arc::new(SimPlatform::new(sim))).await
}

/// Reload the certificate on every SIGHUP (the files are also watched; see [`TlsFiles::poll`]).
fn reload_on_hangup(store: Arc<CertStore>) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut hangup = signal(SignalKind::hangup())
            .map_err(|err| anyhow::anyhow!("cannot listen for SIGHUP: {err}"))?;
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                tracing::info!("SIGHUP: reloading the TLS certificate");
                let store = store.clone();
                // The outcome is logged by `reload`.
                let _ = tokio::task::spawn_blocking(move || store.reload()).await;
            }
        });
    }
    #[cfg(not(unix))]
    let _ = store;
    Ok(())
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
