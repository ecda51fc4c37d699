//! `opsdeck logs ID... [-f] [--since 10m] [--grep REGEX] [--level warn]`: the `logs` topic of the
//! stream. The gateway keeps recent events for replay; this asks for all it holds, prints the
//! lines since `--since` (platform time) up to where the stream was when the command started,
//! and with `-f` goes on with new ones. Several apps' lines come merged in the order the
//! platform emitted them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use clap::Args;
use regex::Regex;

use super::ClientArgs;
use crate::cli::ConnectionArgs;
use crate::cli::exit::{CliError, CliResult};
use crate::cli::follow::{self, Follow};
use crate::cli::output::{Output, Tone};
use crate::protocol::{Body, Event, Filter, Level, ServerMsg, Topic};

#[derive(Args, Debug, Clone)]
pub struct Logs {
    /// The apps whose lines to print (one or more ids).
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
    /// Keep printing new lines until interrupted.
    #[arg(short = 'f', long)]
    pub follow: bool,
    /// Only lines from this long ago (platform time): 30s, 10m, 2h. Default: all the gateway
    /// holds.
    #[arg(long, value_parser = super::duration)]
    pub since: Option<std::time::Duration>,
    /// Only lines whose message matches this regular expression.
    #[arg(long, value_name = "REGEX")]
    pub grep: Option<String>,
    /// Only lines at this level or above: trace, debug, info, warn, error.
    #[arg(long, value_parser = parse_level)]
    pub level: Option<Level>,
    #[command(flatten)]
    pub client: ClientArgs,
}

fn parse_level(text: &str) -> Result<Level, String> {
    serde_json::from_value(serde_json::Value::from(text.to_ascii_lowercase()))
        .map_err(|_| format!("{text:?} is not a level: trace, debug, info, warn or error"))
}

/// Which lines to print.
struct Wanted {
    apps: Vec<String>,
    level: Option<Level>,
    grep: Option<Regex>,
    from: Option<DateTime<Utc>>,
}

impl Wanted {
    fn keeps(&self, event: &Event) -> bool {
        let Body::Logs(line) = &event.body else {
            return false;
        };
        self.apps.contains(&event.app)
            && self.level.is_none_or(|l| line.level >= l)
            && self.from.is_none_or(|from| event.ts >= from)
            && self
                .grep
                .as_ref()
                .is_none_or(|re| re.is_match(&line.message))
    }
}

impl Logs {
    pub async fn run(self, top: &ConnectionArgs) -> CliResult {
        let (conn, out) = self.client.open(top)?;
        let grep = self
            .grep
            .as_deref()
            .map(Regex::new)
            .transpose()
            .map_err(|e| CliError::usage(format!("--grep is not a regular expression: {e}")))?;
        super::check_apps(&conn, &self.ids).await?;
        let mut stream = follow::open(&conn).await?;
        // First where the stream is now (its head), then everything it holds.
        stream
            .subscribe(vec![Topic::Logs], Filter::default(), BTreeMap::new())
            .await?;
        let (head, now) = head_and_now(&mut stream).await?;
        stream
            .subscribe(
                vec![Topic::Logs],
                Filter::default(),
                BTreeMap::from([(Topic::Logs, 0)]),
            )
            .await?;
        let wanted = Wanted {
            apps: self.ids.clone(),
            level: self.level,
            grep,
            from: self
                .since
                .and_then(|since| chrono::Duration::from_std(since).ok().map(|d| now - d)),
        };
        // Frames before the second `subscribed` belong to the first subscription.
        loop {
            if let ServerMsg::Subscribed { .. } = stream.next().await? {
                break;
            }
        }
        let mut last = 0;
        loop {
            if !self.follow && last >= head {
                return Ok(());
            }
            match stream.next().await? {
                ServerMsg::Events { events } => {
                    for event in events {
                        if event.seq <= last {
                            continue;
                        }
                        last = event.seq;
                        if event.seq > head && !self.follow {
                            return Ok(());
                        }
                        if wanted.keeps(&event) {
                            print_line(&out, &event)?;
                        }
                    }
                }
                ServerMsg::Gap {
                    topic: Topic::Logs,
                    to,
                    ..
                } => last = last.max(to),
                ServerMsg::Dropped { count, .. } => {
                    super::note(&format!("({count} lines dropped: this client fell behind)"));
                }
                _ => {}
            }
        }
    }
}

/// The logs topic's head when the stream was opened, and the platform's time then.
async fn head_and_now(stream: &mut Follow) -> CliResult<(u64, DateTime<Utc>)> {
    let mut now = Utc::now();
    loop {
        match stream.next().await? {
            ServerMsg::Clock { platform_time, .. } => now = platform_time,
            ServerMsg::Subscribed { head, .. } => {
                return Ok((head.get(&Topic::Logs).copied().unwrap_or(0), now));
            }
            _ => {}
        }
    }
}

fn print_line(out: &Output, event: &Event) -> CliResult {
    let Body::Logs(line) = &event.body else {
        return Ok(());
    };
    let value = serde_json::to_value(event)?;
    out.event(&value, || {
        let level = line.level.as_str();
        let fields: String = line
            .fields
            .iter()
            .map(|(k, v)| format!(" {k}={v}"))
            .collect();
        format!(
            "{} {} {} {} {}{fields}",
            event.ts.format("%Y-%m-%dT%H:%M:%S%.3fZ"),
            event.app,
            line.pod,
            out.paint(
                &format!("{:<5}", level.to_uppercase()),
                Tone::of_state(level)
            ),
            line.message.replace('\n', " ")
        )
    })
}
