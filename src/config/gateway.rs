//! The gateway's configuration file: `opsdeck serve --config gateway.toml`.
//!
//! Every flag of `serve` has a key of the same name (`--replay-buffer 5000` is
//! `replay-buffer = 5000`); a flag, or its environment variable, wins over the file, and the
//! file over the built-in default. `docs/gateway.example.toml` is a complete example. A file
//! with a problem stops the gateway before it listens, naming the file, line, key and what is
//! wrong; an unknown key is such a problem, so a typo never silently leaves a default in place.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::ArgMatches;
use serde::Deserialize;

use super::provenance::set_by_user;
use super::{FileError, Source, expand_path};
use crate::cli::ServeArgs;

/// The complete, commented example (docs/configuration.md shows it; a test keeps them equal).
pub const EXAMPLE: &str = include_str!("../../docs/gateway.example.toml");

/// The file's keys: `serve`'s flags without the `--`.
#[derive(Deserialize, Debug, Default, Clone, PartialEq)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct GatewayFile {
    pub listen: Option<SocketAddr>,
    pub insecure_listen: Option<bool>,
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    pub tokens: Option<PathBuf>,
    pub sim: Option<bool>,
    pub platform: Option<String>,
    pub kubeconfig: Option<PathBuf>,
    pub kube_context: Option<String>,
    /// `--namespace`, repeated: a list here.
    pub namespace: Option<Vec<String>>,
    pub kube_app_label: Option<String>,
    pub kube_min_replicas: Option<u32>,
    pub kube_max_replicas: Option<u32>,
    pub kube_scale_hpa: Option<bool>,
    pub scenario: Option<String>,
    pub seed: Option<u64>,
    pub speed: Option<f64>,
    pub load_rate: Option<u64>,
    pub prometheus: Option<String>,
    pub prometheus_interval: Option<u64>,
    pub prometheus_queries: Option<String>,
    pub prometheus_namespace: Option<String>,
    pub alertmanager: Option<String>,
    pub alertmanager_interval: Option<u64>,
    pub severity_label: Option<String>,
    pub runbook_label: Option<String>,
    pub app_label: Option<String>,
    pub runbooks: Option<Vec<PathBuf>>,
    pub replay_buffer: Option<usize>,
    pub client_lag_limit: Option<usize>,
    pub max_frame_bytes: Option<usize>,
    pub heartbeat_secs: Option<u64>,
    pub max_clients: Option<usize>,
    pub actions_per_minute: Option<u32>,
    pub data_dir: Option<PathBuf>,
    pub no_journal: Option<bool>,
    pub audit_new_chain: Option<bool>,
}

impl GatewayFile {
    /// Read and check the file at `path`.
    pub fn load(path: &Path) -> Result<GatewayFile, FileError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Source::whole(path, format!("cannot read it: {e}")))?;
        GatewayFile::parse(path, &text)
    }

    /// Check `text`, the content of `path`. Paths in it are taken from the file's folder.
    pub fn parse(path: &Path, text: &str) -> Result<GatewayFile, FileError> {
        let src = Source { file: path, text };
        let mut file: GatewayFile = toml::from_str(text).map_err(|e| src.toml_error(&e))?;
        file.check(&src)?;
        let base = path.parent();
        let expand = |p: &mut Option<PathBuf>| {
            if let Some(path) = p.as_mut() {
                *path = expand_path(path, base);
            }
        };
        expand(&mut file.tls_cert);
        expand(&mut file.tls_key);
        expand(&mut file.tokens);
        expand(&mut file.data_dir);
        if let Some(dirs) = file.runbooks.as_mut() {
            for dir in dirs.iter_mut() {
                *dir = expand_path(dir, base);
            }
        }
        Ok(file)
    }

    fn check(&self, src: &Source) -> Result<(), FileError> {
        if let Some(scenario) = &self.scenario
            && !crate::platform::sim::SCENARIOS.contains(&scenario.as_str())
        {
            return Err(src.at_key(
                "scenario",
                format!(
                    "no scenario {scenario:?}; scenarios: {}",
                    crate::platform::sim::SCENARIOS.join(", ")
                ),
            ));
        }
        if let Some(speed) = self.speed {
            crate::cli::parse_speed(&speed.to_string()).map_err(|e| src.at_key("speed", e))?;
        }
        if let Some(platform) = &self.platform
            && !["sim", "kubernetes"].contains(&platform.as_str())
        {
            return Err(src.at_key(
                "platform",
                format!("no platform {platform:?}: give sim or kubernetes"),
            ));
        }
        if let Some(set) = &self.prometheus_queries {
            // A preset, or a queries file whose own mistakes are named with its line.
            crate::platform::prometheus::Queries::from_setting(set, None)
                .map_err(|e| src.at_key("prometheus-queries", e))?;
        }
        for (key, url) in [
            ("prometheus", &self.prometheus),
            ("alertmanager", &self.alertmanager),
        ] {
            if let Some(url) = url
                && !(url.starts_with("http://") || url.starts_with("https://"))
            {
                return Err(src.at_key(
                    key,
                    format!("{url:?}: give the server's http:// or https:// address"),
                ));
            }
        }
        for (key, secs) in [
            ("heartbeat-secs", self.heartbeat_secs),
            ("prometheus-interval", self.prometheus_interval),
            ("alertmanager-interval", self.alertmanager_interval),
        ] {
            if secs == Some(0) {
                return Err(src.at_key(key, "must be at least 1 second"));
            }
        }
        for (key, size) in [
            ("replay-buffer", self.replay_buffer),
            ("client-lag-limit", self.client_lag_limit),
            ("max-frame-bytes", self.max_frame_bytes),
            ("max-clients", self.max_clients),
        ] {
            if size == Some(0) {
                return Err(src.at_key(key, "must be at least 1"));
            }
        }
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) => return Err(src.at_key("tls-cert", "give tls-key with it")),
            (None, Some(_)) => return Err(src.at_key("tls-key", "give tls-cert with it")),
            _ => {}
        }
        if self.sim == Some(true) && self.load_rate.is_some() {
            return Err(src.at_key(
                "load-rate",
                "serves the load generator, but sim = true asks for the simulator: keep one",
            ));
        }
        if self.no_journal == Some(true) && self.data_dir.is_some() {
            return Err(src.at_key(
                "no-journal",
                "keeps nothing on disk, but data-dir names where to keep it: keep one",
            ));
        }
        Ok(())
    }

    /// Fill `args` from the file wherever `matches` (the `serve` subcommand's) shows no flag
    /// or variable gave a value.
    pub fn apply(self, args: &mut ServeArgs, matches: &ArgMatches) {
        let free = |id: &str| !set_by_user(matches, id);
        macro_rules! set {
            ($field:ident) => {
                if let Some(v) = self.$field
                    && free(stringify!($field))
                {
                    args.$field = v;
                }
            };
            (some $field:ident) => {
                if let Some(v) = self.$field
                    && free(stringify!($field))
                {
                    args.$field = Some(v);
                }
            };
            (sim $field:ident) => {
                if let Some(v) = self.$field
                    && free(stringify!($field))
                {
                    args.sim_args.$field = v;
                }
            };
        }
        set!(listen);
        set!(insecure_listen);
        set!(some tls_cert);
        set!(some tls_key);
        set!(some tokens);
        set!(sim);
        if let Some(v) = self.scenario
            && free("scenario")
        {
            args.sim_args.scenario = Some(v);
        }
        set!(platform);
        set!(some kubeconfig);
        set!(some kube_context);
        if let Some(v) = self.namespace
            && free("namespaces")
        {
            args.namespaces = v;
        }
        set!(kube_app_label);
        set!(kube_min_replicas);
        set!(kube_max_replicas);
        set!(kube_scale_hpa);
        set!(sim seed);
        set!(sim speed);
        set!(some load_rate);
        set!(some prometheus);
        set!(prometheus_interval);
        set!(prometheus_queries);
        set!(some prometheus_namespace);
        set!(some alertmanager);
        set!(alertmanager_interval);
        set!(severity_label);
        set!(runbook_label);
        set!(app_label);
        set!(runbooks);
        set!(replay_buffer);
        set!(client_lag_limit);
        set!(max_frame_bytes);
        set!(heartbeat_secs);
        set!(max_clients);
        set!(actions_per_minute);
        set!(some data_dir);
        set!(no_journal);
        set!(audit_new_chain);
        // A flag's choice of platform or journal overrides the file's other choice.
        if !free("load_rate") {
            args.sim = false;
        }
        if args.sim && free("load_rate") && !free("sim") {
            args.load_rate = None;
        }
        if !free("data_dir") {
            args.no_journal = false;
        }
        if !free("no_journal") && free("data_dir") {
            args.data_dir = None;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use clap::{CommandFactory, FromArgMatches};

    use super::*;
    use crate::cli::{Cli, Command};

    fn parse(text: &str) -> Result<GatewayFile, String> {
        GatewayFile::parse(Path::new("/etc/opsdeck/gateway.toml"), text).map_err(|e| e.to_string())
    }

    /// `serve ARGS` over `file`, as `opsdeck serve --config` applies it.
    fn serve(args: &[&str], file: &str) -> ServeArgs {
        let argv = std::iter::once("opsdeck")
            .chain(std::iter::once("serve"))
            .chain(args.iter().copied());
        let matches = Cli::command().try_get_matches_from(argv).unwrap();
        let cli = Cli::from_arg_matches(&matches).unwrap();
        let Some(Command::Serve(mut serve)) = cli.command else {
            panic!("not serve")
        };
        let sub = matches.subcommand_matches("serve").unwrap();
        parse(file).unwrap().apply(&mut serve, sub);
        *serve
    }

    #[test]
    fn the_example_is_a_valid_file() {
        parse(EXAMPLE).unwrap();
    }

    #[test]
    fn a_flag_wins_over_the_file_and_the_file_over_the_default() {
        let file = "replay-buffer = 500\nmax-clients = 7\nlisten = \"127.0.0.1:7171\"\n\
                    runbooks = [\"books\"]\nscenario = \"flash-sale\"\n";
        let args = serve(&["--replay-buffer", "9"], file);
        assert_eq!(args.replay_buffer, 9);
        assert_eq!(args.max_clients, 7);
        assert_eq!(args.listen.to_string(), "127.0.0.1:7171");
        assert_eq!(args.runbooks, vec![PathBuf::from("/etc/opsdeck/books")]);
        assert_eq!(args.sim_args.scenario.as_deref(), Some("flash-sale"));
        assert_eq!(args.heartbeat_secs, 15, "neither: the default");
        let args = serve(&["--no-journal"], "data-dir = \"/var/lib/opsdeck\"\n");
        assert!(args.no_journal && args.data_dir.is_none());
    }

    #[test]
    fn every_flag_of_serve_has_a_key() {
        // `key = value` lines, commented out or not.
        let lines: Vec<&str> = EXAMPLE
            .lines()
            .map(|l| l.trim_start_matches("# "))
            .filter(|l| l.contains(" = ") && !l.starts_with('#'))
            .collect();
        let cmd = Cli::command();
        let serve = cmd.find_subcommand("serve").unwrap();
        for arg in serve.get_arguments() {
            let Some(long) = arg.get_long() else { continue };
            if arg.is_global_set() || ["help", "config"].contains(&long) {
                continue;
            }
            let line = lines
                .iter()
                .find(|l| l.starts_with(&format!("{long} = ")))
                .unwrap_or_else(|| panic!("--{long} has no key in docs/gateway.example.toml"));
            // The pair of TLS files is checked together, in the rules below.
            if !long.starts_with("tls-") {
                parse(line).unwrap();
            }
        }
    }

    const F: &str = "/etc/opsdeck/gateway.toml";

    /// One test per rule: a file's text, and the start of the message it must give (the
    /// rest, where there is any, is toml's own wording).
    macro_rules! invalid {
        ($($rule:ident: $text:expr => $want:expr;)*) => {$(
            #[test]
            fn $rule() {
                let err = parse($text).unwrap_err();
                let want: String = $want;
                assert!(err.starts_with(&want), "got:    {err}\nwanted: {want}");
            }
        )*};
    }

    invalid! {
        not_toml: "listen = \"127.0.0.1:7070\n" => format!("{F}:1: key `listen`: ");
        unknown_key: "listen = \"127.0.0.1:7070\"\nreplay-bufer = 5\n" =>
            format!("{F}:2: key `replay-bufer`: unknown key `replay-bufer`; did you mean `replay-buffer`?");
        wrong_type: "max-clients = \"lots\"\n" =>
            format!("{F}:1: key `max-clients`: invalid type: string \"lots\", expected usize");
        bad_address: "listen = \"gateway\"\n" =>
            format!("{F}:1: key `listen`: invalid socket address syntax");
        unknown_scenario: "scenario = \"fire\"\n" => format!(
            "{F}:1: key `scenario`: no scenario \"fire\"; scenarios: {}",
            crate::platform::sim::SCENARIOS.join(", ")
        );
        speed_out_of_range: "speed = 0.0\n" =>
            format!("{F}:1: key `speed`: speed must be a number above 0 and at most 100000, got \"0\"");
        unknown_query_set: "prometheus-queries = \"k8s\"\n" =>
            format!("{F}:1: key `prometheus-queries`: --prometheus-queries k8s: not a preset (opsdeck, kubernetes) and not a readable file: No such file or directory (os error 2)");
        unknown_platform: "platform = \"openshift\"\n" =>
            format!("{F}:1: key `platform`: no platform \"openshift\": give sim or kubernetes");
        url_not_http: "alertmanager = \"am:9093\"\n" =>
            format!("{F}:1: key `alertmanager`: \"am:9093\": give the server's http:// or https:// address");
        interval_of_zero: "heartbeat-secs = 0\n" =>
            format!("{F}:1: key `heartbeat-secs`: must be at least 1 second");
        size_of_zero: "max-clients = 0\n" => format!("{F}:1: key `max-clients`: must be at least 1");
        tls_cert_without_key: "tls-cert = \"cert.pem\"\n" =>
            format!("{F}:1: key `tls-cert`: give tls-key with it");
        tls_key_without_cert: "tls-key = \"key.pem\"\n" =>
            format!("{F}:1: key `tls-key`: give tls-cert with it");
        sim_and_load_rate: "sim = true\nload-rate = 100\n" => format!(
            "{F}:2: key `load-rate`: serves the load generator, but sim = true asks for the \
             simulator: keep one"
        );
        data_dir_and_no_journal: "data-dir = \"d\"\nno-journal = true\n" => format!(
            "{F}:2: key `no-journal`: keeps nothing on disk, but data-dir names where to keep \
             it: keep one"
        );
    }

    #[test]
    fn a_file_that_cannot_be_read_says_so() {
        let missing = GatewayFile::load(Path::new("/nonexistent/gateway.toml")).unwrap_err();
        assert!(
            missing
                .to_string()
                .starts_with("/nonexistent/gateway.toml: cannot read it:"),
            "{missing}"
        );
    }
}
