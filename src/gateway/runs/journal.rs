//! The run journal: an append-only file of JSON lines, one snapshot of a run per transition,
//! written with `write_all` + `sync_data` before the transition is announced. On start the latest
//! snapshot of each run is read back; a torn last line (a crash mid-write) is skipped. When the
//! file grows past [`COMPACT_AT`] it is rewritten with only the latest snapshots (temp file,
//! fsync, rename), so it stays small however long the gateway runs.
//!
//! The file is written by a thread of its own ([`JournalWriter`]): appends and fsyncs never run on
//! a tokio worker. Callers queue a record while they hold the runs lock, so records reach the file
//! in version order, and await that record's acknowledgement before announcing the transition.
//!
//! Why not SQLite: the data is append-only snapshots read once at start; one fsync per
//! transition is as durable as a WAL commit; and it keeps the build free of a C toolchain.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use serde::{Deserialize, Serialize};
use tokio::sync::oneshot;

use crate::protocol::RunStatus;

/// Journal size that triggers compaction.
pub const COMPACT_AT: u64 = 4 << 20;

/// Where a run stands, beyond what its status shows: enough to continue it after a restart.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Cursor {
    /// The next main step to run (index into the runbook's `[[steps]]`).
    pub main: usize,
    /// While the fallbacks of a failed main step run: that step's index, and how many of its
    /// fallbacks have finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<(usize, usize)>,
    /// What the unfinished step already did (e.g. the replica count it asked for), so that a
    /// resumed step does not do it twice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memo: Option<serde_json::Value>,
}

/// One line of the journal.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Record {
    /// Grows by one per write of the same run; the highest wins on load.
    pub version: u64,
    pub status: RunStatus,
    pub cursor: Cursor,
}

pub struct Journal {
    path: PathBuf,
    /// Owned by one thread (the writer's), so no lock.
    inner: Inner,
    compact_at: u64,
}

struct Inner {
    file: File,
    bytes: u64,
    /// Size right after the last compaction.
    compacted_size: u64,
    /// The highest version of each run and its line, for compaction.
    latest: HashMap<String, (u64, String)>,
}

impl Journal {
    /// Open (creating) `dir/runs.jsonl`; returns the journal and the latest record of each run,
    /// oldest run first.
    pub fn open(dir: &Path) -> std::io::Result<(Journal, Vec<Record>)> {
        Self::open_with(dir, COMPACT_AT)
    }

    pub fn open_with(dir: &Path, compact_at: u64) -> std::io::Result<(Journal, Vec<Record>)> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("runs.jsonl");
        let mut latest: HashMap<String, (u64, String, Record)> = HashMap::new();
        if let Ok(file) = File::open(&path) {
            for (n, line) in BufReader::new(file).lines().enumerate() {
                let line = line?;
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Record>(&line) {
                    Ok(record) => {
                        let newer = latest
                            .get(&record.status.id)
                            .is_none_or(|(v, _, _)| record.version >= *v);
                        if newer {
                            latest.insert(record.status.id.clone(), (record.version, line, record));
                        }
                    }
                    Err(err) => tracing::warn!(
                        file = %path.display(),
                        line = n + 1,
                        %err,
                        "skipping an unreadable journal line"
                    ),
                }
            }
        }
        let mut records: Vec<Record> = latest.values().map(|(_, _, r)| r.clone()).collect();
        records.sort_by(|a, b| {
            a.status
                .created_at
                .cmp(&b.status.created_at)
                .then(a.status.id.cmp(&b.status.id))
        });
        let lines = latest
            .into_iter()
            .map(|(id, (version, line, _))| (id, (version, line)))
            .collect();
        // Start from a compacted file: one line per run.
        let file = rewrite(&path, &lines)?;
        let bytes = file.metadata()?.len();
        let journal = Journal {
            path,
            inner: Inner {
                file,
                bytes,
                compacted_size: bytes,
                latest: lines,
            },
            compact_at,
        };
        Ok((journal, records))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Append `record` and flush it to disk; compacts when the file has grown too large.
    pub fn append(&mut self, record: &Record) -> std::io::Result<()> {
        let line = serde_json::to_string(record).map_err(std::io::Error::other)?;
        let inner = &mut self.inner;
        let mut bytes = line.clone().into_bytes();
        bytes.push(b'\n');
        inner.file.write_all(&bytes)?;
        inner.file.sync_data()?;
        inner.bytes += bytes.len() as u64;
        // Compaction keeps the highest version of each run, whatever order lines came in.
        let newer = inner
            .latest
            .get(&record.status.id)
            .is_none_or(|(kept, _)| record.version >= *kept);
        if newer {
            inner
                .latest
                .insert(record.status.id.clone(), (record.version, line));
        }
        // Compact when the file has doubled since the last compaction (and is past the floor),
        // so a journal whose live runs alone exceed the floor is not rewritten on every line.
        if inner.bytes > self.compact_at.max(inner.compacted_size * 2) {
            let file = rewrite(&self.path, &inner.latest)?;
            inner.bytes = file.metadata()?.len();
            inner.compacted_size = inner.bytes;
            inner.file = file;
        }
        Ok(())
    }

    /// Drop a run from future compactions (it was evicted from memory).
    pub fn forget(&mut self, id: &str) {
        self.inner.latest.remove(id);
    }
}

enum Job {
    Append(Box<Record>, oneshot::Sender<std::io::Result<()>>),
    Forget(String),
    /// Write nothing more: everything queued before is on disk when this is acknowledged.
    Close(oneshot::Sender<()>),
}

/// The journal on a thread of its own. Dropping the writer lets the thread finish what is queued
/// and end.
pub struct JournalWriter {
    path: PathBuf,
    jobs: mpsc::Sender<Job>,
}

impl JournalWriter {
    /// Move `journal` onto a new thread named `run-journal`.
    pub fn spawn(journal: Journal) -> std::io::Result<JournalWriter> {
        let path = journal.path().to_path_buf();
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("run-journal".into())
            .spawn(move || {
                let mut journal = journal;
                let mut open = true;
                for job in queue {
                    match job {
                        Job::Append(record, done) => {
                            let written = if open {
                                journal.append(&record)
                            } else {
                                Err(std::io::Error::other("the journal is closed"))
                            };
                            // The caller may have stopped waiting (its task was aborted).
                            let _ = done.send(written);
                        }
                        Job::Forget(id) => journal.forget(&id),
                        Job::Close(done) => {
                            open = false;
                            let _ = done.send(());
                        }
                    }
                }
            })?;
        Ok(JournalWriter { path, jobs })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Queue `record`; the receiver says when it is on disk (or why not). Records are written
    /// in the order they are queued.
    pub fn append(&self, record: Record) -> oneshot::Receiver<std::io::Result<()>> {
        let (done, written) = oneshot::channel();
        if let Err(mpsc::SendError(Job::Append(_, done))) =
            self.jobs.send(Job::Append(Box::new(record), done))
        {
            let _ = done.send(Err(std::io::Error::other("the journal thread has stopped")));
        }
        written
    }

    /// Drop a run from future compactions (it was evicted from memory).
    pub fn forget(&self, id: &str) {
        let _ = self.jobs.send(Job::Forget(id.to_string()));
    }

    /// Finish what is queued and write nothing more, so another gateway can open the file.
    pub async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if self.jobs.send(Job::Close(done)).is_ok() {
            let _ = closed.await;
        }
    }
}

/// Write `lines` to a temp file, fsync, rename over `path`; returns `path` open for appending.
fn rewrite(path: &Path, lines: &HashMap<String, (u64, String)>) -> std::io::Result<File> {
    let tmp = path.with_extension("jsonl.tmp");
    {
        let mut out = File::create(&tmp)?;
        let mut sorted: Vec<&String> = lines.values().map(|(_, line)| line).collect();
        sorted.sort();
        for line in sorted {
            out.write_all(line.as_bytes())?;
            out.write_all(b"\n")?;
        }
        out.sync_all()?;
    }
    std::fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent()
        && let Ok(dir) = File::open(dir)
    {
        // Make the rename itself durable; not every platform can fsync a directory.
        let _ = dir.sync_all();
    }
    OpenOptions::new().append(true).open(path)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::protocol::RunState;

    fn record(id: &str, version: u64, state: RunState) -> Record {
        let t = "2026-11-11T12:00:00Z".parse().unwrap();
        Record {
            version,
            status: RunStatus {
                id: id.into(),
                runbook: "bad-release".into(),
                params: Default::default(),
                state,
                dry_run: false,
                steps: Vec::new(),
                current_step: None,
                message: String::new(),
                created_at: t,
                updated_at: t,
                started_by: "li.wei".into(),
                plan: None,
            },
            cursor: Cursor::default(),
        }
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "opsdeck-journal-{name}-{}-{}",
            std::process::id(),
            fastrand::u64(..)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn the_latest_version_of_each_run_survives_reopening_and_torn_lines_are_skipped() {
        let dir = temp_dir("reopen");
        {
            let (mut journal, records) = Journal::open(&dir).unwrap();
            assert!(records.is_empty());
            journal
                .append(&record("run-1", 1, RunState::Running))
                .unwrap();
            journal
                .append(&record("run-2", 1, RunState::Running))
                .unwrap();
            journal
                .append(&record("run-1", 2, RunState::Succeeded))
                .unwrap();
        }
        // A crash in the middle of a write leaves half a line.
        let mut file = OpenOptions::new()
            .append(true)
            .open(dir.join("runs.jsonl"))
            .unwrap();
        file.write_all(br#"{"version":3,"status":{"id":"run-1""#)
            .unwrap();
        drop(file);
        let (_, records) = Journal::open(&dir).unwrap();
        let states: Vec<(String, RunState)> = records
            .iter()
            .map(|r| (r.status.id.clone(), r.status.state))
            .collect();
        assert_eq!(
            states,
            vec![
                ("run-1".to_string(), RunState::Succeeded),
                ("run-2".to_string(), RunState::Running)
            ]
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn compaction_keeps_the_highest_version_when_an_older_one_is_written_last() {
        let dir = temp_dir("order");
        let (mut journal, _) = Journal::open_with(&dir, 4096).unwrap();
        journal
            .append(&record("run-1", 7, RunState::Succeeded))
            .unwrap();
        journal
            .append(&record("run-1", 6, RunState::Running))
            .unwrap();
        // Enough other lines to force a compaction, which rewrites from what it kept.
        for v in 1..200 {
            journal
                .append(&record("run-2", v, RunState::Running))
                .unwrap();
        }
        let (_, records) = Journal::open(&dir).unwrap();
        let run1 = records.iter().find(|r| r.status.id == "run-1").unwrap();
        assert_eq!((run1.version, run1.status.state), (7, RunState::Succeeded));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn the_writer_thread_acknowledges_each_record_once_it_is_on_disk() {
        let dir = temp_dir("writer");
        let (journal, _) = Journal::open(&dir).unwrap();
        let writer = JournalWriter::spawn(journal).unwrap();
        let acks: Vec<_> = (1..=5)
            .map(|v| writer.append(record("run-1", v, RunState::Running)))
            .collect();
        for ack in acks {
            ack.await.unwrap().unwrap();
        }
        let text = std::fs::read_to_string(writer.path()).unwrap();
        assert_eq!(text.lines().count(), 5, "{text}");
        writer.forget("run-1");
        writer.close().await;
        let refused = writer.append(record("run-1", 6, RunState::Succeeded));
        assert!(
            refused.await.unwrap().is_err(),
            "nothing is written once closed"
        );
        let (_, records) = Journal::open(&dir).unwrap();
        assert_eq!(records[0].version, 5);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_growing_journal_is_compacted_to_one_line_per_run() {
        let dir = temp_dir("compact");
        let (mut journal, _) = Journal::open_with(&dir, 4096).unwrap();
        for v in 1..200 {
            journal
                .append(&record("run-1", v, RunState::Running))
                .unwrap();
        }
        let size = std::fs::metadata(journal.path()).unwrap().len();
        assert!(size <= 4096 + 1024, "journal is {size} bytes");
        let (_, records) = Journal::open(&dir).unwrap();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].version, 199);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
