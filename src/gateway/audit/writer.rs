//! The audit file on a thread of its own: records queued by the actions layer are sealed into
//! the chain in the order they arrive, written together, and made durable with one `sync_data`
//! (group commit); only then is each caller acknowledged, so a change is answered only once its
//! record is on disk. After a failed write the writer refuses everything: the file may end in a
//! partial batch, and the gateway must not go on changing things it cannot record.

use std::collections::VecDeque;
use std::fs::File;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use tokio::sync::oneshot;

use super::chain::seal;
use crate::platform::{Emission, EventSink};
use crate::protocol::{AuditRecord, Body};

/// Records written at most in one batch.
const MAX_BATCH: usize = 1024;

/// Records kept in memory for GET /v1/audit; the file keeps them all.
pub const KEPT: usize = 50_000;

/// Where the chain stands: the last record's number and hash.
pub(super) struct Head {
    pub seq: u64,
    pub hash: String,
}

/// What the writer and the gateway share.
pub(super) struct Shared {
    /// The latest [`KEPT`] records, oldest first.
    pub recent: Mutex<VecDeque<AuditRecord>>,
    /// A write failed: nothing more is accepted.
    pub failed: AtomicBool,
}

impl Shared {
    pub fn keep(&self, record: AuditRecord) {
        let mut recent = self.recent.lock().unwrap_or_else(|p| p.into_inner());
        recent.push_back(record);
        while recent.len() > KEPT {
            recent.pop_front();
        }
    }
}

pub(super) type Ack = oneshot::Sender<Result<AuditRecord, String>>;

pub(super) struct Job {
    pub record: AuditRecord,
    pub ack: Ack,
}

/// The file (none: the chain lives in memory only) and the head of its chain.
pub(super) struct Writer {
    pub file: Option<File>,
    pub head: Head,
    pub shared: Arc<Shared>,
}

impl Writer {
    /// Seal `records` into the chain, write and sync them; the records as written.
    pub fn append(&mut self, records: Vec<AuditRecord>) -> Result<Vec<AuditRecord>, String> {
        if self.shared.failed.load(Ordering::Relaxed) {
            return Err("an earlier write to the audit file failed".into());
        }
        let mut text = String::new();
        let mut sealed = Vec::with_capacity(records.len());
        let (mut seq, mut prev) = (self.head.seq, self.head.hash.clone());
        for mut record in records {
            seq += 1;
            record.seq = seq;
            record.at = chrono::Utc::now();
            record.prev = prev;
            let line = seal(&mut record).map_err(|e| e.to_string())?;
            prev = record.hash.clone();
            text.push_str(&line);
            text.push('\n');
            sealed.push(record);
        }
        if let Some(file) = &mut self.file {
            let written = file
                .write_all(text.as_bytes())
                .and_then(|()| file.sync_data());
            if let Err(err) = written {
                self.shared.failed.store(true, Ordering::Relaxed);
                tracing::error!(%err, "could not write the audit file; changes are refused from now on");
                return Err(format!("could not write the audit file: {err}"));
            }
        }
        self.head = Head { seq, hash: prev };
        for record in &sealed {
            self.shared.keep(record.clone());
        }
        Ok(sealed)
    }

    /// Run on a thread named `audit` until every sender is gone; records are announced on
    /// `sink` (the `audit` topic, and the `events` topic for changes that failed).
    pub fn spawn(mut self, sink: EventSink) -> std::io::Result<mpsc::Sender<Job>> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("audit".into())
            .spawn(move || {
                while let Ok(first) = queue.recv() {
                    let mut batch = vec![first];
                    while batch.len() < MAX_BATCH {
                        match queue.try_recv() {
                            Ok(job) => batch.push(job),
                            Err(_) => break,
                        }
                    }
                    let (records, acks): (Vec<_>, Vec<_>) =
                        batch.into_iter().map(|j| (j.record, j.ack)).unzip();
                    match self.append(records) {
                        Ok(sealed) => {
                            for (record, ack) in sealed.into_iter().zip(acks) {
                                announce(&sink, &record);
                                let _ = ack.send(Ok(record));
                            }
                        }
                        Err(why) => {
                            for ack in acks {
                                let _ = ack.send(Err(why.clone()));
                            }
                        }
                    }
                }
            })?;
        Ok(jobs)
    }
}

/// Put `record` on the `audit` topic, and a change that failed on the timeline (`events`),
/// where nothing else records it. Never waits: what the stream cannot queue now is still in
/// the file and GET /v1/audit.
fn announce(sink: &EventSink, record: &AuditRecord) {
    let app = record.app.clone().unwrap_or_else(|| "platform".into());
    if let Some(entry) = super::timeline_entry(record) {
        let _ = sink.try_send(Emission {
            ts: entry.ts,
            app: entry.app,
            body: Body::Events(entry.event),
        });
    }
    let emission = Emission {
        ts: record.platform_time,
        app,
        body: Body::Audit(Box::new(record.clone())),
    };
    if sink.try_send(emission).is_err() {
        tracing::debug!(
            seq = record.seq,
            "the stream was full; an audit record was not announced"
        );
    }
}
