//! `opsdeck apps` and `opsdeck app ID`: GET /v1/apps and GET /v1/apps/{app}.

use std::fmt::Write as _;

use clap::Args;

use super::{ClientArgs, get, typed};
use crate::cli::ConnectionArgs;
use crate::cli::exit::CliResult;
use crate::cli::output::{Table, state};
use crate::protocol::{AppDetail, AppSummary};

#[derive(Args, Debug, Clone)]
pub struct List {
    #[command(flatten)]
    pub client: ClientArgs,
}

impl List {
    pub async fn run(self, top: &ConnectionArgs) -> CliResult {
        let (conn, out) = self.client.open(top)?;
        let value = get(&conn, &["v1", "apps"]).await?;
        out.print(&value, || {
            let apps: Vec<AppSummary> = typed(&value)?;
            let mut table = Table::new(&[
                "APP", "STATUS", "READY", "RELEASE", "VERSION", "RPS", "P99", "ERRORS", "REGION",
                "NAME",
            ]);
            for app in &apps {
                let m = app.metrics.as_ref();
                table.row(vec![
                    app.id.as_str().into(),
                    state(app.status.as_str()),
                    format!("{}/{}", app.replicas.ready, app.replicas.desired).into(),
                    app.release.as_str().into(),
                    app.version.as_str().into(),
                    m.map(|m| format!("{:.0}", m.rps))
                        .unwrap_or_default()
                        .into(),
                    m.map(|m| format!("{:.0} ms", m.latency_ms.p99))
                        .unwrap_or_default()
                        .into(),
                    m.map(|m| format!("{:.2}%", m.error_ratio * 100.0))
                        .unwrap_or_default()
                        .into(),
                    app.region.as_str().into(),
                    app.name.as_str().into(),
                ]);
            }
            Ok(table)
        })
    }
}

#[derive(Args, Debug, Clone)]
pub struct Show {
    /// The app's id, e.g. shop-cart.
    pub id: String,
    #[command(flatten)]
    pub client: ClientArgs,
}

impl Show {
    pub async fn run(self, top: &ConnectionArgs) -> CliResult {
        let (conn, out) = self.client.open(top)?;
        let value = get(&conn, &["v1", "apps", &self.id]).await?;
        out.print_text(&value, || {
            let app: AppDetail = typed(&value)?;
            let s = &app.summary;
            let mut text = String::new();
            let _ = writeln!(text, "app:      {} ({})", s.id, s.name);
            let _ = writeln!(text, "status:   {}", out.paint(s.status.as_str(), crate::cli::output::Tone::of_state(s.status.as_str())));
            let _ = writeln!(text, "region:   {}", s.region);
            let _ = writeln!(text, "release:  {} ({})", s.release, s.version);
            let _ = writeln!(
                text,
                "replicas: {} ready of {} desired (min {}, max {})",
                s.replicas.ready, s.replicas.desired, s.replicas.min, s.replicas.max
            );
            if let Some(m) = &s.metrics {
                let _ = writeln!(
                    text,
                    "metrics:  {:.0} rps, p99 {:.0} ms, errors {:.2}%, cpu {:.0}%, memory {:.0} MiB",
                    m.rps,
                    m.latency_ms.p99,
                    m.error_ratio * 100.0,
                    m.cpu * 100.0,
                    m.memory_mb
                );
            }
            text.push('\n');
            let mut pods = Table::new(&["POD", "STATE", "ZONE", "RESTARTS", "RELEASE", "STARTED"]);
            for pod in &app.pods {
                let pod_state = serde_json::to_value(pod.state)?;
                pods.row(vec![
                    pod.name.as_str().into(),
                    state(pod_state.as_str().unwrap_or("")),
                    pod.zone.as_str().into(),
                    pod.restarts.to_string().into(),
                    pod.release.as_str().into(),
                    super::time(&pod.started_at).into(),
                ]);
            }
            text.push_str(&pods.render(out.width, out.color));
            Ok(text)
        })
    }
}
