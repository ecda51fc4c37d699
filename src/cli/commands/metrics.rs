//! `opsdeck metrics ID [--window 5m] [--watch]`: an app's samples (GET
//! /v1/apps/{app}/metrics), then with `--watch` each new one from the `metrics` topic.

use std::collections::BTreeMap;
use std::time::Duration;

use clap::Args;
use serde_json::Value;

use super::{ClientArgs, typed};
use crate::cli::ConnectionArgs;
use crate::cli::exit::CliResult;
use crate::cli::follow;
use crate::cli::output::{Cell, Output, Table};
use crate::protocol::{Body, Filter, MetricSample, ServerMsg, TimedSample, Topic};

#[derive(Args, Debug, Clone)]
pub struct Metrics {
    /// The app's id.
    pub id: String,
    /// How far back (platform time): 30s, 5m, 1h; at most 1d.
    #[arg(long, default_value = "5m", value_parser = super::duration)]
    pub window: Duration,
    /// After the recent samples, print each new one until interrupted.
    #[arg(long)]
    pub watch: bool,
    #[command(flatten)]
    pub client: ClientArgs,
}

const HEADERS: [&str; 9] = [
    "TIME", "RPS", "P50", "P99", "ERRORS", "CPU", "MEMORY", "READY", "EXTRAS",
];

impl Metrics {
    pub async fn run(self, top: &ConnectionArgs) -> CliResult {
        let (conn, out) = self.client.open(top)?;
        super::check_apps(&conn, std::slice::from_ref(&self.id)).await?;
        let mut stream = None;
        if self.watch {
            let mut s = follow::open(&conn).await?;
            let filter = Filter {
                apps: Some(vec![self.id.clone()]),
                min_level: None,
            };
            s.subscribe(vec![Topic::Metrics], filter, BTreeMap::new())
                .await?;
            stream = Some(s);
        }
        let window = self.window.as_secs().to_string();
        let value: Value = conn
            .http
            .get_query(&["v1", "apps", &self.id, "metrics"], &[("window", window)])
            .await
            .map_err(|e| super::located(&conn, e))?;
        let Some(mut stream) = stream else {
            return out.print(&value, || {
                let samples: Vec<TimedSample> = typed(&value)?;
                let mut table = Table::new(&HEADERS);
                for s in &samples {
                    table.row(row(&s.ts, &s.sample));
                }
                Ok(table)
            });
        };
        let samples: Vec<TimedSample> = typed(&value)?;
        let Value::Array(values) = &value else {
            return Err(super::unexpected("metrics is not a list"));
        };
        let widths = widths();
        if out.format == crate::cli::output::Format::Table {
            crate::cli::output::emit(&header_line(&out, &widths))?;
        }
        for (s, v) in samples.iter().zip(values) {
            out.event(v, || line(&widths, &row(&s.ts, &s.sample)))?;
        }
        loop {
            if let ServerMsg::Events { events } = stream.next().await? {
                for event in events {
                    if let Body::Metrics(sample) = &event.body
                        && event.app == self.id
                    {
                        // The shape `metrics` lists samples in, so every line reads alike.
                        let value = serde_json::to_value(TimedSample {
                            ts: event.ts,
                            sample: sample.clone(),
                        })?;
                        out.event(&value, || line(&widths, &row(&event.ts, sample)))?;
                    }
                }
            }
        }
    }
}

fn row(ts: &chrono::DateTime<chrono::Utc>, m: &MetricSample) -> Vec<Cell> {
    let extras: Vec<String> = m
        .extras
        .iter()
        .map(|(k, v)| format!("{k}={v:.3}"))
        .collect();
    vec![
        super::time(ts).into(),
        format!("{:.0}", m.rps).into(),
        format!("{:.0} ms", m.latency_ms.p50).into(),
        format!("{:.0} ms", m.latency_ms.p99).into(),
        format!("{:.2}%", m.error_ratio * 100.0).into(),
        format!("{:.0}%", m.cpu * 100.0).into(),
        format!("{:.0} MiB", m.memory_mb).into(),
        format!("{}/{}", m.replicas_ready, m.replicas_desired).into(),
        extras.join(" ").into(),
    ]
}

/// Fixed column widths for a followed table, whose later rows are not known yet.
fn widths() -> [usize; 9] {
    [19, 7, 8, 8, 7, 5, 10, 6, 0]
}

fn header_line(out: &Output, widths: &[usize; 9]) -> String {
    let cells: Vec<Cell> = HEADERS.iter().map(|h| Cell::from(*h)).collect();
    let text = line(widths, &cells);
    format!("{}\n", out.paint(&text, crate::cli::output::Tone::Plain))
}

fn line(widths: &[usize; 9], cells: &[Cell]) -> String {
    let mut text = String::new();
    for (cell, w) in cells.iter().zip(widths) {
        text.push_str(&format!("{:<w$}  ", cell.text, w = *w));
    }
    text.trim_end().to_string()
}
