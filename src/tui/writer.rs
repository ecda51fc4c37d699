//! The terminal's writer: a thread of its own that writes each frame to stdout, so the event
//! loop never blocks on a slow terminal or link. It holds one frame at a time: the loop hands it
//! a frame only when it is free ([`Writer::busy`]), so nothing queues and the next frame drawn
//! is of the latest state.

use std::io;
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use tokio::sync::mpsc;

use super::terminal;

/// A frame written, or the error writing it met.
#[derive(Debug)]
pub struct Written {
    pub bytes: u64,
    /// How long the write took (it blocks while the terminal or the link cannot take more).
    pub took: Duration,
    pub result: io::Result<()>,
}

pub struct Writer {
    frames: std_mpsc::SyncSender<Vec<u8>>,
    written: mpsc::UnboundedReceiver<Written>,
    busy: bool,
}

impl Writer {
    /// Start the writer thread. It ends when the `Writer` is dropped (after the frame it is
    /// writing, if any).
    pub fn spawn() -> io::Result<Writer> {
        let (frames, to_write) = std_mpsc::sync_channel::<Vec<u8>>(1);
        let (done, written) = mpsc::unbounded_channel();
        std::thread::Builder::new()
            .name("terminal-writer".into())
            .spawn(move || {
                while let Ok(frame) = to_write.recv() {
                    let started = Instant::now();
                    let result = terminal::write_frame(&frame);
                    let written = Written {
                        bytes: frame.len() as u64,
                        took: started.elapsed(),
                        result,
                    };
                    if done.send(written).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Writer {
            frames,
            written,
            busy: false,
        })
    }

    /// Whether a frame is being written.
    pub fn busy(&self) -> bool {
        self.busy
    }

    /// Hand a frame to the writer. Only when it is not [`Writer::busy`]: a frame is never
    /// queued behind another.
    pub fn send(&mut self, frame: Vec<u8>) -> io::Result<()> {
        debug_assert!(!self.busy, "a frame queued behind another");
        self.frames
            .send(frame)
            .map_err(|_| io::Error::other("the terminal writer has stopped"))?;
        self.busy = true;
        Ok(())
    }

    /// The frame handed over has been written (cancel safe: for `select!`).
    pub async fn written(&mut self) -> Option<Written> {
        let written = self.written.recv().await;
        self.busy = false;
        written
    }

    /// Wait until the frame being written, if any, is out, or `patience` has passed. Returns
    /// whether the writer is free.
    pub async fn wait_free(&mut self, patience: Duration) -> bool {
        if !self.busy {
            return true;
        }
        tokio::time::timeout(patience, self.written()).await.is_ok()
    }
}
