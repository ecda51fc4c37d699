//! The real `opsdeck` binary as a script runs it: no terminal, stdin closed, output captured.
//! A gateway for it runs on its own runtime ([`Served`]), so a test can block on the binary.
#![allow(dead_code, clippy::unwrap_used)]

use std::process::{Command, Stdio};
use std::sync::Arc;

use opsdeck::gateway::{GatewayConfig, Running};
use opsdeck::platform::sim::{SimConfig, SimPlatform};

/// A gateway on 127.0.0.1:0 over the simulator, served by a runtime of its own.
pub struct Served {
    pub rt: tokio::runtime::Runtime,
    pub gw: Running,
    /// `ws://127.0.0.1:PORT`, for `--url`.
    pub url: String,
}

impl Served {
    /// The simulator with `seed` at `speed` (and `scenario` started at once), behind a gateway
    /// with `config`.
    pub fn sim(seed: u64, speed: f64, scenario: Option<&str>, config: GatewayConfig) -> Served {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let sim = SimPlatform::new(SimConfig {
            seed,
            speed,
            scenario: scenario.map(str::to_string),
            ..SimConfig::default()
        });
        let gw = rt.block_on(super::gateway::start(config, Arc::new(sim)));
        let url = format!("ws://{}", gw.addr);
        Served { rt, gw, url }
    }

    /// The simulator with the default loopback configuration.
    pub fn default_sim(speed: f64) -> Served {
        Served::sim(7, speed, None, super::gateway::loopback_config())
    }

    /// GET `path` of this gateway, decoded.
    pub fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> T {
        self.rt.block_on(super::gateway::get_json(&self.gw, path))
    }

    pub fn stop(self) {
        let Served { rt, gw, .. } = self;
        rt.block_on(gw.stop());
    }
}

/// Wait up to `secs` seconds for `probe` to give something.
pub fn wait_for<T>(secs: u64, what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "waited {secs} s for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// What a run of the binary left.
#[derive(Debug)]
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Ran {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}\nstderr: {}", self.stdout, self.stderr))
    }
}

/// `opsdeck ARGS` with no terminal and an environment free of the operator's settings.
pub fn opsdeck(args: &[&str]) -> Ran {
    opsdeck_with(args, &[])
}

/// [`opsdeck`] with `env` set too.
pub fn opsdeck_with(args: &[&str], env: &[(&str, &str)]) -> Ran {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_opsdeck"));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars() {
        if name.starts_with("OPSDECK_") || name == "NO_COLOR" {
            cmd.env_remove(name);
        }
    }
    cmd.env("OPSDECK_USER", "cli.test");
    // Never the developer's own config file; a test names one when it wants one.
    cmd.env("OPSDECK_CONFIG", "/dev/null");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The shape of a JSON answer: every key kept, every value replaced by its type, a list by the
/// union of its items' shapes — what a script may rely on, without the values that change each
/// run (times, ids, numbers) or which item happens to come first.
pub fn shape(value: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::Null => Value::from("<null>"),
        Value::Bool(_) => Value::from("<bool>"),
        Value::Number(_) => Value::from("<number>"),
        Value::String(_) => Value::from("<string>"),
        Value::Array(items) => {
            let merged = items.iter().map(shape).reduce(merge);
            Value::Array(merged.into_iter().collect())
        }
        Value::Object(map) => {
            Value::Object(map.iter().map(|(k, v)| (k.clone(), shape(v))).collect())
        }
    }
}

fn merge(a: serde_json::Value, b: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(mut a), Value::Object(b)) => {
            for (k, v) in b {
                let merged = match a.remove(&k) {
                    Some(old) => merge(old, v),
                    None => v,
                };
                a.insert(k, merged);
            }
            Value::Object(a)
        }
        (Value::Array(a), Value::Array(b)) => {
            let merged = a.into_iter().chain(b).reduce(merge);
            Value::Array(merged.into_iter().collect())
        }
        (a, _) => a,
    }
}
