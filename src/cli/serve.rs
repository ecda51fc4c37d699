//! `opsdeck serve`, and the embedded gateway the console starts when it has no URL.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use crate::gateway::{self, GatewayConfig, Running, Tokens};
use crate::platform::Platform;
use crate::platform::load::{LoadConfig, LoadPlatform};
use crate::platform::sim::{SCENARIOS, SimConfig, SimPlatform};
use crate::tui::logging::log_dir;

use super::ServeArgs;

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

fn parse_speed(text: &str) -> Result<f64, String> {
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
    let tokens = match &args.tokens {
        Some(path) => {
            let tokens = Tokens::load(path)?;
            tracing::info!(tokens = tokens.len(), file = %path.display(), "tokens loaded");
            Some(Arc::new(tokens))
        }
        None => None,
    };
    let config = GatewayConfig {
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
        ..GatewayConfig::default()
    };
    let platform: Arc<dyn Platform> = match args.load_rate {
        Some(rate) => Arc::new(LoadPlatform::new(LoadConfig {
            rate,
            apps: 10,
            limit: None,
        })),
        None => Arc::new(SimPlatform::new(args.sim_args.sim_config())),
    };
    let running = gateway::start(config, platform)
        .await
        .map_err(|err| anyhow::anyhow!("cannot listen on {}: {err}", args.listen))?;
    println!("opsdeck gateway listening on http://{}", running.addr);
    shutdown_signal().await;
    tracing::info!("shutting down");
    running.stop().await;
    Ok(())
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
