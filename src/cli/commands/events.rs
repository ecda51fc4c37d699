//! `opsdeck events [-f] [--app ID]`: the platform's timeline (GET /v1/events), then with `-f`
//! the `events` topic of the stream.

use std::collections::BTreeMap;

use clap::Args;
use serde_json::Value;

use super::{ClientArgs, get, typed};
use crate::cli::ConnectionArgs;
use crate::cli::exit::CliResult;
use crate::cli::follow;
use crate::cli::output::{Format, Output};
use crate::protocol::{Body, Filter, PlatformEvent, ServerMsg, TimelineEntry, Topic};

#[derive(Args, Debug, Clone)]
pub struct Events {
    /// After the recent events, keep printing new ones until interrupted.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Only the events of these apps; repeat or separate with commas.
    #[arg(long, value_delimiter = ',')]
    pub app: Vec<String>,
    #[command(flatten)]
    pub client: ClientArgs,
}

impl Events {
    pub async fn run(self, top: &ConnectionArgs) -> CliResult {
        let (conn, out) = self.client.open(top)?;
        let wanted = |app: &str| self.app.is_empty() || self.app.iter().any(|a| a == app);
        // Subscribe first, so nothing falls between the list and the stream.
        let mut stream = match self.follow {
            true => {
                let mut stream = follow::open(&conn).await?;
                let filter = Filter {
                    apps: (!self.app.is_empty()).then(|| self.app.clone()),
                    min_level: None,
                };
                stream
                    .subscribe(vec![Topic::Events], filter, BTreeMap::new())
                    .await?;
                Some(stream)
            }
            false => None,
        };
        let Value::Array(all) = get(&conn, &["v1", "events"]).await? else {
            return Err(super::unexpected("/v1/events is not a list"));
        };
        let kept: Vec<Value> = all
            .into_iter()
            .filter(|e| wanted(e["app"].as_str().unwrap_or("")))
            .collect();
        let Some(stream) = stream.as_mut() else {
            // The API's order (newest first) for JSON and YAML; time order for people.
            let value = Value::Array(kept);
            if out.format != Format::Table {
                return out.print(&value, empty_table);
            }
            let entries: Vec<TimelineEntry> = typed(&value)?;
            for entry in entries.iter().rev() {
                super::super::output::emit(&format!(
                    "{}\n",
                    line(&out, &entry.ts, &entry.app, &entry.event)
                ))?;
            }
            return Ok(());
        };
        // Followed: one event per line, oldest first, recent ones then new ones. The stream was
        // subscribed before the list was read, so an event may come both ways: shown once.
        let mut listed = std::collections::HashSet::new();
        for value in kept.iter().rev() {
            let entry: TimelineEntry = typed(value)?;
            out.event(value, || line(&out, &entry.ts, &entry.app, &entry.event))?;
            listed.insert((entry.ts, entry.app, entry.event.message));
        }
        loop {
            if let ServerMsg::Events { events } = stream.next().await? {
                for event in events {
                    if let Body::Events(e) = &event.body {
                        if !listed.is_empty()
                            && listed.remove(&(event.ts, event.app.clone(), e.message.clone()))
                        {
                            continue;
                        }
                        let value = serde_json::to_value(&event)?;
                        out.event(&value, || line(&out, &event.ts, &event.app, e))?;
                    }
                }
            }
        }
    }
}

/// Never drawn: JSON and YAML print the value itself.
fn empty_table() -> CliResult<crate::cli::output::Table> {
    Ok(crate::cli::output::Table::default())
}

fn line(
    out: &Output,
    ts: &chrono::DateTime<chrono::Utc>,
    app: &str,
    event: &PlatformEvent,
) -> String {
    let actor = event
        .actor
        .as_deref()
        .map(|a| format!(" (by {a})"))
        .unwrap_or_default();
    format!(
        "{} {:<16} {:<11} {}{actor}",
        super::time(ts),
        app,
        out.paint(event.kind.label(), crate::cli::output::Tone::Muted),
        event.message.replace('\n', " ")
    )
}
