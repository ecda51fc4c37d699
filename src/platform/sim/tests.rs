//! Behaviour of the whole simulator: scenarios, operator remedies, determinism, bounds.

#![allow(clippy::unwrap_used)]

use chrono::{TimeZone, Utc};

use super::{Sim, SimConfig};
use crate::platform::{ActionRequest, Emission};
use crate::protocol::{Alert, Body};

fn config(seed: u64, scenario: Option<&str>) -> SimConfig {
    SimConfig {
        seed,
        speed: 1.0,
        scenario: scenario.map(str::to_string),
        // 20:00 in Shanghai: near the evening peak.
        start: Utc.with_ymd_and_hms(2025, 11, 11, 12, 0, 0).unwrap(),
    }
}

fn request(id: &str) -> ActionRequest {
    ActionRequest {
        id: id.to_string(),
        actor: "alice".to_string(),
    }
}

fn run(sim: &mut Sim, secs: u32) -> Vec<Emission> {
    (0..secs).flat_map(|_| sim.step()).collect()
}

fn alerts(emissions: &[Emission]) -> Vec<Alert> {
    emissions
        .iter()
        .filter_map(|e| match &e.body {
            Body::Alerts(a) => Some(a.clone()),
            _ => None,
        })
        .collect()
}

#[test]
#[ignore]
fn explore() {
    for scenario in super::SCENARIOS {
        let mut sim = Sim::new(&config(42, Some(scenario)));
        println!("== {scenario}");
        for minute in 0..12 {
            let out = run(&mut sim, 60);
            for a in alerts(&out) {
                println!("  {minute}m {} {} {:?} {:?} {:?} {}", a.id, a.rule, a.state, a.severity, a.runbook, a.summary);
            }
            let logs = out.iter().filter(|e| matches!(e.body, Body::Logs(_))).count();
            let mut line = format!("  {minute}m logs/s {:.1} |", logs as f64 / 60.0);
            for app in sim.apps() {
                let m = app.metrics.unwrap();
                line += &format!(" {} rps{:.0} p99 {:.0} err {:.3} cpu {:.2} r{}/{} {} |", app.id, m.rps, m.latency_ms.p99, m.error_ratio, m.cpu, m.replicas_ready, m.replicas_desired, app.status.as_str());
            }
            println!("{line}");
        }
    }
}
