//! Real components (Prometheus, Alertmanager) as plain processes on free 127.0.0.1 ports, with
//! temporary data dirs, stopped (killed by PID) when dropped. The binaries come from Debian's
//! packages, which `.ci/run` installs: under `CI=true` a missing binary fails the test; on a
//! developer's machine without them the test says so and passes over.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::pty::TempDir;
use super::wait::poll_until;

/// A real server process, killed on drop.
pub struct RealProcess {
    pub url: String,
    pub addr: SocketAddr,
    child: Child,
    _dir: TempDir,
}

impl Drop for RealProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl RealProcess {
    /// Kill it now (the test's way of taking the component down).
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The path of `name` on PATH; `None` (with a word on stderr) when it is missing outside CI.
pub fn binary(name: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(name))
            .find(|p| p.is_file())
    });
    if found.is_none() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "{name} is not installed: .ci/run installs it from Debian's packages"
        );
        eprintln!("{name} is not installed here: this test needs it (apt-get install {name})");
    }
    found
}

/// A free port on 127.0.0.1 (bound, then released for the process to take).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Prometheus on `port` scraping `targets`' `/metrics` every second.
pub async fn prometheus(port: u16, targets: &[SocketAddr]) -> Option<RealProcess> {
    let bin = binary("prometheus")?;
    let dir = TempDir::new("prometheus");
    let config = format!("{}{}", PROMETHEUS_GLOBAL, scrape_configs(targets));
    Some(
        start_ready(
            "Prometheus",
            bin,
            dir,
            "prometheus.yml",
            &config,
            port,
            "--storage.tsdb.path",
            &[],
        )
        .await,
    )
}

/// Alertmanager on `port`, sending every alert at once (and its resolution) to `webhook`.
pub async fn alertmanager(port: u16, webhook: &str) -> Option<RealProcess> {
    let bin = binary("prometheus-alertmanager")?;
    let dir = TempDir::new("alertmanager");
    let config = format!(
        "route:\n  receiver: opsdeck\n  group_by: ['...']\n  group_wait: 0s\n  group_interval: 1s\n  repeat_interval: 1h\nreceivers:\n  - name: opsdeck\n    webhook_configs:\n      - url: '{webhook}'\n        send_resolved: true\n"
    );
    let extra = ["--cluster.listen-address="];
    Some(
        start_ready(
            "Alertmanager",
            bin,
            dir,
            "alertmanager.yml",
            &config,
            port,
            "--storage.path",
            &extra,
        )
        .await,
    )
}

/// Prometheus on `port` scraping `targets` every second, evaluating `rules` (a rule file's
/// YAML) every second and sending what fires to the Alertmanager at `alertmanager`.
pub async fn prometheus_alerting(
    port: u16,
    targets: &[SocketAddr],
    alertmanager: SocketAddr,
    rules: &str,
) -> Option<RealProcess> {
    let bin = binary("prometheus")?;
    let dir = TempDir::new("prometheus-alerting");
    let rules_file = dir.0.join("rules.yml");
    std::fs::write(&rules_file, rules).unwrap();
    let config = format!(
        "{PROMETHEUS_GLOBAL}rule_files: ['{}']\nalerting:\n  alertmanagers:\n    - static_configs:\n        - targets: ['{alertmanager}']\n{}",
        rules_file.display(),
        scrape_configs(targets)
    );
    Some(
        start_ready(
            "Prometheus",
            bin,
            dir,
            "prometheus.yml",
            &config,
            port,
            "--storage.tsdb.path",
            &[],
        )
        .await,
    )
}

/// Scrape and rule evaluation every second.
const PROMETHEUS_GLOBAL: &str = "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n";

/// A scrape job for `targets`' `/metrics`.
fn scrape_configs(targets: &[SocketAddr]) -> String {
    let list: Vec<String> = targets.iter().map(|t| format!("'{t}'")).collect();
    format!(
        "scrape_configs:\n  - job_name: opsdeck\n    static_configs:\n      - targets: [{}]\n",
        list.join(", ")
    )
}

/// Run `bin` with `config` (written to `config_name` in `dir`), its data under `dir` (given
/// with `data_flag`), `extra` flags and a web listener on 127.0.0.1:`port`; wait for `/-/ready`.
#[allow(clippy::too_many_arguments)]
async fn start_ready(
    what: &str,
    bin: PathBuf,
    dir: TempDir,
    config_name: &str,
    config: &str,
    port: u16,
    data_flag: &str,
    extra: &[&str],
) -> RealProcess {
    let config_file = dir.0.join(config_name);
    std::fs::write(&config_file, config).unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let child = Command::new(bin)
        .arg(format!("--config.file={}", config_file.display()))
        .arg(format!("{data_flag}={}", dir.0.join("data").display()))
        .arg(format!("--web.listen-address={addr}"))
        .args(extra)
        .arg("--log.level=warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let process = RealProcess {
        url: format!("http://{addr}"),
        addr,
        child,
        _dir: dir,
    };
    let ready = format!("{}/-/ready", process.url);
    poll_until(
        Duration::from_secs(30),
        &format!("{what} to be ready"),
        async || {
            let r = super::gateway::http().get(&ready).send().await.ok()?;
            r.status().is_success().then_some(())
        },
    )
    .await;
    process
}
