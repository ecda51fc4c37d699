//! The audit trail: every change the gateway makes (or refuses inside the actions layer) is one
//! record in an append-only file, `audit.jsonl` next to the run journal, sealed into a SHA-256
//! hash chain ([`chain`]) and synced to disk before the change is answered ([`writer`]). Without
//! a data dir (the embedded demo, `--no-journal`) the chain is kept in memory only.
//!
//! On start the file is checked: a torn last line (a crash while writing, never acknowledged) is
//! cut off and the cut recorded; a broken chain stops the gateway unless it is told to set the
//! file aside and start a new chain (`--audit-new-chain`), which the new chain's first record
//! says. docs/security.md (`## Audit`) states the durability rule and what the chain proves.

pub(super) mod api;
pub mod chain;
mod writer;

use std::collections::VecDeque;
use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use chrono::{DateTime, Utc};

use super::auth::Actor;
use crate::platform::EventSink;
use crate::protocol::{AuditRecord, AuditResult, EventKind, GENESIS, PlatformEvent, TimelineEntry};

pub use writer::KEPT;

/// The audit file's name in the data dir.
pub const FILE_NAME: &str = "audit.jsonl";

/// The name recorded for `actor` (the token's name): with [`role_of`], the one place the audit
/// reads an actor.
pub fn name_of(actor: &Actor) -> &str {
    actor.name()
}

/// The role recorded for `actor`: the role of its token (every caller is an admin on a gateway
/// without `--tokens`, where nothing is checked).
pub fn role_of(actor: &Actor) -> &str {
    actor.role().as_str()
}

/// The audit trail of a running gateway.
pub struct Audit {
    jobs: mpsc::Sender<writer::Job>,
    shared: Arc<writer::Shared>,
    path: Option<PathBuf>,
}

/// Why the gateway will not start on its audit file.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "the audit file {path} is broken at {broken}. Check it with `opsdeck audit verify {path}`; start with --audit-new-chain to set it aside and begin a new chain"
    )]
    Broken { path: String, broken: chain::Broken },
    #[error("cannot open the audit file: {0}")]
    Io(#[from] std::io::Error),
}

impl Audit {
    /// Open (creating) `dir/audit.jsonl`, or a chain in memory when `dir` is `None`. `new_chain`
    /// sets a broken file aside (renamed `audit.jsonl.broken-<time>`) and starts another.
    pub fn open(
        dir: Option<&Path>,
        new_chain: bool,
        sink: EventSink,
        platform_time: DateTime<Utc>,
    ) -> Result<Audit, OpenError> {
        let shared = Arc::new(writer::Shared {
            recent: Mutex::new(VecDeque::new()),
            failed: AtomicBool::new(false),
        });
        let mut notes = Vec::new();
        let (file, head, path) = match dir {
            None => {
                notes.push(note(
                    "audit_chain_start",
                    "a new audit chain begins (in memory: this gateway has no data dir)".into(),
                ));
                (
                    None,
                    writer::Head {
                        seq: 0,
                        hash: GENESIS.into(),
                    },
                    None,
                )
            }
            Some(dir) => {
                std::fs::create_dir_all(dir)?;
                let path = dir.join(FILE_NAME);
                let (file, head) = open_file(&path, new_chain, &shared, &mut notes)?;
                (Some(file), head, Some(path))
            }
        };
        let mut writer = writer::Writer {
            file,
            head,
            shared: shared.clone(),
        };
        let notes = notes
            .into_iter()
            .map(|mut r: AuditRecord| {
                r.platform_time = platform_time;
                r
            })
            .collect();
        writer.append(notes).map_err(std::io::Error::other)?;
        let jobs = writer.spawn(sink)?;
        Ok(Audit { jobs, shared, path })
    }

    /// The file, when the chain is kept in one.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// Whether records can still be written (no write has failed).
    pub fn writable(&self) -> bool {
        !self.shared.failed.load(Ordering::Relaxed)
    }

    /// Seal `record` into the chain and wait until it is on disk; the record as written.
    pub async fn append(&self, record: AuditRecord) -> Result<AuditRecord, String> {
        let (ack, done) = tokio::sync::oneshot::channel();
        let sent = self.jobs.send(writer::Job { record, ack });
        if sent.is_err() {
            return Err("the audit writer has stopped".into());
        }
        done.await
            .unwrap_or_else(|_| Err("the audit writer has stopped".into()))
    }

    /// The records kept in memory (the latest [`KEPT`]) that `query` selects, oldest first.
    pub fn list(&self, query: &Query) -> Vec<AuditRecord> {
        let recent = self.shared.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent
            .iter()
            .filter(|r| query.selects(r))
            .cloned()
            .collect()
    }

    /// Changes that failed, as timeline entries (newest first): what a change that succeeded
    /// did is on the timeline already (the platform's and the runs' entries, with who).
    pub fn timeline(&self) -> Vec<TimelineEntry> {
        let recent = self.shared.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent
            .iter()
            .rev()
            .filter_map(timeline_entry)
            .take(500)
            .collect()
    }
}

/// Which records GET /v1/audit answers.
#[derive(Clone, Debug, Default)]
pub struct Query {
    /// Records at or after this platform time.
    pub since: Option<DateTime<Utc>>,
    pub app: Option<String>,
    pub actor: Option<String>,
}

impl Query {
    fn selects(&self, r: &AuditRecord) -> bool {
        self.since.is_none_or(|t| r.platform_time >= t)
            && self.app.as_ref().is_none_or(|a| r.app.as_ref() == Some(a))
            && self.actor.as_ref().is_none_or(|a| &r.actor == a)
    }
}

/// The timeline entry of a change that failed (none for one that succeeded, or for the
/// chain's own records): who tried what, and why it did not happen.
pub(super) fn timeline_entry(r: &AuditRecord) -> Option<TimelineEntry> {
    if r.result == AuditResult::Ok {
        return None;
    }
    let kind = match r.action.as_str() {
        "scale" => EventKind::Scale,
        "rollback" => EventKind::Rollback,
        "ack" | "silence" => EventKind::Alert,
        "scenario" => EventKind::Scenario,
        a if a.starts_with("run_") => EventKind::Run,
        _ => return None,
    };
    let action = r.action.replace('_', " ");
    Some(TimelineEntry {
        ts: r.platform_time,
        app: r.app.clone().unwrap_or_else(|| "platform".into()),
        event: PlatformEvent {
            kind,
            message: format!("{action} {} failed: {}", r.target, r.message),
            actor: Some(r.actor.clone()),
            run: r.run.clone(),
        },
    })
}

/// A record about the chain itself, by the gateway.
fn note(action: &str, message: String) -> AuditRecord {
    let now = Utc::now();
    AuditRecord {
        seq: 0,
        at: now,
        platform_time: now,
        actor: "opsdeck-gateway".into(),
        role: "system".into(),
        action: action.into(),
        target: FILE_NAME.into(),
        app: None,
        from: None,
        to: None,
        result: AuditResult::Ok,
        message,
        request_id: None,
        idempotency_key: None,
        client: None,
        run: None,
        prev: String::new(),
        hash: String::new(),
    }
}

/// Open the file at `path` for appending, after checking its chain: the head to continue from.
/// Records about what was found (a torn tail cut off, a new chain) go to `notes`.
fn open_file(
    path: &Path,
    new_chain: bool,
    shared: &writer::Shared,
    notes: &mut Vec<AuditRecord>,
) -> Result<(File, writer::Head), OpenError> {
    let mut text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(err) => return Err(err.into()),
    };
    // A last line without its newline was being written when the gateway died: no change was
    // answered on it (that waits for the sync), so it is cut off, and the cut recorded.
    if !text.is_empty() && !text.ends_with('\n') {
        let keep = text.rfind('\n').map_or(0, |i| i + 1);
        let cut = text.len() - keep;
        text.truncate(keep);
        let file = OpenOptions::new().write(true).open(path)?;
        file.set_len(keep as u64)?;
        file.sync_all()?;
        tracing::warn!(file = %path.display(), bytes = cut, "cut an unfinished audit record off the end (the gateway died while writing it)");
        notes.push(note(
            "audit_recovered",
            format!("cut {cut} bytes of an unfinished last record (the gateway died while writing it; it was never acknowledged)"),
        ));
    }
    let head = match chain::verify(&text, None) {
        Ok(intact) => {
            for record in text
                .lines()
                .filter_map(|l| serde_json::from_str::<AuditRecord>(l).ok())
            {
                shared.keep(record);
            }
            if intact.records == 0 {
                // Every chain starts with its start, before a note about a torn first record.
                notes.insert(
                    0,
                    note("audit_chain_start", "a new audit chain begins".into()),
                );
            }
            writer::Head {
                seq: intact.records,
                hash: intact.head,
            }
        }
        Err(broken) if new_chain => {
            let aside = path.with_file_name(format!(
                "{FILE_NAME}.broken-{}",
                Utc::now().format("%Y%m%dT%H%M%SZ")
            ));
            std::fs::rename(path, &aside)?;
            tracing::warn!(file = %path.display(), moved_to = %aside.display(), %broken, "the audit chain was broken; a new chain begins");
            // A note about the old chain goes first; the recovery note (if any) is about it.
            notes.clear();
            notes.push(note(
                "audit_chain_start",
                format!("a new audit chain begins (--audit-new-chain): the previous file, now {}, was broken at {broken}", aside.display()),
            ));
            writer::Head {
                seq: 0,
                hash: GENESIS.into(),
            }
        }
        Err(broken) => {
            return Err(OpenError::Broken {
                path: path.display().to_string(),
                broken,
            });
        }
    };
    let existed = path.exists();
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    // A new file's name must survive a crash too, or its synced records go with it.
    if !existed && let Some(dir) = path.parent() {
        File::open(dir)?.sync_all()?;
    }
    Ok((file, head))
}
