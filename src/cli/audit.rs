//! `opsdeck audit verify` (check an audit file's hash chain) and `opsdeck audit export` (an
//! incident timeline from a running gateway, for a post-incident review).

use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::{Subcommand, ValueEnum};
use serde::Serialize;

use crate::gateway::audit::{FILE_NAME, chain};
use crate::protocol::{AuditRecord, EventKind, TimelineEntry, parse_duration_secs};

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Check the hash chain of an audit file; names the first bad record and why.
    Verify {
        /// The audit file. Default: audit.jsonl in the gateway's default data dir.
        file: Option<PathBuf>,
        /// The hash of a record known to be in the file (a head printed earlier and kept
        /// elsewhere): shows a tail cut off at a record boundary, or a rewritten chain.
        #[arg(long, value_name = "HASH")]
        head: Option<String>,
    },
    /// Print an incident timeline (alerts, audited actions, run steps, in time order) from the
    /// gateway at --url.
    Export {
        /// How far back: a duration (30m, 2h, 1d) before the gateway's latest event, or a time
        /// (RFC 3339).
        #[arg(long, default_value = "2h")]
        since: String,
        #[arg(long, value_enum, default_value_t = Format::Markdown)]
        format: Format,
        #[command(flatten)]
        connection: super::ConnectionArgs,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Markdown,
    Json,
}

/// Run an `opsdeck audit` command; `top` holds the connection options given before it (`--url`,
/// `--ca-cert`, and the token from `OPSDECK_TOKEN`, `--token-file` or `--token-command`).
pub async fn run_audit(command: AuditCommand, top: &super::ConnectionArgs) -> anyhow::Result<()> {
    match command {
        AuditCommand::Verify { file, head } => {
            let file = file.unwrap_or_else(|| crate::tui::logging::log_dir().join(FILE_NAME));
            let intact = verify_file(&file, head.as_deref())?;
            println!(
                "{}: the chain holds: {} records, head {}",
                file.display(),
                intact.records,
                intact.head
            );
            Ok(())
        }
        AuditCommand::Export {
            since,
            format,
            connection,
        } => {
            let args = connection.or(top);
            args.url
                .as_deref()
                .context("export reads a gateway: give its --url (e.g. ws://127.0.0.1:7070)")?;
            let conn = super::connection::resolve(&args)?;
            let timeline = fetch_timeline(&conn, &since).await?;
            match format {
                Format::Json => println!("{}", serde_json::to_string_pretty(&timeline.entries)?),
                Format::Markdown => print!("{}", markdown(&timeline)),
            }
            Ok(())
        }
    }
}

/// Check `file`'s chain; the error names the first bad record.
pub fn verify_file(file: &Path, head: Option<&str>) -> anyhow::Result<chain::Intact> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    let text = String::from_utf8_lossy(&bytes);
    chain::verify(&text, head)
        .map_err(|broken| anyhow::anyhow!("{}: the chain is broken at {broken}", file.display()))
}

/// One line of an incident timeline.
#[derive(Serialize, Clone, Debug, PartialEq)]
pub struct Line {
    /// Platform time.
    pub ts: DateTime<Utc>,
    pub app: String,
    /// `audit` (a change, with who) or `timeline` (what the platform or a run did).
    pub source: &'static str,
    /// The audited action (`scale`, `ack`, ...) or the timeline kind (`alert`, `run_step`, ...).
    pub kind: String,
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The audit record's number in the chain.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<u64>,
}

/// An incident timeline: what happened from `from`, oldest first.
pub struct Timeline {
    pub from: DateTime<Utc>,
    pub source: String,
    pub entries: Vec<Line>,
}

async fn fetch_timeline(
    conn: &super::connection::Connection,
    since: &str,
) -> anyhow::Result<Timeline> {
    let http = conn.http.clone().with_timeout(EXPORT_TIMEOUT)?;
    let source = crate::client::http_base(&conn.url).map_err(anyhow::Error::msg)?;
    let events: Vec<TimelineEntry> = http
        .get_query(&["v1", "events"], &[])
        .await
        .map_err(|e| anyhow::anyhow!("GET /v1/events from {source}: {e}"))?;
    let latest = events.iter().map(|e| e.ts).max().unwrap_or_else(Utc::now);
    let from = resolve_since(since, latest)?;
    let from_text = from.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let audit: Vec<AuditRecord> = http
        .get_query(&["v1", "audit"], &[("since", from_text)])
        .await
        .map_err(|e| anyhow::anyhow!("GET /v1/audit from {source}: {e}"))?;
    Ok(Timeline {
        from,
        source,
        entries: merge(events, audit, from),
    })
}

/// How long one read of an export may take: the audit answer can hold 50,000 records.
const EXPORT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// `since` as a time, or a duration back from `latest`.
fn resolve_since(since: &str, latest: DateTime<Utc>) -> anyhow::Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(since) {
        return Ok(t.with_timezone(&Utc));
    }
    let secs = parse_duration_secs(since)
        .and_then(|s| i64::try_from(s).ok())
        .with_context(|| {
            format!("--since {since:?} is neither a duration (30m, 2h, 1d) nor a time (RFC 3339)")
        })?;
    Ok(latest - chrono::Duration::seconds(secs))
}

/// Alerts, audited actions and run steps from `from`, in time order (the audit's order among
/// records of one instant). Platform entries the audit already says with who are left out:
/// scale and rollback, and alerts acknowledged or silenced by someone; so are pod churn and
/// the chain's own records.
pub fn merge(
    events: Vec<TimelineEntry>,
    audit: Vec<AuditRecord>,
    from: DateTime<Utc>,
) -> Vec<Line> {
    let mut lines: Vec<Line> = events
        .into_iter()
        .filter(|e| e.ts >= from)
        .filter(|e| match e.event.kind {
            EventKind::Alert => e.event.actor.is_none(),
            EventKind::Run | EventKind::RunStep | EventKind::Deploy => true,
            _ => false,
        })
        .map(|e| Line {
            ts: e.ts,
            app: e.app,
            source: "timeline",
            kind: serde_json::to_value(e.event.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_else(|| e.event.kind.label().to_string()),
            message: e.event.message,
            actor: e.event.actor,
            role: None,
            result: None,
            request_id: None,
            seq: None,
        })
        .collect();
    lines.extend(
        audit
            .into_iter()
            .filter(|r| r.platform_time >= from && !r.action.starts_with("audit_"))
            .map(|r| Line {
                ts: r.platform_time,
                app: r.app.unwrap_or_else(|| "platform".into()),
                source: "audit",
                kind: r.action,
                message: r.message,
                actor: Some(r.actor),
                role: Some(r.role),
                result: Some(r.result.as_str().to_string()),
                request_id: r.request_id,
                seq: Some(r.seq),
            }),
    );
    lines.sort_by(|a, b| a.ts.cmp(&b.ts).then(a.seq.cmp(&b.seq)));
    lines
}

/// The timeline as a Markdown section to paste into a post-incident review.
pub fn markdown(timeline: &Timeline) -> String {
    let cell = |text: &str| text.replace('|', "\\|").replace('\n', " ");
    let mut out = format!(
        "## Incident timeline\n\nFrom {} (platform time, UTC), from the gateway at {}.\n\n\
         | Time (UTC) | App | What | Who | Result |\n|---|---|---|---|---|\n",
        timeline.from.format("%Y-%m-%d %H:%M:%S"),
        timeline.source
    );
    for line in &timeline.entries {
        let who = match (&line.actor, &line.role) {
            (Some(actor), Some(role)) => format!("{actor} ({role})"),
            (Some(actor), None) => actor.clone(),
            _ => String::new(),
        };
        let what = if line.source == "audit" {
            format!("{}: {}", line.kind, line.message)
        } else {
            format!("{}: {}", line.kind.replace('_', " "), line.message)
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            line.ts.format("%Y-%m-%d %H:%M:%S"),
            cell(&line.app),
            cell(&what),
            cell(&who),
            line.result.as_deref().unwrap_or("")
        ));
    }
    if timeline.entries.is_empty() {
        out.push_str("| | | nothing happened in this window | | |\n");
    }
    out
}
