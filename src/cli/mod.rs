//! Command-line definitions and the non-interactive commands.

pub mod audit;
pub mod commands;
pub mod confirm;
pub mod connection;
mod contexts;
pub mod exit;
pub mod follow;
mod listen;
pub mod logging;
pub mod offline;
pub mod output;
mod screenshots;
mod serve;
mod token;

use clap::{Args, Parser, Subcommand};

pub use contexts::{ConfigCommand, CtxArgs, run_config, run_ctx};
pub use screenshots::run_screenshots;
pub(crate) use serve::parse_speed;
pub use serve::{SimArgs, run_serve, start_sim_gateway};
pub use token::{TokenCommand, console_token, run_token};
pub(crate) use token::{token_from_command, token_from_file};

#[derive(Parser, Debug)]
#[command(
    name = "opsdeck",
    version,
    about = "Terminal operations console for a mini-program cloud",
    long_about = "With no command, opsdeck starts a simulated platform inside the process and \
                  opens the console on it (DEMO). Use --url to connect to a running gateway."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub console: ConsoleArgs,
}

/// What the console shows on: the gateway's connection and how the console looks and behaves.
/// Top-level options (`opsdeck --url ws://… --mouse`); `opsdeck serve` takes none of them.
#[derive(Args, Debug, Clone, Default)]
pub struct ConsoleArgs {
    #[command(flatten)]
    pub connection: ConnectionArgs,
    #[command(flatten)]
    pub view: ViewArgs,
}

impl ConsoleArgs {
    /// These options (given after a command) over `outer`'s (given before it).
    pub fn or(&self, outer: &ConsoleArgs) -> ConsoleArgs {
        ConsoleArgs {
            connection: self.connection.or(&outer.connection),
            view: self.view.or(&outer.view),
        }
    }
}

/// Which gateway a console or a scripting command talks to, and how it proves who it is.
/// [`connection::resolve`] turns these into a connection.
#[derive(Args, Debug, Clone, Default)]
pub struct ConnectionArgs {
    /// The console's config file (default $XDG_CONFIG_HOME/opsdeck/config.toml, or
    /// OPSDECK_CONFIG).
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// Use this context of the config file for this run (or OPSDECK_CONTEXT). A change
    /// scripted against a production context needs it named here.
    #[arg(long, value_name = "NAME")]
    pub context: Option<String>,
    /// Gateway stream URL, e.g. ws://127.0.0.1:7070, or wss://host:port for TLS (its HTTP API
    /// is the same address over http(s)://). Without it, the console starts an embedded
    /// simulator and scripting commands use ws://127.0.0.1:7070.
    #[arg(long, env = "OPSDECK_URL")]
    pub url: Option<String>,
    /// PEM file of CA certificates to trust for wss://, in addition to the system roots.
    #[arg(long, value_name = "FILE", env = "OPSDECK_CA_CERT")]
    pub ca_cert: Option<std::path::PathBuf>,
    /// Read the gateway token from FILE (its first line). Or set OPSDECK_TOKEN, or use
    /// --token-command; a token is never a flag's value, which `ps` would show.
    #[arg(
        long,
        value_name = "FILE",
        env = "OPSDECK_TOKEN_FILE",
        conflicts_with = "token_command"
    )]
    pub token_file: Option<std::path::PathBuf>,
    /// Run CMD with `sh -c` and use the first line it prints as the gateway token, e.g.
    /// 'pass show opsdeck/prod'.
    #[arg(long, value_name = "CMD", env = "OPSDECK_TOKEN_COMMAND")]
    pub token_command: Option<String>,
    /// The gateway is production: PRODUCTION shows in the header, and every scale and rollback
    /// is confirmed by typing the app id (a script must name its context). OPSDECK_PRODUCTION
    /// takes true/false, 1/0, yes/no.
    #[arg(
        long,
        env = "OPSDECK_PRODUCTION",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub production: bool,
    /// The ids of the options given as flags, not by their variable, anywhere on the command
    /// line (main fills it from clap's matches), so that `config::console::Given` names where
    /// each value came from.
    #[arg(skip)]
    pub flags: Vec<String>,
}

impl ConnectionArgs {
    /// These settings (a subcommand's) over `outer`'s (the same options given before the
    /// subcommand: `opsdeck --url X apps`). A flag wins over the environment wherever it was
    /// written; both copies read the environment, so a value equal to it came from it.
    pub fn or(&self, outer: &ConnectionArgs) -> ConnectionArgs {
        ConnectionArgs {
            config: self.config.clone().or_else(|| outer.config.clone()),
            context: self.context.clone().or_else(|| outer.context.clone()),
            url: pick(&self.url, &outer.url, "OPSDECK_URL"),
            ca_cert: pick(&self.ca_cert, &outer.ca_cert, "OPSDECK_CA_CERT"),
            token_file: pick(&self.token_file, &outer.token_file, "OPSDECK_TOKEN_FILE"),
            token_command: pick(
                &self.token_command,
                &outer.token_command,
                "OPSDECK_TOKEN_COMMAND",
            ),
            production: self.production || outer.production,
            flags: [self.flags.as_slice(), outer.flags.as_slice()].concat(),
        }
    }
}

/// `inner` if it was given as a flag, else `outer` (a flag or the environment), else `inner`.
fn pick<T: Clone + AsRef<std::ffi::OsStr>>(
    inner: &Option<T>,
    outer: &Option<T>,
    env: &str,
) -> Option<T> {
    let from_env = |v: &T| std::env::var_os(env).is_some_and(|e| e.as_os_str() == v.as_ref());
    match inner {
        Some(v) if !from_env(v) => inner.clone(),
        _ => outer.clone().or_else(|| inner.clone()),
    }
}

/// How the console looks and behaves (top level, and `opsdeck demo`).
#[derive(Args, Debug, Clone)]
pub struct ViewArgs {
    /// Remove every action from the keymap. OPSDECK_READONLY takes true/false, 1/0, yes/no.
    #[arg(
        long,
        env = "OPSDECK_READONLY",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub readonly: bool,
    /// Capture the mouse: the wheel scrolls, a click on an app selects it, a second opens it.
    /// Off by default, so the terminal's own text selection keeps working.
    #[arg(
        long,
        env = "OPSDECK_MOUSE",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub mouse: bool,
    /// Theme name (dark, light, high-contrast, colorblind) or a path to a theme file.
    #[arg(long, env = "OPSDECK_THEME")]
    pub theme: Option<String>,
    /// Log lines the console holds for the Logs view; older ones fall off (and are counted).
    #[arg(long, env = "OPSDECK_LOG_BUFFER", default_value_t = crate::app::logs::DEFAULT_CAPACITY)]
    pub log_buffer: usize,
}

impl Default for ViewArgs {
    fn default() -> ViewArgs {
        ViewArgs {
            readonly: false,
            mouse: false,
            theme: None,
            log_buffer: crate::app::logs::DEFAULT_CAPACITY,
        }
    }
}

impl ViewArgs {
    /// These settings with `outer`'s switches added (`opsdeck --mouse demo`), and its theme and
    /// log buffer when these were not given as flags (a flag wins over the variable wherever
    /// it was written).
    pub fn or(&self, outer: &ViewArgs) -> ViewArgs {
        ViewArgs {
            readonly: self.readonly || outer.readonly,
            mouse: self.mouse || outer.mouse,
            theme: pick(&self.theme, &outer.theme, "OPSDECK_THEME"),
            // A size the command's own copy read from the variable does not beat a flag
            // before the command.
            log_buffer: {
                let from_env = std::env::var("OPSDECK_LOG_BUFFER")
                    .ok()
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    == Some(self.log_buffer);
                if self.log_buffer == crate::app::logs::DEFAULT_CAPACITY || from_env {
                    outer.log_buffer
                } else {
                    self.log_buffer
                }
            },
        }
    }
}

/// `opsdeck demo`: the simulator to start and the console's looks.
#[derive(Args, Debug, Clone, Default)]
pub struct DemoArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    #[command(flatten)]
    pub view: ViewArgs,
    /// Show the console as on a production gateway (header, typed-name confirmations).
    #[arg(
        long,
        env = "OPSDECK_PRODUCTION",
        action = clap::ArgAction::SetTrue,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub production: bool,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the gateway: HTTP/JSON API and WebSocket stream in front of a platform.
    Serve(Box<ServeArgs>),
    /// Open the console on an embedded simulator, optionally with an incident running.
    Demo(DemoArgs),
    /// Check an audit file's hash chain (verify), or print an incident timeline from a gateway
    /// (export).
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Make gateway tokens: `opsdeck token new --name li.wei --role operator`.
    #[command(subcommand)]
    Token(TokenCommand),
    /// List the config file's contexts (the one in use marked *); `ctx use NAME` switches.
    Ctx(CtxArgs),
    /// The console's config file: `config show` (what is in effect, and from where),
    /// `config init` (write the commented example).
    #[command(subcommand)]
    Config(ConfigCommand),
    #[command(flatten)]
    Scripting(commands::Scripting),
    /// Regenerate the screenshots (SVG, one per view) from the simulator with a fixed seed.
    Screenshots {
        /// Folder to write into.
        #[arg(long, default_value = "screenshots")]
        out: std::path::PathBuf,
        #[arg(long, default_value_t = 42)]
        seed: u64,
    },
}

#[derive(Args, Debug, Clone)]
pub struct ServeArgs {
    /// The gateway's config file: a key for every flag here; a flag (or its variable) wins
    /// over the file (docs/configuration.md).
    #[arg(long, value_name = "FILE")]
    pub config: Option<std::path::PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:7070", env = "OPSDECK_LISTEN")]
    pub listen: std::net::SocketAddr,
    /// Serve the simulated mini-program cloud (the default).
    #[arg(long, conflicts_with_all = ["load_rate", "platform"])]
    pub sim: bool,
    /// The platform behind the gateway: `sim` (the embedded simulator) or `kubernetes` (a real
    /// cluster, through a kubeconfig or the pod's service account); see docs/platforms.md.
    #[arg(long, default_value = "sim", value_parser = ["sim", "kubernetes"], env = "OPSDECK_PLATFORM")]
    pub platform: String,
    /// With `--platform kubernetes`: the kubeconfig file (default: $KUBECONFIG, ~/.kube/config,
    /// else the in-cluster service account).
    #[arg(long, value_name = "FILE")]
    pub kubeconfig: Option<std::path::PathBuf>,
    /// With `--platform kubernetes`: the kubeconfig context (default: its current context).
    #[arg(long, value_name = "NAME")]
    pub kube_context: Option<String>,
    /// With `--platform kubernetes`: a namespace whose labelled Deployments are apps; repeat for
    /// more. Default: the context's namespace.
    #[arg(
        long = "namespace",
        value_name = "NS",
        env = "OPSDECK_NAMESPACES",
        value_delimiter = ','
    )]
    pub namespaces: Vec<String>,
    /// With `--platform kubernetes`: the label that makes a Deployment an app (its value is the
    /// app id).
    #[arg(long, default_value = "opsdeck.io/app", value_name = "LABEL")]
    pub kube_app_label: String,
    /// With `--platform kubernetes`: fewest replicas of an app whose Deployment has no
    /// `opsdeck.io/min-replicas` annotation (and no HPA).
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub kube_min_replicas: u32,
    /// With `--platform kubernetes`: most replicas of an app whose Deployment has no
    /// `opsdeck.io/max-replicas` annotation (and no HPA).
    #[arg(long, default_value_t = 50, value_name = "N")]
    pub kube_max_replicas: u32,
    /// With `--platform kubernetes`: scaling an app that a HorizontalPodAutoscaler manages sets
    /// the HPA's minReplicas to the count (and maxReplicas at least to it) instead of the
    /// Deployment's replicas, which the HPA would override (without it: a warning).
    #[arg(long)]
    pub kube_scale_hpa: bool,
    /// Serve a synthetic firehose of N events/s instead of the simulator (for benchmarks).
    #[arg(long, value_name = "N")]
    pub load_rate: Option<u64>,
    #[command(flatten)]
    pub sim_args: SimArgs,
    /// Events kept per topic for resume (100k covers a 60 s outage at over 1,500 lines/s).
    #[arg(long, default_value_t = 100_000)]
    pub replay_buffer: usize,
    /// Events a client may lag per topic before it gets coalesced metrics and `dropped` notices.
    #[arg(long, default_value_t = 8_192)]
    pub client_lag_limit: usize,
    /// Largest client frame accepted, in bytes.
    #[arg(long, default_value_t = 1 << 20)]
    pub max_frame_bytes: usize,
    /// Seconds between heartbeat pings.
    #[arg(long, default_value_t = 15)]
    pub heartbeat_secs: u64,
    /// Stream connections served at once; more are refused with 503.
    #[arg(long, default_value_t = 10_000)]
    pub max_clients: usize,
    /// Actions one actor may start per minute; more get 429.
    #[arg(long, default_value_t = 60)]
    pub actions_per_minute: u32,
    /// A folder of runbooks (*.toml), loaded after the shipped ones; repeat for more folders.
    /// Default: ./runbooks when it exists.
    #[arg(long = "runbooks", value_name = "DIR")]
    pub runbooks: Vec<std::path::PathBuf>,
    /// Folder of the run journal (runs.jsonl). Default: $XDG_STATE_HOME/opsdeck.
    #[arg(
        long,
        value_name = "DIR",
        env = "OPSDECK_DATA_DIR",
        conflicts_with = "no_journal"
    )]
    pub data_dir: Option<std::path::PathBuf>,
    /// Keep runs and the audit trail in memory only: they do not survive a restart.
    #[arg(long)]
    pub no_journal: bool,
    /// Serve https and wss with this PEM certificate (chain); reloaded on SIGHUP or when the
    /// file changes.
    #[arg(
        long,
        value_name = "FILE",
        env = "OPSDECK_TLS_CERT",
        requires = "tls_key"
    )]
    pub tls_cert: Option<std::path::PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(
        long,
        value_name = "FILE",
        env = "OPSDECK_TLS_KEY",
        requires = "tls_cert"
    )]
    pub tls_key: Option<std::path::PathBuf>,
    /// Listen on a non-loopback address without TLS and tokens anyway (warned at start and in
    /// /healthz).
    #[arg(long)]
    pub insecure_listen: bool,
    /// Read live metrics from this Prometheus (e.g. http://127.0.0.1:9090) instead of the
    /// platform's own samples; see docs/platforms.md.
    #[arg(long, value_name = "URL", env = "OPSDECK_PROMETHEUS")]
    pub prometheus: Option<String>,
    /// Seconds between two rounds of Prometheus queries.
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    pub prometheus_interval: u64,
    /// The PromQL templates: `opsdeck` (apps as an opsdeck gateway's /metrics exports them),
    /// `kubernetes` (http_requests_total, cAdvisor, kube-state-metrics), or a TOML file that
    /// starts from one and replaces queries for every app or one (docs/platforms.md).
    #[arg(long, default_value = "opsdeck", value_name = "PRESET|FILE")]
    pub prometheus_queries: String,
    /// Filled into `{{namespace}}` in the queries (over the queries file's; default `default`).
    #[arg(long, value_name = "NS")]
    pub prometheus_namespace: Option<String>,
    /// Read alerts from this Alertmanager (e.g. http://127.0.0.1:9093) instead of the
    /// platform's own, and take its webhook on /v1/hooks/alertmanager; see docs/platforms.md.
    #[arg(long, value_name = "URL", env = "OPSDECK_ALERTMANAGER")]
    pub alertmanager: Option<String>,
    /// Seconds between two reads of Alertmanager's alerts.
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    pub alertmanager_interval: u64,
    /// The Alertmanager label holding an alert's severity (P0–P3, or critical/high/warning/info).
    #[arg(long, default_value = "severity", value_name = "LABEL")]
    pub severity_label: String,
    /// The Alertmanager label holding the id of the runbook that handles an alert.
    #[arg(long, default_value = "runbook", value_name = "LABEL")]
    pub runbook_label: String,
    /// The Alertmanager label naming an alert's app.
    #[arg(long, default_value = "app", value_name = "LABEL")]
    pub app_label: String,
    /// When the audit file's hash chain is broken, rename it aside and start a new chain (its
    /// first record says so) instead of refusing to start.
    #[arg(long)]
    pub audit_new_chain: bool,
    /// Accept only the bearer tokens in FILE (TOML, `[[token]]` entries of name, role and
    /// sha256; `opsdeck token new` makes them). Without it, nothing is checked and every
    /// caller has every right.
    #[arg(long, value_name = "FILE", env = "OPSDECK_TOKENS_FILE")]
    pub tokens: Option<std::path::PathBuf>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use clap::{CommandFactory, Parser};

    use super::{Cli, Command};

    #[test]
    fn readonly_and_mouse_are_console_flags_off_by_default() {
        let off = Cli::try_parse_from(["opsdeck"]).unwrap();
        assert!(!off.console.view.readonly && !off.console.view.mouse);
        let on = Cli::try_parse_from(["opsdeck", "demo", "--readonly", "--mouse"]).unwrap();
        let Some(Command::Demo(demo)) = on.command else {
            panic!("demo");
        };
        assert!(demo.view.readonly && demo.view.mouse);
        let before = Cli::try_parse_from(["opsdeck", "--mouse", "demo"]).unwrap();
        assert!(before.console.view.mouse);
    }

    #[test]
    fn production_is_a_console_flag_off_by_default() {
        let off = Cli::try_parse_from(["opsdeck", "--url", "ws://gw:7070"]).unwrap();
        assert!(!off.console.connection.production);
        let on = Cli::try_parse_from(["opsdeck", "--url", "ws://gw:7070", "--production"]).unwrap();
        assert!(on.console.connection.production);
        let demo = Cli::try_parse_from(["opsdeck", "demo", "--production"]).unwrap();
        assert!(matches!(demo.command, Some(Command::Demo(d)) if d.production));
    }

    #[test]
    fn serve_takes_only_the_gateways_options() {
        let mut cli = Cli::command();
        let serve = cli.find_subcommand_mut("serve").unwrap();
        let help = serve.render_long_help().to_string();
        for console_only in [
            "--mouse",
            "--theme",
            "--readonly",
            "--url",
            "--token-file",
            "--log-buffer",
        ] {
            assert!(
                !help.contains(console_only),
                "serve --help lists {console_only}"
            );
        }
        assert!(Cli::try_parse_from(["opsdeck", "serve", "--mouse"]).is_err());
        assert!(help.contains("--listen"));
    }

    #[test]
    fn connection_options_go_before_or_after_a_command() {
        let before = Cli::try_parse_from(["opsdeck", "--url", "ws://a:1", "apps"]).unwrap();
        let after = Cli::try_parse_from(["opsdeck", "apps", "--url", "ws://a:1"]).unwrap();
        assert_eq!(before.console.connection.url.as_deref(), Some("ws://a:1"));
        assert!(matches!(after.command, Some(Command::Scripting(_))));
    }

    #[test]
    fn serve_takes_a_platform_and_namespaces_and_keeps_the_simulator_the_default() {
        let serve = |args: &[&str]| {
            let cli = Cli::try_parse_from([&["opsdeck", "serve"], args].concat())?;
            match cli.command {
                Some(super::Command::Serve(args)) => Ok::<_, clap::Error>(*args),
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(serve(&[]).unwrap().platform, "sim");
        let kube = serve(&[
            "--platform",
            "kubernetes",
            "--namespace",
            "a",
            "--namespace",
            "b,c",
        ])
        .unwrap();
        assert_eq!(kube.platform, "kubernetes");
        assert_eq!(kube.namespaces, ["a", "b", "c"]);
        assert_eq!(kube.kube_app_label, "opsdeck.io/app");
        assert!(serve(&["--platform", "openshift"]).is_err());
        assert!(serve(&["--sim", "--platform", "kubernetes"]).is_err());
    }
}
