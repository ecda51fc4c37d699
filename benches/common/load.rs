//! The gateway the console benches stream from: `opsdeck serve --load-rate RATE` on loopback,
//! whose log lines begin `t=<unix ms>` of their emission.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// Start it with its state under `state`; returns the process and its `host:port`.
pub fn start(rate: u64, state: &Path) -> (Child, String) {
    let mut gateway = Command::new(env!("CARGO_BIN_EXE_opsdeck"))
        .args(["serve", "--listen", "127.0.0.1:0", "--no-journal"])
        .args(["--load-rate", &rate.to_string()])
        .env("OPSDECK_LOG", "warn")
        .env("XDG_STATE_HOME", state)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(gateway.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let addr = line.trim().rsplit("http://").next().unwrap().to_string();
    (gateway, addr)
}
